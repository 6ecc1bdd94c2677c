//! A pool of JavaScript engines across cores, each chart on one of them.

use crate::js::{JsEngine, Limits};
use crate::{image, Fonts, RenderError};
use serde_json::Value as Json;
use std::path::PathBuf;
use std::sync::mpsc::{channel, Receiver, Sender};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::Duration;

/// How a [`Renderer`] is set up.
#[derive(Clone, Debug)]
pub struct RenderOptions {
    /// Engines running at once (0: one per core).
    pub workers: usize,
    /// Longest a chart may run in vega before it is stopped.
    pub timeout: Duration,
    /// Most memory one engine may hold while running a chart.
    pub memory_bytes: usize,
    /// Directories with the Liberation fonts (default: `VEGALAKE_FONT_DIR`, then the system's).
    pub font_dirs: Vec<PathBuf>,
}

impl Default for RenderOptions {
    fn default() -> Self {
        // vega with its parsed spec holds ~16 MB per instance (measured on the
        // sample chart); 512 MiB leaves room for charts with many marks.
        RenderOptions { workers: 0, timeout: Duration::from_secs(30), memory_bytes: 512 << 20, font_dirs: Vec::new() }
    }
}

/// A Vega-Lite spec compiled to Vega, with the compiler's warnings.
#[derive(Debug, Clone)]
pub struct Compiled {
    pub spec: Json,
    pub warnings: Vec<String>,
}

/// An image format drawn from a chart's SVG.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ImageFormat {
    Svg,
    Png,
    Pdf,
}

impl ImageFormat {
    pub fn extension(self) -> &'static str {
        match self {
            ImageFormat::Svg => "svg",
            ImageFormat::Png => "png",
            ImageFormat::Pdf => "pdf",
        }
    }
}

/// One job for a worker, with where its answer goes.
enum Job {
    Svg { spec: String, scale: f64, reply: Sender<Result<String, RenderError>> },
    Draw { spec: String, formats: Vec<ImageFormat>, scale: f32, reply: Sender<Result<Vec<Vec<u8>>, RenderError>> },
    CompileVegaLite { spec: String, reply: Sender<Result<String, RenderError>> },
}

/// An answer that will arrive: from [`Renderer::submit_svg`] and [`Renderer::submit_draw`].
pub struct Pending<T>(Receiver<Result<T, RenderError>>);

impl<T> Pending<T> {
    /// Waits for the answer.
    pub fn wait(self) -> Result<T, RenderError> {
        self.0.recv().unwrap_or(Err(RenderError::Stopped))
    }

    fn failed(e: RenderError) -> Self {
        let (reply, answer) = channel();
        let _ = reply.send(Err(e));
        Pending(answer)
    }
}

/// Renders Vega specs to SVG, PNG and PDF and compiles Vega-Lite, on a pool of
/// vega.js engines (QuickJS). Engines start when first needed; one that failed a
/// chart (a time or memory limit, an exception) is replaced by a fresh one, so a
/// bad chart never affects the next.
pub struct Renderer {
    jobs: Option<Sender<Job>>,
    count: usize,
    workers: Vec<JoinHandle<()>>,
    /// Drawing needs the fonts; compiling Vega-Lite does not, so a machine
    /// without them still compiles and is told why when it draws.
    fonts: Result<Fonts, String>,
}

impl Renderer {
    pub fn new(options: RenderOptions) -> Result<Self, RenderError> {
        let fonts = Fonts::load(&options.font_dirs).map_err(|e| match e {
            RenderError::Fonts(why) => why,
            other => other.to_string(),
        });
        let limits = Limits { time: options.timeout, memory_bytes: options.memory_bytes };
        let count = if options.workers == 0 { std::thread::available_parallelism().map_or(1, usize::from) } else { options.workers };
        let (jobs, queue) = channel::<Job>();
        let queue = Arc::new(Mutex::new(queue));
        let workers = (0..count)
            .map(|i| {
                let (queue, fonts) = (queue.clone(), fonts.clone().ok());
                std::thread::Builder::new()
                    .name(format!("vegalake-render-{i}"))
                    .spawn(move || work(&queue, &fonts, limits))
                    .map_err(|e| RenderError::Engine(format!("cannot start a renderer thread: {e}")))
            })
            .collect::<Result<_, _>>()?;
        Ok(Renderer { jobs: Some(jobs), count, workers, fonts })
    }

    /// How many charts it draws at once.
    pub fn workers(&self) -> usize {
        self.count
    }

    /// The versions that decide how a chart draws: vega's, vega-lite's, this
    /// crate's and the fonts' (for fingerprints of outputs).
    pub fn versions(&self) -> String {
        let fonts = self.fonts.as_ref().map_or_else(|e| format!("no fonts ({e})"), Fonts::describe);
        format!("vega {VEGA_VERSION}, vega-lite {VEGA_LITE_VERSION}, vegalake-render {}; fonts: {fonts}", env!("CARGO_PKG_VERSION"))
    }

    /// Starts rendering a Vega spec to SVG at a scale factor.
    pub fn submit_svg(&self, spec: &Json, scale: f64) -> Pending<String> {
        if let Err(e) = self.fonts() {
            return Pending::failed(e);
        }
        let (reply, answer) = channel();
        self.send(Job::Svg { spec: spec.to_string(), scale, reply });
        Pending(answer)
    }

