//! Serde model of a Vega spec.
//!
//! Only the parts vegalake reasons about are typed (data, transforms, signals, marks
//! and their nesting); every other property is kept in an `extra` map so that a spec
//! round-trips unchanged through `from_str` and `to_value`.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

/// A whole Vega spec, or the body of a group mark (which has the same shape).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Spec {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub data: Option<Vec<Data>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub signals: Option<Vec<Signal>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub marks: Option<Vec<Mark>>,
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// One `data` entry.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Data {
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source: Option<Source>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub values: Option<Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub format: Option<Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub transform: Option<Vec<Transform>>,
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// A data entry's `source`: one dataset name or several (which are concatenated).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum Source {
    One(String),
    Many(Vec<String>),
}

impl Source {
    pub fn names(&self) -> Vec<&str> {
        match self {
            Source::One(s) => vec![s.as_str()],
            Source::Many(v) => v.iter().map(String::as_str).collect(),
        }
    }
}

/// One transform of a data pipeline. Its parameters stay JSON here: the transform
/// registry (in `vegalake-sql-gen`) owns their parsing and validation.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Transform {
    #[serde(rename = "type")]
    pub kind: String,
    #[serde(flatten)]
    pub params: Map<String, Value>,
}

impl Transform {
    pub fn param(&self, name: &str) -> Option<&Value> {
        self.params.get(name)
    }
}

/// One signal definition.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Signal {
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub value: Option<Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub update: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub init: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub on: Option<Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bind: Option<Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub push: Option<String>,
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

impl Signal {
    /// True when the signal's value can change after the first evaluation
    /// (event handlers, input bindings, pushed outer signals).
    pub fn is_interactive(&self) -> bool {
        self.on.is_some() || self.bind.is_some() || self.push.is_some()
    }
}

/// A mark; group marks carry a nested scope with their own data, signals and marks.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Mark {
    #[serde(rename = "type")]
    pub kind: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub from: Option<Value>,
    #[serde(flatten)]
    pub scope: Spec,
}

impl Spec {
    pub fn data(&self) -> &[Data] {
        self.data.as_deref().unwrap_or(&[])
    }

    pub fn signals(&self) -> &[Signal] {
        self.signals.as_deref().unwrap_or(&[])
    }

    pub fn marks(&self) -> &[Mark] {
        self.marks.as_deref().unwrap_or(&[])
    }
}

impl Data {
    pub fn transforms(&self) -> &[Transform] {
        self.transform.as_deref().unwrap_or(&[])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_unknown_properties() {
        let text = r#"{"$schema":"x","width":200,"data":[{"name":"a","values":[{"x":1}],
            "transform":[{"type":"filter","expr":"datum.x > 0","extra":true}],"on":[1]}],
            "signals":[{"name":"s","value":3,"description":"d"}],
            "marks":[{"type":"group","from":{"facet":{"data":"a","name":"f","groupby":["x"]}},
                      "data":[{"name":"inner","source":"f"}],"marks":[{"type":"rect","encode":{}}]}],
            "scales":[{"name":"x","domain":{"data":"a","field":"x"}}]}"#;
        let original: Value = serde_json::from_str(text).unwrap();
        let spec: Spec = serde_json::from_value(original.clone()).unwrap();
        assert_eq!(spec.data()[0].transforms()[0].kind, "filter");
        assert_eq!(spec.marks()[0].scope.data()[0].source, Some(Source::One("f".into())));
        assert_eq!(serde_json::to_value(&spec).unwrap(), original);
    }
}
