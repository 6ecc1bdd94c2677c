//! A chart served over time: [`ChartState::open`] splits the spec and evaluates the
//! server half; [`ChartState::update`] takes what the client changed (a brush's
//! signal, a selection store) and answers with the server datasets and signals whose
//! values changed. Work is shared through the runtime's fingerprint cache: a node
//! whose inputs did not change is not computed again, by this chart or any other.

use crate::server::{DatasetOutcome, DatasetScan, Pass, PassOptions, Runtime};
use crate::{ErrorKind, EvalError, Fingerprint};
use datafusion::arrow::record_batch::RecordBatch;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value as Json};
use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use vegalake_connectors::{DataAccess, SourceOptions};
use vegalake_planner::refs::Mentions;
use vegalake_planner::split::for_each_body_mut;
use vegalake_planner::values::time::Zone;
use vegalake_planner::{split, CommPlan, Namespace, Placement, Spec, SpecGraph, Var};

/// How a chart is evaluated.
#[derive(Debug, Clone)]
pub struct ChartOptions {
    /// What may be read: the data directory, allowed roots, the catalog.
    pub data: DataAccess,
    /// The zone of local-time functions and `timeunit`.
    pub zone: Zone,
    /// At most this many rows per dataset are inlined (a warning says when cut).
    pub row_limit: Option<usize>,
    /// What becomes of the chart's interactions.
    pub interactivity: Interactivity,
    /// With [`Interactivity::Browser`]: the most rows the pipelines that hand over
    /// to the browser may ship together; past it the chart is a snapshot
    /// ([`Interactivity::Static`]) and a warning says which interactions need the
    /// server. The rows are counted before any is converted.
    pub browser_rows: Option<usize>,
    /// Initial signal values and dataset contents, replacing the spec's.
    pub signals: HashMap<Var, Json>,
    pub stores: HashMap<Var, Json>,
}

/// A chart's options from `eval`'s: the same data, zone, and signal values and
/// stores, named at the top level.
impl From<crate::EvalOptions> for ChartOptions {
    fn from(o: crate::EvalOptions) -> Self {
        ChartOptions {
            data: o.data,
            zone: o.zone,
            signals: o.signals.into_iter().map(|(k, v)| (Var::signal(&k, &[]), v)).collect(),
            stores: o.stores.into_iter().map(|(k, v)| (Var::data(&k, &[]), v)).collect(),
            ..ChartOptions::default()
        }
    }
}

impl Default for ChartOptions {
    fn default() -> Self {
        ChartOptions {
            data: DataAccess::default(),
            zone: Zone::Utc,
            row_limit: None,
            interactivity: Interactivity::Server,
            browser_rows: None,
            signals: HashMap::new(),
            stores: HashMap::new(),
        }
    }
}

/// What becomes of a chart's interactions (brushes, clicks, bound inputs) once its
/// data half runs on the server.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Interactivity {
    /// The server recomputes what the client changes ([`ChartState::update`]):
    /// the widget, `vegalake serve`. The client spec needs its server.
    #[default]
    Server,
    /// The client spec works alone (an HTML page, a saved spec): each pipeline
    /// runs on the server up to its first transform that reads an interaction,
    /// and in the browser from there, as vega.js would run it.
    Browser,
    /// A snapshot of the current state: interactions that change data do nothing.
    Static,
}

/// Something the user should know about a pre-transformed spec.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Warning {
    /// `"client_transforms"` or `"row_limit"`.
    pub kind: &'static str,
    pub message: String,
}

/// Where one dataset of an opened chart runs, for `explain`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DatasetPlacement {
    pub dataset: String,
    pub scope: Vec<u32>,
    /// How many of its transforms the server runs (`None`: the client does all).
    pub server_transforms: Option<usize>,
    pub total_transforms: usize,
    /// Why the client takes over where it does.
    pub reason: Option<String>,
    /// The server part's logical plan (indented text).
    pub plan: Option<String>,
}

/// A value crossing between client and server: a signal's value or a dataset's rows.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct VarValue {
    pub namespace: Namespace,
    pub name: String,
    #[serde(default)]
    pub scope: Vec<u32>,
    pub value: Json,
}

impl VarValue {
    fn var(&self) -> Var {
        Var { namespace: self.namespace, name: self.name.clone(), scope: self.scope.clone() }
    }
}

