//! The conformance suite: every spec under `specs/` evaluated by vegalake and
//! compared with what vega.js computed for it (`expected/`, made by
//! `harness/regenerate.sh`). A dataset may be left to the client only where
//! `unsupported.json` says so, with the reason it must give.

use crate::{arrow_proxies, expected_files, read_json, root, spec_options};
use serde_json::{Map, Value as Json};
use std::path::PathBuf;
use vegalake_executors::{evaluate_on, Runtime};
use vegalake_integration_tests::{compare_datasets, values_agree};
use vegalake_planner::Spec;

/// What a run of the suite found.
pub struct Outcome {
    /// The names of the specs that ran.
    pub specs: Vec<String>,
    pub checked: usize,
    pub on_server: usize,
    pub failures: Vec<String>,
}

impl Outcome {
    pub fn summary(&self) -> String {
        format!("{} specs, {} datasets, {} evaluated on the server and equal to vega.js", self.specs.len(), self.checked, self.on_server)
    }
}

async fn check_spec(runtime: &Runtime, name: &str, expected: &Json, allowed: &Map<String, Json>, out: &mut Outcome) {
    let spec: Spec = serde_json::from_value(expected["spec"].clone()).expect("expected files hold valid specs");
    let opts = spec_options(expected);
    let result = match evaluate_on(runtime, &spec, &opts).await {
        Ok(r) => r,
        Err(e) => {
            out.failures.push(format!("{name}: evaluation failed: {e}"));
            return;
        }
    };
    let theirs = expected["datasets"].as_object().expect("datasets");
    for (ds, rows) in theirs {
        out.checked += 1;
        match (result.datasets.get(ds), result.unsupported.get(ds), allowed.get(ds)) {
            // vega.js's view.data() returns the dataset's own (unsorted) collect, so
            // even sorted datasets compare as multisets.
            (Some(ours), _, None) if arrow_proxies(rows) => {
                if ours.as_array().map(Vec::len) == rows.as_array().map(Vec::len) {
                    out.on_server += 1;
                } else {
                    out.failures.push(format!("{name}/{ds}: row count differs"));
                }
            }
            (Some(ours), _, None) => match compare_datasets(ours, rows, false) {
                None => out.on_server += 1,
                Some(diff) => out.failures.push(format!("{name}/{ds}: {diff}")),
            },
            (Some(_), _, Some(_)) => out.failures.push(format!("{name}/{ds}: evaluated on the server but listed in unsupported.json")),
            (None, Some(reason), Some(want)) => {
                let (reason, want) = (reason.as_str().unwrap_or(""), want.as_str().unwrap_or(""));
                if !reason.contains(want) {
                    out.failures.push(format!("{name}/{ds}: unsupported because {reason:?}, expected a reason containing {want:?}"));
                }
            }
            (None, Some(reason), None) => out.failures.push(format!("{name}/{ds}: unsupported: {reason}")),
            (None, None, _) => out.failures.push(format!("{name}/{ds}: missing from the result")),
        }
    }
    let their_signals = expected["signals"].as_object().expect("signals");
    for (sig, ours) in &result.signals {
        if let Some(theirs) = their_signals.get(sig) {
            if !values_agree(ours, theirs) {
                out.failures.push(format!("{name}: signal {sig}: ours {ours} vs vega.js {theirs}"));
            }
        }
    }
}

