//! `pivot`: one output column per distinct value of a field, aggregating `value`.
//!
//! vega reshapes this into an aggregate: the keys are the field's distinct values in
//! ascending order (optionally the first `limit`), each output column `String(k)`
//! holds `op` over the rows whose field is `k` (other rows count as NaN, which
//! aggregates skip). The distinct keys come from a query before planning.

use super::measure::{measure, Arithmetic};
use super::{Step, TransformDef, TransformInput};
use crate::error::{invalid, unsupported, Result};
use crate::lower::column;
use crate::plan::{col, with_columns};
use crate::vtype::VType;
use datafusion::common::ScalarValue;
use datafusion::functions::expr_fn::isnan;
use datafusion::logical_expr::{lit, when, Expr, LogicalPlanBuilder};
use vegalake_planner::values::number::js_number_to_string;

fn lower(input: TransformInput) -> Result<Step> {
    let p = &input.params;
    p.only(&["groupby", "field", "value", "op", "limit", "key"])?;
    if p.get("key")?.is_some() {
        return unsupported("pivot with a key");
    }
    let field = p.required_field("field")?;
    let value = p.required_field("value")?;
    let op = p.string("op")?.unwrap_or_else(|| "sum".into());
    let limit = p.number("limit")?.unwrap_or(0.0) as usize;
    let groupby: Vec<String> = p.fields("groupby")?.into_iter().flatten().collect();
    let schema = input.plan.schema().clone();
    let key_t = column(&schema, &field)?;
    let value_t = column(&schema, &value)?;
    if value_t.ty != VType::Number {
        return unsupported("pivot of a non-numeric value");
    }
    if !matches!(key_t.ty, VType::Number | VType::String | VType::Boolean) {
        return unsupported(format!("pivot over a {} field", key_t.ty.name()));
    }
    let query = LogicalPlanBuilder::from(input.plan.clone()).aggregate(vec![col(&field)], Vec::<Expr>::new())?.build()?;
    let plan = input.plan;
    Ok(Step::Query {
        query,
        resume: Box::new(move |batches, _env| {
            let mut keys: Vec<ScalarValue> = Vec::new();
            for b in &batches {
                for i in 0..b.num_rows() {
                    keys.push(ScalarValue::try_from_array(b.column(0), i)?);
                }
            }
            // vega's ascending: null first, then values in order.
            keys.sort_by(|a, b| a.partial_cmp(b).unwrap_or(std::cmp::Ordering::Equal));
            keys.sort_by_key(|k| !k.is_null());
            if limit > 0 {
                keys.truncate(limit);
            }
            let mut cells = Vec::new();
            let mut names = Vec::new();
            for (i, k) in keys.iter().enumerate() {
                let hit = if k.is_null() { col(&field).is_null() } else { col(&field).eq(lit(k.clone())) };
                let name = format!("__vl_pivot{i}");
                // Rows of other keys count as NaN, which aggregates skip (not as missing).
                cells.push((name.clone(), when(hit, col(&value)).otherwise(lit(f64::NAN))?));
                names.push((name, key_name(k)?));
            }
            let with_cells = with_columns(plan, cells)?;
            let schema = with_cells.schema().clone();
            let mut aggregates: Vec<(String, Expr)> = Vec::new();
            let mut outputs = Vec::new();
            for (i, (cell, out)) in names.iter().enumerate() {
                let m = if op == "count" {
                    // vega's `__count__`: matching rows whose value is not NaN.
                    let c =
                        datafusion::functions_aggregate::expr_fn::count(when(isnan(col(cell)).is_false(), lit(1)).otherwise(lit(ScalarValue::Int32(None)))?);
                    super::measure::Measure {
                        aggregates: vec![(format!("__vl_m{i}_c"), c)],
                        output: datafusion::logical_expr::cast(col(&format!("__vl_m{i}_c")), datafusion::arrow::datatypes::DataType::Float64),
                    }
                } else {
                    measure(&schema, &op, Some(cell), i, Arithmetic::Sequential)?
                };
                aggregates.extend(m.aggregates);
                outputs.push(m.output.alias(out));
            }
            // Groups come out in order of first appearance, as from `aggregate`.
            let ordered = crate::plan::has_column(&with_cells, super::ROW);
            if ordered {
                aggregates.push((super::ROW.to_string(), datafusion::functions_aggregate::expr_fn::min(col(super::ROW))));
            }
            let plan =
                LogicalPlanBuilder::from(with_cells).aggregate(groupby.iter().map(|g| col(g)), aggregates.into_iter().map(|(a, e)| e.alias(a)))?.build()?;
            let mut project: Vec<Expr> = groupby.iter().map(|g| col(g)).collect();
            project.extend(outputs);
            if ordered {
                project.push(col(super::ROW));
            }
            Step::plan(LogicalPlanBuilder::from(plan).project(project)?.build()?)
        }),
    })
}

/// The output column of a key: JavaScript's `k + ''`.
fn key_name(k: &ScalarValue) -> Result<String> {
    Ok(match k {
        v if v.is_null() => "null".into(),
        ScalarValue::Float64(Some(x)) => js_number_to_string(*x),
        ScalarValue::Utf8(Some(s)) => s.clone(),
        ScalarValue::Boolean(Some(b)) => b.to_string(),
        other => return invalid(format!("pivot key {other}")),
    })
}

pub(super) const DEF: TransformDef = TransformDef {
    name: "pivot",
    evaluation: super::Evaluation::Server(lower),
    partition: super::Partition::No("its columns are the values of every key"),
    rows: super::Rows::Fields,
};
