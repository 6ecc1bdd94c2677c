//! Vega's sort order (vega-util's `compare`/`ascending`) as DataFusion sort keys.

use super::{Params, ROW};
use crate::error::Result;
use crate::lower::column;
use crate::plan::{col, has_column};
use crate::vtype::VType;
use datafusion::common::DFSchema;
use datafusion::functions::expr_fn::isnan;
use datafusion::logical_expr::{lit, when, LogicalPlan, SortExpr};
use serde_json::Value as Json;

/// Sort keys for a `compare` parameter `{field, order}`: nulls, then NaN, then values
/// ascending (reversed for descending), as vega's `ascending` orders them.
pub fn compare_keys(schema: &DFSchema, compare: &Json) -> Result<Vec<SortExpr>> {
    let as_list = |v: Option<&Json>| -> Vec<Json> {
        match v {
            Some(Json::Array(a)) => a.clone(),
            Some(Json::Null) | None => Vec::new(),
            Some(one) => vec![one.clone()],
        }
    };
    let fields = as_list(compare.get("field"));
    let orders = as_list(compare.get("order"));
    let mut keys = Vec::new();
    for (i, f) in fields.iter().enumerate() {
        let name = match f {
            Json::String(s) => super::field_name(s)?,
            Json::Null => continue,
            other => return crate::error::invalid(format!("sort field must be a string, got {other}")),
        };
        let asc = orders.get(i).and_then(Json::as_str) != Some("descending");
        let t = column(schema, &name)?;
        let rank = match t.ty {
            VType::Number => when(col(&name).is_null(), lit(0)).when(isnan(t.expr.clone()), lit(1)).otherwise(lit(2))?,
            _ => when(col(&name).is_null(), lit(0)).otherwise(lit(2))?,
        };
        keys.push(rank.sort(asc, true));
        keys.push(col(&name).sort(asc, true));
    }
    Ok(keys)
}

/// The `sort` parameter's keys, followed by input order where it is known (vega's
/// sorts are stable).
pub fn sort_param(params: &Params, plan: &LogicalPlan) -> Result<Vec<SortExpr>> {
    let mut keys = match params.get("sort")? {
        Some(c) => compare_keys(plan.schema(), &c)?,
        None => Vec::new(),
    };
    if has_column(plan, ROW) {
        keys.push(col(ROW).sort(true, true));
    }
    Ok(keys)
}
