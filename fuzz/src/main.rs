//! `vegalake-fuzz TARGET [--seconds N] [--seed N] [--max-rss-mb N]`: fuzzes one
//! target (spec, expression, chart, request) for N seconds (default 60); exits 1
//! on a panic, a hang or memory past the bound, naming the kept input.

use clap::Parser;
use std::time::Duration;
use vegalake_fuzz::{fuzz, targets, Settings};

/// Fuzzes one target for a while; exits 1 on a panic, a hang or memory past the
/// bound, naming the kept input.
#[derive(Parser)]
#[command(name = "vegalake-fuzz")]
struct Args {
    /// spec, expression, chart or request.
    #[arg(value_parser = clap::builder::PossibleValuesParser::new(targets::NAMES))]
    target: String,
    #[arg(long, default_value_t = 60)]
    seconds: u64,
    /// The mutations' random seed: a run is repeatable.
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// The process's resident memory that counts as unbounded growth.
    #[arg(long, default_value_t = 4096)]
    max_rss_mb: u32,
}

fn main() {
    let args = Args::parse();
    let settings = Settings {
        target: args.target,
        duration: Duration::from_secs(args.seconds),
        seed: args.seed,
        max_rss_mb: f64::from(args.max_rss_mb),
        dir: std::path::Path::new(env!("CARGO_MANIFEST_DIR")).to_path_buf(),
    };
    let report = match fuzz(&settings) {
        Ok(r) => r,
        Err(e) => {
            eprintln!("vegalake-fuzz: {e}");
            std::process::exit(2);
        }
    };
    println!(
        "fuzz {}: {} inputs in {:.0} s ({:.0}/s), {} outcomes, pool {} ({} kept this run), {} panics, {} hangs, peak RSS {:.0} MB",
        settings.target,
        report.inputs,
        report.seconds,
        report.inputs as f64 / report.seconds.max(1e-9),
        report.outcomes,
        report.pool,
        report.kept,
        report.panics.len(),
        usize::from(report.hang.is_some()),
        report.peak_rss_mb
    );
    for problem in report.panics.iter().chain(&report.hang).chain(&report.memory) {
        println!("  {problem}");
    }
    if !report.panics.is_empty() || report.hang.is_some() || report.memory.is_some() {
        std::process::exit(1);
    }
}
