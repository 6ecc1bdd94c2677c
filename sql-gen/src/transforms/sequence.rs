//! `sequence`: generates rows `{as: v}` for v in d3's `range(start, stop, step)`.

use super::{Step, TransformDef, TransformInput, ROW};
use crate::error::{invalid, unsupported, Result};
use crate::functions::d3_range;
use datafusion::logical_expr::{lit, LogicalPlanBuilder};

fn lower(input: TransformInput) -> Result<Step> {
    let p = &input.params;
    p.only(&["start", "stop", "step", "as"])?;
    let (Some(start), Some(stop)) = (p.number("start")?, p.number("stop")?) else {
        return invalid("sequence needs 'start' and 'stop'");
    };
    let step = p.number("step")?.unwrap_or(1.0);
    let name = p.string("as")?.unwrap_or("data".into());
    let values = d3_range(start, stop, step).or_else(|e| unsupported(format!("sequence: {e}")))?;
    if values.is_empty() {
        let empty = LogicalPlanBuilder::values(vec![vec![lit(0.0).alias(&name), lit(0_i64).alias(ROW)]])?.filter(lit(false))?.build()?;
        return Step::plan(empty);
    }
    let rows = values.iter().enumerate().map(|(i, v)| vec![lit(*v), lit(i as i64)]).collect();
    let plan = LogicalPlanBuilder::values(rows)?.build()?;
    let plan = LogicalPlanBuilder::from(plan).project(vec![crate::plan::col("column1").alias(&name), crate::plan::col("column2").alias(ROW)])?.build()?;
    Step::plan(plan)
}

pub(super) const DEF: TransformDef = TransformDef {
    name: "sequence",
    evaluation: super::Evaluation::Server(lower),
    partition: super::Partition::No("it makes rows of its own"),
    rows: super::Rows::Fields,
};
