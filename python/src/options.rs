//! What a call evaluates with: the options the Python layer sends as JSON, and
//! the in-memory tables it hands over as Arrow.

use crate::errors::{data_error, spec_error};
use datafusion::arrow::datatypes::Schema;
use datafusion::arrow::record_batch::RecordBatch;
use pyo3::prelude::*;
use pyo3::types::PyDict;
use pyo3_arrow::PyTable;
use serde::Deserialize;
use serde_json::{Map, Value as Json};
use std::path::PathBuf;
use std::sync::Arc;
use vegalake_connectors::{Catalog, DataAccess, MemoryTable, MemoryTables, SourceOptions, WarehouseTables};
use vegalake_executors::{ChartOptions, EvalOptions, Interactivity};
use vegalake_planner::values::time::Zone;

/// In-memory and warehouse tables by the name specs give them
/// (`vegalake+dataset://NAME`).
pub struct Tables {
    memory: MemoryTables,
    warehouse: WarehouseTables,
}

impl Tables {
    pub fn empty() -> Tables {
        Tables { memory: MemoryTables::new(), warehouse: WarehouseTables::new() }
    }

    /// `{name: (identity, table)}` where each table speaks the Arrow C stream
    /// interface or is a warehouse table (`vegalake._warehouse.WarehouseTable`).
    /// The identity (unique per frame the Python layer was given) keys the
    /// cache: two frames under one name must not share results.
    pub fn extract(dict: &Bound<'_, PyDict>) -> PyResult<Tables> {
        let mut tables = Tables::empty();
        let mut connections = crate::warehouse::Connections::default();
        for (name, entry) in dict.iter() {
            let name: String = name.extract()?;
            let (identity, table): (String, Bound<'_, PyAny>) = entry.extract()?;
            if table.hasattr("relation")? {
                let table = connections.table(&name, identity, &table)?;
                tables.warehouse.insert(name, Arc::new(table));
                continue;
            }
            let table: PyTable = table.extract().map_err(|e| data_error(format!("in-memory table '{name}': not an Arrow table: {e}")))?;
            let (batches, schema) = table.into_inner();
            tables.memory.insert(name, Arc::new(MemoryTable::new(schema, batches, identity)));
        }
        Ok(tables)
    }
}

/// The options of one call.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct OptionsJson {
    #[serde(default)]
    data_dir: Option<PathBuf>,
    #[serde(default)]
    allow_roots: Vec<String>,
    #[serde(default)]
    catalog: Option<PathBuf>,
    #[serde(default = "utc")]
    timezone: String,
    #[serde(default)]
    row_limit: Option<usize>,
    /// The most rows a standalone interactive spec may ship (see
    /// `ChartOptions::browser_rows`).
    #[serde(default)]
    browser_rows: Option<usize>,
    /// "browser" (the client spec works alone), "server" (updates through a
    /// chart state) or "static".
    #[serde(default = "browser")]
    interactivity: String,
    #[serde(default)]
    signals: Map<String, Json>,
    #[serde(default)]
    stores: Map<String, Json>,
}

fn utc() -> String {
    "UTC".into()
}

fn browser() -> String {
    "browser".into()
}

pub struct Options {
    json: OptionsJson,
    tables: Tables,
}

impl Options {
    pub fn parse(text: &str, tables: Tables) -> PyResult<Options> {
        let json = serde_json::from_str(text).map_err(|e| spec_error(format!("options: {e}")))?;
        Ok(Options { json, tables })
    }

    /// The options of `vegalake eval`.
    pub fn eval_options(&self) -> PyResult<EvalOptions> {
        let o = &self.json;
        let zone = Zone::parse(&o.timezone).map_err(|e| spec_error(format!("local_tz: {e}")))?;
        let data_dir = o.data_dir.clone().unwrap_or_else(|| PathBuf::from("."));
        let catalog = match &o.catalog {
            Some(path) => Catalog::load(path).map_err(|e| data_error(format!("catalog: {e}")))?,
            None => Catalog::default(),
        };
        let data = DataAccess {
            allow_roots: o.allow_roots.clone(),
            catalog: Arc::new(catalog),
            memory: Arc::new(self.tables.memory.clone()),
            warehouse: Arc::new(self.tables.warehouse.clone()),
            ..DataAccess::new(data_dir)
        };
        Ok(EvalOptions { data, zone, signals: o.signals.clone(), stores: o.stores.clone() })
    }

    /// Where data is read from and how.
    pub fn source_options(&self) -> PyResult<SourceOptions> {
        let eval = self.eval_options()?;
        Ok(SourceOptions { access: eval.data, zone: eval.zone })
    }

    /// The options of a chart (pre-transform, chart state).
    pub fn chart_options(&self) -> PyResult<ChartOptions> {
        let base = ChartOptions::from(self.eval_options()?);
        let interactivity = match self.json.interactivity.as_str() {
            "browser" => Interactivity::Browser,
            "server" => Interactivity::Server,
            "static" => Interactivity::Static,
            other => return Err(spec_error(format!("options: unknown interactivity '{other}' (browser, server or static)"))),
        };
        Ok(ChartOptions { row_limit: self.json.row_limit, interactivity, browser_rows: self.json.browser_rows, ..base })
    }
}

/// A dataset's batches as a table without vegalake's internal columns.
pub fn public_table(batches: Vec<RecordBatch>) -> PyResult<PyTable> {
    let Some(first) = batches.first() else {
        return PyTable::try_new(Vec::new(), Arc::new(Schema::empty()));
    };
    let schema = first.schema();
    let keep: Vec<usize> = (0..schema.fields().len()).filter(|&i| !schema.field(i).name().starts_with("__vl_")).collect();
    let projected = Arc::new(schema.project(&keep).map_err(|e| data_error(e.to_string()))?);
    let batches = batches.iter().map(|b| b.project(&keep).map_err(|e| data_error(e.to_string()))).collect::<PyResult<Vec<_>>>()?;
    PyTable::try_new(batches, projected)
}
