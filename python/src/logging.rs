//! The crates' `log` records go to Python's `logging`, logger `vegalake` (what
//! each query scanned, where it ran, engine fallbacks).

use pyo3::prelude::*;

struct ToPython;

impl log::Log for ToPython {
    fn enabled(&self, meta: &log::Metadata) -> bool {
        meta.target().starts_with("vegalake") && meta.level() <= log::Level::Info
    }

    fn log(&self, record: &log::Record) {
        if !self.enabled(record.metadata()) {
            return;
        }
        let level = match record.level() {
            log::Level::Error => 40,
            log::Level::Warn => 30,
            log::Level::Info => 20,
            _ => 10,
        };
        let message = record.args().to_string();
        Python::attach(|py| {
            let logged = py.import("logging").and_then(|l| l.call_method1("getLogger", ("vegalake",))).and_then(|l| l.call_method1("log", (level, message)));
            // Logging must never fail an evaluation.
            drop(logged);
        });
    }

    fn flush(&self) {}
}

/// Installs the bridge (once; a process with another logger keeps it).
pub fn install() {
    if log::set_boxed_logger(Box::new(ToPython)).is_ok() {
        log::set_max_level(log::LevelFilter::Info);
    }
}
