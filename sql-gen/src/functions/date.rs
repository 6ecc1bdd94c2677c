//! Date-time functions, in local time (the evaluation's zone) and UTC.

use super::{scalar, scalars, FunctionDef, ANY};
use crate::coerce::to_number;
use crate::error::{invalid, Result};
use crate::lower::Lowerer;
use crate::lowered::{Lowered, Typed};
use crate::udf;
use crate::vtype::VType;
use datafusion::logical_expr::{lit, when, Expr};
use vegalake_planner::expr::Expr as Ast;
use vegalake_planner::values::time::{TimeUnit, Zone};

/// `new Date(x)` as epoch ms: numbers and dates as they are, strings parsed
/// (`Date.parse`), null as 0 (`new Date(null)` is the epoch).
pub(crate) fn date_ms(l: &Lowerer, t: &Typed) -> Expr {
    match t.ty {
        VType::String => {
            let parsed = udf::call("vl_date_parse", vec![zone_lit(l.env.zone()), t.expr.clone()]);
            when(t.expr.clone().is_null(), lit(0.0)).otherwise(parsed).expect("valid CASE")
        }
        _ => to_number(t),
    }
}

fn zone_lit(z: Zone) -> Expr {
    lit(z.name())
}

fn zone(l: &Lowerer, utc: bool) -> Expr {
    zone_lit(if utc { Zone::Utc } else { l.env.zone() })
}

fn part(l: &Lowerer, a: &[Ast], name: &str, utc: bool) -> Result<Lowered> {
    let t = l.scalar(&a[0])?;
    let ms = date_ms(l, &t);
    scalar(Typed::number(udf::call("vl_date_part", vec![zone(l, utc), lit(name), ms])))
}

macro_rules! date_part {
    ($fname:literal, $part:literal, $utc:literal) => {
        FunctionDef { name: $fname, arity: (1, 1), reads_undefined: false, lower: |l, a| part(l, a, $part, $utc) }
    };
}

/// `new Date(y, m, d, H, M, S, L)` or `Date.UTC(...)`; missing parts default.
fn components(l: &Lowerer, a: &[Ast], utc: bool) -> Result<Expr> {
    let args = scalars(l, a)?;
    let defaults = [0.0, 0.0, 1.0, 0.0, 0.0, 0.0, 0.0];
    let mut call_args = vec![zone(l, utc)];
    for (i, d) in defaults.iter().enumerate() {
        call_args.push(args.get(i).map(to_number).unwrap_or(lit(*d)));
    }
    Ok(udf::call("vl_datetime", call_args))
}

fn offset(l: &Lowerer, a: &[Ast], utc: bool) -> Result<Lowered> {
    let args = scalars(l, a)?;
    let Some(unit) = args[0].literal_str() else {
        return invalid("the unit must be a constant string");
    };
    if TimeUnit::parse(unit).is_none() {
        return invalid(format!("invalid time unit '{unit}'"));
    }
    let ms = date_ms(l, &args[1]);
    let step = args.get(2).map(to_number).unwrap_or(lit(1.0));
    scalar(Typed::new(udf::call("vl_time_offset", vec![zone(l, utc), lit(unit.to_string()), ms, step]), VType::Date))
}

/// d3's `timeFormat(spec)(x)`, with vega's wrapper: null prints as `"null"`, other
/// values convert with `+x` (strings are not parsed).
fn time_format(l: &Lowerer, a: &[Ast], utc: bool) -> Result<Lowered> {
    let args = scalars(l, a)?;
    let Some(spec) = args[1].literal_str() else { return crate::error::unsupported("a time format built from data") };
    vegalake_planner::values::d3time::check_specifier(spec, false).map_err(crate::error::LowerError::Unsupported)?;
    let ms = to_number(&args[0]);
    let formatted = udf::call("vl_time_format", vec![zone(l, utc), lit(spec.to_string()), ms.clone()]);
    // A JavaScript Date holds ±MAX_DATE_MS; d3 prints an invalid one field by field.
    let valid = datafusion::functions::expr_fn::isnan(ms.clone())
        .is_false()
        .and(datafusion::functions::expr_fn::abs(ms).lt_eq(lit(vegalake_planner::values::time::MAX_DATE_MS)));
    let invalid = lit(vegalake_planner::values::d3time::format_invalid(spec, utc));
    scalar(Typed::string(when(args[0].expr.clone().is_null(), lit("null")).when(valid, formatted).otherwise(invalid)?))
}

/// d3's `timeParse(spec)(String(x))`: a Date, or null when the text does not match.
/// vega answers the string `"null"` for a null input: a mixed column, so the input
/// must be known non-null (a constant, or a column without nulls).
fn time_parse(l: &Lowerer, a: &[Ast], utc: bool) -> Result<Lowered> {
    let args = scalars(l, a)?;
    let Some(spec) = args[1].literal_str() else { return crate::error::unsupported("a time pattern built from data") };
    vegalake_planner::values::d3time::check_specifier(spec, true).map_err(crate::error::LowerError::Unsupported)?;
    if !crate::coerce::never_null(&args[0].expr, Some(l.schema)) {
        return crate::error::unsupported("timeParse() of a field (vega answers the string \"null\" for null input)");
    }
    let text = crate::coerce::to_string(&args[0])?;
    scalar(Typed::new(udf::call("vl_time_parse", vec![zone(l, utc), lit(spec.to_string()), text]), VType::Date))
}

