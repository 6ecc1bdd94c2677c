//! Data lakes with real parts: a 100-file hive-partitioned Parquet dataset and a Delta
//! table with three versions, written here from datasets/data/flights-200k.arrow
//! (rows [2000·d, 2000·d + 2000) are day d, the partition column), read from local
//! disk and from an S3-compatible server (s3s-fs) started on loopback. Results are
//! checked against vega.js over the same rows (lake/expected, written by
//! harness/lake-expect.mjs, which derives the rows on its own), and the scans against
//! what pruning allows.

use crate::processes::Lines;
use crate::{read_json, root};
use datafusion::arrow::array::{Int64Array, RecordBatch};
use datafusion::arrow::compute::{concat_batches, sort_to_indices, take_record_batch};
use datafusion::arrow::datatypes::{DataType, Field, Schema};
use datafusion::parquet::arrow::ArrowWriter;
use datafusion::parquet::file::properties::WriterProperties;
use deltalake_core::protocol::SaveMode;
use deltalake_core::DeltaTable;
use object_store::ObjectStoreExt;
use serde_json::{Map, Value as Json};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::Instant;
use vegalake_connectors::catalog::CatalogTable;
use vegalake_executors::{
    evaluate, evaluate_on, server_tasks, Catalog, ChartOptions, ChartState, DataAccess, DatasetScan, EvalOptions, Runtime, SqlDialect, VarValue,
};
use vegalake_integration_tests::compare_datasets;
use vegalake_planner::{Namespace, Spec};

const DAYS: usize = 100;
const ROWS_PER_DAY: usize = 2000;
const ROW_GROUP_ROWS: usize = 500;

/// The rows of day `d`, sorted by time (so row groups hold time ranges), with `day`.
fn day_batch(all: &RecordBatch, d: usize) -> RecordBatch {
    let slice = all.slice(d * ROWS_PER_DAY, ROWS_PER_DAY);
    let order = sort_to_indices(slice.column_by_name("time").unwrap(), None, None).unwrap();
    let sorted = take_record_batch(&slice, &order).unwrap();
    let mut fields: Vec<Field> = sorted.schema().fields().iter().map(|f| f.as_ref().clone()).collect();
    fields.push(Field::new("day", DataType::Int64, false));
    let mut columns = sorted.columns().to_vec();
    columns.push(Arc::new(Int64Array::from(vec![d as i64; ROWS_PER_DAY])));
    RecordBatch::try_new(Arc::new(Schema::new(fields)), columns).unwrap()
}

fn writer_properties() -> WriterProperties {
    WriterProperties::builder().set_max_row_group_row_count(Some(ROW_GROUP_ROWS)).build()
}

/// The lake on local disk: `flights/day=D/part-0.parquet` and `flights_delta`
/// (version 0: days 0..50, 1: + days 50..90, 2: + days 90..100). Returns the commit
/// time of version 1 (RFC 3339).
async fn write_lake(dir: &Path) -> String {
    let file = std::fs::File::open(root().join("datasets/data/flights-200k.arrow")).unwrap();
    let reader = datafusion::arrow::ipc::reader::FileReader::try_new(file, None).unwrap();
    let schema = reader.schema();
    let batches: Vec<RecordBatch> = reader.map(Result::unwrap).collect();
    let all = concat_batches(&schema, &batches).unwrap();
    assert_eq!(all.num_rows(), DAYS * ROWS_PER_DAY);
    for d in 0..DAYS {
        let batch = day_batch(&all, d);
        let data = batch.project(&[0, 1, 2]).unwrap();
        let part = dir.join(format!("flights/day={d}"));
        std::fs::create_dir_all(&part).unwrap();
        let mut w = ArrowWriter::try_new(std::fs::File::create(part.join("part-0.parquet")).unwrap(), data.schema(), Some(writer_properties())).unwrap();
        w.write(&data).unwrap();
        w.close().unwrap();
    }
    let table_dir = dir.join("flights_delta");
    std::fs::create_dir_all(&table_dir).unwrap();
    let mut table = DeltaTable::try_from_url(url::Url::from_directory_path(&table_dir).unwrap()).await.unwrap();
    let mut v1_time = String::new();
    for (version, days) in [(0, 0..50), (1, 50..90), (2, 90..100)] {
        let batches: Vec<RecordBatch> = days.map(|d| day_batch(&all, d)).collect();
        table =
            table.write(batches).with_save_mode(SaveMode::Append).with_partition_columns(["day"]).with_writer_properties(writer_properties()).await.unwrap();
        assert_eq!(table.version(), Some(version));
        if version == 1 {
            let ts = table.snapshot().unwrap().version_timestamp(1).expect("commit time of version 1");
            v1_time = chrono::DateTime::from_timestamp_millis(ts).unwrap().to_rfc3339();
            // Version 2 must be committed at a later millisecond.
            while chrono::Utc::now().timestamp_millis() <= ts {
                tokio::task::yield_now().await;
            }
        }
    }
    v1_time
}

