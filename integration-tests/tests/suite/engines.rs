//! The conformance suite and the lake's tables on the remote engines, and their
//! faults.
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
use crate::{read_json, root};
use datafusion::logical_expr::LogicalPlan;
use datafusion::prelude::{col, SessionContext};
use serde_json::{Map, Value as Json};
use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};
use vegalake_executors::engine::{connect, EngineError, EngineOptions, EngineUrl, QueryEngine};
use vegalake_executors::sql::SqlError;
use vegalake_executors::{server_tasks, EvalOptions, Runtime, SqlDialect, DEFAULT_CACHE_BYTES};

/// The `vegalake` binary cargo built beside this test (`VEGALAKE_BIN` overrides).
fn vegalake_bin() -> PathBuf {
    let bin = std::env::var_os("VEGALAKE_BIN").map(PathBuf::from).unwrap_or_else(|| {
        let exe = std::env::current_exe().expect("the test's path");
        exe.parent().and_then(|deps| deps.parent()).expect("target/debug/deps").join("vegalake")
    });
    assert!(bin.is_file(), "{} is missing: build it first (cargo build -p vegalake) or set VEGALAKE_BIN", bin.display());
    bin
}

/// A child process that is killed when dropped.
struct Process(Child);

impl Drop for Process {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Starts `vegalake ARGS` and waits for its "listening on ADDRESS" line; with
/// `log`, its log at info level (Ballista's own lines included) goes there.
fn start_listening(args: &[&str], log: Option<&std::path::Path>) -> (Process, String) {
    let mut command = Command::new(vegalake_bin());
    command.args(args).stdout(Stdio::piped());
    match log {
        Some(path) => command.env("VEGALAKE_LOG", "info").stderr(std::fs::File::create(path).expect("a log file")),
        None => command.stderr(Stdio::null()),
    };
    let mut child = command.spawn().expect("vegalake starts");
    let stdout = child.stdout.take().expect("piped stdout");
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let mut line = String::new();
        let _ = BufReader::new(stdout).read_line(&mut line);
        let _ = tx.send(line);
    });
    let process = Process(child);
    let line = rx.recv_timeout(Duration::from_secs(30)).unwrap_or_else(|_| panic!("vegalake {args:?} did not start within 30 s"));
    let addr = line.trim().strip_prefix("listening on ").unwrap_or_else(|| panic!("vegalake {args:?} printed {line:?}")).to_string();
    (process, addr)
}

/// A scheduler and executors on loopback.
pub(crate) struct Cluster {
    url: EngineUrl,
    executors: Vec<Process>,
    _scheduler: Process,
}

impl Cluster {
    pub(crate) fn start(executors: usize) -> Cluster {
        Cluster::start_logged(executors, None)
    }

    /// A cluster whose scheduler logs at info level to `scheduler_log`: its own
    /// record of the jobs it ran.
    pub(crate) fn start_logged(executors: usize, scheduler_log: Option<&std::path::Path>) -> Cluster {
        let (scheduler, addr) = start_listening(&["scheduler", "--bind", "127.0.0.1:0"], scheduler_log);
        let executors = (0..executors).map(|_| start_listening(&["executor", "--scheduler", &addr, "--slots", "2"], None).0).collect();
        let url: EngineUrl = format!("ballista://{addr}").parse().expect("a ballista URL");
        let cluster = Cluster { url, executors, _scheduler: scheduler };
        cluster.wait_for_executors();
        cluster
    }

    /// Executors register with their first heartbeat: a query before that waits
    /// for one.
    fn wait_for_executors(&self) {
        std::thread::sleep(Duration::from_secs(1));
    }

    pub(crate) async fn engine(&self, opts: EngineOptions) -> Arc<dyn QueryEngine> {
        connect(&self.url, opts).await.unwrap_or_else(|e| panic!("{e}"))
    }
}

/// The Spark Connect server of this test run.
pub(crate) fn spark_url() -> EngineUrl {
    let url = std::env::var("VEGALAKE_SPARK_CONNECT")
        .expect("VEGALAKE_SPARK_CONNECT is not set: scripts/test.sh starts a Spark Connect server and sets it (sc://HOST:PORT)");
    url.parse().unwrap_or_else(|e| panic!("VEGALAKE_SPARK_CONNECT: {e}"))
}

/// The conformance suite on `engine`, held to the local engine's result except
/// the differences listed for it.
async fn conformance_on(name: &str, engine: Arc<dyn QueryEngine>) {
    let start = Instant::now();
    let out = run_conformance(&|| Runtime::with_engine(engine.clone(), DEFAULT_CACHE_BYTES)).await;
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
        let results = run_cases(&|| Runtime::with_engine(engine.clone(), DEFAULT_CACHE_BYTES), &cases, &lake.access, label).await;
        for (case, (_, scan)) in cases.iter().zip(&results) {
            assert!(scan.scans.remote_queries > 0 && scan.scans.queries == 0, "{label} {}: {}", case.name, scan.summary);
        }
        println!("lake on {label}: {} cases equal to vega.js, every table query on the engine", cases.len());
    }
}

/// A Parquet table large enough that grouping it takes seconds on a debug build:
/// 4M rows in 8 files, `k` with 1M distinct values.
async fn large_table() -> (PathBuf, SessionContext) {
    static WRITING: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());
    let _one_writer = WRITING.lock().await;
    let dir = std::env::temp_dir().join(format!("vegalake-engines-{}", std::process::id()));
    let ctx = vegalake_executors::new_session();
    // Spark skips files named with a leading underscore, DataFusion non-Parquet ones.
    if !dir.join("_done").exists() {
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        let rows = ctx.sql("SELECT value % 1000003 AS k, CAST(value AS DOUBLE) * 1.5 AS x FROM generate_series(1, 4000000)").await.unwrap();
        let rows = rows.repartition(datafusion::logical_expr::Partitioning::RoundRobinBatch(8)).unwrap();
        rows.write_parquet(dir.to_str().unwrap(), Default::default(), None).await.unwrap();
        std::fs::write(dir.join("_done"), "").unwrap();
    }
    (dir, ctx)
}

