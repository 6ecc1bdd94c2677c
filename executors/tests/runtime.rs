//! The task-graph runtime: caching, sharing, bounds, and ChartState's errors.

use serde_json::{json, Value as Json};
use std::path::PathBuf;
use std::sync::Arc;
use vegalake_executors::engine::LocalEngine;
use vegalake_executors::{pre_transform_datasets, pre_transform_spec, ChartOptions, ChartState, Runtime, VarValue, DEFAULT_CACHE_BYTES};
use vegalake_planner::{Namespace, Spec, Var};

fn data_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../integration-tests/datasets")
}

fn options() -> ChartOptions {
    ChartOptions { data: vegalake_executors::DataAccess::new(data_dir()), ..ChartOptions::default() }
}

fn spec(v: Json) -> Spec {
    serde_json::from_value(v).expect("valid spec")
}

/// Cars over some horsepower, counted per origin; shown by a mark.
fn cars_chart(name: &str, min_hp: u32) -> Spec {
    spec(json!({
        "data": [
            {"name": name, "url": "data/cars.json", "transform": [{"type": "filter", "expr": format!("datum.Horsepower > {min_hp}")}]},
            {"name": "counts", "source": name, "transform": [{"type": "aggregate", "groupby": ["Origin"]}]}
        ],
        "marks": [{"type": "rect", "from": {"data": "counts"}, "encode": {"update": {"x": {"field": "Origin"}, "y": {"field": "count"}}}}]
    }))
}

#[tokio::test]
async fn a_second_pretransform_computes_nothing() {
    let runtime = Arc::new(Runtime::default());
    let (first, _) = pre_transform_spec(runtime.clone(), &cars_chart("big", 100), options()).await.unwrap();
    let computed = runtime.cache().stats().computed;
    assert!(computed >= 2, "load and result computed, got {computed}");
    let (second, _) = pre_transform_spec(runtime.clone(), &cars_chart("big", 100), options()).await.unwrap();
    assert_eq!(runtime.cache().stats().computed, computed, "nothing computed the second time");
    assert_eq!(first, second);
    let counts = &second.data()[0];
    assert_eq!(counts.name, "counts", "the filtered source is not shipped: {:?}", second.data());
    assert_eq!(counts.values.as_ref().unwrap().as_array().unwrap().len(), 3);
}

#[tokio::test]
async fn specs_sharing_a_source_and_filter_share_its_node() {
    let runtime = Arc::new(Runtime::default());
    let shown = |name: &str| {
        spec(json!({
            "data": [{"name": name, "url": "data/cars.json", "transform": [{"type": "filter", "expr": "datum.Horsepower > 150"}]}],
            "marks": [{"type": "symbol", "from": {"data": name}, "encode": {"update": {"x": {"field": "Horsepower"}}}}]
        }))
    };
    pre_transform_spec(runtime.clone(), &shown("a"), options()).await.unwrap();
    let before = runtime.cache().stats();
    // Another chart, another dataset name, the same source and filter, plus a node of its own.
    let mut other = shown("b");
    other.data.as_mut().unwrap().push(serde_json::from_value(json!({"name": "n", "source": "b", "transform": [{"type": "aggregate"}]})).unwrap());
    other
        .marks
        .as_mut()
        .unwrap()
        .push(serde_json::from_value(json!({"type": "text", "from": {"data": "n"}, "encode": {"update": {"text": {"field": "count"}}}})).unwrap());
    let (client, _) = pre_transform_spec(runtime.clone(), &other, options()).await.unwrap();
    let after = runtime.cache().stats();
    assert_eq!(after.computed - before.computed, 1, "only the aggregate is new");
    assert!(after.hits >= before.hits + 2, "the load and the filtered rows were reused");
    let b = &client.data()[0];
    let row = b.values.as_ref().unwrap()[0].as_object().unwrap();
    assert_eq!(row.keys().collect::<Vec<_>>(), vec!["Horsepower"], "only the column the marks use is sent");
}

