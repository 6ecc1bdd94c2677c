//! [`super::EXTENT_STATISTICS`]: a field's extent from the file's statistics when
//! they hold it exactly, instead of a scan.
//!
//! A binned chart first asks for its field's [min, max] (`extent`, skipping null
//! and NaN): `min(CASE WHEN isnan(x) THEN NULL ELSE x END)`. Over 10M rows of
//! Parquet that scan was 60-80 ms of a 270 ms histogram and twice that for a
//! heatmap's two fields (cold CLI, release). Parquet keeps each row group's min
//! and max, and DataFusion answers `min(x)` from them when they are exact, but
//! not through the CASE.
//!
//! The rule writes such an aggregate as `vl_extent_min(x)` / `vl_extent_max(x)`,
//! which skip null and NaN themselves (so the same value when scanned) and take
//! the statistics' value when DataFusion has it as exact, except:
//! - NaN: the format asks writers to leave NaN out of min and max, and a writer
//!   that does not can only make them NaN (a NaN compares false, so a min or max
//!   that is not NaN is of the other values): then the rows are scanned;
//! - zero: writers store a zero minimum as -0 and a zero maximum as +0 whatever
//!   the rows hold, so a zero is scanned for its sign.
//!
//! Ungrouped aggregates only (an extent per group has no statistics to read).
//! Only for the local engine's optimizer: SQL for the warehouses is written from
//! the plan before it.

use datafusion::arrow::array::{Array, ArrayRef, AsArray};
use datafusion::arrow::datatypes::{DataType, Field, FieldRef, Float64Type};
use datafusion::common::stats::Precision;
use datafusion::common::{DFSchema, Result, ScalarValue};
use datafusion::logical_expr::expr::{AggregateFunction, Alias};
use datafusion::logical_expr::function::{AccumulatorArgs, StateFieldsArgs};
use datafusion::logical_expr::{Accumulator, Aggregate, AggregateUDF, AggregateUDFImpl, Case, Expr, LogicalPlan, Signature, StatisticsArgs, Volatility};
use datafusion::physical_expr::expressions::Column;
use std::sync::{Arc, OnceLock};

/// The aggregate with its extents read through `vl_extent_min`/`vl_extent_max`,
/// or `None` when it has none (see the module's notes).
pub(super) fn rewrite(aggregate: &Aggregate) -> Result<Option<LogicalPlan>> {
    if !aggregate.group_expr.is_empty() {
        return Ok(None);
    }
    let calls: Vec<Option<Expr>> = aggregate.aggr_expr.iter().map(|e| extent_call(e, aggregate.input.schema())).collect();
    if calls.iter().all(Option::is_none) {
        return Ok(None);
    }
    let aggr_expr = calls.into_iter().zip(&aggregate.aggr_expr).map(|(call, e)| call.unwrap_or_else(|| e.clone())).collect();
    Ok(Some(LogicalPlan::Aggregate(Aggregate::try_new(aggregate.input.clone(), vec![], aggr_expr)?)))
}

/// `min(CASE WHEN isnan(x) THEN NULL ELSE x END) AS name` (or `max`) of a
/// `Float64` column `x` as `vl_extent_min(x) AS name`, or `None` for any other
/// aggregate.
fn extent_call(e: &Expr, input: &DFSchema) -> Option<Expr> {
    let Expr::Alias(Alias { expr, relation, name, .. }) = e else { return None };
    let Expr::AggregateFunction(AggregateFunction { func, params }) = expr.as_ref() else { return None };
    let max = match func.name() {
        "min" => false,
        "max" => true,
        _ => return None,
    };
    if params.distinct || params.filter.is_some() || !params.order_by.is_empty() {
        return None;
    }
    let [Expr::Case(Case { expr: None, when_then_expr, else_expr: Some(x) })] = params.args.as_slice() else { return None };
    let [(when, then)] = when_then_expr.as_slice() else { return None };
    let is_nan_of_x = matches!(when.as_ref(), Expr::ScalarFunction(f) if f.name() == "isnan" && f.args.len() == 1 && f.args[0] == **x);
    let null = matches!(then.as_ref(), Expr::Literal(v, _) if v.is_null());
    let Expr::Column(column) = x.as_ref() else { return None };
    let float = input.qualified_field_from_column(column).is_ok_and(|(_, f)| f.data_type() == &DataType::Float64);
    (is_nan_of_x && null && float).then(|| udaf(max).call(vec![x.as_ref().clone()]).alias_qualified(relation.clone(), name))
}

