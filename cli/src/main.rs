//! `vegalake`: evaluate the data half of Vega specs where the data lives.

mod batch;
mod progress;
mod render;
mod serve;
mod spec;

use clap::{Parser, Subcommand};
use serde_json::{Map, Value as Json};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;
use vegalake_connectors::{Catalog, DataAccess};
use vegalake_executors::cluster::{run_executor, run_scheduler, ExecutorOptions};
use vegalake_executors::engine::{connect, EngineError, EngineOptions, EngineUrl};
use vegalake_executors::sql::{SqlError, SqlTask};
use vegalake_executors::{
    evaluate_on, pre_transform_spec, server_tasks, ChartOptions, ChartState, EvalOptions, Interactivity, Runtime, ServerTask, SqlDialect, VarValue,
    DEFAULT_CACHE_BYTES,
};
use vegalake_planner::values::time::Zone;
use vegalake_planner::{Namespace, Spec, Var};

#[derive(Parser)]
#[command(name = "vegalake", version, about = "Runs the data half of Vega charts where the data lives")]
struct Cli {
    #[command(subcommand)]
    command: Command,
    /// Print the full error chain on failure.
    #[arg(long, global = true)]
    verbose: bool,
}

#[derive(Subcommand)]
enum Command {
    /// Evaluate every dataset and signal of a Vega spec; print them as JSON.
    Eval {
        #[command(flatten)]
        chart: ChartArgs,
        #[command(flatten)]
        engine: EngineArgs,
        /// Add "explain": what each dataset's queries scanned of the tables it reads
        /// (files, row groups and bytes read, and in all).
        #[arg(long)]
        explain: bool,
    },
    /// Print the client spec: the server's results inlined as values, the rest of
    /// each pipeline left for the browser (from the first transform that reads a
    /// selection or a bound signal, so interactions work without a server). Warnings
    /// go to stderr.
    Pretransform {
        #[command(flatten)]
        chart: ChartArgs,
        #[command(flatten)]
        engine: EngineArgs,
        /// At most this many rows per inlined dataset (a warning says when cut).
        #[arg(long)]
        row_limit: Option<usize>,
        /// A static snapshot: no communication plan for interactions.
        #[arg(long = "static")]
        static_only: bool,
    },
    /// Print the server spec, the client spec and the communication plan.
    Plan {
        #[command(flatten)]
        chart: ChartArgs,
        #[command(flatten)]
        engine: EngineArgs,
        /// Add "explain": what each dataset's queries scanned of the tables it reads.
        #[arg(long)]
        explain: bool,
    },
    /// Print the SQL of each server task (a dataset's server part) in a dialect,
    /// with the statements that register the tables it reads; or why it is not
    /// pushable (it then runs locally on the fetched data).
    Sql {
        #[command(flatten)]
        chart: ChartArgs,
        /// spark, duckdb or postgres.
        #[arg(long, default_value = "spark")]
        dialect: String,
        /// One JSON object per task instead of SQL text.
        #[arg(long)]
        json: bool,
    },
    /// Open the chart, apply each update of UPDATES (a JSON list of lists of
    /// {namespace, name, scope, value}) and print one JSON line per update with its
    /// latency and the datasets and signals that changed.
    Replay {
        #[command(flatten)]
        chart: ChartArgs,
        #[command(flatten)]
        engine: EngineArgs,
        /// The updates file.
        updates: PathBuf,
    },
    /// Draw the chart as SVG, PNG or PDF (by OUTPUT's extension): its data half
    /// pre-transformed on the engine, then drawn by vega.js embedded in the binary
    /// (text in the Liberation fonts; Debian's fonts-liberation).
    Render {
        #[command(flatten)]
        chart: ChartArgs,
        #[command(flatten)]
        engine: EngineArgs,
        #[command(flatten)]
        draw: render::DrawArgs,
        /// Where to write the image: .svg, .png or .pdf.
        #[arg(short, long)]
        output: PathBuf,
    },
    /// Draw one chart per key of a table from one template: the data of every key
    /// in one query per dataset, each chart equal to the template drawn from its
    /// key's rows alone. Writes each chart in --formats, manifest.jsonl,
    /// errors.jsonl and an index.html gallery into --out. Exit code 2 when some
    /// charts failed.
    Batch(batch::BatchArgs),
    /// Serve charts: gRPC (vegalake.v1) and an HTTP JSON API on one port, charts
    /// held per bearer token, every request under the server's limits.
    Serve(serve::ServeArgs),
    /// Run a Ballista scheduler that knows vegalake's functions, for
    /// `--engine ballista://HOST:PORT`. Prints "listening on ADDRESS" when ready,
    /// then "executors: N (ID joined)" or "executors: N (ID left)" as they come and go.
    Scheduler {
        /// Address to listen on (port 0 picks a free port).
        #[arg(long, default_value = "127.0.0.1:50050")]
        bind: SocketAddr,
    },
    /// Run a Ballista executor that knows vegalake's functions and registers with
    /// a scheduler. Prints "listening on ADDRESS" when ready.
    Executor {
        /// The scheduler's HOST:PORT.
        #[arg(long)]
        scheduler: String,
        /// Address of its data (Flight) service; port 0 picks free ports, so
        /// several executors can share a host.
        #[arg(long, default_value = "127.0.0.1:0")]
        bind: SocketAddr,
        /// Tasks it runs at once (default: one per core).
        #[arg(long, default_value_t = 0)]
        slots: usize,
        /// Where it keeps shuffle files (default: a temporary directory).
        #[arg(long)]
        work_dir: Option<PathBuf>,
    },
}

