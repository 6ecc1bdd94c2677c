//! Where vegalake's data comes from: a `data` entry's inline `values` or `url`,
//! loaded as vega.js would load it (formats, `format.parse`, type inference) into a
//! DataFusion logical plan whose columns have the normalized types of
//! `vegalake_sql_gen::VType` (numbers `Float64`, dates `Timestamp(ms)`, strings
//! `Utf8`, booleans).
//!
//! URLs name files and tables on object stores ([`location`]), checked against
//! what the process may read ([`access`]), through stores built in one place
//! ([`store`]); Parquet datasets and Delta tables are scans that filters and
//! projections reach ([`source`]); [`metrics`] reports what a query's scans read.
//!
//! Data parsed in memory carries a hidden row-order column (see [`ROW`]); table
//! scans do not, so order-dependent transforms over them stay on the client.

pub mod access;
pub mod catalog;
mod cell;
pub mod delta;
pub mod error;
pub mod file_list;
pub mod format;
pub mod location;
pub mod memory;
pub mod metrics;
mod nested;
pub mod source;
pub mod store;
mod topojson;
pub mod warehouse;

pub use access::{DataAccess, ForbiddenFiles};
pub use catalog::Catalog;
pub use cell::{Cell, Table};
pub use delta::DeltaVersionTable;
pub use error::{ConnectorError, Result};
pub use file_list::{FileListTable, FileListing, ListedFile};
pub use memory::{MemoryTable, MemoryTables};
pub use metrics::ScanMetrics;
pub use source::{Loaded, Source, TableStats};
pub use warehouse::{Warehouse, WarehouseTable, WarehouseTables};

use datafusion::arrow::array::{ArrayRef, Int64Array, RecordBatch};
use datafusion::arrow::compute::cast;
use datafusion::arrow::datatypes::{DataType, Field, Schema, TimeUnit};
use datafusion::logical_expr::{cast as cast_expr, Expr, LogicalPlan, LogicalPlanBuilder};
use datafusion::prelude::SessionContext;
use serde_json::{Map, Value as Json};
use std::path::Path;
use std::sync::Arc;
use vegalake_planner::values::time::Zone;
use vegalake_planner::Data;

/// The hidden column with each row's input position.
pub const ROW: &str = "__vl_row";

/// Where and how data is read.
#[derive(Debug, Clone)]
pub struct SourceOptions {
    /// What may be read, and how names resolve.
    pub access: DataAccess,
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
        if f.name() == ROW {
            exprs.push(Expr::Column(datafusion::common::Column::new_unqualified(ROW)));
            continue;
        }
        let dt = normalized_type(f.data_type()).ok_or_else(|| unsupported_type(f.name(), f.data_type()))?;
        let c = Expr::Column(datafusion::common::Column::new_unqualified(f.name()));
        exprs.push(if &dt == f.data_type() { c } else { cast_expr(c, dt).alias(f.name()) });
    }
    Ok(LogicalPlanBuilder::from(plan).project(exprs)?.build()?)
}

/// The format type of a file: `format.type`, else the URL's extension, else JSON.
/// A directory (a URL ending in `/`) is a Parquet dataset.
pub(crate) fn format_type(declared: Option<&str>, path: &str) -> String {
    let ext = Path::new(path).extension().and_then(|e| e.to_str()).unwrap_or("");
    if path.ends_with('/') && matches!(declared, None | Some("json")) {
        return "parquet".to_string();
    }
    if let Some(t) = declared {
        // Vega-Lite writes "json" for any URL without an extension; a known binary
        // extension is the better witness.
        if t == "json" && matches!(ext, "parquet" | "arrow") {
            return ext.to_string();
        }
        return t.to_string();
    }
    match ext {
        "csv" | "tsv" | "arrow" | "parquet" => ext.to_string(),
        _ => "json".to_string(),
    }
}

/// A data entry's `format` object (empty when absent).
fn format_of(data: &Data) -> Result<Map<String, Json>> {
    let format: Map<String, Json> = match &data.format {
        None => Map::new(),
        Some(Json::Object(f)) => f.clone(),
        Some(other) => return Err(ConnectorError::Invalid(format!("format must be an object, got {other}"))),
    };
    if format.values().any(|v| v.get("signal").is_some()) {
        return Err(ConnectorError::Unsupported("a format that depends on signals".into()));
    }
    Ok(format)
}

