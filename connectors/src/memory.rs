//! Tables handed over in memory as Arrow (a pandas, polars or pyarrow frame from
//! Python), named in specs as `vegalake+dataset://NAME` (or VegaFusion's
//! `vegafusion+dataset://NAME`, so specs written for it run unchanged).
//!
//! The batches are used as given: each gets the hidden row-order column [`ROW`]
//! (a frame has a row order, so order-dependent transforms run on the server) and
//! the scan casts only the columns a query reads to their normalized types.
//! Columns of types the server does not evaluate (lists, structs) are left out of
//! the scan: a chart that reads one leaves that dataset to the client.

use crate::error::{ConnectorError, Result};
use crate::{normalized_type, ROW};
use datafusion::arrow::array::{ArrayRef, Int64Array, RecordBatch};
use datafusion::arrow::datatypes::{DataType, Field, Schema, SchemaRef};
use datafusion::datasource::MemTable;
use datafusion::logical_expr::LogicalPlan;
use std::collections::BTreeMap;
use std::sync::{Arc, OnceLock};

/// The URL schemes that name an in-memory table.
pub const MEMORY_SCHEMES: &[&str] = &["vegalake+dataset", "vegafusion+dataset"];

/// The name prefix of in-memory tables' scans.
pub const MEMORY_SCAN_PREFIX: &str = "__vl_memory_";

/// One table held in memory.
#[derive(Debug, Clone)]
pub struct MemoryTable {
    schema: SchemaRef,
    batches: Vec<RecordBatch>,
    /// What changes when the table changes (cache keys): given by the owner, who
    /// knows when its frame changed (hashing 10M rows per chart would cost more
    /// than evaluating it).
    identity: String,
    /// The scan, built on first use: its row numbers are a column as large as the
    /// table's keys (800 MB at 100M rows), which rebuilding on every brush update
    /// cost 480 ms there (measured: allocating and zeroing it was 87% of an update).
    scan: OnceLock<LogicalPlan>,
}

/// In-memory tables by name.
pub type MemoryTables = BTreeMap<String, Arc<MemoryTable>>;

impl MemoryTable {
    pub fn new(schema: SchemaRef, batches: Vec<RecordBatch>, identity: impl Into<String>) -> MemoryTable {
        MemoryTable { schema, batches, identity: identity.into(), scan: OnceLock::new() }
    }

    pub fn identity(&self) -> &str {
        &self.identity
    }

    /// The bytes its Arrow arrays hold.
    pub fn bytes(&self) -> u64 {
        self.batches.iter().map(|b| b.get_array_memory_size() as u64).sum()
    }

    pub fn num_rows(&self) -> usize {
        self.batches.iter().map(RecordBatch::num_rows).sum()
    }

    /// The table as a scan of its evaluable columns plus [`ROW`].
    pub(crate) fn scan(&self) -> Result<LogicalPlan> {
        if let Some(scan) = self.scan.get() {
            return Ok(scan.clone());
        }
        let scan = self.build_scan()?;
        Ok(self.scan.get_or_init(|| scan).clone())
    }

    fn build_scan(&self) -> Result<LogicalPlan> {
        let keep: Vec<usize> = (0..self.schema.fields().len()).filter(|&i| normalized_type(self.schema.field(i).data_type()).is_some()).collect();
        let mut fields: Vec<Field> = keep.iter().map(|&i| self.schema.field(i).clone().with_nullable(true)).collect();
        fields.push(Field::new(ROW, DataType::Int64, false));
        let schema = Arc::new(Schema::new(fields));
        let mut offset = 0_i64;
        let mut batches = Vec::with_capacity(self.batches.len());
        for b in &self.batches {
            let mut columns: Vec<ArrayRef> = keep.iter().map(|&i| b.column(i).clone()).collect();
            let rows = b.num_rows() as i64;
            columns.push(Arc::new(Int64Array::from_iter_values(offset..offset + rows)));
            offset += rows;
            batches.push(RecordBatch::try_new(schema.clone(), columns).map_err(datafusion::error::DataFusionError::from)?);
        }
        let table = MemTable::try_new(schema, vec![batches])?;
        // Named by its identity: plans over the same rows read the same name (a
        // brush index recognizes stable rows by it).
        let name = format!("{MEMORY_SCAN_PREFIX}{:016x}", identity_hash(&self.identity));
        Ok(datafusion::logical_expr::LogicalPlanBuilder::scan(name, datafusion::datasource::provider_as_source(Arc::new(table)), None)?.build()?)
    }
}

