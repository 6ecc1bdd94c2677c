//! Brush indexes answer exactly what the plain filtered scan answers: a crossfilter
//! over rows with floats, integer-valued floats, heavy duplicates, nulls, NaN and
//! dates, brushed at random (positions on data values, on bin edges, fractional on
//! integers, reversed, outside the domain, empty), on two runtimes: one with brush
//! indexes, one without.

use datafusion::arrow::array::{ArrayRef, Float64Array, RecordBatch, TimestampMillisecondArray};
use datafusion::arrow::datatypes::{DataType, Field, Schema, TimeUnit};
use serde_json::{json, Value as Json};
use std::sync::Arc;
use vegalake_connectors::MemoryTable;
use vegalake_executors::{ChartOptions, ChartState, DataAccess, Runtime, VarValue};
use vegalake_planner::{Namespace, Spec};

const ROWS: usize = 10_000;
/// 600 brushes in all: each update is a pass over the chart on two runtimes, and
/// debug builds plan slowly (about 0.3 s per brush here).
const BRUSHES_PER_VIEW: usize = 150;
/// Brushed fields, with the domain the random bounds are drawn around.
const FIELDS: [(&str, f64, f64); 4] = [("x", -50.0, 50.0), ("n", 0.0, 20.0), ("dup", 0.0, 3.0), ("t", 1.6e12, 1.7e12)];

/// A deterministic xorshift generator (no clocks, no seeds from the environment).
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> f64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        (self.0 >> 11) as f64 / (1u64 << 53) as f64
    }
}

/// The rows, as an in-memory Arrow table (`vegalake+dataset://rows`).
fn table(rng: &mut Rng) -> DataAccess {
    let mut x = Vec::with_capacity(ROWS);
    let (mut n, mut dup, mut t) = (Vec::with_capacity(ROWS), Vec::with_capacity(ROWS), Vec::with_capacity(ROWS));
    for i in 0..ROWS {
        x.push(match i {
            _ if i % 17 == 0 => None,
            _ if i % 29 == 0 => Some(f64::NAN),
            _ => Some((rng.next() - 0.5) * 100.0),
        });
        n.push((i % 23 != 0).then(|| (rng.next() * 20.0).floor()));
        dup.push((i % 4) as f64);
        t.push(1_600_000_000_000 + (rng.next() * 1e11) as i64);
    }
    let schema = Arc::new(Schema::new(vec![
        Field::new("x", DataType::Float64, true),
        Field::new("n", DataType::Float64, true),
        Field::new("dup", DataType::Float64, false),
        Field::new("t", DataType::Timestamp(TimeUnit::Millisecond, None), false),
    ]));
    let columns: Vec<ArrayRef> =
        vec![Arc::new(Float64Array::from(x)), Arc::new(Float64Array::from(n)), Arc::new(Float64Array::from(dup)), Arc::new(TimestampMillisecondArray::from(t))];
    let batch = RecordBatch::try_new(schema.clone(), columns).expect("a batch");
    DataAccess {
        memory: Arc::new([("rows".to_string(), Arc::new(MemoryTable::new(schema, vec![batch], "rows v1")))].into_iter().collect()),
        ..DataAccess::default()
    }
}

/// Each view: a histogram of its field, filtered by the brush over any field, with
/// every mergeable measure.
fn spec() -> Spec {
    let mut data = vec![
        json!({"name": "brush_store"}),
        json!({"name": "source", "url": "vegalake+dataset://rows"}),
        json!({"name": "brushed", "source": "source", "transform": [
            {"type": "filter", "expr": "!length(data(\"brush_store\")) || vlSelectionTest(\"brush_store\", datum)"}
        ]}),
    ];
    for (field, lo, hi) in FIELDS {
        data.push(json!({"name": format!("view_{field}"), "source": "brushed", "transform": [
            {"type": "bin", "field": field, "extent": [lo, hi], "maxbins": 10, "as": [format!("{field}0"), format!("{field}1")]},
            {"type": "aggregate", "groupby": [format!("{field}0"), format!("{field}1")],
             "ops": ["count", "valid", "missing", "min", "max", "min", "max"],
             "fields": [null, "x", "x", "x", "x", "t", "n"],
             "as": ["count", "valid", "missing", "min_x", "max_x", "min_t", "max_t"]}
        ]}));
    }
    data.push(json!({"name": "total", "source": "brushed", "transform": [{"type": "aggregate", "ops": ["count", "max"], "fields": [null, "dup"]}]}));
    let marks: Vec<Json> = data[3..].iter().map(|d| json!({"type": "rect", "from": {"data": d["name"]}})).collect();
    serde_json::from_value(json!({"data": data, "marks": marks})).expect("valid spec")
}

