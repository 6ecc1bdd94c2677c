//! One evaluation of a spec's server half: the task graph walked in order.
//!
//! Every dataset is a chain of nodes: its input (a loaded file or inline values, or
//! its sources), then one node per transform. Each node's [`Fingerprint`] hashes its
//! definition with its parent's fingerprint, the values of the signals it reads and
//! the fingerprints of the datasets it reads, so a node is a pure function of its
//! fingerprint. Three kinds of node results go through the runtime's [`TaskCache`]:
//! loaded inputs, the queries some transforms run while planning (`extent`), and
//! the materialized rows of datasets that someone needs. Everything else is a plan,
//! rebuilt on each pass (microseconds) and executed only as part of a needed result.

use crate::brush_index::{BrushIndexes, CubeRows};
use crate::cache::{Fingerprint, TaskCache};
use crate::engine::{EngineError, Executed, LocalEngine, QueryEngine};
use crate::env::SpecEnvironment;
use crate::{output, ErrorKind, EvalError};
use datafusion::arrow::record_batch::RecordBatch;
use datafusion::logical_expr::{LogicalPlan, LogicalPlanBuilder};
use datafusion::prelude::SessionContext;
use serde_json::{Map, Value as Json};
use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use vegalake_connectors::{ConnectorError, ScanMetrics, SourceOptions, TableStats};
use vegalake_planner::graph::DatasetNode;
use vegalake_planner::{Data, SpecGraph, Var};
use vegalake_sql_gen::{lower_transform, LowerError, Step, ROW};

/// Datasets with at most this many rows are kept as JSON for `data()` and the
/// selection helpers of later datasets.
const LOOKUP_ROW_LIMIT: usize = 100_000;

/// Tables up to this fraction of the cache's bound are pinned in memory (Parquet
/// grows several times when decoded to Arrow).
const PIN_TABLE_FRACTION: usize = 8;

/// The session that opens sources and plans, the engine that runs the plans, and
/// the task cache shared by every chart it serves.
pub struct Runtime {
    ctx: SessionContext,
    engine: Arc<dyn QueryEngine>,
    cache: Arc<TaskCache>,
    brush_indexes: Arc<BrushIndexes>,
    /// What brush answers run above their aggregates, planned once.
    planned_exprs: crate::in_process::PlannedExprs,
}

/// The default bound of a runtime's cache: 512 MiB.
pub const DEFAULT_CACHE_BYTES: usize = 512 << 20;

impl Runtime {
    pub fn new(cache_bytes: usize) -> Runtime {
        Runtime::with_session(crate::new_session(), cache_bytes)
    }

    /// A runtime over a session of the caller's (one from [`crate::new_session`]
    /// or [`crate::new_session_without_pushdown`], which register our functions).
    pub fn with_session(ctx: SessionContext, cache_bytes: usize) -> Runtime {
        Runtime {
            ctx,
            engine: Arc::new(LocalEngine::default()),
            cache: Arc::new(TaskCache::new(cache_bytes)),
            brush_indexes: Arc::default(),
            planned_exprs: Default::default(),
        }
    }

    /// A runtime whose queries run on `engine` (see [`crate::engine::connect`]).
    /// A `memory_limit` bounds the memory the embedded engine's queries hold
    /// together (see [`crate::new_session_with_memory_limit`]): past it a query
    /// fails with [`ErrorKind::Memory`] instead of growing the process. Remote
    /// engines bound their own memory.
    pub fn with_engine(engine: Arc<dyn QueryEngine>, cache_bytes: usize, memory_limit: Option<usize>) -> Runtime {
        let ctx = memory_limit.map_or_else(crate::new_session, crate::new_session_with_memory_limit);
        Runtime { ctx, engine, cache: Arc::new(TaskCache::new(cache_bytes)), brush_indexes: Arc::default(), planned_exprs: Default::default() }
    }

    /// The brush indexes' switch and counters.
    pub fn brush_indexes(&self) -> &BrushIndexes {
        &self.brush_indexes
    }

    pub fn cache(&self) -> &TaskCache {
        &self.cache
    }

    /// The columns a data URL gives specs (normalized types, internal columns left
    /// out), read from the table's metadata (Parquet footers, the Delta log) without
    /// reading rows: what Python's lake tables show Altair for type inference.
    pub async fn source_schema(&self, url: &str, source: &SourceOptions) -> Result<datafusion::arrow::datatypes::Schema, EvalError> {
        let data: Data =
            serde_json::from_value(serde_json::json!({"name": "source", "url": url})).map_err(|e| EvalError::new(ErrorKind::Spec, url, e.to_string()))?;
        let fail = |e: ConnectorError| Skip::from(e).at(url);
        let opened = vegalake_connectors::open(&self.ctx, &data, source).await.map_err(fail)?;
        let loaded = vegalake_connectors::load(&self.ctx, &data, opened.as_ref(), source).await.map_err(fail)?;
        let plan = loaded.ok_or_else(|| EvalError::new(ErrorKind::Spec, url, "no data to load"))?.plan;
        let fields: Vec<_> = plan.schema().fields().iter().filter(|f| !f.name().starts_with("__vl_")).cloned().collect();
        Ok(datafusion::arrow::datatypes::Schema::new(fields))
    }
}

impl Default for Runtime {
    fn default() -> Self {
        Runtime::new(DEFAULT_CACHE_BYTES)
    }
}

