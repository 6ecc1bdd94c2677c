//! The remote engines' faults: an executor killed mid-query, a query past its
//! timeout, an engine that is down. A test binary of its own whose tests run one
//! at a time: each loads the machine on purpose, and beside the conformance runs
//! on Ballista and Spark (the suite's tests run in parallel) the cluster's
//! processes were starved. In that CI run (stop 26), the query and the scheduler's
//! next one both waited out their 120 s timeout.
//!
//! Every wait is on a line a process prints: the scheduler's "executors: N"
//! as executors join and leave, an executor's log as it starts a task.

#[path = "common/processes.rs"]
#[allow(dead_code)] // shared with the suite, which uses the rest
mod processes;

use datafusion::logical_expr::LogicalPlan;
use datafusion::prelude::{col, SessionContext};
use processes::{executors_in, spark_url, Cluster, Log};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;
use vegalake_executors::engine::{connect, EngineError, EngineOptions, EngineUrl, QueryEngine};

/// Held by each test for its whole run.
static ONE_AT_A_TIME: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

/// A Parquet table large enough that grouping it takes seconds on a debug build:
/// 4M rows in 8 files, `k` with 1M distinct values.
async fn large_table() -> (PathBuf, SessionContext) {
    let dir = std::env::temp_dir().join(format!("vegalake-faults-{}", std::process::id()));
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
async fn heavy_plan(ctx: &SessionContext, dir: &Path) -> LogicalPlan {
    use datafusion::functions_aggregate::expr_fn::{count, max};
    let table = ctx.read_parquet(format!("{}/", dir.display()), Default::default()).await.unwrap();
    let groups = table.aggregate(vec![col("k")], vec![count(col("x")).alias("n"), max(col("x")).alias("top")]).unwrap();
    groups.aggregate(vec![], vec![count(col("k")).alias("groups")]).unwrap().into_unoptimized_plan()
}

fn groups_of(batches: &[datafusion::arrow::record_batch::RecordBatch]) -> i64 {
    let batch = batches.iter().find(|b| b.num_rows() > 0).expect("a row");
    datafusion::arrow::array::cast::as_primitive_array::<datafusion::arrow::datatypes::Int64Type>(batch.column(0)).value(0)
}

/// `SELECT 1 + 1` on `engine`: 2, or the failure with what the scheduler printed.
async fn still_serves(engine: &dyn QueryEngine, ctx: &SessionContext, context: impl Fn() -> String) {
    let small = ctx.sql("SELECT 1 + 1 AS two").await.unwrap().into_unoptimized_plan();
    let executed = engine.execute(ctx, small).await.unwrap_or_else(|e| panic!("{} no longer serves: {e}\n{}", engine.url(), context()));
    assert_eq!(groups_of(&executed.batches), 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ballista_survives_an_executor_killed_mid_query() {
    let _alone = ONE_AT_A_TIME.lock().await;
    let (dir, ctx) = large_table().await;
    let mut cluster = Cluster::start_with(2, Log::Discard, || Log::Lines);
    let engine = cluster.engine(EngineOptions { timeout: Some(Duration::from_secs(120)) }).await;
    let plan = heavy_plan(&ctx, &dir).await;
    let query = {
        let (engine, ctx, plan) = (engine.clone(), ctx.clone(), plan.clone());
        tokio::spawn(async move { engine.execute(&ctx, plan).await })
    };
    // Killed as it starts a task of the query (Ballista 55's executor logs
    // "Execute task" then), and declared lost by the scheduler.
    let victim = cluster.executors.remove(0);
    victim.log.as_ref().expect("the executor's log").wait_for("a task started", |line| line.contains("Execute task").then_some(()));
    drop(victim);
    assert!(!query.is_finished(), "the query ended before an executor could be killed: make the table larger");
    cluster.wait_for_executors(1);
    let scheduler_said = || cluster.scheduler.stdout.so_far().join("\n");
    match query.await.expect("the query task") {
        Ok(executed) => {
            assert_eq!(groups_of(&executed.batches), 1_000_003);
            println!("faults: an executor killed mid-query: the query completed on the other");
        }
        Err(e) => {
            let message = e.to_string();
            assert!(message.starts_with(&cluster.url.to_string()) && !message.contains('\n'), "{message}");
            assert!(!matches!(e, EngineError::Timeout { .. }), "the query outlived the lost executor: {message}\n{}", scheduler_said());
            println!("faults: an executor killed mid-query: it failed: {message}");
        }
    }
    // The scheduler still serves, on the executor left, which it never lost.
    still_serves(engine.as_ref(), &ctx, scheduler_said).await;
    let lost_all = cluster.scheduler.stdout.so_far().into_iter().find(|l| executors_in(l) == Some(0));
    assert!(lost_all.is_none(), "the scheduler lost the executor left too: {lost_all:?}");
}

/// A query past its timeout fails with `Timeout` naming the limit, and the engine
/// goes on serving (the cancelled job does not hold it).
async fn times_out_and_serves_on(engine: Arc<dyn QueryEngine>, limit: Duration, ctx: &SessionContext, dir: &Path) {
    match engine.execute(ctx, heavy_plan(ctx, dir).await).await {
        Err(EngineError::Timeout { seconds, .. }) => assert_eq!(seconds, limit.as_secs_f64()),
        other => panic!("{}: expected a timeout, got {:?}", engine.url(), other.map(|e| e.batches.len())),
    }
    // A new connection without the timeout: the server itself goes on serving.
    let again = connect(engine.url(), EngineOptions::default()).await.unwrap_or_else(|e| panic!("{e}"));
    still_serves(again.as_ref(), ctx, String::new).await;
    println!("faults: {}: a query past its {limit:?} timeout was cancelled", engine.url());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_query_past_its_timeout_is_cancelled_on_every_engine() {
    let _alone = ONE_AT_A_TIME.lock().await;
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
async fn an_engine_that_is_down_fails_with_one_line() {
    let _alone = ONE_AT_A_TIME.lock().await;
    let unused = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    for url in [format!("ballista://127.0.0.1:{unused}"), format!("spark://127.0.0.1:{unused}")] {
        let e = match connect(&url.parse().unwrap(), EngineOptions::default()).await {
            Err(e) => e.to_string(),
            Ok(_) => panic!("{url}: connected to nothing"),
        };
        assert!(e.starts_with(&format!("{url}: cannot connect")) && !e.contains('\n'), "{e}");
    }
}
