//! Datasets as Arrow IPC streams: the `ARROW` encoding of `vegalake.v1`.
//!
//! A dataset is an array of rows, JSON objects as vega holds them. Each field
//! becomes a column: whole numbers `Int64`, other numbers `Float64` (with
//! `"NaN"`, `"Infinity"` and `"-Infinity"`, how vegalake's JSON writes the
//! numbers JSON cannot hold), strings `Utf8`, booleans `Boolean`, and anything
//! else (objects, arrays, mixed types) `Utf8` holding each cell's JSON text,
//! marked with [`JSON_METADATA`]. A field some rows lack is marked with
//! [`UNDEFINED_METADATA`]: there a null cell is a missing field (vega's
//! `undefined`, which computes differently from `null`); a field both missing
//! and `null` in places is a JSON column whose `null`s are the text `null`.
//! Decoding gives back the same rows, so either encoding answers the same values.
//!
//! ```
//! use serde_json::json;
//! use vegalake_proto::arrow_rows::{ipc_to_rows, rows_to_ipc};
//! let rows = json!([{"a": 1, "b": "x"}, {"a": 2.5, "c": [1, 2]}]);
//! let ipc = rows_to_ipc(rows.as_array().unwrap()).unwrap();
//! assert_eq!(ipc_to_rows(&ipc, 100).unwrap(), *rows.as_array().unwrap());
//! ```

use arrow_array::cast::AsArray;
use arrow_array::types::*;
use arrow_array::{Array, ArrayRef, BooleanArray, Float64Array, Int64Array, NullArray, RecordBatch, RecordBatchOptions, StringArray};
use arrow_schema::{DataType, Field, Schema, TimeUnit};
use serde_json::{Map, Value as Json};
use std::collections::HashMap;
use std::sync::Arc;

/// Field metadata: the column holds each cell's JSON text.
pub const JSON_METADATA: &str = "vegalake:json";
/// Field metadata: a null cell is a field the row does not have.
pub const UNDEFINED_METADATA: &str = "vegalake:undefined";

/// Why rows and Arrow did not convert, in one line.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{0}")]
pub struct ArrowRowsError(String);

fn error(message: impl Into<String>) -> ArrowRowsError {
    ArrowRowsError(message.into())
}

/// The rows as one Arrow IPC stream. Rows must be objects (a dataset's rows
/// always are); anything else is an error, to be sent as JSON.
pub fn rows_to_ipc(rows: &[Json]) -> Result<Vec<u8>, ArrowRowsError> {
    let objects: Vec<&Map<String, Json>> = rows.iter().map(|r| r.as_object().ok_or_else(|| error("a row is not an object"))).collect::<Result<_, _>>()?;
    let mut names: Vec<&str> = Vec::new();
    let mut seen = std::collections::HashSet::new();
    for name in objects.iter().flat_map(|o| o.keys()) {
        if seen.insert(name.as_str()) {
            names.push(name);
        }
    }
    let (fields, columns): (Vec<Field>, Vec<ArrayRef>) = names.iter().map(|name| column(name, &objects)).unzip();
    let schema = Arc::new(Schema::new(fields));
    let options = RecordBatchOptions::new().with_row_count(Some(rows.len()));
    let batch = RecordBatch::try_new_with_options(schema.clone(), columns, &options).map_err(|e| error(e.to_string()))?;
    let mut out = Vec::new();
    let mut writer = arrow_ipc::writer::StreamWriter::try_new(&mut out, &schema).map_err(|e| error(e.to_string()))?;
    writer.write(&batch).map_err(|e| error(e.to_string()))?;
    writer.finish().map_err(|e| error(e.to_string()))?;
    drop(writer);
    Ok(out)
}

/// The Arrow type a field's cells take.
#[derive(Clone, Copy, PartialEq)]
enum Kind {
    Null,
    Int,
    Float,
    Bool,
    Text,
    Json,
}

fn non_finite(text: &str) -> Option<f64> {
    match text {
        "NaN" => Some(f64::NAN),
        "Infinity" => Some(f64::INFINITY),
        "-Infinity" => Some(f64::NEG_INFINITY),
        _ => None,
    }
}

