//! `vegalake batch` on a Delta table of 200 stores, locally, on a Ballista cluster
//! of two executors and on the Spark Connect server: four templates (a time unit
//! with a sum, a histogram whose bins are each store's own, a window top 3, stacked
//! bars), each evaluated once for all 200 stores. Every chart's data equals what
//! vega.js computes from that store's rows alone (`harness/batch-expect.mjs`), and
//! each dataset ran a query or two on the engine, never one per store.

use crate::engines::CONFORMANCE_OPTIONS;
use crate::processes::{spark_url, Cluster};
use crate::{columns, read_json, restrict, root};
use datafusion::arrow::array::{ArrayRef, Float64Array, Int64Array, StringArray, TimestampMillisecondArray};
use datafusion::arrow::datatypes::{DataType, Field, Schema, TimeUnit};
use datafusion::arrow::record_batch::RecordBatch;
use deltalake_core::DeltaTable;
use serde_json::Value as Json;
use std::path::PathBuf;
use std::sync::Arc;
use vegalake_batch::split::chart_id;
use vegalake_batch::{evaluate, Partitioned, Silent, TemplateOptions};
use vegalake_executors::engine::QueryEngine;
use vegalake_executors::{ChartOptions, DataAccess, Runtime, DEFAULT_CACHE_BYTES};
use vegalake_integration_tests::compare_datasets;

const TEMPLATES: [&str; 4] = ["timeunit_sum", "histogram", "topk", "stacked"];
const STORES: usize = 200;

/// The rows of `batch/rows.json` as a Delta table under a temporary directory.
struct Stores {
    dir: PathBuf,
    delta_url: String,
}

