//! A variable's value on the wire (`vegalake.v1.Value`): JSON text, or with the
//! `ARROW` encoding a dataset's rows as an Arrow IPC stream ([`crate::arrow_rows`]).

use crate::arrow_rows;
use crate::v1::{value, Encoding, Value};
use serde_json::Value as Json;

impl Value {
    /// The value of a signal or dataset (`namespace` `"signal"` or `"data"`) for
    /// the wire. Rows that are not objects (no dataset has them) stay JSON.
    pub fn encode(namespace: &str, name: String, scope: Vec<u32>, json: &Json, encoding: Encoding) -> Value {
        let arrow = match json {
            Json::Array(rows) if encoding == Encoding::Arrow && namespace == "data" => arrow_rows::rows_to_ipc(rows).ok(),
            _ => None,
        };
        let value = arrow.map_or_else(|| value::Value::Json(json.to_string()), value::Value::Arrow);
        Value { namespace: namespace.into(), name, scope, value: Some(value) }
    }

    /// The value as JSON: its text parsed, or its Arrow rows (at most `max_rows`;
    /// only a dataset travels as Arrow). No value is `null`.
    pub fn to_json(&self, max_rows: usize) -> Result<Json, String> {
        match &self.value {
            Some(value::Value::Json(text)) => serde_json::from_str(text).map_err(|e| format!("invalid JSON: {e}")),
            Some(value::Value::Arrow(_)) if self.namespace != "data" => Err("Arrow carries datasets; send a signal as JSON".into()),
            Some(value::Value::Arrow(ipc)) => arrow_rows::ipc_to_rows(ipc, max_rows).map(Json::Array).map_err(|e| e.to_string()),
            None => Ok(Json::Null),
        }
    }
}
