//! What the server does, whatever the protocol: info, pre-transform, and chart
//! sessions (open, update, close), each request evaluated under the limits.

use crate::auth::{Caller, Tokens};
use crate::error::{Kind, ServeError};
use serde::Serialize;
use serde_json::{json, Value as Json};
use std::collections::HashMap;
use std::future::Future;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::sync::Semaphore;
use vegalake_connectors::{DataAccess, ForbiddenFiles};
use vegalake_executors::{pre_transform_spec, ChartOptions, ChartState, Interactivity, Runtime, VarValue};
use vegalake_planner::values::time::Zone;
use vegalake_planner::Spec;

/// Bounds on what one request, one caller and the server may use.
#[derive(Debug, Clone, Serialize)]
pub struct Limits {
    /// A request's body (HTTP) or message (gRPC).
    pub max_request_bytes: usize,
    /// An answer's size.
    pub max_response_bytes: usize,
    /// Rows per dataset in an answer (more are cut, with a warning).
    pub max_rows: usize,
    /// An evaluation running longer is cancelled on the engine.
    #[serde(serialize_with = "seconds")]
    pub request_timeout: Duration,
    /// Evaluations at once; more are refused (RESOURCE_EXHAUSTED, 429).
    pub max_concurrent: usize,
    /// Charts one token may hold open.
    pub max_charts_per_token: usize,
    /// A chart unused this long is closed.
    #[serde(serialize_with = "seconds")]
    pub idle_timeout: Duration,
    /// Memory the embedded engine's queries hold together (the runtime's pool,
    /// `--memory-limit`); a query past it fails with RESOURCE_EXHAUSTED.
    pub memory_limit: Option<usize>,
}

fn seconds<S: serde::Serializer>(d: &Duration, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_f64(d.as_secs_f64())
}

impl Default for Limits {
    fn default() -> Self {
        let cores = std::thread::available_parallelism().map_or(2, usize::from);
        Limits {
            max_request_bytes: 4 << 20,
            max_response_bytes: 64 << 20,
            max_rows: 100_000,
            request_timeout: Duration::from_secs(60),
            max_concurrent: 2 * cores,
            max_charts_per_token: 32,
            idle_timeout: Duration::from_secs(30 * 60),
            memory_limit: None,
        }
    }
}

/// Compiles a Vega-Lite spec to Vega (the CLI hands its embedded compiler).
pub type Compile = Arc<dyn Fn(Json) -> Result<Json, String> + Send + Sync>;

/// How the server is set up.
pub struct ServeOptions {
    pub runtime: Arc<Runtime>,
    /// The engine, as `--engine` named it.
    pub engine: String,
    pub data: DataAccess,
    pub tokens: Tokens,
    pub limits: Limits,
    pub compile: Compile,
}

struct Session {
    owner: Caller,
    state: tokio::sync::Mutex<ChartState>,
    last_seq: AtomicU64,
    last_used: Mutex<Instant>,
    /// Each applied update's answer, to the chart's watchers.
    applied: tokio::sync::broadcast::Sender<Arc<Updated>>,
}

/// Answers a watcher may fall behind by before its stream ends.
const WATCH_BACKLOG: usize = 64;

/// An opened chart, as answered.
#[derive(Debug, Serialize)]
pub struct Opened {
    pub chart_id: String,
    pub client_spec: Json,
    pub comm_plan: Json,
    pub warnings: Vec<String>,
}

/// An update's answer.
#[derive(Debug, Clone, Serialize)]
pub struct Updated {
    pub seq: u64,
    pub values: Vec<VarValue>,
    /// Nothing was computed: every value came from the cache.
    pub cached: bool,
}

/// The server's state: its options, its charts and its evaluation permits.
pub struct Service {
    pub options: ServeOptions,
    sessions: Mutex<HashMap<String, Arc<Session>>>,
    permits: Semaphore,
    next_id: AtomicU64,
    /// Set when the server stops: watch streams end (or graceful shutdown would
    /// wait on them forever).
    stopping: tokio::sync::watch::Sender<bool>,
}

