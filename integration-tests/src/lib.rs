//! Comparison of vegalake's results with vega.js's, as the conformance suite does it.
//!
//! Rows compare as multisets unless the dataset is sorted; a null field equals a
//! missing one; numbers agree within 1e-9 relative; `"NaN"` and `"Infinity"` are
//! compared as the strings the eval contract prints.

use serde_json::{Map, Value as Json};

/// True if two numbers agree within 1e-9 relative (or 1e-12 absolute near zero).
pub fn numbers_agree(a: f64, b: f64) -> bool {
    a == b || (a - b).abs() <= 1e-9 * a.abs().max(b.abs()) || (a - b).abs() < 1e-12
}

/// Equality of two JSON values with the suite's rules.
pub fn values_agree(a: &Json, b: &Json) -> bool {
    match (a, b) {
        (Json::Number(x), Json::Number(y)) => numbers_agree(x.as_f64().unwrap_or(f64::NAN), y.as_f64().unwrap_or(f64::NAN)),
        (Json::Array(x), Json::Array(y)) => x.len() == y.len() && x.iter().zip(y).all(|(p, q)| values_agree(p, q)),
        (Json::Object(x), Json::Object(y)) => rows_agree(x, y),
        _ => a == b,
    }
}

/// Two rows agree when every non-null field agrees (null and missing are equal).
pub fn rows_agree(a: &Map<String, Json>, b: &Map<String, Json>) -> bool {
    let keys = a.keys().chain(b.keys());
    keys.into_iter().all(|k| match (a.get(k).unwrap_or(&Json::Null), b.get(k).unwrap_or(&Json::Null)) {
        (Json::Null, Json::Null) => true,
        (x, y) => values_agree(x, y),
    })
}

/// A sort key for a row: its non-null fields with numbers rounded to 8 significant
/// digits, so that rows which agree sort next to each other.
fn row_key(row: &Map<String, Json>) -> String {
    let mut fields: Vec<(&String, String)> = row
        .iter()
        .filter(|(_, v)| !v.is_null())
        .map(|(k, v)| {
            let s = match v {
                Json::Number(n) => format!("{:.8e}", n.as_f64().unwrap_or(0.0)),
                other => other.to_string(),
            };
            (k, s)
        })
        .collect();
    fields.sort();
    format!("{fields:?}")
}

fn as_rows(v: &Json) -> Option<Vec<&Map<String, Json>>> {
    v.as_array()?.iter().map(Json::as_object).collect()
}

/// The columns any row of a dataset has.
pub fn columns(rows: &Json) -> std::collections::BTreeSet<String> {
    rows.as_array().into_iter().flatten().filter_map(Json::as_object).flat_map(|o| o.keys().cloned()).collect()
}

/// vega.js's rows restricted to the columns vegalake sent (it sends only those the
/// client spec mentions).
pub fn restrict(rows: &Json, columns: &std::collections::BTreeSet<String>) -> Json {
    let keep = |o: &serde_json::Map<String, Json>| o.iter().filter(|(k, _)| columns.contains(*k)).map(|(k, v)| (k.clone(), v.clone())).collect();
    Json::Array(rows.as_array().into_iter().flatten().map(|r| Json::Object(r.as_object().map(keep).unwrap_or_default())).collect())
}

/// Compares two datasets; `None` when they agree, else a description of the first
/// difference.
pub fn compare_datasets(ours: &Json, theirs: &Json, ordered: bool) -> Option<String> {
    let (Some(mut a), Some(mut b)) = (as_rows(ours), as_rows(theirs)) else {
        return Some("not arrays of rows".into());
    };
    if a.len() != b.len() {
        return Some(format!("{} rows, vega.js has {}", a.len(), b.len()));
    }
    if !ordered {
        a.sort_by_key(|r| row_key(r));
        b.sort_by_key(|r| row_key(r));
    }
    for (i, (x, y)) in a.iter().zip(&b).enumerate() {
        if !rows_agree(x, y) {
            return Some(format!("row {i}: ours {} vs vega.js {}", Json::Object((*x).clone()), Json::Object((*y).clone())));
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn null_equals_missing_and_numbers_have_tolerance() {
        let a = json!([{"x": 1.0000000000001, "y": null}, {"x": 2}]);
        let b = json!([{"x": 2}, {"x": 1}]);
        assert_eq!(compare_datasets(&a, &b, false), None);
        assert!(compare_datasets(&a, &b, true).is_some(), "order matters when sorted");
        assert!(compare_datasets(&json!([{"x": 1.001}]), &json!([{"x": 1}]), false).is_some());
        assert!(compare_datasets(&json!([{"x": "NaN"}]), &json!([{"x": null}]), false).is_some());
        assert!(compare_datasets(&json!([{"x": 1}]), &json!([]), false).is_some());
    }
}
