//! Vega charts to SVG, PNG and PDF without a browser.
//!
//! vega.js itself draws the chart: the vega and vega-lite builds pinned by the
//! browser client (`client/package-lock.json`) run in QuickJS, embedded in the
//! binary. Text is measured with the Liberation fonts through the hook vega offers
//! (`textMetrics.width`), and usvg draws it with the same fonts, so labels fit as
//! laid out. resvg rasterises the SVG; svg2pdf writes it as PDF.
//!
//! ```no_run
//! use vegalake_render::{Renderer, RenderOptions};
//! let renderer = Renderer::new(RenderOptions::default())?;
//! let spec = serde_json::json!({"width": 100, "height": 50, "marks": [
//!     {"type": "text", "encode": {"enter": {"text": {"value": "hello"}}}}]});
//! let svg = renderer.svg(&spec)?;
//! assert!(svg.starts_with("<svg"));
//! # Ok::<(), vegalake_render::RenderError>(())
//! ```

mod error;
mod fonts;
mod image;
mod js;
mod pool;

pub use error::RenderError;
pub use fonts::Fonts;
pub use pool::{Compiled, ImageFormat, Pending, RenderOptions, Renderer};

use serde_json::Value as Json;

/// Whether a spec is Vega-Lite: its `$schema` says so, or, without one, it has a
/// view's keys (`mark`, `layer`, a composition) and none of Vega's `marks`.
pub fn is_vega_lite(spec: &Json) -> bool {
    if let Some(schema) = spec.get("$schema").and_then(Json::as_str) {
        return schema.contains("vega-lite");
    }
    const VIEW_KEYS: &[&str] = &["mark", "layer", "facet", "repeat", "concat", "hconcat", "vconcat"];
    spec.get("marks").is_none() && VIEW_KEYS.iter().any(|k| spec.get(k).is_some())
}
