//! Table scans as the engine sees them: Parquet listings and lists of files as
//! named views ([`TableRef`]), in-memory sources as `VALUES`.
//!
//! Partition values come from the paths as text (engines are told not to guess
//! their types, see [`SqlDialect::session_settings`]); the query casts them to the
//! types the plan reads them as.

use super::{SqlDialect, SqlError};
use datafusion::common::tree_node::{Transformed, TreeNode};
use datafusion::common::ScalarValue;
use datafusion::datasource::listing::ListingTable;
use datafusion::datasource::{provider_as_source, source_as_provider, MemTable, TableProvider};
use datafusion::logical_expr::{cast, Expr, LogicalPlan, LogicalPlanBuilder, TableScan};
use std::sync::Arc;

/// In-memory sources up to this many cells travel as `VALUES`; larger ones make
/// the task not pushable (the engine should read them from where they live).
pub const VALUES_CELL_LIMIT: usize = 200_000;

/// A table the SQL reads by name: a Parquet file, a directory of them, or a list
/// of files (hive partitions are found by the engine from the paths).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TableRef {
    pub name: String,
    /// Store URLs: one directory or file, or the files of a table version.
    pub urls: Vec<String>,
    /// For a list of files: the directory their partition directories are under.
    pub base: Option<String>,
}

/// A table of Parquet files in Hive-style partition directories under `base`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileList {
    pub base: String,
    pub files: Vec<String>,
    pub partition_columns: Vec<String>,
}

/// A table of a kind the unparser does not know, as the engine reads it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ForeignTable {
    /// Parquet files the engine registers as a view.
    Files(FileList),
    /// A relation the engine already knows, by its name's parts (`schema`, `table`).
    Relation(Vec<String>),
}

/// How the unparser reads a table provider it does not know: `None` if the caller
/// does not know it either, else how the engine reads it or why it cannot.
pub type TableOf<'a> = &'a dyn Fn(&dyn TableProvider) -> Option<Result<ForeignTable, SqlError>>;

impl TableRef {
    /// The statement that registers the table in `dialect`.
    pub fn create_view(&self, dialect: SqlDialect) -> String {
        let quoted = |u: &str| format!("'{}'", u.replace('\'', "''"));
        match dialect {
            SqlDialect::Spark => {
                let base = self.base.as_ref().map(|b| format!(", basePath {}", quoted(b))).unwrap_or_default();
                format!("CREATE OR REPLACE TEMPORARY VIEW `{}` USING parquet OPTIONS (path {}{base})", self.name, quoted(&spark_path(&self.urls)))
            }
            SqlDialect::DuckDb | SqlDialect::Postgres => {
                // PostgreSQL has no Parquet reader of its own: this form suits
                // pg_duckdb/pg_parquet style extensions, and says what to register.
                let files: Vec<String> = self.urls.iter().map(|u| quoted(&duckdb_glob(u))).collect();
                format!(
                    "CREATE OR REPLACE VIEW \"{}\" AS SELECT * FROM read_parquet([{}], hive_partitioning = true, hive_types_autocast = false)",
                    self.name,
                    files.join(", ")
                )
            }
        }
    }
}

/// One path for Spark's view (whose SQL form takes one): the URL, or a Hadoop glob
/// of the files' paths after their common directory, `dir/{a/f1,b/f2}`.
fn spark_path(urls: &[String]) -> String {
    let urls: Vec<String> = urls.iter().map(|u| decoded(u)).collect();
    let [first, rest @ ..] = urls.as_slice() else { return String::new() };
    if rest.is_empty() {
        return first.clone();
    }
    let mut dir = &first[..first.rfind('/').map_or(0, |i| i + 1)];
    while !urls.iter().all(|u| u.starts_with(dir)) {
        dir = &dir[..dir[..dir.len() - 1].rfind('/').map_or(0, |i| i + 1)];
    }
    let escape = |rel: &str| rel.chars().flat_map(|c| if "{}[]*?,\\".contains(c) { vec!['\\', c] } else { vec![c] }).collect::<String>();
    let files: Vec<String> = urls.iter().map(|u| escape(&u[dir.len()..])).collect();
    format!("{dir}{{{}}}", files.join(","))
}

