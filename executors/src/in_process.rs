//! Runs the few nodes of a plan above rows already in hand (a brush index's
//! answer: tens of rows) in process, without DataFusion's optimizer, physical
//! planner and tasks, which cost more than the work at that size.
//!
//! Only nodes that keep or reorder rows one batch at a time are run here:
//! projections, filters, sorts, limits and aliases. Anything else (a join, a
//! window, another aggregate) is `None`: the caller runs the plan on the engine.
//! Expressions are coerced and planned by the session, as the engine would, once
//! per expression and input ([`PlannedExprs`]).

use datafusion::arrow::array::{Array, ArrayRef, AsArray, BooleanArray, RecordBatch, UInt32Array};
use datafusion::arrow::compute::{filter_record_batch, lexsort_to_indices, prep_null_mask_filter, take_record_batch, SortColumn, SortOptions};
use datafusion::arrow::datatypes::{Field, Schema};
use datafusion::common::{exec_err, DFSchema, Result};
use datafusion::execution::SessionState;
use datafusion::logical_expr::simplify::SimplifyContext;
use datafusion::logical_expr::{Expr, FetchType, LogicalPlan, SkipType};
use datafusion::optimizer::simplify_expressions::ExprSimplifier;
use datafusion::physical_expr::PhysicalExpr;
use std::collections::HashMap;
use std::hash::{DefaultHasher, Hash, Hasher};
use std::sync::{Arc, Mutex};

/// The nodes' expressions, planned, by expression and input schema: a chart's
/// brush answers run the same few above their aggregates at every update, and
/// planning them (coercion, simplification, physical planning) was ~11% of a W1
/// crossfilter update (perf, release wheel, 10M rows) where evaluating them over
/// tens of rows costs next to nothing.
#[derive(Debug, Default)]
pub(crate) struct PlannedExprs(Mutex<HashMap<u64, Vec<Planned>>>);

type Planned = (Expr, DFSchema, Arc<dyn PhysicalExpr>);

impl PlannedExprs {
    /// The most expressions kept; past it the map starts over (a chart has tens).
    const CAPACITY: usize = 1024;

    fn get(&self, state: &SessionState, e: &Expr, input: &DFSchema) -> Result<Arc<dyn PhysicalExpr>> {
        let mut hasher = DefaultHasher::new();
        (e, input).hash(&mut hasher);
        let key = hasher.finish();
        let found = |map: &HashMap<u64, Vec<Planned>>| map.get(&key)?.iter().find(|(x, s, _)| x == e && s == input).map(|(_, _, p)| Arc::clone(p));
        if let Some(planned) = found(&self.0.lock().expect("not poisoned")) {
            return Ok(planned);
        }
        let planned = physical_expr(state, e, input)?;
        let mut map = self.0.lock().expect("not poisoned");
        if map.values().map(Vec::len).sum::<usize>() >= Self::CAPACITY {
            map.clear();
        }
        map.entry(key).or_default().push((e.clone(), input.clone(), Arc::clone(&planned)));
        Ok(planned)
    }

    #[cfg(test)]
    fn len(&self) -> usize {
        self.0.lock().expect("not poisoned").values().map(Vec::len).sum()
    }
}

/// The rows of `plan`, where its node `leaf` gives `rows` (the leaf's columns in
/// order, under any names); `None` when a node between them is not one run here.
pub(crate) fn run(state: &SessionState, planned: &PlannedExprs, plan: &LogicalPlan, leaf: &LogicalPlan, rows: RecordBatch) -> Option<Result<RecordBatch>> {
    if plan == leaf {
        return Some(named(leaf.schema(), rows.columns().to_vec()));
    }
    let input = match plan {
        LogicalPlan::Projection(p) => &p.input,
        LogicalPlan::Filter(f) => &f.input,
        LogicalPlan::Sort(s) => &s.input,
        LogicalPlan::Limit(l) => &l.input,
        LogicalPlan::SubqueryAlias(a) => &a.input,
        _ => return None,
    };
    let rows = match run(state, planned, input, leaf, rows)? {
        Ok(rows) => rows,
        Err(e) => return Some(Err(e)),
    };
    Some(node(state, planned, plan, input.schema(), rows))
}

