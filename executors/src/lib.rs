//! Evaluation of a Vega spec's data pipeline on embedded DataFusion.
//!
//! [`evaluate`] loads each top-level dataset, lowers its transforms one by one
//! (running the queries some of them need to plan, such as `extent`), executes the
//! result and returns rows as the `vegalake eval` contract prints them. A dataset
//! that uses something the server does not evaluate is reported in
//! [`Evaluation::unsupported`] with the reason; a spec error aborts with
//! [`EvalError`], naming the place.

pub mod brush_index;
pub mod cache;
pub mod chart;
pub mod cluster;
pub mod codec;
pub mod engine;
mod env;
mod in_process;
mod lowered_steps;
pub mod output;
mod pinned;
pub mod server;
mod shared_calls;
pub mod sql;

pub use cache::{CacheStats, Fingerprint, TaskCache};
pub use chart::{pre_transform_datasets, pre_transform_spec, ChartOptions, ChartState, DatasetPlacement, Interactivity, VarValue, Warning};
pub use env::{ScopedEnvironment, SpecEnvironment};
pub use server::{scan_summary, DatasetScan, Materialized, Pass, PassOptions, Runtime, DEFAULT_CACHE_BYTES};
pub use sql::{server_tasks, ServerTask, SqlDialect};
pub use vegalake_connectors::{Catalog, DataAccess, ScanMetrics, TableStats};

use datafusion::execution::SessionState;
use datafusion::prelude::{SessionConfig, SessionContext};
use serde_json::{Map, Value as Json};
use std::collections::HashMap;
use thiserror::Error;
use vegalake_connectors::SourceOptions;
use vegalake_planner::values::time::Zone;
use vegalake_planner::{Data, Spec, SpecGraph, Var};

/// How to evaluate.
#[derive(Debug, Clone)]
pub struct EvalOptions {
    /// What may be read: the data directory, allowed roots, the catalog.
    pub data: DataAccess,
    /// The zone of local-time functions and `timeunit`.
    pub zone: Zone,
    /// Signal values applied before evaluation (`--set`).
    pub signals: Map<String, Json>,
    /// Dataset contents applied before evaluation (`--store`).
    pub stores: Map<String, Json>,
}

impl Default for EvalOptions {
    fn default() -> Self {
        EvalOptions { data: DataAccess::default(), zone: Zone::Utc, signals: Map::new(), stores: Map::new() }
    }
}

/// What a spec's evaluation produced.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Evaluation {
    pub datasets: Map<String, Json>,
    pub signals: Map<String, Json>,
    pub unsupported: Map<String, Json>,
    /// What the datasets that read tables scanned.
    pub scans: Vec<DatasetScan>,
    /// Each top-level dataset's server part as the logical plan it ran (indented
    /// text), for `--explain` and Python's `vl.explain`.
    pub plans: Map<String, Json>,
}

impl Evaluation {
    /// The JSON object `vegalake eval` prints.
    pub fn to_json(&self) -> Json {
        serde_json::json!({ "datasets": self.datasets, "signals": self.signals, "unsupported": self.unsupported })
    }

    /// The same with the scans of each dataset that read a table and the plan of
    /// each dataset's server part (`--explain`).
    pub fn to_json_explained(&self) -> Json {
        let mut json = self.to_json();
        json["explain"] = serde_json::to_value(&self.scans).unwrap_or_default();
        json["plans"] = Json::Object(self.plans.clone());
        json
    }
}

/// A spec error: where, and what.
#[derive(Debug, Error)]
#[error("{place}: {message}")]
pub struct EvalError {
    pub kind: ErrorKind,
    pub place: String,
    pub message: String,
}

impl EvalError {
    pub fn new(kind: ErrorKind, place: impl Into<String>, message: impl Into<String>) -> EvalError {
        EvalError { kind, place: place.into(), message: message.into() }
    }
}