/// The inputs of a pass besides the spec.
pub struct PassOptions<'a> {
    pub source: SourceOptions,
    /// Signal values that replace the spec's (client changes, `--set`).
    pub signals: &'a HashMap<Var, Json>,
    /// Dataset contents that replace the spec's (selection stores, `--store`).
    pub stores: &'a HashMap<Var, Json>,
    /// How many transforms of a dataset the server may run at most (the rest runs
    /// in the browser): [`SpecGraph::interaction_cuts`], for charts that work
    /// without a server.
    pub cuts: Option<&'a HashMap<Var, usize>>,
    /// Whether datasets kept for interactions are computed when a query first
    /// reads them, with its columns (`crate::pinned`; the embedded engine
    /// only), rather than whole as the pass reaches them (rows that SQL and
    /// remote engines carry as `VALUES`).
    pub lazy_pins: bool,
    /// A chart's transforms lowered in its passes before, reused where their
    /// fingerprint and input are the same ([`crate::lowered_steps`]).
    pub(crate) steps: Option<&'a crate::lowered_steps::LoweredSteps>,
}

/// A dataset's rows, as Arrow and as JSON.
#[derive(Debug)]
pub struct Materialized {
    pub batches: Vec<RecordBatch>,
    pub rows: Vec<Map<String, Json>>,
    /// What computing them scanned (when they were computed, not when reused).
    pub scans: ScanMetrics,
}

impl Materialized {
    /// Rows known without a query (a selection store, an empty store).
    fn from_rows(rows: Vec<Map<String, Json>>) -> Materialized {
        Materialized { batches: Vec::new(), rows, scans: ScanMetrics::default() }
    }
}

/// What a pass did with one dataset.
#[derive(Debug)]
pub struct DatasetOutcome {
    pub var: Var,
    /// How many transforms the server evaluated, `None` when it does not even
    /// evaluate the input.
    pub server_transforms: Option<usize>,
    pub total_transforms: usize,
    /// Why the server stopped before the end.
    pub reason: Option<String>,
    /// The fingerprint of the server's part.
    pub fingerprint: Option<Fingerprint>,
    /// The rows of the server's part, when someone needed them.
    pub result: Option<Arc<Materialized>>,
    /// The server's part as a plan (unoptimized), for SQL engines.
    pub plan: Option<LogicalPlan>,
    pub client_owned: bool,
    /// The tables (Parquet datasets, Delta tables) its input reads.
    pub tables: Vec<TableStats>,
    /// The bytes of the in-memory tables its input reads.
    pub in_memory_bytes: u64,
    /// What the queries of this dataset scanned: planning queries and the result.
    pub scans: ScanMetrics,
}

impl DatasetOutcome {
    /// How many transforms the server runs for the client: none of a dataset the
    /// client owns (a selection store), whatever the pass computed of it.
    pub fn server_part(&self) -> Option<usize> {
        if self.client_owned {
            None
        } else {
            self.server_transforms
        }
    }

    /// True when the server evaluated the whole pipeline.
    pub fn complete(&self) -> bool {
        self.server_transforms == Some(self.total_transforms)
    }
}

/// The result of one pass.
pub struct Pass {
    pub datasets: Vec<DatasetOutcome>,
    pub env: SpecEnvironment,
    /// Signals defined by server transforms (`extent`'s and `bin`'s `signal`).
    pub produced: Vec<(Var, Json)>,
}

impl Pass {
    pub fn dataset(&self, var: &Var) -> Option<&DatasetOutcome> {
        self.datasets.iter().find(|d| &d.var == var)
    }

    /// What the datasets that read tables scanned in this pass.
    pub fn scans(&self) -> Vec<DatasetScan> {
        self.datasets
            .iter()
            .filter(|d| !d.tables.is_empty())
            .map(|d| DatasetScan {
                dataset: d.var.name.clone(),
                scope: d.var.scope.clone(),
                summary: scan_summary(&d.tables, &d.scans),
                tables: d.tables.clone(),
                scans: d.scans,
            })
            .collect()
    }
}

/// What one dataset's queries scanned of the tables it reads (`--explain`).
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct DatasetScan {
    pub dataset: String,
    /// The group mark scope it is declared in (empty at the top level).
    pub scope: Vec<u32>,
    pub tables: Vec<TableStats>,
    pub scans: ScanMetrics,
    /// The same as one line.
    pub summary: String,
}

/// What a pass has done so far.
#[derive(Default)]
struct Done {
    datasets: Vec<DatasetOutcome>,
    produced: Vec<(Var, Json)>,
}

impl Done {
    fn dataset(&self, var: &Var) -> Option<&DatasetOutcome> {
        self.datasets.iter().find(|d| &d.var == var)
    }
}

/// A brush index's answer: the plan's rows, or the brushed aggregate's rows when
/// the nodes above it need the engine.
enum Answer {
    Rows(RecordBatch),
    Aggregate(RecordBatch),
}

/// Why a dataset (or the rest of it) is left to the client, or is wrong.
enum Skip {
    Unsupported(String),
    Invalid(ErrorKind, String),
}

impl Skip {
    /// The evaluation's error at `place` (a failure where only unsupported parts
    /// were expected is the data's).
    fn at(self, place: &str) -> EvalError {
        match self {
            Skip::Unsupported(m) => EvalError::new(ErrorKind::Data, place, m),
            Skip::Invalid(kind, m) => EvalError::new(kind, place, m),
        }
    }
}

