//! How `vegalake batch` reports progress: bars on a terminal (query, split,
//! render, with rate and ETA), JSON lines on stderr for programs, or nothing.

use indicatif::{ProgressBar, ProgressStyle};
use std::sync::Mutex;
use std::time::Instant;
use vegalake_batch::{Progress, Silent};

#[derive(Clone, Copy, Debug, clap::ValueEnum)]
pub enum ProgressArg {
    Bars,
    Jsonl,
    None,
}

impl ProgressArg {
    pub fn reporter(self) -> Box<dyn Progress> {
        match self {
            ProgressArg::Bars => Box::new(Bars(Mutex::new(None))),
            ProgressArg::Jsonl => Box::new(JsonLines(Mutex::new(("", Instant::now(), None)))),
            ProgressArg::None => Box::new(Silent),
        }
    }
}

/// One bar per stage (indicatif hides them when stderr is not a terminal).
struct Bars(Mutex<Option<ProgressBar>>);

impl Progress for Bars {
    fn start(&self, stage: &str, total: Option<u64>) {
        let bar = match total {
            Some(n) => ProgressBar::new(n).with_style(
                ProgressStyle::with_template("{prefix:>7} [{bar:40}] {pos}/{len} {per_sec} ETA {eta} {msg}").unwrap_or_else(|_| ProgressStyle::default_bar()),
            ),
            None => ProgressBar::new_spinner()
                .with_style(ProgressStyle::with_template("{prefix:>7} {spinner} {elapsed}").unwrap_or_else(|_| ProgressStyle::default_spinner())),
        };
        bar.set_prefix(stage.to_string());
        bar.enable_steady_tick(std::time::Duration::from_millis(120));
        if let Ok(mut b) = self.0.lock() {
            *b = Some(bar);
        }
    }
    fn advance(&self, done: u64, failed: u64) {
        if let Ok(b) = self.0.lock() {
            if let Some(bar) = b.as_ref() {
                bar.set_position(done);
                if failed > 0 {
                    bar.set_message(format!("{failed} failed"));
                }
            }
        }
    }
    fn finish(&self) {
        if let Some(bar) = self.0.lock().ok().and_then(|mut b| b.take()) {
            bar.finish();
        }
    }
}

/// `{"stage", "done", "total", "failed", "seconds"}` per step on stderr.
struct JsonLines(Mutex<(&'static str, Instant, Option<u64>)>);

impl JsonLines {
    fn line(&self, done: Option<u64>, failed: u64, finished: bool) {
        if let Ok(s) = self.0.lock() {
            let line =
                serde_json::json!({"stage": s.0, "done": done, "total": s.2, "failed": failed, "finished": finished, "seconds": s.1.elapsed().as_secs_f64()});
            eprintln!("{line}");
        }
    }
}

impl Progress for JsonLines {
    fn start(&self, stage: &str, total: Option<u64>) {
        let stage: &'static str = match stage {
            "query" => "query",
            "split" => "split",
            _ => "render",
        };
        if let Ok(mut s) = self.0.lock() {
            *s = (stage, Instant::now(), total);
        }
        self.line(Some(0), 0, false);
    }
    fn advance(&self, done: u64, failed: u64) {
        self.line(Some(done), failed, false);
    }
    fn finish(&self) {
        self.line(None, 0, true);
    }
}
