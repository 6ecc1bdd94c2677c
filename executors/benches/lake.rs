//! Benchmark: what pushdown saves on a data lake. The brushed histogram of the lake
//! suite (delays of days 40..49, 10% of the partition column) over `flights-3m`
//! split into 100 day partitions, as a hive-partitioned Parquet dataset and as a
//! Delta table, evaluated with and without projection and filter pushdown. Prints
//! the median time and the scans' files and bytes read.
//!
//!   scripts/bench.sh lake       (installs vega-datasets, builds in release, runs this)
//!
//! The lake is written once under `$VEGALAKE_BENCH_DIR` (default
//! `/var/tmp/vegalake-bench`). Each run uses a new session, so no metadata or
//! listing cache carries over between runs.

mod common;

use common::{bench_dir, median, vega_datasets};
use deltalake_core::protocol::SaveMode;
use deltalake_core::DeltaTable;
use serde_json::json;
use std::path::Path;
use std::time::{Duration, Instant};
use vegalake_executors::{evaluate_on, new_session, new_session_without_pushdown, DataAccess, EvalOptions, Runtime, ScanMetrics, DEFAULT_CACHE_BYTES};
use vegalake_planner::Spec;

const RUNS: usize = 5;
const DAYS: i64 = 100;

/// flights-3m with `day`: the row's date as one of 100 equal spans of the data's dates.
const WITH_DAY: &str = "WITH bounds AS (SELECT min(to_unixtime(date)) AS lo, max(to_unixtime(date)) + 1 AS hi FROM flights) \
     SELECT date, delay, distance, origin, destination, \
            CAST((to_unixtime(date) - lo) * 100 / (hi - lo) AS BIGINT) AS day \
     FROM flights CROSS JOIN bounds ORDER BY day, date";

/// Writes `lake/flights/day=D/` (Parquet) and `lake/flights_delta` (Delta,
/// partitioned by day) from flights-3m.parquet.
async fn write_lake(source: &Path, lake: &Path) {
    let ctx = new_session();
    ctx.register_parquet("flights", source.to_str().unwrap(), Default::default()).await.expect("flights-3m.parquet");
    let parquet_dir = lake.join("flights");
    let copy = format!("COPY ({WITH_DAY}) TO '{}/' STORED AS PARQUET PARTITIONED BY (day)", parquet_dir.display());
    ctx.sql(&copy).await.expect("COPY").collect().await.expect("hive lake written");
    let batches = ctx.sql(WITH_DAY).await.expect("query").collect().await.expect("rows");
    let delta_dir = lake.join("flights_delta");
    std::fs::create_dir_all(&delta_dir).expect("delta dir");
    let table = DeltaTable::try_from_url(url::Url::from_directory_path(&delta_dir).unwrap()).await.expect("delta table");
    table.write(batches).with_save_mode(SaveMode::Overwrite).with_partition_columns(["day"]).await.expect("delta table written");
}

fn brushed_histogram(url: &str) -> Spec {
    serde_json::from_value(json!({
        "signals": [{"name": "brush", "value": [40, 49]}],
        "data": [{"name": "flights", "url": url, "transform": [
            {"type": "filter", "expr": "inrange(datum.day, brush)"},
            {"type": "bin", "field": "delay", "extent": [-60, 180], "maxbins": 24, "as": ["bin0", "bin1"]},
            {"type": "aggregate", "groupby": ["bin0", "bin1"], "ops": ["count"], "as": ["count"]}]}]
    }))
    .expect("valid spec")
}

/// Median time, the last run's scans, and its result (to check both agree).
async fn bench(spec: &Spec, data: &DataAccess, pushdown: bool) -> (Duration, ScanMetrics, serde_json::Value) {
    let opts = EvalOptions { data: data.clone(), ..EvalOptions::default() };
    let mut times = Vec::new();
    let mut last = None;
    for _ in 0..RUNS {
        let session = if pushdown { new_session() } else { new_session_without_pushdown() };
        let runtime = Runtime::with_session(session, DEFAULT_CACHE_BYTES);
        let t = Instant::now();
        let out = evaluate_on(&runtime, spec, &opts).await.expect("evaluates");
        times.push(t.elapsed());
        assert!(out.unsupported.is_empty(), "{:?}", out.unsupported);
        last = Some(out);
    }
    let out = last.unwrap();
    let scans = out.scans.iter().find(|s| s.dataset == "flights").expect("scan figures").scans;
    (median(times), scans, out.datasets["flights"].clone())
}

fn main() {
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    let (vega_data, work) = (vega_datasets(), bench_dir());
    let lake = work.join("lake");
    rt.block_on(async {
        if !lake.join("flights_delta/_delta_log").exists() {
            let source = vega_data.join("flights-3m.parquet");
            assert!(source.exists(), "{} is missing: run scripts/bench.sh (it installs vega-datasets)", source.display());
            let _ = std::fs::remove_dir_all(&lake);
            let t = Instant::now();
            write_lake(&source, &lake).await;
            println!("wrote the lake ({DAYS} day partitions of flights-3m) under {} in {:.1} s", lake.display(), t.elapsed().as_secs_f64());
        }
        let data = DataAccess { allow_roots: vec![lake.display().to_string()], ..DataAccess::new(&work) };
        println!("brushed histogram (days 40..49 of {DAYS}, delay binned), {RUNS} runs each, release build, embedded DataFusion");
        println!("{:<26} {:>10} {:>12} {:>12} {:>16} {:>16}", "table", "pushdown", "median ms", "files read", "row groups read", "bytes read");
        for (name, url) in [
            ("Parquet, hive partitions", format!("parquet+file://{}/flights/", lake.display())),
            ("Delta", format!("delta+file://{}/flights_delta", lake.display())),
        ] {
            let spec = brushed_histogram(&url);
            let mut results = Vec::new();
            for pushdown in [true, false] {
                let (time, m, rows) = bench(&spec, &data, pushdown).await;
                println!(
                    "{name:<26} {:>10} {:>12.1} {:>12} {:>16} {:>16}",
                    if pushdown { "on" } else { "off" },
                    time.as_secs_f64() * 1e3,
                    format!("{}/{}", m.files_read, m.files_planned),
                    format!("{}/{}", m.row_groups_read, m.row_groups),
                    m.bytes_read
                );
                results.push(rows);
            }
            // Groups come in any order: compare them sorted.
            let sorted = |rows: &serde_json::Value| {
                let mut v: Vec<String> = rows.as_array().into_iter().flatten().map(|r| r.to_string()).collect();
                v.sort();
                v
            };
            assert_eq!(sorted(&results[0]), sorted(&results[1]), "{name}: the result depends on pushdown");
        }
    });
}
