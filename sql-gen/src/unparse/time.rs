//! vega's time units in Spark SQL, DuckDB and PostgreSQL: `vl_time_floor` (the start of a
//! `timeunit` bin) and `vl_time_offset` (its end, and `timeOffset`); and
//! `vl_epoch_millis`, a date read as a number.
//!
//! Pushed down when the calendar is UTC and the step a literal (of 1, for a
//! floor): the engines compute those alike. A time zone of the machine's calendar
//! (`local`) keeps the task local: the engines' daylight-saving rules for times
//! that fall in a gap or an overlap are not JavaScript's.
//!
//! Both engines' timestamps span years 1 to 9999: a date outside them becomes
//! NaN on the engine where vega.js still gives a date.
//!
//! A date is rebuilt from its parts with `make_timestamp` (units vega does not
//! take from the date get its defaults: year 2012, January, the 1st, midnight).
//! Month offsets are counted in months since year 0 and the day is added back in
//! milliseconds, so that January 31st plus a month is March 2nd (or 3rd), as in
//! JavaScript, where both engines would stop at the end of February.

use super::{SqlDialect, SqlError};
use datafusion::sql::sqlparser::ast::{Expr, FunctionArg, FunctionArgExpr, Value};
use datafusion::sql::sqlparser::dialect::GenericDialect;
use datafusion::sql::sqlparser::parser::Parser;
use vegalake_planner::values::time::{canonical_units, TimeUnit};

/// The epoch milliseconds of 0001-01-01 and of the last millisecond of 9999.
const FIRST_MS: i64 = -62_135_596_800_000;
const LAST_MS: i64 = 253_402_300_799_999;
const DAY_MS: f64 = 86_400_000.0;

/// The SQL of a call of `name` with `args`; `None` when `name` is not one of ours.
pub fn rewrite(name: &str, args: &[FunctionArg], dialect: SqlDialect) -> Result<Option<Expr>, SqlError> {
    let sql = match (name, args) {
        ("vl_time_floor", [zone, units, step, ms]) => {
            let engine = Engine::new(zone, dialect)?;
            let units = units_arg(units)?;
            if literal_number(step) != Some(1.0) {
                return Err(refused("a time unit with a step other than 1"));
            }
            engine.floor(&units, &expr_text(ms))?
        }
        ("vl_time_offset", [zone, unit, ms, step]) => {
            let engine = Engine::new(zone, dialect)?;
            let unit = units_arg(unit)?.into_iter().next().ok_or_else(|| refused("an offset without a unit"))?;
            let step = literal_number(step).ok_or_else(|| refused("a time offset by a step computed per row"))?.floor();
            engine.offset(unit, &expr_text(ms), step)?
        }
        ("vl_epoch_millis", [timestamp]) => {
            let timestamp = expr_text(timestamp);
            match dialect {
                // Our dates are TIMESTAMP_NTZ to Spark; as a TIMESTAMP they are
                // read in the session's zone, UTC.
                SqlDialect::Spark => format!("unix_millis(CAST(({timestamp}) AS TIMESTAMP))"),
                SqlDialect::DuckDb => format!("epoch_ms({timestamp})"),
                // A zone-less timestamp's epoch is read as UTC. Our timestamps
                // hold whole milliseconds: rounding undoes the double's error in
                // the epoch's fraction (date_part's double is much cheaper than
                // EXTRACT's NUMERIC).
                SqlDialect::Postgres => format!("CAST(round(date_part('epoch', {timestamp}) * 1000) AS BIGINT)"),
            }
        }
        _ => return Ok(None),
    };
    Parser::new(&GenericDialect {})
        .try_with_sql(&sql)
        .and_then(|mut p| p.parse_expr())
        .map(Some)
        .map_err(|e| SqlError::Unparse(format!("{name} for {dialect}: {e}")))
}

fn refused(what: &str) -> SqlError {
    SqlError::NotPushable(format!("{what} has no engine form yet"))
}

/// The engine's timestamp functions, for a UTC calendar.
struct Engine {
    dialect: SqlDialect,
}

impl Engine {
    fn new(zone: &FunctionArg, dialect: SqlDialect) -> Result<Engine, SqlError> {
        if literal_string(zone).as_deref() != Some("UTC") {
            return Err(SqlError::NotPushable("a time unit in a local time zone (the engines' daylight-saving rules are not JavaScript's)".into()));
        }
        Ok(Engine { dialect })
    }

