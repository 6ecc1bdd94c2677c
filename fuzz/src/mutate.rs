//! Mutations of an input: bytes (flips, deletions, duplications, tokens of the
//! spec language, splices of two inputs) and, when the input is JSON, its tree
//! (a node replaced by another input's node or by an edge value: deep nesting,
//! huge numbers, long strings, empty containers). No coverage feedback exists on
//! stable Rust; the tree mutations are what reach past the JSON reader.

use serde_json::Value as Json;

/// A small deterministic generator (xorshift64*): a run is repeatable from its seed.
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Rng {
        Rng(seed.max(1))
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    /// A number in `0..n` (`n` > 0).
    pub fn below(&mut self, n: usize) -> usize {
        (self.next_u64() % n.max(1) as u64) as usize
    }
}

/// Tokens of Vega specs and expressions, inserted whole.
const TOKENS: &[&str] = &[
    "{",
    "}",
    "[",
    "]",
    "\"",
    ",",
    ":",
    "(",
    ")",
    "datum.",
    "datum[",
    "null",
    "true",
    "-0",
    "1e308",
    "-1e308",
    "NaN",
    "Infinity",
    "0.1",
    "\"type\"",
    "\"aggregate\"",
    "\"bin\"",
    "\"window\"",
    "\"filter\"",
    "\"formula\"",
    "\"expr\"",
    "\"field\"",
    "\"signal\"",
    "\"groupby\"",
    "\"ops\"",
    "\"as\"",
    "\"source\"",
    "\"values\"",
    "\"transform\"",
    "\"data\"",
    "\"name\"",
    "\"extent\"",
    "\"timeunit\"",
    "\"units\"",
    "\"lookup\"",
    "\"fold\"",
    "\"pivot\"",
    "\"stack\"",
    "\"impute\"",
    "\"sequence\"",
    "\"flatten\"",
    "\"sort\"",
    "\"frame\"",
    "\"scope\"",
    "&&",
    "||",
    "?",
    "===",
    "!==",
    ">=",
    "<<",
    ">>>",
    "+",
    "-",
    "*",
    "/",
    "%",
    "!",
    "~",
    "'",
    "\\u0000",
    "\\",
    "..",
    "/*",
    "`",
    "vlSelectionTest(",
    "inrange(",
    "timeFormat(",
    "utcParse(",
    "format(",
    "span(",
    "extent(",
    "indexof(",
    "replace(",
    "regexp(",
];

/// One mutation of `input`, with `others` as material for splices and swaps.
pub fn mutate(input: &[u8], others: &[Vec<u8>], rng: &mut Rng) -> Vec<u8> {
    if rng.below(3) == 0 {
        if let Some(tree) = mutate_json(input, others, rng) {
            return tree;
        }
    }
    let mut out = input.to_vec();
    for _ in 0..1 + rng.below(4) {
        mutate_bytes(&mut out, others, rng);
    }
    out
}

fn mutate_bytes(out: &mut Vec<u8>, others: &[Vec<u8>], rng: &mut Rng) {
    let at = rng.below(out.len() + 1);
    match rng.below(6) {
        0 if !out.is_empty() => {
            let i = rng.below(out.len());
            out[i] ^= 1 << rng.below(8);
        }
        1 if !out.is_empty() => {
            let end = (at + 1 + rng.below(16)).min(out.len());
            out.drain(at.min(end)..end);
        }
        2 if !out.is_empty() => {
            let end = (at + 1 + rng.below(32)).min(out.len());
            let chunk = out[at.min(end)..end].to_vec();
            out.splice(at..at, chunk);
        }
        3 => {
            let token = TOKENS[rng.below(TOKENS.len())].as_bytes();
            out.splice(at..at, token.iter().copied());
        }
        4 if !others.is_empty() => {
            let other = &others[rng.below(others.len())];
            let from = rng.below(other.len() + 1);
            out.truncate(at);
            out.extend_from_slice(&other[from..]);
        }
        _ => {
            let i = rng.below(out.len().max(1));
            if i < out.len() {
                out[i] = b"{}[]\",:0-1e.\\ a"[rng.below(15)];
            }
        }
    }
}

/// `input`'s JSON with one node replaced, or `None` when it is not JSON.
fn mutate_json(input: &[u8], others: &[Vec<u8>], rng: &mut Rng) -> Option<Vec<u8>> {
    let mut tree: Json = serde_json::from_slice(input).ok()?;
    let count = nodes(&tree);
    let target = rng.below(count);
    let replacement = if rng.below(2) == 0 && !others.is_empty() {
        let other: Json = serde_json::from_slice(&others[rng.below(others.len())]).unwrap_or(Json::Null);
        let n = nodes(&other);
        node_at(&other, rng.below(n)).cloned().unwrap_or(Json::Null)
    } else {
        edge_value(rng)
    };
    replace_at(&mut tree, target, replacement);
    serde_json::to_vec(&tree).ok()
}

/// Values at the edges of what readers expect.
fn edge_value(rng: &mut Rng) -> Json {
    use serde_json::json;
    match rng.below(12) {
        0 => Json::Null,
        1 => json!(-1),
        2 => json!(1e300),
        3 => json!(""),
        4 => json!([]),
        5 => json!({}),
        6 => json!("x".repeat(10_000)),
        7 => (0..64).fold(json!(1), |inner, _| json!([inner])),
        8 => json!(u64::MAX),
        9 => json!(0.5),
        10 => json!("datum.a"),
        _ => json!(true),
    }
}

fn nodes(v: &Json) -> usize {
    1 + match v {
        Json::Array(a) => a.iter().map(nodes).sum(),
        Json::Object(o) => o.values().map(nodes).sum(),
        _ => 0,
    }
}

fn node_at(v: &Json, mut i: usize) -> Option<&Json> {
    if i == 0 {
        return Some(v);
    }
    i -= 1;
    let children: Box<dyn Iterator<Item = &Json>> = match v {
        Json::Array(a) => Box::new(a.iter()),
        Json::Object(o) => Box::new(o.values()),
        _ => return None,
    };
    for child in children {
        let n = nodes(child);
        if i < n {
            return node_at(child, i);
        }
        i -= n;
    }
    None
}

fn replace_at(v: &mut Json, mut i: usize, with: Json) {
    if i == 0 {
        *v = with;
        return;
    }
    i -= 1;
    let children: Box<dyn Iterator<Item = &mut Json>> = match v {
        Json::Array(a) => Box::new(a.iter_mut()),
        Json::Object(o) => Box::new(o.values_mut()),
        _ => return,
    };
    for child in children {
        let n = nodes(child);
        if i < n {
            return replace_at(child, i, with);
        }
        i -= n;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_tree_mutation_keeps_json_and_changes_one_node() {
        let input = br#"{"a": [1, 2, {"b": "c"}], "d": null}"#;
        let mut rng = Rng::new(7);
        let mut changed = 0;
        for _ in 0..50 {
            let out = mutate_json(input, &[], &mut rng).unwrap();
            let tree: Json = serde_json::from_slice(&out).expect("still JSON");
            changed += usize::from(tree != serde_json::from_slice::<Json>(input).unwrap());
        }
        assert!(changed > 25, "{changed} of 50 mutations changed the tree");
        assert!(mutate_json(b"{not json", &[], &mut rng).is_none());
    }
}
