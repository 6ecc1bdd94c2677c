//! `vegalake render`: one chart pre-transformed, then drawn by the embedded vega.js.

use crate::{spec, ChartArgs, EngineArgs, Failure};
use std::path::Path;
use std::time::Duration;
use vegalake_batch::outputs::write_atomically;
use vegalake_executors::{pre_transform_spec, ChartOptions, Interactivity};
use vegalake_render::{ImageFormat, RenderOptions, Renderer};

/// How charts are drawn.
#[derive(clap::Args)]
pub struct DrawArgs {
    /// Pixels per unit of a PNG (2 for a high-density screen).
    #[arg(long, default_value_t = 1.0)]
    pub scale: f32,
    /// Stop drawing a chart after this many seconds.
    #[arg(long, value_name = "SECONDS", default_value_t = 30.0)]
    pub render_timeout: f64,
}

impl DrawArgs {
    /// The process's renderer, started with these limits.
    pub fn renderer(&self) -> Result<&'static Renderer, Failure> {
        if !(self.scale.is_finite() && self.scale > 0.0) {
            return Err(Failure(format!("--scale: {} is not a positive number", self.scale)));
        }
        if !(self.render_timeout.is_finite() && self.render_timeout > 0.0) {
            return Err(Failure(format!("--render-timeout: {} is not a positive number of seconds", self.render_timeout)));
        }
        spec::start_renderer(RenderOptions { timeout: Duration::from_secs_f64(self.render_timeout), ..RenderOptions::default() })
    }
}

fn format_of(path: &Path) -> Result<ImageFormat, Failure> {
    let name = path.file_name().and_then(|n| n.to_str()).unwrap_or_default();
    [ImageFormat::Svg, ImageFormat::Png, ImageFormat::Pdf]
        .into_iter()
        .find(|f| name.ends_with(&format!(".{}", f.extension())))
        .ok_or_else(|| Failure(format!("{}: the output's extension must be .svg, .png or .pdf", path.display())))
}

pub async fn render(chart: &ChartArgs, engine: &EngineArgs, draw_args: &DrawArgs, output: &Path) -> Result<(), Failure> {
    let format = format_of(output)?;
    let renderer = draw_args.renderer()?;
    let (spec, options) = chart.load()?;
    // An image has no interactions: everything the server can do, it does.
    let options = ChartOptions { interactivity: Interactivity::Static, ..options };
    let (client, warnings) = pre_transform_spec(engine.runtime().await?, &spec, options).await.map_err(|e| chart.fail(e))?;
    for w in warnings {
        eprintln!("vegalake: warning: {}", w.message);
    }
    let client = serde_json::to_value(&client).map_err(|e| Failure(format!("cannot print the client spec: {e}")))?;
    let drawn = renderer.draw(&client, format, draw_args.scale).map_err(|e| chart.fail(e))?;
    write_atomically(output, &drawn).map_err(|e| Failure(e.to_string()))
}