/// Per `k`: the number of rows and the largest `x`; then how many groups.
async fn heavy_plan(ctx: &SessionContext, dir: &std::path::Path) -> LogicalPlan {
    use datafusion::functions_aggregate::expr_fn::{count, max};
    let table = ctx.read_parquet(format!("{}/", dir.display()), Default::default()).await.unwrap();
    let groups = table.aggregate(vec![col("k")], vec![count(col("x")).alias("n"), max(col("x")).alias("top")]).unwrap();
    groups.aggregate(vec![], vec![count(col("k")).alias("groups")]).unwrap().into_unoptimized_plan()
}

fn groups_of(batches: &[datafusion::arrow::record_batch::RecordBatch]) -> i64 {
    let batch = batches.iter().find(|b| b.num_rows() > 0).expect("a row");
    datafusion::arrow::array::cast::as_primitive_array::<datafusion::arrow::datatypes::Int64Type>(batch.column(0)).value(0)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ballista_survives_an_executor_killed_mid_query() {
    let (dir, ctx) = large_table().await;
    let mut cluster = Cluster::start(2);
    let engine = cluster.engine(EngineOptions { timeout: Some(Duration::from_secs(120)) }).await;
    let plan = heavy_plan(&ctx, &dir).await;
    let query = {
        let (engine, ctx, plan) = (engine.clone(), ctx.clone(), plan.clone());
        tokio::spawn(async move { engine.execute(&ctx, plan).await })
    };
    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert!(!query.is_finished(), "the query ended before an executor could be killed: make the table larger");
    let killed = cluster.executors.remove(0);
    drop(killed);
    let start = Instant::now();
    match query.await.expect("the query task") {
        Ok(executed) => {
            assert_eq!(groups_of(&executed.batches), 1_000_003);
            println!("engines: an executor killed mid-query: the query completed on the other after {:.1} s", start.elapsed().as_secs_f64());
        }
        Err(e) => {
            let message = e.to_string();
            assert!(message.starts_with(&cluster.url.to_string()) && !message.contains('\n'), "{message}");
            println!("engines: an executor killed mid-query: it failed after {:.1} s: {message}", start.elapsed().as_secs_f64());
        }
    }
    // The scheduler still serves, on the executor left.
    let small = ctx.sql("SELECT 1 + 1 AS two").await.unwrap().into_unoptimized_plan();
    let executed = engine.execute(&ctx, small).await.unwrap_or_else(|e| panic!("the scheduler no longer serves: {e}"));
    assert_eq!(groups_of(&executed.batches), 2);
}

/// A query past its timeout fails with `Timeout` within about that time, and the
/// engine goes on serving (the cancelled job does not hold it).
async fn times_out_and_serves_on(engine: Arc<dyn QueryEngine>, limit: Duration, ctx: &SessionContext, dir: &std::path::Path) {
    let start = Instant::now();
    let result = engine.execute(ctx, heavy_plan(ctx, dir).await).await;
    let elapsed = start.elapsed();
    match result {
        Err(EngineError::Timeout { seconds, .. }) => assert_eq!(seconds, limit.as_secs_f64()),
        other => panic!("{}: expected a timeout, got {:?}", engine.url(), other.map(|e| e.batches.len())),
    }
    assert!(elapsed < Duration::from_secs(10), "{}: the timeout took {elapsed:?}", engine.url());
    // A new connection without the timeout: the server itself goes on serving.
    let again = connect(engine.url(), EngineOptions::default()).await.unwrap_or_else(|e| panic!("{e}"));
    let small = ctx.sql("SELECT 1 + 1 AS two").await.unwrap().into_unoptimized_plan();
    let executed = again.execute(ctx, small).await.unwrap_or_else(|e| panic!("{}: after a timeout: {e}", engine.url()));
    assert_eq!(groups_of(&executed.batches), 2);
    println!("engines: {}: a query past its {limit:?} timeout was cancelled after {:.2} s", engine.url(), elapsed.as_secs_f64());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_query_past_its_timeout_is_cancelled_on_every_engine() {
    let (dir, ctx) = large_table().await;
    let limit = Duration::from_millis(500);
    let opts = EngineOptions { timeout: Some(limit) };
    times_out_and_serves_on(connect(&EngineUrl::Local, opts).await.unwrap(), limit, &ctx, &dir).await;
    let cluster = Cluster::start(1);
    times_out_and_serves_on(cluster.engine(opts).await, limit, &ctx, &dir).await;
    // Spark groups the table in well under a second: a shorter limit.
    let limit = Duration::from_millis(50);
    let spark = connect(&spark_url(), EngineOptions { timeout: Some(limit) }).await.unwrap_or_else(|e| panic!("{e}"));
    times_out_and_serves_on(spark, limit, &ctx, &dir).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_engine_that_is_down_fails_fast_with_one_line() {
    let unused = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    for url in [format!("ballista://127.0.0.1:{unused}"), format!("spark://127.0.0.1:{unused}")] {
        let start = Instant::now();
        let e = match connect(&url.parse().unwrap(), EngineOptions::default()).await {
            Err(e) => e.to_string(),
            Ok(_) => panic!("{url}: connected to nothing"),
        };
        assert!(e.starts_with(&format!("{url}: cannot connect")) && !e.contains('\n'), "{e}");
        assert!(start.elapsed() < Duration::from_secs(20), "{url}: took {:?}", start.elapsed());
    }
}
