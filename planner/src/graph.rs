//! The dependency graph of a spec: every dataset, signal, scale and mark across
//! nested scopes (group marks, facets), and what each one reads.
//!
//! Names resolve as in Vega: a reference looks in its own scope, then in the
//! enclosing ones. A name declared nowhere (`width`, `height`, ...) resolves to the
//! root scope, where Vega declares its built-in signals.

use crate::refs::Refs;
use crate::spec::{Data, Mark, Signal, Spec};
use serde::{Deserialize, Serialize};
use serde_json::Value as Json;
use std::collections::{HashMap, HashSet};

/// The position of a scope: the index of each enclosing group mark among the group
/// marks of its parent (the root scope is `[]`).
pub type ScopePath = Vec<u32>;

/// What kind of thing a name refers to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Namespace {
    Data,
    Signal,
    Scale,
}

/// A dataset, signal or scale: its name and the scope that declares it.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Var {
    pub namespace: Namespace,
    pub name: String,
    pub scope: ScopePath,
}

impl Var {
    pub fn data(name: &str, scope: &[u32]) -> Var {
        Var { namespace: Namespace::Data, name: name.to_string(), scope: scope.to_vec() }
    }

    pub fn signal(name: &str, scope: &[u32]) -> Var {
        Var { namespace: Namespace::Signal, name: name.to_string(), scope: scope.to_vec() }
    }
}

impl std::fmt::Display for Var {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let ns = match self.namespace {
            Namespace::Data => "data",
            Namespace::Signal => "signal",
            Namespace::Scale => "scale",
        };
        write!(f, "{ns} '{}'", self.name)?;
        if !self.scope.is_empty() {
            write!(f, " in scope {:?}", self.scope)?;
        }
        Ok(())
    }
}

/// One scope: the root spec or a group mark.
#[derive(Debug, Clone)]
pub struct Scope {
    pub path: ScopePath,
    pub parent: Option<usize>,
    /// A group with `from` (facet or data): one instance per group, whose datasets
    /// and signals only the client can hold.
    pub instanced: bool,
    /// Its `projections` definitions, as written.
    pub projections: Vec<Json>,
}

/// What something reads, resolved to declarations.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Reads {
    pub signals: Vec<Var>,
    pub datasets: Vec<Var>,
}

#[derive(Debug, Clone)]
pub struct DatasetNode {
    pub var: Var,
    pub scope: usize,
    pub data: Data,
    /// Its `source` datasets, in order.
    pub sources: Vec<Var>,
    /// What its `url`, `values` and `format` read.
    pub input: Reads,
    /// What each transform reads.
    pub transforms: Vec<Reads>,
    /// Changed by the client (`modify` in a signal handler, or data triggers): a
    /// selection store, say.
    pub client_owned: bool,
    /// Client-owned and written when the view starts (`modify` in a signal's
    /// `update` or `init`), so that its first rows are the client's, not empty.
    pub written_at_start: bool,
    /// Declared by a facet (`from.facet.name`), not by a `data` entry.
    pub facet: bool,
}

impl DatasetNode {
    /// The signals its transforms define (`extent`'s, `bin`'s, `geojson`'s `signal`).
    pub fn defined_signals(&self) -> impl Iterator<Item = &str> {
        self.data.transforms().iter().filter_map(|t| t.param("signal").and_then(Json::as_str))
    }
}

#[derive(Debug, Clone)]
pub struct SignalNode {
    pub var: Var,
    pub scope: usize,
    pub signal: Signal,
    pub reads: Reads,
    /// Its value changes on the client: event handlers, bindings, pushes, or an
    /// update that reads a client-driven signal or a client-owned dataset.
    pub client_driven: bool,
}

#[derive(Debug, Clone)]
pub struct ScaleNode {
    pub var: Var,
    pub reads: Reads,
}

#[derive(Debug, Clone)]
pub struct MarkNode {
    pub scope: usize,
    pub kind: String,
    pub name: Option<String>,
    pub reads: Reads,
}

