//! Aggregates that reproduce vega's arithmetic bit for bit.
//!
//! vega sums and averages incrementally in input order (`sum += v`, Welford's mean
//! and deviation). SQL engines add in any order and average as `sum / count`, which
//! can differ in the last bit, enough to flip a `datum.x > datum.mean_x` filter.
//! These aggregates collect `(row, value)` pairs and replay vega's loop in row order.
//! vega's quantiles (`q1`, `median`, `q3`) are here too: exact, and usable as window
//! aggregates (DataFusion's `percentile_cont` is not).

use datafusion::arrow::array::{Array, ArrayRef, AsArray, Float64Array, Int64Array, ListArray};
use datafusion::arrow::datatypes::{DataType, Field, FieldRef, Float64Type, Int64Type};
use datafusion::common::{Result as DFResult, ScalarValue};
use datafusion::logical_expr::function::{AccumulatorArgs, StateFieldsArgs};
use datafusion::logical_expr::{Accumulator, AggregateUDF, AggregateUDFImpl, Expr, Signature, Volatility};
use std::sync::{Arc, OnceLock};

/// Which of vega's sequential measures to compute.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Moment {
    Sum,
    Product,
    Mean,
    Variance,
    VarianceP,
    Stdev,
    StdevP,
    Stderr,
    /// vega's quantiles (d3's `quantileSorted`: linear interpolation).
    Q1,
    Median,
    Q3,
}

impl Moment {
    pub const ALL: [Moment; 11] = [
        Moment::Sum,
        Moment::Product,
        Moment::Mean,
        Moment::Variance,
        Moment::VarianceP,
        Moment::Stdev,
        Moment::StdevP,
        Moment::Stderr,
        Moment::Q1,
        Moment::Median,
        Moment::Q3,
    ];

    pub fn from_op(op: &str) -> Option<Moment> {
        Some(match op {
            "sum" => Moment::Sum,
            "product" => Moment::Product,
            "mean" | "average" => Moment::Mean,
            "variance" => Moment::Variance,
            "variancep" => Moment::VarianceP,
            "stdev" => Moment::Stdev,
            "stdevp" => Moment::StdevP,
            "stderr" => Moment::Stderr,
            "q1" => Moment::Q1,
            "median" => Moment::Median,
            "q3" => Moment::Q3,
            _ => return None,
        })
    }

    /// The moment computed by the vegalake aggregate `name` (`vl_mean`, ...).
    pub fn from_udf_name(name: &str) -> Option<Moment> {
        Moment::ALL.into_iter().find(|m| m.name() == name)
    }

    /// The SQL aggregate that computes the moment in `dialect`. Engines add in
    /// their own order, so results agree with vega's within float tolerance only.
    /// `None`: the dialect has no such aggregate.
    pub fn sql(self, dialect: crate::unparse::SqlDialect) -> Option<SqlAggregate> {
        use crate::unparse::SqlDialect::{DuckDb, Postgres, Spark};
        let quantile = |p: f64| match dialect {
            Spark => Some(SqlAggregate::Quantile("percentile", p)),
            DuckDb => Some(SqlAggregate::Quantile("quantile_cont", p)),
            // Written `percentile_cont(p) WITHIN GROUP (ORDER BY v)` (unparse::functions).
            Postgres => Some(SqlAggregate::Quantile("percentile_cont", p)),
        };
        let call = |name: &'static str| Some(SqlAggregate::Call(name));
        match self {
            Moment::Sum => call("sum"),
            // Spark's `product` is a DataFrame function, not a SQL one.
            Moment::Product if dialect != DuckDb => None,
            Moment::Product => call("product"),
            Moment::Mean => call("avg"),
            Moment::Variance => call("var_samp"),
            Moment::VarianceP => call("var_pop"),
            Moment::Stdev => call("stddev_samp"),
            Moment::StdevP => call("stddev_pop"),
            Moment::Stderr => Some(SqlAggregate::StandardError),
            Moment::Q1 => quantile(0.25),
            Moment::Median => quantile(0.5),
            Moment::Q3 => quantile(0.75),
        }
    }

