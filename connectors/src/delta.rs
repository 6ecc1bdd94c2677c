//! Delta tables, read at one version.
//!
//! In this process a version is read through deltalake's table provider: file
//! statistics from the log prune files, and deltalake applies what the files alone
//! do not say (column mapping, deletion vectors).
//!
//! Another engine (a Ballista cluster, Spark) cannot run deltalake's scan, so it is
//! given the same version as what it reads on its own: the version's active Parquet
//! files with their partition values ([`DeltaVersionTable::as_files`], a
//! [`FileListTable`]). A version whose files do not hold its rows as written (rows
//! deleted by deletion vectors, columns renamed by column mapping) has no such
//! form, and the reason says so.

use crate::access::{DataAccess, ResolvedUrl};
use crate::error::{one_line, store_error, ConnectorError, Result};
use crate::file_list::{FileListTable, FileListing, ListedFile};
use crate::location::TimeTravel;
use crate::store::register_store;
use crate::TableStats;
use async_trait::async_trait;
use datafusion::arrow::datatypes::{Field, Schema, SchemaRef};
use datafusion::catalog::Session;
use datafusion::common::{Constraints, Statistics};
use datafusion::datasource::listing::ListingTableUrl;
use datafusion::datasource::{provider_as_source, TableProvider, TableType};
use datafusion::logical_expr::{cast, col, Expr, LogicalPlan, LogicalPlanBuilder, TableProviderFilterPushDown};
use datafusion::physical_plan::ExecutionPlan;
use datafusion::prelude::SessionContext;
use deltalake_core::table::builder::DeltaTableBuilder;
use std::sync::Arc;
use url::Url;

/// A Delta table at one version: deltalake's provider for scans in this process,
/// and the version's files for other engines.
#[derive(Debug)]
pub struct DeltaVersionTable {
    url: Url,
    version: u64,
    provider: Arc<dyn TableProvider>,
    /// The version's active files, or why they are not its rows.
    files: std::result::Result<FileListing, String>,
}

impl DeltaVersionTable {
    /// Loads `url` at `version`; returns the table and its size.
    pub async fn load(ctx: &SessionContext, url: &Url, version: u64, access: &DataAccess) -> Result<(DeltaVersionTable, TableStats)> {
        let fail = |e: deltalake_core::DeltaTableError| store_error(url, &e);
        let table = delta_builder(ctx, url, access)?.with_version(version).load().await.map_err(fail)?;
        table.update_datafusion_session(&ctx.state()).map_err(fail)?;
        let snapshot = table.snapshot().map_err(fail)?;
        let log = snapshot.log_data();
        let stats = TableStats { url: url.to_string(), files: log.num_files(), bytes: log.iter().map(|f| f.size().max(0) as u64).sum() };
        let provider = table.table_provider().await.map_err(|e| store_error(url, &e))?;
        let files = active_files(url, version, snapshot);
        Ok((DeltaVersionTable { url: url.clone(), version, provider, files }, stats))
    }

    /// The version as a scan of its Parquet files ([`FileListTable`]), with this
    /// table's columns: a plan any engine that reads Parquet can run. Or why the
    /// files are not the version's rows.
    pub fn as_files(&self) -> std::result::Result<LogicalPlan, String> {
        let listing = self.files.as_ref().map_err(Clone::clone)?;
        let failed = |e: &dyn std::error::Error| format!("delta {} v{}: {}", self.url, self.version, one_line(e));
        let schema = self.provider.schema();
        let partitions = &listing.partition_columns;
        let in_files: Vec<Field> = schema.fields().iter().filter(|f| !partitions.contains(f.name())).map(|f| f.as_ref().clone()).collect();
        let files = FileListTable::try_new(Arc::new(Schema::new(in_files)), listing.clone()).map_err(|e| failed(&e))?;
        // The table's column order; partition values are the log's text.
        let columns = schema.fields().iter().map(|f| {
            let column = col(datafusion::common::Column::new_unqualified(f.name()));
            if partitions.contains(f.name()) {
                cast(column, f.data_type().clone()).alias(f.name())
            } else {
                column
            }
        });
        let scan = LogicalPlanBuilder::scan("delta_files", provider_as_source(Arc::new(files)), None).and_then(|b| b.project(columns)).and_then(|b| b.build());
        scan.map_err(|e| failed(&e))
    }
}