/// The lake written under a temporary directory of its own, with a catalog that
/// names its tables `flights` (Parquet) and `flights_delta`.
pub(crate) struct LocalLake {
    /// The temporary directory (removed when dropped), and the lake in it.
    pub dir: PathBuf,
    pub lake: PathBuf,
    pub access: DataAccess,
    /// The commit time of Delta version 1 (RFC 3339).
    pub v1_time: String,
}

impl LocalLake {
    pub async fn write(name: &str) -> LocalLake {
        let dir = std::env::temp_dir().join(format!("vegalake-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let lake = dir.join("lake");
        std::fs::create_dir_all(&lake).unwrap();
        let v1_time = write_lake(&lake).await;
        let delta_url = format!("delta+{}", url::Url::from_directory_path(lake.join("flights_delta")).unwrap().as_str().trim_end_matches('/'));
        let tables = catalog(&lake, &[("flights", "flights/".into()), ("flights_delta", delta_url)], BTreeMap::new());
        let access = DataAccess { catalog: tables, ..DataAccess::new(lake.clone()) };
        LocalLake { dir, lake, access, v1_time }
    }
}

impl Drop for LocalLake {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// A case of lake/cases.json: a spec, the table it reads, vega.js's datasets.
pub(crate) struct Case {
    pub name: String,
    table: String,
    pub spec: Spec,
    expected: Map<String, Json>,
}

pub(crate) fn cases() -> Vec<Case> {
    let dir = root().join("lake");
    let list = read_json(&dir.join("cases.json"));
    list.as_array()
        .unwrap()
        .iter()
        .map(|c| {
            let (spec_name, table) = (c["spec"].as_str().unwrap(), c["table"].as_str().unwrap());
            let text = std::fs::read_to_string(dir.join(format!("{spec_name}.vg.json"))).unwrap();
            let spec = serde_json::from_str(&text.replace("table://flights\"", &format!("table://{table}\""))).unwrap();
            let expected = read_json(&dir.join("expected").join(format!("{spec_name}@{}.json", table.replace(['?', '='], "_"))));
            Case { name: format!("{spec_name}@{table}"), table: table.to_string(), spec, expected: expected["datasets"].as_object().unwrap().clone() }
        })
        .collect()
}

fn catalog(dir: &Path, tables: &[(&str, String)], stores: BTreeMap<String, BTreeMap<String, String>>) -> Arc<Catalog> {
    let tables = tables.iter().map(|(n, u)| (n.to_string(), CatalogTable { url: u.clone() })).collect();
    Arc::new(Catalog { tables, stores, base_dir: dir.to_path_buf(), ..Catalog::default() })
}

/// Evaluates every case, each on a new runtime; checks each against vega.js, and
/// the scans that ran here against pruning. Returns each case's datasets and scans.
pub(crate) async fn run_cases(runtime: &dyn Fn() -> Runtime, cases: &[Case], data: &DataAccess, label: &str) -> Vec<(Map<String, Json>, DatasetScan)> {
    let mut out = Vec::new();
    for case in cases {
        let opts = EvalOptions { data: data.clone(), ..EvalOptions::default() };
        let start = Instant::now();
        let result = evaluate_on(&runtime(), &case.spec, &opts).await.unwrap_or_else(|e| panic!("{label} {}: {e}", case.name));
        assert!(result.unsupported.is_empty(), "{label} {}: {:?}", case.name, result.unsupported);
        for (name, theirs) in &case.expected {
            if let Some(ours) = result.datasets.get(name) {
                if let Some(diff) = compare_datasets(ours, theirs, false) {
                    panic!("{label} {} dataset {name}: {diff}", case.name);
                }
            }
        }
        assert!(result.datasets.contains_key("flights"));
        let scan = result.scans.iter().find(|s| s.dataset == "flights").cloned().unwrap_or_else(|| panic!("{label} {}: no scan reported", case.name));
        if scan.scans.remote_queries == 0 {
            check_pruning(case, &scan, label);
        }
        println!("lake: {label} {} ({:.1} s): {}", case.name, start.elapsed().as_secs_f64(), scan.summary);
        out.push((result.datasets, scan));
    }
    out
}

/// The lake's tables as SQL on DuckDB (the Python package): the Parquet directory
/// and every Delta version (one view of the version's files) give vega.js's rows.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn lake_tables_as_sql_run_on_duckdb() {
    let lake = LocalLake::write("lake-sql").await;
    let cases = cases();
    let opts = EvalOptions { data: lake.access.clone(), ..EvalOptions::default() };
    let mut tasks = Vec::new();
    for case in &cases {
        let server = server_tasks(&case.spec, &opts).await.unwrap_or_else(|e| panic!("{}: {e}", case.name));
        let flights = server.iter().find(|t| t.dataset == "flights").unwrap_or_else(|| panic!("{}: no server task for flights", case.name));
        assert_eq!(flights.server_transforms, flights.total_transforms, "{}: flights is not all on the server", case.name);
        let sql = flights.sql(SqlDialect::DuckDb).unwrap_or_else(|e| panic!("{}: {e}", case.name));
        tasks.push(serde_json::json!({"id": case.name, "setup": sql.setup(SqlDialect::DuckDb), "sql": sql.sql}));
    }
    let results = crate::sql::run_on("duckdb", &tasks);
    for case in &cases {
        let rows = results[&case.name].get("rows").unwrap_or_else(|| panic!("{}: {}", case.name, results[&case.name]));
        if let Some(diff) = compare_datasets(rows, &case.expected["flights"], false) {
            panic!("duckdb {}: {diff}", case.name);
        }
    }
    println!("lake: {} cases as SQL on DuckDB equal to vega.js", cases.len());
}

/// Files in the table's version, and how many the case's filter can need.
fn check_pruning(case: &Case, scan: &DatasetScan, label: &str) {
    let files_in_table = match case.table.as_str() {
        t if t.ends_with("version=0") => 50,
        t if t.ends_with("version=1") => 90,
        _ => DAYS,
    };
    let table = &scan.tables[0];
    assert_eq!(table.files, files_in_table, "{label} {}: files in the table", case.name);
    let m = &scan.scans;
    let spec = case.name.split('@').next().unwrap();
    match spec {
        // Days 40..=49, or 20..=29 (10% of the partition column): ten files at most.
        "histogram-brush" | "log-sums" => assert!(m.files_read <= 10 && m.files_planned <= 10 && m.files_read > 0, "{label} {}: {}", case.name, scan.summary),
        // Days 3, 17, 42, 88: four files at most.
        "selection-days" => assert!(m.files_planned <= 4 && m.files_read > 0, "{label} {}: {}", case.name, scan.summary),
        // A range on a Float32 column (three hours of 24), read by two queries
        // (the extent, then the histogram), each over every file: partition
        // values cannot help. Each file holds consecutive flights sorted by time,
        // so statistics (Delta's per file, Parquet's per file and row group) skip
        // what lies outside the range: less than a quarter of two full scans is read.
        "time-window" => {
            assert_eq!(m.queries, 2, "{label} {}: {}", case.name, scan.summary);
            assert!(m.files_read > 0 && m.files_read < files_in_table, "{label} {}: {}", case.name, scan.summary);
            assert!(m.bytes_read > 0 && m.bytes_read < 2 * table.bytes / 4, "{label} {}: {}", case.name, scan.summary);
            return;
        }
        other => panic!("no pruning rule for {other}"),
    }
    assert!(m.bytes_read > 0 && m.bytes_read < table.bytes / 5, "{label} {}: {}", case.name, scan.summary);
}

/// An s3s-fs server on a free loopback port, stopped when dropped.
struct S3Server {
    child: Child,
    endpoint: String,
}

impl S3Server {
    const KEY: &'static str = "vegalake-test-key";
    const SECRET: &'static str = "vegalake-test-secret";

    fn start(root_dir: &Path) -> S3Server {
        let bin = std::env::var("VEGALAKE_S3S_FS").map(PathBuf::from).unwrap_or_else(|_| PathBuf::from("/var/tmp/vegalake-tools/bin/s3s-fs"));
        assert!(
            bin.is_file(),
            "the S3-compatible test server is not installed at {}: scripts/test.sh installs it (cargo install s3s-fs), or set VEGALAKE_S3S_FS",
            bin.display()
        );
        let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
        let child = Command::new(&bin)
            .args(["--host", "127.0.0.1", "--port", &port.to_string(), "--access-key", Self::KEY, "--secret-key", Self::SECRET])
            .arg(root_dir)
            .env("RUST_LOG", "s3s_fs=info")
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {}: {e}", bin.display()));
        let mut server = S3Server { child, endpoint: format!("http://127.0.0.1:{port}") };
        // It logs "server is running at ADDRESS" (at info, on stdout) once it listens.
        let lines = Lines::of("s3s-fs", server.child.stdout.take().expect("piped stdout"));
        lines.wait_for("\"server is running\" line", |line| line.contains("server is running at").then_some(()));
        server
    }

    fn options(&self, secret: &str) -> BTreeMap<String, String> {
        [("endpoint", self.endpoint.as_str()), ("region", "us-east-1"), ("access_key_id", Self::KEY), ("secret_access_key", secret)]
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }
}

impl Drop for S3Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Copies a local directory tree into `s3://bucket/` through the S3 API.
async fn upload(dir: &Path, bucket: &str, options: &BTreeMap<String, String>) -> usize {
    let store = vegalake_connectors::store::build_store(&url::Url::parse(&format!("s3://{bucket}")).unwrap(), options).unwrap();
    let mut stack = vec![dir.to_path_buf()];
    let mut n = 0;
    while let Some(d) = stack.pop() {
        for entry in std::fs::read_dir(&d).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                stack.push(path);
            } else {
                let key = path.strip_prefix(dir).unwrap().to_string_lossy().to_string();
                store.put(&object_store::path::Path::from(key), std::fs::read(&path).unwrap().into()).await.unwrap();
                n += 1;
            }
        }
    }
    n
}