/// The dependency graph of a whole spec.
#[derive(Debug, Clone, Default)]
pub struct SpecGraph {
    /// Scopes in pre-order (index 0 is the root).
    pub scopes: Vec<Scope>,
    /// Datasets in evaluation order: scope pre-order, then declaration order.
    pub datasets: Vec<DatasetNode>,
    pub signals: Vec<SignalNode>,
    pub scales: Vec<ScaleNode>,
    pub marks: Vec<MarkNode>,
    /// Vega's built-in `width` and `height` signals where the spec fixes them (a
    /// number, with `pad` or `none` autosize, which leave them as given) and does
    /// not declare them itself.
    pub builtin_signals: Vec<(String, Json)>,
}

fn builtin_signals(spec: &Spec) -> Vec<(String, Json)> {
    let autosize = spec.extra.get("autosize").map(|a| a.get("type").unwrap_or(a));
    let config_autosize = spec.extra.get("config").and_then(|c| c.get("autosize"));
    if !matches!(autosize.and_then(Json::as_str), None | Some("pad" | "none")) || config_autosize.is_some() {
        return Vec::new();
    }
    ["width", "height"]
        .into_iter()
        .filter(|name| !spec.signals().iter().any(|s| s.name == *name))
        .filter_map(|name| Some((name.to_string(), Json::from(spec.extra.get(name)?.as_f64()?))))
        .collect()
}

/// Declared names per scope, for resolution.
#[derive(Default)]
struct Declarations(HashSet<(usize, Namespace, String)>);

impl SpecGraph {
    pub fn new(spec: &Spec) -> SpecGraph {
        let mut graph = SpecGraph::default();
        let mut decls = Declarations::default();
        let mut bodies: Vec<(&Spec, Option<&Mark>)> = Vec::new();
        graph.collect_scopes(spec, None, Vec::new(), None, &mut bodies, &mut decls);
        graph.builtin_signals = builtin_signals(spec);
        for (index, (body, mark)) in bodies.iter().enumerate() {
            graph.add_scope_contents(index, body, *mark, &decls);
        }
        graph.classify();
        graph
    }

