//! `quantile`: per group, the value at each probability (vega-statistics' quantiles:
//! linear interpolation over the sorted valid numbers), one row per group and
//! probability.

use super::generated::{group_types, read_groups, values_query, Group, Rows};
use super::{Step, TransformDef, TransformInput};
use crate::error::Result;
use crate::functions::d3_range;
use crate::udaf::quantile;

fn lower(input: TransformInput) -> Result<Step> {
    let p = &input.params;
    p.only(&["groupby", "field", "probs", "step", "as"])?;
    let field = p.required_field("field")?;
    let groupby: Vec<String> = p.fields("groupby")?.into_iter().flatten().collect();
    let step = p.number("step")?.filter(|s| *s != 0.0).unwrap_or(0.01);
    let probs = match p.numbers("probs")? {
        Some(probs) => probs,
        None => d3_range(step / 2.0, 1.0 - 1e-14, step).or_else(|e| crate::error::unsupported(format!("quantile step {step}: {e}")))?,
    };
    let names = p.output_pair("as", ["prob", "value"])?;
    let types = group_types(&input.plan, &groupby)?;
    let value = super::extent::numeric_field(input.plan.schema(), &field)?;
    let query = values_query(&input.plan, &groupby, vec![value])?;
    Ok(Step::Query {
        query,
        resume: Box::new(move |batches, _| {
            let mut groups = read_groups(&batches, groupby.len())?;
            // Without groupby vega always has its one group, even when it is empty.
            if groupby.is_empty() && groups.is_empty() {
                groups.push(Group { dims: Vec::new(), columns: vec![Vec::new()] });
            }
            let mut rows = Rows::new(types);
            for g in &groups {
                let valid = g.valid();
                for p in &probs {
                    rows.push(&g.dims, &[Some(*p), quantile(&valid, *p)]);
                }
            }
            Step::plan(rows.into_plan(&groupby, &names)?)
        }),
    })
}

pub(super) const DEF: TransformDef =
    TransformDef { name: "quantile", evaluation: super::Evaluation::Server(lower), partition: super::Partition::GroupBy, rows: super::Rows::Fields };