/// Where the chart commands run their queries.
#[derive(clap::Args)]
pub(crate) struct EngineArgs {
    /// local (embedded DataFusion), ballista://HOST:PORT (a vegalake scheduler),
    /// or spark://HOST:PORT (a Spark Connect server; sc:// too).
    #[arg(long, default_value = "local")]
    pub(crate) engine: String,
    /// Cancel a query that runs longer than this many seconds.
    #[arg(long, value_name = "SECONDS")]
    timeout: Option<f64>,
    /// Memory the embedded engine's queries may hold together (bytes, or with
    /// K, M, G: 2G). Sorts, joins and aggregates spill to disk before it; a query
    /// that still needs more fails. Remote engines keep their own limits.
    #[arg(long, value_name = "BYTES", value_parser = parse_bytes)]
    pub(crate) memory_limit: Option<usize>,
}

/// A size in bytes: digits, with an optional K, M or G (powers of 1024; `2G`,
/// `512MiB`, `64KB`).
fn parse_bytes(text: &str) -> Result<usize, String> {
    let bad = || format!("'{text}' is not a positive size (bytes, or a number with K, M or G)");
    let upper = text.trim().to_ascii_uppercase();
    let number = upper.strip_suffix("IB").or_else(|| upper.strip_suffix('B')).unwrap_or(&upper);
    let (digits, shift) = match number.as_bytes().last() {
        Some(b'K') => (&number[..number.len() - 1], 10),
        Some(b'M') => (&number[..number.len() - 1], 20),
        Some(b'G') => (&number[..number.len() - 1], 30),
        _ => (number, 0),
    };
    let n: usize = digits.parse().map_err(|_| bad())?;
    n.checked_mul(1 << shift).filter(|b| *b > 0).ok_or_else(bad)
}

impl EngineArgs {
    /// A runtime on the engine, connected.
    pub(crate) async fn runtime(&self) -> Result<Arc<Runtime>, Failure> {
        let url: EngineUrl = self.engine.parse().map_err(|e: EngineError| Failure(format!("--engine: {e}")))?;
        let timeout = match self.timeout {
            Some(t) if t.is_finite() && t > 0.0 => Some(Duration::from_secs_f64(t)),
            Some(t) => return Err(Failure(format!("--timeout: {t} is not a positive number of seconds"))),
            None => None,
        };
        let engine = connect(&url, EngineOptions { timeout }).await.map_err(|e| Failure(e.to_string()))?;
        Ok(Arc::new(Runtime::with_engine(engine, DEFAULT_CACHE_BYTES, self.memory_limit)))
    }
}

/// Where a chart's data may come from, and its time zone.
#[derive(clap::Args)]
pub(crate) struct DataArgs {
    /// Base directory of relative data URLs (default: the spec's directory).
    #[arg(long)]
    pub data_dir: Option<PathBuf>,
    /// IANA time zone of local-time functions (default: UTC).
    #[arg(long, default_value = "UTC")]
    pub timezone: String,
    /// A store URL or directory specs may read besides the data directory
    /// (s3://bucket/prefix, gs://..., az://..., https://host/path, /abs/dir). Repeatable.
    #[arg(long = "allow-root", value_name = "URL")]
    pub allow_roots: Vec<String>,
    /// The catalog of named tables, store options and allowed roots
    /// (default: vegalake.toml in the data directory, if there is one).
    #[arg(long)]
    pub catalog: Option<PathBuf>,
}

