//! The crates' `log` records go to Python's `logging`, logger `vegalake` (what
//! each query scanned, where it ran, engine fallbacks, why a brush has no index).
//!
//! Only the records that logger would keep cross into Python. Its level is read
//! (with the GIL, which the caller holds anyway) each time Python calls into the
//! runtime ([`refresh`]), so a record below it costs one atomic load and no GIL.
//! Why: taking the GIL for every record, and computing what `info` records
//! report (each result's Arrow IPC size), ran on every brush update even when
//! nobody listened.

use pyo3::prelude::*;
use std::sync::atomic::{AtomicU8, Ordering};

/// The `vegalake` logger's effective level, in Python's numbers (10 debug, 20
/// info, 30 warning, 40 error); Python's default until first read.
static PYTHON_LEVEL: AtomicU8 = AtomicU8::new(30);

struct ToPython;

fn python_level(level: log::Level) -> u8 {
    match level {
        log::Level::Error => 40,
        log::Level::Warn => 30,
        log::Level::Info => 20,
        log::Level::Debug | log::Level::Trace => 10,
    }
}

impl log::Log for ToPython {
    fn enabled(&self, meta: &log::Metadata) -> bool {
        meta.target().starts_with("vegalake") && python_level(meta.level()) >= PYTHON_LEVEL.load(Ordering::Relaxed)
    }

    fn log(&self, record: &log::Record) {
        if !self.enabled(record.metadata()) {
            return;
        }
        let message = record.args().to_string();
        Python::attach(|py| {
            let logged = logger(py).and_then(|l| l.call_method1("log", (python_level(record.level()), message)));
            // Logging must never fail an evaluation.
            drop(logged);
        });
    }

    fn flush(&self) {}
}

fn logger(py: Python<'_>) -> PyResult<Bound<'_, PyAny>> {
    py.import("logging")?.call_method1("getLogger", ("vegalake",))
}

/// Reads the `vegalake` logger's level again: what the records of the call
/// about to run are filtered by.
pub fn refresh(py: Python<'_>) {
    if let Ok(level) = logger(py).and_then(|l| l.call_method0("getEffectiveLevel")).and_then(|l| l.extract::<u32>()) {
        PYTHON_LEVEL.store(level.clamp(1, 50) as u8, Ordering::Relaxed);
    }
}

/// Installs the bridge (once; a process with another logger keeps it).
pub fn install(py: Python<'_>) {
    if log::set_boxed_logger(Box::new(ToPython)).is_ok() {
        log::set_max_level(log::LevelFilter::Debug);
    }
    refresh(py);
}
