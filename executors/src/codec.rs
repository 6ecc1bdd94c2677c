//! How vegalake's own table providers travel in a serialized logical plan: the
//! Ballista client writes them, the scheduler reads them. Everything else is
//! Ballista's codec's.
//!
//! A [`FileListTable`] (a Delta version's files) is written as its listing after a
//! tag; the schema travels in the plan already.

use ballista_core::serde::BallistaLogicalExtensionCodec;
use datafusion::arrow::datatypes::SchemaRef;
use datafusion::catalog::TableProvider;
use datafusion::common::{DataFusionError, Result, TableReference};
use datafusion::datasource::file_format::FileFormatFactory;
use datafusion::execution::TaskContext;
use datafusion::logical_expr::{Extension, LogicalPlan};
use datafusion_proto::logical_plan::LogicalExtensionCodec;
use std::sync::Arc;
use vegalake_connectors::FileListTable;

/// What starts the bytes of a [`FileListTable`].
const FILE_LIST_TAG: &[u8] = b"vegalake.file_list:";

/// Ballista's logical codec, and vegalake's table providers.
#[derive(Debug, Default)]
pub struct VegalakeLogicalCodec {
    ballista: BallistaLogicalExtensionCodec,
}

impl LogicalExtensionCodec for VegalakeLogicalCodec {
    fn try_decode(&self, buf: &[u8], inputs: &[LogicalPlan], ctx: &TaskContext) -> Result<Extension> {
        self.ballista.try_decode(buf, inputs, ctx)
    }

    fn try_encode(&self, node: &Extension, buf: &mut Vec<u8>) -> Result<()> {
        self.ballista.try_encode(node, buf)
    }

    fn try_decode_table_provider(&self, buf: &[u8], table_ref: &TableReference, schema: SchemaRef, ctx: &TaskContext) -> Result<Arc<dyn TableProvider>> {
        match buf.strip_prefix(FILE_LIST_TAG) {
            Some(listing) => {
                let table = FileListTable::decode(&schema, listing).map_err(|e| DataFusionError::Plan(format!("table {table_ref}: {e}")))?;
                Ok(Arc::new(table))
            }
            None => self.ballista.try_decode_table_provider(buf, table_ref, schema, ctx),
        }
    }

    fn try_encode_table_provider(&self, table_ref: &TableReference, node: Arc<dyn TableProvider>, buf: &mut Vec<u8>) -> Result<()> {
        match node.downcast_ref::<FileListTable>() {
            Some(files) => {
                buf.extend_from_slice(FILE_LIST_TAG);
                buf.extend_from_slice(&files.encode());
                Ok(())
            }
            None => self.ballista.try_encode_table_provider(table_ref, node, buf),
        }
    }

    fn try_decode_file_format(&self, buf: &[u8], ctx: &TaskContext) -> Result<Arc<dyn FileFormatFactory>> {
        self.ballista.try_decode_file_format(buf, ctx)
    }

    fn try_encode_file_format(&self, buf: &mut Vec<u8>, node: Arc<dyn FileFormatFactory>) -> Result<()> {
        self.ballista.try_encode_file_format(buf, node)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use datafusion::arrow::datatypes::{DataType, Field, Schema};
    use datafusion::datasource::provider_as_source;
    use datafusion::logical_expr::LogicalPlanBuilder;
    use datafusion::prelude::SessionContext;
    use datafusion_proto::bytes::{logical_plan_from_bytes_with_extension_codec, logical_plan_to_bytes_with_extension_codec};
    use vegalake_connectors::{FileListing, ListedFile};

    #[test]
    fn a_file_list_table_travels_with_its_files_and_partition_values() {
        let listing = FileListing {
            base: "file:///lake/t".into(),
            partition_columns: vec!["day".into()],
            files: vec![ListedFile { url: "file:///lake/t/day=1/a.parquet".into(), size: 10, modified: 1, partition_values: vec![Some("1".into())] }],
        };
        let file_schema = Arc::new(Schema::new(vec![Field::new("x", DataType::Float64, true)]));
        let table = FileListTable::try_new(file_schema, listing.clone()).unwrap();
        let plan = LogicalPlanBuilder::scan("t", provider_as_source(Arc::new(table)), None).unwrap().build().unwrap();
        let codec = VegalakeLogicalCodec::default();
        let bytes = logical_plan_to_bytes_with_extension_codec(&plan, &codec).unwrap();
        let back = logical_plan_from_bytes_with_extension_codec(&bytes, &SessionContext::new().task_ctx(), &codec).unwrap();
        let LogicalPlan::TableScan(scan) = back else { panic!("not a scan: {back}") };
        let provider = datafusion::datasource::source_as_provider(&scan.source).unwrap();
        let files = provider.downcast_ref::<FileListTable>().expect("a file list table");
        assert_eq!(files.listing(), &listing);
        assert_eq!(files.schema().fields().len(), 2, "x, then day");
    }
}
