//! What is fuzzed: the four ways untrusted people reach vegalake.
//!
//! - `spec`: the spec reader and the planner's graph and split (JSON → Vega spec
//!   → dependency graph → server/client split), no execution;
//! - `expression`: the expression parser, and each parsed expression lowered and
//!   run as a `formula` and a `filter` over a few rows of every type;
//! - `chart`: whole charts pre-transformed on the embedded engine (the planner,
//!   the lowering and DataFusion) over the suite's datasets;
//! - `request`: the service's request decoding: HTTP JSON bodies of each route
//!   and gRPC messages, sent in process to the router `vegalake serve` runs.

use serde_json::{json, Value as Json};
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use vegalake_executors::{pre_transform_spec, ChartOptions, DataAccess, Runtime};
use vegalake_planner::split::Placement;
use vegalake_planner::{Spec, SpecGraph, Var};

pub const NAMES: &[&str] = &["spec", "expression", "chart", "request"];

/// A fuzz target: runs one input and says, in a few words, what came of it (the
/// outcomes seen so far tell which inputs reached somewhere new). A panic is a bug.
pub trait Target {
    fn run(&mut self, input: &[u8]) -> String;
}

/// The repository's root (the seeds are its specs, expressions and updates).
pub fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn datasets() -> PathBuf {
    repo().join("integration-tests/datasets")
}

/// The target called `name`.
pub fn target(name: &str) -> Option<Box<dyn Target>> {
    Some(match name {
        "spec" => Box::new(SpecTarget),
        "expression" => Box::new(ChartOf { engine: Engine::new(), chart: expression_chart }),
        "chart" => Box::new(ChartOf { engine: Engine::new(), chart: whole_chart }),
        "request" => Box::new(RequestTarget::new()),
        _ => return None,
    })
}

/// The inputs a run starts from: the suite's specs (or expressions, or request
/// bodies), before the corpus the fuzzer kept.
pub fn seeds(name: &str) -> Vec<Vec<u8>> {
    let root = repo().join("integration-tests");
    let specs = || {
        let mut files: Vec<PathBuf> = std::fs::read_dir(root.join("specs")).into_iter().flatten().flatten().map(|e| e.path()).collect();
        files.sort();
        files.into_iter().filter(|p| p.to_string_lossy().ends_with(".vg.json")).filter_map(|p| std::fs::read(p).ok()).collect::<Vec<_>>()
    };
    match name {
        "spec" | "chart" => specs(),
        "expression" => {
            let corpus: Vec<String> = serde_json::from_slice(&std::fs::read(root.join("expressions/corpus.json")).unwrap_or_default()).unwrap_or_default();
            corpus.into_iter().map(String::into_bytes).collect()
        }
        "request" => request_seeds(&root),
        _ => vec![],
    }
}

fn outcome<E: std::fmt::Display>(what: &str, e: E) -> String {
    // The first plain words of a message: its kind, not its details (names,
    // numbers, quoted text), so that outcomes stay few and a new one means a new
    // path through the code.
    let text = e.to_string();
    let plain = |w: &&str| w.chars().all(|c| c.is_ascii_lowercase() || c == '-');
    let words: Vec<&str> = text.split_whitespace().filter(plain).take(4).collect();
    format!("{what}: {}", words.join(" "))
}

struct SpecTarget;

impl Target for SpecTarget {
    fn run(&mut self, input: &[u8]) -> String {
        let json: Json = match serde_json::from_slice(input) {
            Ok(j) => j,
            Err(e) => return outcome("json", e.classify() as u8),
        };
        let spec: Spec = match serde_json::from_value(json) {
            Ok(s) => s,
            Err(e) => return outcome("spec", e),
        };
        let graph = SpecGraph::new(&spec);
        // Every top-level dataset placed on the server whole: the split's busiest case.
        let placements: HashMap<Var, Placement> =
            spec.data().iter().map(|d| (Var::data(&d.name, &[]), Placement { server_transforms: Some(d.transforms().len()), reason: None })).collect();
        let split = vegalake_planner::split(&spec, &graph, &placements, &[], true, vegalake_sql_gen::whole_rows);
        let (server, client) = (split.server.data().len().min(8), split.client.data().len().min(8));
        let (inputs, outputs) = (split.comm.client_to_server.len().min(4), split.comm.server_to_client.len().min(4));
        format!("split: {server} server and {client} client datasets, {inputs} in, {outputs} out, {} signals", spec.signals().len().min(4))
    }
}

