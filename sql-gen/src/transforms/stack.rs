//! `stack`: running sums within groups (zero, center and normalize offsets).

use super::measure::window_of;
use super::sort::sort_param;
use super::{Step, TransformDef, TransformInput};
use crate::coerce::to_number;
use crate::error::{invalid, unsupported, Result};
use crate::lower::column;
use crate::plan::{col, with_window_columns};
use datafusion::common::ScalarValue;
use datafusion::functions::expr_fn::{abs, coalesce};
use datafusion::functions_aggregate::expr_fn::{max, sum};
use datafusion::logical_expr::{lit, when, Expr, LogicalPlan, SortExpr, WindowFrame, WindowFrameBound, WindowFrameUnits};

fn running(v: Expr, partition: &[Expr], order: &[SortExpr], include_current: bool) -> Result<Expr> {
    let end = if include_current { WindowFrameBound::CurrentRow } else { WindowFrameBound::Preceding(ScalarValue::UInt64(Some(1))) };
    let frame = WindowFrame::new_bounds(WindowFrameUnits::Rows, WindowFrameBound::Preceding(ScalarValue::UInt64(None)), end);
    let e = window_of(&sum(v), partition, order, Some(frame))?;
    Ok(coalesce(vec![e, lit(0.0)]))
}

fn group_total(v: Expr, partition: &[Expr]) -> Result<Expr> {
    Ok(coalesce(vec![window_of(&sum(v), partition, &[], None)?, lit(0.0)]))
}

fn lower(input: TransformInput) -> Result<Step> {
    let p = &input.params;
    p.only(&["field", "groupby", "sort", "offset", "as"])?;
    let schema = input.plan.schema().clone();
    let value = match p.field("field")? {
        Some(f) if crate::lower::sometimes_undefined(&schema, &f) => {
            return unsupported(format!("stack of field '{f}', missing (undefined) in some rows"));
        }
        Some(f) => to_number(&column(&schema, &f)?),
        None => lit(1.0),
    };
    let groupby: Vec<String> = p.fields("groupby")?.into_iter().flatten().collect();
    let partition: Vec<Expr> = groupby.iter().map(|g| crate::lower::group_key(&schema, g, crate::lower::GroupKeys::Json)).collect::<Result<_>>()?;
    let order = sort_param(p, &input.plan)?;
    if order.is_empty() {
        return unsupported("stack without sort over a source without a known row order");
    }
    let [y0, y1] = p.output_pair("as", ["y0", "y1"])?;
    let offset = p.string("offset")?.unwrap_or_else(|| "zero".into());
    let stack = Stack { value, partition, order, y0, y1, offset };
    if crate::plan::has_column(&input.plan, super::ROW) {
        return stack.plan(input.plan);
    }
    // Without input order, stacking is defined only if no two rows of a group tie on
    // the sort keys: ask the data.
    let mut keys: Vec<Expr> = stack.partition.clone();
    keys.extend(stack.order.iter().map(|s| s.expr.clone()));
    let plan = input.plan.clone();
    super::ask_for_ties(&input.plan, keys, move |ties| {
        if ties {
            return unsupported("stack over rows that tie on the sort keys, from a source without a known row order");
        }
        stack.plan(plan)
    })
}

/// A stack's lowered parameters.
struct Stack {
    value: Expr,
    partition: Vec<Expr>,
    order: Vec<SortExpr>,
    y0: String,
    y1: String,
    offset: String,
}

impl Stack {
    fn plan(self, plan: LogicalPlan) -> Result<Step> {
        let Stack { value, partition, order, y0, y1, offset } = self;
        let input_plan = plan;
        let (e0, e1) = match offset.as_str() {
            "zero" => {
                let neg = value.clone().lt(lit(0.0));
                let pos_v = when(neg.clone(), lit(0.0)).otherwise(value.clone())?;
                let neg_v = when(neg.clone(), value.clone()).otherwise(lit(0.0))?;
                let (pos_before, pos_incl) = (running(pos_v.clone(), &partition, &order, false)?, running(pos_v, &partition, &order, true)?);
                let (neg_before, neg_incl) = (running(neg_v.clone(), &partition, &order, false)?, running(neg_v, &partition, &order, true)?);
                (when(neg.clone(), neg_before).otherwise(pos_before)?, when(neg, neg_incl).otherwise(pos_incl)?)
            }
            "center" => {
                // (largest group sum - this group's sum) / 2, then running sums of |v|.
                const TOTAL: &str = "__vl_stack_total";
                let a = abs(value);
                let names = crate::plan::column_names(&input_plan);
                let plan = with_window_columns(input_plan, vec![(TOTAL.to_string(), group_total(a.clone(), &partition)?)])?;
                let widest = window_of(&max(col(TOTAL)), &[], &[], None)?;
                let last = (widest - col(TOTAL)) / lit(2.0);
                let e0 = last.clone() + running(a.clone(), &partition, &order, false)?;
                let e1 = last + running(a, &partition, &order, true)?;
                let plan = with_window_columns(plan, vec![(y0.clone(), e0), (y1.clone(), e1)])?;
                let mut keep: Vec<String> = names;
                for n in [y0, y1] {
                    if !keep.contains(&n) {
                        keep.push(n);
                    }
                }
                return Step::plan(crate::plan::select(plan, &keep)?);
            }
            "normalize" => {
                let a = abs(value);
                let total = group_total(a.clone(), &partition)?;
                let scale = lit(1.0) / total;
                (scale.clone() * running(a.clone(), &partition, &order, false)?, scale * running(a, &partition, &order, true)?)
            }
            other => return invalid(format!("unknown stack offset '{other}'")),
        };
        Step::plan(with_window_columns(input_plan, vec![(y0, e0), (y1, e1)])?)
    }
}

pub(super) const DEF: TransformDef =
    TransformDef { name: "stack", evaluation: super::Evaluation::Server(lower), partition: super::Partition::GroupBy, rows: super::Rows::Fields };