    fn name(self) -> &'static str {
        match self {
            Moment::Sum => "vl_sum",
            Moment::Product => "vl_product",
            Moment::Mean => "vl_mean",
            Moment::Variance => "vl_variance",
            Moment::VarianceP => "vl_variancep",
            Moment::Stdev => "vl_stdev",
            Moment::StdevP => "vl_stdevp",
            Moment::Stderr => "vl_stderr",
            Moment::Q1 => "vl_q1",
            Moment::Median => "vl_median",
            Moment::Q3 => "vl_q3",
        }
    }

    /// vega's result over valid values in input order; `None` is `undefined`.
    pub fn compute(self, values: &[f64]) -> Option<f64> {
        let p = match self {
            Moment::Q1 => Some(0.25),
            Moment::Median => Some(0.5),
            Moment::Q3 => Some(0.75),
            _ => None,
        };
        if let Some(p) = p {
            return quantile(values, p);
        }
        let (mut valid, mut sum, mut mean, mut dev, mut product) = (0.0_f64, 0.0_f64, 0.0_f64, 0.0_f64, 1.0_f64);
        for &v in values {
            valid += 1.0;
            sum += v;
            product *= v;
            let mean_d = v - mean;
            mean += mean_d / valid;
            dev += mean_d * (v - mean);
        }
        let dev = dev.max(0.0);
        match self {
            Moment::Sum => (valid > 0.0).then_some(sum),
            Moment::Product => (valid > 0.0).then_some(product),
            Moment::Mean => (valid > 0.0).then_some(mean),
            Moment::Variance => (valid > 1.0).then(|| dev / (valid - 1.0)),
            Moment::VarianceP => (valid > 0.0).then(|| dev / valid),
            Moment::Stdev => (valid > 1.0).then(|| (dev / (valid - 1.0)).sqrt()),
            Moment::StdevP => (valid > 0.0).then(|| (dev / valid).sqrt()),
            Moment::Stderr => (valid > 1.0).then(|| (dev / (valid * (valid - 1.0))).sqrt()),
            Moment::Q1 | Moment::Median | Moment::Q3 => unreachable!("quantiles return above"),
        }
    }
}

/// vega's `quantiles`: d3's `quantileSorted` over the sorted values.
pub(crate) fn quantile(values: &[f64], p: f64) -> Option<f64> {
    let mut v = values.to_vec();
    v.sort_by(f64::total_cmp);
    vegalake_planner::values::statistics::quantile_sorted(&v, p)
}