/// A URL as the path an engine's file system names (Hadoop's, DuckDB's): with
/// its `%XX` escapes decoded, so a `%` in a file name is itself.
fn decoded(url: &str) -> String {
    percent_encoding::percent_decode_str(url).decode_utf8_lossy().into_owned()
}

/// DuckDB reads local paths and globs: a directory becomes all Parquet files under it.
fn duckdb_glob(url: &str) -> String {
    let url = decoded(url);
    let path = url.strip_prefix("file://").unwrap_or(&url);
    if path.ends_with('/') {
        format!("{path}**/*.parquet")
    } else {
        path.to_string()
    }
}

/// An in-memory table, sent as `(VALUES ...) AS name(columns)` in place of the
/// scan of `name` (the unparser has no form for a `Values` plan below a query).
#[derive(Debug, Clone)]
pub struct InlineTable {
    pub name: String,
    pub columns: Vec<String>,
    pub rows: Vec<Vec<ScalarValue>>,
}

/// What the SQL reads: named tables and inline ones.
#[derive(Debug, Default)]
pub struct Tables {
    pub named: Vec<TableRef>,
    pub inline: Vec<InlineTable>,
}

/// The names of inline tables start with it.
pub const INLINE_PREFIX: &str = "__vl_values_";

/// The plan with its scans renamed `t0`, `t1`, ... (Parquet listings) or
/// `__vl_values_0`, ... (in-memory tables, see [`InlineTable`]).
pub fn name_tables(plan: &LogicalPlan, table_of: TableOf<'_>) -> Result<(LogicalPlan, Tables), SqlError> {
    let mut tables = Tables::default();
    let mut refusal = None;
    let renamed = plan
        .clone()
        .transform_up(|node| {
            let rewritten = match &node {
                LogicalPlan::TableScan(scan) => rewrite_scan(scan, &mut tables, table_of),
                LogicalPlan::Values(values) => rewrite_values(values, &mut tables),
                _ => return Ok(Transformed::no(node)),
            };
            match rewritten {
                Ok(p) => Ok(Transformed::yes(p)),
                Err(e) => {
                    refusal.get_or_insert(e);
                    Ok(Transformed::no(node))
                }
            }
        })
        .map_err(|e| SqlError::Unparse(e.to_string()))?;
    if let Some(e) = refusal {
        return Err(e);
    }
    Ok((renamed.data, tables))
}

fn unparse_error(e: impl ToString) -> SqlError {
    SqlError::Unparse(e.to_string())
}

fn rewrite_scan(scan: &TableScan, tables: &mut Tables, table_of: TableOf<'_>) -> Result<LogicalPlan, SqlError> {
    if !scan.filters.is_empty() || scan.fetch.is_some() {
        return Err(SqlError::Unparse("an optimized plan (a scan with pushed filters): unparse the unoptimized plan".into()));
    }
    let provider = source_as_provider(&scan.source).map_err(unparse_error)?;
    let plan = if let Some(mem) = provider.downcast_ref::<MemTable>() {
        let rows = table_rows(mem)?;
        inline(mem.schema(), rows, tables)?
    } else if let Some(listing) = provider.downcast_ref::<ListingTable>() {
        let urls: Vec<String> = listing.table_paths().iter().map(|p| p.as_str().to_string()).collect();
        let partitions: Vec<String> = listing.options().table_partition_cols.iter().map(|(name, _)| name.clone()).collect();
        named_scan(TableRef { name: String::new(), urls, base: None }, &partitions, provider.clone(), tables)?
    } else if let Some(foreign) = table_of(provider.as_ref()) {
        match foreign? {
            ForeignTable::Files(FileList { base, files, partition_columns }) => {
                if files.is_empty() {
                    return Err(SqlError::NotPushable(format!("the table at {base} has no files (a view needs one)")));
                }
                named_scan(TableRef { name: String::new(), urls: files, base: Some(base) }, &partition_columns, provider.clone(), tables)?
            }
            ForeignTable::Relation(parts) => relation_scan(&parts, provider.clone())?,
        }
    } else {
        return Err(SqlError::NotPushable(format!("reads a {} table, which SQL engines are not given yet", provider_kind(provider.as_ref()))));
    };
    match &scan.projection {
        None => Ok(plan),
        Some(indices) => {
            let columns: Vec<Expr> =
                indices.iter().map(|&i| Expr::Column(datafusion::common::Column::new_unqualified(scan.source.schema().field(i).name()))).collect();
            LogicalPlanBuilder::from(plan).project(columns).and_then(|b| b.build()).map_err(unparse_error)
        }
    }
}