/// `vl_extent_min` and `vl_extent_max`, for registration on a session.
pub(crate) fn udafs() -> [Arc<AggregateUDF>; 2] {
    [udaf(false), udaf(true)]
}

fn udaf(max: bool) -> Arc<AggregateUDF> {
    static UDAFS: OnceLock<[Arc<AggregateUDF>; 2]> = OnceLock::new();
    let [min_udaf, max_udaf] = UDAFS.get_or_init(|| {
        let of = |max| Arc::new(AggregateUDF::from(NumberExtent { max, signature: Signature::exact(vec![DataType::Float64], Volatility::Immutable) }));
        [of(false), of(true)]
    });
    if max {
        max_udaf.clone()
    } else {
        min_udaf.clone()
    }
}

/// The min or max of a column's numbers, skipping null and NaN (vega's extent).
#[derive(Debug, PartialEq, Eq, Hash)]
struct NumberExtent {
    max: bool,
    signature: Signature,
}

impl AggregateUDFImpl for NumberExtent {
    fn name(&self) -> &str {
        if self.max {
            "vl_extent_max"
        } else {
            "vl_extent_min"
        }
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn return_type(&self, _: &[DataType]) -> Result<DataType> {
        Ok(DataType::Float64)
    }

    fn accumulator(&self, _: AccumulatorArgs) -> Result<Box<dyn Accumulator>> {
        Ok(Box::new(ExtentAccumulator { max: self.max, value: None }))
    }

    fn state_fields(&self, args: StateFieldsArgs) -> Result<Vec<FieldRef>> {
        Ok(vec![Arc::new(Field::new(format!("{}_value", args.name), DataType::Float64, true))])
    }

    fn value_from_stats(&self, args: &StatisticsArgs) -> Option<ScalarValue> {
        let Precision::Exact(rows) = args.statistics.num_rows else { return None };
        if rows == 0 {
            return Some(ScalarValue::Float64(None));
        }
        let [x] = args.exprs else { return None };
        let column = x.downcast_ref::<Column>()?;
        let stats = args.statistics.column_statistics.get(column.index())?;
        let bound = if self.max { &stats.max_value } else { &stats.min_value };
        let Precision::Exact(ScalarValue::Float64(Some(v))) = bound else { return None };
        // See the module's notes: NaN and zero are scanned.
        (!v.is_nan() && *v != 0.0).then_some(ScalarValue::Float64(Some(*v)))
    }
}

#[derive(Debug)]
struct ExtentAccumulator {
    max: bool,
    value: Option<f64>,
}

impl ExtentAccumulator {
    /// -0 is below 0, as for `min` and `max` over the CASE (total order), so a
    /// partition's order does not choose the zero.
    fn add(&mut self, v: f64) {
        if v.is_nan() {
            return;
        }
        let wanted = if self.max { std::cmp::Ordering::Greater } else { std::cmp::Ordering::Less };
        self.value = Some(match self.value {
            Some(old) if v.total_cmp(&old) != wanted => old,
            _ => v,
        });
    }

    fn add_all(&mut self, values: &ArrayRef) {
        let values = values.as_primitive::<Float64Type>();
        for i in 0..values.len() {
            if values.is_valid(i) {
                self.add(values.value(i));
            }
        }
    }
}

impl Accumulator for ExtentAccumulator {
    fn update_batch(&mut self, values: &[ArrayRef]) -> Result<()> {
        self.add_all(&values[0]);
        Ok(())
    }

    fn merge_batch(&mut self, states: &[ArrayRef]) -> Result<()> {
        self.add_all(&states[0]);
        Ok(())
    }

    fn state(&mut self) -> Result<Vec<ScalarValue>> {
        Ok(vec![ScalarValue::Float64(self.value)])
    }

