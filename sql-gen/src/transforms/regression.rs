//! `regression`: a trend line per group, sampled along x (vega-regression). The
//! points are fetched with a query; the fit runs here.

use super::generated::{group_types, read_groups, require_numbers, values_query, Rows};
use super::kde::extent;
use super::{Step, TransformDef, TransformInput};
use crate::error::{invalid, unsupported, Result};
use crate::plan::col;
use vegalake_planner::values::regression::fit;
use vegalake_planner::values::statistics::sample_curve;

fn lower(input: TransformInput) -> Result<Step> {
    let p = &input.params;
    p.only(&["x", "y", "groupby", "method", "order", "extent", "params", "as"])?;
    let (x, y) = (p.required_field("x")?, p.required_field("y")?);
    let groupby: Vec<String> = p.fields("groupby")?.into_iter().flatten().collect();
    let method = p.string("method")?.unwrap_or_else(|| "linear".into());
    if p.boolean("params")? == Some(true) {
        return unsupported("regression parameters (arrays of coefficients)");
    }
    if !matches!(method.as_str(), "constant" | "linear" | "log" | "exp" | "pow" | "quad") {
        return match method.as_str() {
            "poly" => unsupported("polynomial regression"),
            other => invalid(format!("Invalid regression method: {other}")),
        };
    }
    require_numbers(&input.plan, &[&x, &y], "regression")?;
    let mut domain = match p.numbers("extent")? {
        Some(e) if e.len() == 2 => Some([e[0], e[1]]),
        Some(_) => return invalid("regression extent must be [min, max]"),
        None => None,
    };
    // vega ignores an extent reaching zero for log regressions.
    if method == "log" && domain.is_some_and(|d| d[0] <= 0.0) {
        domain = None;
    }
    let dof = if method == "quad" { 2 } else { 1 };
    let names = p.output_pair("as", [&x, &y])?;
    let types = group_types(&input.plan, &groupby)?;
    let query = values_query(&input.plan, &groupby, vec![col(&x), col(&y)])?;
    Ok(Step::Query {
        query,
        resume: Box::new(move |batches, _| {
            let mut rows = Rows::new(types);
            for g in read_groups(&batches, groupby.len())? {
                // vega skips groups with no more rows than parameters.
                if g.columns[0].len() <= dof {
                    continue;
                }
                let points = g.points();
                let model = fit(&method, &points).expect("method checked above");
                let Some(dom) = domain.or_else(|| extent(g.values().iter().flatten().copied())) else { continue };
                let samples = if matches!(method.as_str(), "linear" | "constant") {
                    dom.iter().map(|&x| (x, model.predict(x))).collect()
                } else {
                    sample_curve(&|x| model.predict(x), dom, 25, 200)
                };
                for (sx, sy) in samples {
                    rows.push(&g.dims, &[Some(sx), Some(sy)]);
                }
            }
            Step::plan(rows.into_plan(&groupby, &names)?)
        }),
    })
}

pub(super) const DEF: TransformDef =
    TransformDef { name: "regression", evaluation: super::Evaluation::Server(lower), partition: super::Partition::GroupBy, rows: super::Rows::Fields };
