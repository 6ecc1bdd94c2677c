//! Reading a chart: a Vega spec, or a Vega-Lite spec compiled to Vega by the
//! pinned compiler embedded in the binary (the renderer's JavaScript engine).

use crate::Failure;
use serde_json::Value as Json;
use std::path::Path;
use std::sync::OnceLock;
use vegalake_planner::Spec;
use vegalake_render::{is_vega_lite, RenderOptions, Renderer};

/// The process's renderer: started on first use (compiling Vega-Lite or drawing),
/// one engine per core, shared by every chart of the command.
pub fn renderer() -> Result<&'static Renderer, Failure> {
    start_renderer(RenderOptions::default())
}

/// Starts the process's renderer with `options` (a command that draws calls it
/// first; later calls get the renderer already started).
pub fn start_renderer(options: RenderOptions) -> Result<&'static Renderer, Failure> {
    static RENDERER: OnceLock<Result<Renderer, String>> = OnceLock::new();
    RENDERER.get_or_init(|| Renderer::new(options).map_err(|e| e.to_string())).as_ref().map_err(|e| Failure(e.clone()))
}

/// The spec at `path` as Vega JSON: Vega-Lite is compiled (its warnings go to stderr).
pub fn read_vega_json(path: &Path) -> Result<Json, Failure> {
    let json = crate::read_json(path, "spec")?;
    to_vega(json, &path.display().to_string())
}

/// A spec as Vega JSON; `place` names it in messages.
pub fn to_vega(json: Json, place: &str) -> Result<Json, Failure> {
    if !is_vega_lite(&json) {
        return Ok(json);
    }
    let compiled = renderer()?.compile_vega_lite(&json).map_err(|e| Failure(format!("{place}: Vega-Lite: {e}")))?;
    for w in compiled.warnings {
        eprintln!("vegalake: warning: {place}: Vega-Lite: {w}");
    }
    Ok(compiled.spec)
}

/// The spec at `path`, Vega or Vega-Lite, parsed.
pub fn read_spec(path: &Path) -> Result<Spec, Failure> {
    parse_vega(read_vega_json(path)?, &path.display().to_string())
}

pub fn parse_vega(json: Json, place: &str) -> Result<Spec, Failure> {
    serde_json::from_value(json).map_err(|e| Failure(format!("{place}: not a Vega spec: {e}")))
}
