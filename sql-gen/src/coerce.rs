//! JavaScript's implicit conversions and operators, as DataFusion expressions.
//!
//! Types are known statically (each column has one [`VType`]), so every coercion is
//! chosen at planning time. Nulls follow JavaScript's `null`: `+null` is 0,
//! `null == 0` is false, `null + "a"` is `"nulla"`.

use crate::error::{unsupported, Result};
use crate::lowered::Typed;
use crate::udf;
use crate::vtype::VType;
use datafusion::functions::expr_fn::{coalesce, concat, isnan};
use datafusion::logical_expr::{cast, lit, when, Expr, Operator};
use std::ops::Not;
use vegalake_planner::expr::BinaryOp;

/// `+v`: a non-null `Float64` (NaN where JavaScript gives NaN).
pub fn to_number(v: &Typed) -> Expr {
    match v.ty {
        VType::Number | VType::Date => match v.literal_f64() {
            Some(_) => v.expr.clone(),
            None => coalesce(vec![v.expr.clone(), lit(0.0)]),
        },
        VType::String => udf::call("vl_to_number", vec![v.expr.clone()]),
        VType::Boolean => when(v.expr.clone().is_true(), lit(1.0)).otherwise(lit(0.0)).expect("valid CASE"),
        VType::Null => lit(0.0),
    }
}

/// `String(v)`.
pub fn to_string(v: &Typed) -> Result<Expr> {
    Ok(match v.ty {
        VType::String => coalesce(vec![v.expr.clone(), lit("null")]),
        VType::Number => null_as(v, udf::call("vl_to_string", vec![coalesce(vec![v.expr.clone(), lit(f64::NAN)])]), "null"),
        VType::Boolean => when(v.expr.clone().is_null(), lit("null")).when(v.expr.clone(), lit("true")).otherwise(lit("false"))?,
        VType::Null => lit("null"),
        VType::Date => return unsupported("converting a date to a string (Date.toString) is evaluated on the client"),
    })
}

/// `e`, but `text` where `v` is null.
fn null_as(v: &Typed, e: Expr, text: &str) -> Expr {
    if v.literal().is_some() {
        return e;
    }
    when(v.expr.clone().is_null(), lit(text)).otherwise(e).expect("valid CASE")
}

/// JavaScript truthiness as a non-null boolean.
pub fn truthy(v: &Typed) -> Expr {
    let e = v.expr.clone();
    match v.ty {
        VType::Boolean => e.is_true(),
        VType::Number | VType::Date => e.clone().is_not_null().and(e.clone().not_eq(lit(0.0))).and(isnan(e).is_false()),
        VType::String => e.clone().is_not_null().and(e.not_eq(lit(""))),
        VType::Null => lit(false),
    }
}

/// `Boolean(v)` as a typed value.
pub fn to_boolean(v: &Typed) -> Typed {
    Typed::boolean(truthy(v))
}

/// Makes two branches of a conditional agree on one type; a null branch takes the
/// other's type. Different non-null types would make a mixed column: not supported.
pub fn unify(a: Typed, b: Typed) -> Result<(Typed, Typed, VType)> {
    match (a.ty, b.ty) {
        (x, y) if x == y => Ok((a, b, x)),
        (VType::Null, t) => Ok((Typed::new(cast(a.expr, t.expr_type()), t), b, t)),
        (t, VType::Null) => Ok((a, Typed::new(cast(b.expr, t.expr_type()), t), t)),
        (x, y) => unsupported(format!("a value that is either a {} or a {} (mixed types) is evaluated on the client", x.name(), y.name())),
    }
}

/// `test ? a : b`.
pub fn conditional(test: Expr, a: Typed, b: Typed) -> Result<Typed> {
    let (a, b, ty) = unify(a, b)?;
    Ok(Typed::new(when(test, a.expr).otherwise(b.expr)?, ty))
}

fn is_stringish(t: VType) -> bool {
    t == VType::String
}

fn nan_guarded(l: Expr, r: Expr, op: Operator) -> Expr {
    let cmp = Expr::BinaryExpr(datafusion::logical_expr::BinaryExpr::new(Box::new(l.clone()), op, Box::new(r.clone())));
    // Arrow orders NaN above every number and equal to itself; JavaScript's NaN
    // compares false with everything.
    cmp.and(isnan(l).is_false()).and(isnan(r).is_false())
}

