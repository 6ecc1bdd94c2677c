//! JavaScript `Date` arithmetic in a time zone, and vega-time's units.
//!
//! Dates are epoch milliseconds as `f64`, as in JavaScript; `NaN` is an invalid date.
//! [`Zone::Utc`] gives the `utc*` functions, [`Zone::Local`] the local-time ones in
//! the zone the evaluation runs in (vega.js uses the browser's zone).

use chrono::{Datelike, NaiveDate, NaiveDateTime, Offset, TimeZone, Timelike};
use chrono_tz::Tz;
use std::str::FromStr;

const MS_PER_DAY: f64 = 86_400_000.0;
/// The most milliseconds from the epoch a JavaScript Date holds (either way).
pub const MAX_DATE_MS: f64 = 8.64e15;

/// The zone that local-time functions use.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Zone {
    Utc,
    Local(Tz),
}

impl Zone {
    /// A zone from an IANA name; `UTC` gives [`Zone::Utc`].
    pub fn parse(name: &str) -> Result<Zone, String> {
        if name.eq_ignore_ascii_case("utc") {
            return Ok(Zone::Utc);
        }
        Tz::from_str(name).map(Zone::Local).map_err(|_| format!("unknown time zone '{name}'"))
    }

    /// The name, as accepted by [`Zone::parse`].
    pub fn name(&self) -> String {
        match self {
            Zone::Utc => "UTC".into(),
            Zone::Local(tz) => tz.name().into(),
        }
    }
}

/// The calendar fields of an instant in a zone (JavaScript's getters).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Fields {
    pub year: i32,
    /// 0-11.
    pub month: u32,
    /// 1-31.
    pub date: u32,
    /// Day of the week, 0 = Sunday.
    pub day: u32,
    pub hours: u32,
    pub minutes: u32,
    pub seconds: u32,
    pub milliseconds: u32,
    /// 0-based day of the year.
    pub ordinal0: u32,
}

fn naive_from_ms(ms: f64) -> Option<NaiveDateTime> {
    if !ms.is_finite() || ms.abs() > MAX_DATE_MS {
        return None;
    }
    chrono::DateTime::from_timestamp_millis(ms as i64).map(|d| d.naive_utc())
}

impl Zone {
    /// The local wall-clock time of an instant, as a naive date-time.
    fn wall_clock(&self, ms: f64) -> Option<NaiveDateTime> {
        let utc = naive_from_ms(ms)?;
        Some(match self {
            Zone::Utc => utc,
            Zone::Local(tz) => tz.from_utc_datetime(&utc).naive_local(),
        })
    }

    /// Offset of the zone from UTC at an instant, in ms.
    fn offset_at(&self, instant_ms: f64) -> f64 {
        match (self, naive_from_ms(instant_ms)) {
            (Zone::Local(tz), Some(utc)) => tz.offset_from_utc_datetime(&utc).fix().local_minus_utc() as f64 * 1000.0,
            _ => 0.0,
        }
    }

    /// Whether the zone's offset from UTC is the same at two instants.
    pub fn same_offset(&self, a_ms: f64, b_ms: f64) -> bool {
        *self == Zone::Utc || self.offset_at(a_ms) == self.offset_at(b_ms)
    }

    /// The calendar fields of `ms`, or `None` for an invalid date.
    pub fn fields(&self, ms: f64) -> Option<Fields> {
        if *self == Zone::Utc {
            return utc_fields(ms);
        }
        let t = self.wall_clock(ms)?;
        Some(Fields {
            year: t.year(),
            month: t.month0(),
            date: t.day(),
            day: t.weekday().num_days_from_sunday(),
            hours: t.hour(),
            minutes: t.minute(),
            seconds: t.second(),
            milliseconds: t.and_utc().timestamp_subsec_millis(),
            ordinal0: t.ordinal0(),
        })
    }

