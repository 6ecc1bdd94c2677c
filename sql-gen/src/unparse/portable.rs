//! Plan rewrites before unparsing, into forms every dialect reads alike.

use super::SqlError;
use datafusion::arrow::datatypes::{DataType, TimeUnit};
use datafusion::common::tree_node::{Transformed, TreeNode};
use datafusion::common::Column;
use datafusion::logical_expr::{Aggregate, Expr, ExprSchemable, LogicalPlan, SubqueryAlias};
use std::sync::Arc;

/// - Columns lose their table names: the unparser nests each projection as a
///   derived table, which hides the names of the tables within.
/// - A cast of an integer to a timestamp (epoch milliseconds to us; seconds to
///   Spark; an error to DuckDB) becomes `to_timestamp_millis`, which
///   [`super::functions`] names in each dialect.
/// - An aggregate over an aggregate reads it as a named derived table: the
///   unparser folds directly nested aggregates into one SELECT and loses the inner
///   grouping (Spark then cannot resolve the inner aggregate's columns).
/// - A cast of a timestamp to an integer (a date read as epoch milliseconds)
///   becomes `vl_epoch_millis`, which [`super::time`] names in each dialect: Spark
///   casts no timestamp to a number, and DuckDB's cast is NULL.
/// - Joins are refused for now: their SQL (lookup, impute) has not been checked
///   against an engine yet.
pub fn portable(plan: LogicalPlan) -> Result<LogicalPlan, SqlError> {
    let mut join = false;
    let mut derived = 0;
    let rewritten = plan.transform_up(|node| {
        join |= matches!(node, LogicalPlan::Join(_));
        let schema = node.inputs().first().map(|i| i.schema().clone());
        let node = node.map_expressions(|e| {
            e.transform(|e| match e {
                Expr::Column(c) if c.relation.is_some() => Ok(Transformed::yes(Expr::Column(Column::new_unqualified(c.name)))),
                Expr::Cast(c) if millis_cast(&c.expr, c.field.data_type(), schema.as_deref()) => Ok(Transformed::yes(to_timestamp_millis(*c.expr))),
                Expr::TryCast(c) if millis_cast(&c.expr, c.field.data_type(), schema.as_deref()) => Ok(Transformed::yes(to_timestamp_millis(*c.expr))),
                Expr::Cast(c) if epoch_cast(&c.expr, c.field.data_type(), schema.as_deref()) => Ok(Transformed::yes(epoch_millis(*c.expr))),
                Expr::TryCast(c) if epoch_cast(&c.expr, c.field.data_type(), schema.as_deref()) => Ok(Transformed::yes(epoch_millis(*c.expr))),
                other => Ok(Transformed::no(other)),
            })
        })?;
        node.transform_data(|node| match node {
            LogicalPlan::Aggregate(a) if matches!(*a.input, LogicalPlan::Aggregate(_)) => {
                derived += 1;
                let input = SubqueryAlias::try_new(a.input, format!("__vl_grouped_{derived}"))?;
                let aggregate = Aggregate::try_new(Arc::new(LogicalPlan::SubqueryAlias(input)), a.group_expr, a.aggr_expr)?;
                Ok(Transformed::yes(LogicalPlan::Aggregate(aggregate)))
            }
            other => Ok(Transformed::no(other)),
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

fn epoch_cast(e: &Expr, to: &DataType, schema: Option<&datafusion::common::DFSchema>) -> bool {
    let Some(schema) = schema else { return false };
    to.is_integer() && e.get_type(schema).is_ok_and(|t| matches!(t, DataType::Timestamp(_, _)))
}

/// `vl_epoch_millis(timestamp)`: the epoch milliseconds of a timestamp, as an
/// integer cast of it computes them.
fn epoch_millis(e: Expr) -> Expr {
    use datafusion::logical_expr::{create_udf, ColumnarValue, Volatility};
    let millis = |args: &[ColumnarValue]| -> datafusion::error::Result<ColumnarValue> {
        let ms = DataType::Timestamp(TimeUnit::Millisecond, None);
        args[0].cast_to(&ms, None)?.cast_to(&DataType::Int64, None)
    };
    let udf = create_udf("vl_epoch_millis", vec![DataType::Timestamp(TimeUnit::Millisecond, None)], DataType::Int64, Volatility::Immutable, Arc::new(millis));
    udf.call(vec![e])
}
