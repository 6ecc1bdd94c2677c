//! Parsed values and their conversion to Arrow columns.

use crate::error::{ConnectorError, Result};
use datafusion::arrow::array::{Array, ArrayRef, BooleanBuilder, Float64Builder, Int64Array, StringBuilder, TimestampMillisecondBuilder};
use datafusion::arrow::datatypes::{DataType, Field, Schema, TimeUnit};
use datafusion::arrow::record_batch::RecordBatch;
use std::sync::Arc;
use vegalake_planner::values::{JSON_FIELD_METADATA, UNDEFINED_FIELD_METADATA};

/// A cell as JSON text (`undefined` is a null cell; `null` too where `nulls_as_text`
/// is false, in columns without `undefined`).
fn cell_json(c: &Cell, nulls_as_text: bool) -> Option<String> {
    let v = match c {
        Cell::Undefined => return None,
        Cell::Null if !nulls_as_text => return None,
        Cell::Null => serde_json::Value::Null,
        // Integral numbers print as integers, as JavaScript prints them.
        Cell::Num(v) if v.fract() == 0.0 && v.abs() < 9e15 => serde_json::Value::from(*v as i64),
        Cell::Num(v) => serde_json::Number::from_f64(*v).map_or(serde_json::Value::Null, serde_json::Value::Number),
        Cell::Str(s) => serde_json::Value::String(s.clone()),
        Cell::Bool(b) => serde_json::Value::Bool(*b),
        Cell::Date(v) => serde_json::Value::from(*v),
        Cell::Nested(v) => v.clone(),
    };
    Some(v.to_string())
}

/// One value after Vega's format parsing.
#[derive(Debug, Clone, PartialEq)]
pub enum Cell {
    Null,
    /// A row without the field: JavaScript `undefined`, which coerces unlike `null`.
    Undefined,
    Num(f64),
    Str(String),
    Bool(bool),
    /// A `Date`, as epoch ms (NaN: an invalid date).
    Date(f64),
    /// An array or object, kept as it is.
    Nested(serde_json::Value),
}

impl Cell {
    pub fn from_json(v: &serde_json::Value) -> Cell {
        match v {
            serde_json::Value::Null => Cell::Null,
            serde_json::Value::Bool(b) => Cell::Bool(*b),
            serde_json::Value::Number(n) => Cell::Num(n.as_f64().unwrap_or(f64::NAN)),
            serde_json::Value::String(s) => Cell::Str(s.clone()),
            other => Cell::Nested(other.clone()),
        }
    }

    fn kind(&self) -> Option<&'static str> {
        match self {
            Cell::Null | Cell::Undefined => None,
            Cell::Num(_) => Some("number"),
            Cell::Str(_) => Some("string"),
            Cell::Bool(_) => Some("boolean"),
            Cell::Date(_) => Some("date"),
            Cell::Nested(_) => Some("object"),
        }
    }
}

/// A column of arrays or objects (or null) of one shape, typed
/// ([`crate::nested`]); `None` for others (they stay JSON text).
fn nested_column(cells: &[Cell]) -> Option<(Field, ArrayRef)> {
    let values: Vec<Option<&serde_json::Value>> = cells
        .iter()
        .map(|c| match c {
            Cell::Null | Cell::Undefined => Some(None),
            Cell::Nested(v) => Some(Some(v)),
            _ => None,
        })
        .collect::<Option<_>>()?;
    crate::nested::column(&values)
}

/// Cells as JSON text, marked so that nothing computes on them and the output
/// restores them; `null` as text where `nulls_as_text` (beside `undefined`).
fn json_text(cells: &[Cell], nulls_as_text: bool) -> datafusion::arrow::array::StringArray {
    let mut b = StringBuilder::new();
    cells.iter().for_each(|c| b.append_option(cell_json(c, nulls_as_text)));
    b.finish()
}

/// Column-wise parsed data: field names in first-appearance order.
#[derive(Debug, Default)]
pub struct Table {
    pub fields: Vec<String>,
    pub columns: Vec<Vec<Cell>>,
    pub rows: usize,
}

