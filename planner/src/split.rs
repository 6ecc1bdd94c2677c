//! The server/client split of a spec and the communication plan between the halves.
//!
//! The server decides, dataset by dataset, how much of each pipeline it evaluates
//! (a [`Placement`]: the input and a prefix of the transforms, found by lowering them
//! with the transform registry). From those placements this module writes:
//!
//! - the client spec: the original spec where each server-evaluated dataset becomes
//!   inline `values` (filled in by the caller) followed by the transforms the server
//!   left, server-only datasets nobody on the client mentions are removed, and the
//!   signals the server's transforms produce are declared with their values;
//! - the server spec: the datasets' server prefixes, the signals they read, and the
//!   group marks that hold them (so scope paths stay the same);
//! - the [`CommPlan`]: what flows server→client and client→server.

use crate::graph::{Namespace, SpecGraph, Var};
use crate::refs::Mentions;
use crate::spec::{Data, Signal, Spec, Transform};
use serde::{Deserialize, Serialize};
use serde_json::Value as Json;
use std::collections::{BTreeSet, HashMap, HashSet};

/// How much of one dataset the server evaluates.
#[derive(Debug, Clone, PartialEq)]
pub struct Placement {
    /// The server loads the dataset's input and runs this many of its transforms;
    /// `None` leaves the whole dataset to the client.
    pub server_transforms: Option<usize>,
    /// Why the rest (or all) of it runs on the client.
    pub reason: Option<String>,
}

/// What flows between server and client after the first render.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct CommPlan {
    /// Datasets (as values) and signals the server computes and the client shows.
    pub server_to_client: Vec<Var>,
    /// Signals and datasets the client changes and the server's datasets read.
    pub client_to_server: Vec<Var>,
}

/// The two halves of a spec.
#[derive(Debug, Clone)]
pub struct Split {
    pub server: Spec,
    /// The client spec, with empty `values` where the server's rows go.
    pub client: Spec,
    pub comm: CommPlan,
    /// Every name the client spec mentions: the columns worth sending.
    pub mentions: Mentions,
    /// Shipped datasets whose rows the client uses whole (a `lookup` without
    /// `values`, an `argmax`, `data()` in an expression): sent with every column.
    pub whole_rows: HashSet<Var>,
}

/// Splits `spec` given the placements of its datasets and the signals the server's
/// transforms produced (with their values); `whole_rows_of` says what a client
/// transform may carry whole.
pub fn split(
    spec: &Spec,
    graph: &SpecGraph,
    placements: &HashMap<Var, Placement>,
    produced: &[(Var, Json)],
    interactive: bool,
    whole_rows_of: WholeRowsOf,
) -> Split {
    let on_server = |v: &Var| placements.get(v).and_then(|p| p.server_transforms);
    let mut client = spec.clone();
    // Server datasets without client transforms are candidates for removal.
    let mut removable: HashSet<Var> = HashSet::new();
    for_each_body_mut(&mut client, &mut |path, body| {
        for d in body.data.iter_mut().flatten() {
            let var = Var::data(&d.name, path);
            if let Some(k) = on_server(&var) {
                *d = client_entry(d, k);
                if d.transforms().is_empty() {
                    removable.insert(var);
                }
            }
        }
    });
    // The signals the server's transforms produced, where the client reads them
    // (by name, a superset across scopes): a projection fitted on the server no
    // longer reads its points.
    let read = crate::refs::Refs::of_json(&serde_json::to_value(&client).unwrap_or(Json::Null)).signals;
    let produced: Vec<&(Var, Json)> = produced.iter().filter(|(v, _)| read.contains(&v.name)).collect();
    for_each_body_mut(&mut client, &mut |path, body| {
        for (var, value) in produced.iter().filter(|(v, _)| v.scope == path) {
            let signals = body.signals.get_or_insert_with(Vec::new);
            if !signals.iter().any(|s| s.name == var.name) {
                signals.push(Signal { name: var.name.clone(), value: Some(value.clone()), ..Signal::default() });
            }
        }
    });
    // Keep a removable dataset only if the rest of the client spec mentions it.
    let mentions = mentions_except(&client, &removable);
    let mut shipped: Vec<Var> = Vec::new();
    for_each_body_mut(&mut client, &mut |path, body| {
        if let Some(data) = body.data.as_mut() {
            data.retain(|d| !removable.contains(&Var::data(&d.name, path)) || mentions.contains(&d.name));
            shipped.extend(data.iter().map(|d| Var::data(&d.name, path)).filter(|v| on_server(v).is_some()));
        }
    });
    let mut comm = CommPlan { server_to_client: shipped, client_to_server: Vec::new() };
    comm.server_to_client.extend(produced.iter().map(|(v, _)| v.clone()));
    if interactive {
        comm.client_to_server = client_inputs(graph, &on_server);
    }
    let mentions = mentions_except(&client, &HashSet::new());
    let whole_rows = whole_rows(&client, &comm.server_to_client, whole_rows_of);
    Split { server: server_spec(spec, graph, &on_server), client, comm, mentions, whole_rows }
}

