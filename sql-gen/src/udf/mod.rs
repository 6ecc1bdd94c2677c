//! Scalar functions with JavaScript/Vega semantics that DataFusion has no built-in
//! for. Every one is named `vl_*`, registered by [`register_udfs`] on each session
//! that runs lowered plans, and built from the shared value semantics in
//! `vegalake_planner::values`: row by row, except the time units, which go a batch
//! at a time (module `memo`). `vl_bin` is defined with its transform
//! (`transforms/bin.rs`).

use datafusion::arrow::array::{Array, ArrayRef, AsArray, Float64Builder, StringBuilder};
use datafusion::arrow::datatypes::{DataType, Float64Type};
use datafusion::common::{exec_err, Result as DFResult};
use datafusion::logical_expr::{create_udf, ColumnarValue, Expr, ScalarUDF, Volatility};
use datafusion::prelude::SessionContext;
use std::collections::HashMap;
use std::sync::{Arc, OnceLock};
use vegalake_planner::values::d3time;
use vegalake_planner::values::date_parse::parse_js_date;
use vegalake_planner::values::number::{js_number_to_string, js_parse_float, js_parse_int, js_string_to_number};
use vegalake_planner::values::time::{self, Zone};

mod memo;

/// One argument of a row: numbers arrive as `f64` (null as NaN), strings as options.
#[derive(Debug, Clone, Copy)]
enum Cell<'a> {
    Num(f64),
    Str(Option<&'a str>),
}

impl<'a> Cell<'a> {
    fn num(self) -> f64 {
        match self {
            Cell::Num(v) => v,
            Cell::Str(_) => f64::NAN,
        }
    }
    fn str(self) -> Option<&'a str> {
        match self {
            Cell::Str(s) => s,
            Cell::Num(_) => None,
        }
    }
}

enum Out {
    Num(f64),
    /// A null number (d3's parsers answer null for text that does not match).
    NoNum,
    Str(Option<String>),
}

type RowFn = dyn Fn(&[Cell]) -> Out + Send + Sync;

/// A UDF evaluated row by row. Inputs are `Float64` or `Utf8`.
fn row_udf(name: &str, inputs: Vec<DataType>, ret: DataType, f: Arc<RowFn>) -> ScalarUDF {
    let ret_type = ret.clone();
    let fun = Arc::new(move |args: &[ColumnarValue]| eval_columnar(args, &ret_type, &*f));
    create_udf(name, inputs, ret, Volatility::Immutable, fun)
}

/// A UDF returning a number of one instant (argument `instant`) and other
/// arguments, which `prepare` turns into a function of the instant. With constant
/// other arguments (as lowering writes them) it runs a batch at a time through
/// [`memo`]; otherwise row by row, preparing each row.
fn instant_udf(name: &'static str, inputs: Vec<DataType>, instant: usize, prepare: fn(&[Cell]) -> memo::Prepared) -> ScalarUDF {
    let row = num_fn(move |c| (prepare(c).f)(c[instant].num()));
    let fun = Arc::new(move |args: &[ColumnarValue]| match batch(name, args, instant, prepare) {
        Some(out) => Ok(ColumnarValue::Array(out)),
        None => eval_columnar(args, &DataType::Float64, &*row),
    });
    create_udf(name, inputs, DataType::Float64, Volatility::Immutable, fun)
}

/// [`instant_udf`]'s batch path: `None` unless the instants are a column and every
/// other argument a constant.
fn batch(name: &str, args: &[ColumnarValue], instant: usize, prepare: fn(&[Cell]) -> memo::Prepared) -> Option<ArrayRef> {
    let ColumnarValue::Array(column) = args.get(instant)? else { return None };
    let instants = memo::instants(column)?;
    let mut consts = Vec::with_capacity(args.len());
    let mut key = name.to_string();
    for (i, arg) in args.iter().enumerate() {
        let cell = match Arg::new(arg).ok()? {
            _ if i == instant => Cell::Num(f64::NAN),
            Arg::Const(c) => c,
            _ => return None,
        };
        key.push_str(&format!("|{cell:?}"));
        consts.push(cell);
    }
    Some(memo::eval(key, &prepare(&consts), instants))
}