impl Service {
    pub fn new(options: ServeOptions) -> Service {
        let permits = Semaphore::new(options.limits.max_concurrent);
        Service { options, sessions: Mutex::default(), permits, next_id: AtomicU64::new(1), stopping: tokio::sync::watch::Sender::new(false) }
    }

    /// Ends the watch streams: the server is stopping.
    pub fn stop_watches(&self) {
        self.stopping.send_replace(true);
    }

    pub fn check(&self, authorization: Option<&str>) -> Result<Caller, ServeError> {
        self.options.tokens.check(authorization)
    }

    /// Version, engine, limits and what specs may read.
    pub fn info(&self) -> Json {
        let mut roots = vec![self.options.data.data_dir.display().to_string()];
        roots.extend(self.options.data.allow_roots.iter().cloned());
        json!({
            "version": env!("CARGO_PKG_VERSION"), "engine": self.options.engine,
            "limits": self.options.limits, "data_roots": roots, "tables": self.options.data.catalog.tables.keys().collect::<Vec<_>>(),
        })
    }

    fn spec(&self, text: &str) -> Result<Spec, ServeError> {
        if text.len() > self.options.limits.max_request_bytes {
            return Err(ServeError::new(Kind::TooLarge, format!("spec: {} bytes, over the limit of {}", text.len(), self.options.limits.max_request_bytes)));
        }
        let json: Json = serde_json::from_str(text).map_err(|e| ServeError::new(Kind::InvalidArgument, format!("spec: invalid JSON: {e}")))?;
        let vega = (self.options.compile)(json).map_err(|e| ServeError::new(Kind::InvalidArgument, format!("spec: {e}")))?;
        serde_json::from_value(vega).map_err(|e| ServeError::new(Kind::InvalidArgument, format!("spec: not a Vega spec: {e}")))
    }

    fn chart_options(&self, timezone: &str, interactivity: Interactivity) -> Result<ChartOptions, ServeError> {
        let zone =
            Zone::parse(if timezone.is_empty() { "UTC" } else { timezone }).map_err(|e| ServeError::new(Kind::InvalidArgument, format!("timezone: {e}")))?;
        let rows = Some(self.options.limits.max_rows);
        // A caller learns that the server refused a file outside its roots
        // (PERMISSION_DENIED), rather than finding it left to a browser it may not have.
        let data = DataAccess { forbidden_files: ForbiddenFiles::Refused, ..self.options.data.clone() };
        Ok(ChartOptions { data, zone, interactivity, row_limit: rows, browser_rows: rows, ..ChartOptions::default() })
    }

    /// Runs an evaluation with a permit and under the time limit; dropping it on
    /// timeout cancels its queries on the engine.
    async fn evaluate<T>(&self, work: impl Future<Output = Result<T, ServeError>>) -> Result<T, ServeError> {
        let limits = &self.options.limits;
        let _permit = self.permits.try_acquire().map_err(|_| {
            ServeError::new(Kind::ResourceExhausted, format!("busy: {} evaluations are running, the server's limit; retry shortly", limits.max_concurrent))
        })?;
        match tokio::time::timeout(limits.request_timeout, work).await {
            Ok(result) => result,
            Err(_) => Err(ServeError::new(
                Kind::DeadlineExceeded,
                format!("the evaluation ran past the server's limit of {:?} and was cancelled", limits.request_timeout),
            )),
        }
    }

    pub async fn pre_transform(&self, _caller: Caller, spec: &str, timezone: &str) -> Result<(Json, Vec<String>), ServeError> {
        let spec = self.spec(spec)?;
        let options = self.chart_options(timezone, Interactivity::Browser)?;
        let runtime = self.options.runtime.clone();
        let (client, warnings) = self.evaluate(async { Ok(pre_transform_spec(runtime, &spec, options).await?) }).await?;
        let client = serde_json::to_value(&client).map_err(|e| ServeError::new(Kind::Internal, e.to_string()))?;
        self.fits(&client)?;
        Ok((client, warnings.into_iter().map(|w| w.message).collect()))
    }

