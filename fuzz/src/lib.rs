//! A fuzzer of what untrusted people send vegalake, on stable Rust: inputs
//! mutated from the suite's specs, expressions and requests ([`mutate`]) run
//! through each [`targets`] target on a worker thread, watched for panics, hangs
//! and memory growth. An input whose outcome is new joins the pool and the
//! corpus kept in `fuzz/corpus/TARGET/`; one that panics or hangs is kept in
//! `fuzz/crashes/` for the regression test (`tests/corpus.rs`) once fixed.
//!
//!   vegalake-fuzz TARGET [--seconds N] [--seed N] [--max-rss-mb N]

pub mod mutate;
pub mod targets;

use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::sync::mpsc;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// An input still running after this long is a hang.
pub const HANG: Duration = Duration::from_secs(10);

/// Inputs kept per run at most, and the largest kept: the committed corpus stays
/// small (a first run kept 20 MB).
pub const KEPT_PER_RUN: usize = 200;
pub const KEPT_BYTES: usize = 16 << 10;

/// How a run went.
#[derive(Debug, Default)]
pub struct Report {
    pub inputs: u64,
    pub seconds: f64,
    pub pool: usize,
    pub kept: usize,
    pub outcomes: usize,
    pub panics: Vec<String>,
    pub hang: Option<String>,
    pub memory: Option<String>,
    pub peak_rss_mb: f64,
}

/// The run's settings.
pub struct Settings {
    pub target: String,
    pub duration: Duration,
    pub seed: u64,
    pub max_rss_mb: f64,
    /// Where kept inputs and crashes go (`fuzz/`).
    pub dir: PathBuf,
}

/// The inputs kept for `target` under `dir` (corpus and crashes).
pub fn kept_inputs(dir: &Path, target: &str) -> Vec<(PathBuf, Vec<u8>)> {
    let mut files: Vec<PathBuf> =
        ["corpus", "crashes"].iter().flat_map(|sub| std::fs::read_dir(dir.join(sub).join(target)).into_iter().flatten().flatten().map(|e| e.path())).collect();
    files.sort();
    files.into_iter().filter_map(|p| std::fs::read(&p).ok().map(|b| (p, b))).collect()
}

fn keep(dir: &Path, sub: &str, target: &str, input: &[u8]) -> PathBuf {
    let path = dir.join(sub).join(target).join(&blake3::hash(input).to_hex()[..16]);
    let _ = std::fs::create_dir_all(path.parent().unwrap_or(dir));
    let _ = std::fs::write(&path, input);
    path
}

/// The panic message of the last panic on this process, set by the hook.
fn capture_panics() -> Arc<Mutex<String>> {
    let last = Arc::new(Mutex::new(String::new()));
    let seen = last.clone();
    std::panic::set_hook(Box::new(move |info| {
        let place = info.location().map(|l| format!(" at {}:{}", l.file(), l.line())).unwrap_or_default();
        let message = info.payload().downcast_ref::<&str>().map(|s| s.to_string()).or_else(|| info.payload().downcast_ref::<String>().cloned());
        if let Ok(mut last) = seen.lock() {
            *last = format!("{}{place}", message.unwrap_or_default());
        }
    }));
    last
}

/// The process's resident set now (VmRSS) and at its peak (VmHWM), in MB.
pub fn rss_mb() -> (f64, f64) {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let field = |name: &str| {
        status.lines().find_map(|l| l.strip_prefix(name)).and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<f64>().ok()).unwrap_or(0.0) / 1024.0
    };
    (field("VmRSS:"), field("VmHWM:"))
}

/// Runs one input on `target`, catching a panic (its message).
pub fn run_one(target: &mut dyn targets::Target, input: &[u8], last_panic: &Mutex<String>) -> Result<String, String> {
    std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| target.run(input))).map_err(|_| last_panic.lock().map(|m| m.clone()).unwrap_or_default())
}

/// Fuzzes `settings.target` for `settings.duration`.
pub fn fuzz(settings: &Settings) -> Result<Report, String> {
    let name = settings.target.clone();
    targets::target(&name).ok_or_else(|| format!("unknown target '{name}' ({})", targets::NAMES.join(", ")))?;
    let mut pool = targets::seeds(&name);
    pool.extend(kept_inputs(&settings.dir, &name).into_iter().map(|(_, b)| b));
    if pool.is_empty() {
        return Err(format!("{name}: no seeds"));
    }
    let last_panic = capture_panics();
    let (to_worker, inputs) = mpsc::channel::<Vec<u8>>();
    let (answers, from_worker) = mpsc::channel::<Result<String, String>>();
    {
        let (name, last_panic) = (name.clone(), last_panic.clone());
        std::thread::spawn(move || {
            let mut target = targets::target(&name).expect("checked above");
            for input in inputs {
                let answer = run_one(target.as_mut(), &input, &last_panic);
                if answer.is_err() {
                    // A panic may leave the target's state half changed: start over.
                    target = targets::target(&name).expect("checked above");
                }
                if answers.send(answer).is_err() {
                    return;
                }
            }
        });
    }
    let mut report = Report::default();
    let mut outcomes = HashSet::new();
    let mut rng = mutate::Rng::new(settings.seed);
    let start = Instant::now();
    while start.elapsed() < settings.duration {
        let input = if report.inputs < pool.len() as u64 {
            pool[report.inputs as usize].clone()
        } else {
            mutate::mutate(&pool[rng.below(pool.len())], &pool, &mut rng)
        };
        to_worker.send(input.clone()).map_err(|_| "the worker stopped".to_string())?;
        report.inputs += 1;
        match from_worker.recv_timeout(HANG) {
            Ok(Ok(outcome)) => {
                if outcomes.insert(outcome) && report.inputs > pool.len() as u64 && report.kept < KEPT_PER_RUN && input.len() <= KEPT_BYTES {
                    keep(&settings.dir, "corpus", &name, &input);
                    pool.push(input.clone());
                    report.kept += 1;
                }
            }
            Ok(Err(panic)) => {
                let path = keep(&settings.dir, "crashes", &name, &input);
                report.panics.push(format!("{panic} (input: {})", path.display()));
            }
            Err(_) => {
                let path = keep(&settings.dir, "crashes", &name, &input);
                report.hang = Some(format!("no answer within {HANG:?} (input: {})", path.display()));
                break;
            }
        }
        if report.inputs % 64 == 0 {
            let (now, _) = rss_mb();
            if now > settings.max_rss_mb {
                let path = keep(&settings.dir, "crashes", &name, &input);
                report.memory = Some(format!("resident set {now:.0} MB, over {:.0} MB (last input: {})", settings.max_rss_mb, path.display()));
                break;
            }
        }
    }
    report.seconds = start.elapsed().as_secs_f64();
    report.pool = pool.len();
    report.outcomes = outcomes.len();
    report.peak_rss_mb = rss_mb().1;
    Ok(report)
}