    /// JavaScript's `new Date(y, m, d, H, M, S, L)` (local) or `Date.UTC(...)`: fields
    /// may overflow (month 12 is January of the next year), fractions truncate.
    /// Years 0-99 mean 1900-1999, as in JavaScript.
    #[allow(clippy::too_many_arguments)] // JavaScript's seven Date fields, in its order
    pub fn make(&self, y: f64, m: f64, d: f64, h: f64, mi: f64, s: f64, ms: f64) -> f64 {
        let y = if (0.0..100.0).contains(&y.trunc()) { 1900.0 + y.trunc() } else { y };
        self.make_literal(y, m, d, h, mi, s, ms)
    }

    /// [`Zone::make`] without the 0-99 year mapping.
    #[allow(clippy::too_many_arguments)] // JavaScript's seven Date fields, in its order
    pub fn make_literal(&self, y: f64, m: f64, d: f64, h: f64, mi: f64, s: f64, ms: f64) -> f64 {
        let parts = [y, m, d, h, mi, s, ms];
        if parts.iter().any(|v| !v.is_finite()) {
            return f64::NAN;
        }
        let [y, m, d, h, mi, s, ms] = parts.map(f64::trunc);
        let year = y + (m / 12.0).floor();
        let month = m.rem_euclid(12.0);
        if year.abs() >= 400_000.0 {
            return f64::NAN;
        }
        let days = days_from_civil(year as i64, month as u32 + 1, 1) as f64 + d - 1.0;
        let local = days * MS_PER_DAY + h * 3_600_000.0 + mi * 60_000.0 + s * 1000.0 + ms;
        let t = self.local_to_utc(local);
        if t.abs() > MAX_DATE_MS {
            f64::NAN
        } else {
            t
        }
    }

    /// Converts wall-clock ms (as if UTC) to an instant. In a gap (spring forward) the
    /// offset before the transition applies; in an overlap, the earlier instant wins,
    /// both as in JavaScript engines.
    fn local_to_utc(&self, local: f64) -> f64 {
        let Zone::Local(tz) = self else { return local };
        let Some(naive) = naive_from_ms(local) else { return f64::NAN };
        match tz.from_local_datetime(&naive) {
            chrono::LocalResult::Single(dt) => dt.timestamp_millis() as f64 + (local - local.floor()),
            chrono::LocalResult::Ambiguous(a, b) => a.timestamp_millis().min(b.timestamp_millis()) as f64,
            chrono::LocalResult::None => local - self.offset_at(local - MS_PER_DAY),
        }
    }

    /// Vega's `dayofyear`: 1-based.
    pub fn day_of_year(&self, ms: f64) -> f64 {
        self.fields(ms).map_or(f64::NAN, |f| f.ordinal0 as f64 + 1.0)
    }

    /// Vega's `week`: Sunday-based week of the year, days before the first Sunday are week 0.
    pub fn week(&self, ms: f64) -> f64 {
        self.fields(ms).map_or(f64::NAN, |f| ((f.ordinal0 + 7 - f.day) / 7) as f64)
    }

    /// ISO-8601 week number (Monday-based) and its week-numbering year.
    pub fn iso_week(&self, ms: f64) -> Option<(u32, i32)> {
        let t = self.wall_clock(ms)?;
        let w = t.iso_week();
        Some((w.week(), w.year()))
    }

    /// Weekday (0 = Sunday) of January 1st of `year`.
    fn first_day(year: i32) -> u32 {
        NaiveDate::from_ymd_opt(year, 1, 1).map_or(0, |d| d.weekday().num_days_from_sunday())
    }

    /// The day of January on which ISO week 1 of `year` begins (<= 0: in December).
    fn iso_week_one_date(year: i32) -> i64 {
        let jan4 = NaiveDate::from_ymd_opt(year, 1, 4).unwrap_or_default();
        let monday = jan4 - chrono::Duration::days(jan4.weekday().num_days_from_monday() as i64);
        if monday.month() == 1 {
            monday.day() as i64
        } else {
            monday.day() as i64 - 31
        }
    }
}

