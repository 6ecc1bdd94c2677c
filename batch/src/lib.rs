//! `vegalake batch`: one chart per key of a table, from one template, in one pass.
//!
//! The template (a Vega spec; the CLI compiles Vega-Lite first) is rewritten once
//! so that every dataset derived from its source carries the key columns
//! ([`template`]): groupings gain the keys, a bin's extent becomes each key's own.
//! One evaluation then computes the data of every key — one query per dataset on
//! whatever engine runs it, never one per key — and [`split`] cuts the result into
//! one client spec per key, each equal to the template evaluated on that key's rows
//! alone. [`draw_all`] renders them on the renderer's pool and writes each chart, its
//! manifest row and a gallery ([`outputs`]).

mod destination;
mod draw;
mod error;
pub mod outputs;
pub mod split;
pub mod table;
pub mod template;

pub use destination::Destination;
pub use draw::{draw_all, BatchOptions, Format, Progress, Silent, Summary};
pub use error::BatchError;
pub use outputs::{ChartRecord, Outputs};
pub use split::Charts;
pub use template::{Partitioned, TemplateOptions};

use std::sync::Arc;
use vegalake_executors::{ChartOptions, ChartState, DatasetScan, Interactivity, Runtime};

/// The one evaluation of a batch: every key's chart, and what each dataset's
/// queries scanned (how many ran, where).
pub struct Evaluation {
    pub charts: Charts,
    pub scans: Vec<DatasetScan>,
}

/// Evaluates a partitioned template once, for every key, and cuts the result into
/// per-key charts. Images are static: every transform the server can run, it runs.
pub async fn evaluate(runtime: Arc<Runtime>, template: &Partitioned, options: ChartOptions, progress: &dyn Progress) -> Result<Evaluation, BatchError> {
    let spec: vegalake_planner::Spec = serde_json::from_value(template.spec.clone()).map_err(|e| BatchError::Template(format!("not a Vega spec: {e}")))?;
    let options = ChartOptions { interactivity: Interactivity::Static, row_limit: None, browser_rows: None, ..options };
    progress.start("query", None);
    let state = ChartState::open(runtime, &spec, options).await?;
    progress.finish();
    progress.start("split", None);
    let client = serde_json::to_value(state.client_spec()).map_err(|e| BatchError::Template(format!("the evaluated spec: {e}")))?;
    // Why the keys stay in the browser, if they do (an unknown field in `--by`):
    // the source's reason first, the root cause (and not an internal name).
    let reason_of = |name: &str| state.datasets().iter().find(|d| d.dataset == name).and_then(|d| d.reason.clone());
    let keys_reason = reason_of(template::SOURCE_DATASET).or_else(|| reason_of(template::KEYS_DATASET));
    let charts = Charts::new(client, template, keys_reason.as_deref())?;
    progress.finish();
    Ok(Evaluation { charts, scans: state.scans().to_vec() })
}
