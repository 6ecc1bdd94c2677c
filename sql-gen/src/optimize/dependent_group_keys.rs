//! [`super::DEPENDENT_GROUP_KEYS`]: a group key computed from another group key is
//! computed after the aggregate, once per group instead of once per row.
//!
//! Vega-Lite groups a binned or time-unit field by its start and its end
//! (`bin_maxbins_50_delay`, `bin_maxbins_50_delay_end`; `yearmonth_date`,
//! `yearmonth_date_end`). The end is a function of the start, so the groups are
//! the start's alone, but grouping by both hashes and compares two columns a row
//! and takes DataFusion's multi-column group table, and the end is computed for
//! every row (`vl_time_offset` for a time unit). Measured with perf on a 10M-row
//! histogram (release, cold CLI): the multi-column group table was 31% of the
//! time (`GroupValuesColumn::intern` and its comparisons).
//!
//! `Aggregate(keys [.., s, .., e, ..]) <- [Filter <-] Projection(.., S AS s, .., F AS e)`,
//! where F with each occurrence of S replaced by `s` reads no other column and
//! calls no volatile function, becomes
//! `Projection(the same columns, F[S := s] AS e) <- Aggregate(keys without e) <- ...`.
//! Exact: in a group of s, every row has the same S, so the same F; e's value is
//! F computed from the group's s. Only for the local engine's optimizer: SQL
//! for the warehouses is written from the plan before it.

use datafusion::common::tree_node::{Transformed, TreeNode};
use datafusion::common::{Column, Result};
use datafusion::logical_expr::{Aggregate, Expr, LogicalPlan, Projection};
use std::sync::Arc;

/// Stands for the key a dependent key is computed from while its definition is
/// checked: a name no plan has, so a column of the input that happens to share the
/// key's name is not mistaken for the key.
const KEY: &str = "\u{0}vegalake_group_key";

/// A dependent key: its position among the keys, and its value computed from the
/// key at `from` (read as [`KEY`]).
struct Dependent {
    at: usize,
    from: usize,
    value: Expr,
}

/// The aggregate grouped by its independent keys under a projection computing the
/// others, or `None` when no key depends on another.
pub(super) fn rewrite(aggregate: &Aggregate) -> Result<Option<LogicalPlan>> {
    let Some(definitions) = key_definitions(aggregate) else { return Ok(None) };
    let dependents = dependents(&definitions);
    if dependents.is_empty() {
        return Ok(None);
    }
    let kept: Vec<Expr> = (0..aggregate.group_expr.len()).filter(|k| !dependents.iter().any(|d| d.at == *k)).map(|k| aggregate.group_expr[k].clone()).collect();
    let grouped = LogicalPlan::Aggregate(Aggregate::try_new(aggregate.input.clone(), kept, aggregate.aggr_expr.clone())?);
    let mut columns = Vec::with_capacity(aggregate.schema.fields().len());
    for (k, (qualifier, field)) in aggregate.schema.iter().enumerate() {
        let value = match dependents.iter().find(|d| d.at == k) {
            Some(d) => {
                let Expr::Column(from) = &aggregate.group_expr[d.from] else { return Ok(None) };
                d.value.clone().transform_up(|e| Ok(if is_key(&e) { Transformed::yes(Expr::Column(from.clone())) } else { Transformed::no(e) }))?.data
            }
            None => Expr::Column(Column::new(qualifier.cloned(), field.name())),
        };
        columns.push(value.alias_qualified(qualifier.cloned(), field.name()));
    }
    Ok(Some(LogicalPlan::Projection(Projection::try_new(columns, Arc::new(grouped))?)))
}

