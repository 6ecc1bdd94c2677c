//! Drawing every key's chart on the renderer's pool, each failure a record.

use crate::outputs::{ChartRecord, Outputs};
use crate::split::{chart_id, key_object, Charts};
use crate::BatchError;
use serde_json::Value as Json;
use std::collections::VecDeque;
use vegalake_render::{ImageFormat, Pending, RenderError, Renderer};

/// An output format of each chart.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Format {
    /// The chart's client spec, its data inlined (JSON).
    Vega,
    Image(ImageFormat),
}

impl Format {
    pub fn extension(self) -> &'static str {
        match self {
            Format::Vega => "vg.json",
            Format::Image(f) => f.extension(),
        }
    }

    /// `vega`, `svg`, `png` or `pdf`.
    pub fn parse(name: &str) -> Result<Self, String> {
        match name.trim() {
            "vega" => Ok(Format::Vega),
            "svg" => Ok(Format::Image(ImageFormat::Svg)),
            "png" => Ok(Format::Image(ImageFormat::Png)),
            "pdf" => Ok(Format::Image(ImageFormat::Pdf)),
            other => Err(format!("unknown format {other:?} (vega, svg, png or pdf)")),
        }
    }
}

/// How each chart is drawn and when the batch gives up.
#[derive(Clone, Debug)]
pub struct BatchOptions {
    pub formats: Vec<Format>,
    /// Pixels per unit of PNGs.
    pub scale: f32,
    /// A chart holding more data rows than this fails.
    pub row_limit: Option<usize>,
    /// Stop once more charts than this have failed.
    pub max_failures: Option<usize>,
}

/// Where a batch reports its progress (a terminal's bars, JSON lines, nothing).
pub trait Progress: Sync {
    /// A stage starts: `query`, `split` or `render`, with its count when known.
    fn start(&self, stage: &str, total: Option<u64>);
    /// Charts finished so far in the current stage, and how many of them failed.
    fn advance(&self, done: u64, failed: u64);
    fn finish(&self);
}

/// No progress reports.
pub struct Silent;

impl Progress for Silent {
    fn start(&self, _: &str, _: Option<u64>) {}
    fn advance(&self, _: u64, _: u64) {}
    fn finish(&self) {}
}

/// What a batch did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Summary {
    pub charts: usize,
    /// Drawn in this run.
    pub drawn: usize,
    /// Left as a previous run wrote them (`--resume`).
    pub reused: usize,
    pub failed: usize,
}

/// A chart on its way: its record so far and the renderer's answer to come.
struct InFlight {
    record: ChartRecord,
    spec: Json,
    images: Pending<Vec<Vec<u8>>>,
}

/// Draws every chart into `outputs`, a few ahead of the one written so the pool
/// stays busy; failures are recorded and the rest go on, up to `max_failures`.
pub fn draw_all(charts: &Charts, renderer: &Renderer, outputs: &mut Outputs, o: &BatchOptions, progress: &dyn Progress) -> Result<Summary, BatchError> {
    let images: Vec<ImageFormat> = o.formats.iter().filter_map(|f| if let Format::Image(i) = f { Some(*i) } else { None }).collect();
    let basis = format!("{:?} scale {} {}", o.formats, o.scale, renderer.versions());
    let ahead = 2 * renderer.workers();
    let mut summary = Summary { charts: charts.keys().len(), ..Summary::default() };
    let mut queue: VecDeque<InFlight> = VecDeque::new();
    progress.start("render", Some(summary.charts as u64));
    let mut keys = charts.keys().iter();
    loop {
        while queue.len() < ahead && !gave_up(&summary, o) {
            let Some((key, source_rows)) = keys.next() else { break };
            let (spec, rows) = charts.spec(key);
            let fingerprint = blake3::hash(format!("{spec}\n{basis}").as_bytes()).to_hex().to_string();
            let record = ChartRecord {
                id: chart_id(charts.key_names(), key),
                key: key_object(charts.key_names(), key),
                error: None,
                fingerprint,
                files: vec![],
                rows,
                source_rows: *source_rows,
            };
            if let Some(previous) = outputs.reusable(&record.id, &record.fingerprint) {
                summary.reused += 1;
                outputs.finish_chart(previous)?;
            } else if let Some(limit) = o.row_limit.filter(|l| rows > *l) {
                summary.failed += 1;
                outputs.finish_chart(ChartRecord { error: Some(format!("the chart holds {rows} data rows, over the row limit of {limit}")), ..record })?;
            } else {
                let images = renderer.submit_draw(&spec, &images, o.scale);
                queue.push_back(InFlight { record, spec, images });
                continue;
            }
            progress.advance((summary.reused + summary.drawn + summary.failed) as u64, summary.failed as u64);
        }
        let Some(next) = queue.pop_front() else { break };
        match finish(next, &o.formats) {
            Ok((record, files)) => {
                summary.drawn += 1;
                outputs.write(record, files)?;
            }
            Err((record, e)) => {
                summary.failed += 1;
                outputs.finish_chart(ChartRecord { error: Some(e.to_string()), ..record })?;
            }
        }
        progress.advance((summary.reused + summary.drawn + summary.failed) as u64, summary.failed as u64);
    }
    progress.finish();
    outputs.finish()?;
    if gave_up(&summary, o) {
        return Err(BatchError::TooManyFailures(summary.failed));
    }
    Ok(summary)
}

fn gave_up(summary: &Summary, o: &BatchOptions) -> bool {
    o.max_failures.is_some_and(|m| summary.failed > m)
}

/// A chart's files: (extension, bytes).
type Files = Vec<(&'static str, Vec<u8>)>;

/// A chart's files in the formats asked, once the renderer answered.
#[allow(clippy::result_large_err)] // the record goes back with the error, to be journaled
fn finish(chart: InFlight, formats: &[Format]) -> Result<(ChartRecord, Files), (ChartRecord, RenderError)> {
    let mut images = match chart.images.wait() {
        Ok(images) => images.into_iter(),
        Err(e) => return Err((chart.record, e)),
    };
    let files = formats
        .iter()
        .map(|f| match f {
            Format::Vega => (f.extension(), chart.spec.to_string().into_bytes()),
            Format::Image(_) => (f.extension(), images.next().unwrap_or_default()),
        })
        .collect();
    Ok((chart.record, files))
}