/// vega's `monthFormat` & co: names of a month (0-11) or weekday (0 = Sunday) number;
/// `''` unless the argument is an integer number.
fn name_format(l: &Lowerer, a: &[Ast], spec: &str, month: bool) -> Result<Lowered> {
    let t = l.scalar(&a[0])?;
    // monthFormat tests its argument; dayFormat tests `2 + day` (null counts as 0).
    let n = match (month, t.ty) {
        (true, VType::Number) => t.expr.clone(),
        (false, VType::Number | VType::Boolean | VType::Null) => to_number(&t),
        _ => return scalar(Typed::string(lit(""))),
    };
    let integer = n
        .clone()
        .is_not_null()
        .and(datafusion::functions::expr_fn::isnan(n.clone()).is_false())
        .and(n.clone().eq(datafusion::functions::expr_fn::trunc(vec![n.clone()])));
    let ms = if month {
        udf::call("vl_datetime", vec![lit("UTC"), lit(2000.0), n, lit(1.0), lit(0.0), lit(0.0), lit(0.0), lit(0.0)])
    } else {
        // January 2nd, 2000 was a Sunday.
        udf::call("vl_datetime", vec![lit("UTC"), lit(2000.0), lit(0.0), lit(2.0) + n, lit(0.0), lit(0.0), lit(0.0), lit(0.0)])
    };
    let name = udf::call("vl_time_format", vec![lit("UTC"), lit(spec), ms]);
    scalar(Typed::string(when(integer, name).otherwise(lit(""))?))
}

pub(super) const FUNCTIONS: &[FunctionDef] = &[
    FunctionDef { name: "timeFormat", arity: (2, 2), reads_undefined: false, lower: |l, a| time_format(l, a, false) },
    FunctionDef { name: "utcFormat", arity: (2, 2), reads_undefined: false, lower: |l, a| time_format(l, a, true) },
    FunctionDef { name: "timeParse", arity: (2, 2), reads_undefined: false, lower: |l, a| time_parse(l, a, false) },
    FunctionDef { name: "utcParse", arity: (2, 2), reads_undefined: false, lower: |l, a| time_parse(l, a, true) },
    FunctionDef { name: "monthFormat", arity: (1, 1), reads_undefined: false, lower: |l, a| name_format(l, a, "%B", true) },
    FunctionDef { name: "monthAbbrevFormat", arity: (1, 1), reads_undefined: false, lower: |l, a| name_format(l, a, "%b", true) },
    FunctionDef { name: "dayFormat", arity: (1, 1), reads_undefined: false, lower: |l, a| name_format(l, a, "%A", false) },
    FunctionDef { name: "dayAbbrevFormat", arity: (1, 1), reads_undefined: false, lower: |l, a| name_format(l, a, "%a", false) },
    date_part!("year", "year", false),
    date_part!("quarter", "quarter", false),
    date_part!("month", "month", false),
    date_part!("date", "date", false),
    date_part!("day", "day", false),
    date_part!("hours", "hours", false),
    date_part!("minutes", "minutes", false),
    date_part!("seconds", "seconds", false),
    date_part!("milliseconds", "milliseconds", false),
    date_part!("dayofyear", "dayofyear", false),
    date_part!("week", "week", false),
    date_part!("utcyear", "year", true),
    date_part!("utcquarter", "quarter", true),
    date_part!("utcmonth", "month", true),
    date_part!("utcdate", "date", true),
    date_part!("utcday", "day", true),
    date_part!("utchours", "hours", true),
    date_part!("utcminutes", "minutes", true),
    date_part!("utcseconds", "seconds", true),
    date_part!("utcmilliseconds", "milliseconds", true),
    date_part!("utcdayofyear", "dayofyear", true),
    date_part!("utcweek", "week", true),
    FunctionDef {
        name: "time",
        arity: (1, 1),
        reads_undefined: false,
        lower: |l, a| {
            let t = l.scalar(&a[0])?;
            scalar(Typed::number(date_ms(l, &t)))
        },
    },
    FunctionDef {
        name: "datetime",
        arity: (0, 7),
        reads_undefined: false,
        lower: |l, a| match a.len() {
            0 => crate::error::unsupported("datetime() without arguments is the current time"),
            1 => {
                let t = l.scalar(&a[0])?;
                scalar(Typed::new(date_ms(l, &t), VType::Date))
            }
            _ => scalar(Typed::new(components(l, a, false)?, VType::Date)),
        },
    },
    FunctionDef { name: "utc", arity: (1, ANY), reads_undefined: false, lower: |l, a| scalar(Typed::number(components(l, &a[..a.len().min(7)], true)?)) },
    FunctionDef { name: "timeOffset", arity: (2, 3), reads_undefined: false, lower: |l, a| offset(l, a, false) },
    FunctionDef { name: "utcOffset", arity: (2, 3), reads_undefined: false, lower: |l, a| offset(l, a, true) },
];
