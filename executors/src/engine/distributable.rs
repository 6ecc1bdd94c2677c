//! Plans another process can run. DataFusion's plan serialization (what Ballista
//! sends its scheduler) has no form for an in-memory table: each `MemTable` scan
//! (a loaded JSON/CSV file, inline values, a pinned result) becomes a `VALUES`
//! plan of its rows.
//!
//! Only up to [`VALUES_CELL_LIMIT`] cells of in-memory data travel so (one
//! literal per cell costs the scheduler's planner dearly); a plan reading more
//! has no distributable form, and the engine runs it where its data already is.
//!
//! A Delta table's scan (deltalake's provider) does not serialize either: it
//! travels as the list of the version's files ([`delta_as_files`]), which
//! vegalake's codec carries ([`crate::codec`]). A version that has no such form
//! (deletion vectors, column mapping), or a table of another kind, keeps the plan
//! local.
//!
//! A window function ignoring nulls (`prev_value`, `next_value`) loses the
//! clause when serialized: such a plan stays local too.
//!
//! A serialized `VALUES` loses its column names and the types of all-null
//! columns, so the rows go out as `column1, column2, ...` under a projection that
//! casts and names them, which does serialize.

use datafusion::arrow::datatypes::SchemaRef;
use datafusion::common::tree_node::{Transformed, TreeNode, TreeNodeRecursion};
use datafusion::common::{Column, Result, ScalarValue};
use datafusion::datasource::listing::ListingTable;
use datafusion::datasource::{source_as_provider, MemTable, TableProvider};
use datafusion::logical_expr::utils::conjunction;
use datafusion::logical_expr::{cast, col, lit, Expr, LogicalPlan, LogicalPlanBuilder, TableScan};
use vegalake_connectors::{DeltaVersionTable, FileListTable};
use vegalake_sql_gen::unparse::VALUES_CELL_LIMIT;

/// `plan` with every in-memory table scan replaced by its rows as `VALUES` and
/// every Delta table by its files, or why it has no form another process can
/// run: more than [`VALUES_CELL_LIMIT`] cells of in-memory data, a table that
/// does not serialize, or files on a store other than the local file system.
pub fn distributable(plan: LogicalPlan) -> Result<std::result::Result<LogicalPlan, String>> {
    if vegalake_sql_gen::plan::has_window_ignoring_nulls(&plan) {
        return Ok(Err("a window function ignoring nulls (prev_value, next_value): DataFusion 55's plan serialization drops IGNORE NULLS".into()));
    }
    let plan = match delta_as_files(plan)? {
        Ok(plan) => plan,
        Err(why) => return Ok(Err(why)),
    };
    let mut cells = 0;
    let mut refusal = None;
    plan.apply(|node| {
        if let LogicalPlan::TableScan(scan) = node {
            let provider = source_as_provider(&scan.source)?;
            if let Some(mem) = provider.downcast_ref::<MemTable>() {
                cells += memtable_cells(mem);
            } else if let Some(urls) = file_urls(provider.as_ref()) {
                // The cluster's processes build no stores of their own: they
                // have the local file system only.
                if let Some(url) = urls.iter().find(|u| !u.starts_with("file:")) {
                    refusal = Some(format!("table {} reads {url}, and the cluster's processes have no store but local files", scan.table_name));
                }
            } else {
                refusal = Some(format!("table {} is neither in memory nor Parquet files", scan.table_name));
            }
        }
        Ok(TreeNodeRecursion::Continue)
    })?;
    if cells > VALUES_CELL_LIMIT {
        return Ok(Err(format!("in-memory inputs over {VALUES_CELL_LIMIT} cells")));
    }
    if let Some(why) = refusal {
        return Ok(Err(why));
    }
    let rewritten = plan.transform_up(|node| match on_memtable(&node, values_scan)? {
        Some(values) => Ok(Transformed::yes(values)),
        None => Ok(Transformed::no(node)),
    })?;
    Ok(Ok(rewritten.data))
}