impl From<LowerError> for Skip {
    fn from(e: LowerError) -> Skip {
        match e {
            LowerError::Invalid(m) => Skip::Invalid(ErrorKind::Spec, m),
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
            ConnectorError::Forbidden(m) => Skip::Invalid(ErrorKind::Forbidden, m),
            other => Skip::Invalid(ErrorKind::Data, other.to_string()),
        }
    }
}

/// The local engine's failures leave the dataset to the client, as any local
/// failure does; a remote engine's (unreachable, timed out) abort the evaluation:
/// the client cannot read a lake's tables itself.
impl From<EngineError> for Skip {
    fn from(e: EngineError) -> Skip {
        match e {
            EngineError::Local(e) => e.into(),
            timeout @ EngineError::Timeout { .. } => Skip::Invalid(ErrorKind::Timeout, timeout.to_string()),
            remote => Skip::Invalid(ErrorKind::Engine, remote.to_string()),
        }
    }
}

/// A local failure leaves the dataset to the client, except running out of the
/// runtime's memory: the client could not hold what the server could not.
impl From<datafusion::error::DataFusionError> for Skip {
    fn from(e: datafusion::error::DataFusionError) -> Skip {
        match e.find_root() {
            datafusion::error::DataFusionError::ResourcesExhausted(m) => Skip::Invalid(ErrorKind::Memory, format!("over the runtime's memory limit: {m}")),
            _ => Skip::Unsupported(format!("execution failed: {e}")),
        }
    }
}

/// A table scan with the data entry's `format.parse` applied: the connectors parse
/// text formats as they read them, but a table's columns are typed already, so
/// only a column whose type differs from the one asked for is converted, with the
/// expression function vega's parser uses (Vega-Lite asks `{"date": "date"}` of
/// every temporal field: a frame's date strings become dates as in vega.js).
fn parse_scan(mut plan: LogicalPlan, data: &Data, env: &crate::ScopedEnvironment<'_>) -> Result<LogicalPlan, Skip> {
    use datafusion::arrow::datatypes::DataType;
    let Some(Json::Object(parse)) = data.format.as_ref().and_then(|f| f.get("parse")) else { return Ok(plan) };
    for (field, ty) in parse {
        let Some(ty) = ty.as_str() else { continue };
        let Ok(column) = plan.schema().field_with_unqualified_name(field) else { continue };
        let typed = match column.data_type() {
            DataType::Timestamp(..) => ty == "date" || ty.starts_with("date:") || ty.starts_with("utc:"),
            DataType::Float64 => matches!(ty, "number" | "integer"),
            DataType::Boolean => ty == "boolean",
            DataType::Utf8 => ty == "string",
            _ => false,
        };
        let read = format!("datum[{}]", Json::String(field.clone()));
        let expr = match ty.split_once(':') {
            _ if typed => continue,
            Some(("date", pattern)) => format!("timeParse({read}, {})", Json::String(unquote(pattern).into())),
            Some(("utc", pattern)) => format!("utcParse({read}, {})", Json::String(unquote(pattern).into())),
            None if ty == "date" => format!("toDate({read})"),
            None if matches!(ty, "number" | "integer") => format!("toNumber({read})"),
            None if ty == "boolean" => format!("toBoolean({read})"),
            None if ty == "string" => format!("toString({read})"),
            _ => return Err(Skip::Invalid(ErrorKind::Spec, format!("format.parse.{field}: unknown type '{ty}'"))),
        };
        let formula: vegalake_planner::Transform = serde_json::from_value(serde_json::json!({"type": "formula", "expr": expr, "as": field}))
            .map_err(|e| Skip::Invalid(ErrorKind::Spec, e.to_string()))?;
        match lower_transform(&formula, plan, env)? {
            Step::Plan { plan: parsed, .. } => plan = parsed,
            Step::Query { .. } => return Err(Skip::Unsupported(format!("format.parse.{field}: needs a query"))),
        }
    }
    Ok(plan)
}

/// A d3 pattern as `format.parse` writes it, quoted or not.
fn unquote(pattern: &str) -> &str {
    pattern.trim().trim_matches('\'').trim_matches('"')
}

/// Decides which datasets a pass materializes (besides those other datasets read).
pub type Want<'a> = &'a (dyn Fn(&Var, Fingerprint) -> bool + Sync);

impl Runtime {
    /// Evaluates the server half of a spec: every dataset as far as the server can,
    /// materializing those `want` asks for.
    pub async fn run_pass(&self, graph: &SpecGraph, opts: &PassOptions<'_>, want: Want<'_>) -> Result<Pass, EvalError> {
        let mut env = SpecEnvironment::new(opts.source.zone, graph, opts.signals);
        let read_by_others = rows_read_by_others(graph);
        let pinned = pinned_sources(graph);
        let mut done = Done::default();
        for node in &graph.datasets {
            let outcome = self.run_dataset(graph, node, &mut env, &mut done, opts, want, &read_by_others).await?;
            let pin = pinned.contains(&node.var) && outcome.complete() && self.pinnable(&outcome);
            // A warehouse answers each update with its predicate: its rows stay there.
            let plan = env.dataset_plan_of(&node.var).filter(|p| !crate::engine::reads_warehouse(p));
            if let (true, Some(fp), Some(plan)) = (pin, outcome.fingerprint, plan) {
                let scan = if opts.lazy_pins && *self.engine.url() == crate::engine::EngineUrl::Local {
                    let name = format!("{}{fp}", crate::brush_index::PINNED_PREFIX);
                    crate::pinned::PinnedTable::scan(name, fp, plan.clone(), self.ctx.clone(), self.engine.clone(), self.cache.clone()).map_err(Skip::from)
                } else {
                    self.pinned_scan(fp, plan.clone()).await
                };
                env.set_dataset_plan(&node.var, scan.map_err(|s| s.at(&node.var.to_string()))?);
            }
            done.datasets.push(outcome);
        }
        Ok(Pass { datasets: done.datasets, env, produced: done.produced })
    }

