//! vegalake's Ballista cluster processes: a scheduler and executors built on the
//! `ballista-scheduler` and `ballista-executor` crates, each with vegalake's
//! functions and optimizer rules ([`crate::session_state`]). Stock Ballista
//! binaries cannot run our plans: a plan names its functions, and only processes
//! that registered them can deserialize it.
//!
//! Failure detection is tuned for interactive charts rather than batch jobs:
//! executors send a heartbeat every 2 s and the scheduler declares an executor
//! lost after 10 s without one.
//!
//! A job fails at its first failed task or stage, and the client submits it again
//! ([`crate::engine::BallistaEngine`]). Ballista 55's own recovery (rerunning the
//! lost executor's tasks and the stages that read them) returned wrong rows: with
//! an executor killed mid-query, a grouping by a million keys came back with
//! 1.12 to 1.37 million groups, some partitions counted twice.

use crate::codec::VegalakeLogicalCodec;
use ballista_core::extension::SessionConfigExt;
use ballista_core::registry::BallistaFunctionRegistry;
use ballista_executor::executor_process::{start_executor_process, ExecutorProcessConfig};
use ballista_scheduler::cluster::{BallistaCluster, ClusterStateEvent};
use ballista_scheduler::config::SchedulerConfig;
use ballista_scheduler::scheduler_process::{create_scheduler, start_grpc_service_with_listener};
use datafusion::prelude::SessionConfig;
use datafusion_proto::protobuf::{LogicalPlanNode, PhysicalPlanNode};
use futures::StreamExt;
use std::collections::HashSet;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;

/// The largest gRPC message between client, scheduler and executors: a plan
/// carries its inline data as `VALUES`.
pub const MAX_MESSAGE_BYTES: usize = 512 << 20;

const HEARTBEAT_SECONDS: u64 = 2;
const EXECUTOR_TIMEOUT_SECONDS: u64 = 10;

/// Why a cluster process stopped.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct ClusterError(String);

fn fail(what: &str, e: impl std::fmt::Display) -> ClusterError {
    ClusterError(format!("{what}: {}", crate::engine::one_line(&e)))
}

/// The session config every vegalake Ballista process and client starts from.
///
/// Ballista 55's adaptive planner (its default) is off: it ran each input of a
/// union of in-memory inputs more than once (a `fold` of three fields returned
/// some rows two and three times); the static planner splits the same plans right.
/// Plans are written with vegalake's codec ([`crate::codec`]).
pub fn ballista_config() -> SessionConfig {
    SessionConfig::new_with_ballista()
        .with_ballista_grpc_client_max_message_size(MAX_MESSAGE_BYTES)
        .with_ballista_adaptive_query_planner(false)
        .with_ballista_logical_extension_codec(Arc::new(VegalakeLogicalCodec::default()))
}

/// An executor joined or left the scheduler's cluster: its id and how many are
/// registered after the change. Scripts and tests wait on these instead of on
/// time, and an operator sees a lost executor as it is declared lost.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExecutorChange {
    /// The executor's id.
    pub id: String,
    /// True when it joined, false when it left (stopped, or lost its heartbeat).
    pub joined: bool,
    /// Executors registered after the change.
    pub registered: usize,
}

impl std::fmt::Display for ExecutorChange {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "executors: {} ({} {})", self.registered, self.id, if self.joined { "joined" } else { "left" })
    }
}

/// Runs a scheduler on `bind` (port 0 picks a free one) until the process ends;
/// `ready` is told the address it listens on, `changed` each executor that joins
/// or leaves.
pub async fn run_scheduler(bind: SocketAddr, ready: impl FnOnce(SocketAddr), changed: impl FnMut(ExecutorChange) + Send + 'static) -> Result<(), ClusterError> {
    let listener = tokio::net::TcpListener::bind(bind).await.map_err(|e| fail("cannot listen", format!("{bind}: {e}")))?;
    let addr = listener.local_addr().map_err(|e| fail("cannot listen", e))?;
    let config = SchedulerConfig {
        scheduler_id: addr.to_string(),
        bind_host: addr.ip().to_string(),
        external_host: addr.ip().to_string(),
        bind_port: addr.port(),
        grpc_server_max_decoding_message_size: MAX_MESSAGE_BYTES as u32,
        grpc_server_max_encoding_message_size: MAX_MESSAGE_BYTES as u32,
        grpc_client_max_message_size: MAX_MESSAGE_BYTES as u32,
        executor_timeout_seconds: EXECUTOR_TIMEOUT_SECONDS,
        expire_dead_executor_interval_seconds: HEARTBEAT_SECONDS,
        no_executors_grace_period_seconds: EXECUTOR_TIMEOUT_SECONDS,
        override_session_builder: Some(Arc::new(|config| Ok(scheduler_session_state(config)))),
        override_config_producer: Some(Arc::new(ballista_config)),
        override_logical_codec: Some(Arc::new(VegalakeLogicalCodec::default())),
        // No recovery inside a job (see the module's notes).
        task_max_failures: 1,
        stage_max_failures: 1,
        ..SchedulerConfig::default()
    };
    config.validate().map_err(|e| fail("bad scheduler configuration", e))?;
    let cluster = BallistaCluster::new_from_config(&config).await.map_err(|e| fail("cannot start the scheduler", e))?;
    let scheduler =
        create_scheduler::<LogicalPlanNode, PhysicalPlanNode>(cluster, Arc::new(config)).await.map_err(|e| fail("cannot start the scheduler", e))?;
    // Subscribed before any executor can know the address: none is missed.
    let events = scheduler.state.executor_manager.cluster_state_events().await.map_err(|e| fail("cannot start the scheduler", e))?;
    tokio::spawn(report_executor_changes(events, changed));
    ready(addr);
    start_grpc_service_with_listener(listener, scheduler).await.map_err(|e| fail("the scheduler stopped", e))
}

