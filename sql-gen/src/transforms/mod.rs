//! The registry of Vega transforms.
//!
//! Each transform is one [`TransformDef`]: those the server lowers in their own
//! modules, those the client evaluates in `client.rs`. An entry says where the
//! transform is evaluated (its lowering, or why not), how it runs per key of a
//! batch ([`Partition`]) and what of its input rows its output may carry
//! ([`Rows`], which the planner's split asks through [`whole_rows`]). A transform
//! the server does not evaluate (or a parameter form it does not) answers
//! [`LowerError::Unsupported`](crate::LowerError::Unsupported); the dataset is then
//! cut there. A type with no entry is an error, as in vega.js.
//!
//! Lowering never runs queries. A transform that needs data to plan (the extent of a
//! field, to choose bins) returns [`Step::Query`]; the executor runs the query on
//! whatever engine it drives and resumes the lowering with the result.

mod aggregate;
pub(crate) mod bin;
mod client;
mod collect;
mod density;
pub(crate) mod extent;
mod filter;
mod flatten;
mod fold;
mod formula;
mod generated;
mod geo;
mod identifier;
mod impute;
mod joinaggregate;
mod kde;
mod loess;
mod lookup;
mod measure;
mod params;
mod pivot;
mod project;
mod quantile;
mod regression;
mod sequence;
mod sort;
mod stack;
mod timeunit;
mod window;

pub use geo::fitted_projection;
pub use params::{field_name, Params};

use crate::env::Environment;
use crate::error::{invalid, unsupported, Result};
use datafusion::arrow::record_batch::RecordBatch;
use datafusion::logical_expr::{lit, Expr, LogicalPlan, LogicalPlanBuilder};
use serde_json::Value as Json;
use std::collections::HashMap;
use std::sync::OnceLock;
use vegalake_planner::split::WholeRows;
use vegalake_planner::Transform;

/// The hidden column that carries input order, where a source has one.
pub const ROW: &str = "__vl_row";

/// Continues a lowering with the rows of a query.
pub type Resume = Box<dyn FnOnce(Vec<RecordBatch>, &dyn Environment) -> Result<Step> + Send>;

/// The outcome of lowering one transform.
pub enum Step {
    /// The transform's output plan and the signals it defines (`extent`'s `signal`).
    Plan { plan: LogicalPlan, signals: Vec<(String, Json)> },
    /// Run `query`, then call `resume` with its rows.
    Query { query: LogicalPlan, resume: Resume },
}

impl Step {
    pub fn plan(plan: LogicalPlan) -> Result<Step> {
        Ok(Step::Plan { plan, signals: Vec::new() })
    }
}

/// Whether two rows of `plan` share the values of `keys`, asked of the data: stack
/// and window over a source without row order are defined only when none do.
/// `then(ties)` continues the lowering with the answer.
fn ask_for_ties(plan: &LogicalPlan, keys: Vec<Expr>, then: impl FnOnce(bool) -> Result<Step> + Send + 'static) -> Result<Step> {
    if unique_on(plan, &keys) {
        return then(false);
    }
    let shared = LogicalPlanBuilder::from(plan.clone())
        .aggregate(keys, vec![datafusion::functions_aggregate::expr_fn::count(lit(1)).alias("n")])?
        .filter(crate::plan::col("n").gt(lit(1_i64)))?
        .build()?;
    ask_for_rows(shared, then)
}

/// Whether some row of `plan` is null in one of `columns`, asked of the data;
/// `then(nulls)` continues the lowering with the answer.
fn ask_for_nulls(plan: &LogicalPlan, columns: Vec<String>, then: impl FnOnce(bool) -> Result<Step> + Send + 'static) -> Result<Step> {
    let any_null = columns.iter().map(|c| crate::plan::col(c).is_null()).reduce(Expr::or).unwrap_or(lit(false));
    ask_for_rows(LogicalPlanBuilder::from(plan.clone()).filter(any_null)?.build()?, then)
}