/// The group keys of `aggregate` that no other key is computed from (see the
/// module's notes), or `None` when a key is not a column.
pub(crate) fn independent_keys(aggregate: &Aggregate) -> Option<Vec<&Column>> {
    let keys: Vec<&Column> = aggregate.group_expr.iter().map(|k| if let Expr::Column(c) = k { Some(c) } else { None }).collect::<Option<_>>()?;
    let dependents = key_definitions(aggregate).map(|definitions| dependents(&definitions)).unwrap_or_default();
    Some(keys.into_iter().enumerate().filter(|(k, _)| !dependents.iter().any(|d| d.at == *k)).map(|(_, c)| c).collect())
}

/// What each key is in the projection under the aggregate (through filters, which
/// keep its columns), or `None` when the keys are not all that projection's columns.
fn key_definitions(aggregate: &Aggregate) -> Option<Vec<Expr>> {
    let mut input = aggregate.input.as_ref();
    while let LogicalPlan::Filter(filter) = input {
        input = filter.input.as_ref();
    }
    let LogicalPlan::Projection(projection) = input else { return None };
    aggregate
        .group_expr
        .iter()
        .map(|key| {
            let Expr::Column(column) = key else { return None };
            let at = projection.schema.index_of_column(column).ok()?;
            Some(projection.expr[at].clone().unalias())
        })
        .collect()
}

/// The keys computed from another key that stays, the first found for each. A
/// key others are computed from stays itself (in `c = f(b), b = g(a)`, c is
/// computed from b, and b and a stay).
fn dependents(definitions: &[Expr]) -> Vec<Dependent> {
    let mut found: Vec<Dependent> = Vec::new();
    for (at, definition) in definitions.iter().enumerate() {
        if found.iter().any(|d| d.from == at) {
            continue;
        }
        let kept = |k: &usize| *k != at && !found.iter().any(|d| d.at == *k);
        let from = (0..definitions.len()).filter(kept).find_map(|k| Some((k, computed_from(definition, &definitions[k])?)));
        if let Some((from, value)) = from {
            found.push(Dependent { at, from, value });
        }
    }
    found
}

/// `definition` with `key` read as [`KEY`], when it then reads nothing else and
/// gives the same value each time.
fn computed_from(definition: &Expr, key: &Expr) -> Option<Expr> {
    if definition.is_volatile() {
        return None;
    }
    let value =
        definition.clone().transform_down(|e| Ok(if &e == key { Transformed::yes(Expr::Column(Column::from_name(KEY))) } else { Transformed::no(e) })).ok()?;
    let reads = value.data.column_refs();
    (value.transformed && reads.iter().all(|c| c.relation.is_none() && c.name == KEY)).then_some(value.data)
}

fn is_key(e: &Expr) -> bool {
    matches!(e, Expr::Column(c) if c.relation.is_none() && c.name == KEY)
}

#[cfg(test)]
mod tests {
    use super::*;
    use datafusion::arrow::array::{Float64Array, RecordBatch};
    use datafusion::arrow::datatypes::{DataType, Field, Schema};
    use datafusion::arrow::util::pretty::pretty_format_batches;
    use datafusion::functions_aggregate::count::count;
    use datafusion::logical_expr::{col, lit, LogicalPlanBuilder};
    use datafusion::prelude::SessionContext;

    /// `x` with nulls, NaN, -0 and 0, and duplicates: the groups of a bin start.
    fn table() -> RecordBatch {
        let x = Float64Array::from(vec![Some(1.5), Some(1.7), None, Some(f64::NAN), Some(-0.0), Some(0.0), Some(12.0), Some(19.9), None, Some(f64::NAN)]);
        RecordBatch::try_new(Arc::new(Schema::new(vec![Field::new("x", DataType::Float64, true)])), vec![Arc::new(x)]).unwrap()
    }

    /// Bin start and end of `x` (the end from the start, as Vega-Lite's bin writes
    /// it), counted per (start, end); `extra` adds a key computed from `x` itself.
    fn histogram(ctx: &SessionContext, extra: bool) -> LogicalPlan {
        let start = datafusion::functions::math::expr_fn::floor(col("x") / lit(10.0)) * lit(10.0);
        let mut columns = vec![col("x"), start.clone().alias("b"), (start + lit(10.0)).alias("b_end")];
        let mut keys = vec![col("b"), col("b_end")];
        if extra {
            columns.push((col("x") * lit(2.0)).alias("twice"));
            keys.push(col("twice"));
        }
        counted(ctx, columns, keys)
    }

