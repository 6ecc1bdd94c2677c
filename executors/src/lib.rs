//! Evaluation of a Vega spec's data pipeline on embedded DataFusion.
//!
//! [`evaluate`] loads each top-level dataset, lowers its transforms one by one
//! (running the queries some of them need to plan, such as `extent`), executes the
//! result and returns rows as the `vegalake eval` contract prints them. A dataset
//! that uses something the server does not evaluate is reported in
//! [`Evaluation::unsupported`] with the reason; a spec error aborts with
//! [`EvalError`], naming the place.

mod env;
pub mod output;

pub use env::SpecEnvironment;

use datafusion::arrow::record_batch::RecordBatch;
use datafusion::logical_expr::{LogicalPlan, LogicalPlanBuilder};
use datafusion::prelude::SessionContext;
use serde_json::{Map, Value as Json};
use std::path::PathBuf;
use thiserror::Error;
use vegalake_connectors::{ConnectorError, SourceOptions};
use vegalake_planner::values::time::Zone;
use vegalake_planner::{Data, Spec};
use vegalake_sql_gen::{lower_transform, LowerError, Step, ROW};

/// Datasets with at most this many rows are kept as JSON for `data()` and the
/// selection helpers of later datasets.
const LOOKUP_ROW_LIMIT: usize = 100_000;

/// How to evaluate.
#[derive(Debug, Clone)]
pub struct EvalOptions {
    /// Relative data URLs resolve here; nothing outside it is read.
    pub data_dir: PathBuf,
    /// The zone of local-time functions and `timeunit`.
    pub zone: Zone,
    /// Signal values applied before evaluation (`--set`).
    pub signals: Map<String, Json>,
    /// Dataset contents applied before evaluation (`--store`).
    pub stores: Map<String, Json>,
}

impl Default for EvalOptions {
    fn default() -> Self {
        EvalOptions { data_dir: PathBuf::from("."), zone: Zone::Utc, signals: Map::new(), stores: Map::new() }
    }
}

/// What a spec's evaluation produced.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Evaluation {
    pub datasets: Map<String, Json>,
    pub signals: Map<String, Json>,
    pub unsupported: Map<String, Json>,
}

impl Evaluation {
    /// The JSON object `vegalake eval` prints.
    pub fn to_json(&self) -> Json {
        serde_json::json!({ "datasets": self.datasets, "signals": self.signals, "unsupported": self.unsupported })
    }
}

/// A spec error: where, and what.
#[derive(Debug, Error)]
#[error("{place}: {message}")]
pub struct EvalError {
    pub place: String,
    pub message: String,
}

/// Why one dataset is not evaluated on the server.
enum Skip {
    Unsupported(String),
    Invalid(String),
}

impl From<LowerError> for Skip {
    fn from(e: LowerError) -> Skip {
        match e {
            LowerError::Invalid(m) => Skip::Invalid(m),
            LowerError::Unsupported(m) => Skip::Unsupported(m),
            LowerError::DataFusion(e) => Skip::Unsupported(format!("planning failed: {e}")),
        }
    }
}

impl From<ConnectorError> for Skip {
    fn from(e: ConnectorError) -> Skip {
        match e {
            ConnectorError::Unsupported(m) => Skip::Unsupported(m),
            ConnectorError::DataFusion(e) => Skip::Unsupported(format!("loading failed: {e}")),
            other => Skip::Invalid(other.to_string()),
        }
    }
}

impl From<datafusion::error::DataFusionError> for Skip {
    fn from(e: datafusion::error::DataFusionError) -> Skip {
        Skip::Unsupported(format!("execution failed: {e}"))
    }
}

/// A new DataFusion session with vegalake's functions registered.
pub fn new_session() -> SessionContext {
    use datafusion::execution::SessionStateBuilder;
    let state = SessionStateBuilder::new().with_default_features().build();
    // Common subexpression elimination mislabels the nullability of the columns it
    // introduces for our coalesce-heavy expressions (DataFusion 55), failing the
    // physical planner's schema check; the lowered plans gain little from it.
    let rules = state.optimizers().iter().filter(|r| r.name() != "common_sub_expression_eliminate").cloned().collect();
    let state = SessionStateBuilder::new_from_existing(state).with_optimizer_rules(rules).build();
    let ctx = SessionContext::new_with_state(state);
    vegalake_sql_gen::register_udfs(&ctx);
    ctx
}

