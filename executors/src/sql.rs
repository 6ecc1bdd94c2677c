//! `vegalake sql`: each server task of a spec as SQL for an engine that holds the
//! data. The pass runs here (planning queries such as an `extent` run on the local
//! engine, their results become constants); each dataset's server part is then
//! unparsed, or reported not pushable with the reason.

use crate::{EvalError, EvalOptions, Runtime, DEFAULT_CACHE_BYTES};
use datafusion::arrow::datatypes::SchemaRef;
use datafusion::datasource::TableProvider;
use datafusion::logical_expr::LogicalPlan;
use std::sync::Arc;
use vegalake_connectors::FileListTable;
use vegalake_planner::Spec;
pub use vegalake_sql_gen::unparse::{checked_functions, SqlDialect, SqlError, SqlTask, TableRef};
use vegalake_sql_gen::unparse::{FileList, ForeignTable};

/// One dataset's server part: the plan an engine would run.
#[derive(Debug)]
pub struct ServerTask {
    pub dataset: String,
    /// The group mark scope it is declared in (empty at the top level).
    pub scope: Vec<u32>,
    /// Transforms the server evaluates, of all the dataset's transforms.
    pub server_transforms: usize,
    pub total_transforms: usize,
    /// Unoptimized, as the unparser wants it.
    pub plan: LogicalPlan,
}

impl ServerTask {
    /// The columns of its rows, with the metadata that tells how to print them
    /// (JSON values, undefined): an engine's Arrow result takes this schema back.
    pub fn schema(&self) -> SchemaRef {
        Arc::new(self.plan.schema().as_arrow().clone())
    }

    /// The task as SQL in `dialect`, its rows in the input order they carry.
    pub fn sql(&self, dialect: SqlDialect) -> Result<SqlTask, SqlError> {
        let plan = crate::server::in_input_order(self.plan.clone()).map_err(|e| SqlError::Unparse(e.to_string()))?;
        unparse(&plan, dialect)
    }
}

/// Every server task of `spec`: each dataset with at least one transform on the server.
pub async fn server_tasks(spec: &Spec, opts: &EvalOptions) -> Result<Vec<ServerTask>, EvalError> {
    let pass = crate::top_level_pass(&Runtime::new(DEFAULT_CACHE_BYTES), spec, opts, &|_, _| false).await?;
    Ok(pass
        .datasets
        .into_iter()
        .filter(|d| d.server_transforms.is_some_and(|n| n > 0))
        .filter_map(|d| {
            Some(ServerTask {
                dataset: d.var.name,
                scope: d.var.scope,
                server_transforms: d.server_transforms.unwrap_or(0),
                total_transforms: d.total_transforms,
                plan: d.plan?,
            })
        })
        .collect())
}

/// `plan` as SQL in `dialect`; a Delta table is read as its version's files.
///
/// Unparsing recurses through the plan and its expressions (a `bin` is a deep
/// CASE): it runs on a thread of its own with room for that, not on a runtime
/// worker's small stack.
pub(crate) fn unparse(plan: &LogicalPlan, dialect: SqlDialect) -> Result<SqlTask, SqlError> {
    on_unparser_thread(|| match crate::engine::distributable::delta_as_files(plan.clone()) {
        Ok(Ok(files)) => vegalake_sql_gen::unparse::to_sql_reading(&files, dialect, &file_list),
        Ok(Err(why)) => Err(SqlError::NotPushable(why)),
        Err(e) => Err(SqlError::Unparse(e.to_string())),
    })
}

/// Runs `to_sql` on a thread with a large stack (see [`unparse`]).
pub(crate) fn on_unparser_thread(to_sql: impl FnOnce() -> Result<SqlTask, SqlError> + Send) -> Result<SqlTask, SqlError> {
    const STACK: usize = 64 << 20;
    std::thread::scope(|s| {
        std::thread::Builder::new()
            .name("vegalake-unparse".into())
            .stack_size(STACK)
            .spawn_scoped(s, to_sql)
            .map_err(|e| SqlError::Unparse(format!("cannot start the unparser thread: {e}")))?
            .join()
            .unwrap_or_else(|_| Err(SqlError::Unparse("the unparser panicked".into())))
    })
}

/// A [`FileListTable`]'s files, for engines that find partition values in the paths.
fn file_list(provider: &dyn TableProvider) -> Option<Result<ForeignTable, SqlError>> {
    let table = provider.downcast_ref::<FileListTable>()?;
    let listing = table.listing();
    let Some(base) = table.hive_base() else {
        return Some(Err(SqlError::NotPushable(format!("the files of {} are not all in partition directories named as Hive does", listing.base))));
    };
    let files = listing.files.iter().map(|f| f.url.clone()).collect();
    Some(Ok(ForeignTable::Files(FileList { base: base.to_string(), files, partition_columns: listing.partition_columns.clone() })))
}
