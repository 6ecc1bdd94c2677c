//! Spark as the engine, through Spark Connect: the plan is unparsed to Spark SQL
//! ([`vegalake_sql_gen::unparse`]) and sent over the official client's transport
//! (`apache-spark-connect-core`); the rows come back as Arrow IPC.
//!
//! A plan runs on Spark when it has a faithful Spark SQL form. Otherwise (say, a
//! logarithm, which Spark takes as NULL where JavaScript gives NaN) its largest
//! parts that read tables, reduce them (a filter, an aggregate) and have a Spark
//! form run on Spark, and the rest runs here over what they returned
//! ([`SparkEngine::run_partly`]).
//!
//! Views are session state (`t0`, `t1`... name the tables of one task), so the
//! engine sends one task at a time.

use super::{in_plan_schema, one_line, rows_as_scan, single_qualifier, within, EngineError, EngineOptions, EngineUrl, Executed, QueryEngine};
use crate::sql::SqlDialect;
use datafusion::arrow::record_batch::RecordBatch;
use datafusion::common::tree_node::TreeNode;
use datafusion::datasource::{source_as_provider, MemTable};
use datafusion::logical_expr::LogicalPlan;
use datafusion::prelude::SessionContext;
use futures::future::BoxFuture;
use spark_connect_core::{ChannelBuilder, RetryPolicy, SparkConnectClient};
use spark_connect_proto as proto;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;
use vegalake_connectors::ScanMetrics;
use vegalake_sql_gen::unparse::{SqlError, SqlTask};

/// How long the first request to the server may take.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(15);

/// Runs plans on a Spark Connect server.
pub struct SparkEngine {
    url: EngineUrl,
    client: SparkConnectClient,
    opts: EngineOptions,
    /// One task at a time: a task's views and its query share the session.
    session: tokio::sync::Mutex<()>,
    next_tag: AtomicU64,
}

impl SparkEngine {
    /// Connects to the Spark Connect server at `url` and sets up the session,
    /// failing within seconds when no server answers.
    pub async fn connect(url: EngineUrl, opts: EngineOptions) -> Result<SparkEngine, EngineError> {
        let EngineUrl::Spark { host, port } = &url else {
            return Err(EngineError::BadUrl { url: url.to_string(), message: "not a spark:// URL".into() });
        };
        let refused = |e: &dyn std::fmt::Display| EngineError::Connect { engine: url.to_string(), message: one_line(&e) };
        let builder = ChannelBuilder::parse(&format!("sc://{host}:{port}/;user_id=vegalake")).map_err(|e| refused(&e))?;
        let mut client = SparkConnectClient::connect(&builder).await.map_err(|e| refused(&e))?;
        // The client's default retries an unavailable server for up to an hour.
        client.set_retry_policy(RetryPolicy { max_retries: Some(2), ..RetryPolicy::default() });
        let setup = async {
            for (key, value) in SqlDialect::Spark.session_settings() {
                client.set_config(key, value).await?;
            }
            Ok::<_, spark_connect_core::SparkError>(())
        };
        match tokio::time::timeout(CONNECT_TIMEOUT, setup).await {
            Ok(Ok(())) => {}
            Ok(Err(e)) => return Err(refused(&e)),
            Err(_) => return Err(refused(&format!("no answer within {} s", CONNECT_TIMEOUT.as_secs()))),
        }
        Ok(SparkEngine { url, client, opts, session: tokio::sync::Mutex::new(()), next_tag: AtomicU64::new(0) })
    }

    fn failed(&self, e: impl std::fmt::Display) -> EngineError {
        EngineError::Query { engine: self.url.to_string(), message: one_line(&e) }
    }

    /// The plan's rows from Spark, or `None` when it has no faithful Spark form.
    async fn run_on_spark(&self, plan: &LogicalPlan, tag: &str) -> Result<Option<Vec<RecordBatch>>, EngineError> {
        match crate::sql::unparse(plan, SqlDialect::Spark) {
            Ok(task) => Ok(Some(self.rows_of(plan, &task, tag).await?)),
            Err(SqlError::NotPushable(reason)) => {
                log::debug!("{}: runs locally: {reason}", self.url);
                Ok(None)
            }
            Err(SqlError::Unparse(e)) => {
                log::warn!("{}: cannot unparse, runs locally: {e}", self.url);
                Ok(None)
            }
        }
    }

    /// `plan` run here, after its largest parts that read tables, reduce them and
    /// have a Spark form ran on Spark: the rest reads what they returned.
    async fn run_partly(&self, local: &SessionContext, plan: LogicalPlan, tag: &str) -> Result<Executed, EngineError> {
        let mut pushed = 0;
        // A join's two sides can carry the same names (a table joined with
        // itself): scans in their place could not be told apart.
        let joins = plan.exists(|node| Ok(matches!(node, LogicalPlan::Join(_)))).unwrap_or(true);
        // The whole plan has no Spark form: its parts may.
        let rest = if joins { plan } else { self.push_inputs(plan, tag, &mut pushed).await? };
        log::debug!("{}: {pushed} parts of the plan ran on Spark, the rest runs locally", self.url);
        let mut executed = super::local::run(local, rest).await?;
        executed.scans.remote_queries += pushed;
        Ok(executed)
    }

