//! Brush indexes: an aggregate over rows filtered by a brush, answered from a
//! small cube instead of the rows.
//!
//! The pattern, in a dataset's logical plan: `Aggregate` (count, sum, min, max)
//! over row-local projections over `Filter(predicate)` over an input whose every
//! leaf is a pinned scan (rows kept in memory because they do not change with the
//! client's input) or an in-memory table (a notebook's frame). Only the predicate changes from one brush to the next, and it
//! reads a few columns F (the brushed fields). The cube is the same aggregate
//! without the filter, grouped by the original groups *and* F; its rows are few
//! (groups × distinct brushed values). A brush is then the same predicate over the
//! cube's F columns, and the partial aggregates merged per original group.
//!
//! Exact by construction: the predicate depends only on F, so a cube row passes it
//! exactly when each of its rows would (vega's inclusive and reversed bounds, null
//! and NaN included, are the lowered predicate's own); counts, min and max merge
//! exactly, sums in another order (within the float tolerance the suite allows);
//! groups with no passing row vanish as in vega.
//!
//! The first brush that needs a cube starts building it in the background (one
//! grouped scan), and plans answer until it is ready ([`BrushIndexes::settled`]
//! waits for it). It is kept in the runtime's cache (bytes-bounded, LRU) under the
//! text of its plan, and refused, with the reason logged, above [`CUBE_ROW_LIMIT`]
//! rows (too many distinct brushed values; the plan answers as before). Means,
//! quantiles and other ordered aggregates are not merged: those plans run as they
//! are. Only the embedded engine uses them (see `Runtime::brush_index_answer`).
//!
//! A brush is answered without a query plan (`CubeRows::answer`): the predicate
//! is evaluated over the cube's rows and the partials are merged per group by
//! DataFusion's grouped accumulators; the nodes above the aggregate (vega's
//! `isValid` filter, the final order) run in process too where they can
//! (`crate::in_process`). Planning a query costs milliseconds; these rows are tens.

mod rows;

use crate::cache::Fingerprint;
use crate::engine::QueryEngine;
use datafusion::common::tree_node::{Transformed, TreeNode, TreeNodeRecursion};
use datafusion::common::{Column, DFSchemaRef, Result};
use datafusion::functions_aggregate::min_max::{max_udaf, min_udaf};
use datafusion::functions_aggregate::sum::sum_udaf;
use datafusion::logical_expr::expr_rewriter::replace_col;
use datafusion::logical_expr::LogicalPlanBuilder;
use datafusion::logical_expr::{Aggregate, AggregateUDF, Expr, Filter, LogicalPlan, Projection};
use datafusion::prelude::SessionContext;
pub(crate) use rows::CubeRows;
use std::collections::HashSet;
use std::future::Future;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

/// The most rows a cube may have: beyond, the brushed fields have too many
/// distinct values for a cube to be smaller than the rows.
pub const CUBE_ROW_LIMIT: usize = 1_000_000;

/// The memory a runtime's cubes may hold together; the least recently used goes
/// first. Cubes are kept apart from the runtime's cache: the rows a plan answer
/// scans (tens of MB a column at 10M rows) would otherwise push out the cubes
/// that make those scans unnecessary (measured: at 3M rows no brush found its
/// cube, rebuilt each time).
pub const CUBE_BYTES: usize = 256 << 20;

/// The name prefix of pinned scans: rows that stay the same across brushes.
pub const PINNED_PREFIX: &str = "__vl_pinned_";

const BRUSHED_PREFIX: &str = "__vl_brushed_";

/// A runtime's brush indexes: whether they are used, which cubes are being built
/// or were refused, and how many answers came from a cube.
#[derive(Debug)]
pub struct BrushIndexes {
    enabled: AtomicBool,
    /// Cubes too large to keep, or whose build failed: their plans answer.
    refused: Mutex<HashSet<Fingerprint>>,
    building: Mutex<HashSet<Fingerprint>>,
    cubes: Mutex<Cubes>,
    /// How many cubes are being built.
    in_flight: tokio::sync::watch::Sender<usize>,
    background: AtomicBool,
    answered: AtomicUsize,
    answered_in_process: AtomicUsize,
}

impl Default for BrushIndexes {
    fn default() -> Self {
        BrushIndexes {
            enabled: AtomicBool::new(true),
            refused: Mutex::default(),
            building: Mutex::default(),
            cubes: Mutex::default(),
            in_flight: tokio::sync::watch::Sender::new(0),
            background: AtomicBool::new(true),
            answered: AtomicUsize::new(0),
            answered_in_process: AtomicUsize::new(0),
        }
    }
}

