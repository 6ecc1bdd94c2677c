//! `lookup`: copies fields from the row of another dataset whose `key` equals a field.
//!
//! vega indexes the other dataset in vega-util's `fastmap` (later rows win) and
//! copies `values` (or `default`) into `as`. A fastmap's keys are object property
//! names, so keys compare as `String(key)`: where the field's type differs from the
//! key's (TopoJSON's numeric `id` looked up in a CSV's text `id`), both sides are
//! joined as JavaScript strings. Copying the whole matched object (no `values`)
//! stays on the client.

use super::{Step, TransformDef, TransformInput, ROW};
use crate::coerce::to_string;
use crate::error::{invalid, unsupported, Result};
use crate::lower::column;
use crate::lowered::Lowered;
use crate::plan::{col, column_names, has_column};
use datafusion::common::{Column, NullEquality};
use datafusion::functions_aggregate::expr_fn::first_value;
use datafusion::logical_expr::{cast, when, Expr, JoinType, LogicalPlanBuilder};

fn lower(input: TransformInput) -> Result<Step> {
    let p = &input.params;
    p.only(&["from", "key", "fields", "values", "as", "default"])?;
    let Some(from) = p.string("from")? else { return invalid("lookup needs 'from'") };
    let key = p.required_field("key")?;
    let fields: Vec<String> = p.fields("fields")?.into_iter().flatten().collect();
    let values: Vec<String> = p.fields("values")?.into_iter().flatten().collect();
    let names = p.strings("as")?;
    if values.is_empty() {
        return unsupported("lookup without 'values' copies whole objects");
    }
    if fields.is_empty() {
        return invalid("lookup needs 'fields'");
    }
    if fields.len() > 1 && names.is_empty() {
        return invalid("Multi-field lookup requires explicit \"as\" parameter.");
    }
    if !names.is_empty() && names.len() != fields.len() * values.len() {
        return invalid("The \"as\" parameter has too few output field names.");
    }
    let Some(secondary) = input.env.dataset_plan(&from) else {
        return unsupported(format!("lookup from '{from}', which is evaluated on the client"));
    };
    if !has_column(&secondary, ROW) {
        return unsupported(format!("lookup from '{from}', whose row order is unknown (later rows win)"));
    }
    let key_t = column(secondary.schema(), &key)?;
    let mut field_types = Vec::new();
    for f in &fields {
        field_types.push(column(input.plan.schema(), f)?);
    }
    // One type on both sides compares values; otherwise their JavaScript strings.
    let as_strings = field_types.iter().any(|t| t.ty != key_t.ty);
    let key_expr = if as_strings { to_string(&key_t)? } else { col(&key) };
    let mut value_types = Vec::new();
    for v in &values {
        value_types.push(column(secondary.schema(), v)?.ty);
    }
    // One row per key: the last one, as vega's Map keeps it.
    let mut aggs: Vec<Expr> =
        values.iter().enumerate().map(|(j, v)| first_value(col(v), vec![col(ROW).sort(false, false)]).alias(format!("__vl_v{j}"))).collect();
    // Marks a match (the key itself may be null).
    aggs.push(datafusion::functions_aggregate::expr_fn::count(datafusion::logical_expr::lit(1)).alias("__vl_hit"));
    let index = LogicalPlanBuilder::from(secondary).aggregate(vec![key_expr.alias("__vl_key")], aggs)?.build()?;

    let default = p.get("default")?.map(|d| Lowered::from_json(&d));
    let mut plan = input.plan;
    let mut k = 0;
    for (i, (f, f_t)) in fields.iter().zip(field_types).enumerate() {
        let right = format!("__vl_lookup{i}");
        let before = column_names(&plan);
        let probe = if as_strings {
            let mut exprs: Vec<Expr> = before.iter().map(|c| col(c)).collect();
            exprs.push(to_string(&f_t)?.alias("__vl_probe"));
            plan = LogicalPlanBuilder::from(plan).project(exprs)?.build()?;
            "__vl_probe"
        } else {
            f.as_str()
        };
        let joined = LogicalPlanBuilder::from(plan)
            .join_detailed(
                LogicalPlanBuilder::from(index.clone()).alias(&right)?.build()?,
                JoinType::Left,
                (vec![Column::new_unqualified(probe)], vec![Column::new(Some(right.as_str()), "__vl_key")]),
                None,
                NullEquality::NullEqualsNull,
            )?
            .build()?;
        let mut exprs: Vec<Expr> = Vec::new();
        let mut outputs: Vec<(String, Expr)> = Vec::new();
        for (j, v) in values.iter().enumerate() {
            let name = names.get(k).cloned().flatten().unwrap_or_else(|| v.clone());
            k += 1;
            let found = Expr::Column(Column::new(Some(right.as_str()), "__vl_hit")).is_not_null();
            let value = Expr::Column(Column::new(Some(right.as_str()), format!("__vl_v{j}")));
            let e = match &default {
                None => value,
                Some(Lowered::Scalar(d)) if d.ty == value_types[j] || d.ty == crate::vtype::VType::Null => {
                    when(found, value).otherwise(cast(d.expr.clone(), value_types[j].column_type()))?
                }
                Some(_) => return unsupported("lookup default of another type than the looked-up field"),
            };
            outputs.push((name, e));
        }
        for c in &before {
            if !outputs.iter().any(|(n, _)| n == c) {
                exprs.push(Expr::Column(Column::new_unqualified(c)).alias(c));
            }
        }
        exprs.extend(outputs.into_iter().map(|(n, e)| e.alias(n)));
        plan = LogicalPlanBuilder::from(joined).project(exprs)?.build()?;
    }
    Step::plan(plan)
}

pub(super) const DEF: TransformDef = TransformDef {
    name: "lookup",
    evaluation: super::Evaluation::Server(lower),
    partition: super::Partition::No("it joins another dataset"),
    rows: super::Rows::FromUnlessValues,
};
