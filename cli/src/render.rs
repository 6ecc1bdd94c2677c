//! `vegalake render`: one chart pre-transformed, then drawn by the embedded vega.js.

use crate::{spec, ChartArgs, EngineArgs, Failure};
use serde_json::Value as Json;
use std::path::Path;
use std::time::Duration;
use vegalake_executors::{pre_transform_spec, ChartOptions, Interactivity};
use vegalake_render::{RenderOptions, Renderer};

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

/// An output format, named as on the command line.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    /// The pre-transformed Vega spec (data inlined), as JSON.
    Vega,
    Svg,
    Png,
    Pdf,
}

impl Format {
    pub fn extension(self) -> &'static str {
        match self {
            Format::Vega => "vg.json",
            Format::Svg => "svg",
            Format::Png => "png",
            Format::Pdf => "pdf",
        }
    }

    pub fn parse(name: &str) -> Result<Self, String> {
        match name {
            "vega" => Ok(Format::Vega),
            "svg" => Ok(Format::Svg),
            "png" => Ok(Format::Png),
            "pdf" => Ok(Format::Pdf),
            other => Err(format!("unknown format {other:?} (vega, svg, png or pdf)")),
        }
    }

    fn of_path(path: &Path) -> Result<Self, Failure> {
        let name = path.file_name().and_then(|n| n.to_str()).unwrap_or_default();
        [Format::Vega, Format::Svg, Format::Png, Format::Pdf]
            .into_iter()
            .find(|f| name.ends_with(&format!(".{}", f.extension())))
            .ok_or_else(|| Failure(format!("{}: the output's extension must be .svg, .png, .pdf or .vg.json", path.display())))
    }
}

/// A client spec drawn in each format, in the order asked: one SVG serves all images.
pub fn draw(renderer: &Renderer, client: &Json, svg: Option<String>, formats: &[Format], scale: f32) -> Result<Vec<Vec<u8>>, vegalake_render::RenderError> {
    let needs_svg = formats.iter().any(|f| *f != Format::Vega);
    let svg = match svg {
        Some(svg) => svg,
        None if needs_svg => renderer.svg(client)?,
        None => String::new(),
    };
    formats
        .iter()
        .map(|f| match f {
            Format::Vega => Ok(client.to_string().into_bytes()),
            Format::Svg => Ok(svg.clone().into_bytes()),
            Format::Png => renderer.svg_to_png(&svg, scale),
            Format::Pdf => renderer.svg_to_pdf(&svg),
        })
        .collect()
}

/// Writes a file whole or not at all: a temporary file beside it, renamed over it.
pub fn write_atomically(path: &Path, bytes: &[u8]) -> Result<(), Failure> {
    let fail = |e: std::io::Error| Failure(format!("cannot write {}: {e}", path.display()));
    let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("output");
    let temporary = path.with_file_name(format!(".{name}.{}.partial", std::process::id()));
    std::fs::write(&temporary, bytes).map_err(fail)?;
    std::fs::rename(&temporary, path).map_err(|e| {
        let _ = std::fs::remove_file(&temporary);
        fail(e)
    })
}

pub async fn render(chart: &ChartArgs, engine: &EngineArgs, draw_args: &DrawArgs, output: &Path) -> Result<(), Failure> {
    let format = Format::of_path(output)?;
    let renderer = draw_args.renderer()?;
    let (spec, options) = chart.load()?;
    // An image has no interactions: everything the server can do, it does.
    let options = ChartOptions { interactivity: Interactivity::Static, ..options };
    let (client, warnings) = pre_transform_spec(engine.runtime().await?, &spec, options).await.map_err(|e| chart.fail(e))?;
    for w in warnings {
        eprintln!("vegalake: warning: {}", w.message);
    }
    let client = serde_json::to_value(&client).map_err(|e| Failure(format!("cannot print the client spec: {e}")))?;
    let mut drawn = draw(renderer, &client, None, &[format], draw_args.scale).map_err(|e| chart.fail(e))?;
    write_atomically(output, &drawn.remove(0))
}
