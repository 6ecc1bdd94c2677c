//! Where vegalake's data comes from: a `data` entry's inline `values` or `url`,
//! loaded as vega.js would load it (formats, `format.parse`, type inference) into a
//! DataFusion logical plan whose columns have the normalized types of
//! `vegalake_sql_gen::VType` (numbers `Float64`, dates `Timestamp(ms)`, strings
//! `Utf8`, booleans).
//!
//! Data parsed in memory carries a hidden row-order column (see [`ROW`]); Parquet
//! scans do not, so order-dependent transforms over them stay on the client.

mod cell;
pub mod error;
pub mod format;

pub use cell::{Cell, Table};
pub use error::{ConnectorError, Result};

use datafusion::arrow::array::{ArrayRef, Int64Array, RecordBatch};
use datafusion::arrow::compute::cast;
use datafusion::arrow::datatypes::{DataType, Field, Schema, TimeUnit};
use datafusion::logical_expr::{cast as cast_expr, Expr, LogicalPlan, LogicalPlanBuilder};
use datafusion::prelude::{ParquetReadOptions, SessionContext};
use serde_json::{Map, Value as Json};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use vegalake_planner::values::time::Zone;
use vegalake_planner::Data;

/// The hidden column with each row's input position.
pub const ROW: &str = "__vl_row";

/// Where and how data is read.
#[derive(Debug, Clone)]
pub struct SourceOptions {
    /// Relative URLs resolve against this directory, and no file outside it is read.
    pub data_dir: PathBuf,
    /// The zone of local-time parsing (`format.parse` dates).
    pub zone: Zone,
}

/// The normalized type of a column of a given Arrow type, or `None` if unsupported.
pub fn normalized_type(dt: &DataType) -> Option<DataType> {
    Some(match dt {
        DataType::Int8 | DataType::Int16 | DataType::Int32 | DataType::Int64 => DataType::Float64,
        DataType::UInt8 | DataType::UInt16 | DataType::UInt32 | DataType::UInt64 => DataType::Float64,
        DataType::Float16 | DataType::Float32 | DataType::Float64 | DataType::Decimal128(..) | DataType::Decimal256(..) => DataType::Float64,
        DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View => DataType::Utf8,
        DataType::Dictionary(_, v) if matches!(**v, DataType::Utf8 | DataType::LargeUtf8) => DataType::Utf8,
        DataType::Boolean => DataType::Boolean,
        DataType::Timestamp(..) | DataType::Date32 | DataType::Date64 => DataType::Timestamp(TimeUnit::Millisecond, None),
        DataType::Null => DataType::Float64,
        _ => return None,
    })
}

fn unsupported_type(name: &str, dt: &DataType) -> ConnectorError {
    ConnectorError::Unsupported(format!("field '{name}' has type {dt}, which the server does not evaluate"))
}

/// Casts every column of in-memory batches to its normalized type and appends [`ROW`].
fn normalize_batches(batches: Vec<RecordBatch>, schema: &Schema) -> Result<RecordBatch> {
    let mut fields = Vec::new();
    for f in schema.fields() {
        let dt = normalized_type(f.data_type()).ok_or_else(|| unsupported_type(f.name(), f.data_type()))?;
        fields.push(Field::new(f.name(), dt, true));
    }
    fields.push(Field::new(ROW, DataType::Int64, false));
    let out_schema = Arc::new(Schema::new(fields));
    let batch = datafusion::arrow::compute::concat_batches(&Arc::new(schema.clone()), &batches).map_err(datafusion::error::DataFusionError::from)?;
    let mut columns: Vec<ArrayRef> = Vec::new();
    for (i, f) in out_schema.fields().iter().take(schema.fields().len()).enumerate() {
        columns.push(cast(batch.column(i), f.data_type()).map_err(datafusion::error::DataFusionError::from)?);
    }
    columns.push(Arc::new(Int64Array::from_iter_values(0..batch.num_rows() as i64)));
    Ok(RecordBatch::try_new(out_schema, columns).map_err(datafusion::error::DataFusionError::from)?)
}

/// A projection that casts a scan's columns to their normalized types.
fn normalize_plan(plan: LogicalPlan) -> Result<LogicalPlan> {
    let mut exprs: Vec<Expr> = Vec::new();
    for f in plan.schema().fields() {
        let dt = normalized_type(f.data_type()).ok_or_else(|| unsupported_type(f.name(), f.data_type()))?;
        let c = Expr::Column(datafusion::common::Column::new_unqualified(f.name()));
        exprs.push(if &dt == f.data_type() { c } else { cast_expr(c, dt).alias(f.name()) });
    }
    Ok(LogicalPlanBuilder::from(plan).project(exprs)?.build()?)
}

/// Resolves a data URL to a file inside the data directory.
pub fn resolve_path(url: &str, data_dir: &Path) -> Result<PathBuf> {
    if url.contains("://") && !url.starts_with("file://") {
        return Err(ConnectorError::Unsupported(format!("url '{url}': only files under the data directory are read on the server")));
    }
    let rel = url.strip_prefix("file://").unwrap_or(url);
    let root = data_dir.canonicalize().map_err(|e| ConnectorError::Io { path: data_dir.display().to_string(), source: e })?;
    let path = root.join(rel);
    let canonical = path.canonicalize().map_err(|e| ConnectorError::Io { path: path.display().to_string(), source: e })?;
    if !canonical.starts_with(&root) {
        return Err(ConnectorError::Invalid(format!("url '{url}' is outside the data directory {}", root.display())));
    }
    Ok(canonical)
}