fn kind_of(cells: &[Option<&Json>]) -> Kind {
    let values: Vec<&Json> = cells.iter().flatten().copied().filter(|v| !v.is_null()).collect();
    let numbers = values.iter().filter(|v| v.is_number()).count();
    if values.is_empty() {
        Kind::Null
    } else if values.iter().all(|v| v.is_i64()) {
        Kind::Int
    } else if numbers > 0 && values.iter().all(|v| v.is_number() || v.as_str().and_then(non_finite).is_some()) {
        Kind::Float
    } else if values.iter().all(|v| v.is_boolean()) {
        Kind::Bool
    } else if values.iter().all(|v| v.is_string()) {
        Kind::Text
    } else {
        Kind::Json
    }
}

fn column<'a>(name: &str, rows: &[&'a Map<String, Json>]) -> (Field, ArrayRef) {
    let cells: Vec<Option<&Json>> = rows.iter().map(|r| r.get(name)).collect();
    let missing = cells.iter().any(Option::is_none);
    let null = cells.iter().any(|c| c.is_some_and(Json::is_null));
    // Missing and null both: only JSON text tells them apart.
    let kind = if missing && null { Kind::Json } else { kind_of(&cells) };
    let present = |c: &Option<&'a Json>| c.filter(|v| !v.is_null() || kind == Kind::Json);
    let array: ArrayRef = match kind {
        Kind::Null => Arc::new(NullArray::new(cells.len())),
        Kind::Int => Arc::new(cells.iter().map(|c| present(c).and_then(Json::as_i64)).collect::<Int64Array>()),
        Kind::Float => {
            Arc::new(cells.iter().map(|c| present(c).and_then(|v| v.as_f64().or_else(|| v.as_str().and_then(non_finite)))).collect::<Float64Array>())
        }
        Kind::Bool => Arc::new(cells.iter().map(|c| present(c).and_then(Json::as_bool)).collect::<BooleanArray>()),
        Kind::Text => Arc::new(cells.iter().map(|c| present(c).and_then(Json::as_str)).collect::<StringArray>()),
        Kind::Json => Arc::new(cells.iter().map(|c| present(c).map(Json::to_string)).collect::<StringArray>()),
    };
    let mut metadata = HashMap::new();
    if kind == Kind::Json {
        metadata.insert(JSON_METADATA.to_string(), "true".to_string());
    }
    if missing {
        metadata.insert(UNDEFINED_METADATA.to_string(), "true".to_string());
    }
    (Field::new(name, array.data_type().clone(), true).with_metadata(metadata), array)
}

/// The rows of an Arrow IPC stream (as [`rows_to_ipc`] writes, or any producer's
/// numbers, strings, booleans, dates and timestamps, dates as epoch
/// milliseconds as vega holds them). More than `max_rows` rows, compressed
/// buffers (whose declared sizes a client chooses) and other column types are
/// errors; so is anything the Arrow reader rejects.
pub fn ipc_to_rows(ipc: &[u8], max_rows: usize) -> Result<Vec<Json>, ArrowRowsError> {
    check_messages(ipc)?;
    // The reader validates what it builds; a panic in it is still one bad request.
    let batches = std::panic::catch_unwind(|| -> Result<Vec<RecordBatch>, ArrowRowsError> {
        let reader = arrow_ipc::reader::StreamReader::try_new(ipc, None).map_err(|e| error(format!("Arrow IPC: {e}")))?;
        reader.collect::<Result<Vec<_>, _>>().map_err(|e| error(format!("Arrow IPC: {e}")))
    })
    .map_err(|_| error("Arrow IPC: the stream could not be read"))??;
    let total: usize = batches.iter().map(RecordBatch::num_rows).sum();
    if total > max_rows {
        return Err(error(format!("Arrow IPC: {total} rows, more than the {max_rows} allowed")));
    }
    let mut rows = Vec::with_capacity(total);
    for batch in &batches {
        batch_rows(batch, &mut rows)?;
    }
    Ok(rows)
}

