//! Errors of lowering.

use datafusion::error::DataFusionError;
use thiserror::Error;

/// Why a piece of a spec could not be lowered.
#[derive(Debug, Error)]
pub enum LowerError {
    /// The spec is wrong (a syntax error, an unknown function or transform, a bad parameter): vega.js would
    /// fail too. Reported to the user as an error.
    #[error("{0}")]
    Invalid(String),
    /// The spec is fine but the server does not evaluate this; the dataset is cut
    /// here and the rest stays on the client.
    #[error("{0}")]
    Unsupported(String),
    #[error("DataFusion: {0}")]
    DataFusion(#[from] DataFusionError),
}

impl LowerError {
    /// Prefixes the message with where it happened (e.g. `transform[2].expr`).
    pub fn at(self, place: &str) -> LowerError {
        match self {
            LowerError::Invalid(m) => LowerError::Invalid(format!("{place}: {m}")),
            LowerError::Unsupported(m) => LowerError::Unsupported(format!("{place}: {m}")),
            other => other,
        }
    }
}

pub type Result<T, E = LowerError> = std::result::Result<T, E>;

/// Shorthand for an [`LowerError::Unsupported`] result.
pub fn unsupported<T>(msg: impl Into<String>) -> Result<T> {
    Err(LowerError::Unsupported(msg.into()))
}

/// Shorthand for an [`LowerError::Invalid`] result.
pub fn invalid<T>(msg: impl Into<String>) -> Result<T> {
    Err(LowerError::Invalid(msg.into()))
}
