//! Small helpers for building logical plans column by column.

use crate::error::Result;
use datafusion::common::Column;
use datafusion::logical_expr::{Expr, LogicalPlan, LogicalPlanBuilder};

/// An unqualified column reference; names are taken verbatim (spaces, dots).
pub fn col(name: &str) -> Expr {
    Expr::Column(Column::new_unqualified(name))
}

/// True if the plan's output has a column `name`.
pub fn has_column(plan: &LogicalPlan, name: &str) -> bool {
    plan.schema().field_with_unqualified_name(name).is_ok()
}

/// The plan's output column names, in order.
pub fn column_names(plan: &LogicalPlan) -> Vec<String> {
    plan.schema().fields().iter().map(|f| f.name().clone()).collect()
}

/// Adds or replaces columns: existing names keep their position (as a JavaScript
/// object keeps its key order), new names go last.
pub fn with_columns(plan: LogicalPlan, columns: Vec<(String, Expr)>) -> Result<LogicalPlan> {
    let existing = column_names(&plan);
    let mut exprs: Vec<Expr> = Vec::new();
    for name in &existing {
        match columns.iter().rev().find(|(n, _)| n == name) {
            Some((_, e)) => exprs.push(e.clone().alias(name)),
            None => exprs.push(col(name)),
        }
    }
    let mut added: Vec<&String> = Vec::new();
    for (name, e) in columns.iter().rev() {
        if !existing.contains(name) && !added.contains(&name) {
            added.push(name);
            exprs.push(e.clone().alias(name));
        }
    }
    // The later definitions of a name win; restore their declared order.
    let n_existing = existing.len();
    exprs[n_existing..].reverse();
    Ok(LogicalPlanBuilder::from(plan).project(exprs)?.build()?)
}

/// Keeps only the named columns, in the given order.
pub fn select(plan: LogicalPlan, names: &[String]) -> Result<LogicalPlan> {
    Ok(LogicalPlanBuilder::from(plan).project(names.iter().map(|n| col(n)))?.build()?)
}

/// Adds columns computed by expressions that contain window functions: the window
/// functions are planned in Window nodes, then the expressions are projected.
pub fn with_window_columns(plan: LogicalPlan, columns: Vec<(String, Expr)>) -> Result<LogicalPlan> {
    use datafusion::common::tree_node::{Transformed, TreeNode};
    let exprs: Vec<Expr> = columns.iter().map(|(_, e)| e.clone()).collect();
    let windows = datafusion::logical_expr::utils::find_window_exprs(exprs.iter());
    let plan = if windows.is_empty() { plan } else { LogicalPlanBuilder::window_plan(plan, windows)? };
    let columns = columns
        .into_iter()
        .map(|(name, e)| {
            let e = e.transform_up(|e| match &e {
                Expr::WindowFunction(_) => Ok(Transformed::yes(col(&e.schema_name().to_string()))),
                _ => Ok(Transformed::no(e)),
            })?;
            Ok((name, e.data))
        })
        .collect::<Result<Vec<_>>>()?;
    let keep: Vec<String> = column_names(&plan).into_iter().filter(|n| !n.contains('(')).collect();
    let plan = with_columns(plan, columns)?;
    // Drop the window nodes' own output columns.
    let mut names = keep;
    for n in column_names(&plan) {
        if !names.contains(&n) && !n.contains('(') {
            names.push(n);
        }
    }
    select(plan, &names)
}