/// A short stable name for an identity (scans are named by it).
pub(crate) fn identity_hash(identity: &str) -> u64 {
    use std::hash::{Hash, Hasher};
    let mut h = std::hash::DefaultHasher::new();
    identity.hash(&mut h);
    h.finish()
}

/// The name in `vegalake+dataset://NAME`, or `None` for other URLs.
pub fn memory_name(url: &str) -> Option<&str> {
    let (scheme, name) = url.split_once("://")?;
    MEMORY_SCHEMES.contains(&scheme).then_some(name)
}

/// The table a `vegalake+dataset://` URL names.
pub fn lookup<'a>(tables: &'a MemoryTables, url: &str, name: &str) -> Result<&'a Arc<MemoryTable>> {
    tables.get(name).ok_or_else(|| {
        let known: Vec<&str> = tables.keys().map(String::as_str).collect();
        let known = if known.is_empty() { "none was given".to_string() } else { format!("given: {}", known.join(", ")) };
        ConnectorError::Invalid(format!("url '{url}': no in-memory table '{name}' ({known})"))
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use datafusion::arrow::array::{Array, Float64Array, ListArray, StringArray};
    use datafusion::arrow::datatypes::Int32Type;
    use datafusion::prelude::SessionContext;

    fn table() -> MemoryTable {
        let list = ListArray::from_iter_primitive::<Int32Type, _, _>(vec![Some(vec![Some(1)]), None]);
        let schema = Arc::new(Schema::new(vec![
            Field::new("x", DataType::Float64, false),
            Field::new("tags", list.data_type().clone(), true),
            Field::new("s", DataType::Utf8, true),
        ]));
        let batch = |xs: Vec<f64>| {
            let n = xs.len();
            let columns: Vec<ArrayRef> = vec![
                Arc::new(Float64Array::from(xs)),
                Arc::new(ListArray::from_iter_primitive::<Int32Type, _, _>((0..n).map(|_| Some(vec![Some(1)])))),
                Arc::new(StringArray::from_iter_values((0..n).map(|i| format!("s{i}")))),
            ];
            RecordBatch::try_new(schema.clone(), columns).unwrap()
        };
        MemoryTable::new(schema.clone(), vec![batch(vec![1.0, 2.0]), batch(vec![3.0])], "t1")
    }

    #[tokio::test]
    async fn scan_numbers_rows_across_batches_and_leaves_out_lists() {
        let ctx = SessionContext::new();
        let plan = table().scan().unwrap();
        let names: Vec<String> = plan.schema().fields().iter().map(|f| f.name().clone()).collect();
        assert_eq!(names, ["x", "s", ROW]);
        let batches = ctx.execute_logical_plan(plan).await.unwrap().collect().await.unwrap();
        let rows: Vec<i64> = batches.iter().flat_map(|b| b.column(2).as_any().downcast_ref::<Int64Array>().unwrap().values().to_vec()).collect();
        assert_eq!(rows, [0, 1, 2]);
    }

    #[test]
    fn a_table_numbers_its_rows_once() {
        let provider = |plan: LogicalPlan| match plan {
            LogicalPlan::TableScan(scan) => scan.source,
            other => panic!("not a scan: {other}"),
        };
        let t = table();
        let (first, again) = (provider(t.scan().unwrap()), provider(t.scan().unwrap()));
        assert!(Arc::ptr_eq(&first, &again), "the second scan built its row numbers again");
        assert!(!Arc::ptr_eq(&first, &provider(table().scan().unwrap())), "another table shares the first one's rows");
    }

    #[test]
    fn names_and_missing_tables() {
        assert_eq!(memory_name("vegalake+dataset://t1"), Some("t1"));
        assert_eq!(memory_name("vegafusion+dataset://t1"), Some("t1"));
        assert_eq!(memory_name("s3://b/t1"), None);
        let tables = MemoryTables::from([("t1".to_string(), Arc::new(table()))]);
        assert_eq!(lookup(&tables, "vegalake+dataset://t1", "t1").unwrap().num_rows(), 3);
        let e = lookup(&tables, "vegalake+dataset://t2", "t2").unwrap_err().to_string();
        assert_eq!(e, "url 'vegalake+dataset://t2': no in-memory table 't2' (given: t1)");
    }
}
