//! [`super::JS_COMPARISON_CONJUNCTS`]: a filter's JavaScript comparisons, as plain ones.
//!
//! `datum.time >= 6 && datum.time <= 9` lowers to
//! `(coalesce(time, 0) >= 6 AND isnan(..) IS FALSE) IS TRUE AND (..) IS TRUE`: JavaScript
//! reads `null` as 0, and `&&` gives a value whose truthiness is tested. Each part
//! is needed for a value, but a filter keeps exactly the rows where its predicate
//! is true, which makes some of them redundant there:
//! - `P IS TRUE` and `P IS NOT DISTINCT FROM true` are true where `P` is;
//! - `A AND B` is true where both are: each conjunct stands alone;
//! - `coalesce(x, 0) op c` is true where `x op c` is, when `0 op c` is false (a
//!   null `x` is dropped either way), and where `x IS NULL OR x op c` is otherwise.
//!
//! The result is a list of conjuncts the optimizer pushes to the scan one by one.

use datafusion::common::tree_node::Transformed;
use datafusion::common::{DFSchema, Result, ScalarValue};
use datafusion::logical_expr::utils::conjunction;
use datafusion::logical_expr::{BinaryExpr, Case, Expr, Operator};

/// A filter's predicate split into conjuncts, with JavaScript's null-as-zero taken
/// off comparisons with constants.
pub(super) fn rewrite(predicate: Expr, _input: &DFSchema) -> Result<Transformed<Expr>> {
    Ok(rewrite_predicate(predicate))
}

/// The predicate as simplified conjuncts, or unchanged when nothing applies.
fn rewrite_predicate(predicate: Expr) -> Transformed<Expr> {
    let mut conjuncts = Vec::new();
    let changed = split(&predicate, &mut conjuncts);
    match (changed, conjunction(conjuncts)) {
        (true, Some(rewritten)) => Transformed::yes(rewritten),
        _ => Transformed::no(predicate),
    }
}

/// Pushes the conjuncts of `e` in a filter position; true if any differs from `e`'s text.
fn split(e: &Expr, out: &mut Vec<Expr>) -> bool {
    match e {
        Expr::IsTrue(inner) => {
            split(inner, out);
            true
        }
        Expr::BinaryExpr(BinaryExpr { left, op: Operator::IsNotDistinctFrom, right }) if is_true_literal(right) => {
            split(left, out);
            true
        }
        Expr::BinaryExpr(BinaryExpr { left, op: Operator::And, right }) => {
            let l = split(left, out);
            let r = split(right, out);
            l || r
        }
        other => match plain_comparison(other) {
            Some(plain) => {
                out.push(plain);
                true
            }
            None => {
                out.push(other.clone());
                false
            }
        },
    }
}

fn is_true_literal(e: &Expr) -> bool {
    matches!(e, Expr::Literal(ScalarValue::Boolean(Some(true)), _))
}

/// `coalesce(x, 0) op c` (either side) as `x op c`, or `x IS NULL OR x op c` when a
/// null `x`, read as 0, passes.
fn plain_comparison(e: &Expr) -> Option<Expr> {
    let Expr::BinaryExpr(BinaryExpr { left, op, right }) = e else { return None };
    let (value, op, c) = match (null_as_zero(left), literal(right), null_as_zero(right), literal(left)) {
        (Some(x), Some(c), _, _) => (x, *op, c),
        (_, _, Some(x), Some(c)) => (x, op.swap()?, c),
        _ => return None,
    };
    let zero_passes = match op {
        Operator::Lt => 0.0 < c,
        Operator::LtEq => 0.0 <= c,
        Operator::Gt => 0.0 > c,
        Operator::GtEq => 0.0 >= c,
        Operator::Eq => c == 0.0,
        _ => return None,
    };
    let cmp = Expr::BinaryExpr(BinaryExpr::new(Box::new(value.clone()), op, Box::new(Expr::Literal(ScalarValue::Float64(Some(c)), None))));
    Some(if zero_passes { value.clone().is_null().or(cmp) } else { cmp })
}

/// A finite `Float64` constant (NaN orders differently in Arrow and JavaScript).
fn literal(e: &Expr) -> Option<f64> {
    match e {
        Expr::Literal(ScalarValue::Float64(Some(c)), _) if c.is_finite() => Some(*c),
        _ => None,
    }
}

/// `x` of `coalesce(x, 0)`, or of the `CASE WHEN x IS NOT NULL THEN x ELSE 0 END`
/// DataFusion's simplifier turns it into.
fn null_as_zero(e: &Expr) -> Option<&Expr> {
    let zero = |e: &Expr| matches!(e, Expr::Literal(ScalarValue::Float64(Some(z)), _) if *z == 0.0);
    match e {
        Expr::ScalarFunction(f) if f.name() == "coalesce" && f.args.len() == 2 && zero(&f.args[1]) => Some(&f.args[0]),
        Expr::Case(Case { expr: None, when_then_expr, else_expr: Some(otherwise) }) if when_then_expr.len() == 1 && zero(otherwise) => {
            let (when, then) = &when_then_expr[0];
            match when.as_ref() {
                Expr::IsNotNull(x) if x == then => Some(then.as_ref()),
                _ => None,
            }
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use datafusion::functions::expr_fn::{coalesce, isnan};
    use datafusion::logical_expr::{col, lit};

    fn rewritten(e: Expr) -> String {
        rewrite_predicate(e).data.to_string()
    }

    #[test]
    fn a_range_becomes_plain_conjuncts() {
        let t = || coalesce(vec![col("t"), lit(0.0)]);
        let lower = t().gt_eq(lit(6.0)).and(isnan(t()).is_false()).is_true();
        let upper = t().lt_eq(lit(9.0)).and(isnan(t()).is_false()).is_true();
        let out = rewritten(lower.and(upper));
        // 0 >= 6 is false: nulls fail either way. 0 <= 9 is true: nulls pass.
        assert!(out.starts_with("t >= Float64(6) AND isnan("), "{out}");
        assert!(out.contains("AND (t IS NULL OR t <= Float64(9)) AND"), "{out}");
        assert!(!out.contains("IS TRUE"), "{out}");
    }

    #[test]
    fn the_simplified_forms_are_recognized() {
        let case = datafusion::logical_expr::when(col("t").is_not_null(), col("t")).otherwise(lit(0.0)).unwrap();
        let e = Expr::BinaryExpr(BinaryExpr::new(Box::new(lit(2.0).lt(case)), Operator::IsNotDistinctFrom, Box::new(lit(true))));
        assert_eq!(rewritten(e), "t > Float64(2)");
    }

    #[test]
    fn other_predicates_stay() {
        // A column compared with a column, a NaN bound, an OR: unchanged.
        let t = || coalesce(vec![col("t"), lit(0.0)]);
        assert!(rewritten(t().gt(col("u"))).contains("coalesce"));
        assert!(rewritten(t().gt(lit(f64::NAN))).contains("coalesce"));
        assert!(rewritten(t().gt(lit(1.0)).or(col("b"))).contains("coalesce"));
    }
}