    pub async fn open(&self, caller: Caller, spec: &str, timezone: &str) -> Result<Opened, ServeError> {
        self.reap();
        let held = self.sessions.lock().map(|s| s.values().filter(|s| s.owner == caller).count()).unwrap_or(0);
        if held >= self.options.limits.max_charts_per_token {
            return Err(ServeError::new(Kind::ResourceExhausted, format!("this token holds {held} open charts, the server's limit; close one first")));
        }
        let spec = self.spec(spec)?;
        let options = self.chart_options(timezone, Interactivity::Server)?;
        let runtime = self.options.runtime.clone();
        let state = self.evaluate(async { Ok(ChartState::open(runtime, &spec, options).await?) }).await?;
        let to_json = |v: Result<Json, serde_json::Error>| v.map_err(|e| ServeError::new(Kind::Internal, e.to_string()));
        let opened = Opened {
            chart_id: self.new_chart_id(),
            client_spec: to_json(serde_json::to_value(state.client_spec()))?,
            comm_plan: to_json(serde_json::to_value(state.comm_plan()))?,
            warnings: state.warnings().iter().map(|w| w.message.clone()).collect(),
        };
        self.fits(&opened.client_spec)?;
        let session = Session {
            owner: caller,
            state: tokio::sync::Mutex::new(state),
            last_seq: AtomicU64::new(0),
            last_used: Mutex::new(Instant::now()),
            applied: tokio::sync::broadcast::Sender::new(WATCH_BACKLOG),
        };
        if let Ok(mut sessions) = self.sessions.lock() {
            sessions.insert(opened.chart_id.clone(), Arc::new(session));
        }
        Ok(opened)
    }