/// The format type of a data entry: `format.type`, else the URL's extension, else JSON.
fn format_type(format: &Map<String, Json>, url: Option<&str>) -> String {
    if let Some(t) = format.get("type").and_then(Json::as_str) {
        // Vega-Lite writes "json" for any URL without an extension; a known binary
        // extension is the better witness.
        let ext = url.and_then(|u| Path::new(u).extension()).and_then(|e| e.to_str()).unwrap_or("");
        if t == "json" && matches!(ext, "parquet" | "arrow") {
            return ext.to_string();
        }
        return t.to_string();
    }
    let ext = url.and_then(|u| Path::new(u).extension()).and_then(|e| e.to_str()).unwrap_or("json");
    match ext {
        "csv" | "tsv" | "arrow" | "parquet" => ext.to_string(),
        _ => "json".to_string(),
    }
}

/// Loads a data entry's own data (`values` or `url`) as a plan; `None` when the
/// entry has neither (it derives from `source`, or is empty).
pub async fn load(ctx: &SessionContext, data: &Data, opts: &SourceOptions) -> Result<Option<LogicalPlan>> {
    let format: Map<String, Json> = match &data.format {
        None => Map::new(),
        Some(Json::Object(f)) => f.clone(),
        Some(other) => return Err(ConnectorError::Invalid(format!("format must be an object, got {other}"))),
    };
    if format.values().any(|v| v.get("signal").is_some()) {
        return Err(ConnectorError::Unsupported("a format that depends on signals".into()));
    }
    let url = match &data.url {
        None => None,
        Some(Json::String(u)) => Some(u.as_str()),
        Some(_) => return Err(ConnectorError::Unsupported("a url computed from signals".into())),
    };
    let ty = format_type(&format, url);
    let table = match (&data.values, url) {
        (Some(v), _) => {
            if v.get("signal").is_some() {
                return Err(ConnectorError::Unsupported("values computed from signals".into()));
            }
            if ty != "json" {
                return Err(ConnectorError::Unsupported(format!("inline values of format '{ty}'")));
            }
            format::json_values(v.clone(), &format)?
        }
        (None, Some(u)) => {
            let path = resolve_path(u, &opts.data_dir)?;
            match ty.as_str() {
                "parquet" => return load_parquet(ctx, &path).await.map(Some),
                "arrow" => return load_arrow(ctx, &path).map(Some),
                _ => read_text_table(&path, &ty, &format)?,
            }
        }
        (None, None) => return Ok(None),
    };
    let mut table = table;
    format::apply_parse(&mut table, format.get("parse"), opts.zone)?;
    let batch = table.into_batch(ROW)?;
    Ok(Some(ctx.read_batch(batch)?.into_unoptimized_plan()))
}

fn read_text_table(path: &Path, ty: &str, format: &Map<String, Json>) -> Result<Table> {
    let text = std::fs::read_to_string(path).map_err(|e| ConnectorError::Io { path: path.display().to_string(), source: e })?;
    let header: Option<Vec<String>> = format.get("header").and_then(Json::as_array).map(|h| h.iter().filter_map(|v| v.as_str().map(str::to_string)).collect());
    match ty {
        "json" => format::read_json(&text, format),
        "csv" => format::read_dsv(&text, b',', header.as_deref()),
        "tsv" => format::read_dsv(&text, b'\t', header.as_deref()),
        "dsv" => {
            let d = format.get("delimiter").and_then(Json::as_str).unwrap_or("");
            if d.len() != 1 {
                return Err(ConnectorError::Invalid(format!("dsv delimiter must be one character, got {d:?}")));
            }
            format::read_dsv(&text, d.as_bytes()[0], header.as_deref())
        }
        "topojson" => Err(ConnectorError::Unsupported("topojson data is read on the client".into())),
        other => Err(ConnectorError::Invalid(format!("unknown data format type '{other}'"))),
    }
}

fn load_arrow(ctx: &SessionContext, path: &Path) -> Result<LogicalPlan> {
    let file = std::fs::File::open(path).map_err(|e| ConnectorError::Io { path: path.display().to_string(), source: e })?;
    let reader = datafusion::arrow::ipc::reader::FileReader::try_new(file, None).map_err(datafusion::error::DataFusionError::from)?;
    let schema = reader.schema();
    let batches = reader.collect::<std::result::Result<Vec<_>, _>>().map_err(datafusion::error::DataFusionError::from)?;
    let batch = normalize_batches(batches, &schema)?;
    Ok(ctx.read_batch(batch)?.into_unoptimized_plan())
}

async fn load_parquet(ctx: &SessionContext, path: &Path) -> Result<LogicalPlan> {
    let path_str = path.to_str().ok_or_else(|| ConnectorError::Invalid(format!("path {} is not UTF-8", path.display())))?;
    let df = ctx.read_parquet(path_str, ParquetReadOptions::default()).await?;
    normalize_plan(df.into_unoptimized_plan())
}
