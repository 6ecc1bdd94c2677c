//! `vegalake sql`: each server task of a spec as SQL for an engine that holds the
//! data. The pass runs here (planning queries such as an `extent` run on the local
//! engine, their results become constants); each dataset's server part is then
//! unparsed, or reported not pushable with the reason.

use crate::{EvalError, EvalOptions, PassOptions, Runtime, DEFAULT_CACHE_BYTES};
use std::collections::HashMap;
use std::sync::Arc;
use vegalake_connectors::SourceOptions;
use vegalake_planner::{Spec, SpecGraph, Var};
pub use vegalake_sql_gen::unparse::{SqlDialect, SqlError, SqlTask, TableRef};

/// One dataset's server part in a dialect.
#[derive(Debug)]
pub struct ServerTaskSql {
    pub dataset: String,
    /// The group mark scope it is declared in (empty at the top level).
    pub scope: Vec<u32>,
    /// Transforms the server evaluates, of all the dataset's transforms.
    pub server_transforms: usize,
    pub total_transforms: usize,
    /// The columns of its rows, with the metadata that tells how to print them
    /// (JSON values, undefined): an engine's Arrow result takes this schema back.
    pub schema: datafusion::arrow::datatypes::SchemaRef,
    pub sql: Result<SqlTask, SqlError>,
}

impl ServerTaskSql {
    pub fn pushable(&self) -> bool {
        self.sql.is_ok()
    }
}

/// The SQL of every server task of `spec` (a dataset with at least one transform
/// on the server) in `dialect`.
pub async fn sql_tasks(spec: &Spec, opts: &EvalOptions, dialect: SqlDialect) -> Result<Vec<ServerTaskSql>, EvalError> {
    let runtime = Runtime::new(DEFAULT_CACHE_BYTES);
    let graph = SpecGraph::new(spec);
    let signals: HashMap<Var, serde_json::Value> = opts.signals.iter().map(|(k, v)| (Var::signal(k, &[]), v.clone())).collect();
    let stores = opts.stores.iter().map(|(k, v)| (Var::data(k, &[]), v.clone())).collect();
    let pass_opts = PassOptions { source: SourceOptions { access: opts.data.clone(), zone: opts.zone }, signals: &signals, stores: &stores };
    let pass = runtime.run_pass(&graph, &pass_opts, &|_, _| false).await?;
    Ok(pass
        .datasets
        .iter()
        .filter(|d| d.server_transforms.is_some_and(|n| n > 0))
        .filter_map(|d| {
            let plan = d.plan.as_ref()?;
            Some(ServerTaskSql {
                dataset: d.var.name.clone(),
                scope: d.var.scope.clone(),
                server_transforms: d.server_transforms.unwrap_or(0),
                total_transforms: d.total_transforms,
                schema: Arc::new(plan.schema().as_arrow().clone()),
                sql: in_input_order(plan).and_then(|plan| unparse(&plan, dialect)),
            })
        })
        .collect())
}

/// The plan's rows in the input order they carry: an outer query sorted by the
/// order column. Sorting the plan itself would put `ORDER BY min(row)` on an
/// aggregate's query, which Spark refuses.
fn in_input_order(plan: &datafusion::logical_expr::LogicalPlan) -> Result<datafusion::logical_expr::LogicalPlan, SqlError> {
    use datafusion::logical_expr::LogicalPlanBuilder;
    let row = vegalake_sql_gen::ROW;
    if plan.schema().field_with_unqualified_name(row).is_err() {
        return Ok(plan.clone());
    }
    LogicalPlanBuilder::from(plan.clone())
        .alias("__vl_result")
        .and_then(|b| b.sort(vec![datafusion::logical_expr::col(row).sort(true, true)]))
        .and_then(|b| b.build())
        .map_err(|e| SqlError::Unparse(e.to_string()))
}

/// Unparsing recurses through the plan and its expressions (a `bin` is a deep
/// CASE): it runs on a thread of its own with room for that, not on a runtime
/// worker's small stack.
fn unparse(plan: &datafusion::logical_expr::LogicalPlan, dialect: SqlDialect) -> Result<SqlTask, SqlError> {
    const STACK: usize = 64 << 20;
    std::thread::scope(|s| {
        std::thread::Builder::new()
            .name("vegalake-unparse".into())
            .stack_size(STACK)
            .spawn_scoped(s, || vegalake_sql_gen::unparse::to_sql(plan, dialect))
            .map_err(|e| SqlError::Unparse(format!("cannot start the unparser thread: {e}")))?
            .join()
            .unwrap_or_else(|_| Err(SqlError::Unparse("the unparser panicked".into())))
    })
}
