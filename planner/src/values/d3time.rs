//! d3-time-format (en-US, the locale vega uses): `timeFormat`/`utcFormat` and
//! `timeParse`/`utcParse`, also behind `format.parse` types like `utc:'%Y-%m-%d'`.

use super::time::{Fields, Zone};

const DAYS: [&str; 7] = ["Sunday", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday"];
const MONTHS: [&str; 12] = ["January", "February", "March", "April", "May", "June", "July", "August", "September", "October", "November", "December"];

/// en-US's `%c`, `%x` and `%X`.
fn expand(spec: &str) -> String {
    spec.replace("%c", "%x, %X").replace("%x", "%-m/%-d/%Y").replace("%X", "%-I:%M:%S %p")
}

const FORMAT_DIRECTIVES: &str = "aAbBdefgGHIjLmMpqQsSuUVwWyYZ%";
const PARSE_DIRECTIVES: &str = "aAbBdefHIjLmMpqQsSyYZ%";

/// Checks that every directive of `spec` is implemented (for formatting, or parsing).
pub fn check_specifier(spec: &str, parsing: bool) -> Result<(), String> {
    let spec = expand(spec);
    let known = if parsing { PARSE_DIRECTIVES } else { FORMAT_DIRECTIVES };
    let mut chars = spec.chars();
    while let Some(c) = chars.next() {
        if c != '%' {
            continue;
        }
        let mut d = chars.next().unwrap_or(' ');
        if matches!(d, '-' | '_' | '0') {
            d = chars.next().unwrap_or(' ');
        }
        if !known.contains(d) {
            return Err(format!("time directive %{d} in {spec:?}"));
        }
    }
    Ok(())
}

fn pad(value: i64, fill: Option<char>, width: usize) -> String {
    let sign = if value < 0 { "-" } else { "" };
    let digits = value.abs().to_string();
    match fill {
        Some(f) if digits.len() < width => format!("{sign}{}{digits}", f.to_string().repeat(width - digits.len())),
        _ => format!("{sign}{digits}"),
    }
}

/// Formats `ms` with a d3 specifier in `zone`; `None` for an invalid date (see
/// [`format_invalid`]).
///
/// ```
/// use vegalake_planner::values::{d3time::format, time::Zone};
/// assert_eq!(format(1577934245123.0, "%Y-%m-%d %H:%M:%S.%L %a %b %e %j %p %I", Zone::Utc).unwrap(),
///            "2020-01-02 03:04:05.123 Thu Jan  2 002 AM 03");
/// ```
pub fn format(ms: f64, spec: &str, zone: Zone) -> Option<String> {
    let f = zone.fields(ms)?;
    let (pieces, cut) = pieces(&expand(spec));
    if cut {
        return None;
    }
    let mut out = String::new();
    for piece in pieces {
        match piece {
            Piece::Literal(c) => out.push(c),
            Piece::Directive(d, fill_override) => {
                let fill = |default: char| fill_override.unwrap_or(Some(default));
                out.push_str(&directive(d, &f, ms, zone, &fill)?);
            }
        }
    }
    Some(out)
}

/// One piece of an expanded specifier: a character as it is, or a directive with
/// its padding override (`%-d`: none, `%_d`: spaces, `%0d`: zeros).
enum Piece {
    Literal(char),
    Directive(char, Option<Option<char>>),
}

/// The pieces of `spec`, and whether it ends inside a directive (`%` or `%-` last).
fn pieces(spec: &str) -> (Vec<Piece>, bool) {
    let mut out = Vec::new();
    let mut chars = spec.chars();
    while let Some(c) = chars.next() {
        if c != '%' {
            out.push(Piece::Literal(c));
            continue;
        }
        let (mut d, mut fill_override) = (chars.next(), None);
        if let Some(pad @ ('-' | '_' | '0')) = d {
            fill_override = Some(match pad {
                '-' => None,
                '_' => Some(' '),
                _ => Some('0'),
            });
            d = chars.next();
        }
        match d {
            Some(d) => out.push(Piece::Directive(d, fill_override)),
            None => return (out, true),
        }
    }
    (out, false)
}

fn directive(d: char, f: &Fields, ms: f64, zone: Zone, fill: &dyn Fn(char) -> Option<char>) -> Option<String> {
    let monday_day = (f.day + 6) % 7;
    Some(match d {
        'a' => DAYS[f.day as usize][..3].to_string(),
        'A' => DAYS[f.day as usize].to_string(),
        'b' => MONTHS[f.month as usize][..3].to_string(),
        'B' => MONTHS[f.month as usize].to_string(),
        'd' => pad(f.date as i64, fill('0'), 2),
        'e' => pad(f.date as i64, fill(' '), 2),
        'f' => pad(f.milliseconds as i64 * 1000, fill('0'), 6),
        'g' => pad(zone.iso_week(ms)?.1 as i64 % 100, fill('0'), 2),
        'G' => pad(zone.iso_week(ms)?.1 as i64 % 10000, fill('0'), 4),
        'H' => pad(f.hours as i64, fill('0'), 2),
        'I' => pad(((f.hours + 11) % 12 + 1) as i64, fill('0'), 2),
        'j' => pad(f.ordinal0 as i64 + 1, fill('0'), 3),
        'L' => pad(f.milliseconds as i64, fill('0'), 3),
        'm' => pad(f.month as i64 + 1, fill('0'), 2),
        'M' => pad(f.minutes as i64, fill('0'), 2),
        'p' => (if f.hours >= 12 { "PM" } else { "AM" }).to_string(),
        'q' => (f.month / 3 + 1).to_string(),
        'Q' => format!("{}", ms as i64),
        's' => format!("{}", (ms / 1000.0).floor() as i64),
        'S' => pad(f.seconds as i64, fill('0'), 2),
        'u' => (if f.day == 0 { 7 } else { f.day }).to_string(),
        'U' => pad(zone.week(ms) as i64, fill('0'), 2),
        'V' => pad(zone.iso_week(ms)?.0 as i64, fill('0'), 2),
        'w' => f.day.to_string(),
        'W' => pad(((f.ordinal0 + 7 - monday_day) / 7) as i64, fill('0'), 2),
        'y' => pad(f.year as i64 % 100, fill('0'), 2),
        'Y' => pad(f.year as i64 % 10000, fill('0'), 4),
        'Z' => {
            let z = (zone.fields(ms).map(|_| offset_minutes(zone, ms)))?;
            let sign = if z < 0 { "-" } else { "+" };
            format!("{sign}{:02}{:02}", z.abs() / 60, z.abs() % 60)
        }
        '%' => "%".to_string(),
        _ => return None,
    })
}

/// How d3 formats an invalid Date (a string vega never parsed, NaN, beyond
/// JavaScript's ±8.64e15 ms) with `spec`, by `utcFormat` (`utc`) or `timeFormat`:
/// every getter answers NaN, which `pad` prints as "NaN" (zero-filled to the
/// width: `%Y` is "0NaN"); names index their tables with NaN (undefined, joined
/// as ""); `%I` is `NaN % 12 || 12`; `%p` and `%q` compare or truncate NaN (AM,
/// 1); `%f` is the milliseconds and "000"; `%Z` is "+0000" in UTC, else pads
/// `NaN / 60 | 0` and `NaN % 60` (d3-time-format's locale.js).
///
/// ```
/// use vegalake_planner::values::d3time::format_invalid;
/// assert_eq!(format_invalid("%Y-%m-%d %B %p %f %Z", false), "0NaN-NaN-NaN  AM NaN000 +00NaN");
/// assert_eq!(format_invalid("%c", true), "NaN/NaN/0NaN, 12:NaN:NaN AM");
/// ```
pub fn format_invalid(spec: &str, utc: bool) -> String {
    let mut out = String::new();
    // A specifier cut inside a directive prints what comes before it.
    for piece in pieces(&expand(spec)).0 {
        let (d, fill_override) = match piece {
            Piece::Literal(c) => {
                out.push(c);
                continue;
            }
            Piece::Directive(d, fill_override) => (d, fill_override),
        };
        let nan = |default: char, width: usize| match fill_override.unwrap_or(Some(default)) {
            Some(f) if width > 3 => format!("{}NaN", f.to_string().repeat(width - 3)),
            _ => "NaN".to_string(),
        };
        out.push_str(&match d {
            'a' | 'A' | 'b' | 'B' => String::new(),
            'f' => "NaN000".to_string(),
            'G' | 'Y' => nan('0', 4),
            'I' => "12".to_string(),
            'p' => "AM".to_string(),
            'q' => "1".to_string(),
            'Z' if utc => "+0000".to_string(),
            'Z' => "+00NaN".to_string(),
            '%' => "%".to_string(),
            'd' | 'e' | 'g' | 'H' | 'j' | 'L' | 'm' | 'M' | 'Q' | 's' | 'S' | 'u' | 'U' | 'V' | 'w' | 'W' | 'y' => "NaN".to_string(),
            other => other.to_string(),
        });
    }
    out
}

fn offset_minutes(zone: Zone, ms: f64) -> i64 {
    let f = zone.fields(ms).expect("valid date");
    let wall = Zone::Utc.make_literal(f.year as f64, f.month as f64, f.date as f64, f.hours as f64, f.minutes as f64, f.seconds as f64, f.milliseconds as f64);
    ((wall - ms) / 60_000.0).round() as i64
}

/// The fields d3's parser fills.
#[derive(Default)]
struct Parsed {
    y: Option<f64>,
    m: Option<f64>,
    d: Option<f64>,
    h: f64,
    mi: f64,
    s: f64,
    l: f64,
    p: Option<f64>,
    q: Option<f64>,
    z: Option<f64>,
    epoch_ms: Option<f64>,
    epoch_s: Option<f64>,
}

/// d3's numberRe: optional leading spaces, then digits, within `max` characters.
fn number(s: &str, max: usize) -> Option<(f64, usize)> {
    let window: String = s.chars().take(max).collect();
    let trimmed = window.trim_start();
    let spaces = window.len() - trimmed.len();
    let digits: String = trimmed.chars().take_while(char::is_ascii_digit).collect();
    if digits.is_empty() {
        return None;
    }
    Some((digits.parse().ok()?, spaces + digits.len()))
}

fn name_prefix(s: &str, names: &[&str], abbreviated: bool) -> Option<(usize, usize)> {
    let lower = s.to_lowercase();
    names.iter().enumerate().find_map(|(i, n)| {
        let n = if abbreviated { &n[..3] } else { n };
        lower.starts_with(&n.to_lowercase()).then_some((i, n.len()))
    })
}

/// Parses `text` with a d3 specifier; local fields in `zone` (`Zone::Utc` for
/// `utcParse`). `None` where d3 answers null.
///
/// ```
/// use vegalake_planner::values::{d3time::parse, time::Zone};
/// assert_eq!(parse("2020-01-02", "%Y-%m-%d", Zone::Utc), Some(1577923200000.0));
/// assert_eq!(parse("Jan 2, 2020 3PM", "%b %e, %Y %I%p", Zone::Utc), Some(1577977200000.0));
/// assert_eq!(parse("2020-01-02x", "%Y-%m-%d", Zone::Utc), None);
/// ```
pub fn parse(text: &str, spec: &str, zone: Zone) -> Option<f64> {
    let spec = expand(spec);
    let mut p = Parsed::default();
    let mut rest = text;
    let mut chars = spec.chars();
    while let Some(c) = chars.next() {
        if c != '%' {
            rest = rest.strip_prefix(c)?;
            continue;
        }
        let mut d = chars.next()?;
        if matches!(d, '-' | '_' | '0') {
            d = chars.next()?;
        }
        let used = match d {
            'Y' => number(rest, 4).map(|(v, n)| (p.y = Some(v), n).1)?,
            'y' => number(rest, 2).map(|(v, n)| (p.y = Some(v + if v > 68.0 { 1900.0 } else { 2000.0 }), n).1)?,
            'm' => number(rest, 2).map(|(v, n)| (p.m = Some(v - 1.0), n).1)?,
            'd' | 'e' => number(rest, 2).map(|(v, n)| (p.d = Some(v), n).1)?,
            'j' => number(rest, 3).map(|(v, n)| (p.m = Some(0.0), p.d = Some(v), n).2)?,
            'H' | 'I' => number(rest, 2).map(|(v, n)| (p.h = v, n).1)?,
            'M' => number(rest, 2).map(|(v, n)| (p.mi = v, n).1)?,
            'S' => number(rest, 2).map(|(v, n)| (p.s = v, n).1)?,
            'L' => number(rest, 3).map(|(v, n)| (p.l = v, n).1)?,
            'f' => number(rest, 6).map(|(v, n)| (p.l = (v / 1000.0).floor(), n).1)?,
            'q' => number(rest, 1).map(|(v, n)| (p.q = Some(v * 3.0 - 3.0), n).1)?,
            'Q' => number(rest, usize::MAX).map(|(v, n)| (p.epoch_ms = Some(v), n).1)?,
            's' => number(rest, usize::MAX).map(|(v, n)| (p.epoch_s = Some(v), n).1)?,
            'p' => {
                let l = rest.to_lowercase();
                let v = if l.starts_with("am") {
                    0.0
                } else if l.starts_with("pm") {
                    1.0
                } else {
                    return None;
                };
                p.p = Some(v);
                2
            }
            'b' | 'B' => name_prefix(rest, &MONTHS, d == 'b').map(|(i, n)| (p.m = Some(i as f64), n).1)?,
            'a' | 'A' => name_prefix(rest, &DAYS, d == 'a').map(|(_, n)| n)?,
            'Z' => {
                if let Some(r) = rest.strip_prefix('Z') {
                    p.z = Some(0.0);
                    rest.len() - r.len()
                } else {
                    let sign = match rest.chars().next()? {
                        '+' => 1.0,
                        '-' => -1.0,
                        _ => return None,
                    };
                    let (hh, n1) = number(&rest[1..], 2).filter(|(_, n)| *n == 2)?;
                    let after = &rest[1 + n1..];
                    let colon = usize::from(after.starts_with(':'));
                    let (mm, n2) = number(&after[colon..], 2).filter(|(_, n)| *n == 2).unwrap_or((0.0, 0));
                    p.z = Some(-sign * (hh * 100.0 + mm));
                    1 + n1 + if n2 > 0 { colon + n2 } else { 0 }
                }
            }
            '%' if rest.starts_with('%') => 1,
            _ => return None,
        };
        rest = rest.get(used..)?;
    }
    if !rest.is_empty() {
        return None;
    }
    if let Some(q) = p.epoch_ms {
        return Some(q);
    }
    if let Some(s) = p.epoch_s {
        return Some(s * 1000.0 + p.l);
    }
    if let Some(ampm) = p.p {
        p.h = p.h % 12.0 + ampm * 12.0;
    }
    let m = p.m.or(p.q).unwrap_or(0.0);
    let (y, d) = (p.y.unwrap_or(1900.0), p.d.unwrap_or(1.0));
    let t = match p.z {
        Some(z) => Zone::Utc.make_literal(y, m, d, p.h + (z / 100.0).trunc(), p.mi + z % 100.0, p.s, p.l),
        None => zone.make_literal(y, m, d, p.h, p.mi, p.s, p.l),
    };
    (!t.is_nan()).then_some(t)
}