    fn evaluate(&mut self) -> Result<ScalarValue> {
        Ok(ScalarValue::Float64(self.value))
    }

    fn size(&self) -> usize {
        std::mem::size_of_val(self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::transforms::extent::extent_query;
    use datafusion::arrow::array::{Float64Array, RecordBatch};
    use datafusion::arrow::datatypes::Schema;
    use datafusion::execution::SessionStateBuilder;
    use datafusion::parquet::arrow::ArrowWriter;
    use datafusion::physical_plan::displayable;
    use datafusion::prelude::{ParquetReadOptions, SessionContext};

    /// A Parquet file of one column `x` (its row groups' statistics written by
    /// arrow-rs, which leaves NaN out of them).
    fn parquet(name: &str, x: Vec<Option<f64>>) -> String {
        let path = std::env::temp_dir().join(format!("vegalake-extent-{}-{name}.parquet", std::process::id()));
        let schema = Arc::new(Schema::new(vec![Field::new("x", DataType::Float64, true)]));
        let batch = RecordBatch::try_new(schema.clone(), vec![Arc::new(Float64Array::from(x))]).unwrap();
        let mut writer = ArrowWriter::try_new(std::fs::File::create(&path).unwrap(), schema, None).unwrap();
        writer.write(&batch).unwrap();
        writer.close().unwrap();
        path.to_string_lossy().into_owned()
    }

    /// [lo, hi] of `x` by the extent query, and whether the file was scanned.
    async fn extent(path: &str, with_rule: bool) -> (String, bool) {
        // As the engine's session: without common subexpression elimination, which
        // would take the CASE out of the aggregates first.
        let state = SessionStateBuilder::new().with_default_features().build();
        let mut rules: Vec<_> = state.optimizers().iter().filter(|r| r.name() != "common_sub_expression_eliminate").cloned().collect();
        if with_rule {
            rules.push(Arc::new(super::super::EXTENT_STATISTICS));
        }
        let ctx = SessionContext::new_with_state(SessionStateBuilder::new_from_existing(state).with_optimizer_rules(rules).build());
        let scan = ctx.read_parquet(path, ParquetReadOptions::default()).await.unwrap().into_unoptimized_plan();
        let frame = ctx.execute_logical_plan(extent_query(&scan, "x").unwrap()).await.unwrap();
        let physical = frame.clone().create_physical_plan().await.unwrap();
        let scanned = displayable(physical.as_ref()).indent(true).to_string().contains("DataSourceExec");
        let batches = frame.collect().await.unwrap();
        let lo = batches[0].column(0).as_primitive::<Float64Type>();
        let hi = batches[0].column(1).as_primitive::<Float64Type>();
        (format!("{:?} {:?}", lo.iter().next().flatten().map(f64::to_bits), hi.iter().next().flatten().map(f64::to_bits)), scanned)
    }

    #[tokio::test]
    async fn an_extent_is_read_from_exact_statistics_and_equals_the_scan() {
        let path = parquet("plain", vec![Some(3.5), Some(f64::NAN), None, Some(-2.25), Some(10.0), Some(f64::NAN)]);
        let (scanned, by_scan) = extent(&path, false).await;
        let (read, by_rule) = extent(&path, true).await;
        assert!(by_scan);
        assert!(!by_rule, "answered from the statistics");
        assert_eq!(read, scanned);
        assert_eq!(read, format!("{:?} {:?}", Some((-2.25f64).to_bits()), Some(10.0f64.to_bits())));
    }

    #[tokio::test]
    async fn zeros_and_columns_without_numbers_are_scanned_with_the_same_extent() {
        for (name, x) in [
            ("zero", vec![Some(0.0), Some(5.0), Some(-0.0)]),
            ("negzero", vec![Some(-7.0), Some(-0.0)]),
            ("nan", vec![Some(f64::NAN), Some(f64::NAN)]),
            ("null", vec![None, None]),
        ] {
            let path = parquet(name, x);
            let (scanned, _) = extent(&path, false).await;
            let (read, by_rule) = extent(&path, true).await;
            assert!(by_rule, "{name}: scanned");
            assert_eq!(read, scanned, "{name}");
        }
    }
}
