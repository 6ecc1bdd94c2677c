//! Type checks and conversions: `isValid`, `isNumber`, `toNumber`, `toDate`, `if`...

use super::{scalar, scalars, FunctionDef};
use crate::coerce::{self, to_number};
use crate::error::Result;
use crate::lower::Lowerer;
use crate::lowered::{Lowered, Typed};
use crate::vtype::VType;
use datafusion::common::ScalarValue;
use datafusion::functions::expr_fn::isnan;
use datafusion::logical_expr::{lit, when, Expr};
use vegalake_planner::expr::Expr as Ast;

/// Lowers the single argument of a type check; non-scalars (arrays, objects) report
/// their kind so checks like `isArray` can answer.
fn arg(l: &Lowerer, a: &[Ast]) -> Result<Lowered> {
    l.lower(&a[0])
}

fn bool_const(b: bool) -> Result<Lowered> {
    scalar(Typed::boolean(lit(b)))
}

/// `typeof x === <ty>` for a scalar: true where the value is non-null and of `ty`.
fn is_type(l: &Lowerer, a: &[Ast], ty: VType) -> Result<Lowered> {
    match arg(l, a)? {
        Lowered::Scalar(t) if t.ty == ty => scalar(Typed::boolean(t.expr.is_not_null())),
        Lowered::Json { expr, .. } => scalar(Typed::boolean(match ty {
            VType::Number => json_starts(expr, JSON_NUMBER),
            VType::String => json_starts(expr, &["\""]),
            VType::Boolean => json_starts(expr, &["t", "f"]),
            _ => lit(false),
        })),
        _ => bool_const(false),
    }
}

/// The first characters of a number in JSON text.
const JSON_NUMBER: &[&str] = &["-", "0", "1", "2", "3", "4", "5", "6", "7", "8", "9"];

/// Whether JSON text `e` holds a value that starts with one of `first` (its kind:
/// `"` a string, `[` an array, `{` an object, `t`/`f` a boolean, `n` null).
fn json_starts(e: Expr, first: &[&str]) -> Expr {
    let c = datafusion::functions::expr_fn::left(e.clone(), lit(1_i64));
    e.is_not_null().and(c.in_list(first.iter().map(|s| lit(*s)).collect(), false))
}

fn not_nan(e: Expr) -> Expr {
    isnan(e).is_false()
}

/// `x == null || x === '' ? null : then`.
fn null_or_empty(t: &Typed, then: Expr, ty: VType) -> Result<Typed> {
    let missing = match t.ty {
        VType::String => t.expr.clone().is_null().or(t.expr.clone().eq(lit(""))),
        _ => t.expr.clone().is_null(),
    };
    let null = Expr::Literal(ScalarValue::try_from(&ty.expr_type())?, None);
    Ok(Typed::new(when(missing, null).otherwise(then)?, ty))
}

