//! The conformance suite and the lake's tables on the remote engines (their
//! faults are a test binary of their own: `tests/faults.rs`).
//!
//! - Ballista: our scheduler and two executors (`vegalake scheduler`, `vegalake
//!   executor`), started here as separate processes on loopback and stopped after.
//! - Spark: the Spark Connect server the test script starts once per run (from
//!   the pyspark wheel), at `VEGALAKE_SPARK_CONNECT`.
//!
//! Results must equal vega.js's as on the local engine, except the differences
//! `engine_differences.json` lists with their reason; a listed difference that
//! disappears fails too, so the list stays true.

use crate::conformance::{run_conformance, Outcome};
use crate::lake::{run_cases, LocalLake};
use crate::processes::{spark_url, Cluster};
use crate::{read_json, root};
use serde_json::{Map, Value as Json};
use std::sync::Arc;
use std::time::{Duration, Instant};
use vegalake_executors::engine::{connect, EngineOptions, QueryEngine};
use vegalake_executors::sql::SqlError;
use vegalake_executors::{server_tasks, EvalOptions, Runtime, SqlDialect, DEFAULT_CACHE_BYTES};

/// The conformance suite on `engine`, held to the local engine's result except
/// the differences listed for it.
async fn conformance_on(name: &str, engine: Arc<dyn QueryEngine>) {
    let start = Instant::now();
    let out = run_conformance(&|| Runtime::with_engine(engine.clone(), DEFAULT_CACHE_BYTES, None)).await;
    let known = read_json(&root().join("engine_differences.json"))[name].as_object().cloned().unwrap_or_default();
    let unexplained = differences_beyond(&out, &known);
    println!("conformance on {name} ({}): {}, {} known differences, {:.0} s", engine.url(), out.summary(), known.len(), start.elapsed().as_secs_f64());
    assert!(unexplained.is_empty(), "{} failures on {name}:\n{}", unexplained.len(), unexplained.join("\n"));
}

/// Failures not listed in `known` (keys "spec" or "spec/dataset"), and listed ones
/// of specs that ran that did not happen.
fn differences_beyond(out: &Outcome, known: &Map<String, Json>) -> Vec<String> {
    let listed = |f: &String| known.keys().any(|k| f.starts_with(&format!("{k}:")));
    let mut unexplained: Vec<String> = out.failures.iter().filter(|f| !listed(f)).cloned().collect();
    let ran = |k: &&String| out.specs.iter().any(|s| k.split('/').next() == Some(s.as_str()));
    for k in known.keys().filter(ran).filter(|k| !out.failures.iter().any(|f| f.starts_with(&format!("{k}:")))) {
        unexplained.push(format!("{k}: listed in engine_differences.json but equal now"));
    }
    unexplained
}

/// No query of the suite takes long: one that does is stuck, and fails as such.
pub(crate) const CONFORMANCE_OPTIONS: EngineOptions = EngineOptions { timeout: Some(Duration::from_secs(60)) };

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn conformance_on_a_ballista_cluster_of_two_executors() {
    let cluster = Cluster::start(2);
    conformance_on("ballista", cluster.engine(CONFORMANCE_OPTIONS).await).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn conformance_on_spark_connect() {
    let engine = connect(&spark_url(), CONFORMANCE_OPTIONS).await.unwrap_or_else(|e| panic!("{e}"));
    conformance_on("spark", engine).await;
}

/// The lake's tables on the cluster and on Spark: a hive-partitioned Parquet
/// dataset, and a Delta table at three versions (read as the version's files, with
/// the partition column restored from the log). The results are vega.js's, and
/// the engine ran every query of the tables: none fell back to this process, not
/// even where Spark has no form of the whole plan (it runs the part that reads
/// and sums the table).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn lake_tables_run_on_the_cluster_and_on_spark() {
    let lake = LocalLake::write("lake-engines").await;
    let cases = crate::lake::cases();
    // log-sums has no Spark form whole: on Spark it runs in parts.
    let opts = EvalOptions { data: lake.access.clone(), ..EvalOptions::default() };
    for case in cases.iter().filter(|c| c.name.starts_with("log-sums@")) {
        let tasks = server_tasks(&case.spec, &opts).await.unwrap();
        let flights = tasks.iter().find(|t| t.dataset == "flights").unwrap();
        assert!(matches!(flights.sql(SqlDialect::Spark), Err(SqlError::NotPushable(_))), "{}: pushable whole", case.name);
    }
    let cluster = Cluster::start(2);
    let spark = connect(&spark_url(), CONFORMANCE_OPTIONS).await.unwrap_or_else(|e| panic!("{e}"));
    for (label, engine) in [("ballista", cluster.engine(CONFORMANCE_OPTIONS).await), ("spark", spark)] {
        let results = run_cases(&|| Runtime::with_engine(engine.clone(), DEFAULT_CACHE_BYTES, None), &cases, &lake.access, label).await;
        for (case, (_, scan)) in cases.iter().zip(&results) {
            assert!(scan.scans.remote_queries > 0 && scan.scans.queries == 0, "{label} {}: {}", case.name, scan.summary);
        }
        println!("lake on {label}: {} cases equal to vega.js, every table query on the engine", cases.len());
    }
}