/// A relational comparison `<`, `<=`, `>`, `>=`.
fn relational(l: &Typed, r: &Typed, op: Operator) -> Result<Typed> {
    if l.ty == VType::String && r.ty == VType::String {
        let strings = datafusion::logical_expr::binary_expr(l.expr.clone(), op, r.expr.clone());
        // With a null side JavaScript compares numbers: null is 0.
        let numbers = nan_guarded(to_number(l), to_number(r), op);
        let e = when(l.expr.clone().is_null().or(r.expr.clone().is_null()), numbers).otherwise(strings)?;
        return Ok(Typed::boolean(e));
    }
    Ok(Typed::boolean(nan_guarded(to_number(l), to_number(r), op)))
}

/// Equality of two non-null values of known types, `===` style after coercion.
fn values_equal(l: &Typed, r: &Typed, loose: bool) -> Result<Expr> {
    use VType::*;
    Ok(match (l.ty, r.ty) {
        (Number, Number) => nan_guarded(l.expr.clone(), r.expr.clone(), Operator::Eq),
        (String, String) | (Boolean, Boolean) => l.expr.clone().eq(r.expr.clone()),
        (Date, Date) => return unsupported("comparing two dates with == compares object identity; evaluated on the client"),
        _ if !loose => lit(false),
        (Number | Boolean | Date, Number | Boolean | Date) | (String, Number | Boolean) | (Number | Boolean, String) => {
            if (l.ty == Date) != (r.ty == Date) && (l.ty == String || r.ty == String) {
                return unsupported("comparing a date with a string is evaluated on the client");
            }
            nan_guarded(to_number(l), to_number(r), Operator::Eq)
        }
        (a, b) => return unsupported(format!("comparing a {} with a {}", a.name(), b.name())),
    })
}

/// `==` (loose) or `===` (strict); null equals only null.
fn equality(l: &Typed, r: &Typed, loose: bool) -> Result<Typed> {
    if l.ty == VType::Null || r.ty == VType::Null {
        let other = if l.ty == VType::Null { r } else { l };
        return Ok(Typed::boolean(other.expr.clone().is_null()));
    }
    let both_null = l.expr.clone().is_null().and(r.expr.clone().is_null());
    let one_null = l.expr.clone().is_null().or(r.expr.clone().is_null());
    let eq = values_equal(l, r, loose)?;
    Ok(Typed::boolean(when(both_null, lit(true)).when(one_null, lit(false)).otherwise(eq)?))
}

fn arithmetic(l: &Typed, r: &Typed, op: Operator) -> Typed {
    Typed::number(datafusion::logical_expr::binary_expr(to_number(l), op, to_number(r)))
}

/// A binary operator applied to two lowered operands.
pub fn binary(op: BinaryOp, l: &Typed, r: &Typed) -> Result<Typed> {
    use BinaryOp::*;
    match op {
        Add => {
            if is_stringish(l.ty) || is_stringish(r.ty) {
                return Ok(Typed::string(concat(vec![to_string(l)?, to_string(r)?])));
            }
            if l.ty == VType::Date || r.ty == VType::Date {
                return unsupported("'+' on a date concatenates its string form; evaluated on the client");
            }
            Ok(arithmetic(l, r, Operator::Plus))
        }
        Sub => Ok(arithmetic(l, r, Operator::Minus)),
        Mul => Ok(arithmetic(l, r, Operator::Multiply)),
        Div => Ok(arithmetic(l, r, Operator::Divide)),
        Mod => {
            // Arrow's float remainder by zero is NaN, like JavaScript's.
            Ok(arithmetic(l, r, Operator::Modulo))
        }
        Lt => relational(l, r, Operator::Lt),
        LtEq => relational(l, r, Operator::LtEq),
        Gt => relational(l, r, Operator::Gt),
        GtEq => relational(l, r, Operator::GtEq),
        Eq => equality(l, r, true),
        StrictEq => equality(l, r, false),
        NotEq => equality(l, r, true).map(|t| Typed::boolean(t.expr.not())),
        StrictNotEq => equality(l, r, false).map(|t| Typed::boolean(t.expr.not())),
        BitAnd | BitOr | BitXor | Shl | Shr | UShr => unsupported(format!("bitwise operator '{}'", op.symbol())),
        In => unsupported("the 'in' operator"),
    }
}