impl Stores {
    async fn write(name: &str) -> Stores {
        let dir = std::env::temp_dir().join(format!("vegalake-batch-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let table_dir = dir.join("stores");
        std::fs::create_dir_all(&table_dir).unwrap();
        let rows = read_json(&root().join("batch/rows.json"));
        let rows = rows.as_array().unwrap();
        let strings = |k: &str| Arc::new(StringArray::from_iter(rows.iter().map(|r| r[k].as_str()))) as ArrayRef;
        let columns: Vec<ArrayRef> = vec![
            strings("store"),
            Arc::new(TimestampMillisecondArray::from_iter(rows.iter().map(|r| r["date"].as_i64())).with_timezone("UTC")),
            strings("category"),
            Arc::new(Float64Array::from_iter(rows.iter().map(|r| r["value"].as_f64()))),
            Arc::new(Int64Array::from_iter(rows.iter().map(|r| r["units"].as_i64()))),
        ];
        let schema = Schema::new(vec![
            Field::new("store", DataType::Utf8, true),
            Field::new("date", DataType::Timestamp(TimeUnit::Millisecond, Some("UTC".into())), true),
            Field::new("category", DataType::Utf8, true),
            Field::new("value", DataType::Float64, true),
            Field::new("units", DataType::Int64, true),
        ]);
        let batch = RecordBatch::try_new(Arc::new(schema), columns).unwrap();
        let table = DeltaTable::try_from_url(url::Url::from_directory_path(&table_dir).unwrap()).await.unwrap();
        table.write(vec![batch]).await.unwrap();
        let delta_url = format!("delta+{}", url::Url::from_directory_path(&table_dir).unwrap().as_str().trim_end_matches('/'));
        Stores { dir, delta_url }
    }

    fn access(&self) -> DataAccess {
        DataAccess::new(self.dir.clone())
    }
}

impl Drop for Stores {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// The Spark server's own log of SQL executions (its UI's REST API, on loopback):
/// how many it ran, to show that a batch is not one query per key there either.
struct SparkLog {
    ui: String,
    app: String,
}

impl SparkLog {
    fn open() -> SparkLog {
        let ui = std::env::var("VEGALAKE_SPARK_UI").expect("VEGALAKE_SPARK_UI: scripts/test.sh starts Spark with its UI on loopback");
        let ui = ui.trim_start_matches("http://").trim_end_matches('/').to_string();
        let apps = http_json(&ui, "/api/v1/applications");
        let app = apps[0]["id"].as_str().expect("a Spark application").to_string();
        SparkLog { ui, app }
    }

    /// Executions so far (each query, and each view a query's tables need).
    fn executions(&self) -> usize {
        http_json(&self.ui, &format!("/api/v1/applications/{}/sql?details=false&offset=0&length=1000000", self.app)).as_array().map_or(0, Vec::len)
    }
}

/// GET `path` from `host:port` (HTTP/1.0, no TLS: the UI is on loopback), as JSON.
fn http_json(host: &str, path: &str) -> Json {
    use std::io::{Read, Write};
    let mut stream = std::net::TcpStream::connect(host).unwrap_or_else(|e| panic!("Spark UI {host}: {e}"));
    write!(stream, "GET {path} HTTP/1.0\r\nHost: {host}\r\n\r\n").unwrap();
    let mut response = String::new();
    stream.read_to_string(&mut response).unwrap();
    let body = response.split_once("\r\n\r\n").map_or("", |(_, b)| b);
    serde_json::from_str(body).unwrap_or_else(|e| panic!("Spark UI {path}: {e}: {body:.200}"))
}

/// An engine's own record of the queries it ran: Spark's SQL executions, or the
/// jobs a Ballista scheduler's log says it queued.
enum EngineLog<'a> {
    Spark(&'a SparkLog),
    Ballista(&'a std::path::Path),
}

impl EngineLog<'_> {
    fn count(&self) -> usize {
        match self {
            EngineLog::Spark(log) => log.executions(),
            EngineLog::Ballista(path) => std::fs::read_to_string(path).unwrap_or_default().matches("Job queued").count(),
        }
    }
}

/// Every template over the stores on `engine`: each chart's datasets against
/// vega.js's, and the queries each dataset ran.
async fn batch_on(label: &str, engine: Option<Arc<dyn QueryEngine>>, stores: &Stores, engine_log: Option<EngineLog<'_>>) {
    for name in TEMPLATES {
        let logged_before = engine_log.as_ref().map(EngineLog::count);
        let expected = read_json(&root().join(format!("batch/expected/{name}.json")));
        let options = TemplateOptions { keys: vec!["store".into()], source: Some(stores.delta_url.clone()), ..TemplateOptions::default() };
        let template = Partitioned::new(&expected["vega"], &options).unwrap_or_else(|e| panic!("{name}: {e}"));
        let runtime = Arc::new(match &engine {
            Some(e) => Runtime::with_engine(e.clone(), DEFAULT_CACHE_BYTES, None),
            None => Runtime::new(DEFAULT_CACHE_BYTES),
        });
        let chart_options = ChartOptions { data: stores.access(), ..ChartOptions::default() };
        let evaluation = evaluate(runtime, &template, chart_options, &Silent).await.unwrap_or_else(|e| panic!("{label} {name}: {e}"));
        let charts = &evaluation.charts;
        assert_eq!(charts.keys().len(), STORES, "{label} {name}: one chart per store");
        let mut compared = 0;
        for (key, _) in charts.keys() {
            let id = chart_id(charts.key_names(), key);
            let want = &expected["charts"][&id];
            let (spec, _) = charts.spec(key);
            for d in spec["data"].as_array().unwrap().iter().filter(|d| d["values"].is_array()) {
                let dataset = d["name"].as_str().unwrap();
                // Table scans carry no row order: rows compare as sets, in the
                // columns the chart reads (the client spec ships no others).
                if let Some(diff) = compare_datasets(&d["values"], &restrict(&want[dataset], &columns(&d["values"])), false) {
                    panic!("{label} {name} {id} {dataset}: {diff}");
                }
                compared += 1;
            }
        }
        assert!(compared >= STORES, "{label} {name}: {compared} datasets compared");
        let queries: Vec<String> = evaluation
            .scans
            .iter()
            .filter(|s| s.scans.queries + s.scans.remote_queries > 0)
            .map(|s| format!("{} {}", s.dataset, s.scans.queries + s.scans.remote_queries))
            .collect();
        assert!(!queries.is_empty(), "{label} {name}: no query ran");
        for scan in &evaluation.scans {
            let (here, there) = (scan.scans.queries, scan.scans.remote_queries);
            assert!(here + there <= 3, "{label} {name}: {} ran {} queries (one per key?): {queries:?}", scan.dataset, here + there);
            if engine.is_some() {
                assert!(here == 0, "{label} {name}: {} ran here, not on the engine: {queries:?}", scan.dataset);
            }
        }
        let sent: usize = evaluation.scans.iter().map(|s| s.scans.queries + s.scans.remote_queries).sum();
        let logged = match (&engine_log, logged_before) {
            (Some(log), Some(before)) => {
                let ran = log.count() - before;
                // Each query (on Spark also the views of the tables it reads).
                assert!(ran >= 1 && ran <= 3 * sent && ran < STORES, "{label} {name}: the engine logged {ran} for {sent} queries");
                format!("; the engine's log: {ran}")
            }
            _ => String::new(),
        };
        println!("batch on {label}: {name}: {STORES} charts equal to vega.js; queries: {}{logged}", queries.join("; "));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn batch_charts_equal_vegajs_per_key_locally() {
    let stores = Stores::write("local").await;
    batch_on("local", None, &stores, None).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn batch_charts_equal_vegajs_per_key_on_ballista_and_spark() {
    let stores = Stores::write("engines").await;
    let scheduler_log = stores.dir.join("scheduler.log");
    let cluster = Cluster::start_logged(2, &scheduler_log);
    batch_on("ballista", Some(cluster.engine(CONFORMANCE_OPTIONS).await), &stores, Some(EngineLog::Ballista(&scheduler_log))).await;
    let spark = vegalake_executors::engine::connect(&spark_url(), CONFORMANCE_OPTIONS).await.unwrap_or_else(|e| panic!("{e}"));
    batch_on("spark", Some(spark), &stores, Some(EngineLog::Spark(&SparkLog::open()))).await;
}
