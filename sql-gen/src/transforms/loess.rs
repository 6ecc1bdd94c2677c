//! `loess`: a locally weighted regression curve per group (vega-regression's Loess).
//! The points are fetched with a query; the smoothing runs here.

use super::generated::{group_types, read_groups, require_numbers, values_query, Rows};
use super::{Step, TransformDef, TransformInput};
use crate::error::Result;
use crate::plan::col;
use vegalake_planner::values::regression::loess;

fn lower(input: TransformInput) -> Result<Step> {
    let p = &input.params;
    p.only(&["x", "y", "groupby", "bandwidth", "as"])?;
    let (x, y) = (p.required_field("x")?, p.required_field("y")?);
    let groupby: Vec<String> = p.fields("groupby")?.into_iter().flatten().collect();
    let bandwidth = p.number("bandwidth")?.filter(|b| *b != 0.0).unwrap_or(0.3);
    require_numbers(&input.plan, &[&x, &y], "loess")?;
    let names = p.output_pair("as", [&x, &y])?;
    let types = group_types(&input.plan, &groupby)?;
    let query = values_query(&input.plan, &groupby, vec![col(&x), col(&y)])?;
    Ok(Step::Query {
        query,
        resume: Box::new(move |batches, _| {
            let mut rows = Rows::new(types);
            for g in read_groups(&batches, groupby.len())? {
                let points = g.points();
                for (sx, sy) in loess(&points, bandwidth) {
                    rows.push(&g.dims, &[Some(sx), Some(sy)]);
                }
            }
            Step::plan(rows.into_plan(&groupby, &names)?)
        }),
    })
}

pub(super) const DEF: TransformDef =
    TransformDef { name: "loess", evaluation: super::Evaluation::Server(lower), partition: super::Partition::GroupBy, rows: super::Rows::Fields };
