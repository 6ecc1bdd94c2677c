//! JavaScript's implicit conversions and operators, as DataFusion expressions.
//!
//! Types are known statically (each column has one [`VType`]), so every coercion is
//! chosen at planning time. Nulls follow JavaScript's `null`: `+null` is 0,
//! `null == 0` is false, `null + "a"` is `"nulla"`; those of a value whose nulls
//! are `undefined` ([`Typed::undefined`]) follow `undefined`: `+undefined` is NaN,
//! `undefined + "a"` is `"undefineda"`, `undefined === null` is false.

use crate::error::{unsupported, Result};
use crate::lowered::Typed;
use crate::udf;
use crate::vtype::VType;
use datafusion::common::{DFSchema, ScalarValue};
use datafusion::functions::expr_fn::{coalesce, concat, isnan};
use datafusion::logical_expr::{cast, lit, when, Expr, Operator};
use std::ops::Not;
use vegalake_planner::expr::BinaryOp;

/// `+v`: a non-null `Float64` (NaN where JavaScript gives NaN).
pub fn to_number(v: &Typed) -> Expr {
    let missing = lit(if v.undefined { f64::NAN } else { 0.0 });
    let number = match v.ty {
        VType::Number | VType::Date => match v.literal_f64() {
            Some(_) => v.expr.clone(),
            None => coalesce(vec![v.expr.clone(), missing.clone()]),
        },
        VType::String => udf::call("vl_to_number", vec![v.expr.clone()]),
        VType::Boolean => when(v.expr.clone().is_true(), lit(1.0)).otherwise(lit(0.0)).expect("valid CASE"),
        VType::Null => missing.clone(),
    };
    match v.ty {
        VType::String | VType::Boolean if v.undefined => when(v.expr.clone().is_null(), missing).otherwise(number).expect("valid CASE"),
        _ => number,
    }
}

/// `+v` of a value of several types as JSON text (NaN for `undefined`, 0 for null).
pub fn json_to_number(text: Expr, undefined: bool) -> Expr {
    let missing = lit(if undefined { f64::NAN } else { 0.0 });
    when(text.clone().is_null(), missing).otherwise(udf::call("vl_json_number", vec![text])).expect("valid CASE")
}

/// `String(v)` of a value of several types as JSON text.
pub fn json_to_string(text: Expr, undefined: bool) -> Expr {
    coalesce(vec![udf::call("vl_js_string", vec![text]), lit(null_text(undefined))])
}

/// How a null prints: `null`, or `undefined` where the nulls are that.
fn null_text(undefined: bool) -> &'static str {
    if undefined {
        "undefined"
    } else {
        "null"
    }
}