/// A scan of `table` under its view's name (the same name for the same files),
/// with the partition columns cast from the paths' text to the types the plan
/// reads them as.
fn named_scan(mut table: TableRef, partitions: &[String], provider: Arc<dyn TableProvider>, tables: &mut Tables) -> Result<LogicalPlan, SqlError> {
    let name = match tables.named.iter().find(|t| t.urls == table.urls && t.base == table.base) {
        Some(t) => t.name.clone(),
        None => {
            table.name = format!("t{}", tables.named.len());
            tables.named.push(table.clone());
            table.name
        }
    };
    let schema = provider.schema();
    let columns = schema.fields().iter().map(|f| {
        let column = Expr::Column(datafusion::common::Column::new_unqualified(f.name()));
        if partitions.contains(f.name()) {
            cast(column, f.data_type().clone()).alias(f.name())
        } else {
            column
        }
    });
    let scan = LogicalPlanBuilder::scan(name, provider_as_source(provider), None).map_err(unparse_error)?;
    let scan = if partitions.is_empty() { scan } else { scan.project(columns).map_err(unparse_error)? };
    scan.build().map_err(unparse_error)
}

/// A scan of a relation the engine knows by name, under that name.
fn relation_scan(parts: &[String], provider: Arc<dyn TableProvider>) -> Result<LogicalPlan, SqlError> {
    let name = match parts {
        [table] => datafusion::common::TableReference::bare(table.as_str()),
        [schema, table] => datafusion::common::TableReference::partial(schema.as_str(), table.as_str()),
        [catalog, schema, table] => datafusion::common::TableReference::full(catalog.as_str(), schema.as_str(), table.as_str()),
        _ => return Err(SqlError::NotPushable(format!("a relation named by {} parts", parts.len()))),
    };
    LogicalPlanBuilder::scan(name, provider_as_source(provider), None).and_then(|b| b.build()).map_err(unparse_error)
}

fn provider_kind(provider: &dyn TableProvider) -> String {
    let name = format!("{provider:?}");
    name.split(|c: char| !c.is_alphanumeric()).next().unwrap_or("custom").to_string()
}

/// A `Values` plan of constants (a `sequence`, generated rows) as an inline table.
fn rewrite_values(values: &datafusion::logical_expr::Values, tables: &mut Tables) -> Result<LogicalPlan, SqlError> {
    let rows = values
        .values
        .iter()
        .map(|row| {
            row.iter()
                .map(|e| match e {
                    Expr::Literal(v, _) => Ok(v.clone()),
                    other => Err(SqlError::NotPushable(format!("a VALUES cell that is not a constant: {other}"))),
                })
                .collect::<Result<Vec<_>, _>>()
        })
        .collect::<Result<Vec<_>, _>>()?;
    if rows.len() * values.schema.fields().len().max(1) > VALUES_CELL_LIMIT {
        return Err(SqlError::NotPushable(format!("more than {VALUES_CELL_LIMIT} cells of VALUES")));
    }
    if rows.is_empty() {
        return Err(SqlError::NotPushable("an empty VALUES (it needs a row)".into()));
    }
    inline(Arc::new(values.schema.as_arrow().clone()), rows, tables)
}