impl BrushIndexes {
    /// Turns brush indexes on (the default) or off (every plan answers as it is).
    pub fn set_enabled(&self, on: bool) {
        self.enabled.store(on, Ordering::Relaxed);
    }

    pub fn enabled(&self) -> bool {
        self.enabled.load(Ordering::Relaxed)
    }

    /// Whether a cube builds in the background while the plan answers (the
    /// default: no brush waits for a build), or before the brush that needs it is
    /// answered (every answer from a cube once it is asked for: replays, tests).
    pub fn set_background(&self, on: bool) {
        self.background.store(on, Ordering::Relaxed);
    }

    pub fn in_background(&self) -> bool {
        self.background.load(Ordering::Relaxed)
    }

    /// How many dataset results were answered from a cube.
    pub fn answered(&self) -> usize {
        self.answered.load(Ordering::Relaxed)
    }

    /// Returns once no cube is being built: every cube asked for so far is ready
    /// (or refused). Cubes build in the background while plans answer.
    pub async fn settled(&self) {
        let _ = self.in_flight.subscribe().wait_for(|n| *n == 0).await;
    }

    /// How many of those ran whole in process, without a query plan (the rest
    /// ran the nodes above the brushed aggregate on the engine).
    pub fn answered_in_process(&self) -> usize {
        self.answered_in_process.load(Ordering::Relaxed)
    }

    pub(crate) fn count_answer(&self, in_process: bool) {
        self.answered.fetch_add(1, Ordering::Relaxed);
        if in_process {
            self.answered_in_process.fetch_add(1, Ordering::Relaxed);
        }
    }

    pub(crate) fn is_refused(&self, key: Fingerprint) -> bool {
        self.refused.lock().expect("not poisoned").contains(&key)
    }

    pub(crate) fn refuse(&self, key: Fingerprint) {
        self.refused.lock().expect("not poisoned").insert(key);
    }

    /// The cube `key`, if it is built.
    pub(crate) fn cube(&self, key: Fingerprint) -> Option<Arc<CubeRows>> {
        self.cubes.lock().expect("not poisoned").get(key)
    }

    /// Keeps a built cube, within [`CUBE_BYTES`].
    pub(crate) fn keep(&self, key: Fingerprint, rows: CubeRows) {
        self.cubes.lock().expect("not poisoned").insert(key, Arc::new(rows));
    }

    /// Marks the cube `key` as being built until the returned guard drops (the
    /// build ends, fails or panics); `None` when it already is.
    pub(crate) fn start_building(self: &Arc<Self>, key: Fingerprint) -> Option<Building> {
        if !self.building.lock().expect("not poisoned").insert(key) {
            return None;
        }
        self.in_flight.send_modify(|n| *n += 1);
        Some(Building { indexes: self.clone(), key })
    }
}

/// Built cubes, least recently used first out.
#[derive(Debug, Default)]
struct Cubes {
    entries: std::collections::HashMap<Fingerprint, (Arc<CubeRows>, u64)>,
    bytes: usize,
    clock: u64,
}

impl Cubes {
    fn get(&mut self, key: Fingerprint) -> Option<Arc<CubeRows>> {
        self.clock += 1;
        let entry = self.entries.get_mut(&key)?;
        entry.1 = self.clock;
        Some(entry.0.clone())
    }

    fn insert(&mut self, key: Fingerprint, rows: Arc<CubeRows>) {
        self.clock += 1;
        self.bytes += rows.bytes();
        if let Some((old, _)) = self.entries.insert(key, (rows, self.clock)) {
            self.bytes -= old.bytes();
        }
        while self.bytes > CUBE_BYTES && self.entries.len() > 1 {
            let Some(oldest) = self.entries.iter().filter(|(k, _)| **k != key).min_by_key(|(_, e)| e.1).map(|(k, _)| *k) else { break };
            if let Some((gone, _)) = self.entries.remove(&oldest) {
                self.bytes -= gone.bytes();
            }
        }
    }
}

/// A cube being built (see [`BrushIndexes::start_building`]).
pub(crate) struct Building {
    indexes: Arc<BrushIndexes>,
    key: Fingerprint,
}

