//! `bin`: discretizes a numeric field into equal-width bins, with vega's exact step
//! selection (maxbins, step, steps, minstep, divide, nice, span, anchor).

use super::extent::{extent_query, numeric_field, read_extent};
use super::{Step, TransformDef, TransformInput};
use crate::error::{invalid, LowerError, Result};
use crate::lowered::json_number;
use crate::plan::with_columns;
use datafusion::common::ScalarValue;
use datafusion::functions::expr_fn::{floor, greatest, isnan, least};
use datafusion::logical_expr::{lit, when, Expr, LogicalPlan};
use serde_json::json;

/// Parameters of vega-statistics' `bin`.
#[derive(Debug, Clone, PartialEq)]
pub struct BinOptions {
    pub extent: [f64; 2],
    pub maxbins: f64,
    pub base: f64,
    pub divide: Vec<f64>,
    pub span: Option<f64>,
    pub step: Option<f64>,
    pub steps: Option<Vec<f64>>,
    pub minstep: f64,
    pub nice: bool,
    pub anchor: Option<f64>,
}

/// The bins: `start`, `stop` and `step`, after the transform's own adjustments.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Bins {
    pub start: f64,
    pub stop: f64,
    pub step: f64,
}

/// vega-statistics' `bin` followed by vega's Bin transform adjustments (stop on a
/// whole number of steps, then the anchor shift).
pub fn choose_bins(o: &BinOptions) -> Bins {
    let logb = o.base.ln();
    let (mut min, mut max) = (o.extent[0], o.extent[1]);
    let span = o.span.filter(|s| *s != 0.0).unwrap_or_else(|| {
        let s = max - min;
        if s != 0.0 && !s.is_nan() {
            s
        } else if min.abs() != 0.0 && !min.is_nan() {
            min.abs()
        } else {
            1.0
        }
    });
    let mut step;
    if let Some(s) = o.step.filter(|s| *s != 0.0) {
        step = s;
    } else if let Some(steps) = &o.steps {
        let v = span / o.maxbins;
        let i = steps.iter().position(|s| *s >= v).unwrap_or(steps.len());
        step = steps[i.saturating_sub(1).min(steps.len() - 1)];
    } else {
        let level = (o.maxbins.ln() / logb).ceil();
        step = o.minstep.max(o.base.powf((span.ln() / logb).round() - level));
        while (span / step).ceil() > o.maxbins {
            step *= o.base;
        }
        for d in &o.divide {
            let v = step / d;
            if v >= o.minstep && span / v <= o.maxbins {
                step = v;
            }
        }
    }
    let v = step.ln();
    let precision = if v >= 0.0 { 0.0 } else { (-v / logb).trunc() + 1.0 };
    let eps = o.base.powf(-precision - 1.0);
    if o.nice {
        let v = (min / step + eps).floor() * step;
        min = if min < v { v - step } else { v };
        max = (max / step).ceil() * step;
    }
    let stop = if max == min { min + step } else { max };
    // The Bin transform's own adjustments.
    let mut start = min;
    let mut stop = start + ((stop - start) / step).ceil() * step;
    if let Some(a) = o.anchor {
        let d = a - (start + step * ((a - start) / step).floor());
        start += d;
        stop += d;
    }
    Bins { start, stop, step }
}

/// vega's bin accessor: within the adjustments' 1e-14 of a bin edge, a value
/// belongs to the upper bin.
const EPSILON: f64 = 1e-14;

/// The bin start of one value: null stays null, NaN stays NaN, values outside
/// [start, stop] are -Infinity or Infinity.
fn bin_of(v: f64, start: f64, stop: f64, step: f64) -> f64 {
    if v.is_nan() {
        v
    } else if v < start {
        f64::NEG_INFINITY
    } else if v > stop {
        f64::INFINITY
    } else {
        let clamped = start.max(v.min(stop - step));
        start + step * floor_of_positive(EPSILON + (clamped - start) / step)
    }
}

/// `x.floor()` for the bin index, which is never negative: truncation, which is
/// floor there. Why: without SSE4.1 in the baseline target `f64::floor` is a call
/// into libm, and it was 17% of a 10M-row heatmap's time (perf, release); the
/// conversion is one instruction. Exact: an index below 2^53 converts to i64 and
/// back unchanged; beyond, `x` is an integer already.
fn floor_of_positive(x: f64) -> f64 {
    if x < 9.0e15 {
        (x as i64) as f64
    } else {
        x.floor()
    }
}