/// A moment as SQL aggregates.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum SqlAggregate {
    /// `name(v)`.
    Call(&'static str),
    /// `name(v, p)`: the exact quantile with linear interpolation (vega's).
    Quantile(&'static str, f64),
    /// `stddev_samp(v) / sqrt(count(v))`.
    StandardError,
}

#[derive(Debug, PartialEq, Eq, Hash)]
struct VegaMoment {
    moment: Moment,
    signature: Signature,
}

impl AggregateUDFImpl for VegaMoment {
    fn name(&self) -> &str {
        self.moment.name()
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn return_type(&self, _: &[DataType]) -> DFResult<DataType> {
        Ok(DataType::Float64)
    }

    fn accumulator(&self, _: AccumulatorArgs) -> DFResult<Box<dyn Accumulator>> {
        Ok(Box::new(MomentAccumulator { moment: self.moment, pairs: Vec::new() }))
    }

    fn state_fields(&self, args: StateFieldsArgs) -> DFResult<Vec<FieldRef>> {
        let item = |t: DataType| Arc::new(Field::new_list_field(t, true));
        Ok(vec![
            Arc::new(Field::new(format!("{}_rows", args.name), DataType::List(item(DataType::Int64)), true)),
            Arc::new(Field::new(format!("{}_values", args.name), DataType::List(item(DataType::Float64)), true)),
        ])
    }
}

#[derive(Debug)]
struct MomentAccumulator {
    moment: Moment,
    /// (input row, value) of every valid value seen.
    pairs: Vec<(i64, f64)>,
}

impl MomentAccumulator {
    fn push(&mut self, rows: &Int64Array, values: &Float64Array) {
        for i in 0..values.len() {
            if values.is_valid(i) {
                self.pairs.push((if rows.is_valid(i) { rows.value(i) } else { 0 }, values.value(i)));
            }
        }
    }
}

impl Accumulator for MomentAccumulator {
    fn update_batch(&mut self, values: &[ArrayRef]) -> DFResult<()> {
        self.push(values[1].as_primitive::<Int64Type>(), values[0].as_primitive::<Float64Type>());
        Ok(())
    }

    fn merge_batch(&mut self, states: &[ArrayRef]) -> DFResult<()> {
        let (rows, values) = (states[0].as_list::<i32>(), states[1].as_list::<i32>());
        for i in 0..rows.len() {
            if rows.is_valid(i) {
                let (r, v) = (rows.value(i), values.value(i));
                self.push(r.as_primitive::<Int64Type>(), v.as_primitive::<Float64Type>());
            }
        }
        Ok(())
    }

    fn state(&mut self) -> DFResult<Vec<ScalarValue>> {
        let rows = Int64Array::from_iter_values(self.pairs.iter().map(|p| p.0));
        let values = Float64Array::from_iter_values(self.pairs.iter().map(|p| p.1));
        Ok(vec![
            ScalarValue::List(Arc::new(ListArray::from_iter_primitive::<Int64Type, _, _>([Some(rows.iter().collect::<Vec<_>>())]))),
            ScalarValue::List(Arc::new(ListArray::from_iter_primitive::<Float64Type, _, _>([Some(values.iter().collect::<Vec<_>>())]))),
        ])
    }

    fn evaluate(&mut self) -> DFResult<ScalarValue> {
        let mut pairs = self.pairs.clone();
        pairs.sort_by_key(|p| p.0);
        let values: Vec<f64> = pairs.into_iter().map(|p| p.1).collect();
        Ok(ScalarValue::Float64(self.moment.compute(&values)))
    }

    fn size(&self) -> usize {
        std::mem::size_of_val(self) + self.pairs.capacity() * std::mem::size_of::<(i64, f64)>()
    }
}

fn registry() -> &'static Vec<Arc<AggregateUDF>> {
    static UDAFS: OnceLock<Vec<Arc<AggregateUDF>>> = OnceLock::new();
    UDAFS.get_or_init(|| {
        Moment::ALL
            .into_iter()
            .map(|moment| {
                let signature = Signature::exact(vec![DataType::Float64, DataType::Int64], Volatility::Immutable);
                Arc::new(AggregateUDF::from(VegaMoment { moment, signature }))
            })
            .collect()
    })
}

/// `moment(value)` over rows ordered by `row`.
pub fn call(moment: Moment, value: Expr, row: Expr) -> Expr {
    let udaf = registry().iter().find(|u| u.name() == moment.name()).expect("every moment is registered");
    udaf.call(vec![value, row])
}

/// Every vegalake aggregate, for registration on a session.
pub fn all() -> impl Iterator<Item = Arc<AggregateUDF>> {
    registry().iter().cloned().chain(crate::optimize::extent_statistics::udafs())
}

#[cfg(test)]
mod tests {
    use super::Moment;

    #[test]
    fn welford_mean_differs_from_sum_over_count_like_vega() {
        // Horsepower of the European cars in cars.json, in file order: vega's mean is
        // 80.99999999999999 while sum / count is exactly 81.
        let v: [f64; 4] = [0.1, 0.2, 0.3, 0.4];
        assert_eq!(Moment::Sum.compute(&v), Some(0.1 + 0.2 + 0.3 + 0.4));
        assert_eq!(Moment::Variance.compute(&[5.0]), None);
        assert_eq!(Moment::VarianceP.compute(&[5.0]), Some(0.0));
        assert_eq!(Moment::Mean.compute(&[]), None);
        assert_eq!(Moment::Stderr.compute(&[1.0, 3.0]), Some(1.0));
        assert_eq!(Moment::Median.compute(&[4.0, 1.0, 3.0, 2.0]), Some(2.5));
        assert_eq!(Moment::Q1.compute(&[1.0, 2.0, 3.0, 4.0, 5.0]), Some(2.0));
        assert_eq!(Moment::Q3.compute(&[7.0]), Some(7.0));
    }
}