/// `columns` under the names of `schema` (a node's output: what the rows print
/// as), each keeping its own type. Only the leaf and projections name columns;
/// the other nodes pass their input's names on.
fn named(schema: &DFSchema, columns: Vec<ArrayRef>) -> Result<RecordBatch> {
    let fields: Vec<Field> = schema.fields().iter().zip(&columns).map(|(f, c)| Field::new(f.name(), c.data_type().clone(), true)).collect();
    Ok(RecordBatch::try_new(Arc::new(Schema::new(fields)), columns)?)
}

/// One node over its input's rows.
fn node(state: &SessionState, planned: &PlannedExprs, plan: &LogicalPlan, input: &DFSchema, rows: RecordBatch) -> Result<RecordBatch> {
    let evaluate = |e: &Expr| planned.get(state, e, input)?.evaluate(&rows)?.into_array(rows.num_rows());
    match plan {
        LogicalPlan::Projection(p) => {
            let columns = p.expr.iter().map(evaluate).collect::<Result<Vec<_>>>()?;
            named(&p.schema, columns)
        }
        LogicalPlan::Filter(f) => {
            let passing = evaluate(&f.predicate)?;
            let Some(passing) = passing.as_boolean_opt() else { return exec_err!("a filter that is not boolean") };
            Ok(filter_record_batch(&rows, &without_nulls(passing))?)
        }
        LogicalPlan::Sort(s) => {
            let mut columns = s
                .expr
                .iter()
                .map(|k| Ok(SortColumn { values: evaluate(&k.expr)?, options: Some(SortOptions::new(!k.asc, k.nulls_first)) }))
                .collect::<Result<Vec<_>>>()?;
            // Equal keys keep their input order (arrow's sort is unstable).
            let position: ArrayRef = Arc::new(UInt32Array::from_iter_values(0..rows.num_rows() as u32));
            columns.push(SortColumn { values: position, options: None });
            Ok(take_record_batch(&rows, &lexsort_to_indices(&columns, s.fetch)?)?)
        }
        LogicalPlan::Limit(l) => {
            let (SkipType::Literal(skip), FetchType::Literal(fetch)) = (l.get_skip_type()?, l.get_fetch_type()?) else {
                return exec_err!("a limit that is not a literal");
            };
            let start = skip.min(rows.num_rows());
            let length = fetch.unwrap_or(usize::MAX).min(rows.num_rows() - start);
            Ok(rows.slice(start, length))
        }
        LogicalPlan::SubqueryAlias(_) => Ok(rows),
        _ => exec_err!("not run in process: {}", plan.display()),
    }
}

/// A filter's mask with null (vega's undefined) as false: a null test passes nothing.
pub(crate) fn without_nulls(mask: &BooleanArray) -> BooleanArray {
    if mask.null_count() == 0 {
        mask.clone()
    } else {
        prep_null_mask_filter(mask)
    }
}

/// `e` as an expression over rows of `schema`, coerced and simplified as the
/// engine's analyzer and optimizer would: some functions only run simplified
/// (measured: `coalesce` fails unsimplified, "should have been simplified to case").
pub(crate) fn physical_expr(state: &SessionState, e: &Expr, schema: &DFSchema) -> Result<Arc<dyn PhysicalExpr>> {
    let context = SimplifyContext::builder().with_schema(Arc::new(schema.clone())).with_config_options(Arc::clone(state.config_options())).build();
    let simplifier = ExprSimplifier::new(context);
    let coerced = simplifier.coerce(e.clone(), schema)?;
    state.create_physical_expr(simplifier.simplify(coerced)?, schema)
}