/// A server-evaluated dataset as the client sees it: values, then the rest.
fn client_entry(d: &Data, server_transforms: usize) -> Data {
    let rest: Vec<_> = d.transforms().iter().skip(server_transforms).cloned().collect();
    Data {
        name: d.name.clone(),
        values: Some(Json::Array(Vec::new())),
        transform: if rest.is_empty() { None } else { Some(rest) },
        extra: d.extra.clone(),
        ..Data::default()
    }
}

/// What a client transform's output may carry whole: rows of its input, rows of
/// another dataset it reads.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct WholeRows<'a> {
    pub input: bool,
    pub from: Option<&'a str>,
}

/// The transform registry's answer to [`WholeRows`] (`vegalake_sql_gen::whole_rows`):
/// the planner knows Vega's structure, the registry each transform.
pub type WholeRowsOf = fn(&Transform) -> WholeRows<'_>;

/// The shipped datasets whose rows reach the client whole, through client
/// transforms or expressions (by name, a superset across scopes).
fn whole_rows(client: &Spec, shipped: &[Var], whole_rows_of: WholeRowsOf) -> HashSet<Var> {
    let mut sources: HashMap<String, Vec<String>> = HashMap::new();
    let mut whole: HashSet<String> = HashSet::new();
    let mut spec = client.clone();
    for_each_body_mut(&mut spec, &mut |_, body| {
        for d in body.data() {
            sources.entry(d.name.clone()).or_default().extend(d.source.iter().flat_map(|s| s.names()).map(str::to_string));
            for rows in d.transforms().iter().map(whole_rows_of) {
                if rows.input {
                    whole.insert(d.name.clone());
                }
                whole.extend(rows.from.map(str::to_string));
            }
        }
    });
    let mut refs = crate::refs::Refs::default();
    refs.add_json(&serde_json::to_value(&spec).unwrap_or(Json::Null));
    whole.extend(refs.datasets);
    // Whole rows of a dataset are whole rows of its sources.
    let mut stack: Vec<String> = whole.iter().cloned().collect();
    while let Some(name) = stack.pop() {
        for s in sources.get(&name).into_iter().flatten() {
            if whole.insert(s.clone()) {
                stack.push(s.clone());
            }
        }
    }
    shipped.iter().filter(|v| v.namespace == Namespace::Data && whole.contains(&v.name)).cloned().collect()
}

/// What the server's datasets read that the client changes.
fn client_inputs(graph: &SpecGraph, on_server: &dyn Fn(&Var) -> Option<usize>) -> Vec<Var> {
    let mut out: BTreeSet<Var> = BTreeSet::new();
    for d in &graph.datasets {
        let Some(k) = on_server(&d.var) else { continue };
        let reads = std::iter::once(&d.input).chain(d.transforms.iter().take(k));
        for r in reads {
            out.extend(r.signals.iter().filter(|v| graph.is_client_driven(v)).cloned());
            out.extend(r.datasets.iter().filter(|v| graph.is_client_owned(v)).cloned());
        }
        out.extend(d.sources.iter().filter(|v| graph.is_client_owned(v)).cloned());
    }
    out.into_iter().collect()
}

