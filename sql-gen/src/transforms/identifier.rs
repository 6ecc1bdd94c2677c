//! `identifier`: a unique, increasing id per row (in input order).
//!
//! vega numbers rows from one counter shared by every `identifier` of the view, in
//! dataflow order; the count so far travels as a hidden signal.

use super::{Step, TransformDef, TransformInput, ROW};
use crate::env::SignalValue;
use crate::error::{invalid, unsupported, Result};
use crate::plan::{col, has_column, with_window_columns};
use datafusion::arrow::array::AsArray;
use datafusion::arrow::datatypes::{DataType, Int64Type};
use datafusion::functions_aggregate::expr_fn::count;
use datafusion::functions_window::expr_fn::row_number;
use datafusion::logical_expr::{cast, lit, Expr, ExprFunctionExt, LogicalPlanBuilder};

/// The hidden signal holding how many ids the view has handed out.
pub const COUNTER: &str = "__vl_identifier_counter";

fn lower(input: TransformInput) -> Result<Step> {
    input.params.only(&["as"])?;
    let Some(name) = input.params.string("as")? else { return invalid("identifier needs 'as'") };
    if !has_column(&input.plan, ROW) {
        return unsupported("identifier over a source without a known row order");
    }
    let query = LogicalPlanBuilder::from(input.plan.clone()).aggregate(Vec::<Expr>::new(), vec![count(lit(1)).alias("n")])?.build()?;
    let plan = input.plan;
    Ok(Step::Query {
        query,
        resume: Box::new(move |batches, env| {
            let n = batches.iter().find(|b| b.num_rows() > 0).map_or(0, |b| b.column(0).as_primitive::<Int64Type>().value(0));
            let base = match env.signal(COUNTER) {
                Some(SignalValue::Known(v)) => v.as_i64().unwrap_or(0),
                _ => 0,
            };
            let id = cast(row_number().order_by(vec![col(ROW).sort(true, true)]).build()?, DataType::Int64) + lit(base);
            let plan = with_window_columns(plan, vec![(name, cast(id, DataType::Float64))])?;
            Ok(Step::Plan { plan, signals: vec![(COUNTER.to_string(), serde_json::Value::from(base + n))] })
        }),
    })
}

pub(super) const DEF: TransformDef = TransformDef {
    name: "identifier",
    evaluation: super::Evaluation::Server(lower),
    partition: super::Partition::No("it numbers the rows of every key together"),
    rows: super::Rows::Fields,
};
