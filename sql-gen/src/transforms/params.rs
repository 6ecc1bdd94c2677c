//! Typed access to a transform's parameters, resolving `{"signal": ...}` references.

use crate::env::Environment;
use crate::error::{invalid, unsupported, LowerError, Result};
use crate::lower::Lowerer;
use datafusion::common::DFSchema;
use serde_json::Value as Json;
use vegalake_planner::Transform;

/// A field name as vega's `field()` reads it: `a.b` and `a[0]` are nested paths
/// (not supported on the server), `a\.b` is the flat name `a.b`.
pub fn field_name(path: &str) -> Result<String> {
    let mut parts: Vec<String> = Vec::new();
    let mut cur = String::new();
    let mut chars = path.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\\' => {
                if let Some(n) = chars.next() {
                    cur.push(n);
                }
            }
            '.' => parts.push(std::mem::take(&mut cur)),
            '[' => {
                if !cur.is_empty() {
                    parts.push(std::mem::take(&mut cur));
                }
                let quote = chars.peek().copied().filter(|q| *q == '"' || *q == '\'');
                if quote.is_some() {
                    chars.next();
                }
                for n in chars.by_ref() {
                    if Some(n) == quote || (quote.is_none() && n == ']') {
                        break;
                    }
                    cur.push(n);
                }
                if quote.is_some() {
                    chars.next(); // the closing ']'
                }
                parts.push(std::mem::take(&mut cur));
                if chars.peek() == Some(&'.') {
                    chars.next();
                }
            }
            _ => cur.push(c),
        }
    }
    if !cur.is_empty() || parts.is_empty() {
        parts.push(cur);
    }
    match parts.as_slice() {
        [one] => Ok(one.clone()),
        _ => unsupported(format!("nested field '{path}'")),
    }
}

/// The parameters of one transform.
pub struct Params<'a> {
    pub transform: &'a Transform,
    env: &'a dyn Environment,
}

