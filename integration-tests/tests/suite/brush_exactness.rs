//! Brush indexes answer exactly what a plain scan answers: a crossfilter over an
//! in-memory table of awkward values (floats, integer-valued floats with heavy
//! duplicates, nulls, NaN, dates), brushed 1,000 times at random positions,
//! bounds on data values and on the views' group edges, fractional bounds on
//! integers, reversed, outside the domain and empty. One runtime answers from its
//! indexes, another with indexes off; after every brush each view's rows must be
//! the same: counts, min, max and integer sums bit for bit, float sums within
//! 1e-12 relative (merged in another order). The plain scan itself is checked
//! against vega.js by the conformance and interaction suites.

use datafusion::arrow::array::{ArrayRef, Float64Array, RecordBatch, TimestampMillisecondArray};
use datafusion::arrow::datatypes::{DataType, Field, Schema, TimeUnit};
use serde_json::{json, Value as Json};
use std::collections::HashMap;
use std::sync::Arc;
use vegalake_connectors::{MemoryTable, MemoryTables};
use vegalake_executors::{ChartOptions, ChartState, DataAccess, Runtime, VarValue};
use vegalake_planner::{Namespace, Spec};

const ROWS: usize = 20_000;
const BRUSHES: usize = 1_000;
/// The datasets a brush filters, each shown whole by a mark's tooltip (so the
/// client receives every column).
const VIEWS: [&str; 3] = ["by_i", "by_f", "by_month"];
/// The views' float sums, merged from partial sums in another order.
const FLOAT_SUMS: &[&str] = &["sum_f"];

/// xorshift64*: the same table and brushes on every run.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> f64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        (self.0.wrapping_mul(0x2545_F491_4F6C_DD1D) >> 11) as f64 / (1u64 << 53) as f64
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() * n as f64) as usize % n
    }
}

const DAY_MS: f64 = 86_400_000.0;
const START_MS: f64 = 1_577_836_800_000.0; // 2020-01-01

/// The brushed columns' values (NaN and nulls left out), where brushes may start.
type Values = HashMap<&'static str, Vec<f64>>;

/// `f` floats in [-100, 100] (tenths); `i` integers 0..50 as floats (400 rows each); `n`
/// floats with 10% nulls and 5% NaN; `d` dates over two years, on the hour.
fn table(rng: &mut Rng) -> (MemoryTable, Values) {
    // Tenths: 2,001 distinct values, so a cube (groups × brushed values) stays
    // under CUBE_ROW_LIMIT for every view.
    let f: Vec<Option<f64>> = (0..ROWS).map(|_| Some(((rng.next() * 200.0 - 100.0) * 10.0).round() / 10.0)).collect();
    let i: Vec<Option<f64>> = (0..ROWS).map(|_| Some(rng.below(50) as f64)).collect();
    let n: Vec<Option<f64>> = (0..ROWS)
        .map(|_| match rng.below(20) {
            0 | 1 => None,
            2 => Some(f64::NAN),
            _ => Some((rng.next() * 10.0).floor() / 2.0),
        })
        .collect();
    let d: Vec<Option<i64>> = (0..ROWS).map(|_| Some((START_MS + rng.below(730 * 24) as f64 * 3_600_000.0) as i64)).collect();
    let present = |c: &[Option<f64>]| c.iter().flatten().copied().filter(|v| !v.is_nan()).collect::<Vec<f64>>();
    let values = HashMap::from([("f", present(&f)), ("i", present(&i)), ("n", present(&n)), ("d", d.iter().flatten().map(|&v| v as f64).collect())]);
    let schema = Arc::new(Schema::new(vec![
        Field::new("f", DataType::Float64, true),
        Field::new("i", DataType::Float64, true),
        Field::new("n", DataType::Float64, true),
        Field::new("d", DataType::Timestamp(TimeUnit::Millisecond, Some("UTC".into())), true),
    ]));
    let columns: Vec<ArrayRef> = vec![
        Arc::new(Float64Array::from(f)),
        Arc::new(Float64Array::from(i)),
        Arc::new(Float64Array::from(n)),
        Arc::new(TimestampMillisecondArray::from(d).with_timezone("UTC")),
    ];
    let batch = RecordBatch::try_new(schema.clone(), columns).expect("the columns match the schema");
    (MemoryTable::new(schema, vec![batch], "brush-exactness"), values)
}

