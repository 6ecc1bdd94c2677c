//! `formula`: adds (or overwrites) a field computed by an expression.

use super::{Step, TransformDef, TransformInput};
use crate::error::{invalid, Result};
use crate::lower::Lowerer;
use crate::plan::{alias_undefined_nulls, with_columns};

fn lower(input: TransformInput) -> Result<Step> {
    // `initonly` only matters for re-evaluation on the client; the value is the same.
    input.params.only(&["expr", "as", "initonly"])?;
    let (Some(expr), Some(name)) = (input.params.string("expr")?, input.params.string("as")?) else {
        return invalid("formula needs 'expr' and 'as'");
    };
    let lowerer = Lowerer::new(input.plan.schema(), input.env);
    let value = lowerer.parse_scalar(&expr).map_err(|e| e.at("expr"))?;
    let undefined = value.undefined;
    let column = alias_undefined_nulls(value.into_column_expr(), &name, undefined, input.plan.schema());
    Step::plan(with_columns(input.plan, vec![(name, column)])?)
}

pub(super) const DEF: TransformDef =
    TransformDef { name: "formula", evaluation: super::Evaluation::Server(lower), partition: super::Partition::RowLocal, rows: super::Rows::Fields };