/// One chart's server state.
pub struct ChartState {
    runtime: Arc<Runtime>,
    graph: SpecGraph,
    options: ChartOptions,
    client: Spec,
    server: Spec,
    comm: CommPlan,
    mentions: Mentions,
    whole_rows: HashSet<Var>,
    placements: HashMap<Var, Placement>,
    /// The fingerprint of each dataset's rows as last sent to the client.
    sent: HashMap<Var, Fingerprint>,
    produced: HashMap<Var, Json>,
    warnings: Vec<Warning>,
    /// What the last pass scanned of the tables datasets read.
    scans: Vec<DatasetScan>,
    /// Where pipelines hand over to the browser ([`Interactivity::Browser`]).
    cuts: Option<HashMap<Var, usize>>,
    datasets: Vec<DatasetPlacement>,
    /// Its transforms as the passes before lowered them.
    steps: crate::lowered_steps::LoweredSteps,
}

impl ChartState {
    /// Plans the spec, evaluates its server half and builds the client spec.
    pub async fn open(runtime: Arc<Runtime>, spec: &Spec, options: ChartOptions) -> Result<ChartState, EvalError> {
        let graph = SpecGraph::new(spec);
        let cuts = (options.interactivity == Interactivity::Browser).then(|| graph.interaction_cuts());
        // First pass: how far the server gets with each dataset (nothing is
        // materialized but what other datasets read).
        let first = run(&runtime, &graph, &options, cuts.as_ref(), None, &|_: &Var, _| false).await?;
        let placements = placements(&first);
        let produced: Vec<(Var, Json)> = first.produced.clone();
        let fitted = with_fitted_projections(spec, &graph, &first);
        let split = split(&fitted, &graph, &placements, &produced, options.interactivity == Interactivity::Server, vegalake_sql_gen::whole_rows);
        let shipped: HashSet<Var> = split.comm.server_to_client.iter().filter(|v| v.namespace == Namespace::Data).cloned().collect();
        if let (Some(c), Some(budget)) = (&cuts, options.browser_rows) {
            let (rows, cut) = browser_rows(&runtime, &graph, &first, c, &shipped).await?;
            if rows > budget {
                let message = format!(
                    "selections that filter {} would need {rows} rows in the browser (more than {budget}); this chart shows the current state (interactions that change data need the server)",
                    cut.join(", ")
                );
                let mut snapshot = Box::pin(ChartState::open(runtime, spec, ChartOptions { interactivity: Interactivity::Static, ..options })).await?;
                snapshot.warnings.push(Warning { kind: "interactions_need_kernel", message });
                return Ok(snapshot);
            }
        }
        let pass = run(&runtime, &graph, &options, cuts.as_ref(), None, &|v: &Var, _| shipped.contains(v)).await?;
        let mut chart = ChartState {
            runtime,
            graph,
            client: split.client,
            server: split.server,
            comm: split.comm,
            mentions: split.mentions,
            whole_rows: split.whole_rows,
            placements,
            sent: HashMap::new(),
            produced: produced.into_iter().collect(),
            warnings: client_warnings(&pass),
            scans: pass.scans(),
            options,
            cuts,
            datasets: dataset_placements(&pass),
            steps: Default::default(),
        };
        let rows = chart.shipped_rows(&pass, &shipped, true);
        let mut values: HashMap<Var, Json> = rows.into_iter().map(|v| (v.var(), v.value)).collect();
        for_each_body_mut(&mut chart.client, &mut |path, body| {
            for d in body.data.iter_mut().flatten() {
                if let Some(rows) = values.remove(&Var::data(&d.name, path)) {
                    d.values = Some(rows);
                }
            }
        });
        Ok(chart)
    }

    /// The client spec, with the server's results inlined.
    pub fn client_spec(&self) -> &Spec {
        &self.client
    }

    /// The server half of the spec.
    pub fn server_spec(&self) -> &Spec {
        &self.server
    }

    /// What the last evaluation (open or update) scanned of the tables its
    /// datasets read: files, row groups and bytes, read and in all.
    pub fn scans(&self) -> &[DatasetScan] {
        &self.scans
    }

    pub fn comm_plan(&self) -> &CommPlan {
        &self.comm
    }

    pub fn warnings(&self) -> &[Warning] {
        &self.warnings
    }

    /// Where each dataset runs, why the client takes over where it does, and the
    /// server part's plan (as opened).
    pub fn datasets(&self) -> &[DatasetPlacement] {
        &self.datasets
    }

