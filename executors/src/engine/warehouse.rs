//! Plans that read warehouse tables ([`WarehouseTable`]): run where the data is,
//! through the owner's connection, whatever the runtime's engine.
//!
//! The whole plan goes to the warehouse when it reads one warehouse's tables and
//! has a faithful form in its dialect. Otherwise its largest parts that do and
//! that reduce the table (an aggregate, a limit) go there, and the rest runs
//! here over the rows they returned. A part whose rows are the table's own (a
//! scan, filtered or not, under something with no SQL form) is refused, unless
//! the table has a collect limit: then its rows come here, within the limit,
//! with a warning that says why.

use super::{in_plan_schema, one_line, rows_as_scan, single_qualifier, within, EngineError, Executed};
use crate::sql::SqlDialect;
use datafusion::common::tree_node::{TreeNode, TreeNodeRecursion};
use datafusion::datasource::source_as_provider;
use datafusion::logical_expr::{LogicalPlan, LogicalPlanBuilder};
use datafusion::prelude::SessionContext;
use futures::future::BoxFuture;
use std::sync::Arc;
use std::time::Duration;
use vegalake_connectors::{ScanMetrics, Warehouse, WarehouseTable};
use vegalake_sql_gen::unparse::{ForeignTable, SqlError, SqlTask};

/// The warehouse tables `plan` scans.
fn warehouse_tables(plan: &LogicalPlan) -> Vec<WarehouseTable> {
    let mut found: Vec<WarehouseTable> = Vec::new();
    let _ = plan.apply(|node| {
        if let LogicalPlan::TableScan(scan) = node {
            if let Ok(provider) = source_as_provider(&scan.source) {
                if let Some(table) = provider.downcast_ref::<WarehouseTable>() {
                    found.push(table.clone());
                }
            }
        }
        Ok(TreeNodeRecursion::Continue)
    });
    found
}

/// True if `plan` reads a warehouse table: it runs through [`execute`].
pub(crate) fn reads_warehouse(plan: &LogicalPlan) -> bool {
    !warehouse_tables(plan).is_empty()
}

/// The one warehouse whose tables `plan` reads, if it reads one's only.
fn one_warehouse(plan: &LogicalPlan) -> Option<Arc<dyn Warehouse>> {
    let tables = warehouse_tables(plan);
    let first = tables.first()?;
    tables.iter().all(|t| t.same_warehouse(first)).then(|| first.warehouse().clone())
}

/// Runs `plan`, which reads warehouse tables ([`reads_warehouse`]). With
/// `dataset_rows`, its rows are a dataset's, which the chart holds: the whole
/// plan may return them. Otherwise (the runtime's planning queries) it is held
/// to what any part is: reduced, or collected within the limit.
pub(crate) async fn execute(local: &SessionContext, plan: LogicalPlan, dataset_rows: bool, timeout: Option<Duration>) -> Result<Executed, EngineError> {
    let mut warehouses: Vec<Arc<dyn Warehouse>> = Vec::new();
    for t in warehouse_tables(&plan) {
        if !warehouses.iter().any(|w| Arc::ptr_eq(w, t.warehouse())) {
            warehouses.push(t.warehouse().clone());
        }
    }
    let label = warehouses.iter().map(|w| w.label().to_string()).collect::<Vec<_>>().join(", ");
    let work = async {
        let one = match warehouses.as_slice() {
            [warehouse] => Some(warehouse.clone()),
            _ => None,
        };
        let why = match one.map(|w| (unparse(&plan, w.as_ref()), w)) {
            Some((Ok(task), warehouse)) if dataset_rows || reduces(&plan) => {
                let batches = run(warehouse.as_ref(), &plan, &task).await?;
                return Ok(Executed { batches, scans: ScanMetrics::remote() });
            }
            Some((Err(e), _)) => Some(reason(e)),
            _ => None,
        };
        let mut pushed = 0;
        let rest = push_parts(plan, &mut pushed, why).await?;
        let mut executed = super::local::run(local, rest).await?;
        executed.scans.remote_queries += pushed;
        Ok(executed)
    };
    let cancel = async {
        for w in &warehouses {
            w.cancel().await;
        }
    };
    within(&label, timeout, work, cancel).await
}

/// `plan` with its largest parts that one warehouse can run replaced by their
/// rows. `refused` says why the part above had no form, for the error of a part
/// whose rows are the table's own (which must be collected).
fn push_parts<'a>(plan: LogicalPlan, pushed: &'a mut usize, refused: Option<String>) -> BoxFuture<'a, Result<LogicalPlan, EngineError>> {
    Box::pin(async move {
        let Some(warehouse) = one_warehouse(&plan) else {
            if !reads_warehouse(&plan) {
                return Ok(plan);
            }
            return push_inputs(plan, pushed, Some("it joins tables of two warehouses".into())).await;
        };
        let task = match unparse(&plan, warehouse.as_ref()) {
            Ok(task) => task,
            Err(e) => {
                let why = reason(e);
                log::debug!("{}: no SQL form ({why}) for:\n{}", warehouse.label(), plan.display_indent());
                return push_inputs(plan, pushed, Some(why)).await;
            }
        };
        // A scan in the part's place can carry one qualifier only.
        let Some(qualifier) = single_qualifier(&plan) else {
            return push_inputs(plan, pushed, refused).await;
        };
        if !reduces(&plan) {
            return collect(warehouse, plan, qualifier, refused, pushed).await;
        }
        let batches = run(warehouse.as_ref(), &plan, &task).await?;
        *pushed += 1;
        rows_as_scan(qualifier, &plan, batches, *pushed).map_err(|e| failed(warehouse.as_ref(), e))
    })
}