/// A runtime on its own thread's Tokio runtime.
struct Engine {
    tokio: tokio::runtime::Runtime,
    runtime: Arc<Runtime>,
}

impl Engine {
    fn new() -> Engine {
        let tokio = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("a tokio runtime");
        Engine { tokio, runtime: Arc::new(Runtime::default()) }
    }

    fn pre_transform(&self, spec: &Spec) -> String {
        let options = ChartOptions { data: DataAccess::new(datasets()), row_limit: Some(1000), ..ChartOptions::default() };
        match self.tokio.block_on(pre_transform_spec(self.runtime.clone(), spec, options)) {
            Ok((client, warnings)) => format!("ok: {} datasets, {} warnings", client.data().len().min(5), warnings.len().min(3)),
            Err(e) => outcome(&format!("{:?}", e.kind), e.message),
        }
    }
}

/// A target that makes a chart of its input and pre-transforms it.
struct ChartOf {
    engine: Engine,
    /// The chart, or the outcome when the input makes none.
    chart: fn(&[u8]) -> Result<Spec, String>,
}

impl Target for ChartOf {
    fn run(&mut self, input: &[u8]) -> String {
        match (self.chart)(input) {
            Ok(spec) => self.engine.pre_transform(&spec),
            Err(outcome) => outcome,
        }
    }
}

/// The expression, parsed, then as a `formula` and a `filter` over rows of every type.
fn expression_chart(input: &[u8]) -> Result<Spec, String> {
    let source = String::from_utf8_lossy(input);
    vegalake_planner::expr::parse(&source).map_err(|e| outcome("parse", e))?;
    let rows = json!([
        {"a": 1, "b": "x", "c": true, "d": null, "e": 1.5e12, "f": [1, 2], "g": {"h": 1}},
        {"a": -0.5, "b": "", "c": false, "e": "2001-01-01", "f": []}
    ]);
    let spec = json!({"data": [{"name": "t", "values": rows, "transform": [
        {"type": "formula", "expr": source, "as": "out"},
        {"type": "filter", "expr": source}
    ]}]});
    serde_json::from_value(spec).map_err(|e| outcome("spec", e))
}

fn whole_chart(input: &[u8]) -> Result<Spec, String> {
    serde_json::from_slice(input).map_err(|e| outcome("spec", e))
}

/// Request inputs: a route byte, then the body.
const ROUTES: &[&str] = &["/v1/pretransform", "/v1/charts", "update", "grpc:Update", "grpc:OpenChart"];

