//! Small helpers for building logical plans column by column.

use crate::error::Result;
use datafusion::common::{Column, DFSchema};
use datafusion::logical_expr::{Expr, ExprSchemable, LogicalPlan, LogicalPlanBuilder};

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
            Some((_, e)) => exprs.push(aliased(e.clone(), name)),
            None => exprs.push(col(name)),
        }
    }
    let mut added: Vec<&String> = Vec::new();
    for (name, e) in columns.iter().rev() {
        if !existing.contains(name) && !added.contains(&name) {
            added.push(name);
            exprs.push(aliased(e.clone(), name));
        }
    }
    // The later definitions of a name win; restore their declared order.
    let n_existing = existing.len();
    exprs[n_existing..].reverse();
    Ok(LogicalPlanBuilder::from(plan).project(exprs)?.build()?)
}

/// `e AS name`, unless `e` already is (with the metadata its alias gives).
fn aliased(e: Expr, name: &str) -> Expr {
    match &e {
        Expr::Alias(a) if a.name == name => e,
        _ => e.alias(name),
    }
}

/// `e AS name`, its nulls marked as JavaScript `undefined` or not (see
/// [`vegalake_planner::values::UNDEFINED_FIELD_METADATA`]). A mark `e` inherits
/// from a column it reads is overridden only where it would be wrong.
pub fn alias_undefined_nulls(e: Expr, name: &str, undefined: bool, schema: &DFSchema) -> Expr {
    let inherited = e.metadata(schema).is_ok_and(|m| vegalake_planner::values::nulls_are_undefined(&m.to_hashmap()));
    if inherited == undefined {
        return e.alias(name);
    }
    let mark = std::collections::BTreeMap::from([(vegalake_planner::values::UNDEFINED_FIELD_METADATA.to_string(), undefined.to_string())]);
    e.alias_with_metadata(name, Some(mark.into()))
}

/// Keeps only the named columns, in the given order.
pub fn select(plan: LogicalPlan, names: &[String]) -> Result<LogicalPlan> {
    Ok(LogicalPlanBuilder::from(plan).project(names.iter().map(|n| col(n)))?.build()?)
}

/// Plans aliased window functions, one Window node per distinct partitioning and
/// ordering (DataFusion's `window_plan` does the same, but drops aliases).
fn window_nodes(mut plan: LogicalPlan, windows: Vec<Expr>) -> Result<LogicalPlan> {
    let mut groups: Vec<(String, Vec<Expr>)> = Vec::new();
    for w in windows {
        let key = match &w {
            Expr::Alias(a) => match a.expr.as_ref() {
                Expr::WindowFunction(f) => format!("{:?}{:?}", f.params.partition_by, f.params.order_by),
                _ => String::new(),
            },
            _ => String::new(),
        };
        match groups.iter_mut().find(|(k, _)| *k == key) {
            Some((_, g)) => g.push(w),
            None => groups.push((key, vec![w])),
        }
    }
    for (_, group) in groups {
        plan = LogicalPlanBuilder::from(plan).window(group)?.build()?;
    }
    Ok(plan)
}

/// Adds columns computed by expressions that contain window functions: the window
/// functions are planned in Window nodes, then the expressions are projected.
pub fn with_window_columns(plan: LogicalPlan, columns: Vec<(String, Expr)>) -> Result<LogicalPlan> {
    use datafusion::common::tree_node::{Transformed, TreeNode};
    let original = column_names(&plan);
    // Each window function becomes a column `__vl_w{i}` of a Window node.
    let mut windows: Vec<Expr> = Vec::new();
    let columns = columns
        .into_iter()
        .map(|(name, e)| {
            let e = e.transform_up(|e| match &e {
                Expr::WindowFunction(_) => {
                    let alias = format!("__vl_w{}", windows.len());
                    windows.push(e.alias(&alias));
                    Ok(Transformed::yes(col(&alias)))
                }
                _ => Ok(Transformed::no(e)),
            })?;
            Ok((name, e.data))
        })
        .collect::<Result<Vec<_>>>()?;
    let plan = window_nodes(plan, windows)?;
    let new_names: Vec<String> = columns.iter().map(|(n, _)| n.clone()).collect();
    let plan = with_columns(plan, columns)?;
    // Drop the window nodes' own columns.
    let mut names = original;
    for n in new_names {
        if !names.contains(&n) {
            names.push(n);
        }
    }
    select(plan, &names)
}

/// Whether `plan` has a window function ignoring nulls (`prev_value`,
/// `next_value`): DataFusion 55 writes such a call back as one respecting them,
/// both as SQL (its unparser) and as a serialized plan (a window UDF's
/// `ignore_nulls` is not carried), so no other engine may be sent it.
pub fn has_window_ignoring_nulls(plan: &LogicalPlan) -> bool {
    use datafusion::common::tree_node::TreeNode;
    use datafusion::logical_expr::expr::NullTreatment;
    let ignoring = |e: &Expr| matches!(e, Expr::WindowFunction(w) if w.params.null_treatment == Some(NullTreatment::IgnoreNulls));
    plan.exists(|node| Ok(matches!(node, LogicalPlan::Window(w) if w.window_expr.iter().any(|e| e.exists(|e| Ok(ignoring(e))).unwrap_or(true)))))
        .unwrap_or(true)
}
