//! Shared by the transforms that compute their rows from a group's values outside
//! the engine (`quantile`, `kde`, `density`): fetch the values per group with a
//! query, then plan the computed rows as `VALUES`.

use super::ROW;
use crate::error::Result;
use crate::lower::column;
use crate::plan::{col, has_column};
use crate::vtype::VType;
use datafusion::arrow::array::{Array, AsArray};
use datafusion::arrow::datatypes::{DataType, Float64Type};
use datafusion::arrow::record_batch::RecordBatch;
use datafusion::common::ScalarValue;
use datafusion::logical_expr::{cast, lit, Expr, LogicalPlan, LogicalPlanBuilder};

/// The most points a sampled curve (`kde`, `density`) may have on the server:
/// the fuzzer's `"steps": 1e300` sampled until the process held 3 GB. Past it
/// the transform stays with the client, which does what vega.js does.
pub const MAX_CURVE_STEPS: f64 = 1e6;

/// `steps`, `minsteps` and `maxsteps` of a sampled curve (vega's defaults 25
/// and 200): (steps, min, max).
pub fn curve_steps(p: &super::params::Params) -> Result<(Option<usize>, usize, usize)> {
    let count = |name: &str| -> Result<Option<usize>> {
        match p.number(name)? {
            Some(n) if n > MAX_CURVE_STEPS => crate::error::unsupported(format!("{name} {n}: over the server's {MAX_CURVE_STEPS} samples")),
            n => Ok(n.map(|n| n as usize)),
        }
    };
    let steps = count("steps")?.filter(|s| *s > 0);
    Ok((steps, steps.or(count("minsteps")?).unwrap_or(25), steps.or(count("maxsteps")?).unwrap_or(200)))
}

/// One group: its groupby values and, per fetched value column, the values in input
/// order (`None`: null).
pub struct Group {
    pub dims: Vec<ScalarValue>,
    pub columns: Vec<Vec<Option<f64>>>,
}

impl Group {
    /// The first value column.
    pub fn values(&self) -> &[Option<f64>] {
        &self.columns[0]
    }

    /// The (x, y) pairs of the first two value columns where both are valid numbers
    /// (vega-statistics' `visitPoints`).
    pub fn points(&self) -> Vec<(f64, f64)> {
        let valid = |v: &Option<f64>| v.filter(|v| !v.is_nan());
        self.columns[0].iter().zip(&self.columns[1]).filter_map(|(x, y)| Some((valid(x)?, valid(y)?))).collect()
    }

    /// The valid numbers (not null, not NaN) of the first value column.
    pub fn valid(&self) -> Vec<f64> {
        self.values().iter().flatten().copied().filter(|v| !v.is_nan()).collect()
    }
}

/// The query returning the groupby columns and `values` (Float64 expressions), in
/// input order where it is known.
pub fn values_query(plan: &LogicalPlan, groupby: &[String], values: Vec<Expr>) -> Result<LogicalPlan> {
    let mut exprs: Vec<Expr> = groupby.iter().map(|g| col(g)).collect();
    exprs.extend(values.into_iter().enumerate().map(|(i, v)| cast(v, DataType::Float64).alias(format!("__vl_v{i}"))));
    let mut query = LogicalPlanBuilder::from(plan.clone());
    if has_column(plan, ROW) {
        query = query.sort(vec![col(ROW).sort(true, true)])?;
    }
    Ok(query.project(exprs)?.build()?)
}

/// The groups of the query's rows, in order of first appearance.
pub fn read_groups(batches: &[RecordBatch], n_groupby: usize) -> Result<Vec<Group>> {
    let mut groups: Vec<Group> = Vec::new();
    for b in batches {
        let values: Vec<_> = (n_groupby..b.num_columns()).map(|c| b.column(c).as_primitive::<Float64Type>()).collect();
        for i in 0..b.num_rows() {
            let dims = (0..n_groupby).map(|g| ScalarValue::try_from_array(b.column(g), i)).collect::<datafusion::common::Result<Vec<_>>>()?;
            let index = match groups.iter().position(|g| g.dims == dims) {
                Some(k) => k,
                None => {
                    groups.push(Group { dims, columns: vec![Vec::new(); values.len()] });
                    groups.len() - 1
                }
            };
            for (column, array) in groups[index].columns.iter_mut().zip(&values) {
                column.push(array.is_valid(i).then(|| array.value(i)));
            }
        }
    }
    Ok(groups)
}

/// Checks that `fields` hold only numbers or null, as the statistics transforms need.
pub fn require_numbers(plan: &LogicalPlan, fields: &[&String], transform: &str) -> Result<()> {
    for f in fields {
        if column(plan.schema(), f)?.ty != VType::Number || crate::lower::sometimes_undefined(plan.schema(), f) {
            return crate::error::unsupported(format!("{transform} over '{f}', not always a number or null"));
        }
    }
    Ok(())
}

/// The types of the groupby columns, checked to exist.
pub fn group_types(plan: &LogicalPlan, groupby: &[String]) -> Result<Vec<VType>> {
    groupby.iter().map(|g| column(plan.schema(), g).map(|t| t.ty)).collect()
}

/// Output rows: each is a group's dims followed by numbers; planned as `VALUES`
/// with columns `groupby..., names...` and the row order.
pub struct Rows {
    group_types: Vec<VType>,
    rows: Vec<Vec<Expr>>,
}

impl Rows {
    pub fn new(group_types: Vec<VType>) -> Rows {
        Rows { group_types, rows: Vec::new() }
    }

    pub fn push(&mut self, dims: &[ScalarValue], numbers: &[Option<f64>]) {
        let mut row: Vec<Expr> = dims.iter().zip(&self.group_types).map(|(d, t)| cast(lit(d.clone()), t.column_type())).collect();
        row.extend(numbers.iter().map(|n| lit(ScalarValue::Float64(*n))));
        row.push(lit(self.rows.len() as i64));
        self.rows.push(row);
    }

    pub fn into_plan(mut self, groupby: &[String], names: &[String]) -> Result<LogicalPlan> {
        let empty = self.rows.is_empty();
        if empty {
            // VALUES needs a row to know its types; this one is filtered out.
            let dims: Vec<ScalarValue> = self.group_types.iter().map(|_| ScalarValue::Null).collect();
            self.push(&dims, &vec![None; names.len()]);
        }
        let mut plan = LogicalPlanBuilder::values(self.rows)?;
        if empty {
            plan = plan.filter(lit(false))?;
        }
        let all: Vec<&String> = groupby.iter().chain(names).collect();
        let mut exprs: Vec<Expr> = all.iter().enumerate().map(|(i, n)| col(&format!("column{}", i + 1)).alias(n.as_str())).collect();
        exprs.push(col(&format!("column{}", all.len() + 1)).alias(ROW));
        Ok(plan.project(exprs)?.build()?)
    }
}