fn eval_columnar(args: &[ColumnarValue], ret: &DataType, f: &RowFn) -> DFResult<ColumnarValue> {
    let n = args.iter().find_map(|a| match a {
        ColumnarValue::Array(a) => Some(a.len()),
        ColumnarValue::Scalar(_) => None,
    });
    let out = eval_rows(args, n.unwrap_or(1), ret, f)?;
    Ok(match n {
        None => ColumnarValue::Scalar(datafusion::common::ScalarValue::try_from_array(&out, 0)?),
        Some(_) => ColumnarValue::Array(out),
    })
}

/// One argument, read without copying: constants stay scalars.
enum Arg<'a> {
    Nums(&'a datafusion::arrow::array::Float64Array),
    Strs(&'a datafusion::arrow::array::StringArray),
    Const(Cell<'a>),
}

impl<'a> Arg<'a> {
    fn new(v: &'a ColumnarValue) -> DFResult<Arg<'a>> {
        use datafusion::common::ScalarValue as S;
        Ok(match v {
            ColumnarValue::Array(a) => match a.data_type() {
                DataType::Float64 => Arg::Nums(a.as_primitive::<Float64Type>()),
                DataType::Utf8 => Arg::Strs(a.as_string::<i32>()),
                DataType::Null => Arg::Const(Cell::Str(None)),
                other => return exec_err!("unexpected argument type {other}"),
            },
            ColumnarValue::Scalar(S::Float64(x)) => Arg::Const(Cell::Num(x.unwrap_or(f64::NAN))),
            ColumnarValue::Scalar(S::Utf8(s)) => Arg::Const(Cell::Str(s.as_deref())),
            ColumnarValue::Scalar(S::Null) => Arg::Const(Cell::Str(None)),
            ColumnarValue::Scalar(other) => return exec_err!("unexpected argument {other}"),
        })
    }

    fn cell(&self, row: usize) -> Cell<'a> {
        match self {
            Arg::Nums(a) => Cell::Num(if a.is_null(row) { f64::NAN } else { a.value(row) }),
            Arg::Strs(a) => Cell::Str((!a.is_null(row)).then(|| a.value(row))),
            Arg::Const(c) => *c,
        }
    }
}

fn eval_rows(args: &[ColumnarValue], n: usize, ret: &DataType, f: &RowFn) -> DFResult<ArrayRef> {
    let args: Vec<Arg> = args.iter().map(Arg::new).collect::<DFResult<_>>()?;
    let mut cells = Vec::with_capacity(args.len());
    let mut nums = Float64Builder::with_capacity(n);
    let mut strs = StringBuilder::new();
    for row in 0..n {
        cells.clear();
        cells.extend(args.iter().map(|a| a.cell(row)));
        match f(&cells) {
            Out::Num(v) => nums.append_value(v),
            Out::NoNum => nums.append_null(),
            Out::Str(s) => strs.append_option(s),
        }
    }
    Ok(match ret {
        DataType::Float64 => Arc::new(nums.finish()),
        _ => Arc::new(strs.finish()),
    })
}

thread_local! {
    /// Parsed constant arguments (zone names, unit lists): the same few strings
    /// arrive on every row, so each is parsed once per thread.
    static ZONES: std::cell::RefCell<HashMap<String, Zone>> = Default::default();
    static UNITS: std::cell::RefCell<HashMap<String, Option<Vec<time::TimeUnit>>>> = Default::default();
}

fn zone_of(c: Cell) -> Zone {
    let Some(name) = c.str() else { return Zone::Utc };
    ZONES.with(|z| {
        if let Some(zone) = z.borrow().get(name) {
            return *zone;
        }
        let zone = Zone::parse(name).unwrap_or(Zone::Utc);
        z.borrow_mut().insert(name.to_string(), zone);
        zone
    })
}

/// Applies `f` to a comma-separated unit list, canonicalized as vega-time does.
fn with_units<T>(c: Cell, f: impl FnOnce(&[time::TimeUnit]) -> T) -> Option<T> {
    let list = c.str()?;
    UNITS.with(|u| {
        if !u.borrow().contains_key(list) {
            let parsed = time::canonical_units(&list.split(',').map(str::to_string).collect::<Vec<_>>()).ok();
            u.borrow_mut().insert(list.to_string(), parsed);
        }
        u.borrow().get(list).and_then(|units| units.as_deref().map(f))
    })
}

fn num_fn(f: impl Fn(&[Cell]) -> f64 + Send + Sync + 'static) -> Arc<RowFn> {
    Arc::new(move |c| Out::Num(f(c)))
}

fn str_fn(f: impl Fn(&[Cell]) -> Option<String> + Send + Sync + 'static) -> Arc<RowFn> {
    Arc::new(move |c| Out::Str(f(c)))
}

fn date_part(zone: Zone, part: &str, ms: f64) -> f64 {
    let Some(f) = zone.fields(ms) else { return f64::NAN };
    match part {
        "year" => f.year as f64,
        "quarter" => (f.month / 3) as f64 + 1.0,
        "month" => f.month as f64,
        "date" => f.date as f64,
        "day" => f.day as f64,
        "hours" => f.hours as f64,
        "minutes" => f.minutes as f64,
        "seconds" => f.seconds as f64,
        "milliseconds" => f.milliseconds as f64,
        "dayofyear" => zone.day_of_year(ms),
        "week" => zone.week(ms),
        _ => f64::NAN,
    }
}

fn prepare_time_floor(c: &[Cell]) -> memo::Prepared {
    let (zone, step) = (zone_of(c[0]), c[2].num());
    let Some(units) = with_units(c[1], <[time::TimeUnit]>::to_vec) else {
        return memo::Prepared { f: Box::new(|_| f64::NAN), memo: memo::Memo::None };
    };
    let hourly = units.last().is_some_and(|u| *u <= time::TimeUnit::Hours);
    let memo = if hourly { memo::Memo::Hourly(zone) } else { memo::Memo::None };
    memo::Prepared { f: Box::new(move |ms| time::floor(zone, &units, step, ms)), memo }
}

fn prepare_date_part(c: &[Cell]) -> memo::Prepared {
    let zone = zone_of(c[0]);
    let part = c[1].str().unwrap_or("").to_string();
    let hourly = matches!(part.as_str(), "year" | "quarter" | "month" | "date" | "day" | "hours" | "dayofyear" | "week");
    let memo = if hourly { memo::Memo::Hourly(zone) } else { memo::Memo::None };
    memo::Prepared { f: Box::new(move |ms| date_part(zone, &part, ms)), memo }
}

fn prepare_time_offset(c: &[Cell]) -> memo::Prepared {
    let (zone, step) = (zone_of(c[0]), c[3].num());
    match c[1].str().and_then(time::TimeUnit::parse) {
        Some(unit) => memo::Prepared { f: Box::new(move |ms| time::offset(zone, unit, ms, step)), memo: memo::Memo::Exact },
        None => memo::Prepared { f: Box::new(|_| f64::NAN), memo: memo::Memo::None },
    }
}

/// A point through the projection its parameters (`type` and vega's properties, as
/// JSON text) define; the last projection built is kept per thread, since a
/// column's rows all name the same one.
fn geo_point(params: &str, lon: f64, lat: f64) -> Option<[f64; 2]> {
    use vegalake_planner::values::geo::Projection;
    thread_local! {
        static LAST: std::cell::RefCell<Option<(String, Option<Projection>)>> = const { std::cell::RefCell::new(None) };
    }
    LAST.with(|last| {
        let mut last = last.borrow_mut();
        if last.as_ref().is_none_or(|(text, _)| text != params) {
            let map: serde_json::Map<String, serde_json::Value> = serde_json::from_str(params).unwrap_or_default();
            let kind = map.get("type").and_then(serde_json::Value::as_str).unwrap_or("mercator").to_string();
            *last = Some((params.to_string(), Projection::new(&kind, &map).ok()));
        }
        last.as_ref().and_then(|(_, p)| p.as_ref()).and_then(|p| p.project(lon, lat))
    })
}

fn build_all() -> Vec<ScalarUDF> {
    use DataType::{Float64 as F, Utf8 as S};
    vec![
        row_udf("vl_to_number", vec![S], F, num_fn(|c| c[0].str().map_or(0.0, js_string_to_number))),
        row_udf("vl_to_string", vec![F], S, str_fn(|c| Some(js_number_to_string(c[0].num())))),
        // vl_js_string(json text): JavaScript's String() of the value (vega's group keys)
        row_udf(
            "vl_js_string",
            vec![S],
            S,
            str_fn(|c| c[0].str().and_then(|t| serde_json::from_str(t).ok()).map(|v| vegalake_planner::values::number::js_string_of_json(&v))),
        ),
        // vl_json_number(json text): JavaScript's +value
        row_udf(
            "vl_json_number",
            vec![S],
            F,
            num_fn(|c| c[0].str().and_then(|t| serde_json::from_str(t).ok()).map_or(f64::NAN, |v| vegalake_planner::values::number::js_number_of_json(&v))),
        ),
        // vl_format(d3 specifier, x): d3-format's format(specifier)(x)
        row_udf(
            "vl_format",
            vec![S, F],
            S,
            str_fn(|c| {
                c[0].str().and_then(|s| vegalake_planner::values::d3format::parse(s).ok()).map(|s| vegalake_planner::values::d3format::format(&s, c[1].num()))
            }),
        ),
        // vl_geo_point(projection parameters as JSON, axis, lon, lat): x (axis 0) or
        // y of d3-geo's projection; null where Albers USA has no part for the point
        row_udf(
            "vl_geo_point",
            vec![S, F, F, F],
            F,
            Arc::new(|c: &[Cell]| match geo_point(c[0].str().unwrap_or(""), c[2].num(), c[3].num()) {
                Some(xy) => Out::Num(if c[1].num() == 0.0 { xy[0] } else { xy[1] }),
                None => Out::NoNum,
            }),
        ),
        row_udf("vl_parse_float", vec![S], F, num_fn(|c| c[0].str().map_or(f64::NAN, js_parse_float))),
        row_udf(
            "vl_parse_int",
            vec![S, F],
            F,
            num_fn(|c| {
                let radix = c[1].num();
                let radix = radix.is_finite().then_some(radix as u32);
                c[0].str().map_or(f64::NAN, |s| js_parse_int(s, radix))
            }),
        ),
        // vl_date_parse(zone, text): Date.parse
        row_udf("vl_date_parse", vec![S, S], F, num_fn(|c| c[1].str().map_or(f64::NAN, |s| parse_js_date(s, zone_of(c[0]))))),
        // vl_time_format(zone, d3 specifier, ms)
        row_udf("vl_time_format", vec![S, S, F], S, str_fn(|c| d3time::format(c[2].num(), c[1].str().unwrap_or(""), zone_of(c[0])))),
        // vl_time_parse(zone, d3 specifier, text): null where d3 answers null
        row_udf(
            "vl_time_parse",
            vec![S, S, S],
            F,
            Arc::new(|c: &[Cell]| match c[2].str().and_then(|t| d3time::parse(t, c[1].str().unwrap_or(""), zone_of(c[0]))) {
                Some(v) => Out::Num(v),
                None => Out::NoNum,
            }),
        ),
        // vl_date_part(zone, part, ms)
        instant_udf("vl_date_part", vec![S, S, F], 2, prepare_date_part),
        // vl_datetime(zone, y, m, d, H, M, S, L)
        row_udf(
            "vl_datetime",
            vec![S, F, F, F, F, F, F, F],
            F,
            num_fn(|c| zone_of(c[0]).make(c[1].num(), c[2].num(), c[3].num(), c[4].num(), c[5].num(), c[6].num(), c[7].num())),
        ),
        // vl_time_floor(zone, "year,month", step, ms)
        instant_udf("vl_time_floor", vec![S, S, F, F], 3, prepare_time_floor),
        // vl_time_offset(zone, unit, ms, step)
        instant_udf("vl_time_offset", vec![S, S, F, F], 2, prepare_time_offset),
        // vl_bin(value, start, stop, step)
        crate::transforms::bin::udf(),
    ]
}

fn registry() -> &'static HashMap<String, Arc<ScalarUDF>> {
    static UDFS: OnceLock<HashMap<String, Arc<ScalarUDF>>> = OnceLock::new();
    UDFS.get_or_init(|| build_all().into_iter().map(|u| (u.name().to_string(), Arc::new(u))).collect())
}

/// A call of the vegalake UDF `name`.
///
/// # Panics
/// If `name` is not one of this module's functions (a programming error).
pub fn call(name: &str, args: Vec<Expr>) -> Expr {
    registry().get(name).unwrap_or_else(|| panic!("no vegalake UDF named {name}")).call(args)
}

/// Registers every vegalake UDF and UDAF on a session.
pub fn register_udfs(ctx: &SessionContext) {
    for udf in registry().values() {
        ctx.register_udf(udf.as_ref().clone());
    }
    for udaf in crate::udaf::all() {
        ctx.register_udaf(udaf.as_ref().clone());
    }
}