    #[allow(clippy::too_many_arguments)]
    async fn run_dataset(
        &self,
        graph: &SpecGraph,
        node: &DatasetNode,
        env: &mut SpecEnvironment,
        pass: &mut Done,
        opts: &PassOptions<'_>,
        want: Want<'_>,
        read_by_others: &HashSet<Var>,
    ) -> Result<DatasetOutcome, EvalError> {
        let var = &node.var;
        let mut outcome = DatasetOutcome {
            var: var.clone(),
            server_transforms: None,
            total_transforms: node.data.transforms().len(),
            reason: None,
            fingerprint: None,
            result: None,
            plan: None,
            client_owned: node.client_owned,
            tables: Vec::new(),
            in_memory_bytes: 0,
            scans: ScanMetrics::default(),
        };
        if node.facet || graph.in_instanced_scope(node.scope) {
            outcome.reason = Some("inside a group mark instanced per facet or datum, which only the client evaluates".into());
            return Ok(outcome);
        }
        let place = place_of(graph, node);
        let data = with_store(&node.data, opts.stores.get(var));
        if let Some(rows) = crate::passthrough_rows(&data) {
            let fp = Fingerprint::builder("rows").add_json(&Json::Array(rows.iter().cloned().map(Json::Object).collect())).finish();
            env.set_dataset_rows(var, rows.clone());
            outcome.server_transforms = Some(0);
            outcome.fingerprint = Some(fp);
            outcome.result = Some(Arc::new(Materialized::from_rows(rows)));
            return Ok(outcome);
        }
        let no_rows = data.url.is_none() && data.source.is_none() && data.values.as_ref().is_none_or(|v| v.as_array().is_some_and(Vec::is_empty));
        if node.written_at_start {
            outcome.reason = Some("its rows are written by the client when the chart starts (modify in a signal's update)".into());
            return Ok(outcome);
        }
        if node.client_owned && no_rows {
            // An empty selection store: whatever its transforms (a `collect` sorted by
            // a field no row has yet), it has no rows.
            env.set_dataset_rows(var, Vec::new());
            outcome.server_transforms = Some(outcome.total_transforms);
            outcome.fingerprint = Some(Fingerprint::builder("rows").add_json(&Json::Array(Vec::new())).finish());
            outcome.result = Some(Arc::new(Materialized::from_rows(Vec::new())));
            return Ok(outcome);
        }
        let (mut plan, mut fp, server_only_input) = match self.input(node, &data, env, pass, opts).await {
            Ok(input) => {
                outcome.tables = input.tables;
                outcome.in_memory_bytes = input.in_memory_bytes;
                (input.plan, input.fingerprint, input.server_only)
            }
            Err(Skip::Unsupported(reason)) => {
                outcome.reason = Some(reason);
                return Ok(outcome);
            }
            Err(Skip::Invalid(kind, message)) => return Err(EvalError { kind, place, message }),
        };
        let mut done = 0;
        let cut = opts.cuts.and_then(|c| c.get(var)).copied();
        for (j, t) in data.transforms().iter().enumerate() {
            let at = |m: String| format!("transform[{j}] ({}): {m}", t.kind);
            if cut.is_some_and(|c| j >= c) {
                outcome.reason = Some(at("reads an interaction (a selection or a bound signal), so the browser runs it from here".into()));
                break;
            }
            let next_fp = transform_fingerprint(fp, t, node, j, env, pass);
            match self.lower_step(t, plan.clone(), env, node.scope, next_fp, &mut outcome.scans, opts.steps).await {
                Ok(Step::Plan { plan: p, signals }) => {
                    for (name, value) in signals {
                        let signal = Var::signal(&name, &var.scope);
                        env.set_signal(&signal, value.clone());
                        pass.produced.push((signal, value));
                    }
                    plan = p;
                    fp = next_fp;
                    done += 1;
                }
                Ok(Step::Query { .. }) => unreachable!("lower resolves queries"),
                Err(Skip::Unsupported(m)) => {
                    outcome.reason = Some(at(m));
                    break;
                }
                Err(Skip::Invalid(kind, m)) => return Err(EvalError { kind, place, message: at(m) }),
            }
        }
        if done == 0 && done < outcome.total_transforms && !server_only_input {
            // Nothing to gain from loading it on the server: the client reads it itself.
            return Ok(outcome);
        }
        outcome.server_transforms = Some(done);
        outcome.fingerprint = Some(fp);
        outcome.plan = Some(plan.clone());
        if outcome.complete() {
            env.set_dataset_plan(var, plan.clone());
        }
        if want(var, fp) || (outcome.complete() && read_by_others.contains(var)) {
            let result = self.materialize(fp, plan).await.map_err(|s| s.at(&place))?;
            outcome.scans.add(&result.scans);
            if !result.scans.is_empty() {
                log::info!("{place}: {}", scan_summary(&outcome.tables, &result.scans));
            }
            if result.rows.len() <= LOOKUP_ROW_LIMIT {
                env.set_dataset_rows(var, result.rows.clone());
            }
            outcome.result = Some(result);
        }
        Ok(outcome)
    }

