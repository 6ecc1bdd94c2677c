//! vegalake's end-to-end suite, one test binary: conformance of the server's
//! evaluation with vega.js, pretransformed specs run in vega.js, and interactions
//! replayed through `ChartState`, the same on a Ballista cluster and on Spark.

mod batch;
mod brush_exactness;
mod conformance;
mod engines;
mod interactions;
mod lake;
mod pretransform;
#[path = "../common/processes.rs"]
#[allow(dead_code)] // shared with tests/faults.rs, which uses the rest
mod processes;
mod scale;
mod sql;

use serde_json::Value as Json;
use std::path::{Path, PathBuf};

pub fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

pub fn read_json(path: &Path) -> Json {
    serde_json::from_str(&std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display())))
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// The expected outputs of the conformance suite, one file per spec, sorted.
pub fn expected_files() -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(root().join("expected")).expect("expected/").map(|e| e.unwrap().path()).collect();
    files.retain(|f| f.extension().is_some_and(|e| e == "json"));
    files.sort();
    assert!(files.len() >= 150, "the suite has {} specs", files.len());
    files
}

/// How a conformance spec is evaluated: its datasets directory, and the time zone,
/// signal values and stores its `usermeta.vegalake` asks for.
pub fn spec_options(expected: &Json) -> vegalake_executors::EvalOptions {
    let meta = &expected["spec"]["usermeta"]["vegalake"];
    vegalake_executors::EvalOptions {
        data: vegalake_executors::DataAccess::new(root().join("datasets")),
        zone: vegalake_planner::values::time::Zone::parse(meta["timezone"].as_str().unwrap_or("UTC")).expect("valid zone"),
        signals: meta["set"].as_object().cloned().unwrap_or_default(),
        stores: meta["store"].as_object().cloned().unwrap_or_default(),
    }
}

/// vega.js prints rows read from Arrow (vega-loader-arrow's proxy objects) as `{}`:
/// for those the reference only tells the row count.
pub fn arrow_proxies(rows: &Json) -> bool {
    rows.as_array().is_some_and(|r| !r.is_empty() && r.iter().all(|x| x.as_object().is_some_and(|o| o.is_empty())))
}

/// Runs the Node harness script `script` with `args`; its stdout as JSON. Fails the
/// test (it does not skip) when Node or the harness packages are missing: the test
/// script installs them (`npm ci` in integration-tests/harness).
pub fn run_harness(script: &str, args: &[&Path]) -> Json {
    let harness = root().join("harness");
    assert!(harness.join("node_modules/vega").is_dir(), "the Node harness is not installed: run `npm ci` in {}", harness.display());
    let output = std::process::Command::new("node")
        .arg(harness.join(script))
        .args(args)
        .output()
        .unwrap_or_else(|e| panic!("cannot run node (needed by this test): {e}"));
    assert!(output.status.success(), "{script} failed: {}", String::from_utf8_lossy(&output.stderr));
    serde_json::from_slice(&output.stdout).unwrap_or_else(|e| panic!("{script} printed invalid JSON: {e}"))
}

pub use vegalake_integration_tests::{columns, restrict};
