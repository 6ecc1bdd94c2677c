//! What a piece of a spec reads besides the row: signals, datasets and scales named
//! in its expressions and parameters, and the fields of `datum` it touches.
//!
//! The analysis is deliberately a superset: a name that might be a reference counts
//! as one. The planner uses it to order work and to decide what crosses between
//! server and client, where reading too much is safe and too little is not.

use crate::expr::{parse, Expr, ExprKind};
use serde_json::Value as Json;
use std::collections::BTreeSet;

/// Identifiers of the expression language that are not signals.
const NOT_SIGNALS: &[&str] = &[
    "datum",
    "event",
    "item",
    "parent",
    "undefined",
    "NaN",
    "Infinity",
    "E",
    "LN2",
    "LN10",
    "LOG2E",
    "LOG10E",
    "PI",
    "SQRT1_2",
    "SQRT2",
    "MIN_VALUE",
    "MAX_VALUE",
];

/// Functions whose first argument names a dataset.
const DATA_FUNCTIONS: &[&str] = &["data", "indata", "modify", "vlSelectionTest", "vlSelectionIdTest", "vlSelectionResolve", "vlSelectionTuples"];

/// Functions whose first argument names a scale.
const SCALE_FUNCTIONS: &[&str] = &["scale", "invert", "range", "domain", "bandwidth", "bandspace", "copy", "gradient", "scaleGradient"];

/// Functions that read `datum` only through fields named elsewhere in the spec (the
/// selection store's field list), so passing `datum` to them is not opaque.
const FIELD_LISTED_DATUM: &[&str] = &["vlSelectionTest", "vlSelectionIdTest"];

/// Keys whose string values are expressions in Vega's JSON.
const EXPRESSION_KEYS: &[&str] = &["signal", "expr", "update", "init", "test", "trigger", "insert", "remove", "toggle", "modify", "filter"];

/// The references of an expression or of a JSON fragment of a spec.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Refs {
    pub signals: BTreeSet<String>,
    pub datasets: BTreeSet<String>,
    pub scales: BTreeSet<String>,
    /// Datasets changed by `modify(name, ...)`.
    pub modified: BTreeSet<String>,
    /// Fields read as `datum.f`, `datum["f"]` or `parent.f`.
    pub fields: BTreeSet<String>,
    /// `datum` used whole or with a computed field name: any field may be read.
    pub opaque_datum: bool,
    /// A dataset named by a non-literal: any dataset may be read.
    pub dynamic_data: bool,
    /// An expression that does not parse (reported where it is lowered).
    pub unparsed: bool,
}

impl Refs {
    /// The references of one expression.
    pub fn of_expr(source: &str) -> Refs {
        let mut refs = Refs::default();
        refs.add_expr(source);
        refs
    }

    /// The references of a JSON fragment: every expression in it (under the keys that
    /// hold expressions, and the `values` of data triggers).
    pub fn of_json(value: &Json) -> Refs {
        let mut refs = Refs::default();
        refs.add_json(value);
        refs
    }

    pub fn add_expr(&mut self, source: &str) {
        match parse(source) {
            Ok(e) => self.visit(&e),
            Err(_) => self.unparsed = true,
        }
    }

    pub fn add_json(&mut self, value: &Json) {
        match value {
            Json::Object(map) => {
                let trigger = map.contains_key("trigger");
                for (k, v) in map {
                    match v {
                        Json::String(s) if EXPRESSION_KEYS.contains(&k.as_str()) || (trigger && k == "values") => self.add_expr(s),
                        other => self.add_json(other),
                    }
                }
            }
            Json::Array(items) => items.iter().for_each(|v| self.add_json(v)),
            _ => {}
        }
    }

    /// Adds everything `other` reads.
    pub fn merge(&mut self, other: Refs) {
        self.signals.extend(other.signals);
        self.datasets.extend(other.datasets);
        self.scales.extend(other.scales);
        self.modified.extend(other.modified);
        self.fields.extend(other.fields);
        self.opaque_datum |= other.opaque_datum;
        self.dynamic_data |= other.dynamic_data;
        self.unparsed |= other.unparsed;
    }

    fn visit(&mut self, e: &Expr) {
        match &e.kind {
            ExprKind::Identifier(name) => {
                if name == "datum" || name == "parent" {
                    self.opaque_datum = true;
                } else if !NOT_SIGNALS.contains(&name.as_str()) {
                    self.signals.insert(name.clone());
                }
            }
            ExprKind::Member { object, property, computed } => self.visit_member(object, property, *computed),
            ExprKind::Call { callee, args } => self.visit_call(callee, args),
            ExprKind::Unary { arg, .. } => self.visit(arg),
            ExprKind::Binary { left, right, .. } | ExprKind::Logical { left, right, .. } => {
                self.visit(left);
                self.visit(right);
            }
            ExprKind::Conditional { test, consequent, alternate } => {
                self.visit(test);
                self.visit(consequent);
                self.visit(alternate);
            }
            ExprKind::Array(items) => items.iter().for_each(|i| self.visit(i)),
            ExprKind::Object(props) => props.iter().for_each(|(_, v)| self.visit(v)),
            ExprKind::String(s) => {
                // A string literal may name a field read by a function (`pluck`).
                self.fields.insert(s.clone());
            }
            ExprKind::Number(_) | ExprKind::Boolean(_) | ExprKind::Null | ExprKind::Regex { .. } => {}
        }
    }

