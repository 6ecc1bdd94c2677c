//! Lowering of Vega to DataFusion: expressions to [`datafusion::logical_expr::Expr`]
//! with JavaScript semantics, and transforms to logical plans.
//!
//! Two registries drive it: [`functions`] (one entry per expression function) and
//! [`transforms`] (one module per transform). Each says whether the server evaluates
//! a given use, and how; anything else is reported as unsupported and the dataset is
//! cut there, so a spec is never rejected for using something we do not lower.

pub mod coerce;
pub mod env;
pub mod error;
pub mod functions;
pub mod lower;
pub mod lowered;
pub mod optimize;
pub mod plan;
pub mod transforms;
pub mod udaf;
pub mod udf;
pub mod unparse;
pub mod vtype;

pub use env::{Environment, SignalValue};
pub use error::{LowerError, Result};
pub use lowered::{json_number, scalar_json, Lowered, Typed};
pub use transforms::{fitted_projection, lower_transform, partition_rule, whole_rows, Partition, Step, PARTITION_EXTENT_SIGNAL, PARTITION_KEYS, ROW};
pub use udf::register_udfs;
pub use vtype::VType;

/// The key of a signal value that differs per key of a partitioned evaluation
/// (`vegalake batch`): `{PARTITIONED: {"keys": [names], "values": [[[key values], value], ...]}}`.
pub const PARTITIONED: &str = "__vegalake_partitioned";

/// A signal's value per key (see [`PARTITIONED`]).
pub fn partitioned_signal(keys: &[String], values: Vec<(Vec<serde_json::Value>, serde_json::Value)>) -> serde_json::Value {
    let values: Vec<serde_json::Value> = values.into_iter().map(|(k, v)| serde_json::json!([k, v])).collect();
    serde_json::json!({ PARTITIONED: {"keys": keys, "values": values} })
}