impl DataArgs {
    /// The zone and what may be read, for a spec at `spec_path`.
    pub(crate) fn access(&self, spec_path: &Path) -> Result<(Zone, DataAccess), Failure> {
        let zone = Zone::parse(&self.timezone).map_err(|e| Failure(format!("--timezone: {e}")))?;
        // Relative to the working directory (a spec named without a directory has "" as its parent).
        let data_dir =
            self.data_dir.clone().unwrap_or_else(|| spec_path.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(Path::new(".")).to_path_buf());
        let data_dir = std::path::absolute(&data_dir).map_err(|e| Failure(format!("--data-dir {}: {e}", data_dir.display())))?;
        let default_catalog = data_dir.join("vegalake.toml");
        let catalog = match &self.catalog {
            Some(path) => Catalog::load(path).map_err(|e| Failure(format!("--catalog: {e}")))?,
            None if default_catalog.is_file() => Catalog::load(&default_catalog).map_err(|e| Failure(e.to_string()))?,
            None => Catalog::default(),
        };
        Ok((zone, DataAccess { allow_roots: self.allow_roots.clone(), catalog: Arc::new(catalog), ..DataAccess::new(data_dir) }))
    }
}

/// The spec and evaluation options shared by the chart commands.
#[derive(clap::Args)]
pub(crate) struct ChartArgs {
    /// The chart: a Vega or Vega-Lite spec (JSON; Vega-Lite is compiled by the
    /// embedded vega-lite).
    spec: PathBuf,
    #[command(flatten)]
    data: DataArgs,
    /// JSON file {signal: value} applied before evaluation (initial signal values).
    #[arg(long = "set")]
    set: Option<PathBuf>,
    /// JSON file {dataset: rows} replacing datasets before evaluation.
    #[arg(long)]
    store: Option<PathBuf>,
}

impl ChartArgs {
    /// The spec and the options of `eval`.
    fn eval_options(&self) -> Result<(Spec, EvalOptions), Failure> {
        let spec = spec::read_spec(&self.spec)?;
        let (zone, data) = self.data.access(&self.spec)?;
        let signals = read_object(self.set.as_ref(), "--set file")?;
        let stores = read_object(self.store.as_ref(), "--store file")?;
        Ok((spec, EvalOptions { data, zone, signals, stores }))
    }

    /// The spec and the options of the chart commands (names at the top level).
    pub(crate) fn load(&self) -> Result<(Spec, ChartOptions), Failure> {
        let (spec, o) = self.eval_options()?;
        Ok((spec, ChartOptions::from(o)))
    }

    pub(crate) fn fail(&self, e: impl std::fmt::Display) -> Failure {
        Failure(format!("{}: {e}", self.spec.display()))
    }
}

/// A user-facing failure: one line, exit code 1.
pub(crate) struct Failure(pub(crate) String);

pub(crate) fn read_json(path: &Path, what: &str) -> Result<Json, Failure> {
    let text = std::fs::read_to_string(path).map_err(|e| Failure(format!("cannot read {what} {}: {e}", path.display())))?;
    serde_json::from_str(&text).map_err(|e| Failure(format!("{}: invalid JSON: {e}", path.display())))
}

fn read_object(path: Option<&PathBuf>, what: &str) -> Result<Map<String, Json>, Failure> {
    match path {
        None => Ok(Map::new()),
        Some(p) => match read_json(p, what)? {
            Json::Object(o) => Ok(o),
            _ => Err(Failure(format!("{}: {what} must be a JSON object", p.display()))),
        },
    }
}

