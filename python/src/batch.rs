//! `vl.batch` in the extension: the CLI's batch (one evaluation for all keys, each
//! chart drawn by the renderer), its manifest returned as JSON.

use crate::call::{block_on, json_text};
use crate::errors;
use crate::options::Options;
use pyo3::prelude::*;
use serde::Deserialize;
use serde_json::{json, Value as Json};
use std::path::PathBuf;
use std::sync::Arc;
use vegalake_batch::{draw_all, evaluate, BatchError, BatchOptions, Destination, Format, Outputs, Partitioned, Silent, TemplateOptions};
use vegalake_executors::Runtime;

/// What the Python layer asks of a batch (JSON).
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BatchJson {
    by: Vec<String>,
    #[serde(default)]
    source: Option<String>,
    #[serde(default)]
    dataset: Option<String>,
    #[serde(default, rename = "where")]
    where_: Option<String>,
    formats: Vec<String>,
    #[serde(default)]
    out: Option<PathBuf>,
    #[serde(default)]
    table: Option<String>,
    #[serde(default = "one")]
    scale: f32,
    #[serde(default)]
    row_limit: Option<usize>,
    #[serde(default)]
    max_failures: Option<usize>,
    #[serde(default)]
    resume: bool,
}

fn one() -> f32 {
    1.0
}

fn batch_error(e: BatchError) -> PyErr {
    match e {
        BatchError::Eval(e) => errors::to_py_err(e),
        BatchError::Template(m) => errors::spec_error(format!("batch: template: {m}")),
        BatchError::Destination(m) => errors::spec_error(format!("batch: {m}")),
        other => errors::data_error(format!("batch: {other}")),
    }
}

/// Runs a batch; `{"summary": {...}, "charts": [manifest rows], "out": DIR, "table_version": N}`.
pub fn run(py: Python<'_>, runtime: Arc<Runtime>, spec: Json, options: Options, batch: &str) -> PyResult<String> {
    let b: BatchJson = serde_json::from_str(batch).map_err(|e| errors::spec_error(format!("batch options: {e}")))?;
    let formats = b.formats.iter().map(|f| Format::parse(f)).collect::<Result<Vec<_>, _>>().map_err(|e| errors::spec_error(format!("formats: {e}")))?;
    let template = TemplateOptions { keys: b.by.clone(), source: b.source.clone(), dataset: b.dataset.clone(), where_: b.where_.clone() };
    let partitioned = Partitioned::new(&spec, &template).map_err(batch_error)?;
    let destination = Destination::new(b.out.clone(), b.table.as_deref()).map_err(batch_error)?;
    let chart_options = options.chart_options()?;
    let access = chart_options.data.clone();
    let evaluation = block_on(py, async move { evaluate(runtime, &partitioned, chart_options, &Silent).await })?.map_err(batch_error)?;
    let renderer = crate::render::renderer()?;
    let mut outputs = Outputs::open(destination.dir(), b.resume).map_err(batch_error)?;
    let o = BatchOptions { formats: formats.clone(), scale: b.scale, row_limit: b.row_limit, max_failures: b.max_failures };
    let charts = &evaluation.charts;
    let summary = match py.detach(|| draw_all(charts, renderer, &mut outputs, &o, &Silent)) {
        Ok(s) => json!({"charts": s.charts, "drawn": s.drawn, "reused": s.reused, "failed": s.failed, "stopped": false}),
        Err(BatchError::TooManyFailures(n)) => json!({"charts": charts.keys().len(), "failed": n, "stopped": true}),
        Err(e) => return Err(batch_error(e)),
    };
    let mut result = json!({"summary": summary, "charts": outputs.records().iter().map(|r| r.to_json()).collect::<Vec<_>>(), "out": b.out});
    let keys = charts.key_names().to_vec();
    let version = block_on(py, async move { destination.finish(&outputs, &keys, &formats, &access).await })?.map_err(batch_error)?;
    result["table_version"] = json!(version);
    json_text(&result)
}
