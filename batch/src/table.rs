//! The charts of a batch as the rows of a Delta table: the key columns, the chart
//! id, status, error and fingerprint, the rows it holds, and one column per
//! output format (`spec` for the Vega JSON, `svg` text, `png` and `pdf` bytes).

use crate::draw::Format;
use crate::outputs::ChartRecord;
use crate::BatchError;
use datafusion::arrow::array::{ArrayRef, BinaryArray, Float64Array, Int64Array, StringArray};
use datafusion::arrow::datatypes::{DataType, Field, Schema};
use datafusion::arrow::record_batch::RecordBatch;
use serde_json::Value as Json;
use std::path::Path;
use std::sync::Arc;
use url::Url;
use vegalake_connectors::DataAccess;
use vegalake_render::ImageFormat;

/// Rows per write: each is a version of the table, so memory holds one chunk's images.
const CHUNK: usize = 1000;

/// A `--table` argument as a table URL: `delta+URL`, `URL`, or a local path.
pub fn table_url(arg: &str) -> Result<Url, BatchError> {
    let bare = arg.strip_prefix("delta+").unwrap_or(arg);
    match Url::parse(bare) {
        Ok(url) if url.scheme().len() > 1 => Ok(url),
        _ => {
            let path = std::path::absolute(bare).map_err(|e| BatchError::io(Path::new(bare), e))?;
            Url::from_directory_path(&path).map_err(|_| BatchError::Io { path: bare.into(), message: "not a table path".into() })
        }
    }
}

/// Writes the records (their files read from `dir`) to the Delta table at `url`,
/// replacing its rows. Returns the last version written.
pub async fn write_table(url: &Url, dir: &Path, records: &[ChartRecord], keys: &[String], formats: &[Format], access: &DataAccess) -> Result<u64, BatchError> {
    let ctx = datafusion::prelude::SessionContext::new();
    let fail = |e: vegalake_connectors::error::ConnectorError| BatchError::Io { path: url.to_string(), message: e.to_string() };
    let mut version = 0;
    let chunks: Vec<&[ChartRecord]> = if records.is_empty() { vec![&[]] } else { records.chunks(CHUNK).collect() };
    for (i, chunk) in chunks.into_iter().enumerate() {
        let batch = rows(dir, chunk, keys, formats)?;
        version = vegalake_connectors::delta::write_version(&ctx, url, access, vec![batch], i > 0).await.map_err(fail)?;
    }
    Ok(version)
}

fn rows(dir: &Path, records: &[ChartRecord], keys: &[String], formats: &[Format]) -> Result<RecordBatch, BatchError> {
    let mut fields = Vec::new();
    let mut columns: Vec<ArrayRef> = Vec::new();
    for k in keys {
        let values: Vec<&Json> = records.iter().map(|r| &r.key[k]).collect();
        let (field, column) = key_column(k, &values);
        fields.push(field);
        columns.push(column);
    }
    let text = |f: &dyn Fn(&ChartRecord) -> Option<String>| Arc::new(StringArray::from_iter(records.iter().map(f))) as ArrayRef;
    let mut add = |name: &str, ty: DataType, nullable: bool, column: ArrayRef| {
        fields.push(Field::new(name, ty, nullable));
        columns.push(column);
    };
    add("chart_id", DataType::Utf8, false, text(&|r| Some(r.id.clone())));
    add("status", DataType::Utf8, false, text(&|r| Some(if r.ok() { "ok" } else { "failed" }.into())));
    add("error", DataType::Utf8, true, text(&|r| r.error.clone()));
    add("fingerprint", DataType::Utf8, false, text(&|r| Some(r.fingerprint.clone())));
    add("rows", DataType::Int64, false, Arc::new(Int64Array::from_iter_values(records.iter().map(|r| r.rows as i64))));
    add("source_rows", DataType::Int64, false, Arc::new(Int64Array::from_iter_values(records.iter().map(|r| r.source_rows as i64))));
    for format in formats {
        let read = |r: &ChartRecord| -> Result<Option<Vec<u8>>, BatchError> {
            let name = format!("{}.{}", r.id, format.extension());
            if !r.files.contains(&name) {
                return Ok(None);
            }
            std::fs::read(dir.join(&name)).map(Some).map_err(|e| BatchError::io(&dir.join(&name), e))
        };
        let contents = records.iter().map(read).collect::<Result<Vec<_>, _>>()?;
        match format {
            Format::Vega | Format::Image(ImageFormat::Svg) => {
                let name = if *format == Format::Vega { "spec" } else { "svg" };
                let strings = contents.into_iter().map(|c| c.map(|b| String::from_utf8_lossy(&b).into_owned()));
                add(name, DataType::Utf8, true, Arc::new(StringArray::from_iter(strings)));
            }
            Format::Image(image) => {
                let bytes = BinaryArray::from_iter(contents.iter().map(|c| c.as_deref()));
                add(image.extension(), DataType::Binary, true, Arc::new(bytes));
            }
        }
    }
    RecordBatch::try_new(Arc::new(Schema::new(fields)), columns).map_err(|e| BatchError::Io { path: "table rows".into(), message: e.to_string() })
}

/// A key column, typed by its values: numbers, else text (JSON text for the rest).
fn key_column(name: &str, values: &[&Json]) -> (Field, ArrayRef) {
    if !values.is_empty() && values.iter().all(|v| v.is_number() || v.is_null()) {
        let column = Float64Array::from_iter(values.iter().map(|v| v.as_f64()));
        return (Field::new(name, DataType::Float64, true), Arc::new(column));
    }
    let column = StringArray::from_iter(values.iter().map(|v| match v {
        Json::Null => None,
        Json::String(s) => Some(s.clone()),
        other => Some(other.to_string()),
    }));
    (Field::new(name, DataType::Utf8, true), Arc::new(column))
}
