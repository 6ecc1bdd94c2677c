//! A `vegalake serve` as the package's engine (`engine="grpc://HOST:PORT"`):
//! the server evaluates whole charts, so only specs and values cross, through
//! the Rust client of `vegalake-proto`; its failures become the package's
//! exceptions by their status.

use crate::call::{block_on, json_text};
use crate::errors;
use pyo3::prelude::*;
use serde_json::Value as Json;
use std::sync::Arc;
use vegalake_proto::client::{Chart, Client, ClientError, Variable};

/// The exception of a server's status.
fn to_py_err(e: ClientError) -> PyErr {
    use tonic::Code;
    let line = e.message;
    match e.code {
        Code::InvalidArgument => errors::spec_error(line),
        Code::Unauthenticated | Code::PermissionDenied => errors::forbidden_error(line),
        Code::NotFound | Code::FailedPrecondition => errors::data_error(line),
        Code::DeadlineExceeded => errors::timeout_error(line),
        _ => errors::engine_error(line),
    }
}

fn parse<T: serde::de::DeserializeOwned>(text: &str, what: &str) -> PyResult<T> {
    serde_json::from_str(text).map_err(|e| errors::spec_error(format!("{what}: invalid JSON: {e}")))
}

/// A connection to a server.
#[pyclass(name = "RemoteRuntime", module = "vegalake._vegalake", frozen)]
pub struct PyRemoteRuntime {
    client: Client,
}

#[pymethods]
impl PyRemoteRuntime {
    /// Connects to `url` (`grpc://` or `grpcs://`), sending `token` on every call;
    /// over TLS trusting the system's authorities and `tls_ca` (PEM), if given.
    #[new]
    #[pyo3(signature = (url, token = None, tls_ca = None))]
    fn new(py: Python<'_>, url: String, token: Option<String>, tls_ca: Option<Vec<u8>>) -> PyResult<PyRemoteRuntime> {
        let connected = block_on(py, async move { Client::connect_trusting(&url, token.as_deref(), tls_ca.as_deref()).await })?;
        let client = connected.map_err(to_py_err)?;
        Ok(PyRemoteRuntime { client })
    }

    /// The server's version, engine, limits and data roots (JSON).
    fn info(&self, py: Python<'_>) -> PyResult<String> {
        let mut client = self.client.clone();
        let info = block_on(py, async move { client.info().await })?.map_err(to_py_err)?;
        let limits = info.limits.unwrap_or_default();
        json_text(&serde_json::json!({
            "version": info.version, "engine": info.engine, "data_roots": info.data_roots, "tables": info.tables,
            "limits": {"max_request_bytes": limits.max_request_bytes, "max_rows": limits.max_rows, "request_timeout_seconds": limits.request_timeout_seconds},
        }))
    }

    /// The client spec with the server's results inlined, and its warnings (JSON).
    fn pre_transform_spec(&self, py: Python<'_>, spec: &str, timezone: &str) -> PyResult<(String, Vec<String>)> {
        let (spec, timezone): (Json, String) = (parse(spec, "spec")?, timezone.to_string());
        let mut client = self.client.clone();
        let (client_spec, warnings) = block_on(py, async move { client.pre_transform(&spec, Some(&timezone)).await })?.map_err(to_py_err)?;
        Ok((json_text(&client_spec)?, warnings))
    }

    /// Opens a chart held by the server.
    fn open_chart(&self, py: Python<'_>, spec: &str, timezone: &str) -> PyResult<PyRemoteChart> {
        let (spec, timezone): (Json, String) = (parse(spec, "spec")?, timezone.to_string());
        let mut client = self.client.clone();
        let chart = block_on(py, async move { client.open(&spec, Some(&timezone)).await })?.map_err(to_py_err)?;
        Ok(PyRemoteChart { client: self.client.clone(), chart: Arc::new(tokio::sync::Mutex::new(chart)) })
    }
}

/// A chart held by a server: updates go to it, its answers come back.
#[pyclass(name = "RemoteChart", module = "vegalake._vegalake", frozen)]
pub struct PyRemoteChart {
    client: Client,
    chart: Arc<tokio::sync::Mutex<Chart>>,
}

#[pymethods]
impl PyRemoteChart {
    /// Applies client changes (`[{namespace, name, scope, value}]`, JSON); the
    /// server values that changed, in the same shape.
    fn update(&self, py: Python<'_>, changes: &str) -> PyResult<String> {
        let changes: Vec<Variable> = parse(changes, "updates")?;
        let (mut client, chart) = (self.client.clone(), self.chart.clone());
        let updated = block_on(py, async move { client.update(&mut *chart.lock().await, changes).await })?.map_err(to_py_err)?;
        json_text(&updated.values)
    }

    /// The client spec, with the server's results inlined (JSON).
    fn client_spec(&self, py: Python<'_>) -> PyResult<String> {
        json_text(&py.detach(|| self.chart.blocking_lock().client_spec.clone()))
    }

    /// The communication plan (JSON).
    fn comm_plan(&self, py: Python<'_>) -> PyResult<String> {
        json_text(&py.detach(|| self.chart.blocking_lock().comm_plan.clone()))
    }

    /// The server's warnings (one line each).
    fn warnings(&self, py: Python<'_>) -> Vec<String> {
        py.detach(|| self.chart.blocking_lock().warnings.clone())
    }

    /// Closes the chart on the server.
    fn close(&self, py: Python<'_>) -> PyResult<()> {
        let (mut client, chart) = (self.client.clone(), self.chart.clone());
        block_on(py, async move { client.close(&*chart.lock().await).await })?.map_err(to_py_err)
    }
}
