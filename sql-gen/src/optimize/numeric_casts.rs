//! [`super::UNWRAP_NUMERIC_CASTS`]: comparisons through a cast to `Float64`, uncast.
//!
//! vegalake reads every number as `Float64` (JavaScript has one number type), so a
//! table's integer or `Float32` column reaches filters as `CAST(col AS Float64)`.
//! DataFusion does not take that cast off a comparison (large integers do not all
//! fit a double), and neither Parquet statistics nor Delta's file skipping look
//! through it. This rule rewrites `CAST(col AS Float64) <op> c` to the
//! equivalent comparison of the column itself, so a brush prunes partitions, files
//! and row groups:
//! - integer columns: exact whenever |c| < 2^53 (every integer there is a double,
//!   and the cast is monotone); the bound rounds to the integers it admits;
//! - `Float32` columns: exact for every finite c inside `Float32`'s range (the cast
//!   is exact and monotone); a bound between two floats moves to the one it admits.

use datafusion::arrow::datatypes::DataType;
use datafusion::common::tree_node::{Transformed, TreeNode};
use datafusion::common::{DFSchema, Result, ScalarValue};
use datafusion::logical_expr::{BinaryExpr, Expr, ExprSchemable, Operator};

/// Comparisons of integer and `Float32` columns cast to `Float64` with constants,
/// uncast, anywhere in a filter's predicate.
pub(super) fn rewrite(predicate: Expr, input: &DFSchema) -> Result<Transformed<Expr>> {
    predicate.transform_up(|e| Ok(unwrap(e, input)))
}

fn unwrap(e: Expr, schema: &DFSchema) -> Transformed<Expr> {
    if let Expr::InList(list) = &e {
        return unwrap_in_list(list, schema).map_or(Transformed::no(e), Transformed::yes);
    }
    // A widening cast is null exactly where its input is.
    match &e {
        Expr::IsNull(inner) | Expr::IsNotNull(inner) => {
            let Some(x) = widened(inner, schema) else { return Transformed::no(e) };
            return Transformed::yes(if matches!(e, Expr::IsNull(_)) { x.clone().is_null() } else { x.clone().is_not_null() });
        }
        _ => {}
    }
    let Expr::BinaryExpr(BinaryExpr { left, op, right }) = &e else { return Transformed::no(e) };
    // Put the cast column on the left.
    let (column, op, constant) = match (left.as_ref(), right.as_ref()) {
        (Expr::Cast(_), Expr::Literal(..)) => (left.as_ref(), *op, right.as_ref()),
        (Expr::Literal(..), Expr::Cast(_)) => match op.swap() {
            Some(swapped) => (right.as_ref(), swapped, left.as_ref()),
            None => return Transformed::no(e),
        },
        _ => return Transformed::no(e),
    };
    let (Expr::Cast(cast), Expr::Literal(ScalarValue::Float64(Some(c)), _)) = (column, constant) else { return Transformed::no(e) };
    if cast.field.data_type() != &DataType::Float64 {
        return Transformed::no(e);
    }
    let Ok(source) = cast.expr.get_type(schema) else { return Transformed::no(e) };
    let bound = if source.is_integer() {
        integer_bound(op, *c)
    } else if source == DataType::Float32 {
        float32_bound(op, *c)
    } else {
        None
    };
    let Some((op, value)) = bound.and_then(|(op, b)| Some((op, b.cast_to(&source).ok()?))) else { return Transformed::no(e) };
    Transformed::yes(Expr::BinaryExpr(BinaryExpr::new(cast.expr.clone(), op, Box::new(Expr::Literal(value, None)))))
}

/// `x` of `CAST(x AS Float64)` when x is an integer or a `Float32`.
fn widened<'a>(e: &'a Expr, schema: &DFSchema) -> Option<&'a Expr> {
    let Expr::Cast(cast) = e else { return None };
    let source = cast.expr.get_type(schema).ok()?;
    (cast.field.data_type() == &DataType::Float64 && (source.is_integer() || source == DataType::Float32)).then_some(cast.expr.as_ref())
}

/// `(op', b)` with `int op' b` ⇔ `(int as f64) op c`, for an integer column.
fn integer_bound(op: Operator, c: f64) -> Option<(Operator, ScalarValue)> {
    if !c.is_finite() || c.abs() >= 9.0e15 {
        return None;
    }
    let bound = match op {
        Operator::GtEq | Operator::Lt => c.ceil(),
        Operator::LtEq | Operator::Gt => c.floor(),
        Operator::Eq | Operator::NotEq if c.fract() == 0.0 => c,
        _ => return None,
    };
    Some((op, ScalarValue::Int64(Some(bound as i64))))
}

/// `(op', b)` with `x op' b` ⇔ `(x as f64) op c`, for every `f32` x (NaN included:
/// it sorts above every number on both sides).
fn float32_bound(op: Operator, c: f64) -> Option<(Operator, ScalarValue)> {
    if !c.is_finite() || c.abs() > f32::MAX as f64 {
        return None;
    }
    let nearest = c as f32;
    if nearest as f64 == c {
        return Some((op, ScalarValue::Float32(Some(nearest))));
    }
    // c lies strictly between two floats: `x > c` and `x >= c` both mean x is at
    // least the float above c; `x < c` and `x <= c`, at most the float below.
    let above = if nearest as f64 > c { nearest } else { nearest.next_up() };
    let below = if (nearest as f64) < c { nearest } else { nearest.next_down() };
    match op {
        Operator::GtEq | Operator::Gt => Some((Operator::GtEq, ScalarValue::Float32(Some(above)))),
        Operator::LtEq | Operator::Lt => Some((Operator::LtEq, ScalarValue::Float32(Some(below)))),
        _ => None,
    }
}