/// Names mentioned by a spec, leaving out the entries of `skip` and inline rows.
fn mentions_except(spec: &Spec, skip: &HashSet<Var>) -> Mentions {
    let mut spec = spec.clone();
    for_each_body_mut(&mut spec, &mut |path, body| {
        if let Some(data) = body.data.as_mut() {
            data.retain(|d| !skip.contains(&Var::data(&d.name, path)));
            for d in data.iter_mut().filter(|d| d.values.as_ref().is_some_and(Json::is_array)) {
                d.values = None;
            }
        }
    });
    let mut mentions = Mentions::default();
    mentions.add_json(&serde_json::to_value(&spec).unwrap_or(Json::Null));
    mentions
}

/// Calls `f` on every scope body of a spec (root, then group marks in pre-order)
/// with its scope path. `f` may change the body's data and signals.
pub fn for_each_body_mut(spec: &mut Spec, f: &mut dyn FnMut(&[u32], &mut Spec)) {
    fn walk(body: &mut Spec, path: &mut Vec<u32>, f: &mut dyn FnMut(&[u32], &mut Spec)) {
        f(path, body);
        let groups = body.marks.iter_mut().flatten().filter(|m| m.kind == "group");
        for (k, m) in groups.enumerate() {
            path.push(k as u32);
            walk(&mut m.scope, path, f);
            path.pop();
        }
    }
    walk(spec, &mut Vec::new(), f);
}

/// The server half: each server dataset's input and transform prefix, the signals
/// they read, inside the group marks that declare them.
fn server_spec(spec: &Spec, graph: &SpecGraph, on_server: &dyn Fn(&Var) -> Option<usize>) -> Spec {
    let mut needed: HashSet<Var> = HashSet::new();
    let mut stack: Vec<Var> = Vec::new();
    for d in &graph.datasets {
        if let Some(k) = on_server(&d.var) {
            for r in std::iter::once(&d.input).chain(d.transforms.iter().take(k)) {
                stack.extend(r.signals.iter().cloned());
            }
        }
    }
    while let Some(v) = stack.pop() {
        if let Some(s) = graph.signal(&v) {
            if needed.insert(v) {
                stack.extend(s.reads.signals.iter().cloned());
            }
        }
    }
    server_body(spec, &[], on_server, &needed)
}

fn server_body(body: &Spec, path: &[u32], on_server: &dyn Fn(&Var) -> Option<usize>, needed: &HashSet<Var>) -> Spec {
    let data: Vec<Data> = body
        .data()
        .iter()
        .filter_map(|d| {
            let k = on_server(&Var::data(&d.name, path))?;
            let prefix: Vec<_> = d.transforms().iter().take(k).cloned().collect();
            Some(Data { transform: if prefix.is_empty() { None } else { Some(prefix) }, ..d.clone() })
        })
        .collect();
    let signals: Vec<Signal> = body
        .signals()
        .iter()
        .filter(|s| needed.contains(&Var { namespace: Namespace::Signal, name: s.name.clone(), scope: path.to_vec() }))
        .map(|s| Signal { on: None, bind: None, push: None, ..s.clone() })
        .collect();
    let marks: Vec<crate::spec::Mark> = body
        .marks()
        .iter()
        .filter(|m| m.kind == "group")
        .enumerate()
        .map(|(k, m)| {
            let mut child = path.to_vec();
            child.push(k as u32);
            crate::spec::Mark { kind: "group".into(), name: m.name.clone(), from: None, scope: server_body(&m.scope, &child, on_server, needed) }
        })
        .collect();
    Spec {
        data: (!data.is_empty()).then_some(data),
        signals: (!signals.is_empty()).then_some(signals),
        marks: (!marks.is_empty()).then_some(marks),
        extra: Default::default(),
    }
}
