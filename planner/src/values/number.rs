//! JavaScript's conversions between numbers and strings.

/// `String(x)` for a number, as JavaScript prints it.
///
/// ```
/// use vegalake_planner::values::number::js_number_to_string as s;
/// assert_eq!(s(5.0), "5");
/// assert_eq!(s(0.1 + 0.2), "0.30000000000000004");
/// assert_eq!(s(1e21), "1e+21");
/// assert_eq!(s(1.5e-7), "1.5e-7");
/// assert_eq!(s(-0.0), "0");
/// ```
pub fn js_number_to_string(x: f64) -> String {
    if x.is_nan() {
        return "NaN".into();
    }
    if x.is_infinite() {
        return if x > 0.0 { "Infinity".into() } else { "-Infinity".into() };
    }
    if x == 0.0 {
        return "0".into();
    }
    let a = x.abs();
    if (1e-6..1e21).contains(&a) {
        return format!("{x}");
    }
    let e = format!("{x:e}");
    match e.split_once('e') {
        Some((mantissa, exp)) if !exp.starts_with('-') => format!("{mantissa}e+{exp}"),
        _ => e,
    }
}

/// JavaScript's ToInt32 (`x | 0`, `~~x`): wrapped modulo 2^32, non-finite as 0.
pub fn js_to_int32(x: f64) -> i32 {
    if !x.is_finite() {
        return 0;
    }
    let wrapped = x.trunc().rem_euclid(4_294_967_296.0);
    (if wrapped >= 2_147_483_648.0 { wrapped - 4_294_967_296.0 } else { wrapped }) as i32
}

/// `Number(s)` / unary `+s` for a string: whitespace-trimmed decimal, hex, binary or
/// octal literal, `Infinity`; the empty string is 0; anything else is NaN.
pub fn js_string_to_number(s: &str) -> f64 {
    let t = s.trim_matches(|c: char| c.is_whitespace() || c == '\u{feff}');
    if t.is_empty() {
        return 0.0;
    }
    for (prefix, radix) in [("0x", 16), ("0X", 16), ("0o", 8), ("0O", 8), ("0b", 2), ("0B", 2)] {
        if let Some(digits) = t.strip_prefix(prefix) {
            return u64::from_str_radix(digits, radix).map_or(f64::NAN, |v| v as f64);
        }
    }
    let unsigned = t.strip_prefix(['+', '-']).unwrap_or(t);
    if unsigned == "Infinity" {
        return if t.starts_with('-') { f64::NEG_INFINITY } else { f64::INFINITY };
    }
    let valid = !unsigned.is_empty()
        && unsigned.chars().all(|c| c.is_ascii_digit() || matches!(c, '.' | 'e' | 'E' | '+' | '-'))
        && unsigned.chars().next().is_some_and(|c| c.is_ascii_digit() || c == '.');
    if !valid {
        return f64::NAN;
    }
    t.parse::<f64>().unwrap_or(f64::NAN)
}

/// JavaScript's `parseFloat`: the longest numeric prefix after leading whitespace.
pub fn js_parse_float(s: &str) -> f64 {
    let t = s.trim_start();
    let rest = t.strip_prefix(['+', '-']).unwrap_or(t);
    if rest.starts_with("Infinity") {
        return if t.starts_with('-') { f64::NEG_INFINITY } else { f64::INFINITY };
    }
    let bytes = t.as_bytes();
    let mut end = 0;
    let mut best = None;
    // Grow the prefix while it still parses; keep the longest that did.
    while end < bytes.len() {
        end += 1;
        if !t.is_char_boundary(end) {
            break;
        }
        let p = &t[..end];
        if p.ends_with(['e', 'E', '+', '-', '.']) && !p.ends_with("..") {
            continue;
        }
        match p.parse::<f64>() {
            Ok(v) if !p.contains(char::is_alphabetic) || p.contains(['e', 'E']) => best = Some(v),
            _ if best.is_some() && !p[p.len() - 1..].chars().all(|c| c.is_ascii_digit()) => break,
            _ => {}
        }
    }
    best.unwrap_or(f64::NAN)
}

/// JavaScript's `parseInt(s, radix)`.
pub fn js_parse_int(s: &str, radix: Option<u32>) -> f64 {
    let t = s.trim_start();
    let (neg, mut rest) = match t.strip_prefix('-') {
        Some(r) => (true, r),
        None => (false, t.strip_prefix('+').unwrap_or(t)),
    };
    let mut radix = radix.filter(|r| *r != 0).unwrap_or(10);
    if (radix == 16 || radix == 10 && radix_unset(s)) && (rest.starts_with("0x") || rest.starts_with("0X")) {
        rest = &rest[2..];
        radix = 16;
    }
    if !(2..=36).contains(&radix) {
        return f64::NAN;
    }
    let digits: String = rest.chars().take_while(|c| c.is_digit(radix)).collect();
    if digits.is_empty() {
        return f64::NAN;
    }
    let v = digits.chars().fold(0.0, |acc, c| acc * radix as f64 + c.to_digit(radix).unwrap() as f64);
    if neg {
        -v
    } else {
        v
    }
}

fn radix_unset(_: &str) -> bool {
    true
}

/// JavaScript's `String(v)` of a JSON value: numbers as JavaScript prints them,
/// arrays joined by commas (null items empty), objects as `[object Object]`.
pub fn js_string_of_json(v: &serde_json::Value) -> String {
    use serde_json::Value;
    match v {
        Value::Null => "null".to_string(),
        Value::Bool(b) => b.to_string(),
        Value::Number(n) => js_number_to_string(n.as_f64().unwrap_or(f64::NAN)),
        Value::String(s) => s.clone(),
        Value::Array(items) => items.iter().map(|i| if i.is_null() { String::new() } else { js_string_of_json(i) }).collect::<Vec<_>>().join(","),
        Value::Object(_) => "[object Object]".to_string(),
    }
}

/// JavaScript's `+v` of a JSON value: arrays through their string (`+[5]` is 5).
pub fn js_number_of_json(v: &serde_json::Value) -> f64 {
    use serde_json::Value;
    match v {
        Value::Null => 0.0,
        Value::Bool(b) => f64::from(u8::from(*b)),
        Value::Number(n) => n.as_f64().unwrap_or(f64::NAN),
        Value::String(s) => js_string_to_number(s),
        Value::Array(_) => js_string_to_number(&js_string_of_json(v)),
        Value::Object(_) => f64::NAN,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn string_to_number() {
        assert_eq!(js_string_to_number(" 12.5 "), 12.5);
        assert_eq!(js_string_to_number(""), 0.0);
        assert_eq!(js_string_to_number("0x1f"), 31.0);
        assert_eq!(js_string_to_number("-Infinity"), f64::NEG_INFINITY);
        assert!(js_string_to_number("12px").is_nan());
        assert!(js_string_to_number("inf").is_nan());
        assert_eq!(js_string_to_number(".5e1"), 5.0);
    }

    #[test]
    fn parse_prefixes() {
        assert_eq!(js_parse_float("2.75abc"), 2.75);
        assert_eq!(js_parse_float("  -2e3x"), -2000.0);
        assert!(js_parse_float("abc").is_nan());
        assert_eq!(js_parse_int("42.9px", None), 42.0);
        assert_eq!(js_parse_int("0x1A", None), 26.0);
        assert_eq!(js_parse_int("-17", Some(8)), -15.0);
        assert!(js_parse_int("z", None).is_nan());
    }
}
