//! What can go wrong while rendering, one variant per cause, each a one-line message.

use std::time::Duration;

/// A chart that could not be rendered. A failing chart is a value, never a crash:
/// the renderer that hit it is replaced and the others go on.
#[derive(Debug, thiserror::Error)]
pub enum RenderError {
    /// The fonts the renderer draws and measures text with are not installed.
    #[error("fonts: {0}")]
    Fonts(String),
    /// The JavaScript engine could not start or load vega.
    #[error("renderer: {0}")]
    Engine(String),
    /// vega.js (or the Vega-Lite compiler) rejected the spec or failed running it.
    #[error("{0}")]
    Spec(String),
    /// The chart ran past its time limit and was stopped.
    #[error("rendering took longer than its limit of {0:?} and was stopped")]
    Timeout(Duration),
    /// The chart needed more memory than its limit.
    #[error("rendering needed more than its memory limit of {0} MiB and was stopped")]
    Memory(usize),
    /// The SVG vega wrote could not be read back for PNG or PDF output.
    #[error("svg: {0}")]
    Svg(String),
    /// PNG or PDF output failed.
    #[error("{format}: {message}")]
    Output { format: &'static str, message: String },
    /// The renderer pool was shut down.
    #[error("the renderer pool has stopped")]
    Stopped,
}
