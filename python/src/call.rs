//! Running the engine's futures from Python: on one shared multi-threaded Tokio
//! runtime, with the GIL released while they run, and cancelled when Python
//! raises in the meantime (Ctrl-C is `KeyboardInterrupt`).

use pyo3::prelude::*;
use std::future::Future;
use std::sync::{mpsc, Mutex, OnceLock};
use std::time::Duration;

/// How often a waiting call looks at Python's pending signals. A signal handler
/// only runs in Python's main thread between bytecodes, so the wait must wake to
/// let it; 50 ms is below what a person notices after Ctrl-C.
const SIGNAL_POLL: Duration = Duration::from_millis(50);

fn tokio_runtime() -> PyResult<&'static tokio::runtime::Runtime> {
    static RUNTIME: OnceLock<Result<tokio::runtime::Runtime, String>> = OnceLock::new();
    RUNTIME
        .get_or_init(|| tokio::runtime::Builder::new_multi_thread().enable_all().thread_name("vegalake").build().map_err(|e| e.to_string()))
        .as_ref()
        .map_err(|e| pyo3::exceptions::PyRuntimeError::new_err(format!("vegalake: cannot start its runtime: {e}")))
}

/// Runs `fut` to completion without holding the GIL. If a signal handler raises
/// while it runs (KeyboardInterrupt), the task is aborted — dropping its query
/// streams cancels them — and the exception propagates.
pub fn block_on<F>(py: Python<'_>, fut: F) -> PyResult<F::Output>
where
    F: Future + Send + 'static,
    F::Output: Send + 'static,
{
    let runtime = tokio_runtime()?;
    crate::logging::refresh(py);
    let (tx, rx) = mpsc::channel();
    // Borrowed by the closure that runs without the GIL, which must be Sync.
    let rx = Mutex::new(rx);
    let task = runtime.spawn(async move {
        let _ = tx.send(fut.await);
    });
    loop {
        match py.detach(|| rx.lock().map_err(|_| mpsc::RecvTimeoutError::Disconnected)?.recv_timeout(SIGNAL_POLL)) {
            // Ctrl-C pressed while the result was being made interrupts it too:
            // the last wait may have ended with the result before the signal's
            // handler could run.
            Ok(out) => return py.check_signals().map(|()| out),
            Err(mpsc::RecvTimeoutError::Timeout) => {
                if let Err(interrupted) = py.check_signals() {
                    task.abort();
                    return Err(interrupted);
                }
            }
            Err(mpsc::RecvTimeoutError::Disconnected) => {
                return Err(pyo3::exceptions::PyRuntimeError::new_err("vegalake: the evaluation stopped without a result (a panic inside the engine)"));
            }
        }
    }
}

/// A value as JSON text.
pub fn json_text<T: serde::Serialize + ?Sized>(value: &T) -> PyResult<String> {
    serde_json::to_string(value).map_err(|e| pyo3::exceptions::PyRuntimeError::new_err(format!("vegalake: cannot encode a result as JSON: {e}")))
}
