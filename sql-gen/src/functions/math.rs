//! `Math` functions. Arguments coerce with `+x` (JavaScript's ToNumber) and NaN
//! propagates as in JavaScript.

use super::{scalar, scalars, FunctionDef, ANY};
use crate::coerce::to_number;
use crate::error::Result;
use crate::lower::Lowerer;
use crate::lowered::{Lowered, Typed};
use datafusion::functions::expr_fn as f;
use datafusion::logical_expr::{lit, when, Expr};
use vegalake_planner::expr::Expr as Ast;

fn numbers(l: &Lowerer, args: &[Ast]) -> Result<Vec<Expr>> {
    Ok(scalars(l, args)?.iter().map(to_number).collect())
}

macro_rules! unary_math {
    ($name:literal, $f:path) => {
        FunctionDef {
            name: $name,
            arity: (1, 1),
            reads_undefined: true,
            lower: |l, a| {
                let x = numbers(l, a)?.remove(0);
                scalar(Typed::number($f(x)))
            },
        }
    };
}

/// NaN if any of `xs` is NaN, else `e` (DataFusion's greatest/least order NaN last).
fn nan_if_any(xs: &[Expr], e: Expr) -> Result<Expr> {
    let any_nan = xs.iter().map(|x| f::isnan(x.clone())).reduce(|a, b| a.or(b));
    Ok(match any_nan {
        Some(test) => when(test, lit(f64::NAN)).otherwise(e)?,
        None => e,
    })
}

fn extreme(l: &Lowerer, a: &[Ast], max: bool) -> Result<Lowered> {
    let xs = numbers(l, a)?;
    if xs.is_empty() {
        return scalar(Typed::number(lit(if max { f64::NEG_INFINITY } else { f64::INFINITY })));
    }
    let e = if xs.len() == 1 {
        xs[0].clone()
    } else if max {
        f::greatest(xs.clone())
    } else {
        f::least(xs.clone())
    };
    scalar(Typed::number(nan_if_any(&xs, e)?))
}

/// `Math.sqrt`: NaN below zero (DataFusion's sqrt rejects negative input).
fn js_sqrt(x: Expr) -> Expr {
    when(x.clone().lt(lit(0.0)), lit(f64::NAN)).otherwise(f::sqrt(x)).expect("valid CASE")
}

/// `Math.round`: halves round up (towards +Infinity).
fn js_round(x: Expr) -> Expr {
    f::floor(x + lit(0.5))
}

pub(super) const FUNCTIONS: &[FunctionDef] = &[
    unary_math!("abs", f::abs),
    unary_math!("acos", f::acos),
    unary_math!("asin", f::asin),
    unary_math!("atan", f::atan),
    unary_math!("ceil", f::ceil),
    unary_math!("cos", f::cos),
    unary_math!("exp", f::exp),
    unary_math!("floor", f::floor),
    unary_math!("log", f::ln),
    unary_math!("sin", f::sin),
    unary_math!("sqrt", js_sqrt),
    unary_math!("tan", f::tan),
    unary_math!("round", js_round),
    FunctionDef {
        name: "atan2",
        arity: (2, 2),
        reads_undefined: true,
        lower: |l, a| {
            let x = numbers(l, a)?;
            scalar(Typed::number(f::atan2(x[0].clone(), x[1].clone())))
        },
    },
    FunctionDef {
        name: "pow",
        arity: (2, 2),
        reads_undefined: true,
        lower: |l, a| {
            let x = numbers(l, a)?;
            scalar(Typed::number(f::power(x[0].clone(), x[1].clone())))
        },
    },
    FunctionDef {
        name: "hypot",
        arity: (0, ANY),
        reads_undefined: true,
        lower: |l, a| {
            let xs = numbers(l, a)?;
            let sum = xs.iter().map(|x| x.clone() * x.clone()).reduce(|a, b| a + b).unwrap_or(lit(0.0));
            scalar(Typed::number(f::sqrt(sum)))
        },
    },
    FunctionDef { name: "max", arity: (0, ANY), reads_undefined: true, lower: |l, a| extreme(l, a, true) },
    FunctionDef { name: "min", arity: (0, ANY), reads_undefined: true, lower: |l, a| extreme(l, a, false) },
    FunctionDef {
        name: "clamp",
        arity: (3, 3),
        reads_undefined: true,
        lower: |l, a| {
            // Math.max(lo, Math.min(hi, x))
            let x = numbers(l, a)?;
            let inner = nan_if_any(&[x[2].clone(), x[0].clone()], f::least(vec![x[2].clone(), x[0].clone()]))?;
            let outer = nan_if_any(&[x[1].clone(), inner.clone()], f::greatest(vec![x[1].clone(), inner]))?;
            scalar(Typed::number(outer))
        },
    },
];
