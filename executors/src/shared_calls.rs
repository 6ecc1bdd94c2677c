//! A physical optimizer rule: a vegalake function call that a filter (and the
//! projection over it) repeats is evaluated once per row.
//!
//! Why: Vega-Lite's validity filter after a binned aggregate (`isValid(bin) &&
//! isFinite(+bin)`) is pushed by DataFusion below the aggregate and through the
//! projection that computes the bins, becoming `vl_bin(x)` itself, six times per
//! field; the projection computes it twice more (the bin's start and its end).
//! Common subexpression elimination is off (see `session_with_rules`). Measured on
//! a 10M-row heatmap (release, perf): `vl_bin` ran 16 times a row where 2 suffice,
//! half of the query's time.
//!
//! `Projection(P) <- Filter(F) <- input` becomes `Projection(P') <- Filter(F') <-
//! Projection(input's columns, calls) <- input`, where the calls are the distinct
//! `vl_*` calls occurring at least twice in F and P together, and P', F' read them
//! as columns; a filter alone the same way, under a projection of its own columns.
//! Exact: the `vl_*` functions are immutable and total (a value they cannot take
//! gives null or NaN, never an error), so computing one for every row the filter
//! sees changes no row.

use datafusion::common::tree_node::{Transformed, TransformedResult, TreeNode, TreeNodeRecursion};
use datafusion::common::Result;
use datafusion::config::ConfigOptions;
use datafusion::logical_expr::Volatility;
use datafusion::physical_expr::expressions::Column;
use datafusion::physical_expr::{PhysicalExpr, ScalarFunctionExpr};
use datafusion::physical_optimizer::PhysicalOptimizerRule;
use datafusion::physical_plan::filter::{FilterExec, FilterExecBuilder};
use datafusion::physical_plan::projection::{ProjectionExec, ProjectionExpr};
use datafusion::physical_plan::ExecutionPlan;
use std::sync::Arc;

/// The rule (see the module's notes).
#[derive(Debug, Default)]
pub struct ShareFunctionCalls;

impl PhysicalOptimizerRule for ShareFunctionCalls {
    fn optimize(&self, plan: Arc<dyn ExecutionPlan>, _config: &ConfigOptions) -> Result<Arc<dyn ExecutionPlan>> {
        // Top down: a projection over a filter is rewritten before the filter alone.
        plan.transform_down(share_in).data()
    }

    fn name(&self) -> &str {
        "vegalake_share_function_calls"
    }

    fn schema_check(&self) -> bool {
        true
    }
}

fn share_in(node: Arc<dyn ExecutionPlan>) -> Result<Transformed<Arc<dyn ExecutionPlan>>> {
    if let Some(projection) = node.downcast_ref::<ProjectionExec>() {
        let above: Vec<_> = projection.expr().iter().map(|e| &e.expr).collect();
        let mut below = match projection.input().downcast_ref::<FilterExec>() {
            Some(filter) => share_below(filter, &above)?,
            None => None,
        };
        // Or the projection alone (a bin's start and end both call `vl_bin`).
        if below.is_none() {
            if let Some(calls) = repeated_calls(&above)? {
                below = Some(computing(calls, projection.input())?);
            }
        }
        if let Some((input, shared)) = below {
            let exprs =
                projection.expr().iter().map(|e| Ok(ProjectionExpr { expr: shared.read(&e.expr)?, alias: e.alias.clone() })).collect::<Result<Vec<_>>>()?;
            let shared = ProjectionExec::try_new(exprs, input)?;
            // A projection's field metadata (a column whose nulls are `undefined`)
            // comes from its logical aliases, which a rebuilt one does not have.
            if shared.schema() != projection.schema() {
                return Ok(Transformed::no(node));
            }
            return Ok(Transformed::yes(Arc::new(shared)));
        }
    }
    if let Some(filter) = node.downcast_ref::<FilterExec>() {
        if let Some((new_filter, _)) = share_below(filter, &[])? {
            // The filter's own columns, without the shared calls.
            let columns = columns_of(filter);
            return Ok(Transformed::yes(Arc::new(ProjectionExec::try_new(columns, new_filter)?)));
        }
    }
    Ok(Transformed::no(node))
}

/// `filter` over a projection computing the calls it and `above` repeat, and
/// the calls' columns; `None` when nothing repeats (or the filter projects).
fn share_below(filter: &FilterExec, above: &[&Arc<dyn PhysicalExpr>]) -> Result<Option<(Arc<dyn ExecutionPlan>, SharedCalls)>> {
    if filter.projection().is_some() {
        return Ok(None);
    }
    let exprs: Vec<_> = std::iter::once(filter.predicate()).chain(above.iter().copied()).collect();
    let Some(calls) = repeated_calls(&exprs)? else { return Ok(None) };
    let (lower, shared) = computing(calls, filter.input())?;
    let filter = FilterExecBuilder::from(filter).with_input(lower).with_predicate(shared.read(filter.predicate())?).build()?;
    Ok(Some((Arc::new(filter), shared)))
}