/// What kind of failure an [`EvalError`] is: what a caller (the Python package's
/// exception classes, a service's status codes) tells its users apart by.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ErrorKind {
    /// The spec is wrong: a syntax error, an unknown transform, a bad parameter.
    Spec,
    /// The spec names data this process may not read.
    Forbidden,
    /// Its data cannot be read: a missing file, a store that refuses, a bad format.
    Data,
    /// The engine failed or cannot be reached.
    Engine,
    /// A query ran past its timeout and was cancelled.
    Timeout,
    /// A query needed more memory than the runtime's limit, even spilling to disk.
    Memory,
}

/// A new DataFusion session with vegalake's functions registered.
pub fn new_session() -> SessionContext {
    SessionContext::new_with_state(session_state(SessionConfig::new()))
}

/// A session state over `config` with vegalake's functions and optimizer rules:
/// the local session's, and that of each Ballista process ([`cluster`]).
pub fn session_state(config: SessionConfig) -> SessionState {
    session_with_rules(config, |rules| rules.extend(vegalake_sql_gen::optimize::rules())).state()
}

/// A new session whose queries hold at most `bytes` of memory between them:
/// DataFusion's fair spill pool, so that concurrent queries share it and sorts,
/// joins and aggregates spill to disk before a query fails (`ErrorKind::Memory`).
/// The five largest holders are named in the failure's message.
pub fn new_session_with_memory_limit(bytes: usize) -> SessionContext {
    use datafusion::execution::memory_pool::{FairSpillPool, TrackConsumersPool};
    use datafusion::execution::runtime_env::RuntimeEnvBuilder;
    use datafusion::execution::SessionStateBuilder;
    let pool = TrackConsumersPool::new(FairSpillPool::new(bytes), std::num::NonZeroUsize::new(5).expect("5 is not zero"));
    let env = RuntimeEnvBuilder::new().with_memory_pool(std::sync::Arc::new(pool)).build_arc().expect("a runtime over a memory pool");
    SessionContext::new_with_state(SessionStateBuilder::new_from_existing(session_state(SessionConfig::new())).with_runtime_env(env).build())
}

/// The same without projection and filter pushdown: every scan reads all columns
/// of all files, without statistics pruning. Only to measure what pushdown saves
/// (the lake benchmark). Both the logical rules and the physical ones that push
/// filters into scans (DataFusion 55 pushes a `FilterExec`'s predicate into the
/// Parquet scan for row-group pruning) are left out.
pub fn new_session_without_pushdown() -> SessionContext {
    use datafusion::execution::SessionStateBuilder;
    let ctx = session_with_rules(SessionConfig::new(), |rules| rules.retain(|r| !matches!(r.name(), "push_down_filter" | "optimize_projections")));
    let state = ctx.state();
    let physical =
        state.physical_optimizers().iter().filter(|r| !r.name().starts_with("FilterPushdown") && r.name() != "ProjectionPushdown").cloned().collect();
    SessionContext::new_with_state(SessionStateBuilder::new_from_existing(state).with_physical_optimizer_rules(physical).build())
}

fn session_with_rules(
    config: SessionConfig,
    edit: impl FnOnce(&mut Vec<std::sync::Arc<dyn datafusion::optimizer::OptimizerRule + Send + Sync>>),
) -> SessionContext {
    use datafusion::execution::SessionStateBuilder;
    let state = SessionStateBuilder::new().with_config(config).with_default_features().build();
    // Common subexpression elimination mislabels the nullability of the columns it
    // introduces for our coalesce-heavy expressions (DataFusion 55), failing the
    // physical planner's schema check. What it would save most, repeated calls of
    // our functions, `shared_calls` saves on the physical plan.
    let mut rules: Vec<_> = state.optimizers().iter().filter(|r| r.name() != "common_sub_expression_eliminate").cloned().collect();
    edit(&mut rules);
    let mut physical = state.physical_optimizers().to_vec();
    physical.push(std::sync::Arc::new(shared_calls::ShareFunctionCalls));
    let state = SessionStateBuilder::new_from_existing(state).with_optimizer_rules(rules).with_physical_optimizer_rules(physical).build();
    let ctx = SessionContext::new_with_state(state);
    vegalake_sql_gen::register_udfs(&ctx);
    ctx
}

