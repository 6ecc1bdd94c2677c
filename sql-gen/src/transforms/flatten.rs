//! `flatten`: one row per array item, the arrays of several fields read side by side.
//!
//! vega's Flatten makes, for each row, as many rows as its longest array, each a
//! copy of the row with the fields' `i`-th items (null past a shorter array's end)
//! and `index` set to `i`: a row whose arrays are all empty makes none. Only array
//! columns (Arrow lists) are lowered: vega reads a string's characters as its items
//! and fails on null, which the client does as vega does.

use super::{Step, TransformDef, TransformInput, ROW};
use crate::error::{unsupported, Result};
use crate::plan::{col, column_names, has_column, with_window_columns};
use datafusion::arrow::datatypes::DataType;
use datafusion::common::UnnestOptions;
use datafusion::functions_nested::expr_fn::{cardinality, range};
use datafusion::functions_window::expr_fn::row_number;
use datafusion::logical_expr::{cast, lit, Expr, ExprFunctionExt, LogicalPlanBuilder};

/// The item position of each output row, unnested beside the items.
const POSITION: &str = "__vl_flatten_position";

fn lower(input: TransformInput) -> Result<Step> {
    let p = &input.params;
    p.only(&["fields", "as", "index"])?;
    let fields: Vec<String> = p.fields("fields")?.into_iter().flatten().collect();
    let names = p.strings("as")?;
    let output: Vec<String> = fields.iter().enumerate().map(|(i, f)| names.get(i).cloned().flatten().unwrap_or_else(|| f.clone())).collect();
    let index = p.string("index")?;
    let schema = input.plan.schema().clone();
    for f in &fields {
        let field = schema.field_with_unqualified_name(f).map_err(|_| crate::error::LowerError::Unsupported(format!("flatten of unknown field '{f}'")))?;
        if field.metadata().contains_key(vegalake_planner::values::JSON_FIELD_METADATA) {
            return unsupported(format!("flatten of field '{f}', whose values are not all arrays of one type of value"));
        }
        if !matches!(field.data_type(), DataType::List(_)) {
            return unsupported(format!("flatten of field '{f}', which does not hold arrays"));
        }
        if field.is_nullable() {
            return unsupported(format!("flatten of field '{f}', null in some rows (vega.js fails there)"));
        }
    }
    let items = |i: usize| format!("__vl_flatten_{i}");
    // Positions 0..n for the longest array, unnested with the items so that each
    // output row knows its item's position (the row order and `index`).
    let longest = fields.iter().map(|f| cast(cardinality(col(f)), DataType::Int64)).reduce(|a, b| datafusion::functions::expr_fn::greatest(vec![a, b]));
    let Some(longest) = longest else {
        // No fields: every row's longest array has length 0.
        return Step::plan(LogicalPlanBuilder::from(input.plan).filter(lit(false))?.build()?);
    };
    let mut exprs: Vec<Expr> = column_names(&input.plan).into_iter().map(|c| col(&c)).collect();
    exprs.extend(fields.iter().enumerate().map(|(i, f)| col(f).alias(items(i))));
    exprs.push(range(lit(0_i64), longest, lit(1_i64)).alias(POSITION));
    let unnested: Vec<datafusion::common::Column> =
        (0..fields.len()).map(items).chain([POSITION.to_string()]).map(datafusion::common::Column::from_name).collect();
    let plan = LogicalPlanBuilder::from(input.plan.clone())
        .project(exprs)?
        .unnest_columns_with_options(unnested, UnnestOptions::new().with_preserve_nulls(false))?
        .build()?;
    let ordered = has_column(&input.plan, ROW);
    let mut columns: Vec<(String, Expr)> = output.iter().enumerate().map(|(i, name)| (name.clone(), col(&items(i)))).collect();
    if let Some(index) = &index {
        columns.push((index.clone(), cast(col(POSITION), DataType::Float64)));
    }
    if ordered {
        // Each row's items in order, rows in input order, as vega adds them.
        let order = row_number().order_by(vec![col(ROW).sort(true, true), col(POSITION).sort(true, true)]).build()?;
        columns.push((ROW.to_string(), cast(order, DataType::Int64)));
    }
    let plan = with_window_columns(plan, columns)?;
    let keep: Vec<Expr> = column_names(&plan).into_iter().filter(|c| !c.starts_with("__vl_flatten")).map(|c| col(&c)).collect();
    Step::plan(LogicalPlanBuilder::from(plan).project(keep)?.build()?)
}

pub(super) const DEF: TransformDef =
    TransformDef { name: "flatten", evaluation: super::Evaluation::Server(lower), partition: super::Partition::RowLocal, rows: super::Rows::Fields };
