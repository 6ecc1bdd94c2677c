//! Optimizer rules of our own, so that the predicates our lowering writes reach the
//! scans: Parquet row-group statistics, partition values and Delta file skipping
//! only use plain comparisons of a table's own columns with constants.
//!
//! [`JS_COMPARISON_CONJUNCTS`] first takes JavaScript's null and truthiness handling
//! off a filter's comparisons where the filter makes it redundant; then
//! [`UNWRAP_NUMERIC_CASTS`] takes the cast to `Float64` off the column. Both
//! rewrite filter predicates only: [`FilterPredicateRule`].
//!
//! [`DEPENDENT_GROUP_KEYS`] makes the aggregates Vega-Lite writes for bins and time
//! units group by the start alone, computing the end per group; [`EXTENT_STATISTICS`]
//! reads a field's extent from Parquet statistics when they hold it exactly. Both
//! rewrite aggregates only: [`AggregateRule`].

pub(crate) mod dependent_group_keys;
pub(crate) mod extent_statistics;
mod filter_conjuncts;
mod numeric_casts;

use datafusion::common::tree_node::Transformed;
use datafusion::common::{DFSchema, Result};
use datafusion::logical_expr::{Aggregate, Expr, LogicalPlan};
use datafusion::optimizer::{ApplyOrder, OptimizerConfig, OptimizerRule};
use std::sync::Arc;

/// An optimizer rule that rewrites the predicate of every filter, given the
/// schema of the filter's input.
#[derive(Debug)]
pub struct FilterPredicateRule {
    name: &'static str,
    rewrite: fn(Expr, &DFSchema) -> Result<Transformed<Expr>>,
}

impl OptimizerRule for FilterPredicateRule {
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
        let LogicalPlan::Filter(_) = &plan else { return Ok(Transformed::no(plan)) };
        let input = plan.inputs()[0].schema().clone();
        plan.map_expressions(|predicate| (self.rewrite)(predicate, &input))
    }
}

/// Filter predicates split into conjuncts, JavaScript's null-as-zero taken off.
pub const JS_COMPARISON_CONJUNCTS: FilterPredicateRule = FilterPredicateRule { name: "vegalake_js_comparison_conjuncts", rewrite: filter_conjuncts::rewrite };

/// Comparisons through a cast to `Float64`, uncast.
pub const UNWRAP_NUMERIC_CASTS: FilterPredicateRule = FilterPredicateRule { name: "vegalake_unwrap_numeric_casts", rewrite: numeric_casts::rewrite };

/// An optimizer rule that rewrites aggregates, each whole (`None`: unchanged).
#[derive(Debug)]
pub struct AggregateRule {
    name: &'static str,
    rewrite: fn(&Aggregate) -> Result<Option<LogicalPlan>>,
}

impl OptimizerRule for AggregateRule {
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
        let LogicalPlan::Aggregate(aggregate) = &plan else { return Ok(Transformed::no(plan)) };
        Ok(match (self.rewrite)(aggregate)? {
            Some(rewritten) => Transformed::yes(rewritten),
            None => Transformed::no(plan),
        })
    }
}

/// Group keys computed from another key, computed after the aggregate.
pub const DEPENDENT_GROUP_KEYS: AggregateRule = AggregateRule { name: "vegalake_dependent_group_keys", rewrite: dependent_group_keys::rewrite };

/// Extents read from exact file statistics.
pub const EXTENT_STATISTICS: AggregateRule = AggregateRule { name: "vegalake_extent_statistics", rewrite: extent_statistics::rewrite };

/// Our rules, in the order they must run (after DataFusion's own in each pass).
pub fn rules() -> Vec<Arc<dyn OptimizerRule + Send + Sync>> {
    vec![Arc::new(JS_COMPARISON_CONJUNCTS), Arc::new(UNWRAP_NUMERIC_CASTS), Arc::new(DEPENDENT_GROUP_KEYS), Arc::new(EXTENT_STATISTICS)]
}