impl Building {
    /// Builds `cube` on `engine`, then keeps it or refuses it (with the reason
    /// logged); the mark goes when done.
    pub(crate) fn build(self, cube: &Cube, ctx: SessionContext, engine: Arc<dyn QueryEngine>) -> Result<impl Future<Output = ()> + Send + 'static> {
        let plan = LogicalPlanBuilder::from(cube.build.clone()).limit(0, Some(CUBE_ROW_LIMIT + 1))?.build()?;
        let (groups, planned) = (cube.groups, Arc::new(cube.build.schema().as_arrow().clone()));
        Ok(async move {
            let started = std::time::Instant::now();
            // A cube reads pinned or in-memory rows only: never a warehouse.
            let built = match engine.execute(&ctx, plan).await {
                // The batches' own schema where there are rows (nullability as executed).
                Ok(built) => CubeRows::new(built.batches.first().map_or(planned, |b| b.schema()), &built.batches, groups).map_err(|e| e.to_string()),
                Err(e) => Err(e.to_string()),
            };
            let refused = match built {
                Ok(rows) if rows.num_rows() <= CUBE_ROW_LIMIT => {
                    log::info!("brush index built: {} rows, {} bytes, in {:.2} s", rows.num_rows(), rows.bytes(), started.elapsed().as_secs_f64());
                    return self.indexes.keep(self.key, rows);
                }
                Ok(_) => format!("its cube has more than {CUBE_ROW_LIMIT} rows (too many distinct brushed values)"),
                Err(e) => format!("building its cube failed: {e}"),
            };
            log::info!("no brush index: {refused}");
            self.indexes.refuse(self.key);
        })
    }
}

impl Drop for Building {
    fn drop(&mut self) {
        self.indexes.building.lock().expect("not poisoned").remove(&self.key);
        self.indexes.in_flight.send_modify(|n| *n -= 1);
    }
}

/// A plan's brush-indexable aggregate, as a cube and the steps from it to the answer.
pub(crate) struct Cube {
    /// The aggregate node of the original plan this replaces.
    pub target: LogicalPlan,
    /// Computes the cube: the aggregate without the filter, also grouped by F.
    pub build: LogicalPlan,
    /// The predicate, reading F's cube columns.
    pub predicate: Expr,
    /// How many of the cube's first columns are the original groups.
    pub groups: usize,
    /// How each aggregate's partial values (the cube's last columns) merge.
    pub merges: Vec<Merge>,
    /// The original aggregate's output schema, which the answer reproduces.
    schema: DFSchemaRef,
}

impl Cube {
    /// What identifies the cube's rows: its plan, leaves named by their fingerprints.
    pub fn key(&self) -> String {
        self.build.display_indent_schema().to_string()
    }

    /// The replaced aggregate's columns, as Arrow.
    pub fn output(&self) -> &datafusion::arrow::datatypes::Schema {
        self.schema.as_arrow()
    }

    /// `plan` with the aggregate replaced by `answer`, its rows (a scan of them
    /// under the aggregate's names and qualifiers, so the plan above reads it as
    /// before).
    pub fn replace(&self, plan: LogicalPlan, answer: LogicalPlan) -> Result<LogicalPlan> {
        let outputs = (0..self.schema.fields().len())
            .map(|i| {
                let (qualifier, field) = self.schema.qualified_field(i);
                column(answer.schema().field(i).name()).alias_qualified(qualifier.cloned(), field.name())
            })
            .collect();
        let answer = LogicalPlan::Projection(Projection::try_new(outputs, Arc::new(answer))?);
        let mut replaced = false;
        let rewritten = plan.transform_up(|node| {
            if !replaced && node == self.target {
                replaced = true;
                return Ok(Transformed::yes(answer.clone()));
            }
            Ok(if replaced { Transformed::yes(node.recompute_schema()?) } else { Transformed::no(node) })
        })?;
        Ok(rewritten.data)
    }
}

fn column(name: &str) -> Expr {
    Expr::Column(Column::new_unqualified(name))
}

/// The first brush-indexable aggregate of `plan`; `Err` says why an aggregate over
/// a filter is not one (`Ok(None)`: no aggregate over a filter at all).
pub(crate) fn find(plan: &LogicalPlan) -> std::result::Result<Option<Cube>, String> {
    let mut found = Ok(None);
    let _ = plan.apply(|node| {
        let LogicalPlan::Aggregate(a) = node else { return Ok(TreeNodeRecursion::Continue) };
        match cube_of(node, a) {
            Some(Ok(cube)) => found = Ok(Some(cube)),
            Some(Err(why)) => found = Err(why),
            None => return Ok(TreeNodeRecursion::Continue),
        }
        Ok(TreeNodeRecursion::Stop)
    });
    found
}

/// `None` unless `a` reads a filter through projections.
fn cube_of(node: &LogicalPlan, a: &Aggregate) -> Option<std::result::Result<Cube, String>> {
    let mut projections = Vec::new();
    let mut input = a.input.as_ref();
    let filter = loop {
        match input {
            LogicalPlan::Projection(p) => {
                projections.push(p);
                input = p.input.as_ref();
            }
            LogicalPlan::Filter(f) => break f,
            _ => return None,
        }
    };
    Some(cube(node, a, &projections, filter).map_err(|why| format!("no brush index: {why}")))
}

