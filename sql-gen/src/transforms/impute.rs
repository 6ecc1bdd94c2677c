//! `impute`: adds a row for every key value a group lacks.
//!
//! The key domain is `keyvals` then every key seen; groups are the distinct groupby
//! values (a null group is a group like any other). A missing (group, key) pair gets
//! a row `{groupby..., key, field: v, _impute: true}` where `v` is the `value` or the
//! group's mean/median/min/max of the field. Existing rows are never changed, even
//! when their field is null.

use super::{Step, TransformDef, TransformInput, ROW};
use crate::error::{invalid, unsupported, LowerError, Result};
use crate::lower::column;
use crate::lowered::{Lowered, Typed};
use crate::plan::{col, has_column, with_window_columns};
use crate::udaf::{self, Moment};
use crate::vtype::VType;
use datafusion::arrow::datatypes::DataType;
use datafusion::common::{Column, NullEquality, ScalarValue};
use datafusion::functions::expr_fn::isnan;
use datafusion::functions_aggregate::expr_fn::{count, first_value, max, min};
use datafusion::functions_window::expr_fn::row_number;
use datafusion::logical_expr::{cast, lit, when, Expr, ExprFunctionExt, JoinType, LogicalPlan, LogicalPlanBuilder};
use serde_json::Value as Json;

const STAT: &str = "__vl_stat";
const GROUP_ROW: &str = "__vl_grow";
const KEY_ROW: &str = "__vl_krow";

fn qualified(q: &str, name: &str) -> Column {
    Column::new(Some(q), name)
}

/// The groups, each with its imputed value (`STAT`) when the method computes one.
///
/// vega files each row of a group under its key, so only the last row per key counts,
/// and d3 reads them in key-domain order (the key's first appearance).
fn groups_with_stat(plan: &LogicalPlan, groupby: &[String], key: &str, field: &str, method: &str) -> Result<LogicalPlan> {
    let first_row = |alias: &str| if has_column(plan, ROW) { min(col(ROW)).alias(alias) } else { lit(0_i64).alias(alias) };
    let group_cols = || groupby.iter().map(|g| col(g));
    if method == "value" {
        return Ok(LogicalPlanBuilder::from(plan.clone()).aggregate(group_cols(), vec![first_row(GROUP_ROW)])?.build()?);
    }
    if column(plan.schema(), field)?.ty != VType::Number {
        return unsupported(format!("impute method '{method}' over a non-numeric field"));
    }
    if !has_column(plan, ROW) {
        return unsupported(format!("impute method '{method}' over a source without a known row order"));
    }
    const LAST: &str = "__vl_last";
    let key_first = datafusion::functions_aggregate::expr_fn::min(col(ROW));
    let with_key_row = with_window_columns(plan.clone(), vec![(KEY_ROW.to_string(), super::measure::window_of(&key_first, &[col(key)], &[], None)?)])?;
    let last = first_value(col(field), vec![col(ROW).sort(false, false)]).alias(LAST);
    let per_key = LogicalPlanBuilder::from(with_key_row)
        .aggregate(group_cols().chain([col(key)]), vec![last, min(col(KEY_ROW)).alias(KEY_ROW), min(col(ROW)).alias(ROW)])?
        .build()?;
    let v = col(LAST);
    let valid = when(v.clone().is_null().or(isnan(v.clone())), lit(ScalarValue::Float64(None))).otherwise(v)?;
    let stat = match method {
        // d3's mean: a running sum in key order, over the count.
        "mean" => udaf::call(Moment::Sum, valid.clone(), col(KEY_ROW)) / cast(count(valid), DataType::Float64),
        "median" => udaf::call(Moment::Median, valid, col(KEY_ROW)),
        "min" => min(valid),
        "max" => max(valid),
        other => return invalid(format!("Unrecognized imputation method: {other}")),
    };
    Ok(LogicalPlanBuilder::from(per_key).aggregate(group_cols(), vec![min(col(ROW)).alias(GROUP_ROW), stat.alias(STAT)])?.build()?)
}

