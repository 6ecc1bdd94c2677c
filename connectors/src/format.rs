//! Vega's text formats and `format.parse` (vega-loader's `read`): JSON with
//! `property`, delimiter-separated values, and type parsing or inference.

use crate::cell::{Cell, Table};
use crate::error::{ConnectorError, Result};
use serde_json::{Map, Value as Json};
use vegalake_planner::values::date_parse::parse_js_date;
use vegalake_planner::values::number::{js_number_to_string, js_string_to_number};
use vegalake_planner::values::time::Zone;

/// Rows as vega ingests them: objects, with primitives wrapped as `{data: v}`.
fn rows_to_table(rows: Vec<Json>) -> Table {
    let mut table = Table { rows: rows.len(), ..Table::default() };
    let mut index: std::collections::HashMap<String, usize> = Default::default();
    for (r, row) in rows.into_iter().enumerate() {
        let obj: Map<String, Json> = match row {
            Json::Object(o) => o,
            other => Map::from_iter([("data".to_string(), other)]),
        };
        for (k, v) in obj {
            let i = *index.entry(k.clone()).or_insert_with(|| {
                table.fields.push(k);
                table.columns.push(vec![Cell::Undefined; r]);
                table.columns.len() - 1
            });
            let col = &mut table.columns[i];
            col.resize(r, Cell::Undefined);
            col.push(Cell::from_json(&v));
        }
    }
    // A row without a key has `undefined` there.
    for col in &mut table.columns {
        col.resize(table.rows, Cell::Undefined);
    }
    table
}

/// Reads JSON text (`format.property` selects a nested array).
pub fn read_json(text: &str, format: &Map<String, Json>) -> Result<Table> {
    let data: Json = serde_json::from_str(text).map_err(|e| ConnectorError::Invalid(format!("invalid JSON: {e}")))?;
    json_values(data, format)
}

/// JSON data (a file's or inline `values`), with `format.property` selecting a
/// nested array as vega does for both.
pub fn json_values(mut data: Json, format: &Map<String, Json>) -> Result<Table> {
    if let Some(prop) = format.get("property").and_then(Json::as_str) {
        for part in prop.split('.') {
            data = data.get(part).cloned().unwrap_or(Json::Null);
        }
    }
    inline_values(data)
}

/// Inline `values`: an array of rows (a single value counts as one row).
pub fn inline_values(data: Json) -> Result<Table> {
    let rows = match data {
        Json::Array(rows) => rows,
        Json::Null => Vec::new(),
        one => vec![one],
    };
    Ok(rows_to_table(rows))
}

/// Reads delimiter-separated text as d3-dsv does: a header row, every value a string
/// (missing trailing values are `""`).
pub fn read_dsv(text: &str, delimiter: u8, header: Option<&[String]>) -> Result<Table> {
    let mut reader = csv::ReaderBuilder::new().delimiter(delimiter).has_headers(false).flexible(true).from_reader(text.as_bytes());
    let mut records = reader.records();
    let names: Vec<String> = match header {
        Some(h) => h.to_vec(),
        None => match records.next() {
            Some(r) => r.map_err(|e| ConnectorError::Invalid(format!("invalid delimited text: {e}")))?.iter().map(str::to_string).collect(),
            None => Vec::new(),
        },
    };
    let mut table = Table { fields: names.clone(), columns: vec![Vec::new(); names.len()], ..Table::default() };
    for rec in records {
        let rec = rec.map_err(|e| ConnectorError::Invalid(format!("invalid delimited text: {e}")))?;
        for (i, col) in table.columns.iter_mut().enumerate() {
            col.push(Cell::Str(rec.get(i).unwrap_or("").to_string()));
        }
        table.rows += 1;
    }
    Ok(table)
}

fn is_valid(c: &Cell) -> bool {
    !matches!(c, Cell::Null | Cell::Undefined) && !matches!(c, Cell::Num(v) if v.is_nan())
}

