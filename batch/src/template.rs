//! A template rewritten so that one evaluation serves every key.
//!
//! The template's source dataset is split in two: a new root
//! ([`SOURCE_DATASET`]) reads the data and keeps the rows with every key valid
//! (and `--where`); the template's dataset reads that root. Each dataset derived
//! from it then carries the key columns, as the transforms' registry entries say
//! ([`vegalake_sql_gen::partition_rule`]): row-local transforms as they are,
//! groupings with the keys added, a bin (and the `extent` feeding it) per key.
//! Whatever the registry refuses stops the batch with the dataset, the transform
//! and the reason. One more dataset ([`KEYS_DATASET`]) lists the keys and their
//! row counts: every key gets a chart, even one whose rows the template filters out.

use crate::BatchError;
use serde_json::{json, Map, Value as Json};
use std::collections::HashMap;
use vegalake_sql_gen::{partition_rule, Partition, PARTITION_EXTENT_SIGNAL, PARTITION_KEYS};

/// The root dataset reading the batch's source.
pub const SOURCE_DATASET: &str = "__vegalake_source";
/// The dataset of the keys, with their rows in [`ROWS`].
pub const KEYS_DATASET: &str = "__vegalake_keys";
/// Each key's count of source rows.
pub const ROWS: &str = "__vegalake_rows";
/// The `usermeta` entry naming the keys and their dataset: the client spec keeps
/// only the datasets and columns something in it mentions, and both must come
/// back from the evaluation.
pub const USERMETA: &str = "vegalake_batch";

/// What to partition.
#[derive(Debug, Clone, Default)]
pub struct TemplateOptions {
    /// The key columns: one chart per distinct combination.
    pub keys: Vec<String>,
    /// A URL replacing the template's source data.
    pub source: Option<String>,
    /// The template's dataset that reads the source (default: its one dataset with a URL).
    pub dataset: Option<String>,
    /// A Vega expression the source rows must satisfy (`datum.year >= 2020`).
    pub where_: Option<String>,
}

/// A template rewritten for all keys.
#[derive(Debug, Clone)]
pub struct Partitioned {
    /// The Vega spec evaluated once.
    pub spec: Json,
    pub keys: Vec<String>,
    /// Each dataset derived from the source, and whether its rows have the key
    /// columns of their own (false: the rewrite added them; they are dropped per chart).
    pub keyed: HashMap<String, bool>,
    /// Signals that hold one value per key.
    pub keyed_signals: Vec<String>,
}

fn refuse<T>(message: String) -> Result<T, BatchError> {
    Err(BatchError::Template(message))
}

impl Partitioned {
    pub fn new(vega: &Json, o: &TemplateOptions) -> Result<Self, BatchError> {
        if o.keys.is_empty() {
            return refuse("no key columns (--by)".into());
        }
        let mut spec = vega.clone();
        let Some(data) = spec.get_mut("data").and_then(Json::as_array_mut) else { return refuse("the template has no data".into()) };
        let at = source_index(data, o.dataset.as_deref())?;
        let source_name = data[at]["name"].as_str().unwrap_or_default().to_string();
        data.splice(at..=at, split_source(&data[at], o));
        data.push(json!({
            "name": KEYS_DATASET, "source": SOURCE_DATASET,
            "transform": [{"type": "aggregate", "groupby": o.keys, "ops": ["count"], "fields": [null], "as": [ROWS]}]
        }));
        let mut partitioned =
            Partitioned { spec: Json::Null, keys: o.keys.clone(), keyed: HashMap::from([(SOURCE_DATASET.to_string(), true)]), keyed_signals: Vec::new() };
        for entry in data.iter_mut() {
            partitioned.rewrite_dataset(entry)?;
        }
        if !partitioned.keyed.contains_key(&source_name) {
            return refuse(format!("dataset '{source_name}' does not read the source"));
        }
        refuse_nested_reads(&spec, &partitioned.keyed)?;
        let usermeta = spec.as_object_mut().expect("a spec with data is an object").entry("usermeta").or_insert_with(|| json!({}));
        usermeta[USERMETA] = json!({"keys": o.keys, "dataset": KEYS_DATASET, "rows": ROWS});
        partitioned.refuse_keyed_signal_reads(&spec)?;
        partitioned.spec = spec;
        Ok(partitioned)
    }

