//! Optimizer rules of our own, so that the predicates our lowering writes reach the
//! scans: Parquet row-group statistics, partition values and Delta file skipping
//! only use plain comparisons of a table's own columns with constants.
//!
//! [`JsComparisonConjuncts`] first takes JavaScript's null and truthiness handling
//! off a filter's comparisons where the filter makes it redundant; then
//! [`UnwrapNumericCasts`] takes the cast to `Float64` off the column.

mod filter_conjuncts;
mod numeric_casts;

pub use filter_conjuncts::JsComparisonConjuncts;
pub use numeric_casts::UnwrapNumericCasts;

use datafusion::optimizer::OptimizerRule;
use std::sync::Arc;

/// Our rules, in the order they must run (after DataFusion's own in each pass).
pub fn rules() -> Vec<Arc<dyn OptimizerRule + Send + Sync>> {
    vec![Arc::new(JsComparisonConjuncts), Arc::new(UnwrapNumericCasts)]
}