/// The URLs a table of Parquet files reads, `None` for other tables.
fn file_urls(provider: &dyn TableProvider) -> Option<Vec<String>> {
    if let Some(listing) = provider.downcast_ref::<ListingTable>() {
        return Some(listing.table_paths().iter().map(|u| u.as_str().to_string()).collect());
    }
    let files = provider.downcast_ref::<FileListTable>()?;
    Some(files.listing().files.iter().map(|f| f.url.clone()).collect())
}

/// `plan` with each Delta table read as the list of its version's files
/// ([`DeltaVersionTable::as_files`]), or why a version has no such form.
pub fn delta_as_files(plan: LogicalPlan) -> Result<std::result::Result<LogicalPlan, String>> {
    let mut refusal = None;
    let rewritten = plan.transform_up(|node| {
        let LogicalPlan::TableScan(scan) = &node else { return Ok(Transformed::no(node)) };
        let provider = source_as_provider(&scan.source)?;
        let Some(delta) = provider.downcast_ref::<DeltaVersionTable>() else { return Ok(Transformed::no(node)) };
        match delta.as_files() {
            Ok(files) => Ok(Transformed::yes(in_place_of(scan, files, &delta.schema())?)),
            Err(why) => {
                refusal.get_or_insert(why);
                Ok(Transformed::no(node))
            }
        }
    })?;
    Ok(match refusal {
        Some(why) => Err(why),
        None => Ok(rewritten.data),
    })
}

/// `f` of the scan and its table when `node` scans an in-memory table.
fn on_memtable<T>(node: &LogicalPlan, f: impl FnOnce(&TableScan, &MemTable) -> Result<T>) -> Result<Option<T>> {
    let LogicalPlan::TableScan(scan) = node else { return Ok(None) };
    let provider = source_as_provider(&scan.source)?;
    provider.downcast_ref::<MemTable>().map(|mem| f(scan, mem)).transpose()
}

fn memtable_cells(mem: &MemTable) -> usize {
    let batch_cells = |b: &datafusion::arrow::record_batch::RecordBatch| b.num_rows() * b.num_columns();
    mem.batches.iter().map(|p| p.try_read().map(|batches| batches.iter().map(batch_cells).sum::<usize>()).unwrap_or(0)).sum()
}

/// The rows of `mem` as a plan that reads like the scan: same qualifier, and the
/// scan's filters, projection and limit applied.
fn values_scan(scan: &TableScan, mem: &MemTable) -> Result<LogicalPlan> {
    let schema = mem.schema();
    let mut rows = table_rows(mem)?;
    // An empty relation serializes without its schema: no rows are one row of
    // typed nulls, filtered out.
    let empty = rows.is_empty();
    if empty {
        rows.push(schema.fields().iter().map(|f| ScalarValue::try_from(f.data_type()).map(lit)).collect::<Result<_>>()?);
    }
    let named = schema.fields().iter().enumerate().map(|(i, f)| cast(col(format!("column{}", i + 1)), f.data_type().clone()).alias(f.name()));
    let mut values = LogicalPlanBuilder::values(rows)?;
    if empty {
        values = values.filter(lit(false))?;
    }
    in_place_of(scan, values.project(named)?.build()?, &schema)
}

/// `rows` (a plan with the columns of the table `scan` reads, `schema`) as `scan`
/// reads them: under the same name, with its filters, projection and limit.
fn in_place_of(scan: &TableScan, rows: LogicalPlan, schema: &SchemaRef) -> Result<LogicalPlan> {
    let mut b = LogicalPlanBuilder::from(rows).alias(scan.table_name.clone())?;
    if let Some(filter) = conjunction(scan.filters.clone()) {
        b = b.filter(filter)?;
    }
    if let Some(indices) = &scan.projection {
        b = b.project(indices.iter().map(|&i| Expr::Column(Column::new(Some(scan.table_name.clone()), schema.field(i).name()))))?;
    }
    if let Some(n) = scan.fetch {
        b = b.limit(0, Some(n))?;
    }
    b.build()
}