/// `String(v)`.
pub fn to_string(v: &Typed) -> Result<Expr> {
    let null = null_text(v.undefined);
    Ok(match v.ty {
        VType::String => coalesce(vec![v.expr.clone(), lit(null)]),
        VType::Number => null_as(v, udf::call("vl_to_string", vec![coalesce(vec![v.expr.clone(), lit(f64::NAN)])]), null),
        VType::Boolean => when(v.expr.clone().is_null(), lit(null)).when(v.expr.clone(), lit("true")).otherwise(lit("false"))?,
        VType::Null => lit(null),
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
        VType::Number | VType::Date => match number_literal(&e) {
            Some(v) => lit(v.is_some_and(|v| v != 0.0 && !v.is_nan())),
            None => e.clone().is_not_null().and(e.clone().not_eq(lit(0.0))).and(isnan(e).is_false()),
        },
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
    let undefined = undefined_branches(&a, &b)?;
    let (a, b, ty) = unify(a, b)?;
    Ok(Typed::new(when(test, a.expr).otherwise(b.expr)?, ty).with_undefined_nulls(undefined))
}

/// Whether the nulls of a choice between `a` and `b` are `undefined`: what both
/// say, or what one says where the other is never null. A choice that is `null`
/// in some rows and `undefined` in others is a column vega.js tells apart and
/// vegalake does not.
fn undefined_branches(a: &Typed, b: &Typed) -> Result<bool> {
    if a.undefined == b.undefined {
        return Ok(a.undefined);
    }
    let other = if a.undefined { b } else { a };
    if never_null(&other.expr, None) {
        return Ok(true);
    }
    unsupported("a value that is null in some rows and undefined in others is evaluated on the client")
}

/// True if `e` is never null: a conservative structural check (DataFusion's own
/// nullability answers "maybe" for every function call). Columns count where
/// `schema` says they are not nullable.
pub(crate) fn never_null(e: &Expr, schema: Option<&DFSchema>) -> bool {
    use datafusion::logical_expr::expr::ScalarFunction;
    use datafusion::logical_expr::ExprSchemable;
    let never = |e: &Expr| never_null(e, schema);
    match e {
        Expr::Literal(v, _) => !v.is_null(),
        Expr::Alias(a) => never(&a.expr),
        Expr::Cast(c) => never(&c.expr),
        Expr::Negative(e) => never(e),
        // JavaScript's arithmetic coerces nulls away first ([`to_number`]).
        Expr::BinaryExpr(b) if matches!(b.op, Operator::Plus | Operator::Minus | Operator::Multiply | Operator::Divide | Operator::Modulo) => {
            never(&b.left) && never(&b.right)
        }
        Expr::Column(_) => schema.is_some_and(|s| !e.nullable(s).unwrap_or(true)),
        Expr::Case(c) => c.when_then_expr.iter().all(|(_, t)| never(t)) && c.else_expr.as_deref().is_some_and(never),
        Expr::ScalarFunction(ScalarFunction { func, args }) => match func.name() {
            "coalesce" => args.iter().any(never),
            "concat" => true,
            "upper" | "lower" | "btrim" | "substr" | "regexp_replace" | "repeat" | "left" | "right" | "reverse" | "vl_to_string" => args.iter().all(never),
            _ => false,
        },
        _ => false,
    }
}

fn is_stringish(t: VType) -> bool {
    t == VType::String
}

/// The value of a number literal (`Some(None)` for a null one).
fn number_literal(e: &Expr) -> Option<Option<f64>> {
    match e {
        Expr::Literal(ScalarValue::Float64(v), _) => Some(*v),
        _ => None,
    }
}

fn nan_guarded(l: Expr, r: Expr, op: Operator) -> Expr {
    // Arrow orders NaN above every number and equal to itself; JavaScript's NaN
    // compares false with everything. A literal side is checked here, not per
    // row: a brush's bounds are literals, and the checks of its predicate were
    // most of what planning it cost (perf, W1 crossfilter updates).
    // (A null side makes `isnan(NULL) IS FALSE` false, so the whole guard.)
    if [&l, &r].iter().any(|e| number_literal(e).is_some_and(|v| v.is_none_or(f64::is_nan))) {
        return lit(false);
    }
    let guards = [&l, &r].into_iter().filter(|e| number_literal(e).is_none()).map(|e| isnan(e.clone()).is_false()).collect::<Vec<_>>();
    let cmp = Expr::BinaryExpr(datafusion::logical_expr::BinaryExpr::new(Box::new(l), op, Box::new(r)));
    guards.into_iter().fold(cmp, Expr::and)
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

/// `==` (loose) or `===` (strict); null equals only null, and `undefined` only
/// `undefined` where strict (`null == undefined`, `null !== undefined`).
fn equality(l: &Typed, r: &Typed, loose: bool) -> Result<Typed> {
    let same_nulls = loose || l.undefined == r.undefined;
    if l.ty == VType::Null || r.ty == VType::Null {
        let other = if l.ty == VType::Null { r } else { l };
        return Ok(Typed::boolean(if same_nulls { other.expr.clone().is_null() } else { lit(false) }));
    }
    let both_null = l.expr.clone().is_null().and(r.expr.clone().is_null());
    let one_null = l.expr.clone().is_null().or(r.expr.clone().is_null());
    let eq = values_equal(l, r, loose)?;
    Ok(Typed::boolean(when(both_null, lit(same_nulls)).when(one_null, lit(false)).otherwise(eq)?))
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

#[cfg(test)]
mod tests {
    use super::*;
    use datafusion::arrow::array::{Array, AsArray, Float64Array, RecordBatch};
    use datafusion::arrow::datatypes::{DataType, Field, Schema};
    use datafusion::logical_expr::col;
    use datafusion::prelude::SessionContext;
    use std::sync::Arc;

    const VALUES: [Option<f64>; 6] = [Some(1.5), Some(-0.0), Some(0.0), Some(f64::NAN), Some(f64::INFINITY), None];

    /// Every pair of `VALUES` as the columns `a` and `b`.
    fn pairs() -> RecordBatch {
        let (a, b): (Vec<_>, Vec<_>) = VALUES.iter().flat_map(|a| VALUES.iter().map(move |b| (*a, *b))).unzip();
        let schema = Schema::new(vec![Field::new("a", DataType::Float64, true), Field::new("b", DataType::Float64, true)]);
        RecordBatch::try_new(Arc::new(schema), vec![Arc::new(Float64Array::from(a)), Arc::new(Float64Array::from(b))]).unwrap()
    }

    async fn booleans(ctx: &SessionContext, e: Expr) -> Vec<Option<bool>> {
        let frame = ctx.read_batch(pairs()).unwrap().select(vec![e.alias("r")]).unwrap();
        let batches = frame.collect().await.unwrap();
        batches.iter().flat_map(|b| b.column(0).as_boolean().iter().collect::<Vec<_>>()).collect()
    }

    /// With a literal side, the NaN and null checks are decided when lowering; the
    /// rows equal those of the same comparison over two columns (checked per row).
    #[tokio::test]
    async fn comparisons_and_truthiness_of_literals_equal_the_per_row_checks() {
        let ctx = SessionContext::new();
        let rows = pairs();
        let a = rows.column(0).as_primitive::<datafusion::arrow::datatypes::Float64Type>();
        let b = rows.column(1).as_primitive::<datafusion::arrow::datatypes::Float64Type>();
        let literal =
            |v: &dyn Array, i: usize| lit(ScalarValue::Float64(v.is_valid(i).then(|| v.as_primitive::<datafusion::arrow::datatypes::Float64Type>().value(i))));
        for op in [Operator::Lt, Operator::LtEq, Operator::Gt, Operator::GtEq, Operator::Eq] {
            let per_row = booleans(&ctx, nan_guarded(col("a"), col("b"), op)).await;
            for (i, expected) in per_row.iter().enumerate() {
                let cases = [nan_guarded(literal(a, i), col("b"), op), nan_guarded(col("a"), literal(b, i), op), nan_guarded(literal(a, i), literal(b, i), op)];
                for e in cases {
                    let shown = e.to_string();
                    assert_eq!(
                        booleans(&ctx, e).await[i],
                        *expected,
                        "{op} at a={:?} b={:?}: {shown}",
                        a.is_valid(i).then(|| a.value(i)),
                        b.is_valid(i).then(|| b.value(i))
                    );
                }
            }
        }
        let per_row = booleans(&ctx, truthy(&Typed::number(col("a")))).await;
        for (i, expected) in per_row.iter().enumerate() {
            let e = truthy(&Typed::number(literal(a, i)));
            assert!(matches!(e, Expr::Literal(..)), "decided when lowering: {e}");
            assert_eq!(booleans(&ctx, e).await[i], *expected, "truthy({:?})", a.is_valid(i).then(|| a.value(i)));
        }
    }
}