    fn collect_scopes<'a>(
        &mut self,
        body: &'a Spec,
        mark: Option<&'a Mark>,
        path: ScopePath,
        parent: Option<usize>,
        bodies: &mut Vec<(&'a Spec, Option<&'a Mark>)>,
        decls: &mut Declarations,
    ) {
        let index = self.scopes.len();
        let instanced = mark.is_some_and(|m| m.from.is_some());
        let projections = body.extra.get("projections").and_then(Json::as_array).cloned().unwrap_or_default();
        self.scopes.push(Scope { path: path.clone(), parent, instanced, projections });
        bodies.push((body, mark));
        for d in body.data() {
            decls.0.insert((index, Namespace::Data, d.name.clone()));
        }
        if let Some(facet) = mark.and_then(facet_name) {
            decls.0.insert((index, Namespace::Data, facet));
        }
        for s in body.signals() {
            decls.0.insert((index, Namespace::Signal, s.name.clone()));
        }
        for scale in body.extra.get("scales").and_then(Json::as_array).into_iter().flatten() {
            if let Some(name) = scale.get("name").and_then(Json::as_str) {
                decls.0.insert((index, Namespace::Scale, name.to_string()));
            }
        }
        for (k, group) in body.marks().iter().filter(|m| m.kind == "group").enumerate() {
            let mut child = path.clone();
            child.push(k as u32);
            self.collect_scopes(&group.scope, Some(group), child, Some(index), bodies, decls);
        }
    }

    fn add_scope_contents(&mut self, scope: usize, body: &Spec, mark: Option<&Mark>, decls: &Declarations) {
        if let Some(m) = mark {
            if let Some(facet) = m.from.as_ref().and_then(|f| f.get("facet")) {
                let name = facet_name(m).unwrap_or_default();
                let source = facet.get("data").and_then(Json::as_str).unwrap_or_default();
                let parent = self.scopes[scope].parent.unwrap_or(0);
                let data = Data { name: name.clone(), source: Some(crate::spec::Source::One(source.to_string())), ..Data::default() };
                self.datasets.push(DatasetNode {
                    var: Var::data(&name, &self.scopes[scope].path),
                    scope,
                    sources: vec![self.resolve(decls, Namespace::Data, source, parent)],
                    data,
                    input: Reads::default(),
                    transforms: Vec::new(),
                    client_owned: false,
                    written_at_start: false,
                    facet: true,
                });
            }
        }
        for d in body.data() {
            self.add_dataset(scope, d, decls);
        }
        for s in body.signals() {
            let mut refs = Refs::default();
            for e in [&s.update, &s.init].into_iter().flatten() {
                refs.add_expr(e);
            }
            refs.add_json(s.on.as_ref().unwrap_or(&Json::Null));
            let reads = self.reads(decls, scope, &refs, &[]);
            let var = Var::signal(&s.name, &self.scopes[scope].path);
            self.signals.push(SignalNode { var, scope, signal: s.clone(), reads, client_driven: false });
        }
        for scale in body.extra.get("scales").and_then(Json::as_array).into_iter().flatten() {
            let name = scale.get("name").and_then(Json::as_str).unwrap_or_default();
            let reads = self.reads(decls, scope, &Refs::of_json(scale), &data_names_in(scale));
            self.scales.push(ScaleNode { var: Var { namespace: Namespace::Scale, name: name.to_string(), scope: self.scopes[scope].path.clone() }, reads });
        }
        for m in body.marks() {
            let mut own = serde_json::to_value(m).unwrap_or(Json::Null);
            if let Json::Object(o) = &mut own {
                // A group's contents belong to its own scope.
                for k in ["data", "signals", "marks", "scales"] {
                    o.remove(k);
                }
            }
            let reads = self.reads(decls, scope, &Refs::of_json(&own), &data_names_in(m.from.as_ref().unwrap_or(&Json::Null)));
            self.marks.push(MarkNode { scope, kind: m.kind.clone(), name: m.name.clone(), reads });
        }
    }

    fn add_dataset(&mut self, scope: usize, d: &Data, decls: &Declarations) {
        let sources = d.source.as_ref().map(|s| s.names()).unwrap_or_default();
        let sources = sources.into_iter().map(|n| self.resolve_outside(decls, &d.name, n, scope)).collect();
        let mut input = Refs::default();
        for v in [&d.url, &d.values, &d.format].into_iter().flatten() {
            if !v.is_array() {
                input.add_json(v);
            }
        }
        let input = self.reads(decls, scope, &input, &[]);
        let transforms = d
            .transforms()
            .iter()
            .map(|t| {
                let params = Json::Object(t.params.clone());
                let from: Vec<String> = t.param("from").and_then(Json::as_str).map(str::to_string).into_iter().collect();
                let mut refs = Refs::of_json(&params);
                // A transform that projects (`geopoint`) reads what its projection reads.
                if let Some(projection) = t.param("projection").and_then(Json::as_str).and_then(|name| self.projection(scope, name)) {
                    refs.add_json(projection);
                }
                self.reads(decls, scope, &refs, &from)
            })
            .collect();
        let var = Var::data(&d.name, &self.scopes[scope].path);
        self.datasets.push(DatasetNode { var, scope, data: d.clone(), sources, input, transforms, client_owned: false, written_at_start: false, facet: false });
    }

    /// A dataset's `source` may name a dataset of the same name in an enclosing scope.
    fn resolve_outside(&self, decls: &Declarations, own: &str, name: &str, scope: usize) -> Var {
        match (name == own, self.scopes[scope].parent) {
            (true, Some(parent)) => self.resolve(decls, Namespace::Data, name, parent),
            _ => self.resolve(decls, Namespace::Data, name, scope),
        }
    }

    fn reads(&self, decls: &Declarations, scope: usize, refs: &Refs, extra_data: &[String]) -> Reads {
        let signals = refs.signals.iter().map(|n| self.resolve(decls, Namespace::Signal, n, scope)).collect();
        let mut datasets: Vec<Var> = refs.datasets.iter().chain(extra_data).map(|n| self.resolve(decls, Namespace::Data, n, scope)).collect();
        datasets.dedup();
        Reads { signals, datasets }
    }

    fn resolve(&self, decls: &Declarations, ns: Namespace, name: &str, scope: usize) -> Var {
        let mut at = Some(scope);
        while let Some(s) = at {
            if decls.0.contains(&(s, ns, name.to_string())) {
                return Var { namespace: ns, name: name.to_string(), scope: self.scopes[s].path.clone() };
            }
            at = self.scopes[s].parent;
        }
        Var { namespace: ns, name: name.to_string(), scope: Vec::new() }
    }

    /// Marks client-owned datasets and client-driven signals.
    fn classify(&mut self) {
        let mut owned: HashSet<Var> = HashSet::new();
        let mut written_at_start: HashSet<Var> = HashSet::new();
        for s in &self.signals {
            let mut refs = Refs::default();
            refs.add_json(s.signal.on.as_ref().unwrap_or(&Json::Null));
            for name in refs.modified {
                owned.insert(self.lookup_data(&name, s.scope));
            }
            // An `update` or `init` runs when the view starts: its `modify` fills
            // the store before any event (Vega-Lite's animation frames).
            let mut at_start = Refs::default();
            s.signal.update.iter().chain(&s.signal.init).for_each(|e| at_start.add_expr(e));
            for name in at_start.modified {
                written_at_start.insert(self.lookup_data(&name, s.scope));
            }
        }
        for d in &mut self.datasets {
            d.written_at_start = written_at_start.contains(&d.var);
            if d.data.extra.contains_key("on") || owned.contains(&d.var) || d.written_at_start {
                d.client_owned = true;
            }
        }
        let owned: HashSet<Var> = self.datasets.iter().filter(|d| d.client_owned).map(|d| d.var.clone()).collect();
        let mut driven: HashSet<Var> = HashSet::new();
        loop {
            let before = driven.len();
            for s in &mut self.signals {
                let reads_driven = s.reads.signals.iter().any(|v| driven.contains(v)) || s.reads.datasets.iter().any(|v| owned.contains(v));
                if s.signal.is_interactive() || reads_driven {
                    s.client_driven = true;
                    driven.insert(s.var.clone());
                }
            }
            if driven.len() == before {
                break;
            }
        }
    }

    fn lookup_data(&self, name: &str, scope: usize) -> Var {
        let mut at = Some(scope);
        while let Some(s) = at {
            let var = Var::data(name, &self.scopes[s].path);
            if self.datasets.iter().any(|d| d.var == var) {
                return var;
            }
            at = self.scopes[s].parent;
        }
        Var::data(name, &[])
    }

    pub fn scope_index(&self, path: &[u32]) -> Option<usize> {
        self.scopes.iter().position(|s| s.path == path)
    }

    pub fn dataset(&self, var: &Var) -> Option<&DatasetNode> {
        self.datasets.iter().find(|d| &d.var == var)
    }

    pub fn signal(&self, var: &Var) -> Option<&SignalNode> {
        self.signals.iter().find(|s| &s.var == var)
    }

    /// True when a signal's value changes on the client.
    pub fn is_client_driven(&self, var: &Var) -> bool {
        self.signal(var).is_some_and(|s| s.client_driven)
    }

    /// True when a dataset is changed by the client.
    pub fn is_client_owned(&self, var: &Var) -> bool {
        self.dataset(var).is_some_and(|d| d.client_owned)
    }

    /// Where each dataset's pipeline first reads what the client changes (a
    /// client-driven signal, a selection store): the number of transforms before
    /// that point. Datasets that never do are not listed. A chart that must work
    /// without a server evaluates from there on in the browser.
    pub fn interaction_cuts(&self) -> HashMap<Var, usize> {
        let interactive = |r: &Reads| r.signals.iter().any(|v| self.is_client_driven(v)) || r.datasets.iter().any(|v| self.is_client_owned(v));
        let mut cuts = HashMap::new();
        for d in self.datasets.iter().filter(|d| !d.client_owned) {
            let cut = if interactive(&d.input) || d.sources.iter().any(|v| self.is_client_owned(v) || cuts.contains_key(v)) {
                Some(0)
            } else {
                d.transforms.iter().position(interactive)
            };
            if let Some(cut) = cut {
                cuts.insert(d.var.clone(), cut);
            }
        }
        cuts
    }

    /// The definition of the projection `name` as seen from `scope` (its own
    /// projections, then those of the enclosing scopes).
    pub fn projection(&self, scope: usize, name: &str) -> Option<&Json> {
        let mut at = Some(scope);
        while let Some(s) = at {
            if let Some(p) = self.scopes[s].projections.iter().find(|p| p.get("name").and_then(Json::as_str) == Some(name)) {
                return Some(p);
            }
            at = self.scopes[s].parent;
        }
        None
    }

    /// True when a scope or one of its ancestors is instanced.
    pub fn in_instanced_scope(&self, scope: usize) -> bool {
        let mut at = Some(scope);
        while let Some(s) = at {
            if self.scopes[s].instanced {
                return true;
            }
            at = self.scopes[s].parent;
        }
        false
    }
}