    /// `plan` with its pushable parts replaced by their rows from Spark.
    fn push_parts<'a>(&'a self, plan: LogicalPlan, tag: &'a str, pushed: &'a mut usize) -> BoxFuture<'a, Result<LogicalPlan, EngineError>> {
        Box::pin(async move {
            if !worth_pushing(&plan) {
                return Ok(plan);
            }
            if let Some(qualifier) = single_qualifier(&plan) {
                if let Ok(task) = crate::sql::unparse(&plan, SqlDialect::Spark) {
                    let batches = self.rows_of(&plan, &task, tag).await?;
                    *pushed += 1;
                    return rows_as_scan(qualifier, &plan, batches, *pushed).map_err(|e| self.failed(e));
                }
            }
            self.push_inputs(plan, tag, pushed).await
        })
    }

    /// `plan` with the pushable parts of its inputs replaced ([`Self::push_parts`]).
    async fn push_inputs(&self, plan: LogicalPlan, tag: &str, pushed: &mut usize) -> Result<LogicalPlan, EngineError> {
        let mut inputs = Vec::new();
        for input in plan.inputs().into_iter().cloned() {
            inputs.push(self.push_parts(input, tag, pushed).await?);
        }
        plan.with_new_exprs(plan.expressions(), inputs).map_err(|e| self.failed(e))
    }

    /// `task` (the SQL of `plan`) run on Spark; its rows in the plan's schema.
    async fn rows_of(&self, plan: &LogicalPlan, task: &SqlTask, tag: &str) -> Result<Vec<RecordBatch>, EngineError> {
        let batches = self.run_task(task, tag).await?;
        in_plan_schema(plan, batches).map_err(|e| self.failed(e))
    }

    /// A task's views, then its query; its rows. (The session has the dialect's
    /// settings from the start.)
    async fn run_task(&self, task: &SqlTask, tag: &str) -> Result<Vec<RecordBatch>, EngineError> {
        let _session = self.session.lock().await;
        for table in &task.tables {
            self.run_sql(&table.create_view(SqlDialect::Spark), tag).await?;
        }
        self.run_sql(&task.sql, tag).await
    }

    /// One SQL statement; its rows as Arrow.
    async fn run_sql(&self, query: &str, tag: &str) -> Result<Vec<RecordBatch>, EngineError> {
        use proto::execute_plan_response::ResponseType;
        let relation =
            proto::Relation { common: None, rel_type: Some(proto::relation::RelType::Sql(proto::Sql { query: query.to_string(), ..Default::default() })) };
        let request = proto::ExecutePlanRequest {
            session_id: self.client.session_id().to_string(),
            user_context: Some(proto::UserContext { user_id: "vegalake".into(), ..Default::default() }),
            plan: Some(proto::Plan { op_type: Some(proto::plan::OpType::Root(relation)) }),
            client_type: Some("vegalake".into()),
            tags: vec![tag.to_string()],
            ..Default::default()
        };
        let mut stream = self.client.execute_plan(request).await.map_err(|e| self.failed(e))?;
        let mut batches = Vec::new();
        while let Some(response) = stream.message().await.map_err(|e| self.failed(spark_connect_core::SparkError::from_grpc_status(e)))? {
            if let Some(ResponseType::ArrowBatch(arrow)) = response.response_type {
                batches.extend(decode_ipc(&arrow.data).map_err(|e| self.failed(e))?);
            }
        }
        Ok(batches)
    }
}

#[async_trait::async_trait]
impl QueryEngine for SparkEngine {
    fn url(&self) -> &EngineUrl {
        &self.url
    }

    fn timeout(&self) -> Option<Duration> {
        self.opts.timeout
    }

    async fn execute(&self, local: &SessionContext, plan: LogicalPlan) -> Result<Executed, EngineError> {
        let tag = format!("vegalake-{}", self.next_tag.fetch_add(1, Ordering::Relaxed));
        let work = async {
            match self.run_on_spark(&plan, &tag).await? {
                Some(batches) => Ok(Executed { batches, scans: ScanMetrics::remote() }),
                None => self.run_partly(local, plan, &tag).await,
            }
        };
        let interrupt = async {
            if let Err(e) = self.client.interrupt_tag(&tag).await {
                log::warn!("{}: cannot interrupt {tag}: {}", self.url, one_line(&e));
            }
        };
        within(&self.url, self.opts.timeout, work, interrupt).await
    }
}

/// True if `plan` reads a table of files and reduces it (filters, groups or
/// limits its rows): worth its results coming from Spark. A bare scan is not:
/// this process reads the files as well.
fn worth_pushing(plan: &LogicalPlan) -> bool {
    let reads_files = plan
        .exists(|node| {
            let LogicalPlan::TableScan(scan) = node else { return Ok(false) };
            let provider = source_as_provider(&scan.source)?;
            Ok(provider.downcast_ref::<MemTable>().is_none())
        })
        .unwrap_or(false);
    let reduces = plan
        .exists(|node| Ok(matches!(node, LogicalPlan::Filter(_) | LogicalPlan::Aggregate(_) | LogicalPlan::Limit(_) | LogicalPlan::Distinct(_))))
        .unwrap_or(false);
    reads_files && reduces
}

/// Arrow IPC stream bytes as record batches.
fn decode_ipc(data: &[u8]) -> datafusion::error::Result<Vec<RecordBatch>> {
    if data.is_empty() {
        return Ok(Vec::new());
    }
    let reader = datafusion::arrow::ipc::reader::StreamReader::try_new(std::io::Cursor::new(data), None)?;
    Ok(reader.collect::<Result<Vec<_>, _>>()?)
}