/// A scan of a new inline table, typed by casts: a column of nulls has no type in VALUES.
fn inline(schema: datafusion::arrow::datatypes::SchemaRef, rows: Vec<Vec<ScalarValue>>, tables: &mut Tables) -> Result<LogicalPlan, SqlError> {
    if let Some(f) = schema.fields().iter().find(|f| f.data_type().is_nested()) {
        return Err(SqlError::NotPushable(format!("an inline column of arrays ('{}'): its SQL literals are not checked against engines", f.name())));
    }
    let name = format!("{INLINE_PREFIX}{}", tables.inline.len());
    let columns: Vec<String> = schema.fields().iter().map(|f| f.name().clone()).collect();
    tables.inline.push(InlineTable { name: name.clone(), columns, rows });
    let placeholder = MemTable::try_new(schema.clone(), vec![vec![]]).map_err(unparse_error)?;
    let typed = schema
        .fields()
        .iter()
        .map(|f| cast(Expr::Column(datafusion::common::Column::new_unqualified(f.name())), f.data_type().clone()).alias(f.name()))
        .collect::<Vec<_>>();
    LogicalPlanBuilder::scan(name, provider_as_source(Arc::new(placeholder)), None)
        .and_then(|b| b.project(typed))
        .and_then(|b| b.build())
        .map_err(unparse_error)
}

/// The rows of an in-memory table, within [`VALUES_CELL_LIMIT`].
fn table_rows(mem: &MemTable) -> Result<Vec<Vec<ScalarValue>>, SqlError> {
    let width = mem.schema().fields().len().max(1);
    let mut rows: Vec<Vec<ScalarValue>> = Vec::new();
    for partition in &mem.batches {
        let batches = partition.try_read().map_err(|_| SqlError::Unparse("an in-memory table is being written".into()))?;
        for batch in batches.iter() {
            if (rows.len() + batch.num_rows()) * width > VALUES_CELL_LIMIT {
                return Err(SqlError::NotPushable(format!("an in-memory source of more than {VALUES_CELL_LIMIT} cells is too large to send as VALUES")));
            }
            for i in 0..batch.num_rows() {
                rows.push(batch.columns().iter().map(|c| ScalarValue::try_from_array(c, i)).collect::<Result<_, _>>().map_err(unparse_error)?);
            }
        }
    }
    if rows.is_empty() {
        return Err(SqlError::NotPushable("an empty in-memory source (VALUES needs a row)".into()));
    }
    Ok(rows)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_list_of_files_is_one_view_that_finds_partitions_under_its_base() {
        let table = TableRef {
            name: "t0".into(),
            urls: vec!["file:///lake/t/day=1/a.parquet".into(), "file:///lake/t/day=2/b%2Cc%2525.parquet".into()],
            base: Some("file:///lake/t".into()),
        };
        assert_eq!(
            table.create_view(SqlDialect::Spark),
            r"CREATE OR REPLACE TEMPORARY VIEW `t0` USING parquet OPTIONS (path 'file:///lake/t/{day=1/a.parquet,day=2/b\,c%25.parquet}', basePath 'file:///lake/t')"
        );
        assert_eq!(
            table.create_view(SqlDialect::DuckDb),
            "CREATE OR REPLACE VIEW \"t0\" AS SELECT * FROM read_parquet(['/lake/t/day=1/a.parquet', '/lake/t/day=2/b,c%25.parquet'], hive_partitioning = true, hive_types_autocast = false)"
        );
        let one = TableRef { name: "t1".into(), urls: vec!["file:///lake/u/".into()], base: None };
        assert_eq!(one.create_view(SqlDialect::Spark), "CREATE OR REPLACE TEMPORARY VIEW `t1` USING parquet OPTIONS (path 'file:///lake/u/')");
    }
}