fn cube(node: &LogicalPlan, a: &Aggregate, projections: &[&Projection], filter: &Filter) -> std::result::Result<Cube, String> {
    let (mut scans, mut unpinned) = (0, 0);
    let _ = filter.input.apply(|n| {
        if let LogicalPlan::TableScan(t) = n {
            scans += 1;
            let name = t.table_name.table();
            unpinned += usize::from(!name.starts_with(PINNED_PREFIX) && !name.starts_with(vegalake_connectors::memory::MEMORY_SCAN_PREFIX));
        }
        Ok(TreeNodeRecursion::Continue)
    });
    if scans == 0 || unpinned > 0 {
        return Err("the filtered rows are neither pinned nor an in-memory table".into());
    }
    if filter.predicate.is_volatile() || projections.iter().any(|p| p.expr.iter().any(Expr::is_volatile)) {
        return Err("a volatile expression".into());
    }
    let mut brushed: Vec<Column> = filter.predicate.column_refs().into_iter().cloned().collect();
    brushed.sort_by_key(Column::flat_name);
    if brushed.is_empty() || brushed.len() > 2 {
        return Err(format!("the filter reads {} columns (a cube takes 1 or 2)", brushed.len()));
    }
    if a.group_expr.iter().any(|g| matches!(g, Expr::GroupingSet(_))) {
        return Err("grouping sets".into());
    }
    let names: Vec<String> = (0..brushed.len()).map(|i| format!("{BRUSHED_PREFIX}{i}")).collect();
    // Carry F through the projections, bottom up.
    let mut input = filter.input.as_ref().clone();
    let mut carried: Vec<Expr> = brushed.iter().map(|c| Expr::Column(c.clone())).collect();
    for p in projections.iter().rev() {
        let mut exprs = p.expr.clone();
        exprs.extend(carried.iter().zip(&names).map(|(e, n)| e.clone().alias(n)));
        input = LogicalPlan::Projection(Projection::try_new(exprs, Arc::new(input)).map_err(|e| e.to_string())?);
        carried = names.iter().map(|n| column(n)).collect();
    }
    let mut merges = Vec::new();
    let mut partials = Vec::new();
    for (i, e) in a.aggr_expr.iter().enumerate() {
        let name = a.schema.field(a.group_expr.len() + i).name().clone();
        merges.push(Merge::of(e)?);
        partials.push(e.clone().unalias().alias(&name));
    }
    let mut group_expr = a.group_expr.clone();
    group_expr.extend(carried.iter().zip(&names).map(|(e, n)| e.clone().alias(n)));
    let build = LogicalPlan::Aggregate(Aggregate::try_new(Arc::new(input), group_expr, partials).map_err(|e| e.to_string())?);
    let cube_columns: Vec<Column> = names.iter().map(Column::new_unqualified).collect();
    let renamed: std::collections::HashMap<&Column, &Column> = brushed.iter().zip(&cube_columns).collect();
    let predicate = replace_col(filter.predicate.clone(), &renamed).map_err(|e| e.to_string())?;
    Ok(Cube { target: node.clone(), build, predicate, groups: a.group_expr.len(), merges, schema: a.schema.clone() })
}

/// How partial values of an aggregate merge: counts and sums add, min and max keep
/// theirs; others (means, spreads, quantiles) need more than one partial value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Merge {
    Count,
    Sum,
    Min,
    Max,
}

impl Merge {
    fn of(e: &Expr) -> std::result::Result<Merge, String> {
        let Expr::AggregateFunction(f) = e.clone().unalias() else { return Err(format!("the aggregate {e}")) };
        let p = &f.params;
        if p.distinct || p.filter.is_some() || !p.order_by.is_empty() {
            return Err(format!("{}: distinct, filtered or ordered", f.func.name()));
        }
        match f.func.name() {
            "count" => Ok(Merge::Count),
            // vega's sum adds in row order (`vl_sum`); partial sums per cube row
            // added together differ from it only in float rounding (integer sums
            // are exact): within the 1e-12 relative the suite allows.
            "sum" | "vl_sum" => Ok(Merge::Sum),
            "min" => Ok(Merge::Min),
            "max" => Ok(Merge::Max),
            other => Err(format!("{other} does not merge exactly")),
        }
    }

    /// The aggregate that merges partial values.
    fn udf(self) -> Arc<AggregateUDF> {
        match self {
            Merge::Count | Merge::Sum => sum_udaf(),
            Merge::Min => min_udaf(),
            Merge::Max => max_udaf(),
        }
    }
}
