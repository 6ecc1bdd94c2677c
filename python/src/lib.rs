//! `vegalake._vegalake`: the Python package's extension module, a thin layer over
//! the same crates the CLI uses (no second implementation).
//!
//! Specs, options and results cross as JSON text; tables cross as Arrow through
//! the C stream interface (`__arrow_c_stream__`: pandas via pyarrow, polars,
//! pyarrow, anything that speaks it), without copies. The typed, documented API
//! is the Python package's (`vegalake/_runtime.py`); this module is private.

mod arrow_rows;
mod batch;
mod call;
mod errors;
mod logging;
mod options;
mod remote;
mod render;
mod warehouse;

use call::{block_on, json_text};
use errors::to_py_err;
use options::{Options, Tables};
use pyo3::prelude::*;
use pyo3::types::PyDict;
use serde_json::Value as Json;
use std::sync::Arc;
use std::time::Duration;
use vegalake_executors::engine::{connect, EngineOptions, EngineUrl};
use vegalake_executors::{evaluate_on, pre_transform_datasets, pre_transform_spec, ChartState, Runtime, VarValue, DEFAULT_CACHE_BYTES};
use vegalake_planner::{Spec, Var};

/// A runtime: an engine connection, a DataFusion session and a fingerprint cache
/// shared by every chart evaluated through it.
#[pyclass(name = "Runtime", module = "vegalake._vegalake", frozen)]
struct PyRuntime {
    inner: Arc<Runtime>,
    engine: String,
}

#[pymethods]
impl PyRuntime {
    /// Connects to the engine (`local`, `ballista://HOST:PORT`, `spark://HOST:PORT`).
    #[new]
    #[pyo3(signature = (engine = "local", cache_bytes = None, timeout = None, memory_limit = None))]
    fn new(py: Python<'_>, engine: &str, cache_bytes: Option<usize>, timeout: Option<f64>, memory_limit: Option<usize>) -> PyResult<PyRuntime> {
        let url: EngineUrl = engine.parse().map_err(|e| errors::engine_error(format!("engine: {e}")))?;
        let timeout = match timeout {
            Some(t) if t.is_finite() && t > 0.0 => Some(Duration::from_secs_f64(t)),
            Some(t) => return Err(pyo3::exceptions::PyValueError::new_err(format!("timeout: {t} is not a positive number of seconds"))),
            None => None,
        };
        let connected = block_on(py, async move { connect(&url, EngineOptions { timeout }).await })?;
        let engine_impl = connected.map_err(|e| errors::engine_error(e.to_string()))?;
        let inner = Arc::new(Runtime::with_engine(engine_impl, cache_bytes.unwrap_or(DEFAULT_CACHE_BYTES), memory_limit));
        Ok(PyRuntime { inner, engine: engine.to_string() })
    }

    #[getter]
    fn engine(&self) -> &str {
        &self.engine
    }

    /// Every top-level dataset and signal as `vegalake eval` prints them (JSON),
    /// with what each dataset's queries scanned under "explain".
    fn evaluate(&self, py: Python<'_>, spec: &str, options: &str, tables: &Bound<'_, PyDict>) -> PyResult<String> {
        let (spec, options) = (parse_spec(spec)?, Options::parse(options, Tables::extract(tables)?)?);
        let runtime = self.inner.clone();
        let eval = options.eval_options()?;
        let result = block_on(py, async move { evaluate_on(&runtime, &spec, &eval).await })?.map_err(to_py_err)?;
        json_text(&result.to_json_explained())
    }

    /// The client spec with the server's results inlined, and warnings
    /// (`[{kind, message}]`), as JSON text.
    fn pre_transform_spec(&self, py: Python<'_>, spec: &str, options: &str, tables: &Bound<'_, PyDict>) -> PyResult<(String, String)> {
        let (spec, options) = (parse_spec(spec)?, Options::parse(options, Tables::extract(tables)?)?);
        let runtime = self.inner.clone();
        let chart = options.chart_options()?;
        let (client, warnings) = block_on(py, async move { pre_transform_spec(runtime, &spec, chart).await })?.map_err(to_py_err)?;
        Ok((json_text(&client)?, json_text(&warnings)?))
    }

