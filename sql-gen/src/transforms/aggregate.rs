//! `aggregate`: group rows and compute measures per group.

use super::measure::{measure, measure_name, returns_rows, undefined_below_two_values, Arithmetic};
use super::{Step, TransformDef, TransformInput, ROW};
use crate::error::{unsupported, Result};
use crate::plan::{col, has_column};
use datafusion::functions_aggregate::expr_fn::{first_value, min};
use datafusion::logical_expr::{Expr, LogicalPlan, LogicalPlanBuilder};

const EMPTY_GUARD: &str = "__vl_rows";

fn lower(input: TransformInput) -> Result<Step> {
    let p = &input.params;
    p.only(&["groupby", "fields", "ops", "as", "cross", "drop", "key"])?;
    if p.boolean("cross")? == Some(true) {
        return unsupported("aggregate with cross: true");
    }
    if p.boolean("drop")? == Some(false) {
        return unsupported("aggregate with drop: false");
    }
    if p.get("key")?.is_some() {
        return unsupported("aggregate with a key");
    }
    let groupby: Vec<String> = p.fields("groupby")?.into_iter().flatten().collect();
    let fields = p.fields("fields")?;
    let ops: Vec<String> = p.strings("ops")?.into_iter().map(|o| o.unwrap_or_else(|| "count".into())).collect();
    let names = p.strings("as")?;
    let schema = input.plan.schema().clone();
    // No ops: vega counts.
    let ops = if ops.is_empty() && fields.is_empty() { vec!["count".to_string()] } else { ops };

    let mut aggregates: Vec<(String, Expr)> = Vec::new();
    let mut outputs: Vec<Expr> = Vec::new();
    let mut spreads: Vec<String> = Vec::new();
    let mut rows: Vec<String> = Vec::new();
    for (i, op) in ops.iter().enumerate() {
        let field = fields.get(i).cloned().flatten();
        let m = measure(&schema, op, field.as_deref(), i, Arithmetic::Sequential)?;
        let name = names.get(i).cloned().flatten().unwrap_or_else(|| measure_name(op, field.as_deref()));
        aggregates.extend(m.aggregates);
        if undefined_below_two_values(op) {
            spreads.push(name.clone());
        }
        if returns_rows(op) {
            rows.push(name.clone());
        }
        outputs.push(m.output.alias(name));
    }
    // Without groupby, vega emits no row for empty input (SQL emits one).
    let guard_empty = groupby.is_empty();
    if guard_empty {
        aggregates.push((EMPTY_GUARD.to_string(), datafusion::functions_aggregate::expr_fn::count(datafusion::logical_expr::lit(1))));
    }
    let ordered = has_column(&input.plan, ROW);
    if ordered {
        // Groups come out in order of first appearance, as in vega.
        aggregates.push((ROW.to_string(), min(col(ROW))));
    }
    let mut group_exprs: Vec<Expr> = Vec::new();
    let mut project: Vec<Expr> = Vec::new();
    for (i, g) in groupby.iter().enumerate() {
        match crate::lower::group_key(&schema, g, crate::lower::GroupKeys::String)? {
            Expr::Column(c) => {
                group_exprs.push(Expr::Column(c));
                project.push(col(g));
            }
            // A field of several types groups by its string; the group's value is
            // its first row's, as vega keeps the tuple that opened the group.
            key => {
                if !ordered {
                    return unsupported(format!("groupby '{g}' (values of several types) over a source without a known row order"));
                }
                group_exprs.push(key.alias(format!("__vl_key{i}")));
                aggregates.push((g.clone(), first_value(col(g), vec![col(ROW).sort(true, false)])));
                let metadata = datafusion::common::metadata::FieldMetadata::new_from_field(schema.field_with_unqualified_name(g)?);
                project.push(col(g).alias_with_metadata(g, Some(metadata)));
            }
        }
    }
    let plan = LogicalPlanBuilder::from(input.plan).aggregate(group_exprs, aggregates.into_iter().map(|(a, e)| e.alias(a)))?.build()?;
    let plan = if guard_empty { LogicalPlanBuilder::from(plan).filter(col(EMPTY_GUARD).gt(datafusion::logical_expr::lit(0_i64)))?.build()? } else { plan };
    project.extend(outputs);
    if ordered {
        project.push(col(ROW));
    }
    let plan = LogicalPlanBuilder::from(plan).project(project)?.build()?;
    if !rows.is_empty() {
        // vega's argmin of a group without a valid value is `{}`, not a row.
        let asked = plan.clone();
        return super::ask_for_nulls(&asked, rows, move |nulls| {
            if nulls {
                return unsupported("argmin/argmax of a group without a valid value (an empty object in vega)");
            }
            mark_spreads(plan, spreads)
        });
    }
    mark_spreads(plan, spreads)
}

/// The aggregate's plan, its spreads marked `undefined` where null if the data
/// has such a group.
fn mark_spreads(plan: LogicalPlan, spreads: Vec<String>) -> Result<Step> {
    if spreads.is_empty() {
        return Step::plan(plan);
    }
    // A spread is `undefined` in groups with fewer than two valid values, which
    // later expressions tell from null (`center + extent` is NaN there): ask the
    // data whether any group has one, and mark those columns only then. Why:
    // marking them always sent every stdev/stderr error bar's formulas to the
    // client, though real groups almost always have two values.
    let asked = plan.clone();
    super::ask_for_nulls(&asked, spreads.clone(), move |nulls| Step::plan(if nulls { mark_undefined_when_null(plan, &spreads)? } else { plan }))
}

/// Re-projects `plan` with `columns` marked as holding `undefined` where null.
fn mark_undefined_when_null(plan: LogicalPlan, columns: &[String]) -> Result<LogicalPlan> {
    let schema = plan.schema();
    let project: Vec<Expr> = schema
        .fields()
        .iter()
        .map(|f| if columns.contains(f.name()) { crate::plan::alias_undefined_nulls(col(f.name()), f.name(), true, schema) } else { col(f.name()) })
        .collect();
    Ok(LogicalPlanBuilder::from(plan).project(project)?.build()?)
}

pub(super) const DEF: TransformDef = TransformDef {
    name: "aggregate",
    evaluation: super::Evaluation::Server(lower),
    partition: super::Partition::GroupByWithout("cross", "its cross product spans every key's values"),
    rows: super::Rows::FieldsUnlessRowOps,
};