/// The `vl_*` calls occurring at least twice in `exprs` (outermost calls only);
/// `None` when none repeats.
fn repeated_calls(exprs: &[&Arc<dyn PhysicalExpr>]) -> Result<Option<Vec<Arc<dyn PhysicalExpr>>>> {
    let mut counted: Vec<(Arc<dyn PhysicalExpr>, usize)> = vec![];
    for expr in exprs {
        expr.apply(|e| {
            if !is_vegalake_call(e) {
                return Ok(TreeNodeRecursion::Continue);
            }
            match counted.iter_mut().find(|(call, _)| call == e) {
                Some((_, n)) => *n += 1,
                None => counted.push((Arc::clone(e), 1)),
            }
            Ok(TreeNodeRecursion::Jump)
        })?;
    }
    let calls: Vec<_> = counted.into_iter().filter(|(_, n)| *n >= 2).map(|(call, _)| call).collect();
    Ok((!calls.is_empty()).then_some(calls))
}

fn is_vegalake_call(e: &Arc<dyn PhysicalExpr>) -> bool {
    e.downcast_ref::<ScalarFunctionExpr>().is_some_and(|f| f.name().starts_with("vl_") && f.fun().signature().volatility == Volatility::Immutable)
}

/// A projection of `input`'s columns and then `calls`, and how to read them.
fn computing(calls: Vec<Arc<dyn PhysicalExpr>>, input: &Arc<dyn ExecutionPlan>) -> Result<(Arc<dyn ExecutionPlan>, SharedCalls)> {
    let mut exprs = columns_of(input.as_ref());
    let shared = SharedCalls { first: exprs.len(), calls };
    exprs.extend(shared.calls.iter().enumerate().map(|(k, call)| ProjectionExpr { expr: Arc::clone(call), alias: shared.name(k) }));
    Ok((Arc::new(ProjectionExec::try_new(exprs, Arc::clone(input))?), shared))
}

/// Each output column of `plan`, as it is.
fn columns_of(plan: &dyn ExecutionPlan) -> Vec<ProjectionExpr> {
    let schema = plan.schema();
    schema.fields().iter().enumerate().map(|(i, f)| ProjectionExpr { expr: Arc::new(Column::new(f.name(), i)), alias: f.name().clone() }).collect()
}

/// Calls computed once, as the columns after the input's `first`.
struct SharedCalls {
    first: usize,
    calls: Vec<Arc<dyn PhysicalExpr>>,
}

impl SharedCalls {
    fn name(&self, k: usize) -> String {
        format!("__vl_shared_{}", self.first + k)
    }

    /// `expr` reading each shared call from its column.
    fn read(&self, expr: &Arc<dyn PhysicalExpr>) -> Result<Arc<dyn PhysicalExpr>> {
        Arc::clone(expr)
            .transform_down(|e| match self.calls.iter().position(|call| call == &e) {
                Some(k) => Ok(Transformed::new(Arc::new(Column::new(&self.name(k), self.first + k)) as Arc<dyn PhysicalExpr>, true, TreeNodeRecursion::Jump)),
                None => Ok(Transformed::no(e)),
            })
            .data()
    }
}

#[cfg(test)]
mod tests {
    use datafusion::arrow::util::pretty::pretty_format_batches;
    use datafusion::physical_plan::{collect, displayable};
    use datafusion::prelude::SessionConfig;

    /// The validity filter of a binned aggregate: `vl_bin` computed once per row
    /// (it was 8 times), and the same rows as without the rule.
    #[tokio::test]
    async fn a_binned_aggregate_computes_each_bin_once() {
        let sql = "SELECT b, b_end, count(*) AS n FROM (
              SELECT vl_bin(x, 0.0, 10.0, 2.0) AS b, 0.0 + 2.0 * (1.0 + (vl_bin(x, 0.0, 10.0, 2.0) - 0.0) / 2.0) AS b_end
              FROM (VALUES (1.0), (3.5), (9.9), (CAST('NaN' AS DOUBLE)), (NULL), (4.0)) AS t(x)
            ) GROUP BY b, b_end HAVING b IS NOT NULL AND NOT isnan(b) AND abs(coalesce(b, 0.0)) != CAST('inf' AS DOUBLE)
            ORDER BY b";
        // One partition: the projection directly over the filter, as over Parquet.
        let with = datafusion::prelude::SessionContext::new_with_state(crate::session_state(SessionConfig::new().with_target_partitions(1)));
        let plan = with.sql(sql).await.unwrap().create_physical_plan().await.unwrap();
        let text = displayable(plan.as_ref()).indent(true).to_string();
        assert_eq!(text.matches("vl_bin(").count(), 1, "{text}");
        let rows = pretty_format_batches(&collect(plan, with.task_ctx()).await.unwrap()).unwrap().to_string();

        let without = crate::session_with_rules(SessionConfig::new().with_target_partitions(1), |_| ());
        let state = without.state();
        let physical: Vec<_> = state.physical_optimizers().iter().filter(|r| r.name() != "vegalake_share_function_calls").cloned().collect();
        let without = datafusion::prelude::SessionContext::new_with_state(
            datafusion::execution::SessionStateBuilder::new_from_existing(state).with_physical_optimizer_rules(physical).build(),
        );
        let plan = without.sql(sql).await.unwrap().create_physical_plan().await.unwrap();
        assert!(displayable(plan.as_ref()).indent(true).to_string().matches("vl_bin(").count() > 2);
        let expected = pretty_format_batches(&collect(plan, without.task_ctx()).await.unwrap()).unwrap().to_string();
        assert_eq!(rows, expected);
        // The header and the bins 0, 2, 4 and 8 (NaN and null left out).
        assert_eq!(rows.lines().filter(|l| l.starts_with("| ")).count(), 5, "{rows}");
    }
}