    fn double(&self) -> &'static str {
        match self.dialect {
            SqlDialect::Postgres => "DOUBLE PRECISION",
            SqlDialect::Spark | SqlDialect::DuckDb => "DOUBLE",
        }
    }

    /// A number as a BIGINT, truncated (PostgreSQL's cast rounds).
    fn bigint(&self, x: &str) -> String {
        match self.dialect {
            SqlDialect::Postgres => format!("CAST(trunc({x}) AS BIGINT)"),
            SqlDialect::Spark | SqlDialect::DuckDb => format!("CAST(({x}) AS BIGINT)"),
        }
    }

    /// `body` for dates both engines hold, NaN (JavaScript's invalid date) otherwise.
    fn valid(&self, ms: &str, body: String) -> String {
        format!("CASE WHEN ({ms}) BETWEEN {FIRST_MS} AND {LAST_MS} THEN {body} ELSE CAST('NaN' AS {}) END", self.double())
    }

    /// Epoch milliseconds as a zone-less timestamp (vegalake's Spark sessions run
    /// in UTC; PostgreSQL's `to_timestamp` gives an instant, read here in UTC).
    fn timestamp(&self, ms: &str) -> String {
        let ms = self.bigint(ms);
        match self.dialect {
            SqlDialect::Spark => format!("timestamp_millis({ms})"),
            SqlDialect::DuckDb => format!("epoch_ms({ms})"),
            SqlDialect::Postgres => format!("(to_timestamp({ms} / 1000.0) AT TIME ZONE 'UTC')"),
        }
    }

    /// A part of a timestamp: `year`, `quarter`, `month`, `day`, `hour`,
    /// `minute` or `second` (whole: PostgreSQL's has the fraction).
    fn part(&self, name: &str, t: &str) -> String {
        match self.dialect {
            // date_part's double is much cheaper than EXTRACT's NUMERIC.
            SqlDialect::Postgres => format!("CAST(floor(date_part('{name}', {t})) AS INTEGER)"),
            SqlDialect::Spark | SqlDialect::DuckDb => format!("{name}({t})"),
        }
    }

    /// The millisecond of the second, in 0..1000 also before 1970.
    fn millisecond(&self, ms: &str) -> String {
        format!("((({} % 1000) + 1000) % 1000)", self.bigint(ms))
    }

    /// Epoch milliseconds (a double) of a timestamp with whole seconds.
    fn millis(&self, t: &str) -> String {
        let millis = match self.dialect {
            SqlDialect::Spark => format!("unix_millis({t})"),
            SqlDialect::DuckDb => format!("epoch_ms({t})"),
            // Whole milliseconds (the seconds are whole): rounding undoes the
            // double's error in the epoch's fraction.
            SqlDialect::Postgres => format!("round(date_part('epoch', {t}) * 1000)"),
        };
        format!("CAST({millis} AS {})", self.double())
    }

    /// Epoch milliseconds (a double) of a date made of parts, plus `extra_ms`.
    fn make(&self, parts: [String; 6], extra_ms: String) -> String {
        let [y, m, d, h, mi, s] = parts;
        format!("({} + {extra_ms})", self.millis(&format!("make_timestamp({y}, {m}, {d}, {h}, {mi}, {s})")))
    }

    /// vega-time's `utcFloor` of `units` (step 1).
    fn floor(&self, units: &[TimeUnit], ms: &str) -> Result<String, SqlError> {
        use TimeUnit::*;
        if let Some(u) = units.iter().find(|u| matches!(u, Week | IsoWeek | Day | DayOfYear)) {
            return Err(refused(&format!("the time unit '{}'", u.name())));
        }
        let has = |u| units.contains(&u);
        let t = self.timestamp(ms);
        if let Some(unit) = trunc_unit(units) {
            return Ok(self.valid(ms, self.millis(&format!("date_trunc('{unit}', {t})"))));
        }
        let part = |u, f: &str, default: &str| if has(u) { self.part(f, &t) } else { default.to_string() };
        let month = match (has(Month), has(Quarter)) {
            (true, _) => self.part("month", &t),
            (false, true) => format!("(({} - 1) * 3 + 1)", self.part("quarter", &t)),
            (false, false) => "1".into(),
        };
        let parts =
            [part(Year, "year", "2012"), month, part(Date, "day", "1"), part(Hours, "hour", "0"), part(Minutes, "minute", "0"), part(Seconds, "second", "0")];
        let millis = if has(Milliseconds) { self.millisecond(ms) } else { "0".into() };
        Ok(self.valid(ms, self.make(parts, millis)))
    }

    /// d3-time's `utc<Unit>.offset(date, step)`.
    fn offset(&self, unit: TimeUnit, ms: &str, step: f64) -> Result<String, SqlError> {
        use TimeUnit::*;
        let plus = |unit_ms: f64| format!("(CAST({} AS {}) + {:E})", self.bigint(ms), self.double(), step * unit_ms);
        let exact = |unit_ms: f64| format!("(({ms}) + {:E})", step * unit_ms);
        let t = self.timestamp(ms);
        let months = match unit {
            Milliseconds => return Ok(exact(1.0)),
            Seconds => return Ok(exact(1_000.0)),
            Minutes => return Ok(exact(60_000.0)),
            Hours => return Ok(exact(3_600_000.0)),
            Date | Day | DayOfYear => return Ok(self.valid(ms, plus(DAY_MS))),
            Week | IsoWeek => return Ok(self.valid(ms, plus(7.0 * DAY_MS))),
            Month => format!("{step}"),
            Year => format!("{}", 12.0 * step),
            // To the step-th next month whose index is a multiple of 3.
            Quarter if step >= 0.0 => format!("(3 * ({} - 1 + {step}) - ({} - 1))", self.part("quarter", &t), self.part("month", &t)),
            Quarter => return Err(refused("a quarter offset backwards")),
        };
        let total = format!("({} * 12 + {} - 1 + {months})", self.part("year", &t), self.part("month", &t));
        let year = match self.dialect {
            // An integer division: `/` of integers truncates there.
            SqlDialect::Postgres => format!("CAST(floor(CAST({total} AS NUMERIC) / 12) AS INTEGER)"),
            SqlDialect::Spark | SqlDialect::DuckDb => format!("CAST(floor({total} / 12) AS BIGINT)"),
        };
        let parts = [year, format!("((({total} % 12) + 12) % 12 + 1)"), "1".into(), self.part("hour", &t), self.part("minute", &t), self.part("second", &t)];
        let extra = format!("({} - 1) * {DAY_MS:E} + {}", self.part("day", &t), self.millisecond(ms));
        Ok(self.valid(ms, self.make(parts, extra)))
    }
}

