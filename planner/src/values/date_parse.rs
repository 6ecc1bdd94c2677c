//! JavaScript's `Date.parse` (V8): the ISO format, and the legacy forms browsers
//! accept (`Jan 5 2010`, `2010/01/05 10:00`, `01/05/2010`...).

use super::time::Zone;

const MONTHS: [&str; 12] = ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"];

/// `Date.parse(s)` with local time in `zone`; NaN when not a date.
///
/// ```
/// use vegalake_planner::values::{date_parse::parse_js_date, time::Zone};
/// assert_eq!(parse_js_date("2020-01-01", Zone::Utc), 1577836800000.0);
/// let ny = Zone::parse("America/New_York").unwrap();
/// assert_eq!(parse_js_date("2020-01-01", ny), 1577836800000.0); // date-only ISO is UTC
/// assert_eq!(parse_js_date("2020-01-01T00:00", ny), 1577854800000.0); // date-time is local
/// assert_eq!(parse_js_date("Jan 1 2020", Zone::Utc), 1577836800000.0);
/// assert!(parse_js_date("hello", Zone::Utc).is_nan());
/// ```
pub fn parse_js_date(s: &str, zone: Zone) -> f64 {
    let s = s.trim();
    parse_iso(s, zone).or_else(|| parse_legacy(s, zone)).unwrap_or(f64::NAN)
}

fn digits(s: &str, n: usize) -> Option<(f64, &str)> {
    if s.len() < n || !s.as_bytes()[..n].iter().all(u8::is_ascii_digit) {
        return None;
    }
    Some((s[..n].parse::<f64>().ok()?, &s[n..]))
}

fn parse_iso(s: &str, zone: Zone) -> Option<f64> {
    let (year, mut rest) = if let Some(r) = s.strip_prefix(['+', '-']) {
        let (y, r) = digits(r, 6)?;
        (if s.starts_with('-') { -y } else { y }, r)
    } else {
        digits(s, 4)?
    };
    let (mut month, mut day) = (1.0, 1.0);
    if let Some(r) = rest.strip_prefix('-') {
        (month, rest) = digits(r, 2)?;
        if let Some(r) = rest.strip_prefix('-') {
            (day, rest) = digits(r, 2)?;
        }
    }
    if !(1.0..=12.0).contains(&month) || !(1.0..=31.0).contains(&day) {
        return None;
    }
    if rest.is_empty() {
        return Some(Zone::Utc.make_literal(year, month - 1.0, day, 0.0, 0.0, 0.0, 0.0));
    }
    let r = rest.strip_prefix(['T', 't', ' '])?;
    let (h, r) = digits(r, 2)?;
    let (mi, mut r) = digits(r.strip_prefix(':')?, 2)?;
    let (mut sec, mut ms) = (0.0, 0.0);
    if let Some(r2) = r.strip_prefix(':') {
        (sec, r) = digits(r2, 2)?;
        if let Some(r3) = r.strip_prefix('.') {
            let n = r3.bytes().take_while(u8::is_ascii_digit).count();
            if n == 0 {
                return None;
            }
            let frac: f64 = format!("0.{}", &r3[..n]).parse().ok()?;
            ms = (frac * 1000.0).floor();
            r = &r3[n..];
        }
    }
    if h > 24.0 || mi > 59.0 || sec > 59.0 {
        return None;
    }
    let offset_min = match r {
        "" => None,
        "Z" | "z" => Some(0.0),
        _ => {
            let sign = if r.starts_with('-') {
                -1.0
            } else if r.starts_with('+') {
                1.0
            } else {
                return None;
            };
            let (oh, r2) = digits(&r[1..], 2)?;
            let r2 = r2.strip_prefix(':').unwrap_or(r2);
            let (om, r3) = digits(r2, 2)?;
            if !r3.is_empty() {
                return None;
            }
            Some(sign * (oh * 60.0 + om))
        }
    };
    Some(match offset_min {
        Some(off) => Zone::Utc.make_literal(year, month - 1.0, day, h, mi, sec, ms) - off * 60_000.0,
        None => zone.make_literal(year, month - 1.0, day, h, mi, sec, ms),
    })
}

#[derive(Debug)]
enum Tok {
    Num(f64, usize),
    Word(String),
    Sep(char),
}

