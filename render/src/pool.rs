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

enum Task {
    Svg { spec: String, scale: f64 },
    CompileVegaLite { spec: String },
}

struct Job {
    task: Task,
    reply: Sender<Result<String, RenderError>>,
}

/// An answer that will arrive: from [`Renderer::submit_svg`].
pub struct Pending(Receiver<Result<String, RenderError>>);

impl Pending {
    /// Waits for the answer.
    pub fn wait(self) -> Result<String, RenderError> {
        self.0.recv().unwrap_or(Err(RenderError::Stopped))
    }
}

/// Renders Vega specs to SVG, PNG and PDF and compiles Vega-Lite, on a pool of
/// vega.js engines (QuickJS). Engines start when first needed; one that failed a
/// chart (a time or memory limit, an exception) is replaced by a fresh one, so a
/// bad chart never affects the next.
pub struct Renderer {
    jobs: Option<Sender<Job>>,
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
        Ok(Renderer { jobs: Some(jobs), workers, fonts })
    }

    /// The versions that decide how a chart draws (for fingerprints of outputs).
    pub fn versions() -> String {
        format!("vega {}, vega-lite {}, vegalake-render {}", VEGA_VERSION, VEGA_LITE_VERSION, env!("CARGO_PKG_VERSION"))
    }

    /// Starts rendering a Vega spec to SVG at a scale factor.
    pub fn submit_svg(&self, spec: &Json, scale: f64) -> Pending {
        if let Err(e) = &self.fonts {
            let (reply, answer) = channel();
            let _ = reply.send(Err(RenderError::Fonts(e.clone())));
            return Pending(answer);
        }
        self.submit(Task::Svg { spec: spec.to_string(), scale })
    }

    /// The SVG vega.js draws for a Vega spec (its data inlined: nothing is fetched).
    pub fn svg(&self, spec: &Json) -> Result<String, RenderError> {
        self.submit_svg(spec, 1.0).wait()
    }

    /// A PNG of a Vega spec: its SVG rasterised at `scale` pixels per unit.
    pub fn png(&self, spec: &Json, scale: f32) -> Result<Vec<u8>, RenderError> {
        self.svg_to_png(&self.svg(spec)?, scale)
    }

    /// A PDF of a Vega spec: its SVG as vector pages, fonts embedded.
    pub fn pdf(&self, spec: &Json) -> Result<Vec<u8>, RenderError> {
        self.svg_to_pdf(&self.svg(spec)?)
    }

    /// Rasterises an SVG this renderer drew (same fonts).
    pub fn svg_to_png(&self, svg: &str, scale: f32) -> Result<Vec<u8>, RenderError> {
        image::png(svg, scale, self.fonts()?)
    }

    /// Converts an SVG this renderer drew to PDF (same fonts).
    pub fn svg_to_pdf(&self, svg: &str) -> Result<Vec<u8>, RenderError> {
        image::pdf(svg, self.fonts()?)
    }

    fn fonts(&self) -> Result<&Fonts, RenderError> {
        self.fonts.as_ref().map_err(|e| RenderError::Fonts(e.clone()))
    }

    /// Compiles a Vega-Lite spec to Vega with the pinned compiler.
    pub fn compile_vega_lite(&self, spec: &Json) -> Result<Compiled, RenderError> {
        let text = self.submit(Task::CompileVegaLite { spec: spec.to_string() }).wait()?;
        let mut out: Json = serde_json::from_str(&text).map_err(|e| RenderError::Engine(format!("the compiler's answer: {e}")))?;
        let warnings = out["warnings"].as_array().map(|w| w.iter().filter_map(Json::as_str).map(str::to_string).collect()).unwrap_or_default();
        Ok(Compiled { spec: out["spec"].take(), warnings })
    }

    fn submit(&self, task: Task) -> Pending {
        let (reply, answer) = channel();
        if let Some(jobs) = &self.jobs {
            // A send fails only when every worker has gone: the answer is then `Stopped`.
            let _ = jobs.send(Job { task, reply });
        }
        Pending(answer)
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
/// job and rebuilt after any failure.
fn work(queue: &Mutex<Receiver<Job>>, fonts: &Option<Fonts>, limits: Limits) {
    let mut engine: Option<JsEngine> = None;
    loop {
        let job = match queue.lock() {
            Ok(q) => q.recv(),
            Err(_) => return,
        };
        let Ok(job) = job else { return };
        let result = match engine.take().map_or_else(|| JsEngine::new(fonts.clone(), limits), Ok) {
            Ok(js) => {
                let result = match &job.task {
                    Task::Svg { spec, scale } => js.svg(spec, *scale),
                    Task::CompileVegaLite { spec } => js.compile_vega_lite(spec),
                };
                if result.is_ok() {
                    engine = Some(js);
                }
                result
            }
            Err(e) => Err(e),
        };
        let _ = job.reply.send(result);
    }
}