/// Days since 1970-01-01 of a proleptic Gregorian date (month 1-12); Howard
/// Hinnant's algorithm, exact for every representable date.
fn days_from_civil(y: i64, m: u32, d: u32) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m as i64 + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d as i64 - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// The date (year, month 1-12, day) of a day count since 1970-01-01.
fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (if m <= 2 { yoe + era * 400 + 1 } else { yoe + era * 400 }, m, d)
}

/// UTC calendar fields by arithmetic (the hot path of UTC time units).
fn utc_fields(ms: f64) -> Option<Fields> {
    if !ms.is_finite() || ms.abs() > MAX_DATE_MS {
        return None;
    }
    let ms = ms as i64;
    let days = ms.div_euclid(86_400_000);
    let in_day = ms.rem_euclid(86_400_000);
    let (y, m, d) = civil_from_days(days);
    Some(Fields {
        year: y as i32,
        month: m - 1,
        date: d,
        day: (days + 4).rem_euclid(7) as u32,
        hours: (in_day / 3_600_000) as u32,
        minutes: (in_day / 60_000 % 60) as u32,
        seconds: (in_day / 1000 % 60) as u32,
        milliseconds: (in_day % 1000) as u32,
        ordinal0: (days - days_from_civil(y, 1, 1)) as u32,
    })
}

/// vega-time's units, in vega's canonical order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum TimeUnit {
    Year,
    Quarter,
    Month,
    Week,
    IsoWeek,
    Date,
    Day,
    DayOfYear,
    Hours,
    Minutes,
    Seconds,
    Milliseconds,
}

impl TimeUnit {
    pub fn parse(name: &str) -> Option<TimeUnit> {
        use TimeUnit::*;
        Some(match name {
            "year" => Year,
            "quarter" => Quarter,
            "month" => Month,
            "week" => Week,
            "isoweek" => IsoWeek,
            "date" => Date,
            "day" => Day,
            "dayofyear" => DayOfYear,
            "hours" => Hours,
            "minutes" => Minutes,
            "seconds" => Seconds,
            "milliseconds" => Milliseconds,
            _ => return None,
        })
    }

    pub fn name(self) -> &'static str {
        use TimeUnit::*;
        match self {
            Year => "year",
            Quarter => "quarter",
            Month => "month",
            Week => "week",
            IsoWeek => "isoweek",
            Date => "date",
            Day => "day",
            DayOfYear => "dayofyear",
            Hours => "hours",
            Minutes => "minutes",
            Seconds => "seconds",
            Milliseconds => "milliseconds",
        }
    }
}

/// Validates and sorts a unit list as vega-time's `timeUnits` does.
pub fn canonical_units(names: &[String]) -> Result<Vec<TimeUnit>, String> {
    if names.is_empty() {
        return Err("Missing time unit.".into());
    }
    let mut units = Vec::new();
    for n in names {
        let u = TimeUnit::parse(n).ok_or_else(|| format!("Invalid time unit: {n}."))?;
        if !units.contains(&u) {
            units.push(u);
        }
    }
    let has = |u| units.contains(&u);
    use TimeUnit::*;
    let kinds = [has(Week) || has(IsoWeek) || has(Day), has(Quarter) || has(Month) || has(Date), has(DayOfYear)];
    if kinds.iter().filter(|k| **k).count() > 1 || (has(Week) && has(IsoWeek)) {
        return Err(format!("Incompatible time units: {}", names.join(",")));
    }
    units.sort();
    Ok(units)
}