#[tokio::test]
async fn memory_stays_under_the_bound_over_a_thousand_specs() {
    let bound = 160 * 1024;
    let runtime = Arc::new(Runtime::new(bound));
    for i in 0..1000 {
        let chart = cars_chart(&format!("d{i}"), i);
        pre_transform_spec(runtime.clone(), &chart, options()).await.unwrap();
        let used = runtime.cache().stats().used_bytes;
        assert!(used <= bound, "spec {i}: cache holds {used} bytes, bound {bound}");
    }
    let stats = runtime.cache().stats();
    assert!(stats.evictions > 0 && stats.hits > 0, "{stats:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_requests_for_one_chart_compute_once() {
    let single = Arc::new(Runtime::default());
    pre_transform_spec(single.clone(), &cars_chart("x", 90), options()).await.unwrap();
    let runtime = Arc::new(Runtime::default());
    let chart = cars_chart("x", 90);
    let (a, b) = tokio::join!(pre_transform_spec(runtime.clone(), &chart, options()), pre_transform_spec(runtime.clone(), &chart, options()));
    assert_eq!(a.unwrap(), b.unwrap());
    assert_eq!(runtime.cache().stats().computed, single.cache().stats().computed);
}

#[tokio::test]
async fn chart_updates_return_what_changed_and_refuse_unknown_names() {
    let chart = spec(json!({
        "signals": [{"name": "minhp", "value": 100, "bind": {"input": "range"}}],
        "data": [
            {"name": "cars", "url": "data/cars.json"},
            {"name": "fast", "source": "cars", "transform": [{"type": "filter", "expr": "datum.Horsepower > minhp"}, {"type": "aggregate"}]},
            {"name": "all", "source": "cars", "transform": [{"type": "aggregate"}]}
        ],
        "marks": [{"type": "text", "from": {"data": "fast"}, "encode": {"update": {"text": {"field": "count"}}}},
                  {"type": "text", "from": {"data": "all"}, "encode": {"update": {"text": {"field": "count"}}}}]
    }));
    let mut state = ChartState::open(Arc::new(Runtime::default()), &chart, options()).await.unwrap();
    assert_eq!(state.comm_plan().client_to_server, vec![Var::signal("minhp", &[])]);
    let set = |v: Json| vec![VarValue { namespace: Namespace::Signal, name: "minhp".into(), scope: vec![], value: v }];
    let changed = state.update(&set(json!(200))).await.unwrap();
    assert_eq!(changed.len(), 1, "only 'fast' depends on minhp: {changed:?}");
    assert_eq!(changed[0].name, "fast");
    assert!(state.update(&set(json!(200))).await.unwrap().is_empty(), "the same value changes nothing");
    let unknown = vec![VarValue { namespace: Namespace::Signal, name: "nope".into(), scope: vec![], value: json!(1) }];
    let err = state.update(&unknown).await.unwrap_err().to_string();
    assert!(err.contains("declares no signal 'nope'"), "{err}");
    assert_eq!(state.update(&set(json!(300))).await.unwrap().len(), 1, "still serving after an error");
}

#[tokio::test]
async fn pre_transform_datasets_returns_arrow_or_says_why_not() {
    let runtime = Runtime::default();
    let chart = cars_chart("big", 100);
    let tables = pre_transform_datasets(&runtime, &chart, &[Var::data("counts", &[])], &options()).await.unwrap();
    assert_eq!(tables[0].iter().map(|b| b.num_rows()).sum::<usize>(), 3);
    let err = pre_transform_datasets(&runtime, &chart, &[Var::data("missing", &[])], &options()).await.unwrap_err();
    assert!(err.to_string().contains("no such dataset"), "{err}");
}

#[tokio::test]
async fn a_query_past_the_memory_limit_fails_as_such_and_a_roomier_runtime_answers() {
    // Grouping cars by name holds a hash table no one-kilobyte pool can hold, even spilling.
    let chart = spec(json!({
        "data": [{"name": "names", "url": "data/cars.json", "transform": [{"type": "aggregate", "groupby": ["Name"], "ops": ["mean"], "fields": ["Horsepower"]}]}],
        "marks": [{"type": "text", "from": {"data": "names"}, "encode": {"update": {"text": {"field": "Name"}}}}]
    }));
    let bounded = |bytes| Arc::new(Runtime::with_engine(Arc::new(LocalEngine::default()), DEFAULT_CACHE_BYTES, Some(bytes)));
    let tight = bounded(1 << 10);
    let err = pre_transform_spec(tight, &chart, options()).await.unwrap_err();
    assert_eq!(err.kind, vegalake_executors::ErrorKind::Memory, "{err}");
    assert!(err.to_string().contains("memory limit"), "{err}");
    let roomy = bounded(64 << 20);
    let (client, _) = pre_transform_spec(roomy, &chart, options()).await.unwrap();
    let (unbounded, _) = pre_transform_spec(Arc::new(Runtime::default()), &chart, options()).await.unwrap();
    assert_eq!(client, unbounded, "a limit the query fits in changes nothing");
}