/// The version's active files, or why they are not its rows.
fn active_files(url: &Url, version: u64, snapshot: &deltalake_core::table::state::DeltaTableState) -> std::result::Result<FileListing, String> {
    let table = format!("delta {url} v{version}");
    if let Some(mode) = snapshot.metadata().configuration().get("delta.columnMapping.mode").filter(|m| m.as_str() != "none") {
        return Err(format!("{table} uses column mapping ({mode}): its files name columns differently, which other engines are not told yet"));
    }
    let partition_columns = snapshot.metadata().partition_columns().to_vec();
    let mut files = Vec::new();
    for file in snapshot.log_data().iter() {
        if file.deletion_vector_descriptor().is_some() {
            return Err(format!("{table} has deletion vectors (rows deleted without rewriting {}), which other engines are not given yet", file.path()));
        }
        let raw = file.partition_values_map();
        let location = file_url(url, &file.path()).map_err(|e| format!("{table}: file {}: {e}", file.path()))?;
        let partition_values = partition_columns.iter().map(|c| raw.get(c).cloned().flatten()).collect();
        files.push(ListedFile { url: location.to_string(), size: file.size().max(0) as u64, modified: file.modification_time(), partition_values });
    }
    Ok(FileListing { base: url.as_str().trim_end_matches('/').to_string(), partition_columns, files })
}

/// A file the log names: a path relative to the table (decoded, so a `%` in it is a
/// real character and is encoded here), or an absolute URL.
fn file_url(table: &Url, path: &str) -> std::result::Result<ListingTableUrl, String> {
    if let Ok(absolute) = Url::parse(path) {
        return ListingTableUrl::parse(absolute.as_str()).map_err(|e| e.to_string());
    }
    let mut url = table.clone();
    url.path_segments_mut().map_err(|_| "the table URL has no path".to_string())?.pop_if_empty().extend(path.split('/'));
    ListingTableUrl::parse(url.as_str()).map_err(|e| e.to_string())
}

#[async_trait]
impl TableProvider for DeltaVersionTable {
    fn schema(&self) -> SchemaRef {
        self.provider.schema()
    }

    fn constraints(&self) -> Option<&Constraints> {
        self.provider.constraints()
    }

    fn table_type(&self) -> TableType {
        self.provider.table_type()
    }

    async fn scan(
        &self,
        state: &dyn Session,
        projection: Option<&Vec<usize>>,
        filters: &[Expr],
        limit: Option<usize>,
    ) -> datafusion::error::Result<Arc<dyn ExecutionPlan>> {
        self.provider.scan(state, projection, filters, limit).await
    }

    fn supports_filters_pushdown(&self, filters: &[&Expr]) -> datafusion::error::Result<Vec<TableProviderFilterPushDown>> {
        self.provider.supports_filters_pushdown(filters)
    }

    fn statistics(&self) -> Option<Statistics> {
        self.provider.statistics()
    }
}

/// deltalake finds a log store by the URL's scheme; without its cloud crates it
/// knows only `file`. The stores are ours, and reads need no commit coordination, so
/// the default log store serves every scheme we build stores for.
struct ReadLogStoreFactory;

impl deltalake_core::logstore::LogStoreFactory for ReadLogStoreFactory {
    fn with_options(
        &self,
        prefixed_store: deltalake_core::logstore::ObjectStoreRef,
        root_store: deltalake_core::logstore::ObjectStoreRef,
        location: &Url,
        options: &deltalake_core::logstore::StorageConfig,
    ) -> deltalake_core::DeltaResult<Arc<dyn deltalake_core::logstore::LogStore>> {
        Ok(deltalake_core::logstore::default_logstore(prefixed_store, root_store, location, options))
    }
}

fn register_log_stores() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        let factories = deltalake_core::logstore::logstore_factories();
        for scheme in ["s3", "s3a", "gs", "az", "azure", "abfs", "abfss"] {
            let key = Url::parse(&format!("{scheme}://")).expect("a scheme URL");
            factories.entry(key).or_insert_with(|| Arc::new(ReadLogStoreFactory));
        }
    });
}

fn delta_builder(ctx: &SessionContext, url: &Url, access: &DataAccess) -> Result<DeltaTableBuilder> {
    register_log_stores();
    let store = register_store(ctx, url, &access.catalog)?;
    let builder = DeltaTableBuilder::from_url(url.clone()).map_err(|e| store_error(url, &e))?;
    Ok(builder.with_storage_backend(store, url.clone()))
}