/// Evaluates every top-level dataset and every server-evaluable signal of `spec`
/// (the `vegalake eval` contract).
pub async fn evaluate(spec: &Spec, opts: &EvalOptions) -> Result<Evaluation, EvalError> {
    evaluate_on(&Runtime::new(DEFAULT_CACHE_BYTES), spec, opts).await
}

/// A pass over `spec` with the options' signals and stores set at the top level,
/// materializing what `want` asks for.
async fn top_level_pass(runtime: &Runtime, spec: &Spec, opts: &EvalOptions, want: server::Want<'_>) -> Result<Pass, EvalError> {
    let graph = SpecGraph::new(spec);
    let signals: HashMap<Var, Json> = opts.signals.iter().map(|(k, v)| (Var::signal(k, &[]), v.clone())).collect();
    let stores = opts.stores.iter().map(|(k, v)| (Var::data(k, &[]), v.clone())).collect();
    let pass_opts = PassOptions {
        source: SourceOptions { access: opts.data.clone(), zone: opts.zone },
        signals: &signals,
        stores: &stores,
        cuts: None,
        lazy_pins: false,
        steps: None,
    };
    runtime.run_pass(&graph, &pass_opts, want).await
}

/// [`evaluate`] on a runtime of the caller's (its session and cache).
pub async fn evaluate_on(runtime: &Runtime, spec: &Spec, opts: &EvalOptions) -> Result<Evaluation, EvalError> {
    let pass = top_level_pass(runtime, spec, opts, &|var: &Var, _| var.scope.is_empty()).await?;
    let mut out = Evaluation::default();
    for d in pass.datasets.iter().filter(|d| d.var.scope.is_empty()) {
        if let Some(plan) = &d.plan {
            out.plans.insert(d.var.name.clone(), Json::String(plan.display_indent().to_string()));
        }
        match (&d.result, d.complete()) {
            (Some(result), true) => {
                out.datasets.insert(d.var.name.clone(), Json::Array(result.rows.iter().cloned().map(Json::Object).collect()));
            }
            _ => {
                let reason = d.reason.clone().unwrap_or_else(|| "evaluated on the client".into());
                out.unsupported.insert(d.var.name.clone(), Json::String(reason));
            }
        }
    }
    out.signals = pass.env.known_signals();
    out.scans = pass.scans();
    Ok(out)
}

/// A Vega-Lite selection store given as values (entries with `fields` and `values`)
/// and no transforms: the dataset is its rows, as vega.js shows them once a
/// selection test has read them.
pub(crate) fn passthrough_rows(data: &Data) -> Option<Vec<Map<String, Json>>> {
    let Some(Json::Array(values)) = &data.values else { return None };
    if !data.transforms().is_empty() || data.format.is_some() || data.source.is_some() {
        return None;
    }
    let store_entry = |v: &Json| v.get("fields").is_some_and(Json::is_array) && v.get("values").is_some_and(Json::is_array);
    if values.is_empty() || !values.iter().all(store_entry) {
        return None;
    }
    Some(
        values
            .iter()
            .map(|v| match v {
                Json::Object(o) => with_selection_getters(o.clone()),
                other => Map::from_iter([("data".to_string(), other.clone())]),
            })
            .collect(),
    )
}

/// A selection store entry as vega.js shows it once a selection test has read it:
/// vega-selections caches an accessor (`getter`) on every field entry.
fn with_selection_getters(mut row: Map<String, Json>) -> Map<String, Json> {
    if let Some(Json::Array(fields)) = row.get_mut("fields") {
        for f in fields.iter_mut().filter_map(Json::as_object_mut) {
            if let Some(Json::String(name)) = f.get("field").cloned() {
                f.entry("getter").or_insert_with(|| serde_json::json!({"fields": [name], "fname": name}));
            }
        }
    }
    row
}
