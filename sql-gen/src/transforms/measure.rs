//! Vega's aggregate operations (vega-transforms' `AggregateOps`) as DataFusion
//! aggregates, shared by `aggregate`, `joinaggregate` and `window`.
//!
//! A value is *missing* when null or `''`, *valid* when neither missing nor NaN;
//! numeric ops see only valid values, coerced with `+v`, and give null (vega's
//! `undefined`) when there are none.

use crate::coerce::to_number;
use crate::error::{unsupported, Result};
use crate::lower::column;
use crate::plan::col;
use crate::vtype::VType;
use datafusion::arrow::datatypes::DataType;
use datafusion::common::tree_node::{Transformed, TreeNode};
use datafusion::common::{DFSchema, ScalarValue};
use datafusion::functions::expr_fn::{isnan, sqrt};
use datafusion::functions_aggregate::expr_fn as agg;
use datafusion::logical_expr::expr::{AggregateFunction, WindowFunction};
use datafusion::logical_expr::{cast, lit, when, Expr, ExprFunctionExt, SortExpr, WindowFrame};
use std::ops::Not;

/// The default output name of a measure: `op_field`, or `op` without a field.
pub fn measure_name(op: &str, field: Option<&str>) -> String {
    match field {
        Some(f) => format!("{op}_{f}"),
        None => op.to_string(),
    }
}

/// Whether vega leaves the op's value `undefined` (not null) in some groups: the
/// spreads need two valid values (vega-transforms' AggregateOps: `m.valid > 1 ?
/// ... : undefined`). Later expressions tell the two apart (`undefined + 1` is
/// NaN, `null + 1` is 1), so the output column says so
/// ([`vegalake_planner::values::UNDEFINED_FIELD_METADATA`]).
pub fn undefined_below_two_values(op: &str) -> bool {
    matches!(op, "variance" | "variancep" | "stdev" | "stdevp" | "stderr")
}

/// Whether the op's value is one of the rows it reads (or an array of them), not a
/// number: the split ships such rows whole.
pub fn returns_rows(op: &str) -> bool {
    matches!(op, "values" | "argmin" | "argmax")
}

/// One measure: aggregate expressions (each aliased) and the output over them.
#[derive(Debug)]
pub struct Measure {
    pub aggregates: Vec<(String, Expr)>,
    /// The value, in terms of `col(alias)` of the aggregates.
    pub output: Expr,
}

struct Value {
    /// The raw column (original Arrow type; dates stay timestamps).
    raw: Expr,
    missing: Expr,
    valid: Expr,
    /// `+v` over valid values, null elsewhere.
    number: Expr,
}

fn value(schema: &DFSchema, field: &str) -> Result<Value> {
    let t = column(schema, field)?;
    let raw = col(field);
    let missing = match t.ty {
        VType::String => raw.clone().is_null().or(raw.clone().eq(lit(""))),
        _ => raw.clone().is_null(),
    };
    let valid = match t.ty {
        VType::Number => missing.clone().not().and(isnan(t.expr.clone()).is_false()),
        _ => missing.clone().not(),
    };
    let number = when(valid.clone(), to_number(&t)).otherwise(lit(ScalarValue::Float64(None)))?;
    Ok(Value { raw, missing, valid, number })
}

/// The input-order column, or a constant where the order is unknown.
fn row_of(schema: &DFSchema) -> Expr {
    if schema.field_with_unqualified_name(super::ROW).is_ok() {
        col(super::ROW)
    } else {
        lit(0_i64)
    }
}

fn as_f64(e: Expr) -> Expr {
    cast(e, DataType::Float64)
}

/// How sums and moments are computed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Arithmetic {
    /// vega's own loop in input order (see [`crate::udaf`]): exact, for aggregates.
    /// Where the input order is unknown (Parquet scans) there is no order to replay,
    /// and the engine's built-ins answer within rounding.
    Sequential,
    /// The engine's built-ins: for sliding window frames, which need retraction.
    Engine,
}