fn facet_name(mark: &Mark) -> Option<String> {
    mark.from.as_ref()?.get("facet")?.get("name")?.as_str().map(str::to_string)
}

/// Dataset names in `{"data": NAME}` objects anywhere in a fragment (scale domains,
/// mark `from`).
fn data_names_in(value: &Json) -> Vec<String> {
    let mut out = Vec::new();
    fn walk(v: &Json, out: &mut Vec<String>) {
        match v {
            Json::Object(o) => {
                if let Some(Json::String(name)) = o.get("data") {
                    out.push(name.clone());
                }
                o.values().for_each(|x| walk(x, out));
            }
            Json::Array(a) => a.iter().for_each(|x| walk(x, out)),
            _ => {}
        }
    }
    walk(value, &mut out);
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn graph(v: Json) -> SpecGraph {
        SpecGraph::new(&serde_json::from_value(v).unwrap())
    }

    #[test]
    fn a_store_modified_by_an_update_is_written_when_the_view_starts() {
        let g = graph(json!({
            "signals": [
                {"name": "tick", "update": "modify('frame', {values: [1]}, true)"},
                {"name": "click", "value": 0, "on": [{"events": "click", "update": "modify('picked', {x: 1})"}]}
            ],
            "data": [{"name": "frame"}, {"name": "picked"}]
        }));
        let frame = g.dataset(&Var::data("frame", &[])).unwrap();
        assert!(frame.client_owned && frame.written_at_start);
        let picked = g.dataset(&Var::data("picked", &[])).unwrap();
        assert!(picked.client_owned && !picked.written_at_start, "an event's modify leaves the store empty at the start");
    }

    #[test]
    fn resolves_across_scopes_and_classifies_interaction() {
        let g = graph(json!({
            "signals": [
                {"name": "brush", "value": 0, "on": [{"events": "mousedown", "update": "modify('store', {x: 1})"}]},
                {"name": "limit", "update": "brush * 2"},
                {"name": "fixed", "value": 3}
            ],
            "data": [
                {"name": "store"},
                {"name": "t", "url": "x.json", "transform": [{"type": "filter", "expr": "datum.a < limit && vlSelectionTest('store', datum)"}]}
            ],
            "marks": [
                {"type": "rect", "from": {"data": "t"}},
                {"type": "group", "data": [{"name": "t", "source": "t", "transform": [{"type": "filter", "expr": "datum.b > fixed + inner"}]}],
                 "signals": [{"name": "inner", "value": 1}],
                 "marks": [{"type": "group", "from": {"facet": {"name": "f", "data": "t", "groupby": "g"}}}]}
            ],
            "scales": [{"name": "x", "domain": {"data": "t", "field": "a"}}]
        }));
        assert_eq!(g.scopes.len(), 3);
        assert_eq!(g.scopes[2].path, vec![0, 0]);
        assert!(g.in_instanced_scope(2) && !g.in_instanced_scope(1));
        assert!(g.is_client_owned(&Var::data("store", &[])));
        assert!(g.is_client_driven(&Var::signal("brush", &[])));
        assert!(g.is_client_driven(&Var::signal("limit", &[])), "reads a client-driven signal");
        assert!(!g.is_client_driven(&Var::signal("fixed", &[])));
        let t = g.dataset(&Var::data("t", &[])).unwrap();
        assert_eq!(t.transforms[0].signals, vec![Var::signal("limit", &[])]);
        assert_eq!(t.transforms[0].datasets, vec![Var::data("store", &[])]);
        let inner = g.dataset(&Var::data("t", &[0])).unwrap();
        assert_eq!(inner.sources, vec![Var::data("t", &[])], "a same-named source is the outer dataset");
        assert_eq!(inner.transforms[0].signals, vec![Var::signal("fixed", &[]), Var::signal("inner", &[0])]);
        let facet = g.dataset(&Var::data("f", &[0, 0])).unwrap();
        assert!(facet.facet);
        assert_eq!(facet.sources, vec![Var::data("t", &[0])]);
        assert_eq!(g.scales[0].reads.datasets, vec![Var::data("t", &[])]);
        assert_eq!(g.marks[0].reads.datasets, vec![Var::data("t", &[])]);
    }
}
