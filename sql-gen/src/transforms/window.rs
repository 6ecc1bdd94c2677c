//! `window`: ranks, offsets and framed aggregates over sorted partitions.
//!
//! vega's frames count rows (`[-2, 0]` is the two previous rows and this one), and
//! unless `ignorePeers` they widen to whole groups of sort peers. Peer-widened frames
//! map to SQL `RANGE` frames only when each bound is unbounded or the current row;
//! other widened frames are left to the client.

use super::measure::{as_window, measure, measure_name, Arithmetic};
use super::sort::compare_keys;
use super::{Step, TransformDef, TransformInput, ROW};
use crate::error::{invalid, unsupported, LowerError, Result};
use crate::plan::{col, has_column, with_window_columns};
use datafusion::arrow::datatypes::DataType;
use datafusion::common::ScalarValue;
use datafusion::functions::expr_fn::ceil;
use datafusion::functions_window::expr_fn as w;
use datafusion::logical_expr::expr::NullTreatment;
use datafusion::logical_expr::{cast, lit, Expr, ExprFunctionExt, SortExpr, WindowFrame, WindowFrameBound, WindowFrameUnits};
use serde_json::Value as Json;

fn bound(v: Option<f64>, is_start: bool) -> WindowFrameBound {
    match v {
        None if is_start => WindowFrameBound::Preceding(ScalarValue::UInt64(None)),
        None => WindowFrameBound::Following(ScalarValue::UInt64(None)),
        Some(x) if x < 0.0 => WindowFrameBound::Preceding(ScalarValue::UInt64(Some((-x) as u64))),
        Some(x) if x > 0.0 => WindowFrameBound::Following(ScalarValue::UInt64(Some(x as u64))),
        Some(_) => WindowFrameBound::CurrentRow,
    }
}

struct Ordering {
    partition: Vec<Expr>,
    /// The sort keys alone: rows equal on them are peers.
    peers: Vec<SortExpr>,
    /// The sort keys then input order: a total, stable order.
    stable: Vec<SortExpr>,
    /// Frames widen to peers.
    range: bool,
    frame: (Option<f64>, Option<f64>),
}

impl Ordering {
    fn rows_frame(&self) -> WindowFrame {
        let (a, b) = self.frame;
        WindowFrame::new_bounds(WindowFrameUnits::Rows, bound(a, true), bound(b, false))
    }

    fn call(&self, f: Expr, order: &[SortExpr], frame: Option<WindowFrame>) -> Result<Expr> {
        let mut b = f.partition_by(self.partition.clone()).order_by(order.to_vec());
        if let Some(fr) = frame {
            b = b.window_frame(fr);
        }
        Ok(b.build()?)
    }

    /// An aggregate measure over the frame.
    fn aggregate(&self, m: &super::measure::Measure) -> Result<Expr> {
        let e = if !self.range {
            as_window(m, &self.partition, &self.stable, Some(self.rows_frame()))
        } else {
            match self.frame {
                (None, None) => as_window(m, &self.partition, &[], None),
                (None, Some(0.0)) => {
                    let f = WindowFrame::new_bounds(WindowFrameUnits::Range, bound(None, true), WindowFrameBound::CurrentRow);
                    as_window(m, &self.partition, &self.peers, Some(f))
                }
                (Some(0.0), None) => {
                    let f = WindowFrame::new_bounds(WindowFrameUnits::Range, WindowFrameBound::CurrentRow, bound(None, false));
                    as_window(m, &self.partition, &self.peers, Some(f))
                }
                _ => return unsupported("a window frame widened to sort peers (set ignorePeers to evaluate it on the server)"),
            }
        };
        e.map_err(|_| LowerError::Unsupported("this aggregate as a window function".into()))
    }
}

fn f64_of(e: Expr) -> Expr {
    cast(e, DataType::Float64)
}

