//! A Parquet table given as its files, each with its partition values: how a table
//! version whose files a log names (a Delta version) reaches engines that read
//! Parquet but not the log.
//!
//! Partition values are the log's text (null for none): the columns are strings,
//! and the plan above casts them to the table's types, the same on every engine
//! (Spark and DuckDB are told not to guess types from the paths).
//!
//! The table serializes ([`FileListTable::encode`]) so a Ballista scheduler can plan
//! its scan; engines that register views read the files by their paths, which
//! must then name the partitions the Hive way ([`FileListTable::hive_base`]).

use crate::error::{ConnectorError, Result};
use async_trait::async_trait;
use datafusion::arrow::datatypes::{DataType, Field, FieldRef, Schema, SchemaRef};
use datafusion::catalog::Session;
use datafusion::common::{DFSchema, ScalarValue};
use datafusion::datasource::file_format::parquet::ParquetFormat;
use datafusion::datasource::file_format::FileFormat;
use datafusion::datasource::listing::helpers::{expr_applicable_for_cols, filter_partitioned_file};
use datafusion::datasource::listing::{ListingTableUrl, PartitionedFile};
use datafusion::datasource::physical_plan::{FileGroup, FileScanConfigBuilder};
use datafusion::datasource::{TableProvider, TableType};
use datafusion::logical_expr::{Expr, TableProviderFilterPushDown};
use datafusion::physical_plan::empty::EmptyExec;
use datafusion::physical_plan::ExecutionPlan;
use datafusion_datasource::TableSchema;
use object_store::ObjectMeta;
use serde::{Deserialize, Serialize};
use std::sync::Arc;

/// The files of a table and where it lives.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FileListing {
    /// The table's root URL: a directory, without its trailing slash.
    pub base: String,
    pub partition_columns: Vec<String>,
    pub files: Vec<ListedFile>,
}

/// One Parquet file and its partition values, in the order of the partition columns.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ListedFile {
    pub url: String,
    pub size: u64,
    /// Milliseconds since the epoch.
    pub modified: i64,
    pub partition_values: Vec<Option<String>>,
}

/// A scan of listed Parquet files: the file columns, then the partition columns as strings.
#[derive(Debug)]
pub struct FileListTable {
    schema: SchemaRef,
    file_schema: SchemaRef,
    listing: FileListing,
}

impl FileListTable {
    /// The table of `listing`, whose files have the columns of `file_schema`.
    pub fn try_new(file_schema: SchemaRef, listing: FileListing) -> Result<FileListTable> {
        let width = listing.partition_columns.len();
        if let Some(f) = listing.files.iter().find(|f| f.partition_values.len() != width) {
            return Err(ConnectorError::Invalid(format!("{}: file {} has {} partition values, not {width}", listing.base, f.url, f.partition_values.len())));
        }
        // A scan reads one store.
        let store = |f: &ListedFile| ListingTableUrl::parse(&f.url).map(|u| u.object_store()).map_err(|e| ConnectorError::Invalid(format!("{}: {e}", f.url)));
        if let Some(first) = listing.files.first() {
            let first_store = store(first)?;
            for f in &listing.files[1..] {
                if store(f)? != first_store {
                    return Err(ConnectorError::Invalid(format!("{}: its files are in more than one store ({} and {})", listing.base, first.url, f.url)));
                }
            }
        }
        let mut fields: Vec<FieldRef> = file_schema.fields().iter().cloned().collect();
        fields.extend(partition_fields(&listing.partition_columns));
        Ok(FileListTable { schema: Arc::new(Schema::new(fields)), file_schema, listing })
    }

    pub fn listing(&self) -> &FileListing {
        &self.listing
    }

    /// The table as bytes: its listing. [`FileListTable::decode`] takes the schema
    /// back from the plan that carries it.
    pub fn encode(&self) -> Vec<u8> {
        serde_json::to_vec(&self.listing).expect("a listing is plain data")
    }

    /// The table of [`FileListTable::encode`]'s bytes, with `schema` (the table's).
    pub fn decode(schema: &Schema, bytes: &[u8]) -> Result<FileListTable> {
        let listing: FileListing = serde_json::from_slice(bytes).map_err(|e| ConnectorError::Invalid(format!("a file listing that does not decode: {e}")))?;
        let files = schema.fields().len().saturating_sub(listing.partition_columns.len());
        let file_schema = Arc::new(Schema::new(schema.fields()[..files].to_vec()));
        FileListTable::try_new(file_schema, listing)
    }