/// Builds the measure for `op` over `field`; `id` makes aliases unique.
pub fn measure(schema: &DFSchema, op: &str, field: Option<&str>, id: usize, arithmetic: Arithmetic) -> Result<Measure> {
    let a = |k: &str| format!("__vl_m{id}_{k}");
    let single = |e: Expr| -> Measure {
        let alias = a("v");
        Measure { output: col(&alias), aggregates: vec![(alias, e)] }
    };
    if op == "count" {
        return Ok(Measure { output: as_f64(col(&a("v"))), aggregates: vec![(a("v"), agg::count(lit(1)))] });
    }
    let Some(field) = field else {
        return unsupported(format!("aggregate op '{op}' without a field"));
    };
    let v = value(schema, field)?;
    let sequential = matches!(op, "sum" | "mean" | "average" | "variance" | "variancep" | "stdev" | "stdevp" | "stderr");
    let ordered = schema.field_with_unqualified_name(super::ROW).is_ok();
    if let (Arithmetic::Sequential, true, true) = (arithmetic, sequential, ordered) {
        let moment = crate::udaf::Moment::from_op(op).expect("a sequential op");
        return Ok(single(crate::udaf::call(moment, v.number, row_of(schema))));
    }
    let count_if = |cond: Expr| agg::count(when(cond, lit(1)).otherwise(lit(ScalarValue::Int32(None))).expect("valid CASE"));
    Ok(match op {
        "valid" => Measure { output: as_f64(col(&a("v"))), aggregates: vec![(a("v"), count_if(v.valid))] },
        "missing" => Measure { output: as_f64(col(&a("v"))), aggregates: vec![(a("v"), count_if(v.missing))] },
        "distinct" => {
            // vega counts distinct String(v), null included as one more value.
            let nulls = agg::max(when(v.raw.clone().is_null(), lit(1.0)).otherwise(lit(0.0))?);
            Measure { output: as_f64(col(&a("d"))) + col(&a("n")), aggregates: vec![(a("d"), agg::count_distinct(v.raw)), (a("n"), nulls)] }
        }
        "sum" => single(agg::sum(v.number)),
        "mean" | "average" => single(agg::avg(v.number)),
        "variance" => single(agg::var_sample(v.number)),
        "variancep" => single(agg::var_pop(v.number)),
        "stdev" => single(agg::stddev(v.number)),
        "stdevp" => single(agg::stddev_pop(v.number)),
        "stderr" => Measure {
            output: col(&a("s")) / sqrt(as_f64(col(&a("n")))),
            aggregates: vec![(a("s"), agg::stddev(v.number.clone())), (a("n"), agg::count(v.number))],
        },
        // vega's quantiles are exact (no SQL built-in matches them as a window).
        "median" | "q1" | "q3" => {
            let moment = crate::udaf::Moment::from_op(op).expect("a quantile");
            single(crate::udaf::call(moment, v.number, row_of(schema)))
        }
        "min" | "max" => {
            let valid_raw = when(v.valid, v.raw.clone()).otherwise(Expr::Literal(null_of(schema, field)?, None))?;
            single(if op == "min" { agg::min(valid_raw) } else { agg::max(valid_raw) })
        }
        "argmin" | "argmax" => arg_extreme(schema, op, field, v, &a)?,
        op if returns_rows(op) => return unsupported(format!("aggregate op '{op}' returns objects; evaluated on the client")),
        "ci0" | "ci1" => return unsupported(format!("aggregate op '{op}' is a random bootstrap; evaluated on the client")),
        // No engine has vega's product: always the replayed loop.
        "product" => single(crate::udaf::call(crate::udaf::Moment::Product, v.number, row_of(schema))),
        "exponential" | "exponentialb" => return unsupported(format!("aggregate op '{op}'")),
        other => return crate::error::invalid(format!("unknown aggregate op '{other}'")),
    })
}