fn request_seeds(root: &Path) -> Vec<Vec<u8>> {
    let dir = root.join("interactions");
    let mut seeds = Vec::new();
    for name in ["crossfilter_parquet", "slider_maxbins", "point_ids"] {
        let expected: Json = serde_json::from_slice(&std::fs::read(dir.join(format!("expected/{name}.json"))).unwrap_or_default()).unwrap_or_default();
        let spec = json!({"spec": expected["spec"]}).to_string();
        seeds.push([&[0u8][..], spec.as_bytes()].concat());
        seeds.push([&[1u8][..], spec.as_bytes()].concat());
        let updates: Json = serde_json::from_slice(&std::fs::read(dir.join(format!("{name}.updates.json"))).unwrap_or_default()).unwrap_or_default();
        for update in updates.as_array().into_iter().flatten().take(3) {
            seeds.push([&[2u8][..], json!({"seq": 0, "values": update}).to_string().as_bytes()].concat());
        }
    }
    use prost::Message;
    use vegalake_proto::v1 as pb;
    let value = pb::Value { namespace: "data".into(), name: "brush_store".into(), scope: vec![], value: Some(pb::value::Value::Json("[]".into())) };
    seeds.push([&[3u8][..], &pb::UpdateRequest { chart_id: "c1".into(), seq: 1, values: vec![value], encoding: 0 }.encode_to_vec()].concat());
    // A dataset as an Arrow IPC stream: the reader of client-sent Arrow.
    let rows = json!([{"unit": "", "fields": [{"field": "a", "type": "R"}], "values": [[1, 2.5]]}, {"unit": "x", "n": null}]);
    let ipc = vegalake_proto::arrow_rows::rows_to_ipc(rows.as_array().map_or(&[][..], Vec::as_slice)).unwrap_or_default();
    let value = pb::Value { namespace: "data".into(), name: "brush_store".into(), scope: vec![], value: Some(pb::value::Value::Arrow(ipc)) };
    seeds.push([&[3u8][..], &pb::UpdateRequest { chart_id: "c1".into(), seq: 1, values: vec![value], encoding: 2 }.encode_to_vec()].concat());
    seeds.push([&[4u8][..], &pb::OpenChartRequest { spec: r#"{"data": []}"#.into(), timezone: "UTC".into() }.encode_to_vec()].concat());
    seeds
}

struct RequestTarget {
    tokio: tokio::runtime::Runtime,
    app: axum::Router,
    chart: String,
}

impl RequestTarget {
    fn new() -> RequestTarget {
        use vegalake_serve::{Limits, ServeOptions, Service, Tokens};
        let tokio = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("a tokio runtime");
        let options = ServeOptions {
            runtime: Arc::new(Runtime::default()),
            engine: "local".into(),
            data: DataAccess::new(datasets()),
            tokens: Tokens::open(),
            // The server's own limits: with a million charts a token, the open charts
            // grew the fuzzer past 4 GB (each holds its state until closed).
            limits: Limits::default(),
            compile: Arc::new(Ok),
        };
        let app = vegalake_serve::router(Arc::new(Service::new(options)), &[], None);
        let mut target = RequestTarget { tokio, app, chart: String::new() };
        let spec = json!({"data": [{"name": "t", "values": [{"a": 1}, {"a": 2}]}, {"name": "brush_store"}]}).to_string();
        let (_, body) = target.send("/v1/charts", "application/json", json!({"spec": spec}).to_string().into_bytes());
        target.chart = serde_json::from_slice::<Json>(&body).ok().and_then(|b| b["chart_id"].as_str().map(str::to_string)).unwrap_or_default();
        target
    }

    fn send(&mut self, path: &str, content_type: &str, body: Vec<u8>) -> (u16, Vec<u8>) {
        use tower::ServiceExt;
        let request = axum::http::Request::post(path).header("content-type", content_type).body(axum::body::Body::from(body));
        let Ok(request) = request else { return (0, vec![]) };
        let app = self.app.clone();
        self.tokio.block_on(async move {
            let response = app.oneshot(request).await.unwrap_or_else(|e| match e {});
            let status = response.status().as_u16();
            let body = axum::body::to_bytes(response.into_body(), 16 << 20).await.map(|b| b.to_vec()).unwrap_or_default();
            (status, body)
        })
    }
}

impl Target for RequestTarget {
    fn run(&mut self, input: &[u8]) -> String {
        let Some((&route, body)) = input.split_first() else { return "empty".into() };
        let route = ROUTES[route as usize % ROUTES.len()];
        let (status, _) = match route {
            "update" => {
                let path = format!("/v1/charts/{}/update", self.chart);
                self.send(&path, "application/json", body.to_vec())
            }
            grpc if grpc.starts_with("grpc:") => {
                // A gRPC frame: not compressed, the message's length, the message.
                let mut frame = vec![0u8];
                frame.extend_from_slice(&(body.len() as u32).to_be_bytes());
                frame.extend_from_slice(body);
                self.send(&format!("/vegalake.v1.Vegalake/{}", &grpc[5..]), "application/grpc", frame)
            }
            path => self.send(path, "application/json", body.to_vec()),
        };
        format!("{route}: {status}")
    }
}
