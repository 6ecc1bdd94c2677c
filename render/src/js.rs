//! One QuickJS instance running the pinned vega and vega-lite builds.

use crate::{Fonts, RenderError};
use rquickjs::{CatchResultExt, CaughtError, Context, Ctx, Function, Object, Promise, Runtime};
use std::cell::RefCell;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

const PRELUDE: &str = include_str!("../js/prelude.js");
const VEGA: &str = include_str!(env!("VEGALAKE_VEGA_JS"));
const VEGA_LITE: &str = include_str!(env!("VEGALAKE_VEGA_LITE_JS"));
const ENTRY: &str = include_str!("../js/entry.js");

/// Widths remembered per instance; cleared when it grows past this (axis labels
/// repeat across charts, so most lookups hit).
const WIDTH_CACHE_ENTRIES: usize = 100_000;

/// Limits of one instance.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Limits {
    pub time: Duration,
    pub memory_bytes: usize,
}

/// A QuickJS runtime with vega loaded. Not `Send`: each pool worker owns one.
pub(crate) struct JsEngine {
    // Field order matters: the context must drop before its runtime.
    context: Context,
    _runtime: Runtime,
    deadline: Arc<Mutex<Option<Instant>>>,
    limits: Limits,
}

impl JsEngine {
    pub fn new(fonts: Option<Fonts>, limits: Limits) -> Result<Self, RenderError> {
        let engine_error = |e: rquickjs::Error| RenderError::Engine(e.to_string());
        let runtime = Runtime::new().map_err(engine_error)?;
        let deadline: Arc<Mutex<Option<Instant>>> = Arc::default();
        let watched = deadline.clone();
        runtime.set_interrupt_handler(Some(Box::new(move || watched.lock().ok().and_then(|d| *d).is_some_and(|d| Instant::now() > d))));
        let context = Context::full(&runtime).map_err(engine_error)?;
        context.with(|ctx| -> Result<(), RenderError> {
            let load = |ctx: &Ctx<'_>, name: &str, source: &str| {
                ctx.eval::<(), _>(source).catch(ctx).map_err(|e| RenderError::Engine(format!("loading {name}: {}", message(e))))
            };
            install_host_functions(&ctx, fonts).map_err(engine_error)?;
            load(&ctx, "the prelude", PRELUDE)?;
            load(&ctx, "vega", VEGA)?;
            load(&ctx, "vega-lite", VEGA_LITE)?;
            load(&ctx, "the entry points", ENTRY)
        })?;
        // Loading vega takes what it takes; the limit applies to each chart after.
        runtime.set_memory_limit(limits.memory_bytes);
        Ok(JsEngine { context, _runtime: runtime, deadline, limits })
    }

    /// The SVG vega.js draws for a Vega spec (JSON text) at a scale factor.
    pub fn svg(&self, spec: &str, scale: f64) -> Result<String, RenderError> {
        self.run(|ctx, api| {
            let promise: Promise = api.get::<_, Function>("svg")?.call((spec, scale))?;
            drive(ctx, &promise)?;
            promise.result::<String>().unwrap_or(Err(rquickjs::Error::Exception))
        })
    }

    /// The Vega spec (JSON text) and the warnings the pinned Vega-Lite compiler gives.
    pub fn compile_vega_lite(&self, spec: &str) -> Result<String, RenderError> {
        self.run(|_, api| api.get::<_, Function>("compileVegaLite")?.call((spec,)))
    }

    /// Runs `f` under the time limit and turns what JavaScript threw into an error.
    fn run<T>(&self, f: impl for<'js> FnOnce(&Ctx<'js>, Object<'js>) -> rquickjs::Result<T>) -> Result<T, RenderError> {
        let start = Instant::now();
        self.set_deadline(Some(start + self.limits.time));
        let result = self.context.with(|ctx| {
            let api: Object = ctx.globals().get("__vegalake").catch(&ctx).map_err(message)?;
            f(&ctx, api).catch(&ctx).map_err(message)
        });
        self.set_deadline(None);
        result.map_err(|m| {
            if start.elapsed() >= self.limits.time && m.contains("interrupted") {
                RenderError::Timeout(self.limits.time)
            } else if m.contains("out of memory") {
                RenderError::Memory(self.limits.memory_bytes >> 20)
            } else {
                RenderError::Spec(m)
            }
        })
    }

    fn set_deadline(&self, at: Option<Instant>) {
        if let Ok(mut d) = self.deadline.lock() {
            *d = at;
        }
    }
}

/// Runs promise jobs, then due timers, until the promise settles.
fn drive<'js>(ctx: &Ctx<'js>, promise: &Promise<'js>) -> rquickjs::Result<()> {
    let fire: Function = ctx.globals().get("__vegalakeFireTimer")?;
    while promise.result::<rquickjs::Value>().is_none() {
        if ctx.execute_pending_job() {
            continue;
        }
        if !fire.call::<_, bool>(())? {
            return Err(rquickjs::Error::new_from_js_message("promise", "result", "vega stopped with its promise unsettled"));
        }
    }
    Ok(())
}

/// The functions vega's JavaScript calls back: text widths and logging.
fn install_host_functions(ctx: &Ctx<'_>, fonts: Option<Fonts>) -> rquickjs::Result<()> {
    let cache: RefCell<HashMap<String, f64>> = RefCell::default();
    let measure = move |family: String, size: f64, weight: String, style: String, text: String| -> f64 {
        let key = format!("{style}\u{1}{weight}\u{1}{size}\u{1}{family}\u{1}{text}");
        if let Some(w) = cache.borrow().get(&key) {
            return *w;
        }
        // Without fonts nothing is drawn (the pool refuses), only compiled.
        let width = fonts.as_ref().map_or(0.0, |f| f.text_width(&family, size, &weight, &style, &text));
        let mut cache = cache.borrow_mut();
        if cache.len() >= WIDTH_CACHE_ENTRIES {
            cache.clear();
        }
        cache.insert(key, width);
        width
    };
    let globals = ctx.globals();
    globals.set("__vegalakeMeasure", Function::new(ctx.clone(), measure)?)?;
    globals.set("__vegalakeLog", Function::new(ctx.clone(), |line: String| log::info!(target: "vegalake::render", "vega: {line}"))?)?;
    Ok(())
}

/// The one-line message of what JavaScript threw.
fn message(e: CaughtError<'_>) -> String {
    match e {
        CaughtError::Exception(e) => e.message().unwrap_or_else(|| e.to_string()),
        CaughtError::Value(v) => v.as_string().and_then(|s| s.to_string().ok()).unwrap_or_else(|| format!("{v:?}")),
        CaughtError::Error(e) => e.to_string(),
    }
}