/// Whether `plan` has a row, asked of the data; `then(rows)` continues the
/// lowering with the answer. Only a constant comes back: an engine names an
/// unaliased key (`CASE WHEN ...` of a sort) its own way, and Spark's rows then
/// missed DataFusion's non-nullable column (CI run 8, `stacked_ties`).
fn ask_for_rows(plan: LogicalPlan, then: impl FnOnce(bool) -> Result<Step> + Send + 'static) -> Result<Step> {
    let query = LogicalPlanBuilder::from(plan).limit(0, Some(1))?.project(vec![lit(true).alias("found")])?.build()?;
    let resume: Resume = Box::new(move |batches, _| then(batches.iter().any(|b| b.num_rows() > 0)));
    Ok(Step::Query { query, resume })
}

/// Whether no two rows of `plan` can share the values of `keys`, known from the
/// plan: it is an aggregate (under filters, sorts and projections that pass its
/// keys through) whose group keys are all among `keys`, less those computed from
/// another key (a bin's or a time unit's end). Why: Vega-Lite stacks the rows of
/// an aggregate by its own keys (`stack` of `count` by month and origin), and the
/// question to the data re-ran the whole aggregate: 0.8 s of a 1.3 s chart over
/// 10M rows (W3, cold CLI, release).
fn unique_on(plan: &LogicalPlan, keys: &[Expr]) -> bool {
    let mut names: Vec<String> = keys.iter().filter_map(|k| if let Expr::Column(c) = k { Some(c.name.clone()) } else { None }).collect();
    let mut node = plan;
    loop {
        node = match node {
            LogicalPlan::Filter(f) => &f.input,
            LogicalPlan::Sort(s) => &s.input,
            LogicalPlan::SubqueryAlias(s) => &s.input,
            LogicalPlan::Projection(p) => {
                // The keys' names in the projection's input, where it passes them through.
                names = names
                    .iter()
                    .filter_map(|n| match p.expr.get(p.schema.index_of_column_by_name(None, n)?)?.clone().unalias() {
                        Expr::Column(c) => Some(c.name),
                        _ => None,
                    })
                    .collect();
                &p.input
            }
            LogicalPlan::Aggregate(a) => {
                return crate::optimize::dependent_group_keys::independent_keys(a).is_some_and(|group| group.iter().all(|c| names.contains(&c.name)));
            }
            _ => return false,
        };
    }
}

/// The input of a transform's lowering.
pub struct TransformInput<'a> {
    pub params: Params<'a>,
    pub plan: LogicalPlan,
    pub env: &'a dyn Environment,
}

/// How a transform lowers.
pub type LowerTransform = fn(TransformInput) -> Result<Step>;

/// One transform: everything the planner, the lowering and the batch planner ask
/// of it. A type without an entry is unknown to vegalake (an error, as in vega.js).
#[derive(Clone, Copy)]
pub struct TransformDef {
    pub name: &'static str,
    /// Where it is evaluated.
    pub evaluation: Evaluation,
    /// How it runs in a partitioned evaluation.
    pub partition: Partition,
    /// What of its input rows its output may carry (when the client evaluates it).
    pub rows: Rows,
}

/// Where a transform is evaluated.
#[derive(Clone, Copy)]
pub enum Evaluation {
    /// On the server, by this lowering (which may still refuse a parameter form).
    Server(LowerTransform),
    /// On the client, for this reason.
    Client(&'static str),
}

/// What a transform's output holds of the rows it reads: the split ships whole
/// rows (every field, not only those the client mentions) to one that may embed them.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Rows {
    /// The fields it names, in rows it passes through or makes.
    Fields,
    /// As [`Rows::Fields`], unless one of its `ops` returns rows (`values`, `argmin`, `argmax`).
    FieldsUnlessRowOps,
    /// As [`Rows::Fields`], and whole rows of its `from` dataset unless it lists `values`.
    FromUnlessValues,
    /// Whole input rows, inside objects of its own (layouts, hierarchies, `cross`).
    Whole,
}

