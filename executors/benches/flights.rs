//! Benchmark: time to evaluate two typical charts over large Parquet files, and the
//! latency of `ChartState.update` while a crossfilter of three histograms is brushed.
//!
//!   scripts/bench.sh            (installs vega-datasets, builds in release, runs this)
//!
//! Charts: a binned histogram of `delay` (extent + bin + aggregate) and a
//! timeunit + aggregate chart (mean delay per year-month). Data: `flights-3m.parquet`
//! from the vega-datasets npm package, and a 10M-row Parquet file this benchmark
//! generates once (same columns, deterministic pseudo-random values).

mod common;

use common::{bench_dir, median, repo, vega_datasets};
use serde_json::json;
use std::path::Path;
use std::sync::Arc;
use std::time::Instant;
use vegalake_executors::{evaluate, new_session, ChartOptions, ChartState, EvalOptions, Runtime, VarValue};
use vegalake_planner::{Namespace, Spec};

const RUNS: usize = 5;
/// Enough that p95 is not the few brushes answered while their cubes build (the
/// first of each view's field).
const BRUSHES: usize = 200;

fn histogram(file: &str) -> Spec {
    serde_json::from_value(json!({"data": [{"name": "hist", "url": file, "transform": [
        {"type": "extent", "field": "delay", "signal": "delay_extent"},
        {"type": "bin", "field": "delay", "extent": {"signal": "delay_extent"}, "maxbins": 20, "signal": "delay_bins"},
        {"type": "aggregate", "groupby": ["bin0", "bin1"]}]}]}))
    .expect("valid spec")
}

fn timeunit(file: &str) -> Spec {
    serde_json::from_value(json!({"data": [{"name": "monthly", "url": file, "transform": [
        {"type": "timeunit", "field": "date", "units": ["year", "month"], "as": ["month", "month_end"]},
        {"type": "aggregate", "groupby": ["month", "month_end"], "ops": ["mean", "count"], "fields": ["delay", null]}]}]}))
    .expect("valid spec")
}

/// Writes `rows` flights-like rows to `path` with DataFusion.
async fn generate(path: &Path, rows: u64) {
    let ctx = new_session();
    let sql = format!(
        "SELECT to_timestamp_millis(978307200000 + (value * 104729) % 31536000000) AS date, \
                CAST((value * 7919) % 181 AS BIGINT) - 30 AS delay, \
                CAST(50 + (value * 6007) % 2950 AS BIGINT) AS distance, \
                concat('A', CAST((value * 31) % 97 AS VARCHAR)) AS origin, \
                concat('B', CAST((value * 37) % 89 AS VARCHAR)) AS destination \
         FROM generate_series(1, {rows})"
    );
    let df = ctx.sql(&sql).await.expect("generator query");
    df.write_parquet(path.to_str().unwrap(), Default::default(), None).await.expect("parquet written");
}

async fn bench(label: &str, spec: &Spec, dir: &Path) {
    let opts = EvalOptions { data: vegalake_executors::DataAccess::new(dir.to_path_buf()), ..EvalOptions::default() };
    let mut times = Vec::new();
    let mut rows = 0;
    for _ in 0..RUNS {
        let t = Instant::now();
        let out = evaluate(spec, &opts).await.expect("evaluates");
        times.push(t.elapsed());
        assert!(out.unsupported.is_empty(), "{:?}", out.unsupported);
        rows = out.datasets.values().map(|d| d.as_array().map_or(0, Vec::len)).sum();
    }
    let min = *times.iter().min().unwrap();
    println!("{label:<44} median {:>8.1} ms   min {:>8.1} ms   ({rows} rows out)", median(times).as_secs_f64() * 1e3, min.as_secs_f64() * 1e3);
}

/// The crossfilter of three histograms (delay, distance, hour) of the interaction
/// suite, reading `file`.
fn crossfilter(repo: &Path, file: &str) -> Spec {
    let path = repo.join("integration-tests/interactions/expected/crossfilter_three_histograms.json");
    let expected: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(&path).expect("interaction suite")).expect("JSON");
    let mut spec = expected["spec"].clone();
    for d in spec["data"].as_array_mut().expect("data") {
        if d["name"] == "source_0" {
            d["url"] = json!(file);
            d.as_object_mut().unwrap().remove("format");
        }
    }
    serde_json::from_value(spec).expect("valid spec")
}