/// Runs a command; its exit code (`batch` has its own for charts that failed).
async fn run(command: Command) -> Result<ExitCode, Failure> {
    let done: Result<(), Failure> = match command {
        Command::Eval { chart, engine, explain } => {
            let (spec, opts) = chart.eval_options()?;
            let runtime = engine.runtime().await?;
            let result = evaluate_on(&runtime, &spec, &opts).await.map_err(|e| chart.fail(e))?;
            let json = if explain { result.to_json_explained() } else { result.to_json() };
            write_stdout(&to_text(&json)?)
        }
        Command::Pretransform { chart, engine, row_limit, static_only } => {
            let (spec, options) = chart.load()?;
            // The printed spec stands alone: what reads an interaction runs in the browser.
            let interactivity = if static_only { Interactivity::Static } else { Interactivity::Browser };
            let options = ChartOptions { row_limit, interactivity, browser_rows: row_limit, ..options };
            let (client, warnings) = pre_transform_spec(engine.runtime().await?, &spec, options).await.map_err(|e| chart.fail(e))?;
            for w in warnings {
                eprintln!("vegalake: warning: {}", w.message);
            }
            write_stdout(&to_text(&client)?)
        }
        Command::Plan { chart, engine, explain } => {
            let (spec, options) = chart.load()?;
            let state = ChartState::open(engine.runtime().await?, &spec, options).await.map_err(|e| chart.fail(e))?;
            let mut client = state.client_spec().clone();
            let shipped: Vec<Var> = state.comm_plan().server_to_client.clone();
            vegalake_planner::split::for_each_body_mut(&mut client, &mut |path, body| {
                for d in body.data.iter_mut().flatten().filter(|d| shipped.contains(&Var::data(&d.name, path))) {
                    d.values = Some(Json::String("<rows from the server>".into()));
                }
            });
            let mut plan = serde_json::json!({"server": state.server_spec(), "client": client, "comm": state.comm_plan()});
            if explain {
                plan["explain"] = serde_json::to_value(state.scans()).map_err(|e| Failure(e.to_string()))?;
            }
            write_stdout(&to_text(&plan)?)
        }
        Command::Sql { chart, dialect, json } => {
            let dialect: SqlDialect = dialect.parse().map_err(|e: String| Failure(format!("--dialect: {e}")))?;
            let (spec, opts) = chart.eval_options()?;
            let tasks = server_tasks(&spec, &opts).await.map_err(|e| chart.fail(e))?;
            let mut pushable = 0;
            for task in &tasks {
                let sql = task.sql(dialect);
                pushable += usize::from(sql.is_ok());
                write_stdout(&if json { to_text(&sql_task_json(task, &sql, dialect))? } else { sql_task_text(task, &sql, dialect) })?;
            }
            eprintln!("vegalake: {pushable} of {} server tasks pushable to {dialect}", tasks.len());
            Ok(())
        }
        Command::Replay { chart, engine, updates } => {
            let (spec, options) = chart.load()?;
            let updates: Vec<Vec<VarValue>> = serde_json::from_value(read_json(&updates, "updates")?)
                .map_err(|e| Failure(format!("{}: not a list of updates ([[{{namespace, name, scope, value}}]]): {e}", updates.display())))?;
            let mut state = ChartState::open(engine.runtime().await?, &spec, options).await.map_err(|e| chart.fail(e))?;
            let mut failed = false;
            for (i, update) in updates.iter().enumerate() {
                let start = std::time::Instant::now();
                let line = match state.update(update).await {
                    Ok(changed) => {
                        let latency_ms = start.elapsed().as_secs_f64() * 1000.0;
                        let (mut datasets, mut signals) = (Map::new(), Map::new());
                        for c in changed {
                            let target = if c.namespace == Namespace::Data { &mut datasets } else { &mut signals };
                            target.insert(c.name, c.value);
                        }
                        serde_json::json!({"update": i, "latency_ms": latency_ms, "datasets": datasets, "signals": signals})
                    }
                    Err(e) => {
                        failed = true;
                        serde_json::json!({"update": i, "error": e.to_string()})
                    }
                };
                write_stdout(&to_text(&line)?)?;
            }
            if failed {
                return Err(Failure("some updates failed (see their error lines)".into()));
            }
            Ok(())
        }
        Command::Render { chart, engine, draw, output } => render::render(&chart, &engine, &draw, &output).await,
        Command::Batch(args) => return batch::run(&args).await,
        Command::Serve(args) => serve::run(&args).await,
        Command::Scheduler { bind } => run_scheduler(bind, announce, report_change).await.map_err(|e| Failure(format!("scheduler: {e}"))),
        Command::Executor { scheduler, bind, slots, work_dir } => {
            let opts = ExecutorOptions { scheduler, bind, slots, work_dir };
            run_executor(opts, announce).await.map_err(|e| Failure(format!("executor: {e}")))
        }
    };
    done.map(|()| ExitCode::SUCCESS)
}

/// The line a server prints once it listens (scripts wait for it).
fn announce(addr: SocketAddr) {
    println!("listening on {addr}");
}

/// An executor that joined or left, as a line (a closed stdout is no reason to
/// stop scheduling).
fn report_change(change: vegalake_executors::cluster::ExecutorChange) {
    use std::io::Write;
    let mut out = std::io::stdout().lock();
    let _ = writeln!(out, "{change}").and_then(|()| out.flush());
}

fn task_label(task: &ServerTask) -> String {
    let scope = if task.scope.is_empty() { String::new() } else { format!(" in group {:?}", task.scope) };
    format!("dataset \"{}\"{scope}, {} of {} transforms", task.dataset, task.server_transforms, task.total_transforms)
}

