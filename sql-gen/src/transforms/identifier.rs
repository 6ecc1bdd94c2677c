//! `identifier`: a unique, increasing id per row (in input order).

use super::{Step, TransformDef, TransformInput, ROW};
use crate::error::{invalid, unsupported, Result};
use crate::plan::{col, has_column, with_window_columns};
use datafusion::arrow::datatypes::DataType;
use datafusion::functions_window::expr_fn::row_number;
use datafusion::logical_expr::{cast, ExprFunctionExt};

fn lower(input: TransformInput) -> Result<Step> {
    input.params.only(&["as"])?;
    let Some(name) = input.params.string("as")? else { return invalid("identifier needs 'as'") };
    if !has_column(&input.plan, ROW) {
        return unsupported("identifier over a source without a known row order");
    }
    // vega numbers tuples from 1 in the order they are first seen.
    let id = cast(row_number().order_by(vec![col(ROW).sort(true, true)]).build()?, DataType::Float64);
    Step::plan(with_window_columns(input.plan, vec![(name, id)])?)
}

pub(super) const DEF: TransformDef = TransformDef { name: "identifier", lower };