/// `vl_bin` as a UDF, one pass over the column. Why not an expression: as a CASE of
/// comparisons, `greatest`, `least` and `floor` it cost ~100 ns a row (perf on a
/// 10M-row histogram: comparisons and their masks were a quarter of the query).
pub(crate) fn udf() -> datafusion::logical_expr::ScalarUDF {
    use datafusion::arrow::array::AsArray;
    use datafusion::arrow::datatypes::{DataType, Float64Type};
    use datafusion::logical_expr::{create_udf, ColumnarValue, Volatility};
    let fun = |args: &[ColumnarValue]| -> datafusion::error::Result<ColumnarValue> {
        if args[1..].iter().any(|a| matches!(a, ColumnarValue::Array(_))) {
            return bin_rows(args);
        }
        let bins: Vec<f64> = args[1..]
            .iter()
            .map(|a| match a {
                ColumnarValue::Scalar(ScalarValue::Float64(Some(x))) => Ok(*x),
                other => datafusion::common::exec_err!("vl_bin takes constant bins, got {other:?}"),
            })
            .collect::<datafusion::error::Result<_>>()?;
        let [start, stop, step] = bins[..] else { return datafusion::common::exec_err!("vl_bin takes 4 arguments") };
        Ok(match &args[0] {
            ColumnarValue::Array(a) => {
                let Some(values) = a.as_primitive_opt::<Float64Type>() else { return datafusion::common::exec_err!("vl_bin of {}", a.data_type()) };
                ColumnarValue::Array(std::sync::Arc::new(values.unary::<_, Float64Type>(|v| bin_of(v, start, stop, step))))
            }
            ColumnarValue::Scalar(ScalarValue::Float64(v)) => ColumnarValue::Scalar(ScalarValue::Float64(v.map(|v| bin_of(v, start, stop, step)))),
            ColumnarValue::Scalar(other) => return datafusion::common::exec_err!("vl_bin of {other:?}"),
        })
    };
    create_udf("vl_bin", vec![DataType::Float64; 4], DataType::Float64, Volatility::Immutable, std::sync::Arc::new(fun))
}

/// `vl_bin` with bins per row (a partitioned bin joins each row to its key's bins).
fn bin_rows(args: &[datafusion::logical_expr::ColumnarValue]) -> datafusion::error::Result<datafusion::logical_expr::ColumnarValue> {
    use datafusion::arrow::array::{Array, AsArray, Float64Array};
    use datafusion::arrow::datatypes::Float64Type;
    use datafusion::logical_expr::ColumnarValue;
    let rows = args.iter().find_map(|a| if let ColumnarValue::Array(a) = a { Some(a.len()) } else { None }).unwrap_or(1);
    let arrays = args.iter().map(|a| a.to_array(rows)).collect::<datafusion::error::Result<Vec<_>>>()?;
    let columns: Vec<&Float64Array> = arrays
        .iter()
        .map(|a| a.as_primitive_opt::<Float64Type>())
        .collect::<Option<_>>()
        .ok_or_else(|| datafusion::error::DataFusionError::Execution("vl_bin takes numbers".into()))?;
    let [v, start, stop, step] = columns[..] else { return datafusion::common::exec_err!("vl_bin takes 4 arguments") };
    let out: Float64Array =
        (0..rows).map(|i| (!v.is_null(i) && !start.is_null(i)).then(|| bin_of(v.value(i), start.value(i), stop.value(i), step.value(i)))).collect();
    Ok(ColumnarValue::Array(std::sync::Arc::new(out)))
}

/// `vl_bin` in SQL: the same rule as a CASE expression, which every dialect reads
/// (with constant bins, or bins read from columns).
pub(crate) fn sql_form(args: &[Expr]) -> Option<Expr> {
    let [v, start, stop, step] = args else { return None };
    let number = |e: &Expr| match e {
        Expr::Literal(ScalarValue::Float64(Some(x)), _) => Some(lit(*x)),
        Expr::Column(_) => Some(e.clone()),
        _ => None,
    };
    let (start, stop, step) = (number(start)?, number(stop)?, number(step)?);
    let clamped = greatest(vec![start.clone(), least(vec![v.clone(), stop.clone() - step.clone()])]);
    let binned = start.clone() + step.clone() * floor(lit(EPSILON) + (clamped - start.clone()) / step);
    when(v.clone().is_null(), lit(ScalarValue::Float64(None)))
        .when(isnan(v.clone()), lit(f64::NAN))
        .when(v.clone().lt(start), lit(f64::NEG_INFINITY))
        .when(v.clone().gt(stop), lit(f64::INFINITY))
        .otherwise(binned)
        .ok()
}

