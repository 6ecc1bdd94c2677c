//! String functions and regular expressions. Arguments convert with `String(x)`
//! where JavaScript does (`upper`, `lower`, `trim`, `substring`...).

use super::{scalar, scalars, FunctionDef};
use crate::coerce::{to_number, to_string};
use crate::error::{invalid, unsupported, Result};
use crate::lower::Lowerer;
use crate::lowered::{Lowered, Typed};
use crate::udf;
use crate::vtype::VType;
use datafusion::arrow::datatypes::DataType;
use datafusion::functions::expr_fn as f;
use datafusion::logical_expr::{cast, lit, when, Expr};
use vegalake_planner::expr::Expr as Ast;

/// `s.length` for a string value.
pub(crate) fn string_length(t: &Typed) -> Result<Lowered> {
    scalar(Typed::number(cast(f::character_length(t.expr.clone()), DataType::Float64)))
}

fn string_arg(l: &Lowerer, a: &Ast) -> Result<Expr> {
    to_string(&l.scalar(a)?)
}

/// `this` of a `String.prototype` method called on a non-string throws in
/// JavaScript for null; vega's helpers call `String(x)` first.
fn with_string(l: &Lowerer, a: &[Ast], f: impl Fn(Expr) -> Expr) -> Result<Lowered> {
    scalar(Typed::string(f(string_arg(l, &a[0])?)))
}

fn int(e: Expr) -> Expr {
    cast(f::trunc(vec![e]), DataType::Int64)
}

/// A JavaScript integer argument (ToIntegerOrInfinity, NaN as 0).
fn js_int(t: &Typed) -> Expr {
    let n = to_number(t);
    when(f::isnan(n.clone()), lit(0.0)).otherwise(f::trunc(vec![n])).expect("valid CASE")
}

fn clamp(e: Expr, lo: Expr, hi: Expr) -> Expr {
    f::least(vec![f::greatest(vec![e, lo]), hi])
}

/// `substr` from a 0-based [start, end) range of character offsets.
fn substr_range(s: Expr, start: Expr, end: Expr) -> Expr {
    let len = f::greatest(vec![end - start.clone(), lit(0.0)]);
    f::substring(s, int(start + lit(1.0)), int(len))
}

/// Checks that a JavaScript pattern means the same in Rust's regex dialect.
fn regex_pattern(pattern: &str, flags: &str) -> Result<(String, String)> {
    let unsupported_syntax = ["(?=", "(?!", "(?<=", "(?<!"];
    if unsupported_syntax.iter().any(|s| pattern.contains(s)) || pattern.contains("\\1") || pattern.contains("\\k<") {
        return unsupported(format!("regular expression /{pattern}/ uses lookaround or backreferences"));
    }
    if regex::Regex::new(pattern).is_err() {
        return unsupported(format!("regular expression /{pattern}/ is not portable"));
    }
    let flags: String = flags.chars().filter(|c| matches!(c, 'i' | 'm' | 's')).collect();
    Ok((pattern.to_string(), flags))
}

fn regex_arg(l: &Lowerer, a: &Ast) -> Result<(String, String)> {
    match l.lower(a)? {
        Lowered::Regex { pattern, flags } => regex_pattern(&pattern, &flags),
        Lowered::Scalar(t) => match t.literal_str() {
            Some(p) => regex_pattern(p, ""),
            None => unsupported("a regular expression built from data"),
        },
        _ => invalid("expected a regular expression"),
    }
}

fn regex_literal_escape(s: &str) -> String {
    regex::escape(s)
}