/// vega-time's `timeFloor`/`utcFloor`: truncates `ms` to the given units (sorted, as
/// from [`canonical_units`]); `step` applies to the last unit.
pub fn floor(zone: Zone, units: &[TimeUnit], step: f64, ms: f64) -> f64 {
    use TimeUnit::*;
    let Some(f) = zone.fields(ms) else { return f64::NAN };
    let has = |u| units.contains(&u);
    let last = units.last().copied();
    // Steps apply to the last unit only; day-like units count from 1 (phase 1).
    let stepped = |unit: TimeUnit, v: f64, phase: f64| -> f64 {
        if Some(unit) != last || step <= 1.0 {
            v
        } else if phase != 0.0 {
            phase + step * ((v - phase) / step).floor()
        } else {
            step * (v / step).floor()
        }
    };
    let iso = has(IsoWeek);
    let year = if has(Year) {
        let y = if iso { zone.iso_week(ms).map_or(f.year, |w| w.1) } else { f.year };
        stepped(Year, y as f64, 0.0)
    } else if iso {
        2015.0
    } else {
        2012.0
    };
    let yi = year as i32;
    let first = Zone::first_day(yi) as f64;
    let weekday = |week: f64, day: f64| day + week * 7.0 - (first + 6.0) % 7.0;
    let iso_day = ((f.day + 6) % 7) as f64;
    let iso_weekday = |week: f64, day: f64| Zone::iso_week_one_date(yi) as f64 + (week - 1.0) * 7.0 + day;
    // Week numbers cost a calendar computation: only when asked for.
    let week_num = if has(Week) { zone.week(ms) } else { f64::NAN };
    let iso_num = if iso { zone.iso_week(ms).map_or(f64::NAN, |w| w.0 as f64) } else { f64::NAN };

    let month = if has(Month) {
        stepped(Month, f.month as f64, 0.0)
    } else if has(Quarter) {
        3.0 * stepped(Quarter, (f.month / 3) as f64, 0.0)
    } else {
        0.0
    };
    let date = if has(Week) && has(Day) {
        stepped(Day, weekday(week_num, f.day as f64), 1.0)
    } else if iso && has(Day) {
        stepped(Day, iso_weekday(iso_num, iso_day), 1.0)
    } else if has(Week) {
        weekday(stepped(Week, week_num, 1.0), 0.0)
    } else if iso {
        iso_weekday(stepped(IsoWeek, iso_num, 1.0), 0.0)
    } else if has(Day) {
        stepped(Day, weekday(1.0, f.day as f64), 1.0)
    } else if has(Date) {
        stepped(Date, f.date as f64, 1.0)
    } else if has(DayOfYear) {
        stepped(DayOfYear, f.ordinal0 as f64 + 1.0, 1.0)
    } else {
        1.0
    };
    let pick = |u, v: u32| if has(u) { stepped(u, v as f64, 0.0) } else { 0.0 };
    let (h, mi, s, l) = (pick(Hours, f.hours), pick(Minutes, f.minutes), pick(Seconds, f.seconds), pick(Milliseconds, f.milliseconds));
    // vega-time's `localDate`/`utcDate`: years 0-99 are taken literally, not as 19xx.
    zone.make_literal(year, month, date, h, mi, s, l)
}

