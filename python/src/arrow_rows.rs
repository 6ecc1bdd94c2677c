//! Datasets as Arrow IPC streams for the widget's comm messages: the service's
//! encoding (`vegalake_proto::arrow_rows`), so that missing fields stay missing
//! and nested or mixed values survive, as the browser client reads them.

use crate::errors;
use pyo3::prelude::*;
use pyo3::types::PyBytes;
use serde_json::Value as Json;

/// The rows (JSON text of an array of objects) as one Arrow IPC stream; `None`
/// when a row is not an object.
#[pyfunction]
pub fn rows_to_arrow_ipc<'py>(py: Python<'py>, rows: &str) -> PyResult<Option<Bound<'py, PyBytes>>> {
    let rows: Vec<Json> = serde_json::from_str(rows).map_err(|e| errors::data_error(format!("rows: invalid JSON: {e}")))?;
    Ok(vegalake_proto::arrow_rows::rows_to_ipc(&rows).ok().map(|ipc| PyBytes::new(py, &ipc)))
}

/// The rows of an Arrow IPC stream (as `rows_to_arrow_ipc` writes), as JSON text.
#[pyfunction]
pub fn arrow_ipc_to_rows(ipc: &[u8]) -> PyResult<String> {
    let rows = vegalake_proto::arrow_rows::ipc_to_rows(ipc, usize::MAX).map_err(|e| errors::data_error(e.to_string()))?;
    Ok(Json::Array(rows).to_string())
}
