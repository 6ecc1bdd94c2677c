//! The service's load client (`scripts/bench.sh serve` runs it): sessions at
//! once, each opening the 3-view crossfilter over a Parquet file through the Rust
//! client and sending its brushes one after another, on loopback only, bounded
//! in count and in time.
//!
//!   load prepare FLIGHTS_3M.parquet OUT.parquet ROWS
//!   load run ADDRESS TOKEN FILE [--sessions N] [--updates N] [--encoding json|arrow]
//!            [--server-pid PID] [--deadline SECONDS]
//!
//! `prepare` writes the first ROWS rows of vega-datasets' flights-3m.parquet;
//! `run` prints open and update latencies (p50/p95/p99), errors, requests the
//! server shed (retried), cache hits, the bytes of the answers' datasets in the
//! chosen encoding, and the server's peak RSS.

use serde_json::{json, Value as Json};
use std::path::Path;
use std::time::{Duration, Instant};
use vegalake_proto::client::{Client, ClientError, Variable};
use vegalake_proto::v1::{self as pb, Encoding};

/// The service's load client.
#[derive(clap::Parser)]
#[command(name = "load")]
enum Command {
    /// Writes the first ROWS rows of flights-3m.parquet to OUT.
    Prepare { flights: String, out: String, rows: usize },
    /// Runs the sessions against a server and prints the figures.
    Run(Options),
}

fn main() {
    use clap::Parser;
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build().expect("a tokio runtime");
    let done = match Command::parse() {
        Command::Prepare { flights, out, rows } => runtime.block_on(prepare(&flights, &out, rows)),
        Command::Run(options) => runtime.block_on(run(options)),
    };
    if let Err(e) = done {
        eprintln!("load: {e}");
        std::process::exit(1);
    }
}

async fn prepare(source: &str, out: &str, rows: usize) -> Result<(), String> {
    use datafusion::prelude::{ParquetReadOptions, SessionContext};
    let ctx = SessionContext::new();
    let frame = ctx.read_parquet(source, ParquetReadOptions::default()).await.map_err(|e| format!("{source}: {e}"))?;
    let frame = frame.limit(0, Some(rows)).map_err(|e| e.to_string())?;
    frame.write_parquet(out, Default::default(), None).await.map_err(|e| format!("{out}: {e}"))?;
    println!("load: wrote {rows} rows to {out}");
    Ok(())
}

#[derive(clap::Args)]
struct Options {
    /// The server's address: loopback only.
    #[arg(value_parser = loopback)]
    address: String,
    token: String,
    /// The Parquet file, under the server's data directory.
    file: String,
    #[arg(long, default_value_t = 32, value_parser = clap::value_parser!(u16).range(1..=256))]
    sessions: u16,
    #[arg(long, default_value_t = 200, value_parser = clap::value_parser!(u16).range(1..=10_000))]
    updates: u16,
    /// How datasets travel: json or arrow (Arrow IPC).
    #[arg(long, default_value = "json", value_parser = ["json", "arrow"])]
    encoding: String,
    /// The server's process, whose peak RSS is reported.
    #[arg(long)]
    server_pid: Option<u32>,
    /// The run fails past this many seconds.
    #[arg(long, default_value_t = 1200)]
    deadline: u64,
}

fn loopback(address: &str) -> Result<String, String> {
    if address.starts_with("127.0.0.1:") || address.starts_with("[::1]:") {
        Ok(address.to_string())
    } else {
        Err("the load client calls loopback addresses only".into())
    }
}

/// The crossfilter of the interactions suite, reading `file`.
fn crossfilter(file: &str) -> Result<Json, String> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../integration-tests/interactions/expected/crossfilter_three_histograms.json");
    let text = std::fs::read_to_string(&path).map_err(|e| format!("{}: {e}", path.display()))?;
    let mut spec = serde_json::from_str::<Json>(&text).map_err(|e| e.to_string())?["spec"].take();
    for d in spec["data"].as_array_mut().into_iter().flatten().filter(|d| d["name"] == "source_0") {
        d["url"] = json!(file);
        d.as_object_mut().map(|d| d.remove("format"));
    }
    Ok(spec)
}

/// The i-th brush of session `s`: over each view in turn, at positions spread
/// over the domain (fractional bounds on integer columns, every fifth reversed),
/// so that sessions rarely repeat one another's brushes (a repeat is a cache hit).
fn brush(s: usize, i: usize) -> Variable {
    let x = ((s * 7919 + i * 104_729) % 10_007) as f64 / 10_007.0;
    let y = ((s * 6007 + i * 7727) % 9973) as f64 / 9973.0;
    let (unit, field, mut range) = match i % 3 {
        0 => ("child__column_delay_layer_0", "delay", [-60.0 + 120.0 * x, -50.0 + 120.0 * x + 150.0 * y]),
        1 => ("child__column_distance_layer_0", "distance", [2000.0 * x + 0.5, 2100.0 * x + 1500.0 * y]),
        _ => ("child__column_time_layer_0", "time", [20.0 * x + 0.25, 21.0 * x + 4.0 * y]),
    };
    if i % 5 == 2 {
        range.reverse();
    }
    Variable::data("brush_store", json!([{"unit": unit, "fields": [{"field": field, "channel": "x", "type": "R"}], "values": [range]}]))
}

/// One session's figures.
#[derive(Default)]
struct Session {
    open: Duration,
    updates: Vec<Duration>,
    shed: usize,
    cached: usize,
    /// The answers' datasets, as encoded on the wire.
    dataset_bytes: usize,
    errors: Vec<String>,
}

