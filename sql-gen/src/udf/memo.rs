//! Time functions evaluated a batch at a time, remembering their answers.
//!
//! `vl_time_floor`, `vl_date_part` and `vl_time_offset` almost always receive
//! constant zones, units and steps and a column of instants. Row by row, a
//! `yearmonth` chart over 10M rows spent 3.7 s in them (perf: calendar fields,
//! `make_literal`, and hashing the zone and unit names again on every row). Here
//! the constants are resolved once per batch, and answers are remembered:
//!
//! - [`Memo::Hourly`]: a floor or a part at hour granularity or coarser is constant
//!   within a UTC hour unless a local hour boundary or an offset change falls inside
//!   it. Every calendar field changes at most once inside such an hour (at one
//!   instant t*), so the answer is A before t* and B from t* on; when the answers at
//!   the hour's first and last millisecond agree and the zone's offset is the same at
//!   both, A = B and the whole hour has that answer. Other hours (half-hour zones,
//!   DST changes) are computed row by row. The offset test matters for clocks set
//!   back inside an hour (historical mean-time changes by odd minutes): local time
//!   can leave the first hour's value and come back to it, A, B, A.
//! - [`Memo::Exact`]: `vl_time_offset` is applied to floored dates, few distinct
//!   values; answers are remembered per input value.
//!
//! Both are direct-mapped tables (bounded memory, one per thread and per constant
//! arguments) that persist across batches: a year of random instants touches 8,760
//! hours, more than a batch holds rows.

use datafusion::arrow::array::{ArrayRef, AsArray, Float64Array};
use datafusion::arrow::datatypes::Float64Type;
use std::cell::RefCell;
use std::collections::HashMap;
use std::sync::Arc;
use vegalake_planner::values::time::Zone;

/// How answers of one prepared function are remembered.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(super) enum Memo {
    /// Per UTC hour, when uniform over it (see the module docs); for functions
    /// that read an instant through its truncated millisecond in `zone`.
    Hourly(Zone),
    /// Per input value.
    Exact,
    /// Not at all (finer units: computed row by row).
    None,
}

/// A function of one instant, its other arguments fixed.
pub(super) struct Prepared {
    pub f: Box<dyn Fn(f64) -> f64>,
    pub memo: Memo,
}

const SLOTS: usize = 1 << 14;
const MS_PER_HOUR: i64 = 3_600_000;
/// Beyond this, an hour may reach past JavaScript's date range (±8.64e15 ms).
const HOURLY_LIMIT: f64 = vegalake_planner::values::time::MAX_DATE_MS - 2.0 * MS_PER_HOUR as f64;

#[derive(Clone, Copy)]
struct Slot {
    key: u64,
    value: f64,
    uniform: bool,
}

const EMPTY: Slot = Slot { key: u64::MAX, value: 0.0, uniform: false };

/// One direct-mapped table: 16,384 slots (384 KB), about two years of hours.
struct Table(Box<[Slot]>);

impl Table {
    fn new() -> Table {
        Table(vec![EMPTY; SLOTS].into_boxed_slice())
    }

    fn hourly(&mut self, zone: Zone, f: &dyn Fn(f64) -> f64, v: f64) -> f64 {
        let t = v.trunc();
        if t.is_nan() || t.abs() > HOURLY_LIMIT {
            return f(v);
        }
        let hour = (t as i64).div_euclid(MS_PER_HOUR);
        let slot = &mut self.0[hour as usize & (SLOTS - 1)];
        if slot.key != hour as u64 {
            let (lo, hi) = ((hour * MS_PER_HOUR) as f64, (hour * MS_PER_HOUR + MS_PER_HOUR - 1) as f64);
            let a = f(lo);
            *slot = Slot { key: hour as u64, value: a, uniform: a.to_bits() == f(hi).to_bits() && zone.same_offset(lo, hi) };
        }
        if slot.uniform {
            slot.value
        } else {
            f(v)
        }
    }

    fn exact(&mut self, f: &dyn Fn(f64) -> f64, v: f64) -> f64 {
        let bits = v.to_bits();
        // Fibonacci hashing: floored dates share their low bits.
        let slot = &mut self.0[(bits.wrapping_mul(0x9E37_79B9_7F4A_7C15) >> 50) as usize & (SLOTS - 1)];
        if slot.key != bits || !slot.uniform {
            *slot = Slot { key: bits, value: f(v), uniform: true };
        }
        slot.value
    }
}

thread_local! {
    /// Tables by function and constant arguments. A handful per session: the
    /// constants come from the spec, not the data.
    static TABLES: RefCell<HashMap<String, Table>> = RefCell::new(HashMap::new());
}

