//! `kde`: kernel density estimates per group, sampled along the value axis.
//!
//! The group values are fetched with a query; the estimate (Scott's bandwidth unless
//! given) and vega's adaptive sampling run here (`vegalake_planner::values::statistics`),
//! and the samples are planned as `VALUES`.

use super::{Step, TransformDef, TransformInput, ROW};
use crate::error::{invalid, unsupported, Result};
use crate::lower::{column, sometimes_undefined};
use crate::plan::{col, has_column};
use crate::vtype::VType;
use datafusion::arrow::array::{Array, AsArray};
use datafusion::arrow::datatypes::Float64Type;
use datafusion::common::ScalarValue;
use datafusion::logical_expr::{cast, lit, Expr, LogicalPlanBuilder};
use vegalake_planner::values::statistics::{estimate_bandwidth, sample_curve, Kde};

/// One group: its key and its field values (`None` for null).
type Group = (Vec<ScalarValue>, Vec<Option<f64>>);

/// vega-util's `extent` over the valid values.
fn extent(values: impl Iterator<Item = f64>) -> Option<[f64; 2]> {
    values.filter(|v| !v.is_nan()).fold(None, |acc, v| match acc {
        None => Some([v, v]),
        Some([lo, hi]) => Some([lo.min(v), hi.max(v)]),
    })
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
    let group_types: Vec<VType> = groupby.iter().map(|g| column(&schema, g).map(|t| t.ty)).collect::<Result<_>>()?;
    let cumulative = p.boolean("cumulative")?.unwrap_or(false);
    let counts = p.boolean("counts")?.unwrap_or(false);
    let bandwidth = p.number("bandwidth")?.unwrap_or(0.0);
    let given_extent = p.numbers("extent")?;
    if given_extent.as_ref().is_some_and(|e| e.len() != 2) {
        return invalid("kde extent must be [min, max]");
    }
    let shared = p.string("resolve")?.as_deref() == Some("shared");
    let steps = p.number("steps")?.map(|s| s as usize).filter(|s| *s > 0);
    let mut min_steps = steps.or(p.number("minsteps")?.map(|s| s as usize)).unwrap_or(25);
    let mut max_steps = steps.or(p.number("maxsteps")?.map(|s| s as usize)).unwrap_or(200);
    if shared {
        min_steps = steps.unwrap_or(max_steps);
        max_steps = min_steps;
    }
    let as_ = p.strings("as")?;
    let value_name = as_.first().cloned().flatten().unwrap_or("value".into());
    let density_name = as_.get(1).cloned().flatten().unwrap_or("density".into());

    let mut exprs: Vec<Expr> = groupby.iter().map(|g| col(g)).collect();
    exprs.push(cast(col(&field), datafusion::arrow::datatypes::DataType::Float64).alias("__vl_v"));
    let mut query = LogicalPlanBuilder::from(input.plan.clone());
    if has_column(&input.plan, ROW) {
        query = query.sort(vec![col(ROW).sort(true, true)])?;
    }
    let query = query.project(exprs)?.build()?;
    Ok(Step::Query {
        query,
        resume: Box::new(move |batches, _| {
            let mut groups: Vec<Group> = Vec::new();
            for b in &batches {
                let values = b.column(groupby.len()).as_primitive::<Float64Type>();
                for i in 0..b.num_rows() {
                    let dims = (0..groupby.len()).map(|g| ScalarValue::try_from_array(b.column(g), i)).collect::<datafusion::common::Result<Vec<_>>>()?;
                    let v = values.is_valid(i).then(|| values.value(i));
                    match groups.iter_mut().find(|(d, _)| *d == dims) {
                        Some((_, vs)) => vs.push(v),
                        None => groups.push((dims, vec![v])),
                    }
                }
            }
            let all_extent = extent(groups.iter().flat_map(|(_, vs)| vs.iter().flatten().copied()));
            let mut rows: Vec<Vec<Expr>> = Vec::new();
            for (dims, values) in &groups {
                // JavaScript arithmetic reads null as 0 in the kernel sums.
                let support: Vec<f64> = values.iter().map(|v| v.unwrap_or(0.0)).collect();
                let valid: Vec<f64> = values.iter().flatten().copied().filter(|v| !v.is_nan()).collect();
                let bw = if bandwidth != 0.0 { bandwidth } else { estimate_bandwidth(support.len(), &valid) };
                let kde = Kde { support: &support, bandwidth: bw };
                let domain = match (&given_extent, shared) {
                    (Some(e), _) => [e[0], e[1]],
                    (None, true) => all_extent.unwrap_or([f64::NAN, f64::NAN]),
                    (None, false) => extent(valid.iter().copied()).unwrap_or([f64::NAN, f64::NAN]),
                };
                let scale = if counts { support.len() as f64 } else { 1.0 };
                let f = |x: f64| if cumulative { kde.cdf(x) } else { kde.pdf(x) };
                for (x, y) in sample_curve(&f, domain, min_steps, max_steps) {
                    let mut row: Vec<Expr> = dims.iter().zip(&group_types).map(|(d, t)| cast(lit(d.clone()), t.column_type())).collect();
                    row.push(lit(x));
                    row.push(lit(y * scale));
                    row.push(lit(rows.len() as i64));
                    rows.push(row);
                }
            }
            let mut names: Vec<String> = groupby.clone();
            names.extend([value_name.clone(), density_name.clone(), ROW.to_string()]);
            let empty = rows.is_empty();
            if empty {
                let mut row: Vec<Expr> = group_types.iter().map(|t| cast(lit(ScalarValue::Null), t.column_type())).collect();
                row.extend([lit(0.0), lit(0.0), lit(0_i64)]);
                rows.push(row);
            }
            let mut plan = LogicalPlanBuilder::values(rows)?;
            if empty {
                plan = plan.filter(lit(false))?;
            }
            let columns = (1..=names.len()).map(|i| col(&format!("column{i}")));
            Step::plan(plan.project(columns.zip(&names).map(|(c, n)| c.alias(n)))?.build()?)
        }),
    })
}

pub(super) const DEF: TransformDef = TransformDef { name: "kde", lower };