    /// Rewrites a dataset derived from a keyed one; others stay as they are.
    fn rewrite_dataset(&mut self, entry: &mut Json) -> Result<(), BatchError> {
        let name = entry["name"].as_str().unwrap_or_default().to_string();
        if name == SOURCE_DATASET {
            return Ok(());
        }
        let sources: Vec<&str> = match &entry["source"] {
            Json::String(s) => vec![s.as_str()],
            Json::Array(a) => a.iter().filter_map(Json::as_str).collect(),
            _ => return Ok(()),
        };
        let from_keyed: Vec<bool> = sources.iter().filter_map(|s| self.keyed.get(*s).copied()).collect();
        if from_keyed.is_empty() {
            return Ok(());
        }
        if sources.len() > 1 {
            return refuse(format!("dataset '{name}' reads several datasets ({}): one chart per key cannot tell their rows apart", sources.join(", ")));
        }
        let transforms = entry.get("transform").and_then(Json::as_array).cloned().unwrap_or_default();
        let (rewritten, natural, signals) = rewrite_transforms(&name, transforms, &self.keys, from_keyed[0])?;
        entry["transform"] = Json::Array(rewritten);
        self.keyed.insert(name, natural);
        self.keyed_signals.extend(signals);
        Ok(())
    }

    /// A signal with one value per key can be read by the marks and axes of each
    /// chart (its value is set per key), but not by another transform of the
    /// evaluation, which would see every key's values.
    fn refuse_keyed_signal_reads(&self, spec: &Json) -> Result<(), BatchError> {
        let data = spec["data"].as_array().into_iter().flatten();
        for entry in data.filter(|d| d["name"].as_str().is_some_and(|n| self.keyed.contains_key(n))) {
            for (i, t) in entry["transform"].as_array().into_iter().flatten().enumerate() {
                let text = t.to_string();
                let own = [t.get("signal"), t.get(PARTITION_EXTENT_SIGNAL)].into_iter().flatten().filter_map(Json::as_str).collect::<Vec<_>>();
                if let Some(s) = self.keyed_signals.iter().find(|s| !own.contains(&s.as_str()) && mentions(&text, s)) {
                    return refuse(format!(
                        "dataset '{}', transform {i}: reads signal '{s}', which differs per key",
                        entry["name"].as_str().unwrap_or_default()
                    ));
                }
            }
        }
        Ok(())
    }
}

/// Whether JSON text mentions a name as a whole word.
fn mentions(text: &str, name: &str) -> bool {
    let word = |c: char| c.is_alphanumeric() || c == '_' || c == '$';
    text.match_indices(name).any(|(i, _)| {
        let before = text[..i].chars().next_back().is_none_or(|c| !word(c));
        let after = text[i + name.len()..].chars().next().is_none_or(|c| !word(c));
        before && after
    })
}

/// The index of the template's source dataset.
fn source_index(data: &[Json], chosen: Option<&str>) -> Result<usize, BatchError> {
    let name = |d: &Json| d["name"].as_str().unwrap_or_default().to_string();
    if let Some(chosen) = chosen {
        return match data.iter().position(|d| d["name"] == chosen) {
            Some(i) if data[i].get("url").is_some() || data[i].get("values").is_some() => Ok(i),
            Some(_) => refuse(format!("dataset '{chosen}' reads no data of its own (no url or values)")),
            None => refuse(format!("no dataset '{chosen}' (datasets: {})", data.iter().map(name).collect::<Vec<_>>().join(", "))),
        };
    }
    let with_url: Vec<usize> = (0..data.len()).filter(|&i| data[i].get("url").is_some()).collect();
    match with_url[..] {
        [one] => Ok(one),
        [] => refuse("no dataset reads a URL; name the source dataset (--dataset)".into()),
        _ => refuse(format!(
            "several datasets read URLs ({}); name the source dataset (--dataset)",
            with_url.iter().map(|&i| name(&data[i])).collect::<Vec<_>>().join(", ")
        )),
    }
}