fn to_num(c: &Cell) -> f64 {
    match c {
        Cell::Num(v) | Cell::Date(v) => *v,
        Cell::Str(s) => js_string_to_number(s),
        Cell::Bool(b) => f64::from(u8::from(*b)),
        Cell::Null => 0.0,
        Cell::Undefined | Cell::Nested(_) => f64::NAN,
    }
}

/// vega-loader's `inferType` for one column.
/// Whether a cell is of one of the inferred types.
type CellTest<'a> = &'a dyn Fn(&Cell) -> bool;

fn infer_type(cells: &[Cell], zone: Zone) -> &'static str {
    let is_bool = |c: &Cell| matches!(c, Cell::Bool(_)) || matches!(c, Cell::Str(s) if s == "true" || s == "false");
    let is_number = |c: &Cell| !matches!(c, Cell::Date(_) | Cell::Nested(_)) && !to_num(c).is_nan();
    let is_integer = |c: &Cell| is_number(c) && to_num(c).fract() == 0.0 && to_num(c).is_finite();
    let is_date = |c: &Cell| match c {
        Cell::Str(s) => !parse_js_date(s, zone).is_nan(),
        Cell::Date(v) => !v.is_nan(),
        Cell::Num(v) => !parse_js_date(&js_number_to_string(*v), zone).is_nan(),
        _ => false,
    };
    let tests: [(&str, CellTest); 4] = [("boolean", &is_bool), ("integer", &is_integer), ("number", &is_number), ("date", &is_date)];
    let valid: Vec<&Cell> = cells.iter().filter(|c| is_valid(c)).collect();
    if cells.is_empty() {
        return "unknown";
    }
    for (name, test) in tests {
        if valid.iter().all(|c| test(c)) {
            return name;
        }
    }
    "string"
}

/// A `date:'pattern'` pattern without its quotes.
fn unquote(p: &str) -> &str {
    let quoted = p.len() >= 2 && ((p.starts_with('\'') && p.ends_with('\'')) || (p.starts_with('"') && p.ends_with('"')));
    if quoted {
        &p[1..p.len() - 1]
    } else {
        p
    }
}

/// Applies one parse type to a value (vega-loader's `typeParsers`).
fn parse_cell(c: Cell, ty: &str, zone: Zone) -> Cell {
    if let Some((kind, pattern)) = ty.split_once(':') {
        // d3's timeParse/utcParse: a Date object, or null when the text does not match.
        let zone = if kind == "utc" { Zone::Utc } else { zone };
        let text = match &c {
            Cell::Null | Cell::Undefined => return Cell::Null,
            Cell::Str(s) if s.is_empty() => return Cell::Null,
            Cell::Str(s) => s.clone(),
            Cell::Num(v) => js_number_to_string(*v),
            Cell::Bool(b) => b.to_string(),
            _ => return Cell::Null,
        };
        return vegalake_planner::values::d3time::parse(&text, unquote(pattern), zone).map_or(Cell::Null, Cell::Date);
    }
    // vega's parsers answer null for undefined too (`_ == null ? null : ...`).
    let missing = matches!(&c, Cell::Null | Cell::Undefined) || matches!(&c, Cell::Str(s) if s.is_empty());
    if missing && ty != "unknown" {
        return Cell::Null;
    }
    match ty {
        "boolean" => Cell::Bool(match &c {
            Cell::Str(s) => s != "false" && !s.is_empty(),
            Cell::Bool(b) => *b,
            other => !(to_num(other) == 0.0 || to_num(other).is_nan()),
        }),
        "integer" | "number" => Cell::Num(to_num(&c)),
        // vega-util's toDate answers Date.parse's number, not a Date object.
        "date" => Cell::Num(match &c {
            Cell::Str(s) => parse_js_date(s, zone),
            other => to_num(other),
        }),
        "string" => match c {
            Cell::Str(s) => Cell::Str(s),
            Cell::Num(v) => Cell::Str(js_number_to_string(v)),
            Cell::Bool(b) => Cell::Str(b.to_string()),
            other => other,
        },
        _ => c,
    }
}

