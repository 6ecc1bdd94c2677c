//! d3-format's number formatting in its default (en-US) locale, as vega's
//! `format(value, specifier)` calls it: the specifier grammar
//! `[[fill]align][sign][symbol][0][width][,][.precision][~][type]` and the types
//! `e f g r s % d` and none. JavaScript's `toFixed`, `toExponential` and
//! `toPrecision` are computed from a number's exact decimal expansion, rounding
//! ties up as JavaScript does (`(2.5).toFixed(0)` is "3", `(1.125).toFixed(2)`
//! "1.13"), so the digits are JavaScript's, not Rust's (which round ties to even).

use super::number::js_number_to_string;

/// A parsed specifier.
#[derive(Debug, Clone, PartialEq)]
pub struct Specifier {
    fill: char,
    align: char,
    sign: char,
    currency: bool,
    zero: bool,
    width: usize,
    comma: bool,
    precision: Option<usize>,
    trim: bool,
    kind: char,
}

/// The minus sign of d3-format's default locale (U+2212).
const MINUS: &str = "\u{2212}";
const PREFIXES: [&str; 17] = ["y", "z", "a", "f", "p", "n", "\u{b5}", "m", "", "k", "M", "G", "T", "P", "E", "Z", "Y"];

/// Parses `spec`; an error names what vegalake does not format (`#`, the
/// binary, octal, hex, character, locale and `p` types) or what d3 rejects.
pub fn parse(spec: &str) -> Result<Specifier, String> {
    let chars: Vec<char> = spec.chars().collect();
    let mut i = 0;
    let is_align = |c: char| matches!(c, '<' | '>' | '=' | '^');
    let (mut fill, mut align) = (' ', '>');
    if chars.len() >= 2 && is_align(chars[1]) {
        (fill, align) = (chars[0], chars[1]);
        i = 2;
    } else if chars.first().is_some_and(|c| is_align(*c)) {
        align = chars[0];
        i = 1;
    }
    let mut sign = '-';
    if let Some(&c) = chars.get(i).filter(|c| matches!(c, '-' | '+' | '(' | ' ')) {
        sign = c;
        i += 1;
    }
    let mut currency = false;
    match chars.get(i) {
        Some('$') => {
            currency = true;
            i += 1;
        }
        Some('#') => return Err("the '#' symbol".into()),
        _ => {}
    }
    let mut zero = false;
    if chars.get(i) == Some(&'0') {
        zero = true;
        i += 1;
    }
    let digits = |i: &mut usize| {
        let start = *i;
        while chars.get(*i).is_some_and(char::is_ascii_digit) {
            *i += 1;
        }
        chars[start..*i].iter().collect::<String>().parse::<usize>().ok()
    };
    let width = digits(&mut i).unwrap_or(0);
    let comma = chars.get(i) == Some(&',');
    if comma {
        i += 1;
    }
    let mut precision = None;
    if chars.get(i) == Some(&'.') {
        i += 1;
        precision = Some(digits(&mut i).ok_or_else(|| format!("invalid format: {spec}"))?);
    }
    let trim = chars.get(i) == Some(&'~');
    if trim {
        i += 1;
    }
    let kind = match chars.get(i) {
        None => ' ',
        Some(&c) if matches!(c, 'e' | 'f' | 'g' | 'r' | 's' | '%' | 'd') => c,
        Some(&c) if matches!(c, 'b' | 'o' | 'x' | 'X' | 'c' | 'n' | 'p') => return Err(format!("the '{c}' type")),
        Some(_) => return Err(format!("invalid format: {spec}")),
    };
    if i + usize::from(kind != ' ') != chars.len() {
        return Err(format!("invalid format: {spec}"));
    }
    Ok(Specifier { fill, align, sign, currency, zero, width, comma, precision, trim, kind })
}

