//! The evaluation environment of one spec: signal values (declared, set by the
//! caller, or produced by transforms) and the rows of evaluated datasets.

use datafusion::logical_expr::LogicalPlan;
use serde_json::{Map, Value as Json};
use std::collections::HashMap;
use std::sync::Mutex;
use vegalake_planner::values::time::Zone;
use vegalake_planner::Signal;
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

pub struct SpecEnvironment {
    zone: Zone,
    signals: Mutex<HashMap<String, SignalState>>,
    /// Declaration order, for printing.
    order: Vec<String>,
    datasets: HashMap<String, Vec<Map<String, Json>>>,
    plans: HashMap<String, LogicalPlan>,
}

impl SpecEnvironment {
    pub fn new(zone: Zone, declared: &[Signal], overrides: &Map<String, Json>) -> SpecEnvironment {
        let mut signals = HashMap::new();
        let mut order = Vec::new();
        for s in declared {
            let state = if let Some(v) = overrides.get(&s.name) {
                SignalState::Known(v.clone())
            } else if let Some(u) = s.update.as_ref().or(s.init.as_ref()) {
                SignalState::Pending(u.clone())
            } else if s.push.is_some() {
                SignalState::ClientOnly
            } else {
                SignalState::Known(s.value.clone().unwrap_or(Json::Null))
            };
            signals.insert(s.name.clone(), state);
            order.push(s.name.clone());
        }
        for (k, v) in overrides {
            if !signals.contains_key(k) {
                signals.insert(k.clone(), SignalState::Known(v.clone()));
                order.push(k.clone());
            }
        }
        SpecEnvironment { zone, signals: Mutex::new(signals), order, datasets: HashMap::new(), plans: HashMap::new() }
    }

    /// Records a signal computed by a transform.
    pub fn set_signal(&mut self, name: &str, value: Json) {
        let signals = self.signals.get_mut().expect("not poisoned");
        if !signals.contains_key(name) {
            self.order.push(name.to_string());
        }
        signals.insert(name.to_string(), SignalState::Known(value));
    }

    pub fn set_dataset_plan(&mut self, name: &str, plan: LogicalPlan) {
        self.plans.insert(name.to_string(), plan);
    }

    pub fn dataset_plan(&self, name: &str) -> Option<&LogicalPlan> {
        self.plans.get(name)
    }

    pub fn set_dataset_rows(&mut self, name: &str, rows: Vec<Map<String, Json>>) {
        self.datasets.insert(name.to_string(), rows);
    }

    /// Every signal whose value is known on the server, in declaration order.
    pub fn known_signals(&self) -> Map<String, Json> {
        let mut out = Map::new();
        for name in self.order.iter().filter(|n| !n.starts_with("__vl_")) {
            if let Some(SignalValue::Known(v)) = self.signal(name) {
                out.insert(name.clone(), v);
            }
        }
        out
    }

    fn evaluate(&self, source: &str) -> Option<Json> {
        let schema = datafusion::common::DFSchema::empty();
        let lowerer = Lowerer { schema: &schema, env: self };
        let ast = vegalake_planner::expr::parse(source).ok()?;
        let value = lowerer.lower(&ast).ok()?;
        value.to_json().or_else(|| value.as_scalar().and_then(|t| fold_constant(&t.expr)))
    }
}

/// Folds a constant expression (no columns) to a JSON value.
fn fold_constant(e: &datafusion::logical_expr::Expr) -> Option<Json> {
    use datafusion::logical_expr::simplify::SimplifyContext;
    use datafusion::optimizer::simplify_expressions::ExprSimplifier;
    let schema = std::sync::Arc::new(datafusion::common::DFSchema::empty());
    let simplifier = ExprSimplifier::new(SimplifyContext::builder().with_schema(schema).build());
    let folded = simplifier.simplify(e.clone()).ok()?;
    match folded {
        datafusion::logical_expr::Expr::Literal(v, _) => scalar_json(&v),
        _ => None,
    }
}

fn scalar_json(v: &datafusion::common::ScalarValue) -> Option<Json> {
    use datafusion::common::ScalarValue as S;
    Some(match v {
        v if v.is_null() => Json::Null,
        S::Float64(Some(x)) => vegalake_sql_gen::json_number(*x),
        S::Int64(Some(x)) => Json::from(*x),
        S::Utf8(Some(s)) => Json::String(s.clone()),
        S::Boolean(Some(b)) => Json::Bool(*b),
        _ => return None,
    })
}

impl Environment for SpecEnvironment {
    fn signal(&self, name: &str) -> Option<SignalValue> {
        let state = self.signals.lock().expect("not poisoned").get(name).cloned()?;
        Some(match state {
            SignalState::Known(v) => SignalValue::Known(v),
            SignalState::ClientOnly => SignalValue::ClientOnly,
            SignalState::Pending(src) => {
                // Mark as client-only while evaluating, so self-references end.
                self.signals.lock().expect("not poisoned").insert(name.to_string(), SignalState::ClientOnly);
                match self.evaluate(&src) {
                    Some(v) => {
                        self.signals.lock().expect("not poisoned").insert(name.to_string(), SignalState::Known(v.clone()));
                        SignalValue::Known(v)
                    }
                    None => {
                        self.signals.lock().expect("not poisoned").insert(name.to_string(), SignalState::Pending(src));
                        SignalValue::ClientOnly
                    }
                }
            }
        })
    }

    fn dataset_rows(&self, name: &str) -> Option<&[Map<String, Json>]> {
        self.datasets.get(name).map(Vec::as_slice)
    }

    fn zone(&self) -> Zone {
        self.zone
    }

    fn dataset_plan(&self, name: &str) -> Option<LogicalPlan> {
        self.plans.get(name).cloned()
    }
}