    /// Applies the client's changes and returns the server datasets and signals whose
    /// values changed.
    pub async fn update(&mut self, changes: &[VarValue]) -> Result<Vec<VarValue>, EvalError> {
        let mut signals = self.options.signals.clone();
        let mut stores = self.options.stores.clone();
        for c in changes {
            let var = c.var();
            let undeclared = || EvalError::new(ErrorKind::Spec, format!("update of {var}"), format!("the spec declares no {var}"));
            match c.namespace {
                Namespace::Signal if self.graph.signal(&var).is_some() => signals.insert(var, c.value.clone()),
                Namespace::Data if self.graph.dataset(&var).is_some() => stores.insert(var, c.value.clone()),
                _ => return Err(undeclared()),
            };
        }
        let options = ChartOptions { signals, stores, ..self.options.clone() };
        let shipped: HashSet<Var> = self.sent.keys().cloned().collect();
        let sent = &self.sent;
        self.steps.next_pass();
        let want = |v: &Var, fp| shipped.contains(v) && sent.get(v) != Some(&fp);
        let pass = run(&self.runtime, &self.graph, &options, self.cuts.as_ref(), Some(&self.steps), &want).await?;
        for (var, before) in &self.placements {
            let now = pass.dataset(var).map(DatasetOutcome::server_part);
            if now.is_some_and(|n| n != before.server_transforms) {
                let why = pass.dataset(var).and_then(|d| d.reason.clone()).unwrap_or_default();
                return Err(EvalError::new(ErrorKind::Data, var.to_string(), format!("the server can no longer evaluate it with these values: {why}")));
            }
        }
        self.options = options;
        self.scans = pass.scans();
        let mut out = self.shipped_rows(&pass, &shipped, false);
        // Only the signals the client spec reads (a fitted projection's points are not).
        for (var, value) in pass.produced.iter().filter(|(v, _)| self.comm.server_to_client.contains(v)) {
            if self.produced.get(var) != Some(value) {
                self.produced.insert(var.clone(), value.clone());
                out.push(VarValue { namespace: Namespace::Signal, name: var.name.clone(), scope: var.scope.clone(), value: value.clone() });
            }
        }
        Ok(out)
    }

    /// The rows of the shipped datasets that changed since last sent (all of them
    /// when `all`), projected to the columns the client mentions.
    fn shipped_rows(&mut self, pass: &Pass, shipped: &HashSet<Var>, all: bool) -> Vec<VarValue> {
        let mut out = Vec::new();
        for d in pass.datasets.iter().filter(|d| shipped.contains(&d.var)) {
            let (Some(fp), Some(result)) = (d.fingerprint, &d.result) else { continue };
            if !all && self.sent.get(&d.var) == Some(&fp) {
                continue;
            }
            self.sent.insert(d.var.clone(), fp);
            let whole = self.mentions.opaque || self.whole_rows.contains(&d.var);
            let mut rows: Vec<Json> = result.rows.iter().map(|r| Json::Object(if whole { r.clone() } else { self.project(r) })).collect();
            if let Some(limit) = self.options.row_limit.filter(|l| rows.len() > *l) {
                self.warnings.push(Warning { kind: "row_limit", message: format!("{} has {} rows; only the first {limit} are sent", d.var, rows.len()) });
                rows.truncate(limit);
            }
            out.push(VarValue { namespace: Namespace::Data, name: d.var.name.clone(), scope: d.var.scope.clone(), value: Json::Array(rows) });
        }
        out
    }

    /// A row without the columns the client never reads.
    fn project(&self, row: &Map<String, Json>) -> Map<String, Json> {
        row.iter().filter(|(k, _)| self.mentions.contains(k)).map(|(k, v)| (k.clone(), v.clone())).collect()
    }
}

fn dataset_placements(pass: &Pass) -> Vec<DatasetPlacement> {
    pass.datasets
        .iter()
        .map(|d| DatasetPlacement {
            dataset: d.var.name.clone(),
            scope: d.var.scope.clone(),
            server_transforms: d.server_part(),
            total_transforms: d.total_transforms,
            reason: d.reason.clone(),
            plan: d.plan.as_ref().map(|p| p.display_indent().to_string()),
        })
        .collect()
}

/// The rows the browser would get to run the pipelines cut for it: the shipped
/// server parts of the cut datasets and of the datasets they read, counted on the
/// engine before any row is converted; and the cut datasets' names.
async fn browser_rows(
    runtime: &Runtime,
    graph: &SpecGraph,
    pass: &Pass,
    cuts: &HashMap<Var, usize>,
    shipped: &HashSet<Var>,
) -> Result<(usize, Vec<String>), EvalError> {
    let read_by_cut: HashSet<&Var> = cuts.keys().filter_map(|v| graph.dataset(v)).flat_map(|d| d.sources.iter()).collect();
    let mut rows = 0;
    for d in pass.datasets.iter().filter(|d| shipped.contains(&d.var) && (cuts.contains_key(&d.var) || read_by_cut.contains(&d.var))) {
        if let (Some(fp), Some(plan)) = (d.fingerprint, &d.plan) {
            rows += runtime.count_rows(fp, plan.clone(), &d.var.to_string()).await?;
        }
    }
    let mut names: Vec<String> = cuts.keys().map(Var::to_string).collect();
    names.sort();
    Ok((rows, names))
}

