//! Where a dataset's query runs: embedded DataFusion ([`LocalEngine`]), an Apache
//! Ballista cluster ([`BallistaEngine`]), or Apache Spark through Spark Connect
//! (`SparkEngine`, with the `spark` feature: its protocol needs protoc to build).
//!
//! Every engine takes the same input: a lowered logical plan built on the local
//! session (whose sources the connectors opened). The local engine runs it as is.
//! Ballista receives it serialized, with in-memory sources turned into `VALUES`
//! ([`distributable`]); its scheduler and executors are our own processes
//! ([`crate::cluster`]) that know vegalake's functions. Spark receives SQL: a
//! plan with a faithful Spark SQL form runs there, any other runs locally.
//!
//! A query that takes longer than the engine's timeout is cancelled on the engine
//! (Ballista's job, Spark's operation) and fails with [`EngineError::Timeout`].
//!
//! ```
//! use vegalake_executors::engine::EngineUrl;
//!
//! let url: EngineUrl = "spark://127.0.0.1:15002".parse().unwrap();
//! assert_eq!(url, EngineUrl::Spark { host: "127.0.0.1".into(), port: 15002 });
//! assert!("hive://x".parse::<EngineUrl>().is_err());
//! ```

mod ballista;
pub mod distributable;
mod local;
#[cfg(feature = "spark")]
mod spark;
mod warehouse;

pub use self::ballista::BallistaEngine;
pub use local::LocalEngine;
#[cfg(feature = "spark")]
pub use spark::SparkEngine;
pub(crate) use warehouse::{execute as execute_on_warehouse, reads_warehouse};

use datafusion::arrow::datatypes::{Schema, SchemaRef};
use datafusion::arrow::record_batch::RecordBatch;
use datafusion::common::TableReference;
use datafusion::datasource::{provider_as_source, MemTable};
use datafusion::logical_expr::{LogicalPlan, LogicalPlanBuilder};
use datafusion::prelude::SessionContext;
use std::fmt;
use std::future::Future;
use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;
use vegalake_connectors::ScanMetrics;

/// Where to run queries, as `--engine` names it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EngineUrl {
    /// Embedded DataFusion (the default).
    Local,
    /// A Ballista scheduler: `ballista://HOST:PORT`.
    Ballista { host: String, port: u16 },
    /// A Spark Connect server: `spark://HOST:PORT` or `sc://HOST:PORT`.
    Spark { host: String, port: u16 },
}

/// Spark Connect's and Ballista's default ports.
const SPARK_CONNECT_PORT: u16 = 15002;
const BALLISTA_PORT: u16 = 50050;

impl FromStr for EngineUrl {
    type Err = EngineError;

    fn from_str(s: &str) -> Result<EngineUrl, EngineError> {
        let bad = |why: &str| EngineError::BadUrl { url: s.to_string(), message: why.to_string() };
        if s == "local" {
            return Ok(EngineUrl::Local);
        }
        let (scheme, rest) = s.split_once("://").ok_or_else(|| bad("expected local, ballista://HOST:PORT or spark://HOST:PORT"))?;
        let (host, port) = host_port(rest.trim_end_matches('/')).map_err(bad)?;
        match scheme {
            "ballista" => Ok(EngineUrl::Ballista { host, port: port.unwrap_or(BALLISTA_PORT) }),
            "spark" | "sc" => Ok(EngineUrl::Spark { host, port: port.unwrap_or(SPARK_CONNECT_PORT) }),
            other => Err(bad(&format!("unknown engine '{other}' (expected local, ballista or spark)"))),
        }
    }
}

/// `HOST[:PORT]` split, the port when given; or what is wrong with it.
pub(crate) fn host_port(authority: &str) -> Result<(String, Option<u16>), &'static str> {
    let (host, port) = match authority.rsplit_once(':') {
        Some((h, p)) => (h, Some(p.parse::<u16>().map_err(|_| "the port is not a number")?)),
        None => (authority, None),
    };
    if host.is_empty() || host.contains('/') {
        return Err("expected HOST:PORT after the scheme");
    }
    Ok((host.to_string(), port))
}