fn options(input: &TransformInput, extent: [f64; 2]) -> Result<BinOptions> {
    let p = &input.params;
    // vega's step search grows the step by `base` until the bins fit `maxbins`:
    // with a negative maxbins or a base of at most 1 it never ends (in vega.js too;
    // the fuzzer's `"maxbins": -1` held a server thread forever). Such a bin stays
    // with the client.
    let (maxbins, base) = (p.number("maxbins")?, p.number("base")?);
    if maxbins.is_some_and(|m| m < 0.0) || base.is_some_and(|b| b <= 1.0) {
        return crate::error::unsupported(format!("bin with maxbins {maxbins:?} and base {base:?}: vega's step search never ends"));
    }
    Ok(BinOptions {
        extent,
        maxbins: maxbins.unwrap_or(20.0),
        base: base.unwrap_or(10.0),
        divide: p.numbers("divide")?.unwrap_or(vec![5.0, 2.0]),
        span: p.number("span")?,
        step: p.number("step")?,
        steps: p.numbers("steps")?.filter(|s| !s.is_empty()),
        minstep: p.number("minstep")?.unwrap_or(0.0),
        nice: p.boolean("nice")?.unwrap_or(true),
        anchor: p.number("anchor")?,
    })
}

struct Output {
    field: String,
    as_: [String; 2],
    interval: bool,
    name: Option<String>,
    signal: Option<String>,
}

fn finish(plan: LogicalPlan, out: Output, o: BinOptions) -> Result<Step> {
    let bins = choose_bins(&o);
    let v = numeric_field(plan.schema(), &out.field)?;
    let plan = with_columns(plan, binned_columns(&out, v, lit(bins.start), lit(bins.stop), lit(bins.step)))?;
    Ok(Step::Plan { plan, signals: out.signal.clone().map(|s| vec![(s, out.signal_value(bins))]).unwrap_or_default() })
}

/// The bin start (and end) columns of `v`, bins given as expressions.
fn binned_columns(out: &Output, v: Expr, start: Expr, stop: Expr, step: Expr) -> Vec<(String, Expr)> {
    let b0 = crate::udf::call("vl_bin", vec![v, start.clone(), stop, step.clone()]);
    let mut cols = vec![(out.as_[0].clone(), b0.clone())];
    if out.interval {
        // start + step * (1 + (v - start) / step), as vega writes it for rounding.
        let b1 = start.clone() + step.clone() * (lit(1.0) + (b0 - start) / step);
        cols.push((out.as_[1].clone(), b1));
    }
    cols
}

impl Output {
    /// The names of the columns it writes.
    fn columns(&self) -> impl Iterator<Item = String> + '_ {
        self.as_.iter().take(if self.interval { 2 } else { 1 }).cloned()
    }

    /// The value of the transform's `signal`: the bins as vega publishes them.
    fn signal_value(&self, bins: Bins) -> serde_json::Value {
        json!({
            "fields": [self.field],
            "fname": self.name.clone().unwrap_or_else(|| format!("bin_{}", self.field)),
            "start": json_number(bins.start),
            "step": json_number(bins.step),
            "stop": json_number(bins.stop),
        })
    }
}

fn lower(input: TransformInput) -> Result<Step> {
    input.params.only(&[
        "field",
        "interval",
        "anchor",
        "maxbins",
        "base",
        "divide",
        "extent",
        "span",
        "step",
        "steps",
        "minstep",
        "nice",
        "name",
        "as",
        "signal",
        partition::KEYS,
        partition::EXTENT_SIGNAL,
    ])?;
    let p = &input.params;
    let field = p.required_field("field")?;
    let out = Output {
        as_: p.output_pair("as", ["bin0", "bin1"])?,
        field,
        interval: p.boolean("interval")?.unwrap_or(true),
        name: p.string("name")?,
        signal: p.string("signal")?,
    };
    if p.transform.param(partition::KEYS).is_some() {
        let keys: Vec<String> = p.strings(partition::KEYS)?.into_iter().flatten().collect();
        let extent_signal = p.string(partition::EXTENT_SIGNAL)?;
        let o = options(&input, [0.0, 0.0])?;
        return partition::lower(input.plan, out, o, keys, extent_signal);
    }
    // An extent signal over no valid values is [undefined, undefined]: NaN bins, as
    // in vega.js.
    let extent = match p.transform.param("extent").is_some() {
        true => Some(
            p.list("extent")?
                .iter()
                .map(|v| if v.is_null() { Ok(f64::NAN) } else { v.as_f64().ok_or_else(|| LowerError::Invalid(format!("extent: expected numbers, got {v}"))) })
                .collect::<Result<Vec<f64>>>()?,
        ),
        false => None,
    };
    match extent {
        Some(e) if e.len() == 2 => {
            let o = options(&input, [e[0], e[1]])?;
            finish(input.plan, out, o)
        }
        Some(_) => invalid("bin 'extent' must be [min, max]"),
        None => {
            // Vega requires an extent; computing it from the data is the natural meaning.
            let query = extent_query(&input.plan, &out.field)?;
            let o = options(&input, [0.0, 0.0])?;
            let plan = input.plan;
            Ok(Step::Query {
                query,
                resume: Box::new(move |batches, _| {
                    let (lo, hi) = read_extent(&batches);
                    let o = BinOptions { extent: [lo.unwrap_or(f64::NAN), hi.unwrap_or(f64::NAN)], ..o };
                    finish(plan, out, o)
                }),
            })
        }
    }
}

