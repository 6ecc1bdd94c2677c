//! The evaluation environment of one spec: signal values (declared, set by the
//! caller, or produced by transforms) and the rows and plans of evaluated datasets,
//! per scope.

use datafusion::logical_expr::LogicalPlan;
use serde_json::{Map, Value as Json};
use std::collections::HashMap;
use std::sync::Mutex;
use vegalake_planner::values::time::Zone;
use vegalake_planner::{ScopePath, SpecGraph, Var};
use vegalake_sql_gen::lower::Lowerer;
use vegalake_sql_gen::{Environment, SignalValue};

/// How far a declared signal has been evaluated.
#[derive(Debug, Clone)]
enum SignalState {
    Known(Json),
    /// Its `update` could not be evaluated (yet): retried when asked again.
    Pending(String),
    ClientOnly,
}

/// The state of every scope of a spec. Names resolve from a scope outwards, as in
/// Vega; [`SpecEnvironment::scope`] gives the [`Environment`] of one scope.
pub struct SpecEnvironment {
    zone: Zone,
    /// Each scope's parent and path, in the graph's scope order.
    parents: Vec<Option<usize>>,
    paths: Vec<ScopePath>,
    signals: Mutex<HashMap<Key, SignalState>>,
    /// Declaration order of root signals, for printing.
    order: Vec<String>,
    datasets: HashMap<Key, Vec<Map<String, Json>>>,
    plans: HashMap<Key, LogicalPlan>,
    /// Projection definitions by scope and name.
    projections: HashMap<Key, Json>,
}

/// The signals vega-parser declares in every view.
const BUILTIN_SIGNALS: [&str; 5] = ["background", "autosize", "padding", "width", "height"];

/// A name in a scope (by scope index).
type Key = (usize, String);

impl SpecEnvironment {
    /// The environment of `graph`'s spec with `overrides` applied to its signals (an
    /// override of an undeclared signal declares it).
    pub fn new(zone: Zone, graph: &SpecGraph, overrides: &HashMap<Var, Json>) -> SpecEnvironment {
        let parents = graph.scopes.iter().map(|s| s.parent).collect();
        let paths: Vec<ScopePath> = graph.scopes.iter().map(|s| s.path.clone()).collect();
        let mut signals = HashMap::new();
        let mut order = Vec::new();
        for node in &graph.signals {
            let s = &node.signal;
            let state = if let Some(v) = overrides.get(&node.var) {
                SignalState::Known(v.clone())
            } else if let Some(u) = s.update.as_ref().or(s.init.as_ref()) {
                SignalState::Pending(u.clone())
            } else if s.push.is_some() {
                SignalState::ClientOnly
            } else {
                SignalState::Known(s.value.clone().unwrap_or(Json::Null))
            };
            signals.insert((node.scope, s.name.clone()), state);
            if node.scope == 0 {
                order.push(s.name.clone());
            }
        }
        // A signal a transform defines (`extent`'s, `geojson`'s) exists before its
        // dataset runs: until then only the client would know it.
        for node in &graph.datasets {
            for name in node.defined_signals() {
                signals.entry((node.scope, name.to_string())).or_insert(SignalState::ClientOnly);
            }
        }
        for (name, v) in &graph.builtin_signals {
            signals.entry((0, name.clone())).or_insert_with(|| SignalState::Known(v.clone()));
        }
        // Vega declares these in every view; where the spec does not fix them (a
        // `fit` autosize, a container's width) only the client knows their values.
        for name in BUILTIN_SIGNALS {
            signals.entry((0, name.to_string())).or_insert(SignalState::ClientOnly);
        }
        for (var, v) in overrides {
            let Some(scope) = paths.iter().position(|p| p == &var.scope) else { continue };
            if let std::collections::hash_map::Entry::Vacant(e) = signals.entry((scope, var.name.clone())) {
                e.insert(SignalState::Known(v.clone()));
                if scope == 0 {
                    order.push(var.name.clone());
                }
            }
        }
        let projections = (graph.scopes.iter().enumerate())
            .flat_map(|(i, s)| s.projections.iter().filter_map(move |p| Some(((i, p.get("name")?.as_str()?.to_string()), p.clone()))))
            .collect();
        SpecEnvironment { zone, parents, paths, signals: Mutex::new(signals), order, datasets: HashMap::new(), plans: HashMap::new(), projections }
    }

