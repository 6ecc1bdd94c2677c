//! `kde`: kernel density estimates per group, sampled along the value axis.
//!
//! The group values are fetched with a query; the estimate (Scott's bandwidth unless
//! given) and vega's adaptive sampling run here (`vegalake_planner::values::statistics`),
//! and the samples are planned as `VALUES`.

use super::generated::{group_types, read_groups, values_query, Rows};
use super::{Step, TransformDef, TransformInput};
use crate::error::{invalid, unsupported, Result};
use crate::lower::{column, sometimes_undefined};
use crate::plan::col;
use crate::vtype::VType;
use vegalake_planner::values::statistics::{estimate_bandwidth, sample_curve, Kde};

/// vega-util's `extent` over the valid values.
pub(super) fn extent(values: impl Iterator<Item = f64>) -> Option<[f64; 2]> {
    values.filter(|v| !v.is_nan()).fold(None, |acc, v| match acc {
        None => Some([v, v]),
        Some([lo, hi]) => Some([lo.min(v), hi.max(v)]),
    })
}

/// The kernel density estimate of a group's values: nulls count as 0 in the kernel
/// sums (JavaScript arithmetic), but not in the bandwidth's statistics.
pub(super) fn group_kde(values: &[Option<f64>], bandwidth: f64) -> (Vec<f64>, f64) {
    let support: Vec<f64> = values.iter().map(|v| v.unwrap_or(0.0)).collect();
    let valid: Vec<f64> = values.iter().flatten().copied().filter(|v| !v.is_nan()).collect();
    let bw = if bandwidth != 0.0 { bandwidth } else { estimate_bandwidth(support.len(), &valid) };
    (support, bw)
}

fn lower(input: TransformInput) -> Result<Step> {
    let p = &input.params;
    p.only(&["groupby", "field", "cumulative", "counts", "bandwidth", "extent", "resolve", "steps", "minsteps", "maxsteps", "as"])?;
    let field = p.required_field("field")?;
    let groupby: Vec<String> = p.fields("groupby")?.into_iter().flatten().collect();
    let schema = input.plan.schema().clone();
    let value_t = column(&schema, &field)?;
    if value_t.ty != VType::Number || sometimes_undefined(&schema, &field) {
        return unsupported("kde of a field that is not always a number or null");
    }
    let types = group_types(&input.plan, &groupby)?;
    let cumulative = p.boolean("cumulative")?.unwrap_or(false);
    let counts = p.boolean("counts")?.unwrap_or(false);
    let bandwidth = p.number("bandwidth")?.unwrap_or(0.0);
    let given_extent = p.numbers("extent")?;
    if given_extent.as_ref().is_some_and(|e| e.len() != 2) {
        return invalid("kde extent must be [min, max]");
    }
    let shared = p.string("resolve")?.as_deref() == Some("shared");
    let (steps, mut min_steps, mut max_steps) = super::generated::curve_steps(p)?;
    if shared {
        min_steps = steps.unwrap_or(max_steps);
        max_steps = min_steps;
    }
    let names = p.output_pair("as", ["value", "density"])?;
    let query = values_query(&input.plan, &groupby, vec![col(&field)])?;
    Ok(Step::Query {
        query,
        resume: Box::new(move |batches, _| {
            let groups = read_groups(&batches, groupby.len())?;
            let all_extent = extent(groups.iter().flat_map(|g| g.values().iter().flatten().copied()));
            let mut rows = Rows::new(types);
            for g in &groups {
                let (support, bw) = group_kde(g.values(), bandwidth);
                let kde = Kde { support: &support, bandwidth: bw };
                let domain = match (&given_extent, shared) {
                    (Some(e), _) => [e[0], e[1]],
                    (None, true) => all_extent.unwrap_or([f64::NAN, f64::NAN]),
                    (None, false) => extent(g.valid().into_iter()).unwrap_or([f64::NAN, f64::NAN]),
                };
                let scale = if counts { support.len() as f64 } else { 1.0 };
                let f = |x: f64| if cumulative { kde.cdf(x) } else { kde.pdf(x) };
                for (x, y) in sample_curve(&f, domain, min_steps, max_steps) {
                    rows.push(&g.dims, &[Some(x), Some(y * scale)]);
                }
            }
            Step::plan(rows.into_plan(&groupby, &names)?)
        }),
    })
}

pub(super) const DEF: TransformDef = TransformDef {
    name: "kde",
    evaluation: super::Evaluation::Server(lower),
    partition: super::Partition::No("its extent spans every key's rows"),
    rows: super::Rows::Fields,
};
