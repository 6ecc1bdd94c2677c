//! `vegalake batch`: one chart per key, from one template, in one pass.

use crate::progress::ProgressArg;
use crate::render::DrawArgs;
use crate::{spec, DataArgs, EngineArgs, Failure};
use std::path::PathBuf;
use std::process::ExitCode;
use vegalake_batch::{draw_all, evaluate, BatchError, BatchOptions, Destination, Format, Outputs, Partitioned, TemplateOptions};
use vegalake_executors::ChartOptions;

#[derive(clap::Args)]
pub struct BatchArgs {
    /// The template: a Vega or Vega-Lite spec whose data is read from the source.
    #[arg(long)]
    template: PathBuf,
    /// The key columns (comma-separated): one chart per distinct combination.
    #[arg(long, value_delimiter = ',', required = true)]
    by: Vec<String>,
    /// The data, replacing the template's data URL: a file or Parquet dataset, a
    /// Delta table (delta+URL), or a catalog table (table:NAME).
    #[arg(long)]
    source: Option<String>,
    /// The template's dataset that reads the source (default: its one dataset with a URL).
    #[arg(long)]
    dataset: Option<String>,
    /// Keep the source rows for which this Vega expression is true (`datum.year >= 2020`).
    #[arg(long = "where", value_name = "EXPR")]
    where_: Option<String>,
    /// Output formats of each chart (comma-separated): vega, svg, png, pdf.
    #[arg(long, value_delimiter = ',', default_value = "vega,png")]
    formats: Vec<String>,
    /// The output directory (default, with --table: a temporary one).
    #[arg(long)]
    out: Option<PathBuf>,
    /// Also write the charts as the rows of a Delta table (delta+URL or a path),
    /// replacing its rows: key columns, chart_id, status, error, fingerprint, rows,
    /// and one column per format (spec, svg, png, pdf).
    #[arg(long, value_name = "TABLE")]
    table: Option<String>,
    /// Skip the charts a previous run into --out finished with the same fingerprint
    /// (spec, formats, renderer and font versions).
    #[arg(long)]
    resume: bool,
    /// Stop once more charts than this have failed (default: never stop).
    #[arg(long, value_name = "N")]
    max_failures: Option<usize>,
    /// A chart holding more data rows than this fails.
    #[arg(long, value_name = "ROWS")]
    row_limit: Option<usize>,
    /// How to report progress: bars (on a terminal), jsonl (on stderr), none.
    #[arg(long, default_value = "bars")]
    progress: ProgressArg,
    /// Print the template as rewritten for all keys (the one Vega spec evaluated) and stop.
    #[arg(long)]
    print_template: bool,
    #[command(flatten)]
    pub data: DataArgs,
    #[command(flatten)]
    engine: EngineArgs,
    #[command(flatten)]
    draw: DrawArgs,
}

pub async fn run(args: &BatchArgs) -> Result<ExitCode, Failure> {
    let formats = args.formats.iter().map(|f| Format::parse(f)).collect::<Result<Vec<_>, _>>().map_err(|e| Failure(format!("--formats: {e}")))?;
    let renderer = args.draw.renderer()?;
    let template = spec::read_vega_json(&args.template)?;
    let place = |e: BatchError| Failure(format!("{}: {e}", args.template.display()));
    let o = TemplateOptions { keys: args.by.clone(), source: args.source.clone(), dataset: args.dataset.clone(), where_: args.where_.clone() };
    let partitioned = Partitioned::new(&template, &o).map_err(place)?;
    if args.print_template {
        println!("{}", partitioned.spec);
        return Ok(ExitCode::SUCCESS);
    }
    let destination = Destination::new(args.out.clone(), args.table.as_deref()).map_err(|e| Failure(format!("--out, --table: {e}")))?;
    let staging = destination.dir();
    let (zone, data) = args.data.access(&args.template)?;
    let options = ChartOptions { zone, data: data.clone(), ..ChartOptions::default() };
    let progress = args.progress.reporter();
    let charts = evaluate(args.engine.runtime().await?, &partitioned, options, progress.as_ref()).await.map_err(place)?.charts;
    let mut outputs = Outputs::open(staging, args.resume).map_err(|e| Failure(e.to_string()))?;
    let o = BatchOptions { formats: formats.clone(), scale: args.draw.scale, row_limit: args.row_limit, max_failures: args.max_failures };
    let drawn = tokio::task::block_in_place(|| draw_all(&charts, renderer, &mut outputs, &o, progress.as_ref()));
    let summary = match drawn {
        Ok(s) => Some(s),
        Err(e @ BatchError::TooManyFailures(_)) => {
            eprintln!("vegalake: {e} (see {})", staging.join("errors.jsonl").display());
            None
        }
        Err(e) => return Err(Failure(e.to_string())),
    };
    let version = destination.finish(&outputs, charts.key_names(), &formats, &data).await.map_err(|e| Failure(format!("--table: {e}")))?;
    if let (Some(url), Some(version)) = (destination.table(), version) {
        eprintln!("vegalake: {} charts written to {url} (version {version})", outputs.records().len());
    }
    let Some(summary) = summary else { return Ok(ExitCode::from(2)) };
    let gallery = destination.out().map(|dir| format!("; {}", dir.join("index.html").display())).unwrap_or_default();
    eprintln!("vegalake: {} charts: {} drawn, {} kept from a previous run, {} failed{gallery}", summary.charts, summary.drawn, summary.reused, summary.failed);
    Ok(if summary.failed > 0 { ExitCode::from(2) } else { ExitCode::SUCCESS })
}
