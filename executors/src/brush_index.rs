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
//! The cube is built by the first brush that needs it (one grouped scan instead of
//! the filtered one), kept in the runtime's cache (bytes-bounded, LRU) under the
//! text of its plan, and refused, with the reason logged, above [`CUBE_ROW_LIMIT`]
//! rows (too many distinct brushed values; the plan answers as before). Means,
//! quantiles and other ordered aggregates are not merged: those plans run as they
//! are. Only the embedded engine uses them (see `Runtime::with_brush_index`).

use crate::cache::Fingerprint;
use datafusion::common::tree_node::{Transformed, TreeNode, TreeNodeRecursion};
use datafusion::common::{Column, DFSchemaRef, Result};
use datafusion::functions_aggregate::expr_fn::{max, min, sum};
use datafusion::logical_expr::expr_rewriter::replace_col;
use datafusion::logical_expr::{cast, Aggregate, Expr, Filter, LogicalPlan, Projection};
use std::collections::HashSet;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

/// The most rows a cube may have: beyond, the brushed fields have too many
/// distinct values for a cube to be smaller than the rows.
pub const CUBE_ROW_LIMIT: usize = 1_000_000;

/// The name prefix of pinned scans: rows that stay the same across brushes.
pub const PINNED_PREFIX: &str = "__vl_pinned_";

const BRUSHED_PREFIX: &str = "__vl_brushed_";

/// A runtime's brush indexes: whether they are used, which cubes were too large,
/// and how many answers came from a cube.
#[derive(Debug)]
pub struct BrushIndexes {
    enabled: AtomicBool,
    oversized: Mutex<HashSet<Fingerprint>>,
    answered: AtomicUsize,
}

impl Default for BrushIndexes {
    fn default() -> Self {
        BrushIndexes { enabled: AtomicBool::new(true), oversized: Mutex::default(), answered: AtomicUsize::new(0) }
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

    /// How many dataset results were answered from a cube.
    pub fn answered(&self) -> usize {
        self.answered.load(Ordering::Relaxed)
    }

    pub(crate) fn count_answer(&self) {
        self.answered.fetch_add(1, Ordering::Relaxed);
    }

    pub(crate) fn is_oversized(&self, key: Fingerprint) -> bool {
        self.oversized.lock().expect("not poisoned").contains(&key)
    }

    pub(crate) fn set_oversized(&self, key: Fingerprint) {
        self.oversized.lock().expect("not poisoned").insert(key);
    }
}

/// A plan's brush-indexable aggregate, as a cube and the steps from it to the answer.
pub(crate) struct Cube {
    /// The aggregate node of the original plan this replaces.
    target: LogicalPlan,
    /// Computes the cube: the aggregate without the filter, also grouped by F.
    pub build: LogicalPlan,
    /// The predicate, reading F's cube columns.
    predicate: Expr,
    /// The cube's group columns that are the original groups.
    groups: Vec<String>,
    /// Per aggregate: its cube column and how its partial values merge.
    merges: Vec<(String, fn(Expr) -> Expr)>,
    /// The original aggregate's output schema, which the answer reproduces.
    schema: DFSchemaRef,
}

impl Cube {
    /// What identifies the cube's rows: its plan, leaves named by their fingerprints.
    pub fn key(&self) -> String {
        self.build.display_indent_schema().to_string()
    }

    /// `plan` with the aggregate answered from `cube` (a scan of the cube's rows).
    pub fn answer(&self, plan: LogicalPlan, cube: LogicalPlan) -> Result<LogicalPlan> {
        let filtered = LogicalPlan::Filter(Filter::try_new(self.predicate.clone(), Arc::new(cube))?);
        let groups: Vec<Expr> = self.groups.iter().map(|g| column(g)).collect();
        let merged: Vec<Expr> = self.merges.iter().map(|(name, merge)| merge(column(name)).alias(name)).collect();
        let merged = LogicalPlan::Aggregate(Aggregate::try_new(Arc::new(filtered), groups, merged)?);
        // The original's names, qualifiers and types, so the plan above reads it as before.
        let outputs = (0..self.schema.fields().len())
            .map(|i| {
                let (qualifier, field) = self.schema.qualified_field(i);
                let (_, have) = merged.schema().qualified_field(i);
                let e = column(have.name());
                let e = if have.data_type() == field.data_type() { e } else { cast(e, field.data_type().clone()) };
                e.alias_qualified(qualifier.cloned(), field.name())
            })
            .collect();
        let answer = LogicalPlan::Projection(Projection::try_new(outputs, Arc::new(merged))?);
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
    brushed.sort_by(|x, y| x.flat_name().cmp(&y.flat_name()));
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
        let merge = merge_of(e)?;
        partials.push(e.clone().unalias().alias(&name));
        merges.push((name, merge));
    }
    let mut group_expr = a.group_expr.clone();
    group_expr.extend(carried.iter().zip(&names).map(|(e, n)| e.clone().alias(n)));
    let build = LogicalPlan::Aggregate(Aggregate::try_new(Arc::new(input), group_expr, partials).map_err(|e| e.to_string())?);
    let cube_columns: Vec<Column> = names.iter().map(|n| Column::new_unqualified(n)).collect();
    let renamed: std::collections::HashMap<&Column, &Column> = brushed.iter().zip(&cube_columns).collect();
    let predicate = replace_col(filter.predicate.clone(), &renamed).map_err(|e| e.to_string())?;
    let groups = (0..a.group_expr.len()).map(|i| build.schema().field(i).name().clone()).collect();
    Ok(Cube { target: node.clone(), build, predicate, groups, merges, schema: a.schema.clone() })
}

/// How partial values of an aggregate merge: count and sum add, min and max keep
/// theirs; others (means, quantiles, vega's ordered sums) do not merge exactly.
fn merge_of(e: &Expr) -> std::result::Result<fn(Expr) -> Expr, String> {
    let Expr::AggregateFunction(f) = e.clone().unalias() else { return Err(format!("the aggregate {e}")) };
    let p = &f.params;
    if p.distinct || p.filter.is_some() || !p.order_by.is_empty() {
        return Err(format!("{}: distinct, filtered or ordered", f.func.name()));
    }
    match f.func.name() {
        "count" | "sum" => Ok(sum),
        "min" => Ok(min),
        "max" => Ok(max),
        other => Err(format!("{other} does not merge exactly")),
    }
}