/// How a transform runs when one evaluation serves many keys (`vegalake batch`:
/// one chart per key, each as if drawn from that key's rows alone).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Partition {
    /// Row by row: the same for a key's rows as for all rows.
    RowLocal,
    /// Row by row when the parameter is given; without it, refused with the reason.
    RowLocalWith(&'static str, &'static str),
    /// Works within the groups of its `groupby`: the keys are added to them.
    GroupBy,
    /// As [`Partition::GroupBy`], refused with the reason when the parameter is true.
    GroupByWithout(&'static str, &'static str),
    /// Keeps only the fields it lists: the keys are added to them.
    Fields,
    /// Computes data-dependent parameters per key itself (`bin`, told the keys;
    /// `extent`, folded into the `bin` that reads its signal).
    Keyed,
    /// Refused, with the reason.
    No(&'static str),
}

/// The parameter of a [`Partition::Keyed`] transform that names the key columns
/// (set by the batch planner, never by specs).
pub const PARTITION_KEYS: &str = "__vegalake_partition";
/// The parameter of a partitioned `bin` naming the signal of the `extent` folded into it.
pub const PARTITION_EXTENT_SIGNAL: &str = "__vegalake_extent_signal";

/// How a transform type runs in a partitioned evaluation; failing closed: what has
/// no entry is refused.
pub fn partition_rule(kind: &str) -> Partition {
    match registry().get(kind) {
        Some(def) => def.partition,
        None => Partition::No("vegalake does not know it"),
    }
}

fn registry() -> &'static HashMap<&'static str, TransformDef> {
    static REGISTRY: OnceLock<HashMap<&'static str, TransformDef>> = OnceLock::new();
    REGISTRY.get_or_init(|| {
        [
            aggregate::DEF,
            bin::DEF,
            collect::DEF,
            density::DEF,
            extent::DEF,
            filter::DEF,
            flatten::DEF,
            fold::DEF,
            formula::DEF,
            geo::GEOJSON,
            geo::GEOPOINT,
            identifier::DEF,
            impute::DEF,
            joinaggregate::DEF,
            kde::DEF,
            loess::DEF,
            lookup::DEF,
            pivot::DEF,
            project::DEF,
            quantile::DEF,
            regression::DEF,
            sequence::DEF,
            stack::DEF,
            timeunit::DEF,
            window::DEF,
        ]
        .into_iter()
        .chain(client::DEFS.iter().copied())
        .map(|d| (d.name, d))
        .collect()
    })
}

/// True if `kind` names a transform Vega knows.
pub fn is_known(kind: &str) -> bool {
    registry().contains_key(kind)
}

/// Lowers one transform on top of `plan`.
pub fn lower_transform(t: &Transform, plan: LogicalPlan, env: &dyn Environment) -> Result<Step> {
    match registry().get(t.kind.as_str()).map(|def| def.evaluation) {
        Some(Evaluation::Server(lower)) => lower(TransformInput { params: Params::new(t, env), plan, env }),
        Some(Evaluation::Client(why)) => unsupported(format!("transform '{}': {why}", t.kind)),
        None => invalid(format!("unknown transform type '{}'", t.kind)),
    }
}

/// Names of the transforms lowered on the server.
pub fn server_transforms() -> Vec<&'static str> {
    let mut v: Vec<_> = registry().values().filter(|d| matches!(d.evaluation, Evaluation::Server(_))).map(|d| d.name).collect();
    v.sort();
    v
}

/// What the output of `t`, evaluated on the client, may carry whole (the planner's
/// [`vegalake_planner::split::WholeRows`]); failing closed: an unknown type may
/// carry its input whole.
pub fn whole_rows(t: &Transform) -> WholeRows<'_> {
    let rows = registry().get(t.kind.as_str()).map_or(Rows::Whole, |d| d.rows);
    let ops = || t.param("ops").and_then(Json::as_array).into_iter().flatten().filter_map(Json::as_str);
    match rows {
        Rows::Fields => WholeRows::default(),
        Rows::FieldsUnlessRowOps => WholeRows { input: ops().any(measure::returns_rows), from: None },
        Rows::FromUnlessValues if t.param("values").is_none() => WholeRows { input: false, from: t.param("from").and_then(Json::as_str) },
        Rows::FromUnlessValues => WholeRows::default(),
        Rows::Whole => WholeRows { input: true, from: None },
    }
}

#[cfg(test)]
mod registry_tests {
    use super::{is_known, partition_rule, server_transforms, whole_rows, Partition, WholeRows};
    use vegalake_planner::Transform;