pub(super) const DEF: TransformDef =
    TransformDef { name: "bin", evaluation: super::Evaluation::Server(lower), partition: super::Partition::Keyed, rows: super::Rows::Fields };

/// A bin partitioned by key columns (`vegalake batch`: one chart per key): each
/// key's bins come from the extent of its own rows, as when the chart is drawn
/// from that key's rows alone. One query finds every key's extent; each row then
/// joins its key's bins. The signals hold each key's value
/// ([`crate::partitioned_signal`]).
mod partition {
    use super::*;
    use crate::error::Result;
    use crate::plan::{col, column_names, select};
    use datafusion::arrow::array::{Array, AsArray};
    use datafusion::arrow::datatypes::Float64Type;
    use datafusion::functions_aggregate::expr_fn::{max, min};
    use datafusion::logical_expr::{JoinType, LogicalPlanBuilder};

    pub use crate::transforms::{PARTITION_EXTENT_SIGNAL as EXTENT_SIGNAL, PARTITION_KEYS as KEYS};

    const START: &str = "__vl_bin_start";
    const STOP: &str = "__vl_bin_stop";
    const STEP: &str = "__vl_bin_step";

    fn key_column(i: usize) -> String {
        format!("__vl_bin_key_{i}")
    }

    pub fn lower(plan: LogicalPlan, out: Output, o: BinOptions, keys: Vec<String>, extent_signal: Option<String>) -> Result<Step> {
        let v = numeric_field(plan.schema(), &out.field)?;
        let valid = when(isnan(v.clone()), lit(ScalarValue::Float64(None))).otherwise(v)?;
        let key_exprs = keys.iter().map(|k| crate::lower::column(plan.schema(), k).map(|t| t.expr.alias(k))).collect::<Result<Vec<_>>>()?;
        let query = LogicalPlanBuilder::from(plan.clone()).aggregate(key_exprs, vec![min(valid.clone()).alias("lo"), max(valid).alias("hi")])?.build()?;
        Ok(Step::Query { query, resume: Box::new(move |batches, _| join_bins(plan, out, o, &keys, extent_signal, &batches)) })
    }