/// The error of evaluating `spec` with `data`.
async fn error_of(spec: &Spec, data: &DataAccess) -> String {
    let opts = EvalOptions { data: data.clone(), ..EvalOptions::default() };
    match evaluate(spec, &opts).await {
        Ok(r) => panic!("expected an error, got {:?}", r.unsupported),
        Err(e) => e.to_string(),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn lake_tables_on_disk_and_on_s3_match_vega_js_and_prune() {
    let written = LocalLake::write("lake").await;
    let (dir, lake, local, v1_time) = (&written.dir, &written.lake, written.access.clone(), &written.v1_time);
    let cases = cases();
    assert!(cases.len() >= 8);

    // Local disk, tables named in the catalog.
    let local_results = run_cases(&Runtime::default, &cases, &local, "local").await;

    // Time travel: version 0 lacks day 88, the latest has it; a timestamp finds its version.
    let by_name = |n: &str| cases.iter().position(|c| c.name == n).unwrap();
    let (v0, latest) = (&local_results[by_name("selection-days@flights_delta?version=0")].0, &local_results[by_name("selection-days@flights_delta")].0);
    assert_ne!(v0["flights"], latest["flights"], "version 0 and the latest version give the same result");
    let at = |table: &str| {
        let text = std::fs::read_to_string(root().join("lake/selection-days.vg.json")).unwrap();
        serde_json::from_str::<Spec>(&text.replace("table://flights\"", &format!("table://{table}\""))).unwrap()
    };
    let opts = EvalOptions { data: local.clone(), ..EvalOptions::default() };
    let by_time = evaluate(&at(&format!("flights_delta?timestamp={}", v1_time.replace('+', "%2B"))), &opts).await.unwrap();
    let by_version = evaluate(&at("flights_delta?version=1"), &opts).await.unwrap();
    assert_eq!(compare_datasets(&by_time.datasets["flights"], &by_version.datasets["flights"], false), None);
    assert_eq!(by_time.scans[0].tables[0].files, 90);

    // The same tables in an S3-compatible server on loopback.
    let s3_root = dir.join("s3");
    std::fs::create_dir_all(s3_root.join("lake")).unwrap();
    let server = S3Server::start(&s3_root);
    let options = server.options(S3Server::SECRET);
    let uploaded = upload(lake, "lake", &options).await;
    assert!(uploaded > 200, "{uploaded} files uploaded");
    let stores = BTreeMap::from([("s3://lake".to_string(), options.clone())]);
    let s3_catalog = catalog(lake, &[("flights", "s3://lake/flights/".into()), ("flights_delta", "delta+s3://lake/flights_delta".into())], stores.clone());
    let s3 = DataAccess { catalog: s3_catalog, ..DataAccess::new(dir.join("empty")) };
    let s3_results = run_cases(&Runtime::default, &cases, &s3, "s3").await;
    for ((case, (l, ls)), (s, ss)) in cases.iter().zip(&local_results).zip(&s3_results) {
        assert_eq!(l.keys().collect::<Vec<_>>(), s.keys().collect::<Vec<_>>(), "{}", case.name);
        for (name, rows) in l {
            assert_eq!(compare_datasets(rows, &s[name], false), None, "{} {name}: local and S3 results differ", case.name);
        }
        assert_eq!((ls.scans.files_read, ls.scans.row_groups_read), (ss.scans.files_read, ss.scans.row_groups_read), "{}", case.name);
    }

    // A brush moving over the S3 table: each update reads the days it selects only.
    let brush = &cases[by_name("histogram-brush@flights")];
    let options_chart = ChartOptions { data: s3.clone(), ..ChartOptions::default() };
    // As a brush is in a chart: a signal the client's events drive.
    let mut interactive = serde_json::to_value(&brush.spec).unwrap();
    interactive["signals"][0]["on"] = serde_json::json!([{"events": "window:mouseup", "update": "brush"}]);
    interactive["marks"] = serde_json::json!([{"type": "rect", "from": {"data": "flights"}, "encode": {"enter": {"x": {"field": "bin0"}, "x2": {"field": "bin1"}, "y": {"field": "count"}}}}]);
    let interactive: Spec = serde_json::from_value(interactive).unwrap();
    let mut chart = ChartState::open(Arc::new(Runtime::default()), &interactive, options_chart).await.unwrap();
    let changed =
        chart.update(&[VarValue { namespace: Namespace::Signal, name: "brush".into(), scope: vec![], value: serde_json::json!([70, 79]) }]).await.unwrap();
    assert!(changed.iter().any(|c| c.name == "flights"), "the brushed histogram did not change");
    let scan = &chart.scans()[0];
    assert!(scan.scans.files_read <= 10 && scan.scans.files_read > 0, "{}", scan.summary);
    let total: f64 = changed.iter().find(|c| c.name == "flights").unwrap().value.as_array().unwrap().iter().map(|r| r["count"].as_f64().unwrap()).sum();
    assert_eq!(total as usize, 10 * ROWS_PER_DAY, "days 70..=79 hold 20000 flights");

    // Errors: clear, one line, quick (no retry storm).
    let spec = &brush.spec;
    let wrong = catalog(lake, &[("flights", "s3://lake/flights/".into())], BTreeMap::from([("s3://lake".to_string(), server.options("not-the-secret"))]));
    let e = error_of(spec, &DataAccess { catalog: wrong, ..s3.clone() }).await;
    assert!(e.contains("s3://lake") && !e.contains('\n'), "wrong credential: {e}");
    println!("lake: wrong credential: {e}");
    let missing = catalog(lake, &[("flights", "s3://nobucket/flights/".into())], BTreeMap::from([("s3://nobucket".to_string(), options.clone())]));
    let e = error_of(spec, &DataAccess { catalog: missing, ..s3.clone() }).await;
    assert!(e.contains("s3://nobucket") && !e.contains('\n'), "missing bucket: {e}");
    println!("lake: missing bucket: {e}");
    let direct: Spec = serde_json::from_str(&serde_json::to_string(spec).unwrap().replace("table://flights", "parquet+s3://lake/flights/")).unwrap();
    let e = error_of(&direct, &s3).await;
    assert!(e.contains("outside the allowed roots"), "unlisted bucket: {e}");
    let allowed = DataAccess { allow_roots: vec!["s3://lake/flights".into()], catalog: catalog(lake, &[], stores), ..s3.clone() };
    let direct_result = evaluate(&direct, &EvalOptions { data: allowed, ..EvalOptions::default() }).await.unwrap();
    assert_eq!(
        compare_datasets(&direct_result.datasets["flights"], &s3_results[by_name("histogram-brush@flights")].0["flights"], false),
        None,
        "the allowed direct URL reads the same table"
    );
    // A JSON file outside the data directory is the browser's to load (vega.js would
    // fetch it), never the server's to read.
    let escape: Spec = serde_json::from_str(&serde_json::to_string(spec).unwrap().replace("table://flights", "../../etc/passwd")).unwrap();
    let left = evaluate(&escape, &EvalOptions { data: local.clone(), ..EvalOptions::default() }).await.unwrap();
    let why = left.unsupported["flights"].as_str().unwrap_or_default();
    assert!(why.contains("leaves the data directory") && why.contains("the browser loads it itself"), "{why}");
    assert!(!left.datasets.contains_key("flights"), "the server read ../../etc/passwd");

    drop(server);
}
