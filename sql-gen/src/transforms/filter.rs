//! `filter`: keeps the rows where an expression is truthy.

use super::{Step, TransformDef, TransformInput};
use crate::error::{invalid, Result};
use crate::lower::Lowerer;
use datafusion::logical_expr::{Expr, LogicalPlanBuilder};

fn lower(input: TransformInput) -> Result<Step> {
    input.params.only(&["expr"])?;
    let Some(expr) = input.params.string("expr")? else { return invalid("filter needs 'expr'") };
    let lowerer = Lowerer::new(input.plan.schema(), input.env);
    let cond = lowerer.parse_condition(&expr).map_err(|e| e.at("expr"))?;
    // A filter drops rows whose condition is null as it drops false ones, so the
    // outer `IS TRUE` is not needed, and without it the optimizer splits the
    // conjunction and pushes each part to the scan (a brush's bounds reach Delta's
    // file skipping and Parquet's row-group pruning).
    let cond = match cond {
        Expr::IsTrue(inner) => *inner,
        other => other,
    };
    Step::plan(LogicalPlanBuilder::from(input.plan).filter(cond)?.build()?)
}

pub(super) const DEF: TransformDef =
    TransformDef { name: "filter", evaluation: super::Evaluation::Server(lower), partition: super::Partition::RowLocal, rows: super::Rows::Fields };