/// `d3.format(spec)(x)`.
///
/// ```
/// use vegalake_planner::values::d3format::{format, parse};
/// let f = |s: &str, x: f64| format(&parse(s).unwrap(), x);
/// assert_eq!(f("", 0.1 + 0.2), "0.3");
/// assert_eq!(f(",.2f", -1234.5), "\u{2212}1,234.50");
/// assert_eq!(f(".0f", 2.5), "3");
/// assert_eq!(f(".2s", 42e6), "42M");
/// ```
pub fn format(spec: &Specifier, value: f64) -> String {
    let mut s = spec.clone();
    if s.kind == ' ' {
        s.precision.get_or_insert(12);
        s.trim = true;
    }
    if s.zero || (s.fill == '0' && s.align == '=') {
        (s.zero, s.fill, s.align) = (true, '0', '=');
    }
    let precision = match (s.precision, s.kind) {
        (None, _) => 6,
        (Some(p), 'g' | ' ' | 'r' | 's') => p.clamp(1, 21),
        (Some(p), _) => p.min(20),
    };
    let negative = value < 0.0 || (value == 0.0 && value.is_sign_negative());
    let mut prefix_exponent = None;
    let mut text = if value.is_nan() {
        "NaN".to_string()
    } else {
        let x = value.abs();
        match s.kind {
            '%' => to_fixed(x * 100.0, precision),
            'd' => decimal(x),
            'e' => to_exponential(x, precision),
            'f' => to_fixed(x, precision),
            'r' => rounded(x, precision),
            's' => prefix_auto(x, precision, &mut prefix_exponent),
            _ => to_precision(x, precision),
        }
    };
    if s.trim {
        text = trim(&text);
    }
    let negative = negative && !(text.parse::<f64>().is_ok_and(|v| v == 0.0) && s.sign != '+');
    let mut before = match (negative, s.sign) {
        (true, '(') => "(".to_string(),
        (true, _) => MINUS.to_string(),
        (false, '-' | '(') => String::new(),
        (false, c) => c.to_string(),
    };
    if s.currency {
        before.push('$');
    }
    let mut after = match prefix_exponent {
        Some(e) if s.kind == 's' && !value.is_nan() => PREFIXES[(8 + e / 3) as usize].to_string(),
        _ => String::new(),
    };
    if s.kind == '%' {
        after.push('%');
    }
    if negative && s.sign == '(' {
        after.push(')');
    }
    // The first non-digit starts the suffix (a decimal point, an exponent, a word).
    if let Some(at) = text.find(|c: char| !c.is_ascii_digit()) {
        after = format!("{}{after}", &text[at..]);
        text.truncate(at);
    }
    if s.comma && !s.zero {
        text = group(&text, usize::MAX);
    }
    let length = before.chars().count() + text.chars().count() + after.chars().count();
    let mut padding: String = if length < s.width { std::iter::repeat_n(s.fill, s.width - length).collect() } else { String::new() };
    if s.comma && s.zero {
        let width = if padding.is_empty() { usize::MAX } else { s.width - after.chars().count() };
        text = group(&format!("{padding}{text}"), width);
        padding.clear();
    }
    match s.align {
        '<' => format!("{before}{text}{after}{padding}"),
        '=' => format!("{before}{padding}{text}{after}"),
        '^' => {
            let half = padding.chars().count() / 2;
            let (left, right): (String, String) = (padding.chars().take(half).collect(), padding.chars().skip(half).collect());
            format!("{left}{before}{text}{after}{right}")
        }
        _ => format!("{padding}{before}{text}{after}"),
    }
}

/// d3's `formatGroup` with groups of three and `,` (en-US).
fn group(value: &str, width: usize) -> String {
    let chars: Vec<char> = value.chars().collect();
    let (mut i, mut length, mut parts) = (chars.len(), 0usize, Vec::new());
    while i > 0 {
        let mut g = 3;
        if length + g + 1 > width {
            g = width.saturating_sub(length).max(1);
        }
        let start = i.saturating_sub(g);
        parts.push(chars[start..i].iter().collect::<String>());
        i = start;
        length += g + 1;
        if length > width {
            break;
        }
    }
    parts.reverse();
    parts.join(",")
}

/// d3's `formatTrim`: insignificant trailing zeros of the fraction removed.
fn trim(s: &str) -> String {
    let b: Vec<char> = s.chars().collect();
    let (mut i0, mut i1): (isize, usize) = (-1, 0);
    for (i, c) in b.iter().enumerate().skip(1) {
        match c {
            '.' => {
                i0 = i as isize;
                i1 = i;
            }
            '0' => {
                if i0 == 0 {
                    i0 = i as isize;
                }
                i1 = i;
            }
            c if c.is_ascii_digit() => {
                if i0 > 0 {
                    i0 = 0;
                }
            }
            _ => break,
        }
    }
    if i0 > 0 {
        let i0 = i0 as usize;
        b[..i0].iter().chain(&b[i1 + 1..]).collect()
    } else {
        s.to_string()
    }
}

/// The exact decimal digits of finite `x >= 0` (no leading zeros; "0" for zero)
/// and the power of ten of the first: `x = 0.d1d2... * 10^(exponent + 1)`.
fn exact_digits(x: f64) -> (Vec<u8>, i32) {
    if x == 0.0 {
        return (vec![0], 0);
    }
    // 800 fraction digits hold any double's exact expansion (at most 767).
    let s = format!("{x:.800e}");
    let (mantissa, exponent) = s.split_once('e').expect("scientific notation");
    let mut digits: Vec<u8> = mantissa.bytes().filter(u8::is_ascii_digit).map(|d| d - b'0').collect();
    while digits.len() > 1 && digits.last() == Some(&0) {
        digits.pop();
    }
    (digits, exponent.parse().expect("an exponent"))
}

