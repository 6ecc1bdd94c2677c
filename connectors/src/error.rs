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
    /// The URL lies outside what this process may read.
    #[error("{0}")]
    Forbidden(String),
    /// A store or table refused or failed a request (credentials, missing bucket,
    /// unreachable endpoint, not a Delta table).
    #[error("{url}: {message}")]
    Store { url: String, message: String },
    #[error("{path}: {source}")]
    Io { path: String, source: std::io::Error },
    #[error("DataFusion: {0}")]
    DataFusion(#[from] datafusion::error::DataFusionError),
}

pub type Result<T, E = ConnectorError> = std::result::Result<T, E>;

/// An error and its causes on one line, without the response bodies and blank
/// A store's failure at `url`, on one line.
pub(crate) fn store_error(url: &url::Url, e: &dyn std::error::Error) -> ConnectorError {
    ConnectorError::Store { url: url.to_string(), message: one_line(e) }
}

/// lines object stores put in their messages.
pub fn one_line(e: &dyn std::error::Error) -> String {
    let mut parts: Vec<String> = Vec::new();
    let mut next: Option<&dyn std::error::Error> = Some(e);
    while let Some(err) = next {
        let text = err.to_string().split_whitespace().collect::<Vec<_>>().join(" ");
        if !text.is_empty() && !parts.iter().any(|p| p.contains(&text)) {
            parts.push(text);
        }
        next = err.source();
    }
    let line = parts.join(": ");
    const MAX: usize = 400;
    if line.len() > MAX {
        let cut = (0..=MAX).rev().find(|&i| line.is_char_boundary(i)).unwrap_or(0);
        format!("{}...", &line[..cut])
    } else {
        line
    }
}
