//! Plan rewrites before unparsing, into forms every dialect reads alike.

use super::SqlError;
use datafusion::arrow::datatypes::{DataType, TimeUnit};
use datafusion::common::tree_node::{Transformed, TreeNode};
use datafusion::common::Column;
use datafusion::logical_expr::{Expr, ExprSchemable, LogicalPlan};

/// - Columns lose their table names: the unparser nests each projection as a
///   derived table, which hides the names of the tables within.
/// - A cast of an integer to a timestamp (epoch milliseconds to us; seconds to
///   Spark; an error to DuckDB) becomes `to_timestamp_millis`, which
///   [`super::functions`] names in each dialect.
/// - Joins are refused for now: their SQL (lookup, impute) has not been checked
///   against an engine yet.
pub fn portable(plan: LogicalPlan) -> Result<LogicalPlan, SqlError> {
    let mut join = false;
    let rewritten = plan.transform_up(|node| {
        join |= matches!(node, LogicalPlan::Join(_));
        let schema = node.inputs().first().map(|i| i.schema().clone());
        node.map_expressions(|e| {
            e.transform(|e| match e {
                Expr::Column(c) if c.relation.is_some() => Ok(Transformed::yes(Expr::Column(Column::new_unqualified(c.name)))),
                Expr::Cast(c) if millis_cast(&c.expr, c.field.data_type(), schema.as_deref()) => Ok(Transformed::yes(to_timestamp_millis(*c.expr))),
                Expr::TryCast(c) if millis_cast(&c.expr, c.field.data_type(), schema.as_deref()) => Ok(Transformed::yes(to_timestamp_millis(*c.expr))),
                other => Ok(Transformed::no(other)),
            })
        })
    });
    if join {
        return Err(SqlError::NotPushable("a join (lookup, impute): its SQL is not checked against engines yet".into()));
    }
    rewritten.map(|t| t.data).map_err(|e| SqlError::Unparse(e.to_string()))
}

fn millis_cast(e: &Expr, to: &DataType, schema: Option<&datafusion::common::DFSchema>) -> bool {
    let Some(schema) = schema else { return false };
    matches!(to, DataType::Timestamp(TimeUnit::Millisecond, None)) && e.get_type(schema).is_ok_and(|t| t.is_integer())
}

fn to_timestamp_millis(e: Expr) -> Expr {
    datafusion::functions::datetime::expr_fn::to_timestamp_millis(vec![e])
}
