//! What an expression can see besides the row: signals, other datasets, the time zone.

use serde_json::{Map, Value as Json};
use vegalake_planner::values::time::Zone;

/// A signal as seen by the lowering.
#[derive(Debug, Clone, PartialEq)]
pub enum SignalValue {
    /// Known on the server (constant, or computed before this dataset).
    Known(Json),
    /// Declared, but its value only exists on the client (an event-driven signal
    /// without a server-side value).
    ClientOnly,
}

/// The evaluation environment of the datasets of one spec.
pub trait Environment: Send + Sync {
    /// A signal by name; `None` if no signal of that name is declared.
    fn signal(&self, name: &str) -> Option<SignalValue>;
    /// The rows of a dataset already evaluated on the server, for `data(name)` and
    /// the selection helpers; `None` if the dataset is unknown or not available.
    fn dataset_rows(&self, name: &str) -> Option<&[Map<String, Json>]>;
    /// The zone of local-time functions.
    fn zone(&self) -> Zone;
    /// The plan of a dataset already lowered on the server (`lookup`'s `from`).
    fn dataset_plan(&self, name: &str) -> Option<datafusion::logical_expr::LogicalPlan>;
    /// The definition of projection `name` as the spec writes it (its parameters
    /// may read signals); `None` if no projection of that name is declared.
    fn projection(&self, name: &str) -> Option<Json>;
}