    /// The environment seen from one scope (an index of the graph's scopes).
    pub fn scope(&self, scope: usize) -> ScopedEnvironment<'_> {
        ScopedEnvironment { env: self, scope }
    }

    fn key(&self, var: &Var) -> Option<Key> {
        let scope = self.paths.iter().position(|p| p == &var.scope)?;
        Some((scope, var.name.clone()))
    }

    /// Records a signal computed by a transform.
    pub fn set_signal(&mut self, var: &Var, value: Json) {
        let Some(key) = self.key(var) else { return };
        let signals = self.signals.get_mut().expect("not poisoned");
        if key.0 == 0 && !self.order.contains(&key.1) {
            self.order.push(key.1.clone());
        }
        signals.insert(key, SignalState::Known(value));
    }

    pub fn set_dataset_plan(&mut self, var: &Var, plan: LogicalPlan) {
        if let Some(key) = self.key(var) {
            self.plans.insert(key, plan);
        }
    }

    pub fn set_dataset_rows(&mut self, var: &Var, rows: Vec<Map<String, Json>>) {
        if let Some(key) = self.key(var) {
            self.datasets.insert(key, rows);
        }
    }

    pub fn dataset_rows_of(&self, var: &Var) -> Option<&[Map<String, Json>]> {
        self.datasets.get(&self.key(var)?).map(Vec::as_slice)
    }

    pub fn dataset_plan_of(&self, var: &Var) -> Option<&LogicalPlan> {
        self.plans.get(&self.key(var)?)
    }

    /// A signal's value, evaluating its update if needed; `None` when only the
    /// client knows it.
    pub fn signal_value(&self, var: &Var) -> Option<Json> {
        let scope = self.paths.iter().position(|p| p == &var.scope)?;
        match self.scope(scope).signal(&var.name)? {
            SignalValue::Known(v) => Some(v),
            SignalValue::ClientOnly => None,
        }
    }

    /// Every root signal whose value is known on the server, in declaration order.
    pub fn known_signals(&self) -> Map<String, Json> {
        let mut out = Map::new();
        let root = self.scope(0);
        for name in self.order.iter().filter(|n| !n.starts_with("__vl_")) {
            if let Some(SignalValue::Known(v)) = root.signal(name) {
                out.insert(name.clone(), v);
            }
        }
        out
    }

    /// The scope that declares `name` as seen from `scope`, for signals or datasets.
    fn resolve<T>(&self, map: &HashMap<Key, T>, name: &str, scope: usize) -> Option<usize> {
        let mut at = Some(scope);
        while let Some(s) = at {
            if map.contains_key(&(s, name.to_string())) {
                return Some(s);
            }
            at = self.parents[s];
        }
        None
    }

    fn signal_in(&self, name: &str, scope: usize) -> Option<SignalValue> {
        let declared = {
            let signals = self.signals.lock().expect("not poisoned");
            self.resolve(&signals, name, scope)
        }?;
        let key = (declared, name.to_string());
        let state = self.signals.lock().expect("not poisoned").get(&key).cloned()?;
        Some(match state {
            SignalState::Known(v) => SignalValue::Known(v),
            SignalState::ClientOnly => SignalValue::ClientOnly,
            SignalState::Pending(src) => {
                // Marked client-only while evaluating, so self-references end.
                self.signals.lock().expect("not poisoned").insert(key.clone(), SignalState::ClientOnly);
                match self.scope(declared).evaluate(&src) {
                    Some(v) => {
                        self.signals.lock().expect("not poisoned").insert(key, SignalState::Known(v.clone()));
                        SignalValue::Known(v)
                    }
                    None => {
                        self.signals.lock().expect("not poisoned").insert(key, SignalState::Pending(src));
                        SignalValue::ClientOnly
                    }
                }
            }
        })
    }
}

/// The [`Environment`] of one scope of a spec.
pub struct ScopedEnvironment<'a> {
    env: &'a SpecEnvironment,
    scope: usize,
}

impl ScopedEnvironment<'_> {
    fn evaluate(&self, source: &str) -> Option<Json> {
        let schema = datafusion::common::DFSchema::empty();
        let lowerer = Lowerer::new(&schema, self);
        let ast = vegalake_planner::expr::parse(source).ok()?;
        let value = lowerer.lower(&ast).ok()?;
        value.to_json()
    }
}

impl Environment for ScopedEnvironment<'_> {
    fn signal(&self, name: &str) -> Option<SignalValue> {
        self.env.signal_in(name, self.scope)
    }

    fn dataset_rows(&self, name: &str) -> Option<&[Map<String, Json>]> {
        let scope = self.env.resolve(&self.env.datasets, name, self.scope)?;
        self.env.datasets.get(&(scope, name.to_string())).map(Vec::as_slice)
    }

    fn zone(&self) -> Zone {
        self.env.zone
    }

    fn dataset_plan(&self, name: &str) -> Option<LogicalPlan> {
        let scope = self.env.resolve(&self.env.plans, name, self.scope)?;
        self.env.plans.get(&(scope, name.to_string())).cloned()
    }

    fn projection(&self, name: &str) -> Option<Json> {
        let scope = self.env.resolve(&self.env.projections, name, self.scope)?;
        self.env.projections.get(&(scope, name.to_string())).cloned()
    }
}