    fn transform(json: serde_json::Value) -> Transform {
        serde_json::from_value(json).unwrap()
    }

    fn carries(json: serde_json::Value, expected: WholeRows<'_>) {
        let t = transform(json);
        assert_eq!(whole_rows(&t), expected, "{t:?}");
    }

    #[test]
    fn the_registry_says_what_rows_a_transform_carries_failing_closed() {
        let whole = WholeRows { input: true, from: None };
        carries(serde_json::json!({"type": "filter", "expr": "true"}), WholeRows::default());
        carries(serde_json::json!({"type": "aggregate", "ops": ["count"]}), WholeRows::default());
        carries(serde_json::json!({"type": "aggregate", "ops": ["count", "argmax"], "fields": [null, "x"]}), whole);
        carries(serde_json::json!({"type": "window", "ops": ["values"]}), whole);
        carries(serde_json::json!({"type": "lookup", "from": "b", "key": "k", "fields": ["k"]}), WholeRows { input: false, from: Some("b") });
        carries(serde_json::json!({"type": "lookup", "from": "b", "key": "k", "fields": ["k"], "values": ["v"]}), WholeRows::default());
        carries(serde_json::json!({"type": "treemap"}), whole);
        // A type without an entry may carry anything.
        carries(serde_json::json!({"type": "newlayout"}), whole);
    }

    #[test]
    fn client_transforms_are_known_but_not_lowered() {
        assert!(is_known("pie") && is_known("aggregate") && !is_known("newlayout"));
        let server = server_transforms();
        assert!(server.contains(&"aggregate") && !server.contains(&"pie"), "{server:?}");
        assert_eq!(partition_rule("pie"), Partition::No("it is evaluated on the client"));
        assert_eq!(partition_rule("newlayout"), Partition::No("vegalake does not know it"));
    }
}

#[cfg(test)]
mod tests {
    use super::unique_on;
    use datafusion::arrow::array::{Float64Array, RecordBatch, StringArray};
    use datafusion::arrow::datatypes::{DataType, Field, Schema};
    use datafusion::functions_aggregate::count::count;
    use datafusion::logical_expr::{col, lit, LogicalPlan, LogicalPlanBuilder};
    use datafusion::prelude::SessionContext;
    use std::sync::Arc;

    fn rows() -> LogicalPlan {
        let schema = Arc::new(Schema::new(vec![Field::new("m", DataType::Float64, true), Field::new("o", DataType::Utf8, true)]));
        let batch =
            RecordBatch::try_new(schema, vec![Arc::new(Float64Array::from(vec![1.0, 1.0, 2.0])), Arc::new(StringArray::from(vec!["a", "a", "b"]))]).unwrap();
        SessionContext::new().read_batch(batch).unwrap().into_unoptimized_plan()
    }

    /// Counts by (m, m_end, o), where m_end is computed from m, then a projection
    /// renaming o and a filter, as Vega-Lite's stacked bars have them.
    fn counted() -> LogicalPlan {
        LogicalPlanBuilder::from(rows())
            .project(vec![col("m"), col("o"), (col("m") + lit(1.0)).alias("m_end")])
            .unwrap()
            .aggregate(vec![col("m"), col("m_end"), col("o")], vec![count(lit(1)).alias("n")])
            .unwrap()
            .project(vec![col("m"), col("m_end"), col("o").alias("origin"), col("n")])
            .unwrap()
            .filter(col("n").gt(lit(0)))
            .unwrap()
            .build()
            .unwrap()
    }

    #[test]
    fn the_rows_of_an_aggregate_are_unique_on_its_keys_less_the_computed_ones() {
        let order = datafusion::logical_expr::when(col("origin").is_null(), lit(0)).otherwise(lit(2)).unwrap();
        assert!(unique_on(&counted(), &[col("m"), order, col("origin")]));
        assert!(unique_on(&counted(), &[col("m_end"), col("m"), col("origin")]));
        // Not unique on a part of the keys, and raw rows are asked.
        assert!(!unique_on(&counted(), &[col("m"), col("n")]));
        assert!(!unique_on(&counted(), &[col("m_end"), col("origin")]));
        assert!(!unique_on(&rows(), &[col("m"), col("o")]));
    }
}