fn lower(input: TransformInput) -> Result<Step> {
    let p = &input.params;
    p.only(&["field", "key", "keyvals", "groupby", "method", "value"])?;
    let field = p.required_field("field")?;
    let key = p.required_field("key")?;
    let groupby: Vec<String> = p.fields("groupby")?.into_iter().flatten().collect();
    let method = p.string("method")?.unwrap_or_else(|| "value".into());
    let value = p.get("value")?.unwrap_or(Json::from(0));
    let keyvals = p.list("keyvals")?;
    let plan = input.plan;
    let schema = plan.schema().clone();
    let key_t = column(&schema, &key)?;
    let field_t = column(&schema, &field)?;
    for g in &groupby {
        column(&schema, g)?;
    }
    let ordered = has_column(&plan, ROW);
    let first_row = |alias: &str| if ordered { min(col(ROW)).alias(alias) } else { lit(0_i64).alias(alias) };

    let groups = groups_with_stat(&plan, &groupby, &key, &field, &method)?;

    // The key domain: keyvals first, then keys in order of appearance.
    let mut keys = LogicalPlanBuilder::from(plan.clone()).aggregate(vec![col(&key)], vec![first_row(KEY_ROW)])?.build()?;
    if !keyvals.is_empty() {
        let rows = keyvals
            .iter()
            .enumerate()
            .map(|(i, v)| {
                let t = key_literal(v, key_t.ty)?;
                Ok(vec![t, lit(i as i64 - keyvals.len() as i64 - (1 << 40))])
            })
            .collect::<Result<Vec<_>>>()?;
        let given = LogicalPlanBuilder::values(rows)?.project(vec![col("column1").alias(&key), col("column2").alias(KEY_ROW)])?.build()?;
        keys = LogicalPlanBuilder::from(given).union(keys)?.aggregate(vec![col(&key)], vec![min(col(KEY_ROW)).alias(KEY_ROW)])?.build()?;
    }

    // (group, key) pairs that no input row has.
    let present =
        LogicalPlanBuilder::from(plan.clone()).aggregate(groupby.iter().map(|g| col(g)).chain([col(&key)]), Vec::<Expr>::new())?.alias("p")?.build()?;
    let mut left_keys: Vec<Column> = groupby.iter().map(|g| qualified("g", g)).collect();
    left_keys.push(qualified("k", &key));
    let mut right_keys: Vec<Column> = groupby.iter().map(|g| qualified("p", g)).collect();
    right_keys.push(qualified("p", &key));
    let missing = LogicalPlanBuilder::from(groups)
        .alias("g")?
        .cross_join(LogicalPlanBuilder::from(keys).alias("k")?.build()?)?
        .join_detailed(present, JoinType::LeftAnti, (left_keys, right_keys), None, NullEquality::NullEqualsNull)?
        .build()?;

    let imputed_value = match (&method[..], Lowered::from_json(&value)) {
        ("value", Lowered::Scalar(t)) => match value_expr(t, field_t.ty) {
            Ok(e) => e,
            // A value of another type makes a column of mixed types, but only if a
            // row is imputed: Vega-Lite imputes 0 into CSV strings where no key is
            // missing (an area chart's stack).
            Err(LowerError::Unsupported(why)) => return super::ask_for_rows(missing, move |any| if any { unsupported(why) } else { Step::plan(plan) }),
            Err(e) => return Err(e),
        },
        ("value", _) => return unsupported("impute with a non-scalar value"),
        _ => Expr::Column(qualified("g", STAT)),
    };
    let mut exprs: Vec<Expr> = groupby.iter().map(|g| Expr::Column(qualified("g", g)).alias(g)).collect();
    exprs.push(Expr::Column(qualified("k", &key)).alias(&key));
    exprs.push(imputed_value.alias(&field));
    exprs.push(lit(true).alias("_impute"));
    exprs.push(Expr::Column(qualified("g", GROUP_ROW)).alias(GROUP_ROW));
    exprs.push(Expr::Column(qualified("k", KEY_ROW)).alias(KEY_ROW));
    let added = LogicalPlanBuilder::from(missing).project(exprs)?.build()?;
    // Added rows follow the input, by group then key, as vega appends them.
    let order = cast(row_number().order_by(vec![col(GROUP_ROW).sort(true, true), col(KEY_ROW).sort(true, true)]).build()?, DataType::Int64);
    let added = with_window_columns(added, vec![(ROW.to_string(), order + lit(1_i64 << 50))])?;
    let mut keep: Vec<Expr> = groupby.iter().map(|g| col(g)).collect();
    keep.extend([col(&key), col(&field), col("_impute")]);
    if ordered {
        keep.push(col(ROW));
    }
    let added = LogicalPlanBuilder::from(added).project(keep)?.build()?;
    Step::plan(LogicalPlanBuilder::from(plan).union_by_name(added)?.build()?)
}

/// A `keyvals` entry as a literal of the key's type.
fn key_literal(v: &Json, ty: VType) -> Result<Expr> {
    match (Lowered::from_json(v), ty) {
        (Lowered::Scalar(t), _) if t.ty == ty => Ok(cast(t.expr, ty.column_type())),
        _ => unsupported(format!("impute keyvals entry {v} of another type than the key")),
    }
}

/// The constant imputed value, of the field's type.
fn value_expr(t: Typed, field_ty: VType) -> Result<Expr> {
    if t.ty != field_ty && t.ty != VType::Null {
        return unsupported(format!("impute value of type {} into a {} field", t.ty.name(), field_ty.name()));
    }
    Ok(cast(t.expr, field_ty.column_type()))
}

pub(super) const DEF: TransformDef = TransformDef {
    name: "impute",
    evaluation: super::Evaluation::Server(lower),
    partition: super::Partition::No("it imputes the key values of every key"),
    rows: super::Rows::Fields,
};