/// d3-time's `interval.offset` for vega's units: `timeOffset`/`utcOffset`.
pub fn offset(zone: Zone, unit: TimeUnit, ms: f64, step: f64) -> f64 {
    use TimeUnit::*;
    let step = step.floor();
    let Some(f) = zone.fields(ms) else { return f64::NAN };
    let fixed = |dy: f64, dm: f64, dd: f64| {
        zone.make_literal(
            f.year as f64 + dy,
            f.month as f64 + dm,
            f.date as f64 + dd,
            f.hours as f64,
            f.minutes as f64,
            f.seconds as f64,
            f.milliseconds as f64,
        )
    };
    match unit {
        Year => fixed(step, 0.0, 0.0),
        Quarter => {
            // A filtered interval (month.every(3)): each step moves to the next month
            // whose index is a multiple of 3.
            let mut m = f.month as f64;
            let n = step.abs() as i64;
            let dir = step.signum();
            for _ in 0..n {
                m += dir;
                while m.rem_euclid(3.0) != 0.0 {
                    m += dir;
                }
            }
            fixed(0.0, m - f.month as f64, 0.0)
        }
        Month => fixed(0.0, step, 0.0),
        Week | IsoWeek => fixed(0.0, 0.0, 7.0 * step),
        Date | Day | DayOfYear => fixed(0.0, 0.0, step),
        Hours => ms + step * 3_600_000.0,
        Minutes => ms + step * 60_000.0,
        Seconds => ms + step * 1000.0,
        Milliseconds => ms + step,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ny() -> Zone {
        Zone::parse("America/New_York").unwrap()
    }

    #[test]
    fn make_overflows_like_javascript() {
        let z = Zone::Utc;
        assert_eq!(z.make(2020.0, 0.0, 1.0, 0.0, 0.0, 0.0, 0.0), 1577836800000.0);
        assert_eq!(z.make(2019.0, 12.0, 1.0, 0.0, 0.0, 0.0, 0.0), 1577836800000.0);
        assert_eq!(z.make(2020.0, 1.0, 30.0, 0.0, 0.0, 0.0, 0.0), z.make(2020.0, 2.0, 1.0, 0.0, 0.0, 0.0, 0.0));
        // DST gap in New York: 02:30 on 2024-03-10 becomes 03:30 EDT (07:30Z).
        assert_eq!(ny().make(2024.0, 2.0, 10.0, 2.0, 30.0, 0.0, 0.0), 1710055800000.0);
        // Overlap: 01:30 on 2024-11-03 is the first (EDT) occurrence, 05:30Z.
        assert_eq!(ny().make(2024.0, 10.0, 3.0, 1.0, 30.0, 0.0, 0.0), 1730611800000.0);
    }

    #[test]
    fn utc_arithmetic_agrees_with_chrono() {
        let chrono_fields = |ms: f64| {
            let t = naive_from_ms(ms).unwrap();
            (t.year(), t.month0(), t.day(), t.weekday().num_days_from_sunday(), t.hour(), t.minute(), t.second(), t.ordinal0())
        };
        for ms in [0.0, -1.0, 951782400000.0, -62135596800001.0, 4102444799999.0, 1709164800123.0, -86400000.0 * 365.0 * 300.0] {
            let f = utc_fields(ms).unwrap();
            assert_eq!((f.year, f.month, f.date, f.day, f.hours, f.minutes, f.seconds, f.ordinal0), chrono_fields(ms), "{ms}");
        }
        for (y, m, d) in [(1970, 1, 1), (2000, 2, 29), (1600, 3, 1), (-44, 3, 15), (2400, 12, 31)] {
            let expected = NaiveDate::from_ymd_opt(y as i32, m, d).unwrap().signed_duration_since(NaiveDate::from_ymd_opt(1970, 1, 1).unwrap()).num_days();
            assert_eq!(days_from_civil(y, m, d), expected);
            assert_eq!(civil_from_days(expected), (y, m, d));
        }
    }

    #[test]
    fn weeks_and_floors() {
        let z = Zone::Utc;
        let jan1_2012 = z.make(2012.0, 0.0, 1.0, 0.0, 0.0, 0.0, 0.0); // a Sunday
        assert_eq!(z.week(jan1_2012), 1.0);
        let jan1_2019 = z.make(2019.0, 0.0, 1.0, 0.0, 0.0, 0.0, 0.0); // a Tuesday
        assert_eq!(z.week(jan1_2019), 0.0);
        let t = z.make(2019.0, 4.0, 17.0, 13.0, 45.0, 7.0, 250.0);
        let units = canonical_units(&["month".into(), "year".into()]).unwrap();
        assert_eq!(floor(z, &units, 1.0, t), z.make(2019.0, 4.0, 1.0, 0.0, 0.0, 0.0, 0.0));
        let units = canonical_units(&["month".into()]).unwrap();
        assert_eq!(floor(z, &units, 1.0, t), z.make(2012.0, 4.0, 1.0, 0.0, 0.0, 0.0, 0.0));
        assert!(canonical_units(&["week".into(), "month".into()]).is_err());
        assert_eq!(offset(z, TimeUnit::Month, z.make(2019.0, 0.0, 31.0, 0.0, 0.0, 0.0, 0.0), 1.0), z.make(2019.0, 2.0, 3.0, 0.0, 0.0, 0.0, 0.0));
    }
}
