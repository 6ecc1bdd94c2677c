//! A built cube, ready to answer brushes in process: its rows in one batch, the
//! group each row belongs to, and each partial aggregate's merge done by
//! DataFusion's own grouped accumulators (the kernels, null and NaN rules of the
//! aggregate the answer replaces), without a query plan.

use super::Merge;
use datafusion::arrow::array::{Array, ArrayRef, AsArray, BooleanArray, Int64Array, RecordBatch, UInt32Array};
use datafusion::arrow::compute::{cast, concat_batches, take};
use datafusion::arrow::datatypes::{Field, Schema, SchemaRef};
use datafusion::arrow::row::{RowConverter, SortField};
use datafusion::common::{exec_err, DFSchema, Result};
use datafusion::execution::SessionState;
use datafusion::logical_expr::function::AccumulatorArgs;
use datafusion::logical_expr::{EmitTo, Expr};
use datafusion::physical_expr::expressions::Column as ColumnExpr;
use datafusion::physical_expr::PhysicalExpr;
use std::collections::HashMap;
use std::sync::Arc;

/// The rows of a cube: original groups, brushed columns, then partial aggregates.
#[derive(Debug)]
pub(crate) struct CubeRows {
    rows: RecordBatch,
    schema: DFSchema,
    /// Per row, its original group (dense, in order of first appearance).
    group_of_row: Vec<usize>,
    /// One row per original group: the group columns' values.
    keys: Vec<ArrayRef>,
    groups: usize,
}

impl CubeRows {
    /// The cube's rows from the batches its plan returned, `group_columns` of
    /// which are the original groups.
    pub fn new(schema: SchemaRef, batches: &[RecordBatch], group_columns: usize) -> Result<CubeRows> {
        let rows = concat_batches(&schema, batches)?;
        let group_arrays: Vec<ArrayRef> = rows.columns()[..group_columns].to_vec();
        let (group_of_row, firsts) = if group_columns == 0 {
            // An aggregate without groups has one group, rows or not.
            (vec![0; rows.num_rows()], Vec::new())
        } else {
            dense_groups(&group_arrays)?
        };
        let firsts = UInt32Array::from(firsts);
        let keys = group_arrays.iter().map(|a| take(a.as_ref(), &firsts, None)).collect::<std::result::Result<_, _>>()?;
        let groups = if group_columns == 0 { 1 } else { firsts.len() };
        let schema = DFSchema::try_from(rows.schema().as_ref().clone())?;
        Ok(CubeRows { rows, schema, group_of_row, keys, groups })
    }

    pub fn num_rows(&self) -> usize {
        self.rows.num_rows()
    }

    /// Memory held, for the cache's bound.
    pub fn bytes(&self) -> usize {
        self.rows.get_array_memory_size() + self.group_of_row.len() * size_of::<usize>()
    }

    /// The brushed aggregate: the groups with a row passing `predicate` (all of
    /// them once, without groups), each partial merged over the passing rows, as
    /// `output` (the replaced aggregate's columns) types them.
    pub fn answer(&self, state: &SessionState, predicate: &Expr, merges: &[Merge], output: &Schema) -> Result<RecordBatch> {
        let passing = crate::in_process::physical_expr(state, predicate, &self.schema)?.evaluate(&self.rows)?.into_array(self.rows.num_rows())?;
        let Some(passing) = passing.as_boolean_opt() else { return exec_err!("the brush predicate is not boolean") };
        let passing = crate::in_process::without_nulls(passing);
        let present = self.present_groups(&passing);
        let mut columns: Vec<ArrayRef> = self.keys.iter().map(|k| take(k.as_ref(), &present, None)).collect::<std::result::Result<_, _>>()?;
        let first_partial = self.rows.num_columns() - merges.len();
        for (i, merge) in merges.iter().enumerate() {
            let merged = self.merge(*merge, first_partial + i, &passing)?;
            columns.push(take(merged.as_ref(), &present, None)?);
        }
        let fields: Vec<Field> = output.fields().iter().enumerate().map(|(i, f)| Field::new(format!("c{i}"), f.data_type().clone(), true)).collect();
        let columns = columns.iter().zip(&fields).map(|(c, f)| cast(c, f.data_type())).collect::<std::result::Result<Vec<_>, _>>()?;
        Ok(RecordBatch::try_new(Arc::new(Schema::new(fields)), columns)?)
    }

    /// The groups, in order, that the passing rows fall in (the one group of an
    /// aggregate without groups always).
    fn present_groups(&self, passing: &BooleanArray) -> UInt32Array {
        if self.keys.is_empty() {
            return UInt32Array::from(vec![0]);
        }
        let mut seen = vec![false; self.groups];
        for i in passing.values().set_indices() {
            seen[self.group_of_row[i]] = true;
        }
        seen.iter().enumerate().filter(|(_, s)| **s).map(|(g, _)| g as u32).collect()
    }

    /// One partial column merged per group over the passing rows.
    fn merge(&self, merge: Merge, column: usize, passing: &BooleanArray) -> Result<ArrayRef> {
        let field = Arc::new(self.rows.schema().field(column).clone());
        let udf = merge.udf();
        let return_field = Arc::new(Field::new(field.name(), udf.return_type(&[field.data_type().clone()])?, true));
        let exprs: [Arc<dyn PhysicalExpr>; 1] = [Arc::new(ColumnExpr::new(field.name(), column))];
        let args = AccumulatorArgs {
            return_field,
            schema: self.rows.schema_ref(),
            ignore_nulls: false,
            order_bys: &[],
            is_reversed: false,
            name: field.name(),
            is_distinct: false,
            exprs: &exprs,
            expr_fields: std::slice::from_ref(&field),
        };
        if !udf.groups_accumulator_supported(args.clone()) {
            return exec_err!("{} of {} has no grouped accumulator", udf.name(), field.data_type());
        }
        let mut accumulator = udf.create_groups_accumulator(args)?;
        accumulator.update_batch(&[self.rows.column(column).clone()], &self.group_of_row, Some(passing), self.groups)?;
        let merged = accumulator.evaluate(EmitTo::All)?;
        Ok(match merge {
            // Counts of no rows add up to 0, not to the null of an empty sum.
            Merge::Count => {
                let counts = cast(&merged, &datafusion::arrow::datatypes::DataType::Int64)?;
                Arc::new(counts.as_primitive::<datafusion::arrow::datatypes::Int64Type>().iter().map(|c| Some(c.unwrap_or(0))).collect::<Int64Array>())
            }
            _ => merged,
        })
    }
}

/// Dense group ids of `columns`' rows in order of first appearance, and each
/// group's first row.
fn dense_groups(columns: &[ArrayRef]) -> Result<(Vec<usize>, Vec<u32>)> {
    let converter = RowConverter::new(columns.iter().map(|c| SortField::new(c.data_type().clone())).collect())?;
    let rows = converter.convert_columns(columns)?;
    let mut ids = HashMap::with_capacity(rows.num_rows().min(1 << 16));
    let mut firsts = Vec::new();
    let group_of_row = (0..rows.num_rows())
        .map(|i| {
            *ids.entry(rows.row(i)).or_insert_with(|| {
                firsts.push(i as u32);
                firsts.len() - 1
            })
        })
        .collect();
    Ok((group_of_row, firsts))
}
