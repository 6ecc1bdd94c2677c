//! Drawing and compiling in the extension: the CLI's renderer (vega.js in an
//! embedded QuickJS), one per process, started on first use.

use crate::errors;
use pyo3::prelude::*;
use pyo3::types::PyBytes;
use serde_json::Value as Json;
use std::sync::OnceLock;
use vegalake_render::{RenderOptions, Renderer};

pub fn renderer() -> PyResult<&'static Renderer> {
    static RENDERER: OnceLock<Result<Renderer, String>> = OnceLock::new();
    RENDERER.get_or_init(|| Renderer::new(RenderOptions::default()).map_err(|e| e.to_string())).as_ref().map_err(|e| errors::render_error(e.clone()))
}

fn parse(spec: &str) -> PyResult<Json> {
    serde_json::from_str(spec).map_err(|e| errors::spec_error(format!("spec: invalid JSON: {e}")))
}

/// A Vega-Lite spec (JSON text) compiled to Vega by the pinned vega-lite:
/// (the Vega spec as JSON text, the compiler's warnings).
#[pyfunction]
pub fn compile_vega_lite(py: Python<'_>, spec: &str) -> PyResult<(String, Vec<String>)> {
    let (spec, renderer) = (parse(spec)?, renderer()?);
    let compiled = py.detach(|| renderer.compile_vega_lite(&spec)).map_err(|e| errors::spec_error(format!("Vega-Lite: {e}")))?;
    Ok((compiled.spec.to_string(), compiled.warnings))
}

/// A Vega spec (JSON text, its data inlined) drawn as `svg`, `png` (at `scale`)
/// or `pdf` bytes.
#[pyfunction]
#[pyo3(signature = (spec, format, scale = 1.0))]
pub fn render<'py>(py: Python<'py>, spec: &str, format: &str, scale: f32) -> PyResult<Bound<'py, PyBytes>> {
    let (spec, renderer) = (parse(spec)?, renderer()?);
    let bytes = py.detach(|| match format {
        "svg" => renderer.svg(&spec).map(String::into_bytes),
        "png" => renderer.png(&spec, scale),
        "pdf" => renderer.pdf(&spec),
        other => Err(vegalake_render::RenderError::Output { format: "format", message: format!("unknown format {other:?} (svg, png or pdf)") }),
    });
    Ok(PyBytes::new(py, &bytes.map_err(|e| errors::render_error(e.to_string()))?))
}