/// `CAST(col AS Float64) [NOT] IN (c, ...)` as `col [NOT] IN (...)`: values the
/// column's type cannot hold can never be equal, so they leave the list.
fn unwrap_in_list(list: &datafusion::logical_expr::expr::InList, schema: &DFSchema) -> Option<Expr> {
    let Expr::Cast(cast) = list.expr.as_ref() else { return None };
    let source = cast.expr.get_type(schema).ok()?;
    let mut values = Vec::new();
    for item in &list.list {
        let Expr::Literal(ScalarValue::Float64(Some(c)), _) = item else { return None };
        let value = if source.is_integer() {
            integer_bound(Operator::Eq, *c).map(|(_, v)| v)
        } else if source == DataType::Float32 {
            float32_bound(Operator::Eq, *c).map(|(_, v)| v)
        } else {
            return None;
        };
        match value {
            Some(v) => values.push(Expr::Literal(v.cast_to(&source).ok()?, None)),
            // Out of the range where the rewrite is exact: leave the list alone.
            None if !c.is_finite() || c.abs() >= 9.0e15 => return None,
            None => {}
        }
    }
    if values.is_empty() {
        return None;
    }
    Some(Expr::InList(datafusion::logical_expr::expr::InList::new(cast.expr.clone(), values, list.negated)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use datafusion::arrow::datatypes::{DataType, Field, Schema};
    use datafusion::logical_expr::{cast, col, lit};

    fn schema() -> datafusion::common::DFSchema {
        datafusion::common::DFSchema::try_from(Schema::new(vec![Field::new("day", DataType::Int32, true), Field::new("x", DataType::Float32, true)])).unwrap()
    }

    fn rewritten(e: Expr) -> String {
        e.transform_up(|e| Ok(unwrap(e, &schema()))).unwrap().data.to_string()
    }

    #[test]
    fn bounds_round_to_the_integers_they_admit() {
        let day = || cast(col("day"), DataType::Float64);
        assert_eq!(rewritten(lit(40.0).lt_eq(day())), "day >= Int32(40)");
        assert_eq!(rewritten(day().lt_eq(lit(49.5))), "day <= Int32(49)");
        assert_eq!(rewritten(day().gt_eq(lit(39.2))), "day >= Int32(40)");
        assert_eq!(rewritten(day().lt(lit(39.2))), "day < Int32(40)");
        assert_eq!(rewritten(day().gt(lit(39.2))), "day > Int32(39)");
        assert_eq!(rewritten(day().eq(lit(42.0))), "day = Int32(42)");
        // Not rewritten: a fractional equality, NaN.
        assert!(rewritten(day().eq(lit(42.5))).contains("CAST"));
        assert!(rewritten(day().gt(lit(f64::NAN))).contains("CAST"));
        assert_eq!(rewritten(day().in_list(vec![lit(3.0), lit(4.5), lit(17.0)], false)), "day IN ([Int32(3), Int32(17)])");
    }

    #[test]
    fn float32_bounds_admit_the_same_floats() {
        let x = || cast(col("x"), DataType::Float64);
        // 6.0 is a float: the comparison keeps its operator.
        assert_eq!(rewritten(x().gt_eq(lit(6.0))), "x >= Float32(6)");
        assert_eq!(rewritten(x().lt(lit(9.0))), "x < Float32(9)");
        // 0.1 is not: bounds move to the float above (for > and >=) or below.
        let above = 0.1f32; // 0.100000001490116..., above 0.1
        assert!(above as f64 > 0.1);
        assert_eq!(rewritten(x().gt(lit(0.1))), format!("x >= Float32({above})"));
        assert_eq!(rewritten(x().lt_eq(lit(0.1))), format!("x <= Float32({})", above.next_down()));
        // No float equals 0.1; an IN list keeps only the values a float can be.
        assert!(rewritten(x().eq(lit(0.1))).contains("CAST"));
        assert_eq!(rewritten(x().in_list(vec![lit(0.1), lit(0.5)], false)), "x IN ([Float32(0.5)])");
        assert_eq!(rewritten(x().is_null().or(x().lt_eq(lit(9.0)))), "x IS NULL OR x <= Float32(9)");
        // Beyond Float32's range: unchanged.
        assert!(rewritten(x().gt(lit(1e300))).contains("CAST"));
    }

    /// Brute force over floats around the bounds: the rewritten comparison agrees
    /// with the original one for each of them.
    #[test]
    fn float32_rewrite_agrees_with_the_cast() {
        for c in [0.1f64, -0.1, 6.0, 1.0 / 3.0, 1e-40, -1e30, 16777217.0] {
            for op in [Operator::Gt, Operator::GtEq, Operator::Lt, Operator::LtEq] {
                let (op2, ScalarValue::Float32(Some(b))) = float32_bound(op, c).unwrap() else { panic!() };
                let mut x = (c as f32).next_down().next_down();
                for _ in 0..5 {
                    let original = compare(x as f64, op, c);
                    let rewritten = compare(x as f64, op2, b as f64);
                    assert_eq!(original, rewritten, "{x} {op} {c} vs {op2} {b}");
                    x = x.next_up();
                }
            }
        }
    }

    fn compare(a: f64, op: Operator, b: f64) -> bool {
        match op {
            Operator::Gt => a > b,
            Operator::GtEq => a >= b,
            Operator::Lt => a < b,
            Operator::LtEq => a <= b,
            _ => unreachable!(),
        }
    }
}