impl fmt::Display for EngineUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            EngineUrl::Local => f.write_str("local"),
            EngineUrl::Ballista { host, port } => write!(f, "ballista://{host}:{port}"),
            EngineUrl::Spark { host, port } => write!(f, "spark://{host}:{port}"),
        }
    }
}

/// Why an engine did not return a query's rows.
#[derive(Debug, thiserror::Error)]
pub enum EngineError {
    #[error("bad engine '{url}': {message}")]
    BadUrl { url: String, message: String },
    #[error("{engine}: cannot connect: {message}")]
    Connect { engine: String, message: String },
    #[error("{engine}: {message}")]
    Query { engine: String, message: String },
    #[error("{engine}: query cancelled after the {seconds} s timeout")]
    Timeout { engine: String, seconds: f64 },
    /// The local engine's own failure: the dataset is left to the client, as
    /// before engines existed.
    #[error(transparent)]
    Local(#[from] datafusion::error::DataFusionError),
}

/// A query's rows and what its scans read (only the local engine can tell).
#[derive(Debug, Default)]
pub struct Executed {
    pub batches: Vec<RecordBatch>,
    pub scans: ScanMetrics,
}

/// An engine that runs vegalake's lowered plans.
#[async_trait::async_trait]
pub trait QueryEngine: Send + Sync {
    /// The engine's URL, for messages.
    fn url(&self) -> &EngineUrl;

    /// Queries running longer are cancelled.
    fn timeout(&self) -> Option<Duration>;

