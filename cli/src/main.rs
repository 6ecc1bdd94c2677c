//! `vegalake`: evaluate the data half of Vega specs where the data lives.

use clap::{Parser, Subcommand};
use serde_json::{Map, Value as Json};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use vegalake_executors::{evaluate, EvalOptions};
use vegalake_planner::values::time::Zone;
use vegalake_planner::Spec;

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
        /// The Vega spec (JSON).
        spec: PathBuf,
        /// Base directory of relative data URLs (default: the spec's directory).
        #[arg(long)]
        data_dir: Option<PathBuf>,
        /// IANA time zone of local-time functions (default: UTC).
        #[arg(long, default_value = "UTC")]
        timezone: String,
        /// JSON file {signal: value} applied before evaluation.
        #[arg(long = "set")]
        set: Option<PathBuf>,
        /// JSON file {dataset: rows} replacing datasets before evaluation.
        #[arg(long)]
        store: Option<PathBuf>,
    },
}

/// A user-facing failure: one line, exit code 1.
struct Failure(String);

fn read_json(path: &Path, what: &str) -> Result<Json, Failure> {
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

async fn run(cli: Cli) -> Result<(), Failure> {
    match cli.command {
        Command::Eval { spec, data_dir, timezone, set, store } => {
            let json = read_json(&spec, "spec")?;
            let parsed: Spec = serde_json::from_value(json).map_err(|e| Failure(format!("{}: not a Vega spec: {e}", spec.display())))?;
            let zone = Zone::parse(&timezone).map_err(|e| Failure(format!("--timezone: {e}")))?;
            let data_dir = data_dir.unwrap_or_else(|| spec.parent().map(Path::to_path_buf).unwrap_or_default());
            let opts = EvalOptions { data_dir, zone, signals: read_object(set.as_ref(), "--set file")?, stores: read_object(store.as_ref(), "--store file")? };
            let result = evaluate(&parsed, &opts).await.map_err(|e| Failure(format!("{}: {e}", spec.display())))?;
            let text = serde_json::to_string(&result.to_json()).map_err(|e| Failure(e.to_string()))?;
            write_stdout(&text)
        }
    }
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

fn main() -> ExitCode {
    let cli = Cli::parse();
    let verbose = cli.verbose;
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(r) => r,
        Err(e) => {
            eprintln!("vegalake: cannot start: {e}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(run(cli)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(Failure(message)) => {
            let line = if verbose { message } else { message.lines().next().unwrap_or_default().to_string() };
            eprintln!("vegalake: {line}");
            ExitCode::FAILURE
        }
    }
}