/// A value's bytes on the wire: encoded again as the server encoded it (both
/// encodings are deterministic), its Arrow IPC stream or its JSON text.
fn wire_bytes(v: &Variable, encoding: Encoding) -> usize {
    match pb::Value::encode(&v.namespace, String::new(), vec![], &v.value, encoding).value {
        Some(pb::value::Value::Arrow(ipc)) => ipc.len(),
        Some(pb::value::Value::Json(text)) => text.len(),
        None => 0,
    }
}

/// Whether the server shed the call (RESOURCE_EXHAUSTED, "busy"): a client
/// retries it, after a wait that doubles.
fn shed(e: &ClientError) -> bool {
    e.code == tonic::Code::ResourceExhausted && e.message.starts_with("busy")
}

async fn back_off(tries: &mut usize) {
    *tries += 1;
    tokio::time::sleep(Duration::from_millis(5 << (*tries).min(6))).await;
}

async fn session(s: usize, url: String, token: String, spec: Json, updates: usize, encoding: Encoding) -> Session {
    let mut out = Session::default();
    let mut client = match Client::connect(&url, Some(&token)).await {
        Ok(c) => c,
        Err(e) => {
            out.errors.push(format!("connect: {e}"));
            return out;
        }
    };
    let start = Instant::now();
    let opened = loop {
        match client.open(&spec, None).await {
            Err(e) if shed(&e) => back_off(&mut out.shed).await,
            other => break other,
        }
    };
    out.open = start.elapsed();
    let mut chart = match opened {
        Ok(chart) => chart,
        Err(e) => {
            out.errors.push(format!("open: {e}"));
            return out;
        }
    };
    chart.encoding = encoding;
    for i in 0..updates {
        let start = Instant::now();
        let answer = loop {
            match client.update(&mut chart, vec![brush(s, i)]).await {
                Err(e) if shed(&e) => back_off(&mut out.shed).await,
                other => break other,
            }
        };
        match answer {
            Ok(u) if u.values.iter().any(|v| v.namespace == "data") => {
                out.updates.push(start.elapsed());
                out.cached += usize::from(u.cached);
                out.dataset_bytes += u.values.iter().filter(|v| v.namespace == "data").map(|v| wire_bytes(v, encoding)).sum::<usize>();
            }
            Ok(_) => out.errors.push(format!("update {i}: no dataset changed")),
            Err(e) => out.errors.push(format!("update {i}: {e}")),
        }
    }
    if let Err(e) = client.close(&chart).await {
        out.errors.push(format!("close: {e}"));
    }
    out
}

fn quantile(sorted: &[Duration], q: f64) -> f64 {
    sorted.get(((sorted.len() as f64 * q).ceil() as usize).saturating_sub(1)).map_or(f64::NAN, |d| d.as_secs_f64() * 1e3)
}

/// The server's peak resident set (VmHWM), in MB.
fn peak_rss_mb(pid: u32) -> Option<f64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let kb: f64 = status.lines().find_map(|l| l.strip_prefix("VmHWM:"))?.trim().trim_end_matches("kB").trim().parse().ok()?;
    Some(kb / 1024.0)
}

async fn run(o: Options) -> Result<(), String> {
    let spec = crossfilter(&o.file)?;
    let url = format!("grpc://{}", o.address);
    let start = Instant::now();
    let encoding = if o.encoding == "arrow" { Encoding::Arrow } else { Encoding::Json };
    let (count, per_session) = (o.sessions as usize, o.updates as usize);
    let tasks: Vec<_> = (0..count).map(|s| tokio::spawn(session(s, url.clone(), o.token.clone(), spec.clone(), per_session, encoding))).collect();
    let all = futures::future::join_all(tasks);
    let deadline = Duration::from_secs(o.deadline);
    let sessions = tokio::time::timeout(deadline, all).await.map_err(|_| format!("not done within the deadline of {deadline:?}"))?;
    let wall = start.elapsed();
    let sessions: Vec<Session> = sessions.into_iter().map(|s| s.map_err(|e| e.to_string())).collect::<Result<_, _>>()?;
    let mut opens: Vec<Duration> = sessions.iter().map(|s| s.open).collect();
    let mut updates: Vec<Duration> = sessions.iter().flat_map(|s| s.updates.iter().copied()).collect();
    opens.sort();
    updates.sort();
    let errors: Vec<&String> = sessions.iter().flat_map(|s| &s.errors).collect();
    let (shed, cached) = (sessions.iter().map(|s| s.shed).sum::<usize>(), sessions.iter().map(|s| s.cached).sum::<usize>());
    println!("serve load: {count} sessions x {per_session} brush updates over {} (gRPC, {}, loopback), {:.1} s", o.file, o.encoding, wall.as_secs_f64());
    println!("  open     p50 {:8.1} ms  p95 {:8.1} ms  p99 {:8.1} ms", quantile(&opens, 0.5), quantile(&opens, 0.95), quantile(&opens, 0.99));
    println!("  update   p50 {:8.1} ms  p95 {:8.1} ms  p99 {:8.1} ms", quantile(&updates, 0.5), quantile(&updates, 0.95), quantile(&updates, 0.99));
    println!(
        "  {} updates answered ({:.0}/s), {cached} from the cache, {shed} shed by the server and retried, {} errors",
        updates.len(),
        updates.len() as f64 / wall.as_secs_f64(),
        errors.len()
    );
    let bytes = sessions.iter().map(|s| s.dataset_bytes).sum::<usize>();
    println!("  answers' datasets: {bytes} bytes in {}, {:.0} a answer", o.encoding, bytes as f64 / updates.len().max(1) as f64);
    if let Some(mb) = o.server_pid.and_then(peak_rss_mb) {
        println!("  server peak RSS {mb:.0} MB");
    }
    for e in errors.iter().take(5) {
        println!("  error: {e}");
    }
    if errors.is_empty() {
        Ok(())
    } else {
        Err(format!("{} errors", errors.len()))
    }
}