/// `digits` (first at 10^exponent) rounded half up to `n` digits; the exponent
/// grows by one when the rounding carries past the first digit.
fn round_digits(digits: &[u8], exponent: i32, n: usize) -> (Vec<u8>, i32) {
    let mut kept: Vec<u8> = digits.iter().copied().chain(std::iter::repeat(0)).take(n).collect();
    if digits.get(n).is_some_and(|d| *d >= 5) {
        let mut i = n;
        loop {
            if i == 0 {
                kept.insert(0, 1);
                kept.truncate(n.max(1));
                return (kept, exponent + 1);
            }
            i -= 1;
            if kept[i] == 9 {
                kept[i] = 0;
            } else {
                kept[i] += 1;
                break;
            }
        }
    }
    (kept, exponent)
}

fn text(digits: &[u8]) -> String {
    digits.iter().map(|d| char::from(b'0' + d)).collect()
}

/// `x.toExponential(p)` for `x >= 0`.
fn to_exponential(x: f64, p: usize) -> String {
    if !x.is_finite() {
        return js_number_to_string(x);
    }
    let (digits, exponent) = exact_digits(x);
    let (d, e) = round_digits(&digits, exponent, p + 1);
    exponential(&d, if x == 0.0 { 0 } else { e })
}

fn exponential(d: &[u8], e: i32) -> String {
    let mantissa = if d.len() > 1 { format!("{}.{}", d[0], text(&d[1..])) } else { text(d) };
    format!("{mantissa}e{}{}", if e < 0 { "-" } else { "+" }, e.abs())
}

/// `x.toFixed(p)` for `x >= 0`.
fn to_fixed(x: f64, p: usize) -> String {
    if !x.is_finite() || x >= 1e21 {
        return js_number_to_string(x);
    }
    let (digits, exponent) = exact_digits(x);
    // Digits through 10^-p: the integer part's and p more.
    let n = exponent + 1 + p as i32;
    let (d, e) = if n <= 0 {
        // Below the last kept place: 0, or 10^-p when it rounds up.
        let up = n == 0 && digits[0] >= 5;
        (if up { vec![1] } else { vec![0] }, if up { -(p as i32) } else { 0 })
    } else {
        round_digits(&digits, exponent, n as usize)
    };
    // d's first digit is at 10^e: write out the places from max(e, 0) to -p.
    let place = |k: i32| -> u8 {
        let i = e - k;
        if i >= 0 && (i as usize) < d.len() {
            d[i as usize]
        } else {
            0
        }
    };
    let integer: String = (0..=e.max(0)).rev().map(|k| char::from(b'0' + place(k))).collect();
    let fraction: String = (1..=p as i32).map(|k| char::from(b'0' + place(-k))).collect();
    if p == 0 {
        integer
    } else {
        format!("{integer}.{fraction}")
    }
}

/// `x.toPrecision(p)` for `x >= 0`.
fn to_precision(x: f64, p: usize) -> String {
    if !x.is_finite() {
        return js_number_to_string(x);
    }
    if x == 0.0 {
        return if p > 1 { format!("0.{}", "0".repeat(p - 1)) } else { "0".into() };
    }
    let (digits, exponent) = exact_digits(x);
    let (d, e) = round_digits(&digits, exponent, p);
    if e < -6 || e >= p as i32 {
        return exponential(&d, e);
    }
    if e >= 0 {
        let e = e as usize;
        let (int, frac) = d.split_at(e + 1);
        if frac.is_empty() {
            text(int)
        } else {
            format!("{}.{}", text(int), text(frac))
        }
    } else {
        format!("0.{}{}", "0".repeat((-e - 1) as usize), text(&d))
    }
}

/// d3's `formatDecimal` of the `d` type: rounded to an integer, from 1e21 as
/// `toLocaleString` writes it without its commas: the shortest digits that read
/// back as the number, then zeros (1.5e300 is 15 and 299 zeros).
fn decimal(x: f64) -> String {
    let r = (x + 0.5).floor();
    if !(r >= 1e21 && r.is_finite()) {
        return js_number_to_string(r);
    }
    let shortest = format!("{r:e}");
    let (mantissa, exponent) = shortest.split_once('e').expect("scientific notation");
    let digits = mantissa.replace('.', "");
    let places: usize = exponent.parse::<usize>().expect("a positive exponent") + 1;
    format!("{digits}{}", "0".repeat(places.saturating_sub(digits.len())))
}

