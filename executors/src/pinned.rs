//! A pinned dataset for the embedded engine: the rows of a dataset that stays the
//! same while a chart's interactions re-read it, computed when a query first
//! scans it and with only the columns that query reads, then kept in the
//! runtime's cache.
//!
//! Pinning it whole as the pass reached it held every column (measured: the 10M-row
//! crossfilter's source, about 1 GB as Arrow, did not stay in the 512 MiB cache
//! and was read again from Parquet on every brush, 300 ms, though brush indexes
//! answered every dataset). Here a brush answered from cubes scans nothing, and
//! a scan holds the two or three columns its query reads. Remote engines and SQL
//! need the rows up front (as `VALUES`): they pin whole (`Runtime::run_pass`).

use crate::cache::{Fingerprint, TaskCache};
use crate::engine::QueryEngine;
use datafusion::arrow::datatypes::{Schema, SchemaRef};
use datafusion::arrow::record_batch::RecordBatch;
use datafusion::catalog::Session;
use datafusion::common::Column;
use datafusion::datasource::memory::MemorySourceConfig;
use datafusion::datasource::{provider_as_source, TableProvider, TableType};
use datafusion::error::{DataFusionError, Result};
use datafusion::logical_expr::{Expr, LogicalPlan, LogicalPlanBuilder};
use datafusion::physical_plan::ExecutionPlan;
use datafusion::prelude::SessionContext;
use std::sync::Arc;

/// A dataset's rows, computed per set of columns on first scan.
pub(crate) struct PinnedTable {
    fingerprint: Fingerprint,
    plan: LogicalPlan,
    /// The plan's columns, all nullable (what any execution of it fits).
    schema: SchemaRef,
    ctx: SessionContext,
    engine: Arc<dyn QueryEngine>,
    cache: Arc<TaskCache>,
}

impl PinnedTable {
    /// A scan named `name` of the rows of `plan` (fingerprint `fingerprint`).
    pub fn scan(
        name: String,
        fingerprint: Fingerprint,
        plan: LogicalPlan,
        ctx: SessionContext,
        engine: Arc<dyn QueryEngine>,
        cache: Arc<TaskCache>,
    ) -> Result<LogicalPlan> {
        let planned = plan.schema().as_arrow();
        let fields: Vec<_> = planned.fields().iter().map(|f| f.as_ref().clone().with_nullable(true)).collect();
        let schema = Arc::new(Schema::new_with_metadata(fields, planned.metadata().clone()));
        let table = PinnedTable { fingerprint, plan, schema, ctx, engine, cache };
        LogicalPlanBuilder::scan(name, provider_as_source(Arc::new(table)), None)?.build()
    }

    /// The rows of `columns` (indexes into the schema), through the cache.
    async fn rows(&self, columns: &[usize]) -> Result<Arc<Vec<RecordBatch>>> {
        let key = Fingerprint::builder("pinned").add(&self.fingerprint).add(columns).finish();
        let schema = Arc::new(self.schema.project(columns)?);
        self.cache
            .get_or_compute(key, || async {
                let outputs = columns.iter().map(|&i| Expr::Column(Column::from(self.plan.schema().qualified_field(i))));
                let plan = LogicalPlanBuilder::from(self.plan.clone()).project(outputs)?.build()?;
                let executed = self.engine.execute(&self.ctx, plan).await.map_err(|e| DataFusionError::External(Box::new(e)))?;
                let batches = executed
                    .batches
                    .into_iter()
                    .map(|b| RecordBatch::try_new(schema.clone(), b.columns().to_vec()))
                    .collect::<std::result::Result<Vec<_>, _>>()?;
                let bytes = batches.iter().map(RecordBatch::get_array_memory_size).sum();
                Ok::<_, DataFusionError>((batches, bytes))
            })
            .await
    }
}

impl std::fmt::Debug for PinnedTable {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PinnedTable").field("fingerprint", &self.fingerprint).finish_non_exhaustive()
    }
}

#[async_trait::async_trait]
impl TableProvider for PinnedTable {
    fn schema(&self) -> SchemaRef {
        self.schema.clone()
    }

    fn table_type(&self) -> TableType {
        TableType::Temporary
    }

    async fn scan(&self, _: &dyn Session, projection: Option<&Vec<usize>>, _: &[Expr], _: Option<usize>) -> Result<Arc<dyn ExecutionPlan>> {
        let columns: Vec<usize> = projection.cloned().unwrap_or_else(|| (0..self.schema.fields().len()).collect());
        let rows = self.rows(&columns).await?;
        Ok(MemorySourceConfig::try_new_exec(&[rows.to_vec()], Arc::new(self.schema.project(&columns)?), None)?)
    }
}