/// The source dataset as two: the root reading the data (keys valid, `where`
/// applied) and the template's dataset reading the root.
fn split_source(entry: &Json, o: &TemplateOptions) -> [Json; 2] {
    let mut root = Map::new();
    root.insert("name".into(), json!(SOURCE_DATASET));
    for key in ["url", "values", "format"] {
        if let Some(v) = entry.get(key) {
            root.insert(key.into(), v.clone());
        }
    }
    if let Some(url) = &o.source {
        root.remove("values");
        root.insert("url".into(), json!(url));
        // The template's format was its own file's; the source's is read from its name.
        root.remove("format");
    }
    let mut filters: Vec<Json> = o.keys.iter().map(|k| json!({"type": "filter", "expr": format!("isValid(datum[{}])", json!(k))})).collect();
    if let Some(w) = &o.where_ {
        filters.push(json!({"type": "filter", "expr": w}));
    }
    root.insert("transform".into(), Json::Array(filters));
    let mut template = entry.as_object().cloned().unwrap_or_default();
    for key in ["url", "values", "format"] {
        template.remove(key);
    }
    template.insert("source".into(), json!(SOURCE_DATASET));
    [Json::Object(root), Json::Object(template)]
}

/// A group's field names (`groupby` holds names or `{"field": name}`).
fn field_names(list: &Json) -> Vec<String> {
    let one = |v: &Json| v.as_str().map(str::to_string).or_else(|| v["field"].as_str().map(str::to_string));
    match list {
        Json::Array(items) => items.iter().filter_map(one).collect(),
        other => one(other).into_iter().collect(),
    }
}

/// Adds the keys missing from a list parameter; whether all were there already.
fn add_keys(t: &mut Json, param: &str, keys: &[String]) -> bool {
    let present = field_names(&t[param]);
    let missing: Vec<&String> = keys.iter().filter(|k| !present.contains(k)).collect();
    if missing.is_empty() {
        return true;
    }
    let mut list = match t[param].take() {
        Json::Array(a) => a,
        Json::Null => Vec::new(),
        one => vec![one],
    };
    list.extend(missing.iter().map(|k| json!(k)));
    t[param] = Json::Array(list);
    false
}

fn truthy(v: Option<&Json>) -> bool {
    !matches!(v, None | Some(Json::Null) | Some(Json::Bool(false)))
}

/// A dataset's transforms made per key: the rewritten list, whether its rows still
/// carry the keys of their own, and the signals that now hold a value per key.
fn rewrite_transforms(dataset: &str, transforms: Vec<Json>, keys: &[String], mut natural: bool) -> Result<(Vec<Json>, bool, Vec<String>), BatchError> {
    let mut out = Vec::new();
    let mut signals = Vec::new();
    // An `extent` waiting for the `bin` that reads its signal: (index, signal, field).
    let mut extent: Option<(usize, String, Json)> = None;
    for (i, mut t) in transforms.into_iter().enumerate() {
        let kind = t["type"].as_str().unwrap_or_default().to_string();
        let cannot = |why: &str| refuse(format!("dataset '{dataset}', transform {i} ({kind}): cannot run per key: {why}"));
        match partition_rule(&kind) {
            Partition::RowLocal => {}
            Partition::RowLocalWith(param, why) if t.get(param).is_none() => return cannot(why),
            Partition::RowLocalWith(..) => {}
            Partition::GroupByWithout(param, why) if truthy(t.get(param)) => return cannot(why),
            Partition::GroupBy | Partition::GroupByWithout(..) => natural &= add_keys(&mut t, "groupby", keys),
            Partition::Fields => {
                let had = add_keys(&mut t, "fields", keys);
                if !had && t.get("as").is_some() {
                    add_keys(&mut t, "as", keys);
                }
                natural &= had;
            }
            Partition::Keyed if kind == "extent" => {
                let Some(signal) = t["signal"].as_str() else { return cannot("an extent without a signal has no use") };
                if extent.is_some() {
                    return cannot("a second extent before a bin reads the first");
                }
                extent = Some((i, signal.to_string(), t["field"].clone()));
                continue;
            }
            Partition::Keyed => match t.get("extent").cloned() {
                Some(Json::Array(_)) => {} // a constant extent: the same bins for every key
                Some(Json::Object(o)) if o.len() == 1 => {
                    let read = o["signal"].as_str().unwrap_or_default();
                    let Some((_, signal, field)) = extent.take().filter(|(_, s, f)| s == read && *f == t["field"]) else {
                        return cannot(&format!("its extent comes from signal '{read}', not from an extent of its own field"));
                    };
                    let params = t.as_object_mut().expect("a transform is an object");
                    params.remove("extent");
                    params.insert(PARTITION_KEYS.into(), json!(keys));
                    params.insert(PARTITION_EXTENT_SIGNAL.into(), json!(signal));
                    let _ = field;
                    signals.push(signal);
                    signals.extend(t["signal"].as_str().map(str::to_string));
                }
                Some(other) => return cannot(&format!("extent {other} is neither constant nor a signal")),
                None => {
                    t[PARTITION_KEYS] = json!(keys);
                    signals.extend(t["signal"].as_str().map(str::to_string));
                }
            },
            Partition::No(why) => return cannot(why),
        }
        out.push(t);
    }
    if let Some((i, signal, _)) = extent {
        return refuse(format!("dataset '{dataset}', transform {i} (extent): cannot run per key: its signal '{signal}' is read by no bin of the dataset"));
    }
    Ok((out, natural, signals))
}