/// The version a Delta URL reads: the latest, the one given, or the one current at
/// the given time.
pub(crate) async fn delta_version(ctx: &SessionContext, resolved: &ResolvedUrl, access: &DataAccess) -> Result<u64> {
    let url = &resolved.url;
    let fail = |e: deltalake_core::DeltaTableError| {
        let message = match e {
            deltalake_core::DeltaTableError::NotATable(_) => "not a Delta table (no _delta_log there)".to_string(),
            other => one_line(&other),
        };
        ConnectorError::Store { url: url.to_string(), message }
    };
    let builder = delta_builder(ctx, url, access)?;
    match &resolved.time_travel {
        TimeTravel::Version(v) => Ok(*v),
        TimeTravel::Latest => builder.build().map_err(fail)?.get_latest_version().await.map_err(fail),
        TimeTravel::Timestamp(t) => {
            let table = builder.with_datestring(t).map_err(fail)?.load().await.map_err(fail)?;
            table.version().ok_or_else(|| ConnectorError::Store { url: url.to_string(), message: format!("no version at {t}") })
        }
    }
}

/// Writes `batches` as the rows of a new version of the Delta table at `url`
/// (created when missing), replacing its rows (`append`: adding to them), through
/// the stores this crate builds. Returns the version written.
pub async fn write_version(
    ctx: &SessionContext,
    url: &Url,
    access: &DataAccess,
    batches: Vec<datafusion::arrow::record_batch::RecordBatch>,
    append: bool,
) -> Result<u64> {
    let fail = |e: deltalake_core::DeltaTableError| store_error(url, &e);
    let table = delta_builder(ctx, url, access)?.build().map_err(fail)?;
    let mode = if append { deltalake_core::protocol::SaveMode::Append } else { deltalake_core::protocol::SaveMode::Overwrite };
    let table = table.write(batches).with_save_mode(mode).await.map_err(fail)?;
    table.version().ok_or_else(|| ConnectorError::Store { url: url.to_string(), message: "no version after writing".into() })
}

#[cfg(test)]
mod tests {
    use super::*;
    use datafusion::arrow::array::{Float64Array, Int64Array, RecordBatch, StringArray};
    use datafusion::arrow::datatypes::DataType;
    use datafusion::arrow::util::pretty::pretty_format_batches;
    use datafusion::logical_expr::lit;
    use datafusion::prelude::DataFrame;
    use deltalake_core::protocol::SaveMode;
    use std::path::{Path, PathBuf};