/// Every spec of the suite evaluated on a runtime from `new_runtime` (a fresh one
/// per spec, as `vegalake eval` has), compared with vega.js.
pub async fn run_conformance(new_runtime: &dyn Fn() -> Runtime) -> Outcome {
    let allowed_all = read_json(&root().join("unsupported.json"));
    // VEGALAKE_SPECS=a,b runs only those specs (to look into one).
    let only: Option<Vec<String>> = std::env::var("VEGALAKE_SPECS").ok().map(|s| s.split(',').map(str::to_string).collect());
    let files: Vec<PathBuf> =
        expected_files().into_iter().filter(|f| only.as_ref().is_none_or(|o| o.iter().any(|n| f.file_stem().unwrap() == n.as_str()))).collect();
    let mut out = Outcome { specs: Vec::new(), checked: 0, on_server: 0, failures: Vec::new() };
    for f in &files {
        let name = f.file_stem().unwrap().to_str().unwrap().to_string();
        out.specs.push(name.clone());
        let allowed = allowed_all[&name].as_object().cloned().unwrap_or_default();
        let start = std::time::Instant::now();
        check_spec(&new_runtime(), &name, &read_json(f), &allowed, &mut out).await;
        if start.elapsed() > std::time::Duration::from_secs(10) {
            println!("conformance: {name} took {:.1} s", start.elapsed().as_secs_f64());
        }
    }
    for name in allowed_all.as_object().expect("object").keys().filter(|_| only.is_none()) {
        assert!(files.iter().any(|f| f.file_stem().unwrap() == name.as_str()), "unsupported.json names unknown spec {name}");
    }
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn conformance_with_vega_js() {
    let out = run_conformance(&Runtime::default).await;
    println!("conformance: {}", out.summary());
    assert!(out.failures.is_empty(), "{} failures:\n{}", out.failures.len(), out.failures.join("\n"));
}

/// Our syntax tree in the canonical form `harness/parse-corpus.mjs` prints vega's.
fn canonical(e: &vegalake_planner::expr::Expr) -> String {
    use vegalake_planner::expr::{ExprKind as K, LogicalOp, UnaryOp};
    use vegalake_planner::values::number::js_number_to_string;
    let list = |items: &[vegalake_planner::expr::Expr]| items.iter().map(canonical).collect::<Vec<_>>().join(",");
    let lit_number = |n: f64| if n.is_finite() { js_number_to_string(n) } else { "null".into() };
    match &e.kind {
        K::Number(n) => format!("lit({})", lit_number(*n)),
        K::String(s) => format!("lit({})", Json::String(s.clone())),
        K::Boolean(b) => format!("lit({b})"),
        K::Null => "lit(null)".into(),
        K::Regex { pattern, flags } => format!("re({},{})", Json::String(pattern.clone()), Json::String(flags.clone())),
        K::Identifier(n) => format!("id({n})"),
        K::Member { object, property, computed } => match (&property.kind, computed) {
            (K::String(name), false) => format!("mem({},id({name}),false)", canonical(object)),
            _ => format!("mem({},{},true)", canonical(object), canonical(property)),
        },
        K::Call { callee, args } => format!("call({callee}{})", args.iter().map(|a| format!(",{}", canonical(a))).collect::<String>()),
        K::Unary { op, arg } => {
            let op = match op {
                UnaryOp::Neg => "-",
                UnaryOp::Plus => "+",
                UnaryOp::Not => "!",
                UnaryOp::BitNot => "~",
            };
            format!("un({op},{})", canonical(arg))
        }
        K::Binary { op, left, right } => format!("bin({},{},{})", op.symbol(), canonical(left), canonical(right)),
        K::Logical { op, left, right } => {
            format!("log({},{},{})", if *op == LogicalOp::And { "&&" } else { "||" }, canonical(left), canonical(right))
        }
        K::Conditional { test, consequent, alternate } => format!("cond({},{},{})", canonical(test), canonical(consequent), canonical(alternate)),
        K::Array(items) => format!("arr({})", list(items)),
        K::Object(props) => format!("obj({})", props.iter().map(|(k, v)| format!("{k}:{}", canonical(v))).collect::<Vec<_>>().join(",")),
    }
}

/// Our parser against vega's own (vega-expression) on every expression of the suite's
/// specs plus hand-picked edge cases: the same tree, or an error on both sides.
#[test]
fn expressions_parse_like_vega() {
    let expected = read_json(&root().join("expressions/expected.json"));
    let cases = expected.as_array().expect("array");
    assert!(cases.len() > 500, "corpus of {} expressions", cases.len());
    let mut failures = Vec::new();
    for case in cases {
        let (expr, tree) = (case["expr"].as_str().unwrap(), case["tree"].as_str().unwrap());
        let ours = vegalake_planner::expr::parse(expr).map(|e| canonical(&e)).unwrap_or_else(|_| "error".into());
        if ours != tree {
            failures.push(format!("{expr:?}: ours {ours}, vega {tree}"));
        }
    }
    println!("expressions: {} parsed like vega's parser", cases.len() - failures.len());
    assert!(failures.is_empty(), "{} of {} differ:\n{}", failures.len(), cases.len(), failures.join("\n"));
}
