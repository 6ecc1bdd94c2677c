//! `collect`: the rows, optionally sorted (stable).

use super::sort::sort_param;
use super::{Step, TransformDef, TransformInput, ROW};
use crate::error::Result;
use crate::plan::{col, has_column, with_window_columns};
use datafusion::arrow::datatypes::DataType;
use datafusion::functions_window::expr_fn::row_number;
use datafusion::logical_expr::{cast, ExprFunctionExt, LogicalPlanBuilder};

fn lower(input: TransformInput) -> Result<Step> {
    input.params.only(&["sort"])?;
    let keys = sort_param(&input.params, &input.plan)?;
    // No sort fields: the rows as they are.
    if keys.iter().all(|k| k.expr == col(ROW)) {
        return Step::plan(input.plan);
    }
    if has_column(&input.plan, ROW) {
        // The new order becomes the carried input order.
        let rn = cast(row_number().order_by(keys).build()?, DataType::Int64);
        return Step::plan(with_window_columns(input.plan, vec![(ROW.to_string(), rn)])?);
    }
    Step::plan(LogicalPlanBuilder::from(input.plan).sort(keys)?.build()?)
}

pub(super) const DEF: TransformDef =
    TransformDef { name: "collect", evaluation: super::Evaluation::Server(lower), partition: super::Partition::RowLocal, rows: super::Rows::Fields };
