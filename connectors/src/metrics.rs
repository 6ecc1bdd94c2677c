//! What a query's scans read: files, row groups and bytes, from the metrics of the
//! Parquet scans in its executed physical plan.

use datafusion::datasource::physical_plan::FileScanConfig;
use datafusion::datasource::source::DataSourceExec;
use datafusion::physical_plan::metrics::MetricValue;
use datafusion::physical_plan::ExecutionPlan;
use serde::Serialize;
use std::sync::Arc;

/// Scan figures of one or more executed queries.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct ScanMetrics {
    /// Queries that scanned files: a dataset's figures add up its planning queries
    /// (an `extent`, say) and its result query, each over the whole table.
    pub queries: usize,
    /// Files the scans were planned over, after partition values and table
    /// statistics (Delta) pruned.
    pub files_planned: usize,
    /// Files whose data was read: planned minus those Parquet statistics pruned.
    pub files_read: usize,
    /// Row groups in the opened files, and those statistics did not prune.
    pub row_groups: usize,
    pub row_groups_read: usize,
    /// Bytes fetched from the stores.
    pub bytes_read: u64,
    /// Queries another engine (a cluster, Spark) ran: what they scanned is the
    /// engine's to tell, and is not in the figures above.
    pub remote_queries: usize,
}

impl ScanMetrics {
    /// The figures of an executed plan's file scans.
    pub fn of_plan(plan: &Arc<dyn ExecutionPlan>) -> ScanMetrics {
        let mut out = ScanMetrics::default();
        visit(plan.as_ref(), &mut out);
        if out.files_planned > 0 {
            out.queries = 1;
        }
        out
    }

    /// The figures of one query another engine ran.
    pub fn remote() -> ScanMetrics {
        ScanMetrics { remote_queries: 1, ..ScanMetrics::default() }
    }

    /// The sum of two sets of figures.
    pub fn add(&mut self, other: &ScanMetrics) {
        self.queries += other.queries;
        self.files_planned += other.files_planned;
        self.files_read += other.files_read;
        self.row_groups += other.row_groups;
        self.row_groups_read += other.row_groups_read;
        self.bytes_read += other.bytes_read;
        self.remote_queries += other.remote_queries;
    }

    /// True if no file was scanned and no query ran elsewhere.
    pub fn is_empty(&self) -> bool {
        *self == ScanMetrics::default()
    }
}

fn visit(plan: &dyn ExecutionPlan, out: &mut ScanMetrics) {
    if let Some(source) = plan.downcast_ref::<DataSourceExec>() {
        if let Some(config) = source.data_source().downcast_ref::<FileScanConfig>() {
            // A large file may be split into byte ranges across groups: count files.
            let files: std::collections::HashSet<&str> = config.file_groups.iter().flat_map(|g| g.files()).map(|f| f.object_meta.location.as_ref()).collect();
            let planned = files.len();
            let mut files_pruned = 0;
            if let Some(metrics) = plan.metrics() {
                for m in metrics.aggregate_by_name().iter() {
                    match m.value() {
                        MetricValue::Count { name, count } if name == "bytes_scanned" => out.bytes_read += count.value() as u64,
                        MetricValue::PruningMetrics { name, pruning_metrics } if name == "row_groups_pruned_statistics" => {
                            out.row_groups += pruning_metrics.pruned() + pruning_metrics.matched();
                            out.row_groups_read += pruning_metrics.matched();
                        }
                        MetricValue::PruningMetrics { name, pruning_metrics } if name == "files_ranges_pruned_statistics" => {
                            files_pruned += pruning_metrics.pruned();
                        }
                        _ => {}
                    }
                }
            }
            out.files_planned += planned;
            out.files_read += planned.saturating_sub(files_pruned);
        }
    }
    for child in plan.children() {
        visit(child.as_ref(), out);
    }
}
