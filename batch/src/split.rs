//! The one evaluation's client spec cut into one client spec per key.

use crate::template::{Partitioned, KEYS_DATASET, ROWS, SOURCE_DATASET, USERMETA};
use crate::BatchError;
use serde_json::{Map, Value as Json};
use std::collections::HashMap;
use vegalake_sql_gen::PARTITIONED;

/// One chart's key: the key columns' values, in the order of `--by`.
pub type Key = Vec<Json>;

/// Every key's chart, ready to be built one at a time.
pub struct Charts {
    keys: Vec<String>,
    /// The client spec with the keyed datasets' rows taken out.
    skeleton: Json,
    /// Each key with its source rows, in chart-id order.
    charts: Vec<(Key, u64)>,
    /// Keyed datasets' rows by key (the key as JSON text), and whether the rows
    /// keep the key columns.
    rows: HashMap<String, (bool, HashMap<String, Vec<Json>>)>,
    /// Per-key signal values by signal, then by key.
    signals: HashMap<String, HashMap<String, Json>>,
}

fn key_text(key: &[Json]) -> String {
    Json::Array(key.to_vec()).to_string()
}

impl Charts {
    /// Cuts the evaluated client spec of a partitioned template; `keys_reason` says
    /// why the keys were not evaluated on the server, if they were not.
    pub fn new(mut client: Json, template: &Partitioned, keys_reason: Option<&str>) -> Result<Self, BatchError> {
        let keys = template.keys.clone();
        let data = client.get_mut("data").and_then(Json::as_array_mut).ok_or_else(|| BatchError::Template("the evaluated spec has no data".into()))?;
        let key_rows = take_dataset(data, KEYS_DATASET)
            .ok_or_else(|| BatchError::Template(format!("the keys were not evaluated on the server: {}", keys_reason.unwrap_or("no reason given"))))?;
        take_dataset(data, SOURCE_DATASET);
        let mut charts: Vec<(Key, u64)> = key_rows.iter().map(|r| (keys.iter().map(|k| r[k].clone()).collect(), r[ROWS].as_u64().unwrap_or(0))).collect();
        charts.sort_by_cached_key(|(k, _)| chart_id(&keys, k));
        let mut rows = HashMap::new();
        for d in data.iter_mut() {
            let name = d["name"].as_str().unwrap_or_default().to_string();
            let Some(&natural) = template.keyed.get(&name) else { continue };
            match d.get_mut("values").map(Json::take) {
                Some(Json::Array(values)) => {
                    d["values"] = Json::Array(Vec::new());
                    rows.insert(name, (natural, group_rows(values, &keys, natural)));
                }
                _ if d.get("source").is_some_and(|s| s == SOURCE_DATASET) => {
                    return Err(BatchError::Template(format!("dataset '{name}' was not evaluated on the server, so it cannot be cut per key")));
                }
                _ => {} // derived in the browser from a dataset that is cut
            }
        }
        if let Some(usermeta) = client.get_mut("usermeta").and_then(Json::as_object_mut) {
            usermeta.remove(USERMETA);
            if usermeta.is_empty() {
                client.as_object_mut().map(|o| o.remove("usermeta"));
            }
        }
        let signals = take_keyed_signals(&mut client);
        Ok(Charts { keys, skeleton: client, charts, rows, signals })
    }

    /// The keys with their source rows, in chart-id order.
    pub fn keys(&self) -> &[(Key, u64)] {
        &self.charts
    }

    pub fn key_names(&self) -> &[String] {
        &self.keys
    }

    /// The client spec of one key's chart and the rows it holds.
    pub fn spec(&self, key: &[Json]) -> (Json, usize) {
        let text = key_text(key);
        let mut spec = self.skeleton.clone();
        let mut held = 0;
        for d in spec["data"].as_array_mut().into_iter().flatten() {
            let Some((_, by_key)) = d["name"].as_str().and_then(|n| self.rows.get(n)) else { continue };
            let values = by_key.get(&text).cloned().unwrap_or_default();
            held += values.len();
            d["values"] = Json::Array(values);
        }
        set_signals(&mut spec, &|name| self.signals.get(name).map(|by_key| by_key.get(&text).cloned().unwrap_or(Json::Null)));
        (spec, held)
    }
}

/// Removes a top-level dataset, returning its inline rows.
fn take_dataset(data: &mut Vec<Json>, name: &str) -> Option<Vec<Json>> {
    let at = data.iter().position(|d| d["name"] == name)?;
    match data.remove(at).get_mut("values").map(Json::take) {
        Some(Json::Array(v)) => Some(v),
        _ => None,
    }
}

/// Rows by key; the key columns are dropped from rows that did not have them.
fn group_rows(values: Vec<Json>, keys: &[String], natural: bool) -> HashMap<String, Vec<Json>> {
    let mut out: HashMap<String, Vec<Json>> = HashMap::new();
    for mut row in values {
        let key: Key = keys.iter().map(|k| row[k].clone()).collect();
        if !natural {
            if let Some(o) = row.as_object_mut() {
                for k in keys {
                    o.remove(k);
                }
            }
        }
        out.entry(key_text(&key)).or_default().push(row);
    }
    out
}