    /// The table's rows projected to `columns`, counted per `keys`.
    fn counted(ctx: &SessionContext, columns: Vec<Expr>, keys: Vec<Expr>) -> LogicalPlan {
        let scan = ctx.read_batch(table()).unwrap().into_unoptimized_plan();
        LogicalPlanBuilder::from(scan).project(columns).unwrap().aggregate(keys, vec![count(lit(1)).alias("n")]).unwrap().build().unwrap()
    }

    fn rewritten(plan: &LogicalPlan) -> Option<LogicalPlan> {
        let LogicalPlan::Aggregate(aggregate) = plan else { panic!("an aggregate") };
        rewrite(aggregate).unwrap()
    }

    /// The plan's rows, sorted by every column.
    async fn rows(ctx: &SessionContext, plan: LogicalPlan) -> String {
        let columns = plan.schema().columns().into_iter().map(Expr::Column).collect();
        let batches = ctx.execute_logical_plan(plan).await.unwrap().sort_by(columns).unwrap().collect().await.unwrap();
        pretty_format_batches(&batches).unwrap().to_string()
    }

    #[tokio::test]
    async fn the_end_of_a_bin_is_computed_per_group_with_the_same_rows() {
        let ctx = SessionContext::new();
        let plan = histogram(&ctx, false);
        let after = rewritten(&plan).expect("the end depends on the start");
        let text = after.display_indent().to_string();
        assert!(text.contains("Aggregate: groupBy=[[b]]"), "{text}");
        assert_eq!(after.schema().fields(), plan.schema().fields());
        assert_eq!(after.schema().columns(), plan.schema().columns());
        assert_eq!(rows(&ctx, after).await, rows(&ctx, plan).await);
    }

    #[tokio::test]
    async fn a_key_that_reads_the_raw_field_stays_a_key() {
        let ctx = SessionContext::new();
        let plan = histogram(&ctx, true);
        let after = rewritten(&plan).expect("b_end still depends on b");
        let text = after.display_indent().to_string();
        assert!(text.contains("Aggregate: groupBy=[[b, twice]]"), "{text}");
        assert_eq!(rows(&ctx, after).await, rows(&ctx, plan).await);
    }

    #[tokio::test]
    async fn a_key_another_is_computed_from_stays_a_key() {
        // c = b + 1 and b = 2x with a = x: c is computed from b, so b stays (and a
        // with it), rather than b from a and c from a key that is gone.
        let ctx = SessionContext::new();
        let twice = || col("x") * lit(2.0);
        let plan = counted(&ctx, vec![col("x").alias("a"), twice().alias("b"), (twice() + lit(1.0)).alias("c")], vec![col("c"), col("b"), col("a")]);
        let after = rewritten(&plan).expect("c depends on b");
        assert!(after.display_indent().to_string().contains("Aggregate: groupBy=[[b, a]]"), "{}", after.display_indent());
        assert_eq!(rows(&ctx, after).await, rows(&ctx, plan).await);
    }

    #[tokio::test]
    async fn a_key_named_as_an_input_column_is_read_as_the_key() {
        // The key `x` is computed from the input column `x`, and `y` from the same
        // expression: after the aggregate, `y` reads the key `x`, not the input's.
        let ctx = SessionContext::new();
        let twice = || col("x") * lit(2.0);
        let plan = counted(&ctx, vec![twice().alias("x"), (twice() + lit(1.0)).alias("y")], vec![col("x"), col("y")]);
        let after = rewritten(&plan).expect("y depends on x");
        assert!(after.display_indent().to_string().contains("Aggregate: groupBy=[[x]]"));
        assert_eq!(rows(&ctx, after).await, rows(&ctx, plan).await);
    }
}
