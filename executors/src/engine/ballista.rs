//! A Ballista cluster as the engine: the plan is serialized to the scheduler
//! (vegalake's own, [`crate::cluster`]), which splits it into stages its
//! executors run; the rows come back through Flight.

use super::distributable::distributable;
use super::{in_plan_schema, one_line, within, EngineError, EngineOptions, EngineUrl, Executed, QueryEngine};
use ballista_core::execution_plans::DistributedQueryExec;
use ballista_core::extension::SessionStateExt;
use ballista_core::serde::protobuf::scheduler_grpc_client::SchedulerGrpcClient;
use ballista_core::serde::protobuf::CancelJobParams;
use datafusion::execution::{SessionState, SessionStateBuilder};
use datafusion::logical_expr::LogicalPlan;
use datafusion::physical_plan::ExecutionPlan;
use datafusion::prelude::SessionContext;
use datafusion_proto::protobuf::LogicalPlanNode;
use std::sync::Arc;
use std::time::Duration;
use vegalake_connectors::ScanMetrics;

/// How long connecting to the scheduler may take.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);

/// Runs plans on a Ballista cluster.
pub struct BallistaEngine {
    url: EngineUrl,
    /// `http://HOST:PORT` of the scheduler.
    scheduler: String,
    /// A session whose query planner submits jobs to the scheduler.
    ctx: SessionContext,
    opts: EngineOptions,
}

impl BallistaEngine {
    /// Connects to the scheduler at `url` (a `ballista://` URL), failing within
    /// seconds when none answers.
    pub async fn connect(url: EngineUrl, opts: EngineOptions) -> Result<BallistaEngine, EngineError> {
        let EngineUrl::Ballista { host, port } = &url else {
            return Err(EngineError::BadUrl { url: url.to_string(), message: "not a ballista:// URL".into() });
        };
        let scheduler = format!("http://{host}:{port}");
        let refused = |message: String| EngineError::Connect { engine: url.to_string(), message };
        match tokio::time::timeout(CONNECT_TIMEOUT, SchedulerGrpcClient::connect(scheduler.clone())).await {
            Ok(Ok(_)) => {}
            Ok(Err(e)) => return Err(refused(one_line(&e))),
            Err(_) => return Err(refused(format!("no answer within {} s", CONNECT_TIMEOUT.as_secs()))),
        }
        let state = crate::session_state(crate::cluster::ballista_config()).upgrade_for_ballista(scheduler.clone()).map_err(|e| refused(one_line(&e)))?;
        let ctx = SessionContext::new_with_state(without_empty_relations(state));
        // Upgrading resets the session's functions to Ballista's; ours plan here too.
        vegalake_sql_gen::register_udfs(&ctx);
        Ok(BallistaEngine { url, scheduler, ctx, opts })
    }

    fn failed(&self, e: impl std::fmt::Display) -> EngineError {
        EngineError::Query { engine: self.url.to_string(), message: one_line(&e) }
    }

    /// Cancels the job `plan` submitted, if it got that far.
    async fn cancel(&self, plan: Arc<dyn ExecutionPlan>) {
        let Some(job_id) = plan.downcast_ref::<DistributedQueryExec<LogicalPlanNode>>().and_then(|d| d.job_id()) else { return };
        let cancelled = async {
            let mut client = SchedulerGrpcClient::connect(self.scheduler.clone()).await?;
            client.cancel_job(CancelJobParams { job_id: job_id.clone().into_inner() }).await?;
            Ok::<_, Box<dyn std::error::Error>>(())
        };
        if let Err(e) = cancelled.await {
            log::warn!("{}: cannot cancel job {job_id}: {}", self.url, one_line(&e));
        }
    }
}

/// Optimizer rules that replace a part of the plan known to be empty (`filter
/// false`, `limit 0`) by an empty relation.
const EMPTYING_RULES: [&str; 4] = ["eliminate_filter", "eliminate_limit", "propagate_empty_relation", "eliminate_join"];

/// The client's session without [`EMPTYING_RULES`]: the client optimizes a plan
/// before sending it, and a serialized empty relation loses its schema, so the
/// scheduler could not resolve the columns above it. The scheduler optimizes
/// again, in memory, where the rules are harmless.
fn without_empty_relations(state: SessionState) -> SessionState {
    let rules = state.optimizer().rules.iter().filter(|r| !EMPTYING_RULES.contains(&r.name())).cloned().collect();
    SessionStateBuilder::new_from_existing(state).with_optimizer_rules(rules).build()
}

#[async_trait::async_trait]
impl QueryEngine for BallistaEngine {
    fn url(&self) -> &EngineUrl {
        &self.url
    }

    fn timeout(&self) -> Option<Duration> {
        self.opts.timeout
    }

    async fn execute(&self, local: &SessionContext, plan: LogicalPlan) -> Result<Executed, EngineError> {
        let portable = match distributable(plan.clone()).map_err(|e| self.failed(e))? {
            Ok(portable) => portable,
            Err(why) => {
                // Run it where its inputs are.
                log::debug!("{}: runs locally: {why}", self.url);
                return within(&self.url, self.opts.timeout, super::local::run(local, plan), async {}).await;
            }
        };
        let jobs = std::sync::Mutex::new(Vec::new());
        let run = async {
            let job = self.plan_job(portable.clone(), &jobs).await?;
            match datafusion::physical_plan::collect(job, self.ctx.task_ctx()).await {
                Ok(batches) => Ok(batches),
                // The scheduler fails a job at its first failed task or stage
                // (crate::cluster): submitted again, it runs on the executors left.
                Err(e) => {
                    log::warn!("{}: {}; submitting the query again", self.url, one_line(&e));
                    let again = self.plan_job(portable, &jobs).await?;
                    datafusion::physical_plan::collect(again, self.ctx.task_ctx()).await.map_err(|e| self.failed(e))
                }
            }
        };
        let cancel = async {
            let last = jobs.lock().ok().and_then(|j| j.last().cloned());
            if let Some(job) = last {
                self.cancel(job).await;
            }
        };
        let batches = within(&self.url, self.opts.timeout, run, cancel).await?;
        Ok(Executed { batches: in_plan_schema(&plan, batches).map_err(|e| self.failed(e))?, scans: ScanMetrics::remote() })
    }
}

impl BallistaEngine {
    /// The physical plan that submits `plan` as a job, noted in `jobs` (so a
    /// timeout cancels the latest).
    async fn plan_job(&self, plan: LogicalPlan, jobs: &std::sync::Mutex<Vec<Arc<dyn ExecutionPlan>>>) -> Result<Arc<dyn ExecutionPlan>, EngineError> {
        let job = self.ctx.execute_logical_plan(plan).await.map_err(|e| self.failed(e))?.create_physical_plan().await.map_err(|e| self.failed(e))?;
        if let Ok(mut jobs) = jobs.lock() {
            jobs.push(job.clone());
        }
        Ok(job)
    }
}