async fn push_inputs(plan: LogicalPlan, pushed: &mut usize, refused: Option<String>) -> Result<LogicalPlan, EngineError> {
    let mut inputs = Vec::new();
    for input in plan.inputs().into_iter().cloned() {
        inputs.push(push_parts(input, pushed, refused.clone()).await?);
    }
    plan.with_new_exprs(plan.expressions(), inputs).map_err(EngineError::Local)
}

/// True if `plan` groups or limits its rows: what it returns is not the
/// table's rows. (A filter alone is not: the rows it keeps are the table's, and
/// fetching them is collecting it.)
fn reduces(plan: &LogicalPlan) -> bool {
    plan.exists(|node| Ok(matches!(node, LogicalPlan::Aggregate(_) | LogicalPlan::Limit(_) | LogicalPlan::Distinct(_)))).unwrap_or(false)
}

/// A part whose rows are a warehouse table's own (a scan, row-local
/// projections), as rows here: only within the table's collect limit.
async fn collect(
    warehouse: Arc<dyn Warehouse>,
    part: LogicalPlan,
    qualifier: Option<datafusion::common::TableReference>,
    refused: Option<String>,
    pushed: &mut usize,
) -> Result<LogicalPlan, EngineError> {
    let tables = warehouse_tables(&part);
    let name = tables.iter().map(|t| t.relation().join(".")).collect::<Vec<_>>().join(", ");
    let why = refused.unwrap_or_else(|| "a part of the chart reads its rows as they are".into());
    let Some(limit) = tables.iter().filter_map(|t| t.collect_limit()).min() else {
        return Err(EngineError::Query {
            engine: warehouse.label().to_string(),
            message: format!("{name}: its rows stay in the warehouse, but {why} (collect_limit= lets them come here)"),
        });
    };
    log::warn!("{}: reading up to {limit} rows of {name} here, because {why}", warehouse.label());
    let limited = LogicalPlanBuilder::from(part.clone()).limit(0, Some(limit + 1)).and_then(LogicalPlanBuilder::build).map_err(EngineError::Local)?;
    let task = unparse(&limited, warehouse.as_ref()).map_err(|e| failed(warehouse.as_ref(), e))?;
    let batches = run(warehouse.as_ref(), &limited, &task).await?;
    let rows: usize = batches.iter().map(|b| b.num_rows()).sum();
    if rows > limit {
        return Err(EngineError::Query {
            engine: warehouse.label().to_string(),
            message: format!("{name}: {why}, and it has more than collect_limit={limit} rows"),
        });
    }
    *pushed += 1;
    rows_as_scan(qualifier, &part, batches, *pushed).map_err(|e| failed(warehouse.as_ref(), e))
}

/// `plan` as SQL the warehouse runs: its tables by their names there, small
/// in-memory tables as `VALUES`, nothing else.
fn unparse(plan: &LogicalPlan, warehouse: &dyn Warehouse) -> Result<SqlTask, SqlError> {
    let dialect: SqlDialect = warehouse.dialect().parse().map_err(SqlError::NotPushable)?;
    let relation_of = |provider: &dyn datafusion::datasource::TableProvider| {
        Some(match provider.downcast_ref::<WarehouseTable>() {
            Some(t) if std::ptr::addr_eq(Arc::as_ptr(t.warehouse()), warehouse) => Ok(ForeignTable::Relation(t.relation().to_vec())),
            Some(_) => Err(SqlError::NotPushable("it reads tables of two warehouses".into())),
            None => Err(SqlError::NotPushable(format!("the {} cannot read this process's tables", warehouse.label()))),
        })
    };
    let task = crate::sql::on_unparser_thread(|| vegalake_sql_gen::unparse::to_sql_reading(plan, dialect, &relation_of))?;
    if !task.tables.is_empty() {
        return Err(SqlError::NotPushable(format!("the {} cannot read lake files", warehouse.label())));
    }
    Ok(task)
}

/// `task` (the SQL of `plan`) run by the warehouse; its rows in the plan's schema.
async fn run(warehouse: &dyn Warehouse, plan: &LogicalPlan, task: &SqlTask) -> Result<Vec<datafusion::arrow::record_batch::RecordBatch>, EngineError> {
    log::debug!("{}: {}", warehouse.label(), task.sql);
    let batches = warehouse.query(&task.sql).await.map_err(|message| EngineError::Query { engine: warehouse.label().to_string(), message })?;
    in_plan_schema(plan, batches).map_err(|e| failed(warehouse, e))
}

/// Why a plan has no SQL form, as the error of a refused collect says it.
fn reason(e: SqlError) -> String {
    match e {
        SqlError::NotPushable(why) | SqlError::Unparse(why) => why,
    }
}

fn failed(warehouse: &dyn Warehouse, e: impl std::fmt::Display) -> EngineError {
    EngineError::Query { engine: warehouse.label().to_string(), message: one_line(&e) }
}
