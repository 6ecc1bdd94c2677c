//! Plan rewrites before unparsing, into forms every dialect reads alike.

use super::SqlError;
use datafusion::arrow::datatypes::{DataType, TimeUnit};
use datafusion::common::tree_node::{Transformed, TreeNode};
use datafusion::common::Column;
use datafusion::logical_expr::{Aggregate, Cast, Expr, ExprSchemable, LogicalPlan, SubqueryAlias, TryCast};
use std::sync::Arc;

/// - Columns lose their table names: the unparser nests each projection as a
///   derived table, which hides the names of the tables within.
/// - A cast of an integer to a timestamp (epoch milliseconds to us; seconds to
///   Spark; an error to DuckDB) becomes `to_timestamp_millis`, which
///   [`super::functions`] names in each dialect.
/// - An aggregate over an aggregate reads it as a named derived table: the
///   unparser folds directly nested aggregates into one SELECT and loses the inner
///   grouping (Spark then cannot resolve the inner aggregate's columns).
/// - A filter of names a projection defines, or of an aggregate's projection,
///   reads the projection as a named derived table too: the unparser puts the filter in the projection's own
///   SELECT, whose WHERE cannot see the names it defines (PostgreSQL and Spark
///   refuse them; DuckDB allows them), and above an aggregate takes it for a
///   HAVING clause and fails to find the projection's names (DataFusion 55).
/// - A cast of a timestamp to an integer (a date read as epoch milliseconds)
///   becomes `vl_epoch_millis`, which [`super::time`] names in each dialect: Spark
///   casts no timestamp to a number, and DuckDB's cast is NULL.
/// - `vl_bin` becomes its CASE form ([`crate::transforms::bin::sql_form`]).
/// - Unnests (flatten) are refused: their SQL is not checked against engines.
/// - Window functions ignoring nulls are refused: the unparser drops the clause.
/// - Joins are refused for now, their SQL (lookup, impute) not checked against
///   engines yet, except an inner join to an inline table of constants (a bin per
///   key of `vegalake batch` joins each row to its key's bins), run on Spark by
///   the batch tests.
pub fn portable(plan: LogicalPlan) -> Result<LogicalPlan, SqlError> {
    if plan.exists(|node| Ok(matches!(node, LogicalPlan::Unnest(_)))).unwrap_or(true) {
        return Err(SqlError::NotPushable("an unnest (flatten): its SQL is not checked against engines yet".into()));
    }
    if crate::plan::has_window_ignoring_nulls(&plan) {
        return Err(SqlError::NotPushable("a window function ignoring nulls (prev_value, next_value): DataFusion 55's unparser drops IGNORE NULLS".into()));
    }
    let mut join = false;
    let mut derived = 0;
    let rewritten = plan.transform_up(|node| {
        join |= matches!(&node, LogicalPlan::Join(j) if !joins_constants(j));
        let schema = node.inputs().first().map(|i| i.schema().clone());
        let node = node.map_expressions(|e| {
            e.transform(|e| {
                let rewritten = match &e {
                    Expr::Column(c) if c.relation.is_some() => Some(Expr::Column(Column::new_unqualified(c.name.clone()))),
                    Expr::Cast(Cast { expr, field }) | Expr::TryCast(TryCast { expr, field }) => time_cast(expr, field.data_type(), schema.as_deref()),
                    Expr::ScalarFunction(f) if f.name() == "vl_bin" => crate::transforms::bin::sql_form(&f.args),
                    _ => None,
                };
                Ok(rewritten.map_or(Transformed::no(e), Transformed::yes))
            })
        })?;
        node.transform_data(|node| match node {
            LogicalPlan::Aggregate(a) if matches!(*a.input, LogicalPlan::Aggregate(_)) => {
                derived += 1;
                let input = SubqueryAlias::try_new(a.input, format!("__vl_grouped_{derived}"))?;
                let aggregate = Aggregate::try_new(Arc::new(LogicalPlan::SubqueryAlias(input)), a.group_expr, a.aggr_expr)?;
                Ok(Transformed::yes(LogicalPlan::Aggregate(aggregate)))
            }
            LogicalPlan::Filter(f) if filters_computed_names(&f) => {
                derived += 1;
                let input = SubqueryAlias::try_new(f.input, format!("__vl_grouped_{derived}"))?;
                let filter = datafusion::logical_expr::Filter::try_new(f.predicate, Arc::new(LogicalPlan::SubqueryAlias(input)))?;
                Ok(Transformed::yes(LogicalPlan::Filter(filter)))
            }
            other => Ok(Transformed::no(other)),
        })
    });
    if join {
        return Err(SqlError::NotPushable("a join (lookup, impute): its SQL is not checked against engines yet".into()));
    }

    rewritten.map(|t| t.data).map_err(|e| SqlError::Unparse(e.to_string()))
}

/// An inner equi-join whose right side is a VALUES table (through projections; by
/// now an inline table, see [`super::tables`]).
fn joins_constants(join: &datafusion::logical_expr::Join) -> bool {
    let mut right = join.right.as_ref();
    while let LogicalPlan::Projection(p) = right {
        right = p.input.as_ref();
    }
    let constants = match right {
        LogicalPlan::Values(_) => true,
        LogicalPlan::TableScan(scan) => scan.table_name.table().starts_with(super::tables::INLINE_PREFIX),
        _ => false,
    };
    join.join_type == datafusion::logical_expr::JoinType::Inner && join.filter.is_none() && constants
}

/// True if `filter` reads a name that the projection below it defines (an
/// alias), or filters an aggregate's projection (read as HAVING otherwise).
fn filters_computed_names(filter: &datafusion::logical_expr::Filter) -> bool {
    let LogicalPlan::Projection(projection) = filter.input.as_ref() else { return false };
    if matches!(*projection.input, LogicalPlan::Aggregate(_)) {
        return true;
    }
    let defined: Vec<&str> = projection
        .expr
        .iter()
        .filter_map(|e| match e {
            Expr::Alias(a) => Some(a.name.as_str()),
            _ => None,
        })
        .collect();
    filter.predicate.column_refs().iter().any(|c| defined.contains(&c.name.as_str()))
}

/// A cast of `inner` between epoch milliseconds and a timestamp, as the function
/// each dialect names (`to_timestamp_millis` or `vl_epoch_millis`); `None` for
/// other casts.
fn time_cast(inner: &Expr, to: &DataType, schema: Option<&datafusion::common::DFSchema>) -> Option<Expr> {
    let from = inner.get_type(schema?).ok()?;
    match (from, to) {
        (from, DataType::Timestamp(TimeUnit::Millisecond, None)) if from.is_integer() => {
            Some(datafusion::functions::datetime::expr_fn::to_timestamp_millis(vec![inner.clone()]))
        }
        (DataType::Timestamp(_, _), to) if to.is_integer() => Some(epoch_millis(inner.clone())),
        _ => None,
    }
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