/// A random bound near `[lo, hi]`: a data-like value, a bin edge, a fraction,
/// or far outside.
fn bound(rng: &mut Rng, lo: f64, hi: f64) -> f64 {
    let span = hi - lo;
    match (rng.next() * 5.0) as u32 {
        0 => lo + (rng.next() * span).floor(),
        1 => lo + span / 10.0 * (rng.next() * 11.0).floor(),
        2 => lo + rng.next() * span,
        3 => lo - span + rng.next() * 3.0 * span,
        _ => (lo + rng.next() * span).floor() + 0.5,
    }
}

fn brush(rng: &mut Rng, field: &str, lo: f64, hi: f64) -> Vec<VarValue> {
    let value = if rng.next() < 0.05 {
        json!([])
    } else {
        let (a, b) = (bound(rng, lo, hi), bound(rng, lo, hi));
        json!([{"unit": "view", "fields": [{"field": field, "channel": "x", "type": "R"}], "values": [[a, b]]}])
    };
    vec![VarValue { namespace: Namespace::Data, name: "brush_store".into(), scope: vec![], value }]
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn brush_index_answers_equal_the_filtered_scan() {
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
    let (spec, options) = (spec(), ChartOptions { data: table(&mut rng), ..ChartOptions::default() });
    let (indexed, plain) = (Arc::new(Runtime::default()), Arc::new(Runtime::default()));
    plain.brush_indexes().set_enabled(false);
    let mut with_index = ChartState::open(indexed.clone(), &spec, options.clone()).await.expect("opens");
    let mut without = ChartState::open(plain.clone(), &spec, options).await.expect("opens");
    let (mut compared, mut brushed) = (0, 0);
    for (field, lo, hi) in FIELDS {
        for i in 0..BRUSHES_PER_VIEW {
            let changes = brush(&mut rng, field, lo, hi);
            let got = with_index.update(&changes).await.expect("indexed update");
            // Cubes build in the background: from the next brush on, they answer.
            indexed.brush_indexes().settled().await;
            let want = without.update(&changes).await.expect("plain update");
            let by_name = |v: &[VarValue]| v.iter().map(|v| (v.name.clone(), v.value.clone())).collect::<std::collections::BTreeMap<_, _>>();
            assert_eq!(by_name(&got), by_name(&want), "brush {i} over {field}: {:?}", changes[0].value);
            compared += got.len();
            if changes[0].value.as_array().is_some_and(|a| !a.is_empty()) {
                brushed += got.len();
            }
        }
    }
    assert!(compared > BRUSHES_PER_VIEW, "the brushes changed datasets ({compared} compared)");
    // Every view and the total, on every non-empty brush, except the first brush
    // of a field (answered by the plan while its cube builds) and brushes seen
    // before, whose results come from the result cache; an empty store filters
    // nothing and reads no column: no cube.
    let answered = indexed.brush_indexes().answered();
    assert!(answered <= brushed && answered * 10 >= brushed * 9, "{answered} answers from cubes, {brushed} datasets changed by non-empty brushes");
    // Each answer ran whole in process: these plans have nothing above their
    // aggregate but what `in_process` runs.
    assert_eq!(indexed.brush_indexes().answered_in_process(), answered);
    assert_eq!(plain.brush_indexes().answered(), 0);
}

#[tokio::test]
async fn aggregates_that_do_not_merge_exactly_are_not_indexed() {
    let mut rng = Rng(7);
    let options = ChartOptions { data: table(&mut rng), ..ChartOptions::default() };
    let mut spec = serde_json::to_value(spec()).expect("spec as JSON");
    // A mean does not merge from partial means: a plan with it runs as it is.
    spec["data"][3]["transform"][1]["ops"][1] = json!("mean");
    let spec: Spec = serde_json::from_value(spec).expect("valid spec");
    let runtime = Arc::new(Runtime::default());
    let mut state = ChartState::open(runtime.clone(), &spec, options).await.expect("opens");
    // The first brush starts the cubes; the plans answer it.
    let first = state.update(&brush(&mut rng, "x", -50.0, 50.0)).await.expect("update");
    assert!(!first.is_empty());
    assert_eq!(runtime.brush_indexes().answered(), 0, "no cube was ready");
    runtime.brush_indexes().settled().await;
    let before = runtime.brush_indexes().answered();
    let changed = state.update(&brush(&mut rng, "x", -50.0, 50.0)).await.expect("update");
    let changed: Vec<&str> = changed.iter().map(|v| v.name.as_str()).collect();
    assert!(changed.contains(&"view_x"), "{changed:?}");
    // The other four datasets come from cubes; view_x (with the mean) does not.
    assert_eq!(runtime.brush_indexes().answered() - before, changed.len() - 1, "{changed:?}");
}
