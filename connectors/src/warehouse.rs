//! Tables that live in a warehouse (a Spark session, a DuckDB database, a
//! PostgreSQL server) and are reached through the caller's own connection, named
//! in specs as `vegalake+dataset://NAME` like in-memory tables.
//!
//! A [`WarehouseTable`] carries the table's schema and the name the warehouse
//! knows it by, never its rows: its scan cannot run here. The executors unparse
//! the parts of a plan that read it to the warehouse's dialect and send them
//! through its [`Warehouse`]; only with a collect limit may its rows be fetched
//! whole, for a part of a chart that has no SQL form.

use datafusion::arrow::datatypes::SchemaRef;
use datafusion::arrow::record_batch::RecordBatch;
use datafusion::catalog::Session;
use datafusion::datasource::{TableProvider, TableType};
use datafusion::error::{DataFusionError, Result as DfResult};
use datafusion::logical_expr::{Expr, LogicalPlan};
use datafusion::physical_plan::ExecutionPlan;
use std::collections::BTreeMap;
use std::fmt;
use std::sync::Arc;

/// The name prefix of warehouse tables' scans.
pub const WAREHOUSE_SCAN_PREFIX: &str = "__vl_warehouse_";

/// A connection that runs SQL where the data is and returns its rows as Arrow.
#[async_trait::async_trait]
pub trait Warehouse: Send + Sync + fmt::Debug {
    /// The SQL dialect it speaks: `spark`, `duckdb` or `postgres`.
    fn dialect(&self) -> &str;

    /// What the connection is, for messages (`duckdb connection`, `spark session`).
    fn label(&self) -> &str;

    /// One query's rows, or the warehouse's error as one line.
    async fn query(&self, sql: &str) -> Result<Vec<RecordBatch>, String>;

    /// Stops the queries it is running (a timeout passed); best effort.
    async fn cancel(&self) {}
}

/// A table of a warehouse, as a spec's data names it.
#[derive(Debug, Clone)]
pub struct WarehouseTable {
    schema: SchemaRef,
    /// The name the warehouse's SQL reads it by, as parts (`schema`, `table`).
    relation: Vec<String>,
    /// What changes when the table changes (cache keys), given by the owner.
    identity: String,
    warehouse: Arc<dyn Warehouse>,
    /// Rows it may send here whole (`None`: never).
    collect_limit: Option<usize>,
}

/// Warehouse tables by name.
pub type WarehouseTables = BTreeMap<String, Arc<WarehouseTable>>;

impl WarehouseTable {
    pub fn new(
        schema: SchemaRef,
        relation: Vec<String>,
        identity: impl Into<String>,
        warehouse: Arc<dyn Warehouse>,
        collect_limit: Option<usize>,
    ) -> WarehouseTable {
        WarehouseTable { schema, relation, identity: identity.into(), warehouse, collect_limit }
    }

    pub fn identity(&self) -> &str {
        &self.identity
    }

    pub fn relation(&self) -> &[String] {
        &self.relation
    }

    pub fn warehouse(&self) -> &Arc<dyn Warehouse> {
        &self.warehouse
    }

    pub fn collect_limit(&self) -> Option<usize> {
        self.collect_limit
    }

    /// True if `other` is reached through the same connection: one query may read both.
    pub fn same_warehouse(&self, other: &WarehouseTable) -> bool {
        Arc::ptr_eq(&self.warehouse, &other.warehouse)
    }

    /// The table as a scan (named by its identity, as in-memory tables are).
    pub(crate) fn scan(self: &Arc<Self>) -> crate::Result<LogicalPlan> {
        let name = format!("{WAREHOUSE_SCAN_PREFIX}{:016x}", crate::memory::identity_hash(&self.identity));
        let source = datafusion::datasource::provider_as_source(self.clone());
        Ok(datafusion::logical_expr::LogicalPlanBuilder::scan(name, source, None)?.build()?)
    }
}

#[async_trait::async_trait]
impl TableProvider for WarehouseTable {
    fn schema(&self) -> SchemaRef {
        self.schema.clone()
    }

    fn table_type(&self) -> TableType {
        TableType::View
    }

    /// Never runs: the executors send plans over this table to the warehouse. A
    /// plan that reaches here escaped them, which is our bug, said as such.
    async fn scan(&self, _: &dyn Session, _: Option<&Vec<usize>>, _: &[Expr], _: Option<usize>) -> DfResult<Arc<dyn ExecutionPlan>> {
        Err(DataFusionError::Internal(format!(
            "the rows of {} ({}) stay in the warehouse: a local scan of it is a bug",
            self.relation.join("."),
            self.warehouse.label()
        )))
    }
}