fn tokenize(s: &str) -> Vec<Tok> {
    let mut out = Vec::new();
    let mut chars = s.chars().peekable();
    while let Some(&c) = chars.peek() {
        if c.is_ascii_digit() {
            let mut t = String::new();
            while let Some(&d) = chars.peek().filter(|d| d.is_ascii_digit()) {
                t.push(d);
                chars.next();
            }
            out.push(Tok::Num(t.parse().unwrap_or(f64::NAN), t.len()));
        } else if c.is_alphabetic() {
            let mut t = String::new();
            while let Some(&d) = chars.peek().filter(|d| d.is_alphabetic() || **d == '.') {
                t.push(d);
                chars.next();
            }
            out.push(Tok::Word(t.trim_end_matches('.').to_lowercase()));
        } else {
            if !c.is_whitespace() && c != ',' {
                out.push(Tok::Sep(c));
            }
            chars.next();
        }
    }
    out
}

/// V8's fallback parser, for the common forms: a month name with day and year, or
/// numeric `y/m/d` / `m/d/y`, optionally followed by `H:M[:S]`, AM/PM and a UTC offset.
fn parse_legacy(s: &str, zone: Zone) -> Option<f64> {
    let toks = tokenize(s);
    let mut date_nums: Vec<(f64, usize)> = Vec::new();
    let mut time: Vec<f64> = Vec::new();
    let mut month: Option<f64> = None;
    let mut pm: Option<bool> = None;
    let mut offset: Option<f64> = None;
    let mut i = 0;
    while i < toks.len() {
        match &toks[i] {
            Tok::Num(n, len) => {
                if matches!(toks.get(i + 1), Some(Tok::Sep(':'))) && time.is_empty() {
                    time.push(*n);
                    i += 2;
                    while let Some(Tok::Num(v, _)) = toks.get(i) {
                        time.push(*v);
                        if matches!(toks.get(i + 1), Some(Tok::Sep(':')) | Some(Tok::Sep('.'))) {
                            i += 2;
                        } else {
                            i += 1;
                            break;
                        }
                    }
                    continue;
                }
                date_nums.push((*n, *len));
            }
            Tok::Word(w) => {
                if let Some(m) = MONTHS.iter().position(|m| w.starts_with(m)) {
                    month = Some(m as f64);
                } else if w == "am" || w == "pm" {
                    pm = Some(w == "pm");
                } else if w == "gmt" || w == "utc" || w == "z" {
                    offset = Some(0.0);
                    if let (Some(Tok::Sep(sign @ ('+' | '-'))), Some(Tok::Num(v, len))) = (toks.get(i + 1), toks.get(i + 2)) {
                        let (h, m) = if *len > 2 { ((v / 100.0).floor(), v % 100.0) } else { (*v, 0.0) };
                        offset = Some(if *sign == '-' { -1.0 } else { 1.0 } * (h * 60.0 + m));
                        i += 2;
                    }
                } else if !["mon", "tue", "wed", "thu", "fri", "sat", "sun"].iter().any(|d| w.starts_with(d)) {
                    return None;
                }
            }
            Tok::Sep('/' | '-' | '.') => {}
            Tok::Sep(_) => return None,
        }
        i += 1;
    }
    let (y, m, d) = match (month, date_nums.as_slice()) {
        (Some(m), [(a, _), (b, lb)]) => {
            if *lb >= 3 || *b > 31.0 {
                (*b, m, *a)
            } else {
                (*a, m, *b)
            }
        }
        (None, [(a, la), (b, _), (c, _)]) => {
            if *la >= 3 {
                (*a, *b - 1.0, *c)
            } else {
                (*c, *a - 1.0, *b)
            }
        }
        _ => return None,
    };
    let y = if y < 50.0 && date_nums.iter().all(|(_, l)| *l <= 2) {
        y + 2000.0
    } else if y < 100.0 {
        y + 1900.0
    } else {
        y
    };
    let (mut h, mi, sec) = (time.first().copied().unwrap_or(0.0), time.get(1).copied().unwrap_or(0.0), time.get(2).copied().unwrap_or(0.0));
    match pm {
        Some(true) if h < 12.0 => h += 12.0,
        Some(false) if h == 12.0 => h = 0.0,
        _ => {}
    }
    if !(0.0..12.0).contains(&m) || !(1.0..=31.0).contains(&d) || h > 24.0 || mi > 59.0 || sec > 59.0 {
        return None;
    }
    Some(match offset {
        Some(off) => Zone::Utc.make_literal(y, m, d, h, mi, sec, 0.0) - off * 60_000.0,
        None => zone.make_literal(y, m, d, h, mi, sec, 0.0),
    })
}