/// Evaluates `p` over `instants`, remembering answers under `key`. A null instant
/// is NaN, as row by row.
pub(super) fn eval(key: String, p: &Prepared, instants: &Float64Array) -> ArrayRef {
    let values = instants.iter().map(|v| v.unwrap_or(f64::NAN));
    let answers: Vec<f64> = match p.memo {
        Memo::None => values.map(|v| (p.f)(v)).collect(),
        memo => TABLES.with(|tables| {
            let mut tables = tables.borrow_mut();
            if tables.len() > 64 {
                tables.clear();
            }
            let table = tables.entry(key).or_insert_with(Table::new);
            match memo {
                Memo::Hourly(zone) => values.map(|v| table.hourly(zone, &*p.f, v)).collect(),
                _ => values.map(|v| table.exact(&*p.f, v)).collect(),
            }
        }),
    };
    Arc::new(Float64Array::from(answers))
}

/// The instants of a `Float64` column.
pub(super) fn instants(a: &ArrayRef) -> Option<&Float64Array> {
    a.as_primitive_opt::<Float64Type>()
}

#[cfg(test)]
mod tests {
    use super::super::{prepare_date_part, prepare_time_floor, prepare_time_offset, Cell};
    use super::*;

    /// Instants that stress the hourly memo: spread over two centuries from 1868 (historical
    /// local mean time offsets with odd seconds), clustered around DST changes and
    /// half-hour boundaries, fractional and negative.
    fn instants() -> Float64Array {
        let mut x: u64 = 0x2545_F491_4F6C_DD1D;
        let mut next = move || {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x
        };
        let span = 200.0 * 365.25 * 86_400_000.0;
        let mut v: Vec<Option<f64>> = (0..40_000)
            .map(|i| {
                let r = next();
                let unit = (r >> 11) as f64 / (1u64 << 53) as f64;
                Some(match i % 4 {
                    0 => -3.2e12 + unit * span,
                    // Within a day of 2021-03-14 and 2021-11-07 (US DST changes) and
                    // 2021-04-04 (Lord Howe's half-hour change), to the millisecond.
                    1 => [1_615_680_000_000.0, 1_636_243_200_000.0, 1_617_472_800_000.0][(r % 3) as usize] + (unit - 0.5) * 86_400_000.0,
                    2 => (unit - 0.5) * 7_200_000.0 + 0.25,
                    _ => (1_600_000_000_000.0 + unit * 1e10).floor() + 0.5,
                })
            })
            .collect();
        v.extend([None, Some(f64::NAN), Some(8.64e15), Some(-8.64e15), Some(f64::INFINITY)]);
        Float64Array::from(v)
    }

    /// The memoized answers equal the function's own, row by row, twice (the
    /// second pass answers from the tables the first one filled).
    fn check(prepare: fn(&[Cell]) -> Prepared, consts: &[Cell], instants: &Float64Array) {
        let p = prepare(consts);
        let key = format!("test|{consts:?}");
        for pass in 0..2 {
            let out = eval(key.clone(), &p, instants);
            let out = out.as_primitive::<Float64Type>();
            for (i, v) in instants.iter().enumerate() {
                let want = (p.f)(v.unwrap_or(f64::NAN));
                assert_eq!(out.value(i).to_bits(), want.to_bits(), "{consts:?} at {v:?} (pass {pass}): {} vs {want}", out.value(i));
            }
        }
    }

    const ZONES: [&str; 6] = ["UTC", "America/New_York", "Asia/Kolkata", "Australia/Lord_Howe", "America/St_Johns", "Europe/Amsterdam"];

    #[test]
    fn hourly_floors_agree_with_row_by_row() {
        let instants = instants();
        let units = [
            "year",
            "year,month",
            "year,quarter",
            "month,date",
            "year,week",
            "year,isoweek",
            "isoweek,day",
            "year,dayofyear",
            "date,hours",
            "year,month,date,hours",
            "day",
        ];
        for zone in ZONES {
            for u in units {
                for step in [1.0, 6.0] {
                    check(prepare_time_floor, &[Cell::Str(Some(zone)), Cell::Str(Some(u)), Cell::Num(step), Cell::Num(f64::NAN)], &instants);
                }
            }
        }
    }

    #[test]
    fn hourly_date_parts_and_exact_offsets_agree_with_row_by_row() {
        let instants = instants();
        for zone in ZONES {
            for part in ["year", "quarter", "month", "date", "day", "hours", "dayofyear", "week", "minutes"] {
                check(prepare_date_part, &[Cell::Str(Some(zone)), Cell::Str(Some(part)), Cell::Num(f64::NAN)], &instants);
            }
            for unit in ["month", "hours", "week"] {
                check(prepare_time_offset, &[Cell::Str(Some(zone)), Cell::Str(Some(unit)), Cell::Num(f64::NAN), Cell::Num(2.0)], &instants);
            }
        }
    }

    #[test]
    fn only_hour_or_coarser_floors_are_memoized_by_hour() {
        let floor = |u| prepare_time_floor(&[Cell::Str(Some("UTC")), Cell::Str(Some(u)), Cell::Num(1.0), Cell::Num(0.0)]).memo;
        assert_eq!(floor("year,month,date,hours"), Memo::Hourly(Zone::Utc));
        assert_eq!(floor("hours,minutes"), Memo::None);
        assert_eq!(floor("nonsense"), Memo::None);
    }
}
