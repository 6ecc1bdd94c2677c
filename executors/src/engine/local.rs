//! The embedded engine: DataFusion in this process, on the session that opened
//! the sources.

use super::{within, EngineError, EngineOptions, EngineUrl, Executed, QueryEngine};
use datafusion::logical_expr::LogicalPlan;
use datafusion::prelude::SessionContext;
use std::time::Duration;
use vegalake_connectors::ScanMetrics;

/// Runs plans on the local session (the default engine).
pub struct LocalEngine {
    url: EngineUrl,
    opts: EngineOptions,
}

impl LocalEngine {
    pub fn new(opts: EngineOptions) -> LocalEngine {
        LocalEngine { url: EngineUrl::Local, opts }
    }
}

impl Default for LocalEngine {
    fn default() -> Self {
        LocalEngine::new(EngineOptions::default())
    }
}

#[async_trait::async_trait]
impl QueryEngine for LocalEngine {
    fn url(&self) -> &EngineUrl {
        &self.url
    }

    fn timeout(&self) -> Option<Duration> {
        self.opts.timeout
    }

    async fn execute(&self, local: &SessionContext, plan: LogicalPlan) -> Result<Executed, EngineError> {
        // Dropping DataFusion's streams stops their tasks: cancelling is dropping.
        within(&self.url, self.opts.timeout, run(local, plan), async {}).await
    }
}

/// Executes `plan` on `ctx`, with what its scans read.
pub(crate) async fn run(ctx: &SessionContext, plan: LogicalPlan) -> Result<Executed, EngineError> {
    let physical = ctx.execute_logical_plan(plan).await?.create_physical_plan().await?;
    let batches = datafusion::physical_plan::collect(physical.clone(), ctx.task_ctx()).await?;
    if log::log_enabled!(log::Level::Debug) {
        log::debug!("executed:\n{}", datafusion::physical_plan::displayable(physical.as_ref()).indent(true));
    }
    Ok(Executed { batches, scans: ScanMetrics::of_plan(&physical) })
}