impl Table {
    /// Builds a record batch, with the hidden row-order column named `row_column`.
    pub fn into_batch(self, row_column: &str) -> Result<RecordBatch> {
        let mut fields = Vec::new();
        let mut arrays: Vec<ArrayRef> = Vec::new();
        for (name, cells) in self.fields.iter().zip(self.columns) {
            // A column is marked when its nulls are `undefined`; one with both
            // `undefined` and `null` keeps them apart as JSON text.
            let undefined = cells.contains(&Cell::Undefined);
            let null_and_undefined = undefined && cells.contains(&Cell::Null);
            let kinds: Vec<&str> = {
                let mut k: Vec<&str> = cells.iter().filter_map(Cell::kind).collect();
                k.sort();
                k.dedup();
                k
            };
            // Arrays or objects of one shape: a typed (list or struct) column.
            if let Some((field, array)) = (kinds == ["object"] && !null_and_undefined).then(|| nested_column(&cells)).flatten() {
                let mut metadata = field.metadata().clone();
                if undefined {
                    metadata.insert(UNDEFINED_FIELD_METADATA.to_string(), "true".to_string());
                }
                fields.push(field.with_name(name).with_metadata(metadata));
                arrays.push(array);
                continue;
            }
            // The third: whether the column is JSON text (see JSON_FIELD_METADATA).
            let (dt, array, json): (DataType, ArrayRef, bool) = match kinds.as_slice() {
                _ if null_and_undefined => (DataType::Utf8, Arc::new(json_text(&cells, true)), true),
                [] | ["number"] => {
                    let mut b = Float64Builder::with_capacity(cells.len());
                    cells.iter().for_each(|c| b.append_option(if let Cell::Num(v) = c { Some(*v) } else { None }));
                    (DataType::Float64, Arc::new(b.finish()), false)
                }
                ["string"] => {
                    let mut b = StringBuilder::new();
                    cells.iter().for_each(|c| b.append_option(if let Cell::Str(s) = c { Some(s) } else { None }));
                    (DataType::Utf8, Arc::new(b.finish()), false)
                }
                ["boolean"] => {
                    let mut b = BooleanBuilder::with_capacity(cells.len());
                    cells.iter().for_each(|c| b.append_option(if let Cell::Bool(v) = c { Some(*v) } else { None }));
                    (DataType::Boolean, Arc::new(b.finish()), false)
                }
                ["date"] => {
                    let mut b = TimestampMillisecondBuilder::with_capacity(cells.len());
                    cells.iter().for_each(|c| {
                        b.append_option(match c {
                            Cell::Date(v) if v.is_finite() => Some(*v as i64),
                            _ => None,
                        })
                    });
                    (DataType::Timestamp(TimeUnit::Millisecond, None), Arc::new(b.finish()), false)
                }
                kinds if kinds.contains(&"date") => {
                    return Err(ConnectorError::Unsupported(format!("field '{name}' mixes dates with {} values", kinds.join(" and "))));
                }
                // Mixed types, arrays or objects: each value as JSON text, marked so
                // that nothing computes on it and the output restores it.
                _ => (DataType::Utf8, Arc::new(json_text(&cells, false)), true),
            };
            if cells.iter().any(|c| matches!(c, Cell::Date(v) if !v.is_finite())) {
                return Err(ConnectorError::Unsupported(format!("field '{name}' holds invalid dates")));
            }
            let nullable = array.null_count() > 0;
            let mut metadata = std::collections::HashMap::new();
            if json {
                metadata.insert(JSON_FIELD_METADATA.to_string(), "true".to_string());
            }
            if undefined {
                metadata.insert(UNDEFINED_FIELD_METADATA.to_string(), "true".to_string());
            }
            let field = Field::new(name, dt, nullable || json).with_metadata(metadata);
            fields.push(field);
            arrays.push(array);
        }
        fields.push(Field::new(row_column, DataType::Int64, false));
        arrays.push(Arc::new(Int64Array::from_iter_values(0..self.rows as i64)));
        Ok(RecordBatch::try_new(Arc::new(Schema::new(fields)), arrays).map_err(datafusion::error::DataFusionError::from)?)
    }
}