/// Group marks' own data derived from a keyed dataset would mix keys.
fn refuse_nested_reads(spec: &Json, keyed: &HashMap<String, bool>) -> Result<(), BatchError> {
    fn walk(node: &Json, keyed: &HashMap<String, bool>, top: bool) -> Result<(), BatchError> {
        if !top {
            for d in node["data"].as_array().into_iter().flatten() {
                let reads = field_names(&d["source"]);
                if let Some(s) = reads.iter().find(|s| keyed.contains_key(*s)) {
                    return refuse(format!("group data '{}' reads '{s}' inside a group mark: not per key yet", d["name"].as_str().unwrap_or_default()));
                }
            }
        }
        for m in node["marks"].as_array().into_iter().flatten() {
            walk(m, keyed, false)?;
        }
        Ok(())
    }
    walk(spec, keyed, true)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn options(keys: &[&str]) -> TemplateOptions {
        TemplateOptions { keys: keys.iter().map(|k| k.to_string()).collect(), ..TemplateOptions::default() }
    }

    fn histogram() -> Json {
        json!({"data": [
            {"name": "source_0", "url": "flights.parquet", "format": {"type": "parquet"}},
            {"name": "data_0", "source": "source_0", "transform": [
                {"type": "extent", "field": "delay", "signal": "bin_extent"},
                {"type": "bin", "field": "delay", "as": ["b0", "b1"], "signal": "bin_bins", "extent": {"signal": "bin_extent"}, "maxbins": 10},
                {"type": "aggregate", "groupby": ["b0", "b1"], "ops": ["count"], "fields": [null], "as": ["n"]}
            ]}
        ]})
    }

    #[test]
    fn a_histogram_bins_and_counts_per_key() {
        let p = Partitioned::new(&histogram(), &options(&["carrier"])).unwrap();
        let data = p.spec["data"].as_array().unwrap();
        let names: Vec<&str> = data.iter().map(|d| d["name"].as_str().unwrap()).collect();
        assert_eq!(names, [SOURCE_DATASET, "source_0", "data_0", KEYS_DATASET]);
        assert_eq!(data[0]["url"], "flights.parquet");
        assert_eq!(data[0]["transform"][0]["expr"], "isValid(datum[\"carrier\"])");
        assert_eq!(data[1]["source"], SOURCE_DATASET);
        let t = data[2]["transform"].as_array().unwrap();
        assert_eq!(t.len(), 2, "the extent is folded into the bin");
        assert_eq!(t[0][PARTITION_KEYS], json!(["carrier"]));
        assert_eq!(t[0][PARTITION_EXTENT_SIGNAL], "bin_extent");
        assert!(t[0].get("extent").is_none());
        assert_eq!(t[1]["groupby"], json!(["b0", "b1", "carrier"]));
        assert_eq!(p.keyed.get("data_0"), Some(&false), "the keys were added: dropped per chart");
        assert_eq!(p.keyed.get("source_0"), Some(&true));
        assert_eq!(p.keyed_signals, ["bin_extent", "bin_bins"]);
    }

    #[test]
    fn a_grouping_by_the_key_keeps_it() {
        let spec = json!({"data": [{"name": "s", "url": "x.csv", "transform": [
            {"type": "aggregate", "groupby": [{"field": "k"}, "b"], "ops": ["sum"], "fields": ["v"]}]}]});
        let p = Partitioned::new(&spec, &options(&["k"])).unwrap();
        assert_eq!(p.keyed.get("s"), Some(&true));
        assert_eq!(p.spec["data"][1]["transform"][0]["groupby"], json!([{"field": "k"}, "b"]));
    }

    #[test]
    fn where_and_source_go_to_the_root() {
        let o = TemplateOptions { source: Some("s3://b/t.parquet".into()), where_: Some("datum.year > 2000".into()), ..options(&["a", "b"]) };
        let p = Partitioned::new(&histogram(), &o).unwrap();
        let root = &p.spec["data"][0];
        assert_eq!(root["url"], "s3://b/t.parquet");
        assert!(root.get("format").is_none());
        assert_eq!(root["transform"].as_array().unwrap().len(), 3);
        assert_eq!(root["transform"][2]["expr"], "datum.year > 2000");
    }

    #[test]
    fn what_cannot_run_per_key_is_refused_with_the_place() {
        let with = |t: Json| json!({"data": [{"name": "s", "url": "x.csv", "transform": [t]}]});
        let cases = [
            (json!({"type": "impute", "field": "v", "key": "x"}), "transform 0 (impute): cannot run per key: it imputes the key values of every key"),
            (json!({"type": "aggregate", "groupby": ["a"], "cross": true}), "its cross product spans every key's values"),
            (json!({"type": "timeunit", "field": "t"}), "without units"),
            (json!({"type": "pivot", "field": "a", "value": "v"}), "its columns are the values of every key"),
            (json!({"type": "no-such"}), "vegalake does not know it"),
            (json!({"type": "extent", "field": "v", "signal": "e"}), "read by no bin"),
        ];
        for (t, needle) in cases {
            let e = Partitioned::new(&with(t.clone()), &options(&["k"])).unwrap_err().to_string();
            assert!(e.contains(needle), "{t}: {e}");
        }
        // Both ways: what the registry allows passes.
        for t in [
            json!({"type": "formula", "expr": "1", "as": "f"}),
            json!({"type": "timeunit", "field": "t", "units": ["year"]}),
            json!({"type": "window", "ops": ["rank"]}),
        ] {
            assert!(Partitioned::new(&with(t.clone()), &options(&["k"])).is_ok(), "{t}");
        }
    }

    #[test]
    fn the_source_must_be_clear() {
        let two = json!({"data": [{"name": "a", "url": "a.csv"}, {"name": "b", "url": "b.csv"}]});
        let e = Partitioned::new(&two, &options(&["k"])).unwrap_err().to_string();
        assert!(e.contains("several datasets read URLs (a, b)"), "{e}");
        assert!(Partitioned::new(&two, &TemplateOptions { dataset: Some("b".into()), ..options(&["k"]) }).is_ok());
        let e = Partitioned::new(&two, &TemplateOptions { dataset: Some("c".into()), ..options(&["k"]) }).unwrap_err().to_string();
        assert!(e.contains("no dataset 'c'"), "{e}");
        assert!(Partitioned::new(&two, &options(&[])).unwrap_err().to_string().contains("no key columns"));
    }

    #[test]
    fn a_per_key_signal_read_by_another_transform_is_refused() {
        let mut spec = histogram();
        spec["data"][1]["transform"].as_array_mut().unwrap().push(json!({"type": "formula", "expr": "bin_bins.step", "as": "s"}));
        let e = Partitioned::new(&spec, &options(&["carrier"])).unwrap_err().to_string();
        assert!(e.contains("reads signal 'bin_bins', which differs per key"), "{e}");
    }
}