    /// Starts drawing a Vega spec in several formats from one SVG (a PNG at
    /// `scale` pixels per unit), all on the worker: the answers are in the order asked.
    pub fn submit_draw(&self, spec: &Json, formats: &[ImageFormat], scale: f32) -> Pending<Vec<Vec<u8>>> {
        if let Err(e) = self.fonts() {
            return Pending::failed(e);
        }
        let (reply, answer) = channel();
        self.send(Job::Draw { spec: spec.to_string(), formats: formats.to_vec(), scale, reply });
        Pending(answer)
    }

    /// A Vega spec drawn in one format (see [`Renderer::submit_draw`]).
    pub fn draw(&self, spec: &Json, format: ImageFormat, scale: f32) -> Result<Vec<u8>, RenderError> {
        Ok(self.submit_draw(spec, &[format], scale).wait()?.remove(0))
    }

    /// The SVG vega.js draws for a Vega spec (its data inlined: nothing is fetched).
    pub fn svg(&self, spec: &Json) -> Result<String, RenderError> {
        self.submit_svg(spec, 1.0).wait()
    }

    /// A PNG of a Vega spec: its SVG rasterised at `scale` pixels per unit.
    pub fn png(&self, spec: &Json, scale: f32) -> Result<Vec<u8>, RenderError> {
        self.draw(spec, ImageFormat::Png, scale)
    }

    /// A PDF of a Vega spec: its SVG as vector pages, fonts embedded.
    pub fn pdf(&self, spec: &Json) -> Result<Vec<u8>, RenderError> {
        self.draw(spec, ImageFormat::Pdf, 1.0)
    }

    fn fonts(&self) -> Result<&Fonts, RenderError> {
        self.fonts.as_ref().map_err(|e| RenderError::Fonts(e.clone()))
    }

    /// Compiles a Vega-Lite spec to Vega with the pinned compiler.
    pub fn compile_vega_lite(&self, spec: &Json) -> Result<Compiled, RenderError> {
        let (reply, answer) = channel();
        self.send(Job::CompileVegaLite { spec: spec.to_string(), reply });
        let text = Pending(answer).wait()?;
        let mut out: Json = serde_json::from_str(&text).map_err(|e| RenderError::Engine(format!("the compiler's answer: {e}")))?;
        let warnings = out["warnings"].as_array().map(|w| w.iter().filter_map(Json::as_str).map(str::to_string).collect()).unwrap_or_default();
        Ok(Compiled { spec: out["spec"].take(), warnings })
    }

    fn send(&self, job: Job) {
        if let Some(jobs) = &self.jobs {
            // A send fails only when every worker has gone: the answer is then `Stopped`.
            let _ = jobs.send(job);
        }
    }
}

impl Drop for Renderer {
    fn drop(&mut self) {
        self.jobs = None; // workers see the queue close and end
        for w in self.workers.drain(..) {
            let _ = w.join();
        }
    }
}

const VEGA_VERSION: &str = env!("VEGALAKE_VEGA_VERSION");
const VEGA_LITE_VERSION: &str = env!("VEGALAKE_VEGA_LITE_VERSION");

/// A worker: takes jobs until the queue closes; its engine is built on the first
/// job and rebuilt after any failure of vega's.
fn work(queue: &Mutex<Receiver<Job>>, fonts: &Option<Fonts>, limits: Limits) {
    let mut engine: Option<JsEngine> = None;
    loop {
        let job = match queue.lock() {
            Ok(q) => q.recv(),
            Err(_) => return,
        };
        let Ok(job) = job else { return };
        // Runs `f` on the engine (built if needed); an engine that failed is dropped.
        let mut on_engine = |f: &dyn Fn(&JsEngine) -> Result<String, RenderError>| {
            let js = match engine.take() {
                Some(js) => js,
                None => JsEngine::new(fonts.clone(), limits)?,
            };
            let result = f(&js);
            if result.is_ok() {
                engine = Some(js);
            }
            result
        };
        match job {
            Job::Svg { spec, scale, reply } => {
                let _ = reply.send(on_engine(&|js| js.svg(&spec, scale)));
            }
            Job::CompileVegaLite { spec, reply } => {
                let _ = reply.send(on_engine(&|js| js.compile_vega_lite(&spec)));
            }
            Job::Draw { spec, formats, scale, reply } => {
                let svg = on_engine(&|js| js.svg(&spec, 1.0));
                let _ = reply.send(svg.and_then(|svg| formats.iter().map(|f| convert(&svg, *f, scale, fonts)).collect()));
            }
        }
    }
}

/// An SVG in a format.
fn convert(svg: &str, format: ImageFormat, scale: f32, fonts: &Option<Fonts>) -> Result<Vec<u8>, RenderError> {
    let fonts = || fonts.as_ref().ok_or_else(|| RenderError::Fonts("not loaded".into()));
    match format {
        ImageFormat::Svg => Ok(svg.as_bytes().to_vec()),
        ImageFormat::Png => image::png(svg, scale, fonts()?),
        ImageFormat::Pdf => image::pdf(svg, fonts()?),
    }
}