/// `argmin`/`argmax`: the row (every field but the hidden ones, as a struct) with
/// the least or greatest valid value, the first such in input order, as vega's
/// extentIndex finds it. A group without a valid value gets `{}` in vega: the
/// aggregate asks the data and leaves such groups to the client
/// ([`returns_rows`]; its output is null there).
fn arg_extreme(schema: &DFSchema, op: &str, field: &str, v: Value, alias: &dyn Fn(&str) -> String) -> Result<Measure> {
    use datafusion::functions::core::expr_fn::named_struct;
    let Some(t) = schema.field_with_unqualified_name(field).ok().and_then(|f| VType::of_arrow(f.data_type())) else {
        return unsupported(format!("aggregate op '{op}' of field '{field}'"));
    };
    if !matches!(t, VType::Number | VType::Date) {
        return unsupported(format!("aggregate op '{op}' of a {} field", t.name()));
    }
    if schema.field_with_unqualified_name(super::ROW).is_err() {
        return unsupported(format!("aggregate op '{op}' over a source without a known row order (ties)"));
    }
    let mut members = Vec::new();
    for f in schema.fields().iter().filter(|f| !f.name().starts_with("__vl_")) {
        if f.metadata().contains_key(vegalake_planner::values::JSON_FIELD_METADATA) || vegalake_planner::values::nulls_are_undefined(f.metadata()) {
            return unsupported(format!("aggregate op '{op}' of rows whose field '{}' holds mixed or undefined values", f.name()));
        }
        members.extend([lit(f.name().as_str()), col(f.name())]);
    }
    let ascending = op == "argmin";
    let order = vec![v.valid.clone().sort(false, false), v.number.sort(ascending, false), col(super::ROW).sort(true, false)];
    let first = agg::first_value(named_struct(members), order);
    let any_valid = agg::bool_or(v.valid);
    Ok(Measure {
        output: when(col(&alias("any")), col(&alias("row"))).otherwise(Expr::Literal(ScalarValue::Null, None))?,
        aggregates: vec![(alias("row"), first), (alias("any"), any_valid)],
    })
}

fn null_of(schema: &DFSchema, field: &str) -> Result<ScalarValue> {
    let f = schema.field_with_unqualified_name(field).map_err(crate::error::LowerError::from)?;
    Ok(ScalarValue::try_from(f.data_type())?)
}

/// The measure's output with every aggregate turned into a window function over
/// `partition_by`, ordered by `order_by` within `frame`.
pub fn as_window(m: &Measure, partition_by: &[Expr], order_by: &[SortExpr], frame: Option<WindowFrame>) -> Result<Expr> {
    let output = m.output.clone().transform_up(|e| {
        if let Expr::Column(c) = &e {
            if let Some((_, agg_expr)) = m.aggregates.iter().find(|(alias, _)| *alias == c.name) {
                return Ok(Transformed::yes(window_of(agg_expr, partition_by, order_by, frame.clone())?));
            }
        }
        Ok(Transformed::no(e))
    })?;
    Ok(output.data)
}

pub(crate) fn window_of(e: &Expr, partition_by: &[Expr], order_by: &[SortExpr], frame: Option<WindowFrame>) -> datafusion::common::Result<Expr> {
    let Expr::AggregateFunction(AggregateFunction { func, params }) = e else {
        return datafusion::common::plan_err!("not an aggregate: {e}");
    };
    if params.distinct || !params.order_by.is_empty() {
        return datafusion::common::not_impl_err!("DISTINCT or ordered aggregates as window functions");
    }
    let w = Expr::from(WindowFunction::new(func.clone(), params.args.clone()));
    // Without ORDER BY the frame must be spelled out as the whole partition.
    let frame = frame.or_else(|| {
        order_by.is_empty().then(|| {
            use datafusion::logical_expr::{WindowFrameBound, WindowFrameUnits};
            let unbounded = ScalarValue::UInt64(None);
            WindowFrame::new_bounds(WindowFrameUnits::Rows, WindowFrameBound::Preceding(unbounded.clone()), WindowFrameBound::Following(unbounded))
        })
    });
    let mut b = w.partition_by(partition_by.to_vec()).order_by(order_by.to_vec());
    if let Some(f) = frame {
        b = b.window_frame(f);
    }
    b.build()
}