    /// A dataset's input: its own data (values or url) or its sources.
    async fn input(&self, node: &DatasetNode, data: &Data, env: &SpecEnvironment, pass: &Done, opts: &PassOptions<'_>) -> Result<Input, Skip> {
        if data.url.is_some() || data.values.is_some() {
            let source = match vegalake_connectors::open(&self.ctx, data, &opts.source).await {
                Err(vegalake_connectors::ConnectorError::Forbidden(why))
                    if opts.source.access.forbidden_files == vegalake_connectors::ForbiddenFiles::LeftToTheBrowser
                        && vegalake_connectors::browser_loads(data) =>
                {
                    return Err(Skip::Unsupported(format!("{why}; the browser loads it itself")));
                }
                opened => opened?,
            };
            let mut b = Fingerprint::builder("load");
            b.add_json(data.values.as_ref().unwrap_or(&Json::Null));
            b.add_json(data.format.as_ref().unwrap_or(&Json::Null));
            b.add(&source.as_ref().map(|s| s.identity().to_string())).add(&opts.source.zone.name());
            let fp = b.finish();
            let ctx = &self.ctx;
            let loaded = self
                .cache
                .get_or_compute(fp, || async {
                    let loaded = vegalake_connectors::load(ctx, data, source.as_ref(), &opts.source)
                        .await?
                        .ok_or_else(|| Skip::Invalid(ErrorKind::Data, "no data to load".into()))?;
                    let bytes = plan_bytes(&loaded.plan);
                    Ok::<_, Skip>((loaded, bytes))
                })
                .await?;
            let server_only = source.as_ref().is_some_and(|s| !s.client_readable());
            let mut plan = loaded.plan.clone();
            if source.as_ref().is_some_and(|s| s.file_format().is_none()) {
                plan = parse_scan(plan, data, &env.scope(node.scope))?;
            }
            let tables = loaded.table.iter().cloned().collect();
            let in_memory_bytes = source.as_ref().map_or(0, |s| s.in_memory_bytes());
            return Ok(Input { plan, fingerprint: fp, server_only, tables, in_memory_bytes });
        }
        if node.sources.is_empty() {
            let plan = LogicalPlanBuilder::empty(false).project(vec![datafusion::logical_expr::lit(0_i64).alias(ROW)])?.build()?;
            return Ok(Input { plan, fingerprint: Fingerprint::builder("empty").finish(), server_only: false, tables: Vec::new(), in_memory_bytes: 0 });
        }
        let mut b = Fingerprint::builder("sources");
        let mut inputs = Vec::new();
        let (mut tables, mut in_memory_bytes) = (Vec::new(), 0);
        for source in &node.sources {
            let done = pass.dataset(source).filter(|o| o.complete());
            match (done.and_then(|o| o.fingerprint), env.dataset_plan_of(source)) {
                (Some(fp), Some(p)) => {
                    b.add(&fp);
                    inputs.push(p.clone());
                    tables.extend(done.into_iter().flat_map(|o| o.tables.iter().cloned()));
                    in_memory_bytes += done.map_or(0, |o| o.in_memory_bytes);
                }
                _ => return Err(Skip::Unsupported(format!("source '{}' is evaluated on the client", source.name))),
            }
        }
        Ok(Input { plan: concatenate(inputs)?, fingerprint: b.finish(), server_only: false, tables, in_memory_bytes })
    }

    /// Lowers one transform as [`Runtime::lower`] does, or takes it from `steps`
    /// (a chart's earlier passes) where it was lowered from the same input.
    #[allow(clippy::too_many_arguments)] // lower's arguments, and the steps
    async fn lower_step(
        &self,
        t: &vegalake_planner::Transform,
        input: LogicalPlan,
        env: &SpecEnvironment,
        scope: usize,
        fp: Fingerprint,
        scans: &mut ScanMetrics,
        steps: Option<&crate::lowered_steps::LoweredSteps>,
    ) -> Result<Step, Skip> {
        let Some(steps) = steps else { return self.lower(t, input, env, scope, fp, scans).await };
        if let Some(step) = steps.get(fp, &input) {
            scans.add(&step.scans);
            return Ok(Step::Plan { plan: step.plan.clone(), signals: step.signals.clone() });
        }
        let mut step_scans = ScanMetrics::default();
        let lowered = self.lower(t, input.clone(), env, scope, fp, &mut step_scans).await;
        scans.add(&step_scans);
        if let Ok(Step::Plan { plan, signals }) = &lowered {
            steps.keep(fp, crate::lowered_steps::LoweredStep { input, plan: plan.clone(), signals: signals.clone(), scans: step_scans });
        }
        lowered
    }

    /// Lowers one transform, running (through the cache) the queries it needs.
    async fn lower(
        &self,
        t: &vegalake_planner::Transform,
        plan: LogicalPlan,
        env: &SpecEnvironment,
        scope: usize,
        fp: Fingerprint,
        scans: &mut ScanMetrics,
    ) -> Result<Step, Skip> {
        let scoped = env.scope(scope);
        let mut step = lower_transform(t, plan, &scoped)?;
        let mut round = 0u32;
        loop {
            match step {
                Step::Plan { .. } => return Ok(step),
                Step::Query { query, resume } => {
                    let key = Fingerprint::builder("query").add(&fp).add(&round).finish();
                    let result = self.cached_query(key, query).await?;
                    scans.add(&result.scans);
                    step = resume(result.batches.clone(), &scoped)?;
                    round += 1;
                }
            }
        }
    }