/// The i-th brush of a session: over each histogram in turn, moving.
fn brush(i: usize) -> Vec<VarValue> {
    let k = i as f64;
    let (unit, field, range) = match i % 3 {
        0 => ("child__column_delay_layer_0", "delay", [-20.0 + k, 20.0 + 2.0 * k]),
        1 => ("child__column_distance_layer_0", "distance", [200.0 + 20.0 * k, 1200.0 + 20.0 * k]),
        // Never the same brush twice: a repeated one is a result-cache hit.
        _ => ("child__column_time_layer_0", "time", [(i % 12) as f64 + k / 1000.0, (i % 12 + 6) as f64]),
    };
    let store = json!([{"unit": unit, "fields": [{"field": field, "channel": "x", "type": "R"}], "values": [range]}]);
    vec![VarValue { namespace: Namespace::Data, name: "brush_store".into(), scope: vec![], value: store }]
}

async fn bench_crossfilter(label: &str, spec: &Spec, dir: &Path) {
    let runtime = Arc::new(Runtime::default());
    let options = ChartOptions { data: vegalake_executors::DataAccess::new(dir.to_path_buf()), ..ChartOptions::default() };
    let t = Instant::now();
    let mut state = ChartState::open(runtime.clone(), spec, options).await.expect("opens");
    let open = t.elapsed();
    let raw = state.client_spec().data().iter().filter_map(|d| d.values.as_ref()?.as_array().map(Vec::len)).max().unwrap_or(0);
    let bytes = serde_json::to_string(state.client_spec()).map_or(0, |s| s.len());
    let mut times = Vec::new();
    for i in 0..BRUSHES {
        let t = Instant::now();
        let changed = state.update(&brush(i)).await.expect("update");
        times.push(t.elapsed());
        assert!(!changed.is_empty());
    }
    let first = times[0];
    times.sort();
    let at = |q: usize| times[(times.len() * q).div_ceil(100) - 1].as_secs_f64() * 1e3;
    println!(
        "{label:<44} update median {:>7.1} ms   p95 {:>7.1} ms   p99 {:>7.1} ms   first {:.0} ms   (open {:.0} ms, client spec {} KB, largest dataset {raw} rows, {} answers from brush indexes)",
        median(times.clone()).as_secs_f64() * 1e3,
        at(95),
        at(99),
        first.as_secs_f64() * 1e3,
        open.as_secs_f64() * 1e3,
        bytes / 1024,
        runtime.brush_indexes().answered()
    );
}

/// `cargo bench --bench flights -- crossfilter` runs only the crossfilter part.
fn main() {
    let only_crossfilter = std::env::args().any(|a| a == "crossfilter");
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    let (repo, vega_data, work) = (repo(), vega_datasets(), bench_dir());
    let big = work.join("flights-10m.parquet");
    rt.block_on(async {
        if !big.exists() {
            let t = Instant::now();
            generate(&big, 10_000_000).await;
            println!("generated {} in {:.1} s", big.display(), t.elapsed().as_secs_f64());
        }
        let three_m = vega_data.join("flights-3m.parquet");
        assert!(three_m.exists(), "{} is missing: run scripts/bench.sh (it installs vega-datasets)", three_m.display());
        if !only_crossfilter {
            println!("vegalake eval, {RUNS} runs each, release build, embedded DataFusion");
            bench("histogram (extent+bin+aggregate), 3M rows", &histogram("flights-3m.parquet"), &vega_data).await;
            bench("timeunit yearmonth + aggregate, 3M rows", &timeunit("flights-3m.parquet"), &vega_data).await;
            bench("histogram (extent+bin+aggregate), 10M rows", &histogram("flights-10m.parquet"), &work).await;
            bench("timeunit yearmonth + aggregate, 10M rows", &timeunit("flights-10m.parquet"), &work).await;
        }
        let one_m = work.join("flights-1m.parquet");
        if !one_m.exists() {
            generate(&one_m, 1_000_000).await;
        }
        println!("ChartState.update of a 3-histogram crossfilter, {BRUSHES} brushes");
        bench_crossfilter("crossfilter, 1M rows", &crossfilter(&repo, "flights-1m.parquet"), &work).await;
        bench_crossfilter("crossfilter, 3M rows (flights-3m)", &crossfilter(&repo, "flights-3m.parquet"), &vega_data).await;
        bench_crossfilter("crossfilter, 10M rows", &crossfilter(&repo, "flights-10m.parquet"), &work).await;
    });
}
