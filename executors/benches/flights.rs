//! Benchmark: time to evaluate two typical charts over large Parquet files.
//!
//!   scripts/bench.sh            (installs vega-datasets, builds in release, runs this)
//!
//! Charts: a binned histogram of `delay` (extent + bin + aggregate) and a
//! timeunit + aggregate chart (mean delay per year-month). Data: `flights-3m.parquet`
//! from the vega-datasets npm package, and a 10M-row Parquet file this benchmark
//! generates once (same columns, deterministic pseudo-random values).

use serde_json::json;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};
use vegalake_executors::{evaluate, new_session, EvalOptions};
use vegalake_planner::Spec;

const RUNS: usize = 5;

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

fn median(mut xs: Vec<Duration>) -> Duration {
    xs.sort();
    xs[xs.len() / 2]
}

async fn bench(label: &str, spec: &Spec, dir: &Path) {
    let opts = EvalOptions { data_dir: dir.to_path_buf(), ..EvalOptions::default() };
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

fn main() {
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    let repo = PathBuf::from(env!("CARGO_MANIFEST_DIR")).parent().unwrap().to_path_buf();
    let vega_data =
        std::env::var("VEGALAKE_VEGA_DATASETS").map(PathBuf::from).unwrap_or_else(|_| repo.join("integration-tests/harness/node_modules/vega-datasets/data"));
    let work = PathBuf::from(std::env::var("VEGALAKE_BENCH_DIR").unwrap_or_else(|_| "/var/tmp/vegalake-bench".into()));
    std::fs::create_dir_all(&work).expect("bench dir");
    let big = work.join("flights-10m.parquet");
    rt.block_on(async {
        if !big.exists() {
            let t = Instant::now();
            generate(&big, 10_000_000).await;
            println!("generated {} in {:.1} s", big.display(), t.elapsed().as_secs_f64());
        }
        let three_m = vega_data.join("flights-3m.parquet");
        assert!(three_m.exists(), "{} is missing: run scripts/bench.sh (it installs vega-datasets)", three_m.display());
        println!("vegalake eval, {RUNS} runs each, release build, embedded DataFusion");
        bench("histogram (extent+bin+aggregate), 3M rows", &histogram("flights-3m.parquet"), &vega_data).await;
        bench("timeunit yearmonth + aggregate, 3M rows", &timeunit("flights-3m.parquet"), &vega_data).await;
        bench("histogram (extent+bin+aggregate), 10M rows", &histogram("flights-10m.parquet"), &work).await;
        bench("timeunit yearmonth + aggregate, 10M rows", &timeunit("flights-10m.parquet"), &work).await;
    });
}
