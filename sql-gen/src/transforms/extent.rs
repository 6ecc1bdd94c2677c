//! `extent`: the [min, max] of a field's numeric values, as a signal.

use super::{Step, TransformDef, TransformInput};
use crate::coerce::to_number;
use crate::error::Result;
use crate::lower::column;
use crate::lowered::json_number;
use crate::vtype::VType;
use datafusion::arrow::array::{Array, AsArray};
use datafusion::arrow::datatypes::Float64Type;
use datafusion::arrow::record_batch::RecordBatch;
use datafusion::common::DFSchema;
use datafusion::functions::expr_fn::isnan;
use datafusion::functions_aggregate::expr_fn::{max, min};
use datafusion::logical_expr::{lit, Expr, LogicalPlan, LogicalPlanBuilder};
use serde_json::Value as Json;

/// A field's values as vega-util's `toNumber` sees them: null (and '') stay null.
pub(crate) fn numeric_field(schema: &DFSchema, field: &str) -> Result<Expr> {
    let t = column(schema, field)?;
    Ok(match t.ty {
        VType::Number | VType::Date => t.expr,
        VType::String => {
            datafusion::logical_expr::when(t.expr.clone().is_null().or(t.expr.clone().eq(lit(""))), lit(datafusion::common::ScalarValue::Float64(None)))
                .otherwise(to_number(&t))?
        }
        _ => datafusion::logical_expr::when(t.expr.clone().is_null(), lit(datafusion::common::ScalarValue::Float64(None))).otherwise(to_number(&t))?,
    })
}

/// The query computing [min, max] of a field, skipping null and NaN.
pub(crate) fn extent_query(plan: &LogicalPlan, field: &str) -> Result<LogicalPlan> {
    let v = numeric_field(plan.schema(), field)?;
    let valid = datafusion::logical_expr::when(isnan(v.clone()), lit(datafusion::common::ScalarValue::Float64(None))).otherwise(v)?;
    Ok(LogicalPlanBuilder::from(plan.clone()).aggregate(Vec::<Expr>::new(), vec![min(valid.clone()).alias("lo"), max(valid).alias("hi")])?.build()?)
}

/// Reads [min, max] from the extent query's result; infinite or empty extents are
/// [null, null], as vega warns and answers `undefined`.
pub(crate) fn read_extent(batches: &[RecordBatch]) -> (Option<f64>, Option<f64>) {
    let get = |i: usize| {
        let b = batches.iter().find(|b| b.num_rows() > 0)?;
        let a = b.column(i).as_primitive::<Float64Type>();
        (!a.is_null(0)).then(|| a.value(0))
    };
    match (get(0), get(1)) {
        (Some(lo), Some(hi)) if lo.is_finite() && hi.is_finite() => (Some(lo), Some(hi)),
        _ => (None, None),
    }
}

fn lower(input: TransformInput) -> Result<Step> {
    input.params.only(&["field", "signal"])?;
    let field = input.params.required_field("field")?;
    let signal = input.params.string("signal")?;
    let query = extent_query(&input.plan, &field)?;
    let plan = input.plan;
    Ok(Step::Query {
        query,
        resume: Box::new(move |batches, _env| {
            let (lo, hi) = read_extent(&batches);
            let value = Json::Array(vec![lo.map_or(Json::Null, json_number), hi.map_or(Json::Null, json_number)]);
            let signals = signal.map(|s| vec![(s, value)]).unwrap_or_default();
            Ok(Step::Plan { plan, signals })
        }),
    })
}

pub(super) const DEF: TransformDef =
    TransformDef { name: "extent", evaluation: super::Evaluation::Server(lower), partition: super::Partition::Keyed, rows: super::Rows::Fields };