/// The `date_trunc` unit that floors `units` when they are the calendar from the
/// year down (year; year and quarter; year and month; ... down to seconds): then
/// no unit takes a default, and the engine's own truncation gives vega's floor.
/// Measured on 10M rows of `yearmonth` (`scripts/bench.sh warehouse`): PostgreSQL
/// 32.7 s with the date rebuilt from its parts, 22.0 s truncated (fetching the
/// table: 43 s); Spark 13.7 s rebuilt, 5.35 s truncated.
fn trunc_unit(units: &[TimeUnit]) -> Option<&'static str> {
    use TimeUnit::*;
    const CALENDAR: [(TimeUnit, &str); 6] = [(Year, "YEAR"), (Month, "MONTH"), (Date, "DAY"), (Hours, "HOUR"), (Minutes, "MINUTE"), (Seconds, "SECOND")];
    let has = |u| units.contains(&u);
    if has(Quarter) && !has(Month) {
        return (units.len() == 2 && has(Year)).then_some("QUARTER");
    }
    let finest = units.iter().filter(|u| **u != Quarter).count();
    let prefix = CALENDAR.get(..finest).filter(|p| !p.is_empty() && p.iter().all(|(u, _)| has(*u)))?;
    prefix.last().map(|(_, name)| *name)
}

fn literal(arg: &FunctionArg) -> Option<&Value> {
    match arg {
        FunctionArg::Unnamed(FunctionArgExpr::Expr(Expr::Value(v))) => Some(&v.value),
        _ => None,
    }
}

fn literal_string(arg: &FunctionArg) -> Option<String> {
    match literal(arg)? {
        Value::SingleQuotedString(s) => Some(s.clone()),
        _ => None,
    }
}

/// A number literal, also as the double literals of the AST pass write it.
fn literal_number(arg: &FunctionArg) -> Option<f64> {
    fn number(e: &Expr) -> Option<f64> {
        match e {
            Expr::Cast { expr, .. } => number(expr),
            Expr::Value(v) => match &v.value {
                Value::Number(text, _) | Value::SingleQuotedString(text) => text.parse().ok(),
                _ => None,
            },
            _ => None,
        }
    }
    match arg {
        FunctionArg::Unnamed(FunctionArgExpr::Expr(e)) => number(e),
        _ => None,
    }
}

fn units_arg(arg: &FunctionArg) -> Result<Vec<TimeUnit>, SqlError> {
    let text = literal_string(arg).ok_or_else(|| refused("time units computed per row"))?;
    canonical_units(&text.split(',').map(str::to_string).collect::<Vec<_>>()).map_err(|e| SqlError::Unparse(format!("time units '{text}': {e}")))
}

fn expr_text(arg: &FunctionArg) -> String {
    match arg {
        FunctionArg::Unnamed(FunctionArgExpr::Expr(e)) => e.to_string(),
        other => other.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::trunc_unit;
    use vegalake_planner::values::time::TimeUnit::*;

    #[test]
    fn only_the_calendar_from_the_year_down_truncates() {
        assert_eq!(trunc_unit(&[Year]), Some("YEAR"));
        assert_eq!(trunc_unit(&[Year, Quarter]), Some("QUARTER"));
        assert_eq!(trunc_unit(&[Year, Quarter, Month]), Some("MONTH"));
        assert_eq!(trunc_unit(&[Year, Month, Date, Hours, Minutes, Seconds]), Some("SECOND"));
        // A unit missing above the finest takes vega's default (year 2012, January...).
        assert_eq!(trunc_unit(&[Month]), None);
        assert_eq!(trunc_unit(&[Quarter]), None);
        assert_eq!(trunc_unit(&[Year, Date]), None);
        assert_eq!(trunc_unit(&[Hours, Minutes]), None);
        assert_eq!(trunc_unit(&[Year, Quarter, Date]), None);
        assert_eq!(trunc_unit(&[Year, Month, Date, Hours, Minutes, Seconds, Milliseconds]), None);
        assert_eq!(trunc_unit(&[]), None);
    }
}