    fn visit_member(&mut self, object: &Expr, property: &Expr, computed: bool) {
        let row = matches!(&object.kind, ExprKind::Identifier(n) if n == "datum" || n == "parent");
        match (&property.kind, row) {
            (ExprKind::String(field), true) => {
                self.fields.insert(field.clone());
            }
            (_, true) => {
                self.opaque_datum = true;
                self.visit(property);
            }
            (_, false) => {
                self.visit(object);
                if computed {
                    self.visit(property);
                }
            }
        }
    }

    fn visit_call(&mut self, callee: &str, args: &[Expr]) {
        let first_name = args.first().and_then(|a| match &a.kind {
            ExprKind::String(s) => Some(s.clone()),
            _ => None,
        });
        if DATA_FUNCTIONS.contains(&callee) {
            match &first_name {
                Some(name) if callee == "modify" => {
                    self.modified.insert(name.clone());
                }
                Some(name) => {
                    self.datasets.insert(name.clone());
                }
                None => self.dynamic_data = true,
            }
        } else if SCALE_FUNCTIONS.contains(&callee) {
            if let Some(name) = &first_name {
                self.scales.insert(name.clone());
            }
        }
        for (i, a) in args.iter().enumerate() {
            let whole_datum = matches!(&a.kind, ExprKind::Identifier(n) if n == "datum");
            if i > 0 && whole_datum && FIELD_LISTED_DATUM.contains(&callee) {
                continue;
            }
            if i == 0 && first_name.is_some() && (DATA_FUNCTIONS.contains(&callee) || SCALE_FUNCTIONS.contains(&callee)) {
                continue;
            }
            self.visit(a);
        }
    }
}

/// Every name a JSON fragment mentions: string values (and their leading path
/// segment, `a` for `"a.b"` or `"a[0]"`), plus the fields and string literals of its
/// expressions. Object keys are not names. A superset of the fields it can read,
/// unless [`Mentions::opaque`] says any field may be read.
#[derive(Debug, Clone, Default)]
pub struct Mentions {
    pub names: BTreeSet<String>,
    pub opaque: bool,
}

impl Mentions {
    pub fn add_json(&mut self, value: &Json) {
        match value {
            Json::String(s) => self.add_name(s),
            Json::Array(items) => items.iter().for_each(|v| self.add_json(v)),
            Json::Object(map) => {
                let trigger = map.contains_key("trigger");
                for (k, v) in map {
                    if let (Json::String(s), true) = (v, EXPRESSION_KEYS.contains(&k.as_str()) || (trigger && k == "values")) {
                        let refs = Refs::of_expr(s);
                        self.opaque |= refs.opaque_datum || refs.unparsed;
                        refs.fields.iter().chain(&refs.datasets).chain(&refs.modified).for_each(|f| self.add_name(f));
                    }
                    self.add_json(v);
                }
            }
            _ => {}
        }
    }

    fn add_name(&mut self, s: &str) {
        self.names.insert(s.to_string());
        if s.contains('\\') {
            self.names.insert(s.replace('\\', ""));
        }
        if let Some(i) = s.find(['.', '[']) {
            self.names.insert(s[..i].to_string());
        }
    }

    pub fn contains(&self, name: &str) -> bool {
        self.names.contains(name)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn finds_signals_datasets_scales_and_fields() {
        let r = Refs::of_expr("datum.a + datum['b c'] > width && indata('t', 'k', datum.c) ? scale('x', PI) : brush.x[0]");
        assert_eq!(r.signals, BTreeSet::from(["width".to_string(), "brush".to_string()]));
        assert_eq!(r.datasets, BTreeSet::from(["t".to_string()]));
        assert_eq!(r.scales, BTreeSet::from(["x".to_string()]));
        assert!(r.fields.contains("a") && r.fields.contains("b c") && r.fields.contains("c"));
        assert!(!r.opaque_datum);
    }

    #[test]
    fn datum_whole_or_computed_is_opaque_except_in_selection_tests() {
        assert!(Refs::of_expr("datum").opaque_datum);
        assert!(Refs::of_expr("datum[field]").opaque_datum);
        let sel = Refs::of_expr("!length(data('brush_store')) || vlSelectionTest('brush_store', datum)");
        assert!(!sel.opaque_datum);
        assert_eq!(sel.datasets, BTreeSet::from(["brush_store".to_string()]));
    }

    #[test]
    fn modify_targets_and_dynamic_data() {
        let r = Refs::of_json(&json!({"on": [{"events": {"signal": "t"}, "update": "modify('store', t, true)"}]}));
        assert_eq!(r.modified, BTreeSet::from(["store".to_string()]));
        assert!(r.signals.contains("t"));
        assert!(Refs::of_expr("data(name)").dynamic_data);
    }

    #[test]
    fn mentions_cover_paths_and_expressions() {
        let mut m = Mentions::default();
        m.add_json(&json!({"encode": {"x": {"field": "a.b"}, "y": {"signal": "datum.c * 2"}}, "n": 3}));
        assert!(m.contains("a") && m.contains("a.b") && m.contains("c"));
        assert!(!m.contains("encode") && !m.opaque);
        m.add_json(&json!({"tooltip": {"signal": "datum"}}));
        assert!(m.opaque);
    }
}