    /// A chart id: a counter, and a hash of the process and the time, so that ids of
    /// a restarted server do not repeat those a client may still hold.
    fn new_chart_id(&self) -> String {
        let n = self.next_id.fetch_add(1, Ordering::Relaxed);
        let nanos = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_nanos());
        let salt = blake3::hash(format!("{n}:{}:{nanos}", std::process::id()).as_bytes()).to_hex();
        format!("c{n}-{}", &salt[..12])
    }

    /// The caller's chart: another token's chart is as missing as a closed one.
    fn session(&self, caller: Caller, id: &str) -> Result<Arc<Session>, ServeError> {
        let session = self.sessions.lock().ok().and_then(|s| s.get(id).cloned()).filter(|s| s.owner == caller);
        session.ok_or_else(|| ServeError::new(Kind::NotFound, format!("no open chart '{id}' (closed, idle past the limit, or another token's)")))
    }

    pub async fn update(&self, caller: Caller, id: &str, seq: u64, values: Vec<VarValue>) -> Result<Updated, ServeError> {
        let session = self.session(caller, id)?;
        let last = session.last_seq.load(Ordering::Acquire);
        if seq != 0 && seq <= last {
            return Err(ServeError::new(Kind::FailedPrecondition, format!("update {seq} is not newer than update {last}, already applied")));
        }
        if let Ok(mut t) = session.last_used.lock() {
            *t = Instant::now();
        }
        let cache = self.options.runtime.cache();
        let computed_before = cache.stats().computed;
        let changed = self
            .evaluate(async {
                let mut state = session.state.lock().await;
                Ok(state.update(&values).await?)
            })
            .await?;
        session.last_seq.fetch_max(seq, Ordering::AcqRel);
        let updated = Updated { seq, cached: cache.stats().computed == computed_before, values: changed };
        self.fits(&updated.values)?;
        // No watcher is no error.
        let _ = session.applied.send(Arc::new(updated.clone()));
        Ok(updated)
    }

    /// The answers of the updates applied to the caller's chart from now on, until
    /// it closes or the server stops. A watcher that fell behind gets one
    /// RESOURCE_EXHAUSTED error and the stream ends: the answers it missed are
    /// gone, so it watches again.
    pub fn watch(&self, caller: Caller, id: &str) -> Result<impl futures::Stream<Item = Result<Arc<Updated>, ServeError>> + Send + 'static, ServeError> {
        use futures::StreamExt;
        use tokio::sync::broadcast::error::RecvError;
        let applied = self.session(caller, id)?.applied.subscribe();
        let mut stopping = self.stopping.subscribe();
        let answers = futures::stream::unfold(Some(applied), |applied| async move {
            let mut applied = applied?;
            match applied.recv().await {
                Ok(updated) => Some((Ok(updated), Some(applied))),
                Err(RecvError::Lagged(n)) => {
                    let behind = ServeError::new(Kind::ResourceExhausted, format!("the watcher fell {n} updates behind; watch again"));
                    Some((Err(behind), None))
                }
                Err(RecvError::Closed) => None,
            }
        });
        Ok(answers.take_until(async move {
            let _ = stopping.wait_for(|stop| *stop).await;
        }))
    }

    pub fn close(&self, caller: Caller, id: &str) -> Result<(), ServeError> {
        self.session(caller, id)?;
        if let Ok(mut sessions) = self.sessions.lock() {
            sessions.remove(id);
        }
        Ok(())
    }

    /// Closes the charts idle past the limit.
    pub fn reap(&self) {
        let idle = self.options.limits.idle_timeout;
        if let Ok(mut sessions) = self.sessions.lock() {
            sessions.retain(|_, s| s.last_used.lock().map(|t| t.elapsed() < idle).unwrap_or(false));
        }
    }

    /// Errs when an answer is larger than the limit.
    fn fits<T: Serialize>(&self, answer: &T) -> Result<(), ServeError> {
        let size = serde_json::to_vec(answer).map_or(0, |v| v.len());
        let limit = self.options.limits.max_response_bytes;
        if size > limit {
            return Err(ServeError::new(Kind::ResourceExhausted, format!("the answer is {size} bytes, over the limit of {limit}")));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn service(max_concurrent: usize) -> Service {
        let options = ServeOptions {
            runtime: Arc::new(Runtime::new(1 << 20)),
            engine: "local".into(),
            data: DataAccess::new(std::env::temp_dir()),
            tokens: Tokens::open(),
            limits: Limits { max_concurrent, max_charts_per_token: 1, ..Limits::default() },
            compile: Arc::new(Ok),
        };
        Service::new(options)
    }

    #[tokio::test]
    async fn more_evaluations_than_allowed_are_refused_and_the_server_goes_on() {
        let svc = Arc::new(service(1));
        let release = Arc::new(tokio::sync::Notify::new());
        let running = {
            let (svc, release) = (svc.clone(), release.clone());
            tokio::spawn(async move {
                svc.evaluate(async move {
                    release.notified().await;
                    Ok(())
                })
                .await
            })
        };
        // Waits on the condition itself: the first evaluation holds the permit.
        while svc.permits.available_permits() > 0 {
            tokio::task::yield_now().await;
        }
        let refused = svc.evaluate(async { Ok(()) }).await.unwrap_err();
        assert_eq!(refused.kind, Kind::ResourceExhausted, "{refused}");
        assert!(refused.message.contains("busy: 1 evaluations"), "{refused}");
        release.notify_one();
        running.await.unwrap().unwrap();
        assert!(svc.evaluate(async { Ok(()) }).await.is_ok(), "served again once the first finished");
    }

    #[tokio::test]
    async fn a_token_holds_at_most_its_charts() {
        let svc = service(2);
        let caller = svc.check(None).unwrap();
        let spec = r#"{"data": [{"name": "t", "values": [{"a": 1}]}]}"#;
        let first = svc.open(caller, spec, "").await.unwrap();
        let refused = svc.open(caller, spec, "").await.unwrap_err();
        assert_eq!(refused.kind, Kind::ResourceExhausted, "{refused}");
        svc.close(caller, &first.chart_id).unwrap();
        assert!(svc.open(caller, spec, "").await.is_ok(), "a closed chart frees its place");
        assert_eq!(svc.pre_transform(caller, spec, "UTC+nowhere").await.unwrap_err().kind, Kind::InvalidArgument);
    }
}