/// Three views filtered by one brush, each an aggregate the indexes merge.
fn spec() -> Spec {
    let brushed = json!({"type": "filter", "expr": "!length(data(\"brush_store\")) || vlSelectionTest(\"brush_store\", datum)"});
    serde_json::from_value(json!({"data": [
        {"name": "brush_store"},
        {"name": "src", "url": "vegalake+dataset://t"},
        {"name": "by_i", "source": "src", "transform": [brushed, {"type": "aggregate", "groupby": ["i"],
            "ops": ["count", "sum", "min", "max", "valid", "missing"], "fields": [null, "i", "f", "f", "n", "n"],
            "as": ["count", "sum_i", "min_f", "max_f", "valid_n", "missing_n"]}]},
        {"name": "by_f", "source": "src", "transform": [brushed, {"type": "formula", "expr": "floor(datum.f / 25) * 25", "as": "edge"},
            {"type": "aggregate", "groupby": ["edge"], "ops": ["count", "sum", "max", "min"], "fields": [null, "f", "d", "n"],
             "as": ["count", "sum_f", "max_d", "min_n"]}]},
        {"name": "by_month", "source": "src", "transform": [brushed, {"type": "formula", "expr": "utcmonth(datum.d)", "as": "month"},
            {"type": "aggregate", "groupby": ["month"], "ops": ["count", "max", "min"], "fields": [null, "n", "i"], "as": ["count", "max_n", "min_i"]}]}
    ], "marks": VIEWS.map(|view| json!({"type": "rect", "from": {"data": view}, "encode": {"update": {"tooltip": {"signal": "datum"}}}}))}))
    .expect("a Vega spec")
}

/// One brush on one field: `(field, a, b)` as the store holds it.
fn brush(rng: &mut Rng, k: usize, values: &Values) -> (&'static str, f64, f64) {
    let (field, lo, hi, edge) =
        [("f", -100.0, 100.0, 25.0), ("i", 0.0, 49.0, 1.0), ("n", 0.0, 5.0, 0.5), ("d", START_MS, START_MS + 730.0 * DAY_MS, DAY_MS)][k % 4];
    let span = hi - lo;
    let any = |rng: &mut Rng| lo + rng.next() * span;
    let value = |rng: &mut Rng| {
        let v = &values[field];
        v[rng.below(v.len())]
    };
    let (a, b) = match rng.below(8) {
        0 => (any(rng), any(rng)),
        1 => (value(rng), value(rng)),
        2 => ((any(rng) / edge).round() * edge, (any(rng) / edge).round() * edge),
        3 => (value(rng).floor() + 0.5, value(rng).floor() + 0.25),
        4 => (lo - span, any(rng)),
        5 => (any(rng), hi + span),
        6 => {
            let v = value(rng).floor();
            (v + 0.25, v + 0.75)
        }
        _ => (lo - span - rng.next() * span, lo - rng.next() * span),
    };
    // The order as the brush was dragged: reversed about half the time.
    if rng.below(2) == 0 {
        (field, b, a)
    } else {
        (field, a, b)
    }
}

fn store(field: &str, a: f64, b: f64) -> Vec<VarValue> {
    let value = json!([{"unit": "view", "fields": [{"field": field, "channel": "x", "type": "R"}], "values": [[a, b]]}]);
    vec![VarValue { namespace: Namespace::Data, name: "brush_store".into(), scope: vec![], value }]
}