    /// The base URL when every file lies in Hive-style partition directories under
    /// it (`base/c1=v1/c2=v2/file`, values escaped), so that an engine finds the
    /// partition values in the paths; `None` otherwise.
    pub fn hive_base(&self) -> Option<&str> {
        let base = ListingTableUrl::parse(format!("{}/", self.listing.base)).ok()?;
        let hive = |file: &ListedFile| {
            let Ok(url) = ListingTableUrl::parse(&file.url) else { return false };
            let Some(parts) = base.strip_prefix(url.prefix()) else { return false };
            let dirs: Vec<&str> = parts.collect();
            let Some((_, dirs)) = dirs.split_last() else { return false };
            dirs.len() == self.listing.partition_columns.len()
                && dirs.iter().zip(&self.listing.partition_columns).zip(&file.partition_values).all(|((dir, column), value)| {
                    let expected = value.as_deref().unwrap_or(HIVE_NULL);
                    matches!(dir.split_once('='), Some((k, v)) if k == column && hive_unescape(v).as_deref() == Some(expected))
                })
        };
        self.listing.files.iter().all(hive).then_some(self.listing.base.as_str())
    }

    /// The files whose partition values pass `filters` (those on partition columns only).
    fn files_passing(&self, filters: &[Expr]) -> datafusion::error::Result<Vec<PartitionedFile>> {
        let names: Vec<&str> = self.listing.partition_columns.iter().map(String::as_str).collect();
        // (A filter without columns would "apply" to a table without partitions.)
        let on_partitions: Vec<Expr> = filters.iter().filter(|f| !names.is_empty() && expr_applicable_for_cols(&names, f)).cloned().collect();
        let partition_schema = DFSchema::from_unqualified_fields(partition_fields(&self.listing.partition_columns).into(), Default::default())?;
        let mut kept = Vec::new();
        for f in &self.listing.files {
            let meta = ObjectMeta {
                location: ListingTableUrl::parse(&f.url)?.prefix().clone(),
                last_modified: chrono::DateTime::from_timestamp_millis(f.modified).unwrap_or_default(),
                size: f.size,
                e_tag: None,
                version: None,
            };
            let file = PartitionedFile::new_from_meta(meta).with_partition_values(f.partition_values.iter().map(|v| ScalarValue::Utf8(v.clone())).collect());
            kept.extend(filter_partitioned_file(file, &on_partitions, &partition_schema)?);
        }
        Ok(kept)
    }
}

/// How Hive writes a null partition value in a path.
const HIVE_NULL: &str = "__HIVE_DEFAULT_PARTITION__";

fn partition_fields(names: &[String]) -> Vec<FieldRef> {
    names.iter().map(|n| Arc::new(Field::new(n, DataType::Utf8, true))).collect()
}

#[async_trait]
impl TableProvider for FileListTable {
    fn schema(&self) -> SchemaRef {
        self.schema.clone()
    }

    fn table_type(&self) -> TableType {
        TableType::Base
    }

    async fn scan(
        &self,
        state: &dyn Session,
        projection: Option<&Vec<usize>>,
        filters: &[Expr],
        limit: Option<usize>,
    ) -> datafusion::error::Result<Arc<dyn ExecutionPlan>> {
        let files = self.files_passing(filters)?;
        let Some(first) = self.listing.files.first().filter(|_| !files.is_empty()) else {
            return Ok(Arc::new(EmptyExec::new(datafusion::physical_plan::project_schema(&self.schema, projection)?)));
        };
        let store = ListingTableUrl::parse(&first.url)?.object_store();
        let groups = FileGroup::new(files).split_files(state.config().target_partitions());
        let format = ParquetFormat::default().with_options(state.table_options().parquet.clone());
        let table_schema = TableSchema::builder(self.file_schema.clone()).with_table_partition_cols(partition_fields(&self.listing.partition_columns)).build();
        let config = FileScanConfigBuilder::new(store, format.file_source(table_schema))
            .with_file_groups(groups)
            .with_projection_indices(projection.cloned())?
            .with_limit(limit)
            .build();
        format.create_physical_plan(state, config).await
    }

    /// Filters prune files by their partition values, and Parquet statistics prune
    /// row groups; the rows still pass the filter above the scan.
    fn supports_filters_pushdown(&self, filters: &[&Expr]) -> datafusion::error::Result<Vec<TableProviderFilterPushDown>> {
        Ok(vec![TableProviderFilterPushDown::Inexact; filters.len()])
    }
}

/// A partition value as Hive writes it in a directory name (`%XX` escapes), or
/// `None` if the escapes are not text.
fn hive_unescape(text: &str) -> Option<String> {
    percent_encoding::percent_decode_str(text).decode_utf8().ok().map(|s| s.into_owned())
}