    /// The named datasets (`[[name, scope], ...]`), evaluated entirely on the
    /// server, as pyarrow tables without vegalake's internal columns.
    fn pre_transform_datasets<'py>(
        &self,
        py: Python<'py>,
        spec: &str,
        names: Vec<(String, Vec<u32>)>,
        options: &str,
        tables: &Bound<'py, PyDict>,
    ) -> PyResult<Vec<Bound<'py, PyAny>>> {
        let (spec, options) = (parse_spec(spec)?, Options::parse(options, Tables::extract(tables)?)?);
        let runtime = self.inner.clone();
        let chart = options.chart_options()?;
        let vars: Vec<Var> = names.iter().map(|(n, scope)| Var::data(n, scope)).collect();
        let results = block_on(py, async move { pre_transform_datasets(&runtime, &spec, &vars, &chart).await })?.map_err(to_py_err)?;
        results.into_iter().map(|batches| options::public_table(batches)?.into_pyarrow(py)).collect()
    }

    /// Opens a chart: plans it, evaluates its server half and keeps its state for
    /// updates.
    fn open_chart(&self, py: Python<'_>, spec: &str, options: &str, tables: &Bound<'_, PyDict>) -> PyResult<PyChartState> {
        let (spec, options) = (parse_spec(spec)?, Options::parse(options, Tables::extract(tables)?)?);
        let runtime = self.inner.clone();
        let chart = options.chart_options()?;
        let state = block_on(py, async move { ChartState::open(runtime, &spec, chart).await })?.map_err(to_py_err)?;
        Ok(PyChartState { inner: Arc::new(tokio::sync::Mutex::new(state)) })
    }

    /// One chart per key of the spec's source, drawn and written (see `vl.batch`):
    /// the manifest as JSON.
    fn batch(&self, py: Python<'_>, spec: &str, options: &str, tables: &Bound<'_, PyDict>, batch: &str) -> PyResult<String> {
        let spec: Json = serde_json::from_str(spec).map_err(|e| errors::spec_error(format!("spec: invalid JSON: {e}")))?;
        let options = Options::parse(options, Tables::extract(tables)?)?;
        batch::run(py, self.inner.clone(), spec, options, batch)
    }

    /// The schema a data URL gives specs, without reading rows (pyarrow schema).
    fn source_schema<'py>(&self, py: Python<'py>, url: String, options: &str) -> PyResult<Bound<'py, PyAny>> {
        let options = Options::parse(options, Tables::empty())?;
        let source = options.source_options()?;
        let runtime = self.inner.clone();
        let schema = block_on(py, async move { runtime.source_schema(&url, &source).await })?.map_err(to_py_err)?;
        pyo3_arrow::PySchema::new(Arc::new(schema)).into_pyarrow(py)
    }

    /// Bytes and entries held by the cache, and its hits and misses (JSON).
    fn cache_stats(&self) -> PyResult<String> {
        json_text(&self.inner.cache().stats())
    }
}

/// One chart's server state, as `vl.new_chart_state` and the widget use it.
#[pyclass(name = "ChartState", module = "vegalake._vegalake", frozen)]
struct PyChartState {
    inner: Arc<tokio::sync::Mutex<ChartState>>,
}

#[pymethods]
impl PyChartState {
    /// Applies client changes (`[{namespace, name, scope, value}]`, JSON) and
    /// returns the server values that changed, in the same shape.
    fn update(&self, py: Python<'_>, changes: &str) -> PyResult<String> {
        let changes: Vec<VarValue> =
            serde_json::from_str(changes).map_err(|e| errors::spec_error(format!("updates: not a list of {{namespace, name, scope, value}}: {e}")))?;
        let state = self.inner.clone();
        let changed = block_on(py, async move { state.lock().await.update(&changes).await })?.map_err(to_py_err)?;
        json_text(&changed)
    }