    /// Whether a stable source is small enough to keep in memory. A large table is
    /// better read again with each interaction's predicate pushed to its scan
    /// (partitions and row groups pruned) than copied whole into memory.
    fn pinnable(&self, outcome: &DatasetOutcome) -> bool {
        // In-memory tables count as they are: a copy of one would double them (and
        // a brush index reads them without a copy).
        let table_bytes: u64 = outcome.tables.iter().map(|t| t.bytes).sum::<u64>() + outcome.in_memory_bytes;
        table_bytes <= (self.cache.capacity_bytes() / PIN_TABLE_FRACTION) as u64
    }

    /// A scan of a dataset's rows kept in memory (Arrow only), computed once per
    /// fingerprint: what its interactive dependents read on every update.
    async fn pinned_scan(&self, fp: Fingerprint, plan: LogicalPlan) -> Result<LogicalPlan, Skip> {
        let result = self.cached_query(Fingerprint::builder("pinned").add(&fp).finish(), plan).await?;
        let Some(first) = result.batches.first() else { return Err(Skip::Unsupported("no rows to pin".into())) };
        // Named by its fingerprint: a brush index recognizes stable rows by it.
        Ok(crate::engine::memory_scan(format!("{}{fp}", crate::brush_index::PINNED_PREFIX), first.schema(), &result.batches)?)
    }

    /// The rows of `plan` as Arrow, through the cache under `key`.
    async fn cached_query(&self, key: Fingerprint, plan: LogicalPlan) -> Result<Arc<Executed>, Skip> {
        self.cache
            .get_or_compute(key, || async {
                let executed = self.collect(plan, Rows::ForPlanning).await?;
                let bytes = batches_bytes(&executed.batches);
                Ok::<_, Skip>((executed, bytes))
            })
            .await
    }

    /// `plan`'s rows answered from a brush index ([`crate::brush_index`]), its cube
    /// built on first use; `None` when no index answers it (the plan runs as it is).
    async fn brush_index_answer(&self, plan: &LogicalPlan) -> Result<Option<Executed>, Skip> {
        let indexes = &self.brush_indexes;
        let cube = match crate::brush_index::find(plan) {
            // In process only: on Spark the answer over the cube (sent as VALUES)
            // returned the cube's rows unmerged (vl_crossfilter_hist, 693 rows for
            // 11), and a remote engine would receive the cube with every brush.
            Ok(Some(cube)) if indexes.enabled() && *self.engine.url() == crate::engine::EngineUrl::Local => cube,
            Ok(_) => return Ok(None),
            Err(why) => {
                log::debug!("{why}");
                return Ok(None);
            }
        };
        let Some(rows) = self.cube_rows(&cube).await? else { return Ok(None) };
        let answer = match self.answer_in_process(&cube, &rows, &in_input_order(plan.clone())?) {
            Ok(answer) => answer,
            Err(e) => {
                log::debug!("no brush index: {e}");
                return Ok(None);
            }
        };
        indexes.count_answer(matches!(answer, Answer::Rows(_)));
        Ok(Some(match answer {
            Answer::Rows(batch) => Executed { batches: vec![batch], scans: ScanMetrics::default() },
            // The nodes above the aggregate need the engine: over the answer's rows.
            Answer::Aggregate(rows) => {
                let scan = crate::engine::memory_scan("__vl_cube_answer", rows.schema(), &[rows])?;
                self.collect(cube.replace(plan.clone(), scan)?, Rows::OfDataset).await?
            }
        }))
    }

    /// The brushed aggregate from the cube's rows, and the plan's rows from it
    /// where the nodes above it run in process ([`crate::in_process`]).
    fn answer_in_process(&self, cube: &crate::brush_index::Cube, rows: &CubeRows, plan: &LogicalPlan) -> datafusion::error::Result<Answer> {
        let state = self.ctx.state_ref();
        let state = state.read();
        let aggregate = rows.answer(&state, &cube.predicate, &cube.merges, cube.output())?;
        Ok(match crate::in_process::run(&state, &self.planned_exprs, plan, &cube.target, aggregate.clone()) {
            Some(Ok(batch)) => Answer::Rows(batch),
            Some(Err(e)) => {
                log::debug!("the brush index's answer goes to the engine: {e}");
                Answer::Aggregate(aggregate)
            }
            None => Answer::Aggregate(aggregate),
        })
    }

    /// A cube's rows if they are built. Else the cube starts building (once): in
    /// the background by default, the plan answering meanwhile (`None`), or
    /// first ([`crate::brush_index::BrushIndexes::set_background`]). A cube past
    /// [`crate::brush_index::CUBE_ROW_LIMIT`] rows, or whose build failed, is
    /// refused: its plans answer from then on.
    async fn cube_rows(&self, cube: &crate::brush_index::Cube) -> Result<Option<Arc<CubeRows>>, Skip> {
        let key = Fingerprint::builder("cube").add(&cube.key()).finish();
        let indexes = &self.brush_indexes;
        if indexes.is_refused(key) {
            return Ok(None);
        }
        if let Some(rows) = indexes.cube(key) {
            return Ok(Some(rows));
        }
        let Some(building) = indexes.start_building(key) else { return Ok(None) };
        let build = building.build(cube, self.ctx.clone(), self.engine.clone())?;
        if indexes.in_background() {
            tokio::spawn(build);
            return Ok(None);
        }
        build.await;
        Ok(indexes.cube(key))
    }