/// d3's `formatDecimalParts`: the coefficient's digits and the exponent of
/// `x.toExponential(p - 1)` (the shortest form for `p` 0); `None` for zero and
/// numbers that are not finite.
fn decimal_parts(x: f64, p: usize) -> Option<(String, i32)> {
    if !x.is_finite() || x == 0.0 {
        return None;
    }
    let (d, e) = if p == 0 {
        let s = format!("{x:e}");
        let (m, e) = s.split_once('e')?;
        (m.replace('.', ""), e.parse().ok()?)
    } else {
        let (digits, exponent) = exact_digits(x);
        let (d, e) = round_digits(&digits, exponent, p);
        (text(&d), e)
    };
    Some((d, e))
}

/// d3's `formatRounded` (the `r` type).
fn rounded(x: f64, p: usize) -> String {
    let Some((c, e)) = decimal_parts(x, p) else { return js_number_to_string(x) };
    if e < 0 {
        format!("0.{}{c}", "0".repeat((-e - 1) as usize))
    } else if c.len() > e as usize + 1 {
        format!("{}.{}", &c[..=e as usize], &c[e as usize + 1..])
    } else {
        format!("{c}{}", "0".repeat(e as usize + 1 - c.len()))
    }
}

/// d3's `formatPrefixAuto` (the `s` type); sets the SI prefix's exponent (none
/// for zero and numbers that are not finite).
fn prefix_auto(x: f64, p: usize, prefix_exponent: &mut Option<i32>) -> String {
    let Some((c, e)) = decimal_parts(x, p) else {
        *prefix_exponent = None;
        return to_precision(x, p);
    };
    let exponent = e.div_euclid(3).clamp(-8, 8) * 3;
    *prefix_exponent = Some(exponent);
    let i = e - exponent + 1;
    let n = c.len() as i32;
    if i == n {
        c
    } else if i > n {
        format!("{c}{}", "0".repeat((i - n) as usize))
    } else if i > 0 {
        format!("{}.{}", &c[..i as usize], &c[i as usize..])
    } else {
        let (more, _) = decimal_parts(x, (p as i32 + i - 1).max(0) as usize).unwrap_or_default();
        format!("0.{}{more}", "0".repeat((-i) as usize))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn f(spec: &str, x: f64) -> String {
        format(&parse(spec).unwrap(), x)
    }

    /// Outputs of d3-format 3.1 (vega 6's) in Node for the same calls.
    #[test]
    fn formats_as_d3_does() {
        let cases: &[(&str, f64, &str)] = &[
            ("", 1234.5, "1234.5"),
            ("", 1e21, "1e+21"),
            ("", 1.5e-7, "1.5e-7"),
            ("d", 1e21, "1000000000000000000000"),
            ("d", 1.5e300, &format!("15{}", "0".repeat(299))),
            (".3r", 0.0, "0"),
            ("s", 0.0, "0.00000"),
            ("s", f64::INFINITY, "Infinity"),
            ("", -0.0, "0"),
            ("", f64::NAN, "NaN"),
            ("", f64::INFINITY, "Infinity"),
            ("", -f64::INFINITY, "\u{2212}Infinity"),
            ("d", 2.5, "3"),
            ("d", -2.5, "\u{2212}3"),
            (",d", 1234567.0, "1,234,567"),
            (".2f", 1.005, "1.00"),
            (".2f", 1.125, "1.13"),
            (".0f", 0.5, "1"),
            (".1f", -0.04, "0.0"),
            ("+.1f", -0.04, "\u{2212}0.0"),
            (".3e", 12345.678, "1.235e+4"),
            (".2%", 0.12345, "12.35%"),
            (".3s", 1234.0, "1.23k"),
            ("s", 0.000123, "123.000\u{b5}"),
            ("~s", 1500.0, "1.5k"),
            (".2r", 0.012345, "0.012"),
            ("$,.2f", 1234.5, "$1,234.50"),
            ("(,.2f", -1234.5, "(1,234.50)"),
            ("08.2f", -3.14259, "\u{2212}0003.14"),
            ("^9", 42.0, "   42    "),
            ("*<6", 7.0, "7*****"),
            ("010,d", 1234567.0, "01,234,567"),
            ("~g", 0.1, "0.1"),
            (".3g", 0.0001234, "0.000123"),
            (".3g", 1234567.0, "1.23e+6"),
            (".1f", 1e21, "1e+21"),
        ];
        for (spec, x, expected) in cases {
            assert_eq!(f(spec, *x), *expected, "format({x}, {spec:?})");
        }
    }

    #[test]
    fn refuses_what_it_does_not_format() {
        for spec in ["#x", "x", "b", "c", "n", "p", ".f5", "q"] {
            assert!(parse(spec).is_err(), "{spec}");
        }
    }
}
