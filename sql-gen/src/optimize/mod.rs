//! Optimizer rules of our own, so that the predicates our lowering writes reach the
//! scans: Parquet row-group statistics, partition values and Delta file skipping
//! only use plain comparisons of a table's own columns with constants.
//!
//! [`JS_COMPARISON_CONJUNCTS`] first takes JavaScript's null and truthiness handling
//! off a filter's comparisons where the filter makes it redundant; then
//! [`UNWRAP_NUMERIC_CASTS`] takes the cast to `Float64` off the column. Both
//! rewrite filter predicates only (`filter_predicates`).
//!
//! [`DEPENDENT_GROUP_KEYS`] makes the aggregates Vega-Lite writes for bins and time
//! units group by the start alone, computing the end per group; [`EXTENT_STATISTICS`]
//! reads a field's extent from Parquet statistics when they hold it exactly. Both
//! rewrite aggregates only (`aggregates`).

pub(crate) mod dependent_group_keys;
pub(crate) mod extent_statistics;
mod filter_conjuncts;
mod numeric_casts;

use datafusion::common::tree_node::Transformed;
use datafusion::common::{DFSchema, Result};
use datafusion::logical_expr::{Aggregate, Expr, LogicalPlan};
use datafusion::optimizer::{ApplyOrder, OptimizerConfig, OptimizerRule};
use std::sync::Arc;

/// One of our optimizer rules: a name and a rewrite of one plan node, applied
/// bottom up. The rewrites are of two kinds, `filter_predicates` and
/// `aggregates`.
#[derive(Debug)]
pub struct PlanRule {
    name: &'static str,
    rewrite: fn(LogicalPlan) -> Result<Transformed<LogicalPlan>>,
}

impl OptimizerRule for PlanRule {
    fn name(&self) -> &str {
        self.name
    }

    fn apply_order(&self) -> Option<ApplyOrder> {
        Some(ApplyOrder::BottomUp)
    }

    fn supports_rewrite(&self) -> bool {
        true
    }

    fn rewrite(&self, plan: LogicalPlan, _config: &dyn OptimizerConfig) -> Result<Transformed<LogicalPlan>> {
        (self.rewrite)(plan)
    }
}

/// A filter's predicate rewritten by `rewrite`, given the schema of the filter's
/// input; other nodes unchanged.
fn filter_predicates(plan: LogicalPlan, rewrite: fn(Expr, &DFSchema) -> Result<Transformed<Expr>>) -> Result<Transformed<LogicalPlan>> {
    let LogicalPlan::Filter(_) = &plan else { return Ok(Transformed::no(plan)) };
    let input = plan.inputs()[0].schema().clone();
    plan.map_expressions(|predicate| rewrite(predicate, &input))
}

/// An aggregate rewritten whole by `rewrite` (`None`: unchanged); other nodes
/// unchanged.
fn aggregates(plan: LogicalPlan, rewrite: fn(&Aggregate) -> Result<Option<LogicalPlan>>) -> Result<Transformed<LogicalPlan>> {
    let LogicalPlan::Aggregate(aggregate) = &plan else { return Ok(Transformed::no(plan)) };
    Ok(match rewrite(aggregate)? {
        Some(rewritten) => Transformed::yes(rewritten),
        None => Transformed::no(plan),
    })
}

/// Filter predicates split into conjuncts, JavaScript's null-as-zero taken off.
pub const JS_COMPARISON_CONJUNCTS: PlanRule =
    PlanRule { name: "vegalake_js_comparison_conjuncts", rewrite: |plan| filter_predicates(plan, filter_conjuncts::rewrite) };

/// Comparisons through a cast to `Float64`, uncast.
pub const UNWRAP_NUMERIC_CASTS: PlanRule = PlanRule { name: "vegalake_unwrap_numeric_casts", rewrite: |plan| filter_predicates(plan, numeric_casts::rewrite) };

/// Group keys computed from another key, computed after the aggregate.
pub const DEPENDENT_GROUP_KEYS: PlanRule = PlanRule { name: "vegalake_dependent_group_keys", rewrite: |plan| aggregates(plan, dependent_group_keys::rewrite) };

/// Extents read from exact file statistics.
pub const EXTENT_STATISTICS: PlanRule = PlanRule { name: "vegalake_extent_statistics", rewrite: |plan| aggregates(plan, extent_statistics::rewrite) };

/// Our rules, in the order they must run (after DataFusion's own in each pass).
pub fn rules() -> Vec<Arc<dyn OptimizerRule + Send + Sync>> {
    vec![Arc::new(JS_COMPARISON_CONJUNCTS), Arc::new(UNWRAP_NUMERIC_CASTS), Arc::new(DEPENDENT_GROUP_KEYS), Arc::new(EXTENT_STATISTICS)]
}