/// `None` when equal: same rows in the same order, each value bit for bit but
/// the float sums, within 1e-12 relative.
fn difference(ours: &Json, plain: &Json) -> Option<String> {
    let (Some(a), Some(b)) = (ours.as_array(), plain.as_array()) else { return Some("not arrays".into()) };
    if a.iter().chain(b).any(|r| r.as_object().is_none_or(|r| r.len() < 3)) {
        return Some("rows without their columns".into());
    }
    if a.len() != b.len() {
        return Some(format!("{} rows, the plain scan has {}", a.len(), b.len()));
    }
    for (x, y) in a.iter().zip(b) {
        let (Some(x), Some(y)) = (x.as_object(), y.as_object()) else { return Some("not rows".into()) };
        let keys = |r: &serde_json::Map<String, Json>| r.keys().filter(|k| !k.starts_with("__")).cloned().collect::<Vec<_>>();
        if keys(x) != keys(y) {
            return Some(format!("columns {:?} vs {:?}", keys(x), keys(y)));
        }
        for k in keys(x) {
            let (u, v) = (&x[&k], &y[&k]);
            let close = match (u.as_f64(), v.as_f64()) {
                (Some(p), Some(q)) if FLOAT_SUMS.contains(&k.as_str()) => (p - q).abs() <= 1e-12 * p.abs().max(q.abs()),
                _ => u == v,
            };
            if !close {
                return Some(format!("{k}: {u} vs the plain scan's {v} (row {})", Json::Object(x.clone())));
            }
        }
    }
    None
}

async fn open(runtime: Arc<Runtime>, tables: &Arc<MemoryTables>) -> ChartState {
    let options = ChartOptions { data: DataAccess { memory: tables.clone(), ..DataAccess::default() }, ..ChartOptions::default() };
    ChartState::open(runtime, &spec(), options).await.expect("the crossfilter opens")
}

fn apply(current: &mut HashMap<String, Json>, changed: Vec<VarValue>) {
    for c in changed.into_iter().filter(|c| c.namespace == Namespace::Data) {
        current.insert(c.name, c.value);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn brush_indexes_answer_exactly_what_a_plain_scan_answers() {
    let mut rng = Rng(0x5eed_1234_abcd_0001);
    let (t, values) = table(&mut rng);
    let tables = Arc::new(MemoryTables::from([("t".to_string(), Arc::new(t))]));
    let indexed = Arc::new(Runtime::default());
    indexed.brush_indexes().set_background(false);
    let plain = Arc::new(Runtime::default());
    plain.brush_indexes().set_enabled(false);
    let (mut ours, mut theirs) = (open(indexed.clone(), &tables).await, open(plain.clone(), &tables).await);
    let (mut a, mut b) = (HashMap::new(), HashMap::new());
    let (mut failures, mut distinct) = (Vec::new(), std::collections::HashSet::new());
    for k in 0..BRUSHES {
        let (field, lo, hi) = brush(&mut rng, k, &values);
        let update = store(field, lo, hi);
        // A brush seen before is answered from the charts' caches, not an index.
        distinct.insert((field, lo.to_bits(), hi.to_bits()));
        let (indexed_rows, plain_rows) = tokio::join!(ours.update(&update), theirs.update(&update));
        apply(&mut a, indexed_rows.expect("indexed update"));
        apply(&mut b, plain_rows.expect("plain update"));
        for view in VIEWS {
            if let Some(d) = difference(&a[view], &b[view]) {
                failures.push(format!("brush {k} {field} [{lo}, {hi}] {view}: {d}"));
            }
        }
    }
    let answered = indexed.brush_indexes().answered();
    println!(
        "brush exactness: {BRUSHES} brushes ({} distinct) over {ROWS} rows, 3 views, {answered} answers from brush indexes equal to the plain scan's",
        distinct.len()
    );
    assert!(failures.is_empty(), "{} differences:\n{}", failures.len(), failures.iter().take(20).cloned().collect::<Vec<_>>().join("\n"));
    assert_eq!(answered, VIEWS.len() * distinct.len(), "every view's every new brush is answered from an index");
    assert_eq!(plain.brush_indexes().answered(), 0, "the plain runtime used an index");
}
