//! Array functions. Arrays exist only at planning time (literals, signal values,
//! `data()`), so these compute on constants or expand into per-element expressions.

use super::{scalar, FunctionDef};
use crate::coerce;
use crate::error::{unsupported, Result};
use crate::lower::Lowerer;
use crate::lowered::{Lowered, Typed};
use datafusion::logical_expr::{lit, when, Expr};
use vegalake_planner::expr::{BinaryOp, Expr as Ast};

fn list(l: &Lowerer, a: &Ast, what: &str) -> Result<Vec<Lowered>> {
    match l.lower(a)? {
        Lowered::List(items) => Ok(items),
        _ => unsupported(format!("{what}() of a value that is not a constant array")),
    }
}

fn numbers(items: &[Lowered], what: &str) -> Result<Vec<f64>> {
    items
        .iter()
        .map(|i| i.as_scalar().and_then(|t| t.literal_f64().or_else(|| t.literal().filter(|v| v.is_null()).map(|_| f64::NAN))))
        .collect::<Option<Vec<f64>>>()
        .map_or_else(|| unsupported(format!("{what}() of non-numeric or computed elements")), Ok)
}

fn num(v: f64) -> Lowered {
    Lowered::Scalar(Typed::number(lit(v)))
}

/// `array.indexOf(x)` over constant elements: strict equality, first match.
pub(crate) fn list_index_of(items: &[Lowered], needle: &Typed) -> Result<Lowered> {
    let mut cases = Vec::new();
    for (i, item) in items.iter().enumerate() {
        let Some(t) = item.as_scalar() else { continue };
        let eq = coerce::binary(BinaryOp::StrictEq, needle, t)?.expr;
        cases.push((eq, i as f64));
    }
    let mut it = cases.into_iter();
    let Some((first_test, first_idx)) = it.next() else { return scalar(Typed::number(lit(-1.0))) };
    let mut builder = when(first_test, lit(first_idx));
    for (test, idx) in it {
        builder = builder.when(test, lit(idx));
    }
    scalar(Typed::number(builder.otherwise(lit(-1.0))?))
}

/// vega-util's `inrange(value, range, left, right)`.
fn in_range(l: &Lowerer, a: &[Ast]) -> Result<Lowered> {
    let v = l.scalar(&a[0])?;
    let range = list(l, &a[1], "inrange")?;
    let (Some(Lowered::Scalar(r0)), Some(Lowered::Scalar(r1))) = (range.first(), range.last()) else {
        return unsupported("inrange() with an empty or non-scalar range");
    };
    let flag = |i: usize| -> Result<bool> {
        match a.get(i) {
            None => Ok(true),
            Some(x) => match l.scalar(x)?.literal() {
                Some(datafusion::common::ScalarValue::Boolean(Some(b))) => Ok(*b),
                _ => unsupported("inrange() with computed inclusivity"),
            },
        }
    };
    let (left, right) = (flag(2)?, flag(3)?);
    // Swap when the range is descending; both orders are written out when unknown.
    let test = |lo: &Typed, hi: &Typed| -> Result<Expr> {
        let lo_ok = coerce::binary(if left { BinaryOp::LtEq } else { BinaryOp::Lt }, lo, &v)?.expr;
        let hi_ok = coerce::binary(if right { BinaryOp::LtEq } else { BinaryOp::Lt }, &v, hi)?.expr;
        Ok(lo_ok.and(hi_ok))
    };
    let descending = coerce::binary(BinaryOp::Gt, r0, r1)?.expr;
    scalar(Typed::boolean(when(descending, test(r1, r0)?).otherwise(test(r0, r1)?)?))
}