pub(super) const FUNCTIONS: &[FunctionDef] = &[
    FunctionDef {
        name: "isNaN",
        arity: (1, 1),
        reads_undefined: true,
        lower: |l, a| match arg(l, a)? {
            Lowered::Scalar(t) if t.ty == VType::Number => scalar(Typed::boolean(isnan(t.expr).is_true())),
            _ => bool_const(false),
        },
    },
    FunctionDef {
        name: "isFinite",
        arity: (1, 1),
        reads_undefined: true,
        lower: |l, a| match arg(l, a)? {
            // JSON has no NaN or infinity: its numbers are finite.
            Lowered::Json { expr, .. } => scalar(Typed::boolean(json_starts(expr, JSON_NUMBER))),
            Lowered::Scalar(t) if t.ty == VType::Number => {
                let e = t.expr;
                let finite = e.clone().is_not_null().and(not_nan(e.clone())).and(datafusion::functions::expr_fn::abs(e).not_eq(lit(f64::INFINITY)));
                scalar(Typed::boolean(finite))
            }
            _ => bool_const(false),
        },
    },
    FunctionDef {
        name: "isValid",
        arity: (1, 1),
        reads_undefined: true,
        // isValid(undefined) and isValid(null) agree.
        lower: |l, a| match arg(l, a)? {
            Lowered::Nested { expr, .. } => scalar(Typed::boolean(expr.is_not_null())),
            Lowered::Json { expr, .. } => scalar(Typed::boolean(expr.clone().is_not_null().and(expr.not_eq(lit("null"))))),
            Lowered::Scalar(t) => {
                let valid = match t.ty {
                    VType::Number => t.expr.clone().is_not_null().and(not_nan(t.expr)),
                    VType::Null => lit(false),
                    _ => t.expr.is_not_null(),
                };
                scalar(Typed::boolean(valid))
            }
            _ => bool_const(true),
        },
    },
    FunctionDef {
        name: "isDefined",
        arity: (1, 1),
        reads_undefined: true,
        lower: |l, a| match arg(l, a)? {
            Lowered::Scalar(t) if t.undefined => scalar(Typed::boolean(t.expr.is_not_null())),
            Lowered::Json { expr, undefined: true, .. } => scalar(Typed::boolean(expr.is_not_null())),
            Lowered::Nested { expr, field } if vegalake_planner::values::nulls_are_undefined(field.metadata()) => scalar(Typed::boolean(expr.is_not_null())),
            _ => bool_const(true),
        },
    },
    FunctionDef { name: "isNumber", arity: (1, 1), reads_undefined: true, lower: |l, a| is_type(l, a, VType::Number) },
    FunctionDef { name: "isString", arity: (1, 1), reads_undefined: true, lower: |l, a| is_type(l, a, VType::String) },
    FunctionDef { name: "isBoolean", arity: (1, 1), reads_undefined: true, lower: |l, a| is_type(l, a, VType::Boolean) },
    FunctionDef { name: "isDate", arity: (1, 1), reads_undefined: true, lower: |l, a| is_type(l, a, VType::Date) },
    FunctionDef {
        name: "isArray",
        arity: (1, 1),
        reads_undefined: true,
        lower: |l, a| match arg(l, a)? {
            Lowered::Json { expr, .. } => scalar(Typed::boolean(json_starts(expr, &["["]))),
            other => bool_const(matches!(other, Lowered::List(_))),
        },
    },
    FunctionDef { name: "isRegExp", arity: (1, 1), reads_undefined: true, lower: |l, a| bool_const(matches!(arg(l, a)?, Lowered::Regex { .. })) },
    FunctionDef {
        name: "isObject",
        arity: (1, 1),
        reads_undefined: true,
        lower: |l, a| match arg(l, a)? {
            Lowered::Scalar(t) if t.ty == VType::Date => scalar(Typed::boolean(t.expr.is_not_null())),
            Lowered::Scalar(_) => bool_const(false),
            // vega-util's isObject: `_ === Object(_)`, true for arrays too.
            Lowered::Json { expr, .. } => scalar(Typed::boolean(json_starts(expr, &["{", "["]))),
            _ => bool_const(true),
        },
    },
    FunctionDef {
        name: "toNumber",
        arity: (1, 1),
        reads_undefined: true,
        lower: |l, a| {
            let t = scalars(l, a)?.remove(0);
            // null for undefined too (vega-util: `_ == null ? null : +_`).
            let n = match t.ty {
                VType::Number => return scalar(t.with_undefined_nulls(false)),
                _ => to_number(&t),
            };
            scalar(null_or_empty(&t, n, VType::Number)?)
        },
    },
    FunctionDef {
        name: "toString",
        arity: (1, 1),
        reads_undefined: true,
        lower: |l, a| {
            let t = scalars(l, a)?.remove(0);
            let s = coerce::to_string(&t)?;
            scalar(null_or_empty(&t, s, VType::String)?)
        },
    },
    FunctionDef {
        name: "toBoolean",
        arity: (1, 1),
        reads_undefined: true,
        lower: |l, a| {
            let t = scalars(l, a)?.remove(0);
            let b = match t.ty {
                VType::String => coerce::truthy(&t).and(t.expr.clone().not_eq(lit("false"))),
                _ => coerce::truthy(&t),
            };
            scalar(null_or_empty(&t, b, VType::Boolean)?)
        },
    },
    FunctionDef {
        name: "toDate",
        arity: (1, 1),
        reads_undefined: true,
        lower: |l, a| {
            let t = scalars(l, a)?.remove(0);
            // vega-util's toDate answers a number (Date.parse), not a Date object.
            let ms = match t.ty {
                VType::Date | VType::Number => return scalar(t.with_undefined_nulls(false)),
                VType::String => super::date::date_ms(l, &t),
                VType::Boolean => to_number(&t),
                VType::Null => return scalar(Typed::new(t.expr, VType::Number)),
            };
            scalar(null_or_empty(&t, ms, VType::Number)?)
        },
    },
    FunctionDef {
        name: "if",
        arity: (3, 3),
        reads_undefined: true,
        lower: |l, a| {
            let test = l.condition(&a[0])?;
            scalar(coerce::conditional(test, l.scalar(&a[1])?, l.scalar(&a[2])?)?)
        },
    },
];