    /// Joins each row to its key's bins (computed here from the keys' extents) and bins it.
    fn join_bins(
        plan: LogicalPlan,
        out: Output,
        o: BinOptions,
        keys: &[String],
        extent_signal: Option<String>,
        batches: &[datafusion::arrow::record_batch::RecordBatch],
    ) -> Result<Step> {
        let mut rows: Vec<Vec<Expr>> = Vec::new();
        let (mut bin_values, mut extent_values) = (Vec::new(), Vec::new());
        for batch in batches {
            let (lo, hi) = (batch.column(keys.len()).as_primitive::<Float64Type>(), batch.column(keys.len() + 1).as_primitive::<Float64Type>());
            for i in 0..batch.num_rows() {
                let key: Vec<ScalarValue> = (0..keys.len()).map(|k| ScalarValue::try_from_array(batch.column(k), i)).collect::<std::result::Result<_, _>>()?;
                if key.iter().any(ScalarValue::is_null) {
                    continue; // a null key is no chart's
                }
                let read = |a: &datafusion::arrow::array::Float64Array| (!a.is_null(i)).then(|| a.value(i)).filter(|x| x.is_finite());
                let extent = match (read(lo), read(hi)) {
                    (Some(l), Some(h)) => [l, h],
                    _ => [f64::NAN, f64::NAN],
                };
                let bins = choose_bins(&BinOptions { extent, ..o.clone() });
                let key_json: Vec<serde_json::Value> = key.iter().map(crate::lowered::scalar_json).collect::<Result<_>>()?;
                bin_values.push((key_json.clone(), out.signal_value(bins)));
                let extent_json = extent.iter().map(|x| if x.is_finite() { json_number(*x) } else { serde_json::Value::Null }).collect();
                extent_values.push((key_json, serde_json::Value::Array(extent_json)));
                let mut row: Vec<Expr> = key.into_iter().map(lit).collect();
                row.extend([lit(bins.start), lit(bins.stop), lit(bins.step)]);
                rows.push(row);
            }
        }
        let names = column_names(&plan);
        let joined = match rows.is_empty() {
            // No key has rows: nothing to bin (the plan's own columns, no rows).
            true => LogicalPlanBuilder::from(plan).filter(lit(false))?.build()?,
            false => {
                // VALUES names its columns column1, column2...
                let bin_columns: Vec<String> = (0..keys.len()).map(key_column).chain([START, STOP, STEP].map(String::from)).collect();
                let bins = LogicalPlanBuilder::values(rows)?
                    .project(bin_columns.iter().enumerate().map(|(i, n)| col(&format!("column{}", i + 1)).alias(n)))?
                    .build()?;
                let on: (Vec<datafusion::common::Column>, Vec<datafusion::common::Column>) = keys
                    .iter()
                    .enumerate()
                    .map(|(i, k)| (datafusion::common::Column::new_unqualified(k), datafusion::common::Column::new_unqualified(key_column(i))))
                    .unzip();
                let joined = LogicalPlanBuilder::from(plan).join(bins, JoinType::Inner, on, None)?.build()?;
                let v = numeric_field(joined.schema(), &out.field)?;
                let binned = with_columns(joined, binned_columns(&out, v, col(START), col(STOP), col(STEP)))?;
                let mut keep = names.clone();
                keep.extend(out.columns().filter(|n| !names.contains(n)));
                select(binned, &keep)?
            }
        };
        let mut signals = Vec::new();
        if let Some(s) = out.signal {
            signals.push((s, crate::partitioned_signal(keys, bin_values)));
        }
        if let Some(s) = extent_signal {
            signals.push((s, crate::partitioned_signal(keys, extent_values)));
        }
        Ok(Step::Plan { plan: joined, signals })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bins(lo: f64, hi: f64, maxbins: f64) -> Bins {
        choose_bins(&BinOptions {
            extent: [lo, hi],
            maxbins,
            base: 10.0,
            divide: vec![5.0, 2.0],
            span: None,
            step: None,
            steps: None,
            minstep: 0.0,
            nice: true,
            anchor: None,
        })
    }

    #[test]
    fn matches_vega_examples() {
        // Values checked against vega.js (the bin signal of the same extent).
        assert_eq!(bins(1.0, 5.0, 10.0), Bins { start: 1.0, stop: 5.0, step: 0.5 });
        assert_eq!(bins(0.0, 100.0, 20.0), Bins { start: 0.0, stop: 100.0, step: 5.0 });
        assert_eq!(bins(1.0, 9.2, 10.0), Bins { start: 1.0, stop: 10.0, step: 1.0 });
    }

    #[test]
    fn the_truncated_floor_is_floor_for_bin_indexes() {
        let edges = [0.0, 1e-14, 0.5, 1.0 - 1e-16, 1.0, 2.0 - 1e-15, 49.99999999999999, 1e15, 9.0e15 - 1.0, 9.0e15, 1e300, f64::INFINITY];
        for x in edges {
            assert_eq!(floor_of_positive(x).to_bits(), x.floor().to_bits(), "{x}");
        }
        assert!(floor_of_positive(f64::NAN).is_nan());
        // Every value of a fine grid over a heatmap's bins, edges and between.
        let (start, stop, step) = (-150.0, 170.0, 10.0);
        for i in -2_000..40_000 {
            let v = -170.0 + f64::from(i) * 0.00937;
            let reference = if v < start {
                f64::NEG_INFINITY
            } else if v > stop {
                f64::INFINITY
            } else {
                start + step * (EPSILON + (start.max(v.min(stop - step)) - start) / step).floor()
            };
            assert_eq!(bin_of(v, start, stop, step).to_bits(), reference.to_bits(), "{v}");
        }
    }
}