/// One pass with a chart's options.
async fn run(
    runtime: &Runtime,
    graph: &SpecGraph,
    options: &ChartOptions,
    cuts: Option<&HashMap<Var, usize>>,
    steps: Option<&crate::lowered_steps::LoweredSteps>,
    want: crate::server::Want<'_>,
) -> Result<Pass, EvalError> {
    let source = SourceOptions { access: options.data.clone(), zone: options.zone };
    // A chart is evaluated again with each interaction: its pinned datasets are
    // computed once, as its queries read them.
    let opts = PassOptions { source, signals: &options.signals, stores: &options.stores, cuts, lazy_pins: true, steps };
    runtime.run_pass(graph, &opts, want).await
}

/// Where each dataset runs, from a pass: client-owned datasets stay with the client.
fn placements(pass: &Pass) -> HashMap<Var, Placement> {
    pass.datasets.iter().map(|d| (d.var.clone(), Placement { server_transforms: d.server_part(), reason: d.reason.clone() })).collect()
}

fn client_warnings(pass: &Pass) -> Vec<Warning> {
    pass.datasets
        .iter()
        .filter(|d| !d.complete() && !d.client_owned)
        .filter_map(|d| {
            d.reason.as_ref().map(|r| Warning { kind: "client_transforms", message: format!("{} is evaluated in the browser from here: {r}", d.var) })
        })
        .collect()
}

/// The client spec of `spec` with the server's results inlined, and warnings.
pub async fn pre_transform_spec(runtime: Arc<Runtime>, spec: &Spec, options: ChartOptions) -> Result<(Spec, Vec<Warning>), EvalError> {
    let chart = ChartState::open(runtime, spec, options).await?;
    Ok((chart.client, chart.warnings))
}

/// The rows of the named datasets, evaluated entirely on the server.
pub async fn pre_transform_datasets(runtime: &Runtime, spec: &Spec, names: &[Var], options: &ChartOptions) -> Result<Vec<Vec<RecordBatch>>, EvalError> {
    let graph = SpecGraph::new(spec);
    let wanted: HashSet<&Var> = names.iter().collect();
    let pass = run(runtime, &graph, options, None, None, &|v: &Var, _| wanted.contains(v)).await?;
    names
        .iter()
        .map(|var| match pass.dataset(var) {
            Some(d) if d.complete() => Ok(d.result.as_ref().map(|r| r.batches.clone()).unwrap_or_default()),
            Some(d) => Err(EvalError::new(ErrorKind::Data, var.to_string(), format!("not evaluated on the server: {}", d.reason.clone().unwrap_or_default()))),
            None => Err(EvalError::new(ErrorKind::Spec, var.to_string(), "the spec declares no such dataset")),
        })
        .collect()
}

/// `spec` with each root projection whose fit the server computed written as its
/// fitted constants (`scale` and `translate`, no `fit`, `size` or `extent`): the
/// same projection in vega.js, without the points the fit read (a `geojson`
/// signal of every row). Not where the fit can change on the client: a projection
/// that reads a client-driven signal, or points of a dataset interactions filter.
fn with_fitted_projections(spec: &Spec, graph: &SpecGraph, first: &Pass) -> Spec {
    let interactive = graph.interaction_cuts();
    let moving: HashSet<String> =
        graph.datasets.iter().filter(|d| d.client_owned || interactive.contains_key(&d.var)).flat_map(|d| d.defined_signals().map(str::to_string)).collect();
    let mut out = spec.clone();
    let Some(Json::Array(projections)) = out.extra.get_mut("projections") else { return out };
    for p in projections.iter_mut().filter(|p| p.get("fit").is_some()) {
        let reads = vegalake_planner::refs::Refs::of_json(p).signals;
        if reads.iter().any(|s| moving.contains(s) || graph.is_client_driven(&Var::signal(s, &[]))) {
            continue;
        }
        let Some(name) = p.get("name").and_then(Json::as_str).map(str::to_string) else { continue };
        if let Ok(mut fitted) = vegalake_sql_gen::fitted_projection(&first.env.scope(0), &name) {
            fitted.insert("name".into(), Json::String(name));
            *p = Json::Object(fitted);
        }
    }
    out
}
