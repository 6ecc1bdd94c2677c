//! Warehouse tables handed over by the Python layer (`vegalake/_warehouse.py`): a
//! Spark DataFrame, a DuckDB relation, a PostgreSQL table or query. Each carries
//! its schema, the name its warehouse knows it by, and its connection's `query`
//! (SQL text in, a pyarrow table out) and `cancel`; the executors send it the
//! SQL of the plan parts that read the table.

use crate::errors::data_error;
use datafusion::arrow::datatypes::Schema;
use datafusion::arrow::record_batch::RecordBatch;
use pyo3::prelude::*;
use pyo3_arrow::{PySchema, PyTable};
use std::collections::HashMap;
use std::sync::Arc;
use vegalake_connectors::{Warehouse, WarehouseTable};

/// A connection the Python layer wraps: its `query` and `cancel` callables.
#[derive(Debug)]
struct PyWarehouse {
    dialect: String,
    label: String,
    /// The Python object with `query(sql) -> pyarrow.Table` and `cancel()`.
    connection: Py<PyAny>,
}

#[async_trait::async_trait]
impl Warehouse for PyWarehouse {
    fn dialect(&self) -> &str {
        &self.dialect
    }

    fn label(&self) -> &str {
        &self.label
    }

    async fn query(&self, sql: &str) -> Result<Vec<RecordBatch>, String> {
        let connection = Python::attach(|py| self.connection.clone_ref(py));
        let sql = sql.to_string();
        // The user's driver blocks: on a thread of its own, holding the GIL.
        let run = move || {
            Python::attach(|py| {
                let table = connection.call_method1(py, "query", (sql,)).map_err(|e| one_line(py, &e))?;
                let table: PyTable = table.bind(py).extract().map_err(|e| format!("its query did not return an Arrow table: {e}"))?;
                Ok(table.into_inner().0)
            })
        };
        tokio::task::spawn_blocking(run).await.map_err(|e| format!("the query's thread stopped: {e}"))?
    }

    async fn cancel(&self) {
        let connection = Python::attach(|py| self.connection.clone_ref(py));
        let cancel = move || {
            Python::attach(|py| {
                if let Err(e) = connection.call_method0(py, "cancel") {
                    log::warn!("cannot cancel the warehouse's query: {}", one_line(py, &e));
                }
            })
        };
        let _ = tokio::task::spawn_blocking(cancel).await;
    }
}

/// A Python exception as one line: its type and the first line of its message.
fn one_line(py: Python<'_>, e: &PyErr) -> String {
    let kind = e.get_type(py).name().map(|n| n.to_string()).unwrap_or_else(|_| "Exception".into());
    let text = e.value(py).to_string();
    let first = text.lines().map(str::trim).find(|l| !l.is_empty()).unwrap_or("");
    format!("{kind}: {first}")
}

/// Warehouse tables from their Python descriptions; tables of one connection
/// share one [`Warehouse`] (a query may read several of them).
#[derive(Default)]
pub struct Connections {
    connections: HashMap<usize, Arc<dyn Warehouse>>,
}

impl Connections {
    /// The table `source` describes (a `vegalake._warehouse.WarehouseTable`), its
    /// cache identity `identity`.
    pub fn table(&mut self, name: &str, identity: String, source: &Bound<'_, PyAny>) -> PyResult<WarehouseTable> {
        let bad = |what: &str, e: PyErr| data_error(format!("warehouse table '{name}': {what}: {e}"));
        let connection = source.getattr("connection").map_err(|e| bad("no connection", e))?;
        let key = connection.as_ptr() as usize;
        let warehouse = match self.connections.get(&key) {
            Some(w) => w.clone(),
            None => {
                let dialect: String = connection.getattr("dialect").and_then(|d| d.extract()).map_err(|e| bad("no dialect", e))?;
                let label: String = connection.getattr("label").and_then(|d| d.extract()).map_err(|e| bad("no label", e))?;
                let w: Arc<dyn Warehouse> = Arc::new(PyWarehouse { dialect, label, connection: connection.clone().unbind() });
                self.connections.insert(key, w.clone());
                w
            }
        };
        let schema: PySchema = source.getattr("schema").and_then(|s| s.extract()).map_err(|e| bad("no Arrow schema", e))?;
        let relation: Vec<String> = source.getattr("relation").and_then(|r| r.extract()).map_err(|e| bad("no relation name", e))?;
        let collect_limit: Option<usize> = source.getattr("collect_limit").and_then(|c| c.extract()).map_err(|e| bad("bad collect_limit", e))?;
        let schema: Arc<Schema> = schema.into_inner();
        Ok(WarehouseTable::new(schema, relation, identity, warehouse, collect_limit))
    }
}
