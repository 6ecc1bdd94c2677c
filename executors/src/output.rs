//! Arrow results as the JSON rows of the eval contract.

use datafusion::arrow::array::{Array, AsArray, RecordBatch};
use datafusion::arrow::datatypes::{DataType, Float64Type, Int64Type, TimeUnit, TimestampMillisecondType};
use serde_json::{Map, Value as Json};
use vegalake_sql_gen::{json_number, ROW};

/// One cell as JSON: dates as epoch ms, non-finite numbers as strings.
fn cell(a: &dyn Array, i: usize) -> Json {
    if a.is_null(i) {
        return Json::Null;
    }
    match a.data_type() {
        DataType::Float64 => json_number(a.as_primitive::<Float64Type>().value(i)),
        DataType::Int64 => json_number(a.as_primitive::<Int64Type>().value(i) as f64),
        DataType::Utf8 => Json::String(a.as_string::<i32>().value(i).to_string()),
        DataType::Boolean => Json::Bool(a.as_boolean().value(i)),
        DataType::Timestamp(TimeUnit::Millisecond, None) => json_number(a.as_primitive::<TimestampMillisecondType>().value(i) as f64),
        DataType::Struct(fields) => {
            let members = a.as_struct();
            let undefined = |f: &datafusion::arrow::datatypes::Field| vegalake_planner::values::nulls_are_undefined(f.metadata());
            let object = fields
                .iter()
                .zip(members.columns())
                .filter(|(f, c)| !(undefined(f) && c.is_null(i)))
                .map(|(f, c)| (f.name().clone(), cell(c.as_ref(), i)))
                .collect();
            Json::Object(object)
        }
        DataType::List(_) => {
            let items = a.as_list::<i32>().value(i);
            Json::Array((0..items.len()).map(|j| cell(items.as_ref(), j)).collect())
        }
        _ => match datafusion::arrow::util::display::array_value_to_string(a, i) {
            Ok(s) => Json::String(s),
            Err(_) => Json::Null,
        },
    }
}

/// Rows as JSON objects, without the hidden row-order column. Columns of JSON text
/// (see `vegalake_planner::values::JSON_FIELD_METADATA`) are restored to their values;
/// the missing cells of fields that are sometimes undefined are left out, as vega.js
/// has them (an inlined `null` would compute differently: `null * 2` is 0).
pub fn batches_to_rows(batches: &[RecordBatch]) -> Vec<Map<String, Json>> {
    let mut rows = Vec::new();
    for b in batches {
        let schema = b.schema();
        let cols: Vec<(usize, &str, bool, bool)> = schema
            .fields()
            .iter()
            .enumerate()
            .filter(|(_, f)| f.name() != ROW)
            .map(|(i, f)| {
                let json = f.metadata().contains_key(vegalake_planner::values::JSON_FIELD_METADATA);
                let undefined = vegalake_planner::values::nulls_are_undefined(f.metadata());
                (i, f.name().as_str(), json, undefined)
            })
            .collect();
        for r in 0..b.num_rows() {
            let mut row = Map::new();
            for (i, name, json, undefined) in &cols {
                if *undefined && b.column(*i).is_null(r) {
                    continue;
                }
                let value = match cell(b.column(*i).as_ref(), r) {
                    Json::String(text) if *json => serde_json::from_str(&text).unwrap_or(Json::String(text)),
                    other => other,
                };
                row.insert(name.to_string(), value);
            }
            rows.push(row);
        }
    }
    rows
}
