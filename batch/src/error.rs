//! What stops a batch as a whole (a chart's own failure is a record, not an error).

/// A batch that cannot run.
#[derive(Debug, thiserror::Error)]
pub enum BatchError {
    /// The template cannot be evaluated once for all keys (with where and why).
    #[error("template: {0}")]
    Template(String),
    /// Neither an output directory nor a table was given.
    #[error("{0}")]
    Destination(String),
    /// The one evaluation failed.
    #[error("{0}")]
    Eval(#[from] vegalake_executors::EvalError),
    /// Reading or writing outputs failed.
    #[error("{path}: {message}")]
    Io { path: String, message: String },
    /// More charts failed than allowed; the batch stopped.
    #[error("{0} charts failed, more than --max-failures allows; stopped")]
    TooManyFailures(usize),
}

impl BatchError {
    pub(crate) fn io(path: &std::path::Path, e: impl std::fmt::Display) -> Self {
        BatchError::Io { path: path.display().to_string(), message: e.to_string() }
    }
}
