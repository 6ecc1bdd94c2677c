//! `quantile`: per group, the value at each probability (vega-statistics' quantiles:
//! linear interpolation over the sorted valid numbers).
//!
//! The valid values are fetched with a query, the quantiles computed here, and the
//! result planned as `VALUES`: one row per group and probability.

use super::{Step, TransformDef, TransformInput, ROW};
use crate::error::Result;
use crate::functions::d3_range;
use crate::lower::column;
use crate::plan::{col, has_column};
use crate::udaf::quantile;
use crate::vtype::VType;
use datafusion::arrow::array::AsArray;
use datafusion::arrow::datatypes::Float64Type;
use datafusion::common::ScalarValue;
use datafusion::functions::expr_fn::isnan;
use datafusion::logical_expr::{cast, lit, Expr, LogicalPlanBuilder};

fn lower(input: TransformInput) -> Result<Step> {
    let p = &input.params;
    p.only(&["groupby", "field", "probs", "step", "as"])?;
    let field = p.required_field("field")?;
    let groupby: Vec<String> = p.fields("groupby")?.into_iter().flatten().collect();
    let step = p.number("step")?.filter(|s| *s != 0.0).unwrap_or(0.01);
    let probs = p.numbers("probs")?.unwrap_or_else(|| d3_range(step / 2.0, 1.0 - 1e-14, step));
    let as_ = p.strings("as")?;
    let prob_name = as_.first().cloned().flatten().unwrap_or("prob".into());
    let value_name = as_.get(1).cloned().flatten().unwrap_or("value".into());
    let schema = input.plan.schema().clone();
    let value = super::extent::numeric_field(&schema, &field)?;
    let group_types: Vec<VType> = groupby.iter().map(|g| column(&schema, g).map(|t| t.ty)).collect::<Result<_>>()?;
    // Valid numbers, in input order, with their group.
    let mut exprs: Vec<Expr> = groupby.iter().map(|g| col(g)).collect();
    exprs.push(value.clone().alias("__vl_v"));
    let mut query = LogicalPlanBuilder::from(input.plan.clone()).filter(value.clone().is_not_null().and(isnan(value).is_false()))?;
    if has_column(&input.plan, ROW) {
        query = query.sort(vec![col(ROW).sort(true, true)])?;
    }
    let query = query.project(exprs)?.build()?;
    Ok(Step::Query {
        query,
        resume: Box::new(move |batches, _| {
            // Groups in order of first appearance, keyed as vega keys them.
            let mut groups: Vec<(Vec<ScalarValue>, Vec<f64>)> = Vec::new();
            for b in &batches {
                let values = b.column(groupby.len()).as_primitive::<Float64Type>();
                for i in 0..b.num_rows() {
                    let dims = (0..groupby.len()).map(|g| ScalarValue::try_from_array(b.column(g), i)).collect::<datafusion::common::Result<Vec<_>>>()?;
                    match groups.iter_mut().find(|(d, _)| *d == dims) {
                        Some((_, vs)) => vs.push(values.value(i)),
                        None => groups.push((dims, vec![values.value(i)])),
                    }
                }
            }
            // Without groupby vega always has its one group, even when it is empty.
            if groupby.is_empty() && groups.is_empty() {
                groups.push((Vec::new(), Vec::new()));
            }
            let mut rows: Vec<Vec<Expr>> = Vec::new();
            for (k, (dims, values)) in groups.iter().enumerate() {
                for (i, p) in probs.iter().enumerate() {
                    let mut row: Vec<Expr> = dims.iter().zip(&group_types).map(|(d, t)| cast(lit(d.clone()), t.column_type())).collect();
                    row.push(lit(*p));
                    row.push(lit(ScalarValue::Float64(quantile(values, *p))));
                    row.push(lit((k * probs.len() + i) as i64));
                    rows.push(row);
                }
            }
            let mut names: Vec<String> = groupby.clone();
            names.extend([prob_name.clone(), value_name.clone(), ROW.to_string()]);
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
            let plan = plan.project(columns.zip(&names).map(|(c, n)| c.alias(n)))?.build()?;
            Step::plan(plan)
        }),
    })
}

pub(super) const DEF: TransformDef = TransformDef { name: "quantile", lower };