/// Walks the stream's messages before the reader does, refusing what would make
/// it allocate what a message declares rather than what was sent: a body longer
/// than the bytes left (the reader allocates the declared length first; the
/// fuzzer's 7 EB one aborted the process) and compressed buffers (decompression
/// allocates the size each buffer declares).
fn check_messages(ipc: &[u8]) -> Result<(), ArrowRowsError> {
    let truncated = || error("Arrow IPC: the stream is truncated");
    let mut at = 0usize;
    while at < ipc.len() {
        let word = |at: usize| ipc.get(at..at + 4).map(|b| u32::from_le_bytes([b[0], b[1], b[2], b[3]])).ok_or_else(truncated);
        let mut length = word(at)?;
        at += 4;
        if length == u32::MAX {
            length = word(at)?;
            at += 4;
        }
        if length == 0 {
            return Ok(());
        }
        let end = at.checked_add(length as usize).filter(|&e| e <= ipc.len()).ok_or_else(truncated)?;
        let message = arrow_ipc::root_as_message(&ipc[at..end]).map_err(|e| error(format!("Arrow IPC: {e}")))?;
        let compressed = message.header_as_record_batch().and_then(|b| b.compression()).is_some()
            || message.header_as_dictionary_batch().and_then(|d| d.data()).and_then(|b| b.compression()).is_some();
        if compressed {
            return Err(error("Arrow IPC: compressed buffers are not read; send them uncompressed"));
        }
        let body = usize::try_from(message.bodyLength()).map_err(|_| truncated())?;
        at = end.checked_add(body).filter(|&e| e <= ipc.len()).ok_or_else(truncated)?;
    }
    Ok(())
}

fn batch_rows(batch: &RecordBatch, rows: &mut Vec<Json>) -> Result<(), ArrowRowsError> {
    let schema = batch.schema();
    let columns: Vec<(&str, Vec<Json>, bool, bool)> = schema
        .fields()
        .iter()
        .zip(batch.columns())
        .map(|(field, array)| {
            let json = field.metadata().contains_key(JSON_METADATA);
            let undefined = field.metadata().contains_key(UNDEFINED_METADATA);
            Ok((field.name().as_str(), cells(field.name(), array.as_ref())?, json, undefined))
        })
        .collect::<Result<_, ArrowRowsError>>()?;
    for r in 0..batch.num_rows() {
        let mut row = Map::new();
        for (name, cells, json, undefined) in &columns {
            let cell = &cells[r];
            if *undefined && cell.is_null() {
                continue;
            }
            let value = match cell {
                Json::String(text) if *json => serde_json::from_str(text).map_err(|e| error(format!("column {name}: invalid JSON text: {e}")))?,
                other => other.clone(),
            };
            row.insert(name.to_string(), value);
        }
        rows.push(Json::Object(row));
    }
    Ok(())
}

/// A number as vegalake's JSON writes it: whole numbers as integers, those JSON
/// cannot hold as JavaScript prints them.
fn number(v: f64) -> Json {
    if v.is_nan() {
        Json::from("NaN")
    } else if v.is_infinite() {
        Json::from(if v > 0.0 { "Infinity" } else { "-Infinity" })
    } else if v == v.trunc() && v.abs() < 9.0e15 {
        Json::from(v as i64)
    } else {
        serde_json::Number::from_f64(v).map_or(Json::Null, Json::Number)
    }
}

fn primitive<T: ArrowPrimitiveType>(a: &dyn Array, to: impl Fn(T::Native) -> Json) -> Vec<Json> {
    let a = a.as_primitive::<T>();
    (0..a.len()).map(|i| if a.is_null(i) { Json::Null } else { to(a.value(i)) }).collect()
}