/// Opens a data entry's `url` (`None` when it has none): resolves, checks and
/// identifies it, without reading data.
pub async fn open(ctx: &SessionContext, data: &Data, opts: &SourceOptions) -> Result<Option<Source>> {
    if data.values.is_some() {
        return Ok(None);
    }
    let format = format_of(data)?;
    match &data.url {
        None => Ok(None),
        Some(Json::String(u)) => Ok(Some(Source::open(ctx, u, format.get("type").and_then(Json::as_str), &opts.access).await?)),
        Some(_) => Err(ConnectorError::Unsupported("a url computed from signals".into())),
    }
}

/// Whether vega.js would load `data`'s URL itself: a file in one of its loader's
/// formats, not a lake table, a catalog name or an in-memory frame. A dataset the
/// server may not read is then left to the browser instead of failing the chart.
pub fn browser_loads(data: &Data) -> bool {
    let Some(Json::String(url)) = &data.url else { return false };
    let Ok(location) = location::Location::parse(url) else { return false };
    if location.format.is_some() || matches!(location.target, location::Target::Named(_)) || memory::memory_name(url).is_some() {
        return false;
    }
    let declared = data.format.as_ref().and_then(|f| f.get("type")).and_then(Json::as_str);
    let path = url.split(['?', '#']).next().unwrap_or(url);
    matches!(format_type(declared, path).as_str(), "json" | "csv" | "tsv" | "dsv" | "topojson")
}

/// Loads a data entry's own data (`values`, or its opened `source`) as a plan;
/// `None` when the entry has neither (it derives from `source`, or is empty).
pub async fn load(ctx: &SessionContext, data: &Data, source: Option<&Source>, opts: &SourceOptions) -> Result<Option<Loaded>> {
    let format = format_of(data)?;
    let table = match (&data.values, source) {
        (Some(v), _) => {
            if v.get("signal").is_some() {
                return Err(ConnectorError::Unsupported("values computed from signals".into()));
            }
            let ty = format.get("type").and_then(Json::as_str).unwrap_or("json");
            if ty != "json" {
                return Err(ConnectorError::Unsupported(format!("inline values of format '{ty}'")));
            }
            format::json_values(v.clone(), &format)?
        }
        (None, Some(source)) => match source.file_format() {
            None => {
                let loaded = source.scan_table(ctx, &opts.access).await?;
                return Ok(Some(Loaded { plan: normalize_plan(loaded.plan)?, table: loaded.table }));
            }
            Some("arrow") => {
                let bytes = source.read_bytes(ctx, &opts.access).await?;
                return Ok(Some(Loaded { plan: load_arrow(ctx, bytes)?, table: None }));
            }
            Some(ty) => {
                let bytes = source.read_bytes(ctx, &opts.access).await?;
                let text = String::from_utf8(bytes.to_vec()).map_err(|_| ConnectorError::Invalid(format!("{ty} data is not UTF-8 text")))?;
                read_text_table(&text, ty, &format)?
            }
        },
        (None, None) => return Ok(None),
    };
    let mut table = table;
    format::apply_parse(&mut table, format.get("parse"), opts.zone)?;
    let batch = table.into_batch(ROW)?;
    Ok(Some(Loaded { plan: ctx.read_batch(batch)?.into_unoptimized_plan(), table: None }))
}

fn read_text_table(text: &str, ty: &str, format: &Map<String, Json>) -> Result<Table> {
    let header: Option<Vec<String>> = format.get("header").and_then(Json::as_array).map(|h| h.iter().filter_map(|v| v.as_str().map(str::to_string)).collect());
    match ty {
        "json" => format::read_json(text, format),
        "csv" => format::read_dsv(text, b',', header.as_deref()),
        "tsv" => format::read_dsv(text, b'\t', header.as_deref()),
        "dsv" => {
            let d = format.get("delimiter").and_then(Json::as_str).unwrap_or("");
            if d.len() != 1 {
                return Err(ConnectorError::Invalid(format!("dsv delimiter must be one character, got {d:?}")));
            }
            format::read_dsv(text, d.as_bytes()[0], header.as_deref())
        }
        "topojson" => format::inline_values(topojson::features(text, format)?),
        other => Err(ConnectorError::Invalid(format!("unknown data format type '{other}'"))),
    }
}

fn load_arrow(ctx: &SessionContext, bytes: bytes::Bytes) -> Result<LogicalPlan> {
    let reader = datafusion::arrow::ipc::reader::FileReader::try_new(std::io::Cursor::new(bytes), None).map_err(datafusion::error::DataFusionError::from)?;
    let schema = reader.schema();
    let batches = reader.collect::<std::result::Result<Vec<_>, _>>().map_err(datafusion::error::DataFusionError::from)?;
    let batch = normalize_batches(batches, &schema)?;
    Ok(ctx.read_batch(batch)?.into_unoptimized_plan())
}