#[cfg(test)]
mod tests {
    use super::*;
    use datafusion::arrow::array::{Float64Array, Int64Array};
    use datafusion::arrow::datatypes::{DataType, Field, Schema};
    use datafusion::logical_expr::{col, lit, LogicalPlanBuilder};

    /// Groups as an aggregate gives them: a bin, its count, and the first row.
    fn rows() -> RecordBatch {
        let schema = Schema::new(vec![
            Field::new("bin", DataType::Float64, true),
            Field::new("count", DataType::Int64, false),
            Field::new("__row", DataType::Int64, false),
        ]);
        let bins = Float64Array::from(vec![Some(10.0), None, Some(f64::NAN), Some(-5.0), Some(0.0), Some(20.0)]);
        let counts = Int64Array::from(vec![3, 1, 2, 7, 7, 0]);
        let first = Int64Array::from(vec![40, 2, 9, 5, 31, 11]);
        RecordBatch::try_new(Arc::new(schema), vec![Arc::new(bins), Arc::new(counts), Arc::new(first)]).unwrap()
    }

    /// The same plan run in process and on DataFusion gives the same rows; a node
    /// it does not run is `None`.
    #[tokio::test]
    async fn runs_what_the_engine_runs() {
        let ctx = crate::new_session();
        let leaf = crate::engine::memory_scan("groups", rows().schema(), &[rows()]).unwrap();
        let plans = [
            LogicalPlanBuilder::from(leaf.clone())
                .filter(col("bin").is_not_null().and(col("bin").eq(col("bin"))))
                .unwrap()
                .project(vec![col("bin"), (col("bin") + lit(5.0)).alias("bin_end"), col("count"), col("__row")])
                .unwrap()
                .alias("__vl_result")
                .unwrap()
                .sort(vec![col("__row").sort(true, true)])
                .unwrap()
                .build()
                .unwrap(),
            LogicalPlanBuilder::from(leaf.clone())
                .sort(vec![col("count").sort(false, false), col("__row").sort(true, false)])
                .unwrap()
                .limit(1, Some(3))
                .unwrap()
                .build()
                .unwrap(),
        ];
        // The leaf's rows as a brush index gives them: the columns in order, named
        // otherwise; the answer carries the plan's names.
        let unnamed =
            Schema::new(rows().schema().fields().iter().enumerate().map(|(i, f)| Field::new(format!("c{i}"), f.data_type().clone(), true)).collect::<Vec<_>>());
        let unnamed = RecordBatch::try_new(Arc::new(unnamed), rows().columns().to_vec()).unwrap();
        let planned = PlannedExprs::default();
        for plan in plans {
            let state = ctx.state();
            let got = run(&state, &planned, &plan, &leaf, unnamed.clone()).expect("runs in process").expect("no error");
            // Again, from the planned expressions: the same rows, nothing planned anew.
            let kept = planned.len();
            let again = run(&state, &planned, &plan, &leaf, unnamed.clone()).expect("runs in process").expect("no error");
            assert_eq!(again, got);
            assert!(kept > 0 && planned.len() == kept, "{kept} planned, then {}", planned.len());
            let want = ctx.execute_logical_plan(plan.clone()).await.unwrap().collect().await.unwrap();
            let want = datafusion::arrow::compute::concat_batches(&want[0].schema(), &want).unwrap();
            assert_eq!(got.columns(), want.columns(), "{}", plan.display_indent());
            let names = |b: &RecordBatch| b.schema().fields().iter().map(|f| f.name().clone()).collect::<Vec<_>>();
            assert_eq!(names(&got), names(&want));
            assert!(got.num_rows() > 0 && got.num_rows() < rows().num_rows());
        }
        let aggregate = LogicalPlanBuilder::from(leaf.clone()).aggregate(vec![col("count")], Vec::<Expr>::new()).unwrap().build().unwrap();
        assert!(run(&ctx.state(), &planned, &aggregate, &leaf, rows()).is_none());
    }
}