/// A column's cells as JSON (nulls as null).
fn cells(name: &str, a: &dyn Array) -> Result<Vec<Json>, ArrowRowsError> {
    let strings = |v: Vec<Option<&str>>| v.into_iter().map(|s| s.map_or(Json::Null, Json::from)).collect();
    Ok(match a.data_type() {
        DataType::Null => vec![Json::Null; a.len()],
        DataType::Boolean => a.as_boolean().iter().map(|b| b.map_or(Json::Null, Json::Bool)).collect(),
        DataType::Int8 => primitive::<Int8Type>(a, Json::from),
        DataType::Int16 => primitive::<Int16Type>(a, Json::from),
        DataType::Int32 => primitive::<Int32Type>(a, Json::from),
        DataType::Int64 => primitive::<Int64Type>(a, Json::from),
        DataType::UInt8 => primitive::<UInt8Type>(a, Json::from),
        DataType::UInt16 => primitive::<UInt16Type>(a, Json::from),
        DataType::UInt32 => primitive::<UInt32Type>(a, Json::from),
        DataType::UInt64 => primitive::<UInt64Type>(a, |v| number(v as f64)),
        DataType::Float32 => primitive::<Float32Type>(a, |v| number(v as f64)),
        DataType::Float64 => primitive::<Float64Type>(a, number),
        DataType::Utf8 => strings(a.as_string::<i32>().iter().collect()),
        DataType::LargeUtf8 => strings(a.as_string::<i64>().iter().collect()),
        DataType::Utf8View => strings(a.as_string_view().iter().collect()),
        DataType::Date32 => primitive::<Date32Type>(a, |d| number(d as f64 * 86_400_000.0)),
        DataType::Date64 => primitive::<Date64Type>(a, |d| number(d as f64)),
        DataType::Timestamp(TimeUnit::Second, _) => primitive::<TimestampSecondType>(a, |v| number(v as f64 * 1e3)),
        DataType::Timestamp(TimeUnit::Millisecond, _) => primitive::<TimestampMillisecondType>(a, |v| number(v as f64)),
        DataType::Timestamp(TimeUnit::Microsecond, _) => primitive::<TimestampMicrosecondType>(a, |v| number(v.div_euclid(1_000) as f64)),
        DataType::Timestamp(TimeUnit::Nanosecond, _) => primitive::<TimestampNanosecondType>(a, |v| number(v.div_euclid(1_000_000) as f64)),
        other => return Err(error(format!("column {name}: Arrow type {other} is not read (numbers, strings, booleans, dates, timestamps)"))),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn round_trip(rows: Json) {
        let rows = rows.as_array().unwrap().clone();
        let ipc = rows_to_ipc(&rows).unwrap();
        assert_eq!(ipc_to_rows(&ipc, 1000).unwrap(), rows);
    }

    #[test]
    fn rows_come_back_as_they_went() {
        round_trip(json!([{"n": 1, "x": 1.5, "s": "a", "b": true}, {"n": -3, "x": 2, "s": "b", "b": false}]));
        // Numbers JSON cannot hold, as vegalake's JSON writes them.
        round_trip(json!([{"x": "NaN"}, {"x": "Infinity"}, {"x": "-Infinity"}, {"x": 0.25}]));
        // Nested values and mixed types travel as JSON text.
        round_trip(json!([{"v": [1, [2, 3]], "m": 1}, {"v": {"a": null}, "m": "one"}]));
        // Missing fields stay missing; nulls stay null; both at once too.
        round_trip(json!([{"a": 1, "b": null, "c": null}, {"b": null}, {"a": 2, "c": 3}]));
        // Rows without fields, and no rows.
        round_trip(json!([{}, {}, {}]));
        round_trip(json!([]));
    }

    #[test]
    fn columns_are_typed_for_other_programs() {
        let rows = json!([{"n": 1, "x": 1.5, "s": "a", "v": [1]}, {"x": "NaN"}]);
        let ipc = rows_to_ipc(rows.as_array().unwrap()).unwrap();
        let reader = arrow_ipc::reader::StreamReader::try_new(&ipc[..], None).unwrap();
        let schema = reader.schema();
        let types: Vec<String> = schema.fields().iter().map(|f| f.data_type().to_string()).collect();
        assert_eq!(types, ["Int64", "Float64", "Utf8", "Utf8"]);
        assert!(schema.field(0).metadata().contains_key(UNDEFINED_METADATA));
        assert!(!schema.field(1).metadata().contains_key(UNDEFINED_METADATA));
        assert!(schema.field(3).metadata().contains_key(JSON_METADATA));
    }

    #[test]
    fn other_producers_columns_read_as_vega_holds_them() {
        let schema = Arc::new(Schema::new(vec![
            Field::new("t", DataType::Timestamp(TimeUnit::Microsecond, Some("UTC".into())), true),
            Field::new("d", DataType::Date32, true),
            Field::new("i", DataType::Int32, true),
        ]));
        let columns: Vec<ArrayRef> = vec![
            Arc::new(arrow_array::TimestampMicrosecondArray::from(vec![Some(1_500_000), None]).with_timezone("UTC")),
            Arc::new(arrow_array::Date32Array::from(vec![Some(1), Some(-1)])),
            Arc::new(arrow_array::Int32Array::from(vec![Some(7), None])),
        ];
        let batch = RecordBatch::try_new(schema.clone(), columns).unwrap();
        let mut ipc = Vec::new();
        let mut writer = arrow_ipc::writer::StreamWriter::try_new(&mut ipc, &schema).unwrap();
        writer.write(&batch).unwrap();
        writer.finish().unwrap();
        drop(writer);
        let rows = ipc_to_rows(&ipc, 10).unwrap();
        assert_eq!(rows, vec![json!({"t": 1500, "d": 86_400_000, "i": 7}), json!({"t": null, "d": -86_400_000, "i": null})]);
    }

    #[test]
    fn bad_streams_are_one_line_errors() {
        let ipc = rows_to_ipc(json!([{"a": 1}, {"a": 2}, {"a": 3}]).as_array().unwrap()).unwrap();
        assert_eq!(ipc_to_rows(&ipc, 2).unwrap_err().to_string(), "Arrow IPC: 3 rows, more than the 2 allowed");
        for cut in [1, 7, ipc.len() / 2, ipc.len() - 9] {
            let message = ipc_to_rows(&ipc[..cut], 10).unwrap_err().to_string();
            assert!(message.starts_with("Arrow IPC: ") && !message.contains('\n'), "{message}");
        }
        assert!(ipc_to_rows(b"not arrow at all", 10).is_err());
        assert_eq!(rows_to_ipc(&[json!(1)]).unwrap_err().to_string(), "a row is not an object");
    }

    /// The stream with its record batch's declared body length replaced.
    fn with_body_length(ipc: &[u8], length: i64) -> Vec<u8> {
        // Messages: the schema's, then the batch's (continuation, length, flatbuffer).
        let schema_end = 8 + u32::from_le_bytes(ipc[4..8].try_into().unwrap()) as usize;
        let batch_len = u32::from_le_bytes(ipc[schema_end + 4..schema_end + 8].try_into().unwrap()) as usize;
        let metadata = schema_end + 8..schema_end + 8 + batch_len;
        let declared = arrow_ipc::root_as_message(&ipc[metadata.clone()]).unwrap().bodyLength();
        let at: Vec<usize> =
            ipc[metadata.clone()].windows(8).enumerate().filter(|(_, w)| *w == declared.to_le_bytes()).map(|(i, _)| metadata.start + i).collect();
        assert_eq!(at.len(), 1, "the body length is found once in the batch's metadata");
        let mut patched = ipc.to_vec();
        patched[at[0]..at[0] + 8].copy_from_slice(&length.to_le_bytes());
        assert_eq!(arrow_ipc::root_as_message(&patched[metadata]).unwrap().bodyLength(), length);
        patched
    }

    #[test]
    fn a_body_longer_than_the_stream_is_refused_before_it_is_allocated() {
        let ipc = rows_to_ipc(json!([{"a": 1}, {"a": 2}]).as_array().unwrap()).unwrap();
        // What the request fuzzer sent: the reader allocated 7 EB and the process aborted.
        for length in [6_989_586_621_679_010_496, 1 << 40, ipc.len() as i64] {
            assert_eq!(ipc_to_rows(&with_body_length(&ipc, length), 10).unwrap_err().to_string(), "Arrow IPC: the stream is truncated", "{length}");
        }
    }

    /// The browser client's test decodes this stream (client/test/protocol.test.js);
    /// `VEGALAKE_WRITE_FIXTURES=1` writes it again after a change of encoding.
    #[test]
    fn the_browser_clients_fixture_is_what_the_codec_writes() {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../client/test/fixtures");
        let rows: Json = serde_json::from_str(&std::fs::read_to_string(dir.join("arrow-rows.json")).unwrap()).unwrap();
        let ipc = rows_to_ipc(rows.as_array().unwrap()).unwrap();
        if std::env::var_os("VEGALAKE_WRITE_FIXTURES").is_some() {
            std::fs::write(dir.join("arrow-rows.arrows"), &ipc).unwrap();
        }
        assert_eq!(std::fs::read(dir.join("arrow-rows.arrows")).unwrap(), ipc, "client/test/fixtures/arrow-rows.arrows is stale");
    }

    #[test]
    fn compressed_streams_are_refused_before_they_are_read() {
        let rows = json!([{"a": 1}, {"a": 2}]);
        let batch = {
            let ipc = rows_to_ipc(rows.as_array().unwrap()).unwrap();
            arrow_ipc::reader::StreamReader::try_new(&ipc[..], None).unwrap().next().unwrap().unwrap()
        };
        let options = arrow_ipc::writer::IpcWriteOptions::default().try_with_compression(Some(arrow_ipc::CompressionType::LZ4_FRAME)).unwrap();
        let mut ipc = Vec::new();
        let mut writer = arrow_ipc::writer::StreamWriter::try_new_with_options(&mut ipc, &batch.schema(), options).unwrap();
        writer.write(&batch).unwrap();
        writer.finish().unwrap();
        drop(writer);
        assert_eq!(ipc_to_rows(&ipc, 10).unwrap_err().to_string(), "Arrow IPC: compressed buffers are not read; send them uncompressed");
    }
}