/// Evaluates every top-level dataset and every server-evaluable signal of `spec`.
pub async fn evaluate(spec: &Spec, opts: &EvalOptions) -> Result<Evaluation, EvalError> {
    let ctx = new_session();
    let mut env = SpecEnvironment::new(opts.zone, spec.signals(), &opts.signals);
    let mut out = Evaluation::default();
    let source_opts = SourceOptions { data_dir: opts.data_dir.clone(), zone: opts.zone };
    for (i, data) in spec.data().iter().enumerate() {
        let place = format!("data[{i}] \"{}\"", data.name);
        let data = with_store(data, &opts.stores);
        if let Some(rows) = passthrough_rows(&data) {
            env.set_dataset_rows(&data.name, rows.clone());
            out.datasets.insert(data.name.clone(), Json::Array(rows.into_iter().map(Json::Object).collect()));
            continue;
        }
        let result = match dataset_plan(&ctx, &data, &mut env, &source_opts).await {
            Ok(plan) => collect(&ctx, plan.clone()).await.map(|b| (plan, b)),
            Err(e) => Err(e),
        };
        match result {
            Ok((plan, batches)) => {
                let rows = output::batches_to_rows(&batches);
                if rows.len() <= LOOKUP_ROW_LIMIT {
                    env.set_dataset_rows(&data.name, rows.clone());
                }
                out.datasets.insert(data.name.clone(), Json::Array(rows.into_iter().map(Json::Object).collect()));
                env.set_dataset_plan(&data.name, plan);
            }
            Err(Skip::Unsupported(reason)) => {
                out.unsupported.insert(data.name.clone(), Json::String(reason));
            }
            Err(Skip::Invalid(message)) => return Err(EvalError { place, message }),
        }
    }
    out.signals = env.known_signals();
    Ok(out)
}

/// A Vega-Lite selection store given as values (entries with `fields` and `values`)
/// and no transforms: the dataset is its rows, as vega.js shows them once a
/// selection test has read them.
fn passthrough_rows(data: &Data) -> Option<Vec<Map<String, Json>>> {
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

/// The data entry with a `--store` replacement of its values applied.
fn with_store(data: &Data, stores: &Map<String, Json>) -> Data {
    match stores.get(&data.name) {
        Some(rows) => Data { values: Some(rows.clone()), url: None, source: None, format: None, ..data.clone() },
        None => data.clone(),
    }
}

/// Executes a plan, in the carried input order where there is one.
async fn collect(ctx: &SessionContext, plan: LogicalPlan) -> Result<Vec<RecordBatch>, Skip> {
    let plan = if plan.schema().field_with_unqualified_name(ROW).is_ok() {
        LogicalPlanBuilder::from(plan).sort(vec![vegalake_sql_gen::plan::col(ROW).sort(true, true)])?.build()?
    } else {
        plan
    };
    Ok(ctx.execute_logical_plan(plan).await?.collect().await?)
}

/// The input of a dataset: its own data, or its source(s), or nothing.
async fn input_plan(ctx: &SessionContext, data: &Data, env: &SpecEnvironment, opts: &SourceOptions) -> Result<LogicalPlan, Skip> {
    if let Some(plan) = vegalake_connectors::load(ctx, data, opts).await? {
        return Ok(plan);
    }
    let Some(source) = &data.source else {
        // No data at all: an empty dataset (a generator such as `sequence` may follow).
        return Ok(LogicalPlanBuilder::empty(false).project(vec![datafusion::logical_expr::lit(0_i64).alias(ROW)])?.build()?);
    };
    let mut inputs = Vec::new();
    for name in source.names() {
        match env.dataset_plan(name) {
            Some(p) => inputs.push(p.clone()),
            None => return Err(Skip::Unsupported(format!("source '{name}' is evaluated on the client"))),
        }
    }
    if inputs.len() == 1 {
        return Ok(inputs.remove(0));
    }
    // Concatenated sources: rows of the first, then of the second, ...
    let mut union: Option<LogicalPlanBuilder> = None;
    for (k, p) in inputs.into_iter().enumerate() {
        let p = if p.schema().field_with_unqualified_name(ROW).is_ok() {
            let offset = datafusion::logical_expr::lit((k as i64) << 40);
            vegalake_sql_gen::plan::with_columns(p, vec![(ROW.to_string(), vegalake_sql_gen::plan::col(ROW) + offset)])?
        } else {
            p
        };
        union = Some(match union {
            None => LogicalPlanBuilder::from(p),
            Some(u) => u.union_by_name(p)?,
        });
    }
    Ok(union.expect("at least two sources").build()?)
}

/// Lowers a dataset's input and transforms to one plan.
async fn dataset_plan(ctx: &SessionContext, data: &Data, env: &mut SpecEnvironment, opts: &SourceOptions) -> Result<LogicalPlan, Skip> {
    let mut plan = input_plan(ctx, data, env, opts).await?;
    for (j, t) in data.transforms().iter().enumerate() {
        let at = |s: Skip| match s {
            Skip::Unsupported(m) => Skip::Unsupported(format!("transform[{j}] ({}): {m}", t.kind)),
            Skip::Invalid(m) => Skip::Invalid(format!("transform[{j}] ({}): {m}", t.kind)),
        };
        let mut step = lower_transform(t, plan, env).map_err(|e| at(e.into()))?;
        loop {
            match step {
                Step::Plan { plan: p, signals } => {
                    for (name, value) in signals {
                        env.set_signal(&name, value);
                    }
                    plan = p;
                    break;
                }
                Step::Query { query, resume } => {
                    let batches = collect(ctx, query).await.map_err(at)?;
                    step = resume(batches, env).map_err(|e| at(e.into()))?;
                }
            }
        }
    }
    Ok(plan)
}