/// vega's `format(value, specifier)`: `"null"` for null, else d3-format's
/// `format(specifier)(+value)` (`undefined` prints "NaN"); the specifier known
/// when planning.
fn number_format(l: &Lowerer, a: &[Ast]) -> Result<Lowered> {
    let args = scalars(l, a)?;
    let Some(spec) = args[1].literal_str() else { return unsupported("a number format built from data") };
    vegalake_planner::values::d3format::parse(spec).map_err(|e| crate::error::LowerError::Unsupported(format!("format {spec:?}: {e}")))?;
    let formatted = crate::udf::call("vl_format", vec![lit(spec.to_string()), to_number(&args[0])]);
    let value = &args[0];
    if value.undefined || crate::coerce::never_null(&value.expr, Some(l.schema)) {
        return scalar(Typed::string(formatted));
    }
    scalar(Typed::string(when(value.expr.clone().is_null(), lit("null")).otherwise(formatted)?))
}

pub(super) const FUNCTIONS: &[FunctionDef] = &[
    // `+value` reads undefined as NaN (printed "NaN").
    FunctionDef { name: "format", arity: (2, 2), reads_undefined: true, lower: number_format },
    FunctionDef {
        name: "length",
        arity: (1, 1),
        reads_undefined: false,
        lower: |l, a| match l.lower(&a[0])? {
            Lowered::List(items) => scalar(Typed::number(lit(items.len() as f64))),
            Lowered::Scalar(t) if t.ty == VType::String => string_length(&t),
            _ => unsupported("length() of a non-string value"),
        },
    },
    FunctionDef { name: "lower", arity: (1, 1), reads_undefined: false, lower: |l, a| with_string(l, a, f::lower) },
    FunctionDef { name: "upper", arity: (1, 1), reads_undefined: false, lower: |l, a| with_string(l, a, f::upper) },
    FunctionDef {
        name: "trim",
        arity: (1, 1),
        reads_undefined: false,
        lower: |l, a| with_string(l, a, |s| f::regexp_replace(s, lit(r"^\s+|\s+$"), lit(""), Some(lit("g")))),
    },
    FunctionDef {
        name: "substring",
        arity: (1, 3),
        reads_undefined: false,
        lower: |l, a| {
            let s = string_arg(l, &a[0])?;
            let len = cast(f::character_length(s.clone()), DataType::Float64);
            let args = scalars(l, &a[1..])?;
            let start = args.first().map(js_int).unwrap_or(lit(0.0));
            let end = args.get(1).map(js_int).unwrap_or(len.clone());
            let (a0, b0) = (clamp(start, lit(0.0), len.clone()), clamp(end, lit(0.0), len));
            let (lo, hi) = (f::least(vec![a0.clone(), b0.clone()]), f::greatest(vec![a0, b0]));
            scalar(Typed::string(substr_range(s, lo, hi)))
        },
    },
    FunctionDef {
        name: "slice",
        arity: (1, 3),
        reads_undefined: false,
        lower: |l, a| {
            if let Lowered::List(items) = l.lower(&a[0])? {
                let args = scalars(l, &a[1..])?;
                let n = items.len() as f64;
                let idx = |t: Option<&Typed>, default: f64| -> Result<f64> {
                    match t {
                        None => Ok(default),
                        Some(t) => t.literal_f64().ok_or_else(|| crate::error::LowerError::Unsupported("slice() of an array with computed bounds".into())),
                    }
                };
                let fix = |v: f64| if v < 0.0 { (n + v).max(0.0) } else { v.min(n) };
                let (s, e) = (fix(idx(args.first(), 0.0)?.trunc()), fix(idx(args.get(1), n)?.trunc()));
                return Ok(Lowered::List(items.into_iter().skip(s as usize).take((e - s).max(0.0) as usize).collect()));
            }
            let s = string_arg(l, &a[0])?;
            let len = cast(f::character_length(s.clone()), DataType::Float64);
            let args = scalars(l, &a[1..])?;
            let fix = |v: Expr| when(v.clone().lt(lit(0.0)), f::greatest(vec![len.clone() + v.clone(), lit(0.0)])).otherwise(f::least(vec![v, len.clone()]));
            let start = fix(args.first().map(js_int).unwrap_or(lit(0.0)))?;
            let end = match args.get(1) {
                Some(t) => fix(js_int(t))?,
                None => len.clone(),
            };
            scalar(Typed::string(substr_range(s, start, end)))
        },
    },
    FunctionDef {
        name: "indexof",
        // The third is JavaScript's fromIndex: a real parameter, not an extra one.
        arity: (2, 3),
        reads_undefined: false,
        lower: |l, a| match l.lower(&a[0])? {
            _ if a.len() > 2 => unsupported("indexof() with a start position"),
            Lowered::List(items) => {
                let needle = l.scalar(&a[1])?;
                super::array::list_index_of(&items, &needle)
            }
            Lowered::Scalar(t) if t.ty == VType::String => {
                let sub = string_arg(l, &a[1])?;
                let pos = cast(f::strpos(t.expr.clone(), sub), DataType::Float64) - lit(1.0);
                scalar(Typed::number(pos))
            }
            _ => unsupported("indexof() of a non-string value"),
        },
    },
    FunctionDef {
        name: "lastindexof",
        // The third is JavaScript's fromIndex: a real parameter, not an extra one.
        arity: (2, 3),
        reads_undefined: false,
        lower: |l, a| match l.lower(&a[0])? {
            _ if a.len() > 2 => unsupported("lastindexof() with a start position"),
            Lowered::Scalar(t) if t.ty == VType::String => {
                let sub = l.scalar(&a[1])?;
                let Some(sub) = sub.literal_str().map(str::to_string) else {
                    return unsupported("lastindexof() with a computed search string");
                };
                // The last match is the first match in the reversed strings.
                let rev = f::strpos(f::reverse(t.expr.clone()), lit(sub.chars().rev().collect::<String>()));
                let len = cast(f::character_length(t.expr.clone()), DataType::Float64);
                let n = sub.chars().count() as f64;
                let pos = cast(rev, DataType::Float64);
                scalar(Typed::number(when(pos.clone().eq(lit(0.0)), lit(-1.0)).otherwise(len - pos - lit(n - 1.0))?))
            }
            _ => unsupported("lastindexof() of a non-string value"),
        },
    },
    FunctionDef {
        name: "replace",
        arity: (3, 3),
        reads_undefined: false,
        lower: |l, a| {
            let s = string_arg(l, &a[0])?;
            let (pattern, flags) = match l.lower(&a[1])? {
                Lowered::Regex { pattern, flags } => {
                    let global = flags.contains('g');
                    let (p, mut f) = regex_pattern(&pattern, &flags)?;
                    if global {
                        f.push('g');
                    }
                    (p, f)
                }
                Lowered::Scalar(t) => match t.literal_str() {
                    Some(p) => (regex_literal_escape(p), String::new()),
                    None => return unsupported("replace() with a computed pattern"),
                },
                _ => return invalid("replace() needs a string or regular expression pattern"),
            };
            let repl = l.scalar(&a[2])?;
            let Some(r) = repl.literal_str().filter(|r| !r.contains('$') && !r.contains('\\')) else {
                return unsupported("replace() with a computed or $-pattern replacement");
            };
            let flags = (!flags.is_empty()).then(|| lit(flags));
            scalar(Typed::string(f::regexp_replace(s, lit(pattern), lit(r.to_string()), flags)))
        },
    },
    FunctionDef {
        name: "pad",
        arity: (2, 4),
        reads_undefined: false,
        lower: |l, a| {
            let s = string_arg(l, &a[0])?;
            let args = scalars(l, &a[1..])?;
            let width = to_number(&args[0]);
            let c = match args.get(1) {
                Some(t) => to_string(t)?,
                None => lit(" "),
            };
            let align = args.get(2).and_then(|t| t.literal_str().map(str::to_string)).unwrap_or_default();
            let n = width - cast(f::character_length(s.clone()), DataType::Float64);
            let rep = |k: Expr| f::repeat(c.clone(), cast(k, DataType::Int64));
            let padded = match align.as_str() {
                "left" => f::concat(vec![rep(n.clone()), s.clone()]),
                "center" => f::concat(vec![rep(f::floor(n.clone() / lit(2.0))), s.clone(), rep(f::ceil(n.clone() / lit(2.0)))]),
                _ => f::concat(vec![s.clone(), rep(n.clone())]),
            };
            scalar(Typed::string(when(n.lt_eq(lit(0.0)), s).otherwise(padded)?))
        },
    },
    FunctionDef {
        name: "truncate",
        arity: (2, 4),
        reads_undefined: false,
        lower: |l, a| {
            let t = l.scalar(&a[0])?;
            if t.ty != VType::String {
                return unsupported("truncate() of a non-string value");
            }
            let args = scalars(l, &a[1..])?;
            let Some(length) = args[0].literal_f64() else {
                return unsupported("truncate() with a computed length");
            };
            let align = args.get(1).and_then(|t| t.literal_str().map(str::to_string)).unwrap_or_default();
            let ellipsis = match args.get(2) {
                Some(t) => {
                    t.literal_str().map(str::to_string).ok_or_else(|| crate::error::LowerError::Unsupported("truncate() with a computed ellipsis".into()))?
                }
                None => "\u{2026}".to_string(),
            };
            let s = t.expr.clone();
            let len = cast(f::character_length(s.clone()), DataType::Float64);
            let keep = (length - ellipsis.chars().count() as f64).max(0.0);
            let cut = match align.as_str() {
                "left" => f::concat(vec![lit(ellipsis.clone()), f::right(s.clone(), lit(keep as i64))]),
                "center" => f::concat(vec![
                    f::left(s.clone(), lit((keep / 2.0).ceil() as i64)),
                    lit(ellipsis.clone()),
                    f::right(s.clone(), lit((keep / 2.0).floor() as i64)),
                ]),
                _ => f::concat(vec![f::left(s.clone(), lit(keep as i64)), lit(ellipsis)]),
            };
            let mut keep_null = when(s.clone().is_null(), Expr::Literal(datafusion::common::ScalarValue::Utf8(None), None));
            scalar(Typed::string(keep_null.when(len.lt_eq(lit(length)), s).otherwise(cut)?))
        },
    },
    FunctionDef {
        name: "parseFloat",
        arity: (1, 1),
        reads_undefined: false,
        lower: |l, a| scalar(Typed::number(udf::call("vl_parse_float", vec![string_arg(l, &a[0])?]))),
    },
    FunctionDef {
        name: "parseInt",
        arity: (1, 2),
        reads_undefined: false,
        lower: |l, a| {
            let s = string_arg(l, &a[0])?;
            let radix = match a.get(1) {
                Some(r) => to_number(&l.scalar(r)?),
                None => lit(f64::NAN),
            };
            scalar(Typed::number(udf::call("vl_parse_int", vec![s, radix])))
        },
    },
    FunctionDef { name: "split", arity: (2, 3), reads_undefined: false, lower: |_, _| unsupported("split() makes arrays, evaluated on the client") },
    FunctionDef {
        name: "regexp",
        arity: (1, 2),
        reads_undefined: false,
        lower: |l, a| {
            let args = scalars(l, a)?;
            let (Some(p), flags) = (args[0].literal_str(), args.get(1).map(|f| f.literal_str())) else {
                return unsupported("regexp() with a computed pattern");
            };
            let flags = match flags {
                Some(Some(f)) => f.to_string(),
                Some(None) => return unsupported("regexp() with computed flags"),
                None => String::new(),
            };
            Ok(Lowered::Regex { pattern: p.to_string(), flags })
        },
    },
    FunctionDef {
        name: "test",
        arity: (1, 2),
        reads_undefined: false,
        lower: |l, a| {
            let (pattern, flags) = regex_arg(l, &a[0])?;
            let s = match a.get(1) {
                Some(x) => string_arg(l, x)?,
                None => lit("undefined"),
            };
            let flags = (!flags.is_empty()).then(|| lit(flags));
            scalar(Typed::boolean(f::regexp_like(s, lit(pattern), flags)))
        },
    },
];