pub(super) const FUNCTIONS: &[FunctionDef] = &[
    FunctionDef { name: "inrange", arity: (2, 4), reads_undefined: false, lower: in_range },
    FunctionDef {
        name: "extent",
        arity: (1, 1),
        reads_undefined: false,
        lower: |l, a| {
            let xs = numbers(&list(l, &a[0], "extent")?, "extent")?;
            let valid: Vec<f64> = xs.into_iter().filter(|v| !v.is_nan()).collect();
            if valid.is_empty() {
                return Ok(Lowered::List(vec![Lowered::Scalar(Typed::null()), Lowered::Scalar(Typed::null())]));
            }
            let (lo, hi) = valid.iter().fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), v| (a.min(*v), b.max(*v)));
            Ok(Lowered::List(vec![num(lo), num(hi)]))
        },
    },
    FunctionDef {
        name: "span",
        arity: (1, 1),
        reads_undefined: false,
        lower: |l, a| {
            let xs = numbers(&list(l, &a[0], "span")?, "span")?;
            let s = match (xs.first(), xs.last()) {
                (Some(f), Some(p)) if !(p - f).is_nan() && p - f != 0.0 => p - f,
                _ => 0.0,
            };
            Ok(num(s))
        },
    },
    FunctionDef {
        name: "peek",
        arity: (1, 1),
        reads_undefined: false,
        lower: |l, a| Ok(list(l, &a[0], "peek")?.pop().unwrap_or(Lowered::Scalar(Typed::null()))),
    },
    FunctionDef {
        name: "reverse",
        arity: (1, 1),
        reads_undefined: false,
        lower: |l, a| Ok(Lowered::List(list(l, &a[0], "reverse")?.into_iter().rev().collect())),
    },
    FunctionDef {
        name: "join",
        arity: (1, 2),
        reads_undefined: false,
        lower: |l, a| {
            let items = list(l, &a[0], "join")?;
            let sep = match a.get(1) {
                Some(s) => coerce::to_string(&l.scalar(s)?)?,
                None => lit(","),
            };
            let mut parts = Vec::new();
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    parts.push(sep.clone());
                }
                let t = item.as_scalar().ok_or_else(|| crate::error::LowerError::Unsupported("join() of nested arrays".into()))?;
                // Array.prototype.join prints null as the empty string.
                parts.push(if t.ty == crate::vtype::VType::Null { lit("") } else { coerce::to_string(t)? });
            }
            scalar(Typed::string(if parts.is_empty() { lit("") } else { datafusion::functions::expr_fn::concat(parts) }))
        },
    },
    FunctionDef {
        name: "sequence",
        arity: (1, 3),
        reads_undefined: false,
        lower: |l, a| {
            let args: Vec<f64> = a
                .iter()
                .map(|x| l.scalar(x).map(|t| t.literal_f64()))
                .collect::<Result<Option<Vec<_>>>>()?
                .ok_or_else(|| crate::error::LowerError::Unsupported("sequence() with computed bounds".into()))?;
            let (start, stop, step) = match args.as_slice() {
                [stop] => (0.0, *stop, 1.0),
                [start, stop] => (*start, *stop, 1.0),
                [start, stop, step] => (*start, *stop, *step),
                _ => unreachable!("arity checked"),
            };
            let range = d3_range(start, stop, step).map_err(|e| crate::error::LowerError::Unsupported(format!("sequence(): {e}")))?;
            Ok(Lowered::List(range.into_iter().map(num).collect()))
        },
    },
    FunctionDef {
        name: "lerp",
        arity: (2, 2),
        reads_undefined: false,
        lower: |l, a| {
            let xs = numbers(&list(l, &a[0], "lerp")?, "lerp")?;
            let f = coerce::to_number(&l.scalar(&a[1])?);
            let (Some(lo), Some(hi)) = (xs.first(), xs.last()) else { return unsupported("lerp() of an empty array") };
            scalar(Typed::number(lit(*lo) + f * lit(hi - lo)))
        },
    },
    FunctionDef {
        name: "clampRange",
        arity: (3, 3),
        reads_undefined: false,
        lower: |l, a| {
            let r = numbers(&list(l, &a[0], "clampRange")?, "clampRange")?;
            let bounds: Vec<f64> = a[1..]
                .iter()
                .map(|x| l.scalar(x).map(|t| t.literal_f64()))
                .collect::<Result<Option<Vec<_>>>>()?
                .ok_or_else(|| crate::error::LowerError::Unsupported("clampRange() with computed bounds".into()))?;
            let (min, max) = (bounds[0], bounds[1]);
            let (Some(&lo), Some(&hi)) = (r.first(), r.last()) else { return unsupported("clampRange() of an empty array") };
            let span = hi - lo;
            let (lo, hi) = if span > 0.0 {
                clamp_range(lo, hi, span, min, max)
            } else {
                let (a, b) = clamp_range(hi, lo, -span, min, max);
                (b, a)
            };
            Ok(Lowered::List(vec![num(lo), num(hi)]))
        },
    },
];

/// vega-util's clampRange for an ascending range.
fn clamp_range(mut lo: f64, mut hi: f64, span: f64, min: f64, max: f64) -> (f64, f64) {
    if lo < min {
        lo = min;
        hi = min + span;
    }
    if hi > max {
        hi = max;
        lo = max - span;
        if lo < min {
            lo = min;
        }
    }
    (lo, hi)
}

/// The most elements a generated range may have on the server. A spec asking
/// more (`"stop": 1e9`) would take the process's memory: the fuzzer's `sequence`
/// to 2^64 aborted on a capacity overflow. Past it the transform or function
/// stays with the client, which does what vega.js does.
pub const MAX_RANGE: usize = 10_000_000;

/// d3-array's `range`, which vega's `sequence` is: element `i` is `start + i * step`,
/// with the count `max(0, ceil((stop - start) / step)) | 0` taken as JavaScript
/// takes it (a 32-bit integer: 1e300 elements are none, NaN none, 2^31 negative,
/// where `new Array` throws). A count over [`MAX_RANGE`] or negative is the error.
pub(crate) fn d3_range(start: f64, stop: f64, step: f64) -> std::result::Result<Vec<f64>, String> {
    let n = vegalake_planner::values::number::js_to_int32(((stop - start) / step).ceil().max(0.0));
    match usize::try_from(n) {
        Ok(n) if n <= MAX_RANGE => Ok((0..n).map(|i| start + i as f64 * step).collect()),
        Ok(n) => Err(format!("a range of {n} elements, over the server's {MAX_RANGE}")),
        Err(_) => Err(format!("a range of {n} elements, which vega.js refuses (invalid array length)")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranges_count_as_javascript_counts_and_stay_bounded() {
        assert_eq!(d3_range(0.0, 1.0, 0.25), Ok(vec![0.0, 0.25, 0.5, 0.75]));
        assert_eq!(d3_range(5.0, -5.0, -1.5).map(|r| r.len()), Ok(7));
        assert_eq!(d3_range(3.0, 1e300, 1.0), Ok(vec![]), "1e300 | 0 is 0 in JavaScript");
        assert_eq!(d3_range(0.0, 18_446_744_073_709_551_615.0, 1.0), Ok(vec![]), "2^64 | 0 is 0");
        assert_eq!(d3_range(0.0, f64::NAN, 1.0), Ok(vec![]));
        assert!(d3_range(0.0, 3e9, 1.0).unwrap_err().contains("vega.js refuses"), "3e9 | 0 is negative");
        assert!(d3_range(0.0, 2e9, 1.0).unwrap_err().contains("over the server's"));
    }
}