fn sql_task_text(task: &ServerTask, sql: &Result<SqlTask, SqlError>, dialect: SqlDialect) -> String {
    match sql {
        Ok(sql) => format!("-- {}\n{}", task_label(task), sql.script(dialect)),
        Err(e) => format!("-- {}: {e}\n", task_label(task)),
    }
}

fn sql_task_json(task: &ServerTask, sql: &Result<SqlTask, SqlError>, dialect: SqlDialect) -> Json {
    let mut out = serde_json::json!({
        "dataset": task.dataset, "scope": task.scope,
        "server_transforms": task.server_transforms, "total_transforms": task.total_transforms,
    });
    match sql {
        Ok(sql) => {
            out["sql"] = Json::String(sql.sql.clone());
            out["setup"] = sql.setup(dialect).into_iter().map(Json::String).collect();
        }
        Err(e) => out["not_pushable"] = Json::String(e.to_string()),
    }
    out
}

fn to_text<T: serde::Serialize>(value: &T) -> Result<String, Failure> {
    serde_json::to_string(value).map_err(|e| Failure(format!("cannot print: {e}")))
}

/// Prints a line; a closed pipe (`| head`) is not an error worth a panic.
fn write_stdout(text: &str) -> Result<(), Failure> {
    use std::io::Write;
    let mut out = std::io::stdout().lock();
    match writeln!(out, "{text}").and_then(|_| out.flush()) {
        Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => Err(Failure(format!("cannot write output: {e}"))),
        _ => Ok(()),
    }
}

/// Log lines (what each query scanned, ...) on stderr, at the level of
/// `VEGALAKE_LOG` (`info`, `debug`; default: warnings only) or `info` with `--verbose`.
struct StderrLog(log::LevelFilter);

impl log::Log for StderrLog {
    fn enabled(&self, meta: &log::Metadata) -> bool {
        let ours = meta.target().starts_with("vegalake") || meta.target().starts_with("ballista");
        meta.level() <= self.0 && ours
    }
    fn log(&self, record: &log::Record) {
        if self.enabled(record.metadata()) {
            eprintln!("vegalake: {}: {}", record.level().as_str().to_lowercase(), record.args());
        }
    }
    fn flush(&self) {}
}

fn init_log(verbose: bool) {
    let level = match std::env::var("VEGALAKE_LOG").ok().as_deref() {
        Some(l) => l.parse().unwrap_or(log::LevelFilter::Info),
        None if verbose => log::LevelFilter::Info,
        None => log::LevelFilter::Warn,
    };
    if log::set_boxed_logger(Box::new(StderrLog(level))).is_ok() {
        log::set_max_level(level);
    }
}

/// vega.js (compiling and drawing) reads local time through the C library, which
/// follows `TZ`: it is set to the chart's zone, before any thread starts, so axis
/// labels in local time agree with the data vegalake computed in that zone.
fn fix_local_time_zone(command: &Command) {
    let data = match command {
        Command::Eval { chart, .. }
        | Command::Pretransform { chart, .. }
        | Command::Plan { chart, .. }
        | Command::Sql { chart, .. }
        | Command::Replay { chart, .. }
        | Command::Render { chart, .. } => &chart.data,
        Command::Batch(batch) => &batch.data,
        Command::Serve(serve) => &serve.data,
        Command::Scheduler { .. } | Command::Executor { .. } => return,
    };
    std::env::set_var("TZ", &data.timezone);
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    fix_local_time_zone(&cli.command);
    let verbose = cli.verbose;
    init_log(verbose);
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(r) => r,
        Err(e) => {
            eprintln!("vegalake: cannot start: {e}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(run(cli.command)) {
        Ok(code) => code,
        Err(Failure(message)) => {
            let line = if verbose { message } else { message.lines().next().unwrap_or_default().to_string() };
            eprintln!("vegalake: {line}");
            ExitCode::FAILURE
        }
    }
}

#[cfg(test)]
mod tests {
    use super::parse_bytes;

    #[test]
    fn sizes_read_as_people_write_them() {
        assert_eq!(parse_bytes("1024"), Ok(1024));
        assert_eq!(parse_bytes("2G"), Ok(2 << 30));
        assert_eq!(parse_bytes("512MiB"), Ok(512 << 20));
        assert_eq!(parse_bytes("64kb"), Ok(64 << 10));
        for bad in ["", "0", "-1", "1.5G", "G", "12T", "99999999999999999999G"] {
            assert!(parse_bytes(bad).is_err(), "{bad:?} was accepted");
        }
    }
}