    fn temp_dir(name: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!("vegalake-delta-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        dir
    }

    async fn rows_of(ctx: &SessionContext, plan: LogicalPlan) -> String {
        let sorted = DataFrame::new(ctx.state(), plan).sort(vec![col("x").sort(true, true)]).unwrap();
        pretty_format_batches(&sorted.collect().await.unwrap()).unwrap().to_string()
    }

    async fn load(dir: &Path) -> DeltaVersionTable {
        let url = Url::from_directory_path(dir).unwrap();
        let ctx = SessionContext::new();
        DeltaVersionTable::load(&ctx, &url, 0, &DataAccess::new(dir)).await.unwrap().0
    }

    #[tokio::test]
    async fn a_version_as_its_files_has_the_rows_and_partition_values_of_the_table() {
        let dir = temp_dir("listings");
        let schema = Arc::new(Schema::new(vec![
            Field::new("x", DataType::Float64, true),
            Field::new("p", DataType::Utf8, true),
            Field::new("n", DataType::Int64, true),
        ]));
        let batch = RecordBatch::try_new(
            schema,
            vec![
                Arc::new(Float64Array::from(vec![1.0, 2.0, 3.0, 4.0, 5.0])),
                Arc::new(StringArray::from(vec![Some("a b"), Some("50%"), None, Some("a b"), Some("x/y")])),
                Arc::new(Int64Array::from(vec![Some(1), Some(2), Some(2), None, Some(1)])),
            ],
        )
        .unwrap();
        let url = Url::from_directory_path(&dir).unwrap();
        let table = deltalake_core::DeltaTable::try_from_url(url.clone()).await.unwrap();
        table.write(vec![batch]).with_save_mode(SaveMode::Append).with_partition_columns(["p", "n"]).await.unwrap();

        let delta = load(&dir).await;
        let files = delta.as_files().expect("a partitioned table without deletion vectors has a listing form");
        assert_eq!(files.schema().as_arrow().fields().len(), 3);
        let ctx = SessionContext::new();
        let theirs = rows_of(&ctx, ctx.read_table(delta.provider.clone()).unwrap().into_unoptimized_plan()).await;
        let ours = rows_of(&ctx, files).await;
        assert_eq!(ours, theirs);
        assert!(ours.contains("| 3.0 |     | 2 |") && ours.contains("x/y"), "{ours}");

        // Partition values prune files: n = 1 holds 2 of the 5 files.
        let files = delta.as_files().unwrap();
        let where_one = DataFrame::new(ctx.state(), files).filter(col("n").eq(lit(1_i64))).unwrap();
        let physical = where_one.create_physical_plan().await.unwrap();
        let rows = datafusion::physical_plan::collect(physical.clone(), ctx.task_ctx()).await.unwrap();
        assert_eq!(rows.iter().map(RecordBatch::num_rows).sum::<usize>(), 2);
        assert_eq!(crate::ScanMetrics::of_plan(&physical).files_planned, 2);

        // delta-rs writes Hive-style directories; a file elsewhere has no base.
        let listing = delta.files.as_ref().unwrap().clone();
        let file_schema = Arc::new(Schema::new(vec![Field::new("x", DataType::Float64, true)]));
        let table = FileListTable::try_new(file_schema.clone(), listing.clone()).unwrap();
        assert_eq!(table.hive_base(), Some(url.as_str().trim_end_matches('/')));
        let mut moved = listing;
        moved.files[0].url = format!("{}/elsewhere/{}", moved.base, moved.files[0].url.rsplit('/').next().unwrap());
        assert_eq!(FileListTable::try_new(file_schema, moved).unwrap().hive_base(), None);
        std::fs::remove_dir_all(&dir).unwrap();
    }

    /// A table version 0 whose log is `actions`, one JSON object per line.
    fn hand_written_table(name: &str, actions: &[&str]) -> PathBuf {
        let dir = temp_dir(name);
        std::fs::create_dir_all(dir.join("_delta_log")).unwrap();
        std::fs::write(dir.join("_delta_log/00000000000000000000.json"), actions.join("\n") + "\n").unwrap();
        dir
    }

    const SCHEMA: &str = r#"{\"type\":\"struct\",\"fields\":[{\"name\":\"x\",\"type\":\"double\",\"nullable\":true,\"metadata\":{\"delta.columnMapping.id\":1,\"delta.columnMapping.physicalName\":\"col-1\"}}]}"#;

    #[tokio::test]
    async fn versions_whose_files_are_not_their_rows_say_why() {
        let metadata = |config: &str| {
            format!(
                r#"{{"metaData":{{"id":"t","format":{{"provider":"parquet","options":{{}}}},"schemaString":"{SCHEMA}","partitionColumns":[],"configuration":{{{config}}},"createdTime":1700000000000}}}}"#
            )
        };
        let add = |dv: &str| {
            format!(r#"{{"add":{{"path":"part-0.parquet","partitionValues":{{}},"size":100,"modificationTime":1700000000000,"dataChange":true{dv}}}}}"#)
        };

        let mapped = hand_written_table(
            "mapped",
            &[
                r#"{"protocol":{"minReaderVersion":2,"minWriterVersion":5}}"#,
                &metadata(r#""delta.columnMapping.mode":"name","delta.columnMapping.maxColumnId":"1""#),
                &add(""),
            ],
        );
        let why = load(&mapped).await.as_files().unwrap_err();
        assert!(why.contains("uses column mapping (name)"), "{why}");

        let deleted = hand_written_table(
            "deleted",
            &[
                r#"{"protocol":{"minReaderVersion":3,"minWriterVersion":7,"readerFeatures":["deletionVectors"],"writerFeatures":["deletionVectors"]}}"#,
                &metadata(r#""delta.enableDeletionVectors":"true""#),
                &add(r#","deletionVector":{"storageType":"u","pathOrInlineDv":"ab^-aqEH.-t@S}K{vb[*k^","offset":1,"sizeInBytes":36,"cardinality":2}"#),
            ],
        );
        let why = load(&deleted).await.as_files().unwrap_err();
        assert!(why.contains("has deletion vectors"), "{why}");
        for dir in [mapped, deleted] {
            std::fs::remove_dir_all(dir).unwrap();
        }
    }
}