/// Every row of an in-memory table as literals.
fn table_rows(mem: &MemTable) -> Result<Vec<Vec<Expr>>> {
    let mut rows = Vec::new();
    for partition in &mem.batches {
        let batches = partition.try_read().map_err(|_| datafusion::error::DataFusionError::Execution("an in-memory table is being written".into()))?;
        for batch in batches.iter() {
            for i in 0..batch.num_rows() {
                rows.push(batch.columns().iter().map(|c| ScalarValue::try_from_array(c, i).map(lit)).collect::<Result<Vec<_>>>()?);
            }
        }
    }
    Ok(rows)
}

#[cfg(test)]
mod tests {
    use super::*;
    use datafusion::arrow::array::{Int64Array, StringArray};
    use datafusion::arrow::datatypes::{DataType, Field, Schema};
    use datafusion::arrow::record_batch::RecordBatch;
    use datafusion::datasource::provider_as_source;
    use datafusion::prelude::SessionContext;
    use std::sync::Arc;

    #[tokio::test]
    async fn memtables_become_values_with_the_same_rows_names_and_types() {
        let schema = Arc::new(Schema::new(vec![Field::new("a b", DataType::Int64, true), Field::new("s", DataType::Utf8, true)]));
        let batch = RecordBatch::try_new(
            schema.clone(),
            vec![Arc::new(Int64Array::from(vec![Some(1), None, Some(3)])), Arc::new(StringArray::from(vec![None::<&str>, None, None]))],
        )
        .unwrap();
        let mem = MemTable::try_new(schema.clone(), vec![vec![batch.clone()]]).unwrap();
        let plan = LogicalPlanBuilder::scan("t", provider_as_source(Arc::new(mem)), None)
            .unwrap()
            .filter(Expr::Column(Column::new(Some("t"), "a b")).is_not_null())
            .unwrap()
            .build()
            .unwrap();
        let rewritten = distributable(plan.clone()).unwrap().expect("small enough");
        let has_memtable = rewritten.exists(|p| Ok(matches!(p, LogicalPlan::TableScan(_)))).unwrap();
        assert!(!has_memtable, "{rewritten}");
        assert_eq!(rewritten.schema().as_arrow().fields(), plan.schema().as_arrow().fields());
        let ctx = SessionContext::new();
        let ours = ctx.execute_logical_plan(rewritten).await.unwrap().collect().await.unwrap();
        let theirs = ctx.execute_logical_plan(plan).await.unwrap().collect().await.unwrap();
        assert_eq!(ours, theirs);
        assert_eq!(ours.iter().map(RecordBatch::num_rows).sum::<usize>(), 2);
    }

    #[test]
    fn tables_that_do_not_serialize_keep_the_plan_local() {
        let schema = Arc::new(Schema::new(vec![Field::new("x", DataType::Int64, true)]));
        let table = datafusion::datasource::empty::EmptyTable::new(schema);
        let plan = LogicalPlanBuilder::scan("other", provider_as_source(Arc::new(table)), None).unwrap().build().unwrap();
        let why = distributable(plan).unwrap().expect_err("not distributable");
        assert!(why.contains("table other is neither in memory nor Parquet files"), "{why}");

        use datafusion::datasource::listing::{ListingOptions, ListingTableConfig, ListingTableUrl};
        let on_s3 = ListingTableConfig::new(ListingTableUrl::parse("s3://lake/flights/").unwrap())
            .with_listing_options(ListingOptions::new(Arc::new(datafusion::datasource::file_format::parquet::ParquetFormat::default())))
            .with_schema(Arc::new(Schema::new(vec![Field::new("x", DataType::Int64, true)])));
        let table = ListingTable::try_new(on_s3).unwrap();
        let plan = LogicalPlanBuilder::scan("flights", provider_as_source(Arc::new(table)), None).unwrap().build().unwrap();
        let why = distributable(plan).unwrap().expect_err("not distributable");
        assert!(why.contains("reads s3://lake/flights/"), "{why}");
    }
}