/// Takes the per-key values of signals (in every scope) out of the spec.
fn take_keyed_signals(spec: &mut Json) -> HashMap<String, HashMap<String, Json>> {
    let mut out = HashMap::new();
    walk_signals(spec, &mut |s| {
        let Some(table) = s.get_mut("value").and_then(|v| v.get_mut(PARTITIONED)).map(Json::take) else { return };
        let by_key = table["values"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|pair| (key_text(pair[0].as_array().map_or(&[][..], Vec::as_slice)), pair[1].clone()))
            .collect();
        s["value"] = Json::Null;
        out.insert(s["name"].as_str().unwrap_or_default().to_string(), by_key);
    });
    out
}

fn set_signals(spec: &mut Json, value: &dyn Fn(&str) -> Option<Json>) {
    walk_signals(spec, &mut |s| {
        if let Some(v) = s["name"].as_str().and_then(value) {
            s["value"] = v;
        }
    });
}

fn walk_signals(node: &mut Json, f: &mut dyn FnMut(&mut Json)) {
    for s in node.get_mut("signals").and_then(Json::as_array_mut).into_iter().flatten() {
        f(s);
    }
    for m in node.get_mut("marks").and_then(Json::as_array_mut).into_iter().flatten() {
        walk_signals(m, f);
    }
}

/// A chart's id: `key=value` pairs joined by commas, safe as a file name
/// (bytes outside letters, digits and `._-=,+` as `%XX`; long ids end in a hash).
pub fn chart_id(keys: &[String], key: &[Json]) -> String {
    let text: Vec<String> = keys
        .iter()
        .zip(key)
        .map(|(k, v)| {
            let v = match v {
                Json::String(s) => s.clone(),
                other => other.to_string(),
            };
            format!("{k}={v}")
        })
        .collect();
    let mut id = String::new();
    for b in text.join(",").bytes() {
        match b {
            b'a'..=b'z' | b'A'..=b'Z' | b'0'..=b'9' | b'_' | b'-' | b'=' | b',' | b'+' => id.push(b as char),
            b'.' if !id.is_empty() => id.push('.'),
            other => id.push_str(&format!("%{other:02X}")),
        }
    }
    if id.len() > 150 {
        let hash = blake3::hash(id.as_bytes()).to_hex();
        id.truncate(id.char_indices().map(|(i, _)| i).take_while(|&i| i <= 130).last().unwrap_or(0));
        id.push('~');
        id.push_str(&hash[..16]);
    }
    id
}

/// The key as an object `{column: value}` (manifest rows).
pub fn key_object(keys: &[String], key: &[Json]) -> Json {
    Json::Object(keys.iter().cloned().zip(key.iter().cloned()).collect::<Map<_, _>>())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn ids_are_safe_file_names() {
        let keys = vec!["carrier".to_string(), "year".to_string()];
        assert_eq!(chart_id(&keys, &[json!("AA"), json!(2020)]), "carrier=AA,year=2020");
        assert_eq!(chart_id(&keys, &[json!("a/b c"), json!(null)]), "carrier=a%2Fb%20c,year=null");
        assert_eq!(chart_id(&keys[..1], &[json!("..")]), "carrier=..", "dots after the first byte are kept");
        assert_eq!(chart_id(&["k".into()], &[json!(".x")]), "k=.x");
        let long = chart_id(&keys[..1], &[json!("x".repeat(400))]);
        assert!(long.len() < 160 && long.contains('~'), "{long}");
        assert_ne!(long, chart_id(&keys[..1], &[json!("x".repeat(401))]), "distinct long keys keep distinct ids");
    }

    #[test]
    fn a_client_spec_is_cut_per_key() {
        let template =
            Partitioned { spec: Json::Null, keys: vec!["k".into()], keyed: HashMap::from([("d".to_string(), false)]), keyed_signals: vec!["bins".into()] };
        let client = json!({
            "signals": [{"name": "bins", "value": {PARTITIONED: {"keys": ["k"], "values": [[["a"], {"step": 1}], [["b"], {"step": 5}]]}}}],
            "data": [
                {"name": KEYS_DATASET, "values": [{"k": "b", ROWS: 3}, {"k": "a", ROWS: 2}, {"k": "c", ROWS: 1}]},
                {"name": "d", "values": [{"k": "a", "n": 1}, {"k": "b", "n": 2}, {"k": "a", "n": 3}]},
                {"name": "other", "values": [{"x": 1}]}
            ]
        });
        let charts = Charts::new(client, &template, None).unwrap();
        let keys: Vec<&Key> = charts.keys().iter().map(|(k, _)| k).collect();
        assert_eq!(keys, [&vec![json!("a")], &vec![json!("b")], &vec![json!("c")]]);
        let (a, held) = charts.spec(&[json!("a")]);
        assert_eq!(held, 2);
        assert_eq!(a["data"].as_array().unwrap().len(), 2, "the keys dataset is gone");
        assert_eq!(a["data"][0]["values"], json!([{"n": 1}, {"n": 3}]), "rows of the key, key column dropped");
        assert_eq!(a["data"][1]["values"], json!([{"x": 1}]));
        assert_eq!(a["signals"][0]["value"], json!({"step": 1}));
        let (c, held) = charts.spec(&[json!("c")]);
        assert_eq!((held, &c["data"][0]["values"]), (0, &json!([])), "a key whose rows the template filtered out still has a chart");
        assert_eq!(c["signals"][0]["value"], Json::Null);
    }
}