/// Calls `changed` for each executor that registers or is removed (a heartbeat
/// repeats registration: only a new id counts).
async fn report_executor_changes(mut events: ballista_scheduler::cluster::ClusterStateEventStream, mut changed: impl FnMut(ExecutorChange)) {
    let mut registered = HashSet::new();
    while let Some(event) = events.next().await {
        let (id, joined) = match event {
            ClusterStateEvent::RegisteredExecutor { executor_id } => (executor_id, true),
            ClusterStateEvent::RemovedExecutor { executor_id } => (executor_id, false),
        };
        let new = if joined { registered.insert(id.clone()) } else { registered.remove(&id) };
        if new {
            changed(ExecutorChange { id, joined, registered: registered.len() });
        }
    }
}

/// The scheduler plans with our optimizer rules plus Ballista's.
fn scheduler_session_state(config: SessionConfig) -> datafusion::execution::SessionState {
    let state = crate::session_state(config);
    let rules = ballista_core::optimizer::with_ballista_optimizer_rules(state.optimizers());
    datafusion::execution::SessionStateBuilder::new_from_existing(state).with_optimizer_rules(rules).build()
}

/// Where an executor listens and what it may use.
#[derive(Debug, Clone)]
pub struct ExecutorOptions {
    /// The scheduler's `HOST:PORT`.
    pub scheduler: String,
    /// Its Flight (shuffle data) address; port 0 picks free ports, so several
    /// executors can share a host.
    pub bind: SocketAddr,
    /// Tasks it runs at once; 0 means one per core.
    pub slots: usize,
    /// Where it writes shuffle files (a temporary directory when not given).
    pub work_dir: Option<PathBuf>,
}

/// Runs an executor until the process ends or the scheduler stops it; `ready` is
/// told its Flight address once chosen.
pub async fn run_executor(opts: ExecutorOptions, ready: impl FnOnce(SocketAddr)) -> Result<(), ClusterError> {
    let (scheduler_host, scheduler_port) = split_host_port(&opts.scheduler)?;
    let port = free_port(opts.bind)?;
    let grpc_port = free_port(SocketAddr::new(opts.bind.ip(), 0))?;
    let registry = BallistaFunctionRegistry::from(&crate::session_state(ballista_config()));
    let config = ExecutorProcessConfig {
        bind_host: opts.bind.ip().to_string(),
        external_host: Some(opts.bind.ip().to_string()),
        port,
        grpc_port,
        scheduler_host,
        scheduler_port,
        // Waits this long for a scheduler that is still starting.
        scheduler_connect_timeout_seconds: 10,
        vcores: opts.slots,
        work_dir: opts.work_dir.map(|d| d.display().to_string()),
        executor_heartbeat_interval_seconds: HEARTBEAT_SECONDS,
        grpc_max_decoding_message_size: MAX_MESSAGE_BYTES as u32,
        grpc_max_encoding_message_size: MAX_MESSAGE_BYTES as u32,
        override_function_registry: Some(Arc::new(registry)),
        override_config_producer: Some(Arc::new(ballista_config)),
        ..ExecutorProcessConfig::default()
    };
    ready(SocketAddr::new(opts.bind.ip(), port));
    start_executor_process(Arc::new(config)).await.map_err(|e| fail("the executor stopped", e))
}

/// `bind`'s port, or a free one for port 0 (Ballista advertises the port it is
/// given, so it must be a real one).
fn free_port(bind: SocketAddr) -> Result<u16, ClusterError> {
    if bind.port() != 0 {
        return Ok(bind.port());
    }
    let probe = std::net::TcpListener::bind(bind).map_err(|e| fail("cannot find a free port", format!("{bind}: {e}")))?;
    probe.local_addr().map(|a| a.port()).map_err(|e| fail("cannot find a free port", e))
}

fn split_host_port(s: &str) -> Result<(String, u16), ClusterError> {
    let s = s.strip_prefix("ballista://").unwrap_or(s);
    match crate::engine::host_port(s) {
        Ok((host, Some(port))) => Ok((host, port)),
        _ => Err(ClusterError(format!("bad scheduler address '{s}': expected HOST:PORT"))),
    }
}