fn op_expr(o: &Ordering, schema: &datafusion::common::DFSchema, op: &str, field: Option<&str>, param: Option<f64>, id: usize) -> Result<Expr> {
    let value = |f: Option<&str>| -> Result<Expr> {
        let f = f.ok_or_else(|| LowerError::Invalid(format!("window op '{op}' needs a field")))?;
        crate::lower::column(schema, f)?;
        Ok(col(f))
    };
    let whole = || WindowFrame::new_bounds(WindowFrameUnits::Rows, bound(None, true), bound(None, false));
    Ok(match op {
        "row_number" => f64_of(o.call(w::row_number(), &o.stable, None)?),
        "rank" => f64_of(o.call(w::rank(), &o.peers, None)?),
        "dense_rank" => f64_of(o.call(w::dense_rank(), &o.peers, None)?),
        "percent_rank" => o.call(w::percent_rank(), &o.peers, None)?,
        "cume_dist" => o.call(w::cume_dist(), &o.peers, None)?,
        // vega's ntile is ceil(num * cume_dist), not SQL's NTILE.
        "ntile" => {
            let num = param.filter(|n| *n > 0.0).ok_or_else(|| LowerError::Invalid("ntile num must be greater than zero".into()))?;
            ceil(lit(num) * o.call(w::cume_dist(), &o.peers, None)?)
        }
        "lag" | "lead" => {
            let offset = param.filter(|p| *p != 0.0).unwrap_or(1.0) as i64;
            let f = if op == "lag" { w::lag(value(field)?, Some(offset), None) } else { w::lead(value(field)?, Some(offset), None) };
            o.call(f, &o.stable, None)?
        }
        "first_value" if !o.range || o.frame.0.is_none() => {
            let frame = if o.frame.0.is_none() { whole() } else { o.rows_frame() };
            o.call(w::first_value(value(field)?), &o.stable, Some(frame))?
        }
        "last_value" if !o.range || o.frame.1.is_none() => {
            let frame = if o.frame.1.is_none() && o.range { whole() } else { o.rows_frame() };
            o.call(w::last_value(value(field)?), &o.stable, Some(frame))?
        }
        "nth_value" if !o.range || o.frame == (None, None) => {
            let nth = param.filter(|n| *n > 0.0).ok_or_else(|| LowerError::Invalid("nth_value nth must be greater than zero".into()))?;
            let frame = if o.range { whole() } else { o.rows_frame() };
            o.call(w::nth_value(value(field)?, nth as i64), &o.stable, Some(frame))?
        }
        "first_value" | "last_value" | "nth_value" => return unsupported(format!("window op '{op}' over a frame widened to sort peers")),
        // vega's prev_value is the row's own value unless null (or undefined), else
        // the last one before it that is not; next_value the first at or after it.
        // Neither reads the frame.
        "prev_value" | "next_value" => {
            let (f, frame) = if op == "prev_value" {
                (w::last_value(value(field)?), WindowFrame::new_bounds(WindowFrameUnits::Rows, bound(None, true), WindowFrameBound::CurrentRow))
            } else {
                (w::first_value(value(field)?), WindowFrame::new_bounds(WindowFrameUnits::Rows, WindowFrameBound::CurrentRow, bound(None, false)))
            };
            f.partition_by(o.partition.clone()).order_by(o.stable.clone()).window_frame(frame).null_treatment(NullTreatment::IgnoreNulls).build()?
        }
        _ => o.aggregate(&measure(schema, op, field, id, Arithmetic::Engine)?)?,
    })
}

