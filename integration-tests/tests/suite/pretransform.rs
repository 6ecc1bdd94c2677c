//! Every spec of the conformance suite, pretransformed by vegalake and run in vega.js
//! (the Node harness), must compute the same data in every dataset the client still
//! has as the original spec did in vega.js. Columns the client never mentions are
//! not sent, so rows compare on the columns the client has.

use crate::{arrow_proxies, columns, expected_files, read_json, restrict, root, run_harness, spec_options};
use serde_json::{Map, Value as Json};
use std::collections::HashMap;
use std::sync::Arc;
use vegalake_executors::{pre_transform_spec, ChartOptions, Interactivity, Runtime};
use vegalake_integration_tests::compare_datasets;
use vegalake_planner::Spec;

/// Datasets whose values differ between two runs of vega.js itself.
const NONDETERMINISTIC: &[(&str, &str, &str)] = &[
    ("expr_client_only", "f1", "random()"),
    ("expr_client_only", "f3", "now()"),
    ("aggregate_client_ops", "ci", "ci0 and ci1 are random bootstraps"),
    ("vl_errorbar_ci", "source_0", "ci0 and ci1 are random bootstraps"),
];

/// A selection store's rows without the accessors (`getter`) vega.js caches on them
/// when an expression tests the selection: a cache, not data. Depending on where
/// the test ran (the server, or the browser after a standalone spec's cut), one
/// side has them and the other not.
fn without_getters(rows: &Json) -> Json {
    let mut rows = rows.clone();
    for row in rows.as_array_mut().into_iter().flatten() {
        for f in row.get_mut("fields").and_then(Json::as_array_mut).into_iter().flatten() {
            if let Some(o) = f.as_object_mut() {
                o.remove("getter");
            }
        }
    }
    rows
}

/// The spec of an expected file with the options its `usermeta.vegalake` asks for.
pub fn spec_and_options(expected: &Json) -> (Spec, ChartOptions) {
    let spec: Spec = serde_json::from_value(expected["spec"].clone()).expect("expected files hold valid specs");
    (spec, ChartOptions::from(spec_options(expected)))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pretransformed_specs_compute_what_the_originals_do() {
    check_pretransformed(Interactivity::Server).await;
}

/// The standalone form (the HTML renderer's, `vegalake pretransform`'s): what the
/// browser runs after the cut must give the same data too.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn standalone_pretransformed_specs_compute_what_the_originals_do() {
    check_pretransformed(Interactivity::Browser).await;
}

async fn check_pretransformed(interactivity: Interactivity) {
    let runtime = Arc::new(Runtime::default());
    let dir = std::env::temp_dir().join(format!("vegalake-pretransform-{}-{interactivity:?}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let mut manifest = Vec::new();
    let mut originals: HashMap<String, Json> = HashMap::new();
    let mut failures = Vec::new();
    let (mut original_bytes, mut client_bytes) = (0usize, 0usize);
    for f in expected_files() {
        let name = f.file_stem().unwrap().to_str().unwrap().to_string();
        let expected = read_json(&f);
        let (spec, options) = spec_and_options(&expected);
        let options = ChartOptions { interactivity, ..options };
        let meta = expected["spec"]["usermeta"]["vegalake"].clone();
        match pre_transform_spec(runtime.clone(), &spec, options).await {
            Ok((client, _warnings)) => {
                let text = serde_json::to_string(&client).expect("serializes");
                client_bytes += text.len();
                original_bytes += expected["spec"].to_string().len();
                let path = dir.join(format!("{name}.vg.json"));
                std::fs::write(&path, text).expect("write client spec");
                manifest.push(serde_json::json!({"name": name, "spec": path, "timezone": meta["timezone"], "set": meta["set"], "store": meta["store"]}));
                originals.insert(name, expected["datasets"].clone());
            }
            Err(e) => failures.push(format!("{name}: fails to plan: {e}")),
        }
    }
    let manifest_path = dir.join("manifest.json");
    std::fs::write(&manifest_path, serde_json::to_string(&manifest).unwrap()).expect("write manifest");
    let results = run_harness("client-check.mjs", &[&manifest_path, std::path::Path::new("--data-dir"), &root().join("datasets")]);
    let mut checked = 0;
    for (name, original) in &originals {
        let ours = &results[name.as_str()];
        if let Some(e) = ours.get("error") {
            failures.push(format!("{name}: the client spec fails in vega.js: {e}"));
            continue;
        }
        let empty = Map::new();
        for (ds, rows) in ours["datasets"].as_object().unwrap_or(&empty) {
            let Some(theirs) = original.get(ds) else { continue };
            let rows = &without_getters(rows);
            if NONDETERMINISTIC.iter().any(|(s, d, _)| s == name && d == ds) {
                continue;
            }
            let theirs = &without_getters(theirs);
            checked += 1;
            let diff = if arrow_proxies(theirs) {
                (rows.as_array().map(Vec::len) != theirs.as_array().map(Vec::len)).then(|| "row count differs".to_string())
            } else {
                let cols = columns(rows);
                let original_columns = columns(theirs);
                let extra: Vec<_> = cols.difference(&original_columns).collect();
                if extra.is_empty() {
                    compare_datasets(rows, &restrict(theirs, &cols), false)
                } else {
                    Some(format!("columns {extra:?} are not in the original"))
                }
            };
            if let Some(d) = diff {
                failures.push(format!("{name}/{ds}: {d}"));
            }
        }
    }
    let _ = std::fs::remove_dir_all(&dir);
    println!(
        "pretransform ({interactivity:?}): {} specs planned, {checked} client datasets equal to the original in vega.js; specs {} KB as written, {} KB as sent",
        originals.len(),
        original_bytes / 1024,
        client_bytes / 1024
    );
    assert!(failures.is_empty(), "{} failures:\n{}", failures.len(), failures.join("\n"));
}

/// A projection the server fitted reaches the client as its fitted `scale` and
/// `translate`, without the points it was fitted to (a `geojson` signal of every
/// row). In the layered chart the first layer's `geopoint` runs in the browser
/// (the second layer's points come later), through the same fitted projection.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_projection_fitted_on_the_server_ships_its_scale_not_its_points() {
    let runtime = Arc::new(Runtime::default());
    for name in ["vl_geo_points_albersUsa", "vl_geo_points_layers"] {
        let (spec, options) = spec_and_options(&read_json(&root().join(format!("expected/{name}.json"))));
        let client = serde_json::to_value(pre_transform_spec(runtime.clone(), &spec, options).await.expect("pretransforms").0).unwrap();
        let projection = &client["projections"][0];
        assert!(projection["scale"].is_number() && projection["translate"].is_array() && projection.get("fit").is_none(), "{name}: {projection}");
        let signals: Vec<&str> = client["signals"].as_array().into_iter().flatten().filter_map(|s| s["name"].as_str()).collect();
        assert!(!signals.iter().any(|s| s.contains("geojson")), "{name}: {signals:?}");
    }
}
