//! What reaches the browser for charts over large Parquet files: a histogram of
//! flights-3m.parquet (3 million rows) and a crossfilter of three histograms.

use crate::{read_json, root};
use serde_json::{json, Value as Json};
use std::sync::Arc;
use vegalake_executors::{pre_transform_spec, ChartOptions, Runtime};
use vegalake_planner::Spec;

fn vega_datasets() -> std::path::PathBuf {
    let dir = root().join("harness/node_modules/vega-datasets");
    assert!(dir.join("data/flights-3m.parquet").is_file(), "vega-datasets is not installed: run `npm ci` in integration-tests/harness");
    dir
}

/// The largest inlined dataset of a client spec, in rows.
fn largest_inline(spec: &Spec) -> usize {
    spec.data().iter().filter_map(|d| d.values.as_ref()?.as_array().map(Vec::len)).max().unwrap_or(0)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_histogram_of_three_million_rows_reaches_the_client_small() {
    let spec: Spec = serde_json::from_value(json!({
        "$schema": "https://vega.github.io/schema/vega/v6.json", "width": 400, "height": 200,
        "data": [
            {"name": "flights", "url": "data/flights-3m.parquet"},
            {"name": "hist", "source": "flights", "transform": [
                {"type": "extent", "field": "delay", "signal": "delay_extent"},
                {"type": "bin", "field": "delay", "extent": {"signal": "delay_extent"}, "maxbins": 30, "signal": "delay_bins", "as": ["bin0", "bin1"]},
                {"type": "aggregate", "groupby": ["bin0", "bin1"], "ops": ["count"], "as": ["count"]}]}],
        "scales": [
            {"name": "x", "type": "linear", "domain": {"signal": "[delay_bins.start, delay_bins.stop]"}, "range": "width"},
            {"name": "y", "type": "linear", "domain": {"data": "hist", "field": "count"}, "range": "height"}],
        "axes": [{"orient": "bottom", "scale": "x"}, {"orient": "left", "scale": "y"}],
        "marks": [{"type": "rect", "from": {"data": "hist"}, "encode": {"update": {
            "x": {"scale": "x", "field": "bin0"}, "x2": {"scale": "x", "field": "bin1"},
            "y": {"scale": "y", "field": "count"}, "y2": {"scale": "y", "value": 0}}}}]
    }))
    .unwrap();
    let options = ChartOptions { data: vegalake_executors::DataAccess::new(vega_datasets()), ..ChartOptions::default() };
    let (client, warnings) = pre_transform_spec(Arc::new(Runtime::default()), &spec, options).await.unwrap();
    let text = serde_json::to_string(&client).unwrap();
    println!("scale: histogram of flights-3m.parquet: client spec {} bytes, {} bins", text.len(), largest_inline(&client));
    assert!(text.len() < 20 * 1024, "client spec of {} bytes", text.len());
    assert!(warnings.is_empty(), "{warnings:?}");
    assert_eq!(client.data().iter().map(|d| d.name.as_str()).collect::<Vec<_>>(), vec!["hist"], "the raw rows stay on the server");
    let counted: f64 = client.data()[0].values.as_ref().unwrap().as_array().unwrap().iter().map(|r| r["count"].as_f64().unwrap()).sum();
    assert_eq!(counted, 3_000_000.0);
    assert!(client.signals().iter().any(|s| s.name == "delay_bins"), "the bin signal the axis reads is declared");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_interactive_crossfilter_over_parquet_ships_no_raw_rows() {
    let mut spec: Json = read_json(&root().join("interactions/expected/crossfilter_three_histograms.json"))["spec"].clone();
    for d in spec["data"].as_array_mut().unwrap() {
        if d["name"] == "source_0" {
            d["url"] = json!("data/flights-2k.parquet");
            d.as_object_mut().unwrap().remove("format");
        }
    }
    let spec: Spec = serde_json::from_value(spec).unwrap();
    let options = ChartOptions { data: vegalake_executors::DataAccess::new(root().join("datasets")), ..ChartOptions::default() };
    let (client, _) = pre_transform_spec(Arc::new(Runtime::default()), &spec, options).await.unwrap();
    let largest = largest_inline(&client);
    println!("scale: crossfilter over flights-2k.parquet: largest inlined dataset {largest} rows");
    assert!(largest <= 30, "a dataset of {largest} rows was inlined");
    assert!(client.data().iter().all(|d| d.url.is_none() && d.source.is_none()), "nothing left reads the raw data");
}