/// Applies `format.parse` (`"auto"` or `{field: type}`) to a table.
pub fn apply_parse(table: &mut Table, parse: Option<&Json>, zone: Zone) -> Result<()> {
    let Some(parse) = parse else { return Ok(()) };
    if table.rows == 0 {
        return Ok(());
    }
    let types: Vec<(usize, String)> = match parse {
        Json::String(s) if s == "auto" => (0..table.fields.len()).map(|i| (i, infer_type(&table.columns[i], zone).to_string())).collect(),
        Json::Object(map) => {
            let mut out = Vec::new();
            for (field, ty) in map {
                let Some(ty) = ty.as_str() else {
                    return Err(ConnectorError::Invalid(format!("format.parse.{field}: expected a type name")));
                };
                if let Some((_, pattern)) = ty.split_once(':').filter(|(k, _)| *k == "date" || *k == "utc") {
                    let pattern = unquote(pattern);
                    vegalake_planner::values::d3time::check_specifier(pattern, true)
                        .map_err(|e| ConnectorError::Unsupported(format!("format.parse.{field}: {e}")))?;
                } else if !matches!(ty, "boolean" | "integer" | "number" | "date" | "string") {
                    return Err(ConnectorError::Invalid(format!("Illegal format pattern: {field}:{ty}")));
                }
                let i = match table.fields.iter().position(|f| f == field) {
                    Some(i) => i,
                    None => {
                        // vega parses the missing field too: every row gets null.
                        table.fields.push(field.clone());
                        table.columns.push(vec![Cell::Null; table.rows]);
                        table.fields.len() - 1
                    }
                };
                out.push((i, ty.to_string()));
            }
            out
        }
        Json::Null => Vec::new(),
        other => return Err(ConnectorError::Invalid(format!("format.parse: expected \"auto\" or an object, got {other}"))),
    };
    for (i, ty) in types {
        let col = std::mem::take(&mut table.columns[i]);
        table.columns[i] = col.into_iter().map(|c| parse_cell(c, &ty, zone)).collect();
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dsv_and_auto_parse() {
        let mut t = read_dsv("a,b,c,d\n1,x,true,2020-01-01\n2.5,,false,\n", b',', None).unwrap();
        apply_parse(&mut t, Some(&Json::String("auto".into())), Zone::Utc).unwrap();
        assert_eq!(t.columns[0], vec![Cell::Num(1.0), Cell::Num(2.5)]);
        assert_eq!(t.columns[1], vec![Cell::Str("x".into()), Cell::Null]);
        assert_eq!(t.columns[2], vec![Cell::Bool(true), Cell::Bool(false)]);
        // '' counts as a valid value in vega's inference, and is no date: strings.
        assert_eq!(t.columns[3], vec![Cell::Str("2020-01-01".into()), Cell::Null]);
        let mut t = read_dsv("d\n2020-01-01\nJan 2 2020\n", b',', None).unwrap();
        apply_parse(&mut t, Some(&Json::String("auto".into())), Zone::Utc).unwrap();
        assert_eq!(t.columns[0], vec![Cell::Num(1577836800000.0), Cell::Num(1577923200000.0)]);
    }

    #[test]
    fn json_rows_keep_types_and_wrap_primitives() {
        let t = read_json(r#"{"x": {"y": [{"a": 1}, {"b": "s"}]}}"#, &serde_json::from_str(r#"{"property": "x.y"}"#).unwrap()).unwrap();
        assert_eq!(t.fields, vec!["a", "b"]);
        assert_eq!(t.columns[0], vec![Cell::Num(1.0), Cell::Undefined]);
        assert_eq!(t.columns[1], vec![Cell::Undefined, Cell::Str("s".into())]);
        let t = inline_values(serde_json::json!([1, 2])).unwrap();
        assert_eq!(t.fields, vec!["data"]);
    }
}