    /// The client spec, with the server's results inlined (JSON).
    fn client_spec(&self, py: Python<'_>) -> PyResult<String> {
        self.read(py, |c| json_text(c.client_spec()))
    }

    /// The server half of the spec (JSON).
    fn server_spec(&self, py: Python<'_>) -> PyResult<String> {
        self.read(py, |c| json_text(c.server_spec()))
    }

    /// The communication plan: which values go client→server and back (JSON).
    fn comm_plan(&self, py: Python<'_>) -> PyResult<String> {
        self.read(py, |c| json_text(c.comm_plan()))
    }

    /// Warnings of the pre-transformed spec (`[{kind, message}]`, JSON).
    fn warnings(&self, py: Python<'_>) -> PyResult<String> {
        self.read(py, |c| json_text(c.warnings()))
    }

    /// Where each dataset runs, why the client takes over, the server plan (JSON).
    fn datasets(&self, py: Python<'_>) -> PyResult<String> {
        self.read(py, |c| json_text(c.datasets()))
    }

    /// What the last evaluation scanned of the tables its datasets read (JSON).
    fn scans(&self, py: Python<'_>) -> PyResult<String> {
        self.read(py, |c| json_text(c.scans()))
    }
}

impl PyChartState {
    /// Reads the state without the GIL: an update in flight holds the lock and may
    /// need the GIL to log.
    fn read<T: Send>(&self, py: Python<'_>, f: impl FnOnce(&ChartState) -> T + Send) -> T {
        py.detach(|| f(&self.inner.blocking_lock()))
    }
}

fn parse_spec(text: &str) -> PyResult<Spec> {
    let json: Json = serde_json::from_str(text).map_err(|e| errors::spec_error(format!("spec: invalid JSON: {e}")))?;
    serde_json::from_value(json).map_err(|e| errors::spec_error(format!("spec: not a Vega spec: {e}")))
}

/// Every name a Vega spec mentions outside its inline rows (fields, datasets,
/// signals...), or `None` when some expression may read any field (`datum` passed
/// whole): the columns of a frame worth handing over.
#[pyfunction]
fn mentioned_names(spec: &str) -> PyResult<Option<Vec<String>>> {
    let mut json: Json = serde_json::from_str(spec).map_err(|e| errors::spec_error(format!("spec: invalid JSON: {e}")))?;
    drop_inline_rows(&mut json);
    let mut mentions = vegalake_planner::refs::Mentions::default();
    mentions.add_json(&json);
    Ok((!mentions.opaque).then(|| mentions.names.into_iter().collect()))
}

/// Removes the `values` of data entries (rows are not names), in every scope.
fn drop_inline_rows(node: &mut Json) {
    let Json::Object(map) = node else { return };
    if let Some(Json::Array(data)) = map.get_mut("data") {
        for d in data.iter_mut().filter_map(Json::as_object_mut) {
            d.remove("values");
        }
    }
    if let Some(Json::Array(marks)) = map.get_mut("marks") {
        marks.iter_mut().for_each(drop_inline_rows);
    }
}

/// The version of the crates this module was built from.
#[pyfunction]
fn version() -> &'static str {
    env!("CARGO_PKG_VERSION")
}

#[pymodule]
fn _vegalake(m: &Bound<'_, PyModule>) -> PyResult<()> {
    logging::install(m.py());
    m.add_class::<PyRuntime>()?;
    m.add_class::<PyChartState>()?;
    m.add_class::<remote::PyRemoteRuntime>()?;
    m.add_class::<remote::PyRemoteChart>()?;
    m.add_function(wrap_pyfunction!(version, m)?)?;
    m.add_function(wrap_pyfunction!(mentioned_names, m)?)?;
    m.add_function(wrap_pyfunction!(render::compile_vega_lite, m)?)?;
    m.add_function(wrap_pyfunction!(render::render, m)?)?;
    m.add_function(wrap_pyfunction!(arrow_rows::rows_to_arrow_ipc, m)?)?;
    m.add_function(wrap_pyfunction!(arrow_rows::arrow_ipc_to_rows, m)?)?;
    errors::add_to(m)?;
    Ok(())
}