    /// How many rows a dataset's server part has (`fp` its fingerprint), by a
    /// count on the engine: Parquet and Delta answer it from metadata.
    pub(crate) async fn count_rows(&self, fp: Fingerprint, plan: LogicalPlan, place: &str) -> Result<usize, EvalError> {
        use datafusion::functions_aggregate::count::count;
        let counted = LogicalPlanBuilder::from(plan)
            .aggregate(Vec::<datafusion::logical_expr::Expr>::new(), vec![count(datafusion::logical_expr::lit(1_i64)).alias("n")])
            .and_then(LogicalPlanBuilder::build)
            .map_err(|e| Skip::from(e).at(place))?;
        let key = Fingerprint::builder("count").add(&fp).finish();
        let result = self.cached_query(key, counted).await.map_err(|s| s.at(place))?;
        let n = result.batches.first().and_then(|b| b.column(0).as_any().downcast_ref::<datafusion::arrow::array::Int64Array>()).map(|a| a.value(0));
        Ok(n.unwrap_or(0).max(0) as usize)
    }

    /// Executes a plan on the engine, in the carried input order where there is
    /// one, with what its scans read.
    async fn collect(&self, plan: LogicalPlan, rows: Rows) -> Result<Executed, Skip> {
        let start = std::time::Instant::now();
        let plan = in_input_order(plan)?;
        let executed = if crate::engine::reads_warehouse(&plan) {
            let dataset_rows = matches!(rows, Rows::OfDataset);
            crate::engine::execute_on_warehouse(&self.ctx, plan, dataset_rows, self.engine.timeout()).await?
        } else {
            self.engine.execute(&self.ctx, plan).await?
        };
        if log::log_enabled!(log::Level::Info) {
            let rows: usize = executed.batches.iter().map(RecordBatch::num_rows).sum();
            log::info!(
                "{} returned {rows} rows, {} bytes as Arrow IPC, in {:.1} ms{}",
                self.engine.url(),
                ipc_bytes(&executed.batches),
                start.elapsed().as_secs_f64() * 1e3,
                if executed.scans.remote_queries > 0 || matches!(self.engine.url(), crate::engine::EngineUrl::Local) { "" } else { " (ran locally)" }
            );
        }
        Ok(executed)
    }

    async fn materialize(&self, fp: Fingerprint, plan: LogicalPlan) -> Result<Arc<Materialized>, Skip> {
        let key = Fingerprint::builder("result").add(&fp).finish();
        self.cache
            .get_or_compute(key, || async {
                let Executed { batches, scans } = match self.brush_index_answer(&plan).await? {
                    Some(answered) => answered,
                    None => self.collect(plan, Rows::OfDataset).await?,
                };
                let rows = output::batches_to_rows(&batches);
                let bytes = batches_bytes(&batches) + rows_bytes(&rows);
                Ok::<_, Skip>((Materialized { batches, rows, scans }, bytes))
            })
            .await
    }
}

/// Where a dataset is declared, for error messages.
fn place_of(graph: &SpecGraph, node: &DatasetNode) -> String {
    let index = graph.datasets.iter().filter(|d| d.scope == node.scope && !d.facet).position(|d| d.var == node.var).unwrap_or(0);
    if node.var.scope.is_empty() {
        format!("data[{index}] \"{}\"", node.var.name)
    } else {
        format!("group {:?} data[{index}] \"{}\"", node.var.scope, node.var.name)
    }
}

/// A transform's fingerprint: its parent's, its definition, and what it reads.
fn transform_fingerprint(
    parent: Fingerprint,
    t: &vegalake_planner::Transform,
    node: &DatasetNode,
    j: usize,
    env: &SpecEnvironment,
    pass: &Done,
) -> Fingerprint {
    let reads = &node.transforms[j];
    let mut b = Fingerprint::builder("transform");
    b.add(&parent).add_json(&serde_json::to_value(t).unwrap_or_default());
    // A projection's constants (its type, its center) are not signals: its
    // definition keys what `geopoint` computes (two charts of one dataset and
    // different projections shared a cached answer).
    if let Some(name) = t.param("projection").and_then(Json::as_str) {
        b.add_json(&vegalake_sql_gen::Environment::projection(&env.scope(node.scope), name).unwrap_or_default());
    }
    for s in &reads.signals {
        b.add(&s.name).add_json(&env.signal_value(s).unwrap_or(Json::String("\u{0}client".into())));
    }
    for d in &reads.datasets {
        b.add(&d.name).add(&pass.dataset(d).and_then(|o| o.fingerprint));
    }
    b.finish()
}

/// Datasets that do not change with the client's input but are the sources of
/// datasets that do: kept in memory, so an interaction recomputes only from there.
fn pinned_sources(graph: &SpecGraph) -> HashSet<Var> {
    let mut driven: HashSet<Var> = HashSet::new();
    for d in &graph.datasets {
        let reads = d.transforms.iter().chain([&d.input]);
        let interactive = reads.clone().flat_map(|r| &r.signals).any(|v| graph.is_client_driven(v))
            || reads.flat_map(|r| &r.datasets).any(|v| graph.is_client_owned(v) || driven.contains(v))
            || d.sources.iter().any(|v| driven.contains(v) || graph.is_client_owned(v));
        if interactive {
            driven.insert(d.var.clone());
        }
    }
    graph.datasets.iter().filter(|d| driven.contains(&d.var)).flat_map(|d| d.sources.iter()).filter(|s| !driven.contains(*s)).cloned().collect()
}

