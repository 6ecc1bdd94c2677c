//! `vegalake-fuzz TARGET [--seconds N] [--seed N] [--max-rss-mb N]`: fuzzes one
//! target (spec, expression, chart, request) for N seconds (default 60); exits 1
//! on a panic, a hang or memory past the bound, naming the kept input.

use std::time::Duration;
use vegalake_fuzz::{fuzz, Settings};

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let settings = match parse(&args) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("vegalake-fuzz: {e}\nusage: vegalake-fuzz TARGET [--seconds N] [--seed N] [--max-rss-mb N]");
            std::process::exit(2);
        }
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

fn parse(args: &[String]) -> Result<Settings, String> {
    let target = args.first().ok_or("a target is needed")?.clone();
    let mut settings = Settings {
        target,
        duration: Duration::from_secs(60),
        seed: 1,
        max_rss_mb: 4096.0,
        dir: std::path::Path::new(env!("CARGO_MANIFEST_DIR")).to_path_buf(),
    };
    let mut rest = args[1..].iter();
    while let Some(flag) = rest.next() {
        let value = rest.next().ok_or_else(|| format!("{flag}: a value is missing"))?;
        let number = value.parse::<u64>().map_err(|_| format!("{flag}: '{value}' is not a whole number"))?;
        match flag.as_str() {
            "--seconds" => settings.duration = Duration::from_secs(number),
            "--seed" => settings.seed = number,
            "--max-rss-mb" => settings.max_rss_mb = number as f64,
            _ => return Err(format!("{flag}: unknown option")),
        }
    }
    Ok(settings)
}