    /// Runs `plan` (built on `local`, unoptimized) and returns its rows in its schema.
    async fn execute(&self, local: &SessionContext, plan: LogicalPlan) -> Result<Executed, EngineError>;
}

/// How engines are reached.
#[derive(Debug, Clone, Copy, Default)]
pub struct EngineOptions {
    /// Queries running longer are cancelled (`--timeout`).
    pub timeout: Option<Duration>,
}

/// The engine at `url`, connected: a Ballista scheduler or a Spark server that
/// does not answer is an error here, not at the first query.
pub async fn connect(url: &EngineUrl, opts: EngineOptions) -> Result<Arc<dyn QueryEngine>, EngineError> {
    Ok(match url {
        EngineUrl::Local => Arc::new(LocalEngine::new(opts)),
        EngineUrl::Ballista { .. } => Arc::new(BallistaEngine::connect(url.clone(), opts).await?),
        #[cfg(feature = "spark")]
        EngineUrl::Spark { .. } => Arc::new(SparkEngine::connect(url.clone(), opts).await?),
        #[cfg(not(feature = "spark"))]
        EngineUrl::Spark { .. } => {
            let message = "this vegalake was built without Spark Connect (build it with `--features spark`)";
            return Err(EngineError::Connect { engine: url.to_string(), message: message.into() });
        }
    })
}

/// An error as one line: engines' messages span several.
pub(crate) fn one_line(e: &impl fmt::Display) -> String {
    e.to_string().split_whitespace().collect::<Vec<_>>().join(" ")
}

/// Runs `work` within the timeout; past it, drops `work` and runs `cancel`.
async fn within<T>(
    engine: &(impl fmt::Display + ?Sized),
    timeout: Option<Duration>,
    work: impl Future<Output = Result<T, EngineError>>,
    cancel: impl Future<Output = ()>,
) -> Result<T, EngineError> {
    let Some(limit) = timeout else { return work.await };
    match tokio::time::timeout(limit, work).await {
        Ok(result) => result,
        Err(_) => {
            cancel.await;
            Err(EngineError::Timeout { engine: engine.to_string(), seconds: limit.as_secs_f64() })
        }
    }
}

/// The record batches re-labelled with `plan`'s schema (names and metadata that
/// say how to print them), each column cast to its type where the engine's differs.
/// A column the plan declares non-null but the engine filled with nulls (its outer
/// join, say) becomes nullable rather than an error.
fn in_plan_schema(plan: &LogicalPlan, batches: Vec<RecordBatch>) -> Result<Vec<RecordBatch>, datafusion::error::DataFusionError> {
    use datafusion::arrow::compute::cast;
    let planned = plan.schema().as_arrow();
    if let Some(b) = batches.iter().find(|b| b.num_columns() != planned.fields().len()) {
        return Err(datafusion::error::DataFusionError::Execution(format!(
            "the engine returned {} columns where the plan has {}",
            b.num_columns(),
            planned.fields().len()
        )));
    }
    // By name where the engine kept every name (its SELECT may list them in
    // another order: an aggregate's groups after its values), else by position.
    let batches: Vec<RecordBatch> = batches
        .into_iter()
        .map(|b| {
            let by_name: Option<Vec<usize>> = planned.fields().iter().map(|f| b.schema().index_of(f.name()).ok()).collect();
            match by_name {
                Some(indices) => b.project(&indices),
                None => Ok(b),
            }
        })
        .collect::<Result<_, _>>()?;
    let has_nulls = |i: usize| batches.iter().any(|b| b.column(i).null_count() > 0);
    let fields: Vec<_> = planned.fields().iter().enumerate().map(|(i, f)| f.as_ref().clone().with_nullable(f.is_nullable() || has_nulls(i))).collect();
    let schema = Arc::new(Schema::new_with_metadata(fields, planned.metadata().clone()));
    batches
        .into_iter()
        .map(|b| {
            let columns = b.columns().iter().zip(schema.fields()).map(|(c, f)| cast(c, f.data_type())).collect::<Result<Vec<_>, _>>()?;
            let options = datafusion::arrow::record_batch::RecordBatchOptions::new().with_row_count(Some(b.num_rows()));
            Ok(RecordBatch::try_new_with_options(schema.clone(), columns, &options)?)
        })
        .collect()
}

/// The one qualifier of `plan`'s columns (`Some(None)` when none has one), or
/// `None` if they have several: a scan in its place can only have one.
pub(crate) fn single_qualifier(plan: &LogicalPlan) -> Option<Option<TableReference>> {
    let mut qualifiers = plan.schema().iter().map(|(q, _)| q.cloned());
    let first = qualifiers.next()?;
    qualifiers.all(|q| q == first).then_some(first)
}

/// `batches` (the rows of `plan`) as a scan that reads like `plan`: its columns
/// under the same qualifier.
pub(crate) fn rows_as_scan(
    qualifier: Option<TableReference>,
    plan: &LogicalPlan,
    batches: Vec<RecordBatch>,
    n: usize,
) -> datafusion::error::Result<LogicalPlan> {
    let fields: Vec<_> = plan.schema().as_arrow().fields().iter().map(|f| f.as_ref().clone().with_nullable(true)).collect();
    let schema = Arc::new(Schema::new_with_metadata(fields, plan.schema().as_arrow().metadata().clone()));
    let name = qualifier.unwrap_or_else(|| TableReference::bare(format!("__vl_from_engine_{n}")));
    memory_scan(name, schema, &batches)
}

/// A scan named `name` of batches held in memory.
pub(crate) fn memory_scan(name: impl Into<TableReference>, schema: SchemaRef, batches: &[RecordBatch]) -> datafusion::error::Result<LogicalPlan> {
    let table = MemTable::try_new(schema, vec![batches.to_vec()])?;
    LogicalPlanBuilder::scan(name, provider_as_source(Arc::new(table)), None)?.build()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_engine_urls() {
        let parse = |s: &str| s.parse::<EngineUrl>();
        assert_eq!(parse("local").unwrap(), EngineUrl::Local);
        assert_eq!(parse("ballista://h:1").unwrap(), EngineUrl::Ballista { host: "h".into(), port: 1 });
        assert_eq!(parse("ballista://h").unwrap(), EngineUrl::Ballista { host: "h".into(), port: 50050 });
        assert_eq!(parse("sc://localhost:15002/").unwrap(), EngineUrl::Spark { host: "localhost".into(), port: 15002 });
        assert_eq!(parse("spark://h:7").unwrap().to_string(), "spark://h:7");
        for bad in ["", "ballista", "ballista://", "ballista://h:x", "duck://h:1", "spark://h:99999"] {
            let e = parse(bad).unwrap_err().to_string();
            assert!(e.starts_with(&format!("bad engine '{bad}'")), "{e}");
        }
    }
}