/// Datasets whose rows (not only plans) other datasets or signals read.
fn rows_read_by_others(graph: &SpecGraph) -> HashSet<Var> {
    let transform_reads = graph.datasets.iter().flat_map(|d| d.transforms.iter().chain([&d.input]));
    let signal_reads = graph.signals.iter().map(|s| &s.reads);
    transform_reads.chain(signal_reads).flat_map(|r| r.datasets.iter().cloned()).collect()
}

/// The data entry with a store replacement of its values applied.
pub(crate) fn with_store(data: &Data, store: Option<&Json>) -> Data {
    match store {
        Some(rows) => Data { values: Some(rows.clone()), url: None, source: None, format: None, ..data.clone() },
        None => data.clone(),
    }
}

/// What a query's rows are for: a dataset's own rows (what the chart holds), or
/// the runtime's planning, pinning and indexing (which a warehouse must reduce
/// before they leave it).
#[derive(Clone, Copy)]
enum Rows {
    OfDataset,
    ForPlanning,
}

/// A dataset's input plan, what identifies it, and what it reads.
struct Input {
    plan: LogicalPlan,
    fingerprint: Fingerprint,
    /// Only the server can read it (a table, a file on a store the browser cannot reach).
    server_only: bool,
    tables: Vec<TableStats>,
    in_memory_bytes: u64,
}

/// The plan sorted by the input order it carries, if it carries one: an outer
/// query sorted by the order column. Sorting the plan itself would put
/// `ORDER BY min(row)` on an aggregate's query when unparsed, which Spark refuses.
pub(crate) fn in_input_order(plan: LogicalPlan) -> datafusion::error::Result<LogicalPlan> {
    if plan.schema().field_with_unqualified_name(ROW).is_err() {
        return Ok(plan);
    }
    LogicalPlanBuilder::from(plan).alias("__vl_result")?.sort(vec![vegalake_sql_gen::plan::col(ROW).sort(true, true)])?.build()
}

/// One line on what queries read of their tables, for logs and `--explain`.
/// Several queries each read the tables, so the totals are per query times queries.
pub fn scan_summary(tables: &[TableStats], scans: &ScanMetrics) -> String {
    let queries = scans.queries.max(1);
    let files = queries * tables.iter().map(|t| t.files).sum::<usize>();
    let bytes = queries as u64 * tables.iter().map(|t| t.bytes).sum::<u64>();
    let names: Vec<&str> = tables.iter().map(|t| t.url.as_str()).collect();
    let of_tables = if names.is_empty() { String::new() } else { format!(" of {}", names.join(", ")) };
    let elsewhere = match scans.remote_queries {
        0 => String::new(),
        1 => "1 query".to_string(),
        n => format!("{n} queries"),
    };
    if scans.queries == 0 && !elsewhere.is_empty() {
        return format!("{elsewhere}{of_tables} ran on the engine, which does not report what it scans");
    }
    format!(
        "{}scanned {} of {files} files ({} planned), {} of {} row groups, {} of {bytes} bytes{of_tables}{}",
        if queries > 1 { format!("{queries} queries ") } else { String::new() },
        scans.files_read,
        scans.files_planned,
        scans.row_groups_read,
        scans.row_groups,
        scans.bytes_read,
        if elsewhere.is_empty() { String::new() } else { format!("; {elsewhere} more ran on the engine") }
    )
}

/// Concatenated sources: rows of the first, then of the second, ...
fn concatenate(mut inputs: Vec<LogicalPlan>) -> Result<LogicalPlan, Skip> {
    if inputs.len() == 1 {
        return Ok(inputs.remove(0));
    }
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

/// The memory held by the in-memory tables of a loaded plan.
fn plan_bytes(plan: &LogicalPlan) -> usize {
    use datafusion::common::tree_node::{TreeNode, TreeNodeRecursion};
    let mut bytes = 1024;
    let _ = plan.apply(|p| {
        if let LogicalPlan::TableScan(scan) = p {
            if let Ok(provider) = datafusion::datasource::source_as_provider(&scan.source) {
                if let Some(mem) = provider.downcast_ref::<datafusion::datasource::MemTable>() {
                    for partition in &mem.batches {
                        if let Ok(batches) = partition.try_read() {
                            bytes += batches_bytes(&batches);
                        }
                    }
                }
            }
        }
        Ok(TreeNodeRecursion::Continue)
    });
    bytes
}

fn batches_bytes(batches: &[RecordBatch]) -> usize {
    batches.iter().map(RecordBatch::get_array_memory_size).sum()
}

/// An estimate of the memory of JSON rows.
fn rows_bytes(rows: &[Map<String, Json>]) -> usize {
    fn value(v: &Json) -> usize {
        match v {
            Json::String(s) => 32 + s.len(),
            Json::Array(a) => 32 + a.iter().map(value).sum::<usize>(),
            Json::Object(o) => 64 + o.iter().map(|(k, v)| 32 + k.len() + value(v)).sum::<usize>(),
            _ => 16,
        }
    }
    rows.iter().map(|r| 64 + r.iter().map(|(k, v)| 32 + k.len() + value(v)).sum::<usize>()).sum()
}

/// The size of `batches` as an Arrow IPC stream: what a remote engine sends.
fn ipc_bytes(batches: &[RecordBatch]) -> usize {
    let Some(first) = batches.first() else { return 0 };
    let mut out = Vec::new();
    let written = datafusion::arrow::ipc::writer::StreamWriter::try_new(&mut out, &first.schema()).and_then(|mut w| {
        batches.iter().try_for_each(|b| w.write(b))?;
        w.finish()
    });
    if written.is_err() {
        return 0;
    }
    out.len()
}