impl<'a> Params<'a> {
    pub fn new(transform: &'a Transform, env: &'a dyn Environment) -> Params<'a> {
        Params { transform, env }
    }

    /// Fails (as unsupported) if the transform has parameters the lowering ignores,
    /// so that nothing is silently dropped.
    pub fn only(&self, known: &[&str]) -> Result<()> {
        for k in self.transform.params.keys() {
            if !known.contains(&k.as_str()) {
                return unsupported(format!("parameter '{k}' of transform '{}'", self.transform.kind));
            }
        }
        Ok(())
    }

    /// A parameter's value with signal references resolved to constants.
    pub fn get(&self, name: &str) -> Result<Option<Json>> {
        let Some(v) = self.transform.param(name) else { return Ok(None) };
        self.resolve(v).map(Some).map_err(|e| e.at(name))
    }

    fn resolve(&self, v: &Json) -> Result<Json> {
        resolve_signals(v, self.env)
    }

    fn typed<T>(&self, name: &str, what: &str, f: impl Fn(&Json) -> Option<T>) -> Result<Option<T>> {
        match self.get(name)? {
            None | Some(Json::Null) => Ok(None),
            Some(v) => f(&v).map(Some).ok_or_else(|| LowerError::Invalid(format!("{name}: expected {what}, got {v}"))),
        }
    }

    pub fn string(&self, name: &str) -> Result<Option<String>> {
        self.typed(name, "a string", |v| v.as_str().map(str::to_string))
    }

    pub fn number(&self, name: &str) -> Result<Option<f64>> {
        self.typed(name, "a number", |v| v.as_f64().or_else(|| v.as_str().and_then(|s| s.parse().ok())))
    }

    pub fn boolean(&self, name: &str) -> Result<Option<bool>> {
        self.typed(name, "a boolean", Json::as_bool)
    }

    /// A list parameter; a single value counts as a list of one, as in Vega.
    pub fn list(&self, name: &str) -> Result<Vec<Json>> {
        Ok(match self.get(name)? {
            None | Some(Json::Null) => Vec::new(),
            Some(Json::Array(items)) => items,
            Some(one) => vec![one],
        })
    }

    pub fn numbers(&self, name: &str) -> Result<Option<Vec<f64>>> {
        if self.transform.param(name).is_none() {
            return Ok(None);
        }
        self.list(name)?
            .iter()
            .map(|v| v.as_f64().ok_or_else(|| LowerError::Invalid(format!("{name}: expected numbers, got {v}"))))
            .collect::<Result<Vec<_>>>()
            .map(Some)
    }

    /// Optional strings (an `as` list may hold nulls for defaults).
    pub fn strings(&self, name: &str) -> Result<Vec<Option<String>>> {
        self.list(name)?
            .iter()
            .map(|v| match v {
                Json::Null => Ok(None),
                Json::String(s) => Ok(Some(s.clone())),
                other => invalid(format!("{name}: expected strings, got {other}")),
            })
            .collect()
    }

    /// The two output names of an `as` parameter, each defaulting where absent or null.
    pub fn output_pair(&self, name: &str, defaults: [&str; 2]) -> Result<[String; 2]> {
        let given = self.strings(name)?;
        let at = |i: usize| given.get(i).cloned().flatten().unwrap_or_else(|| defaults[i].to_string());
        Ok([at(0), at(1)])
    }

    /// A field reference: a field name string, or `{"field": name}`.
    pub fn field(&self, name: &str) -> Result<Option<String>> {
        match self.get(name)? {
            None | Some(Json::Null) => Ok(None),
            Some(v) => field_ref(&v).map(Some).map_err(|e| e.at(name)),
        }
    }

    pub fn required_field(&self, name: &str) -> Result<String> {
        self.field(name)?.ok_or_else(|| LowerError::Invalid(format!("transform '{}' needs '{name}'", self.transform.kind)))
    }

    /// A list of field references; nulls are kept (aggregate's `count` has none).
    pub fn fields(&self, name: &str) -> Result<Vec<Option<String>>> {
        self.list(name)?.iter().map(|v| if v.is_null() { Ok(None) } else { field_ref(v).map(Some) }).collect::<Result<_>>().map_err(|e| e.at(name))
    }
}

/// A parameter's value with its `{"signal": expr}` parts evaluated to constants
/// (unsupported where only the client knows them).
pub(crate) fn resolve_signals(v: &Json, env: &dyn Environment) -> Result<Json> {
    match v {
        Json::Object(o) if o.len() == 1 && o.contains_key("signal") => {
            let Some(src) = o["signal"].as_str() else { return invalid("'signal' must be an expression string") };
            let schema = DFSchema::empty();
            let lowerer = Lowerer::new(&schema, env);
            let ast = vegalake_planner::expr::parse(src).map_err(|e| LowerError::Invalid(format!("{e} in {src:?}")))?;
            let lowered = lowerer.lower(&ast)?;
            lowered.to_json().ok_or_else(|| LowerError::Unsupported(format!("signal expression {src:?} is not a constant")))
        }
        Json::Array(items) => Ok(Json::Array(items.iter().map(|i| resolve_signals(i, env)).collect::<Result<_>>()?)),
        other => Ok(other.clone()),
    }
}

fn field_ref(v: &Json) -> Result<String> {
    match v {
        Json::String(s) => field_name(s),
        Json::Object(o) if o.contains_key("field") => match &o["field"] {
            Json::String(s) => field_name(s),
            other => invalid(format!("expected a field name, got {other}")),
        },
        Json::Object(o) if o.contains_key("expr") => unsupported("expression field references"),
        other => invalid(format!("expected a field name, got {other}")),
    }
}

#[cfg(test)]
mod tests {
    use super::field_name;

    #[test]
    fn field_paths() {
        assert_eq!(field_name("a b").unwrap(), "a b");
        assert_eq!(field_name("a\\.b").unwrap(), "a.b");
        assert_eq!(field_name("['a.b']").unwrap(), "a.b");
        assert!(field_name("a.b").is_err());
        assert!(field_name("a[0]").is_err());
    }
}
