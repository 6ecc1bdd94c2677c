//! Errors of loading data.

use thiserror::Error;

#[derive(Debug, Error)]
pub enum ConnectorError {
    /// The spec asks for something malformed (bad format, unreadable file).
    #[error("{0}")]
    Invalid(String),
    /// The data is fine but the server cannot represent it (mixed-type fields,
    /// nested objects); the dataset stays on the client.
    #[error("{0}")]
    Unsupported(String),
    #[error("{path}: {source}")]
    Io { path: String, source: std::io::Error },
    #[error("DataFusion: {0}")]
    DataFusion(#[from] datafusion::error::DataFusionError),
}

pub type Result<T, E = ConnectorError> = std::result::Result<T, E>;