fn lower(input: TransformInput) -> Result<Step> {
    let p = &input.params;
    p.only(&["sort", "groupby", "ops", "fields", "params", "as", "frame", "ignorePeers"])?;
    let schema = input.plan.schema().clone();
    let groupby: Vec<String> = p.fields("groupby")?.into_iter().flatten().collect();
    let partition: Vec<Expr> = groupby.iter().map(|g| crate::lower::group_key(&schema, g, crate::lower::GroupKeys::String)).collect::<Result<_>>()?;
    let peers = match p.get("sort")? {
        Some(c) => compare_keys(&schema, &c)?,
        None => Vec::new(),
    };
    // A sort without fields (Vega-Lite writes `{"field": []}`) is no sort, as in vega.
    let sorted = !peers.is_empty();
    let has_row = has_column(&input.plan, ROW);
    if !has_row && !sorted {
        return unsupported("window without sort over a source without a known row order");
    }
    let mut stable = peers.clone();
    if has_row {
        stable.push(col(ROW).sort(true, true));
    }
    let peers = if peers.is_empty() { stable.clone() } else { peers };
    let frame = match p.get("frame")? {
        None | Some(Json::Null) => (None, Some(0.0)),
        Some(Json::Array(f)) if f.len() == 2 => (f[0].as_f64(), f[1].as_f64()),
        Some(other) => return invalid(format!("frame must be [start, end], got {other}")),
    };
    let range = sorted && !p.boolean("ignorePeers")?.unwrap_or(false);
    let o = Ordering { partition, peers, stable, range, frame };
    let ops = WindowOps {
        ops: p.strings("ops")?,
        fields: p.fields("fields")?,
        params: p.list("params")?.iter().map(Json::as_f64).collect(),
        names: p.strings("as")?,
        has_row,
    };
    let widened_offsets = range && !matches!(frame, (None, None) | (None, Some(0.0)) | (Some(0.0), None));
    if !widened_offsets {
        return ops.plan(input.plan, &o);
    }
    // vega widens offset frames to whole groups of sort peers. Without ties on the
    // sort keys there are no peers, and the rows frame is exact: ask the data.
    let mut keys: Vec<Expr> = o.partition.clone();
    keys.extend(o.peers.iter().map(|s| s.expr.clone()));
    let plan = input.plan.clone();
    super::ask_for_ties(&input.plan, keys, move |ties| {
        if ties {
            return unsupported("a window frame with offsets widened to sort peers, over rows that tie on the sort keys");
        }
        ops.plan(plan, &Ordering { range: false, ..o })
    })
}

/// The window's operations, as given.
struct WindowOps {
    ops: Vec<Option<String>>,
    fields: Vec<Option<String>>,
    params: Vec<Option<f64>>,
    names: Vec<Option<String>>,
    has_row: bool,
}

impl WindowOps {
    fn plan(&self, plan: datafusion::logical_expr::LogicalPlan, o: &Ordering) -> Result<Step> {
        let schema = plan.schema().clone();
        let mut cols = Vec::new();
        for (i, op) in self.ops.iter().enumerate() {
            let Some(op) = op else { return invalid("window ops must be strings") };
            // Without input order, rows tied on the sort keys have no defined order:
            // what depends on it cannot be evaluated. Ranks treat ties alike; an
            // aggregate over a whole partition reads every order alike.
            let whole_partition = o.range && o.frame == (None, None);
            let tie_order_matters = match op.as_str() {
                "rank" | "dense_rank" | "percent_rank" | "cume_dist" | "ntile" => false,
                "row_number" | "lag" | "lead" | "first_value" | "last_value" | "nth_value" | "prev_value" | "next_value" => true,
                _ => !whole_partition,
            };
            if !self.has_row && tie_order_matters {
                return unsupported(format!("window op '{op}' over a source without a known row order (ties would be in any order)"));
            }
            let field = self.fields.get(i).cloned().flatten();
            let param = self.params.get(i).copied().flatten();
            let e = op_expr(o, &schema, op, field.as_deref(), param, i).map_err(|e| e.at(&format!("ops[{i}]")))?;
            let name = self.names.get(i).cloned().flatten().unwrap_or_else(|| measure_name(op, field.as_deref()));
            cols.push((name, e));
        }
        Step::plan(with_window_columns(plan, cols)?)
    }
}

pub(super) const DEF: TransformDef =
    TransformDef { name: "window", evaluation: super::Evaluation::Server(lower), partition: super::Partition::GroupBy, rows: super::Rows::FieldsUnlessRowOps };
