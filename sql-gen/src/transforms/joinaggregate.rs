//! `joinaggregate`: measures per group, added to every row of the group.

use super::measure::{as_window, measure, measure_name, Arithmetic};
use super::{Step, TransformDef, TransformInput, ROW};
use crate::error::Result;
use crate::lower::GroupKeys;
use crate::plan::{col, with_window_columns};
use datafusion::common::metadata::FieldMetadata;
use datafusion::functions_window::expr_fn::first_value;
use datafusion::logical_expr::{Expr, ExprFunctionExt};

fn lower(input: TransformInput) -> Result<Step> {
    let p = &input.params;
    p.only(&["groupby", "fields", "ops", "as", "key"])?;
    if p.get("key")?.is_some() {
        return crate::error::unsupported("joinaggregate with a key");
    }
    let groupby: Vec<String> = p.fields("groupby")?.into_iter().flatten().collect();
    let fields = p.fields("fields")?;
    let ops: Vec<String> = p.strings("ops")?.into_iter().map(|o| o.unwrap_or_else(|| "count".into())).collect();
    let names = p.strings("as")?;
    let schema = input.plan.schema().clone();
    let partition: Vec<Expr> = groupby.iter().map(|g| crate::lower::group_key(&schema, g, GroupKeys::String)).collect::<Result<_>>()?;
    let mut cols = Vec::new();
    for (i, op) in ops.iter().enumerate() {
        let field = fields.get(i).cloned().flatten();
        let m = measure(&schema, op, field.as_deref(), i, Arithmetic::Sequential)?;
        let name = names.get(i).cloned().flatten().unwrap_or_else(|| measure_name(op, field.as_deref()));
        let e = as_window(&m, &partition, &[], None).map_err(|_| crate::error::LowerError::Unsupported(format!("joinaggregate op '{op}'")))?;
        cols.push((name, e));
    }
    // vega extends each row with its group's tuple: a field of several types takes
    // the value of the group's first row (the string "1" becomes the number 1
    // where that came first).
    for (g, key) in groupby.iter().zip(&partition) {
        if matches!(key, Expr::Column(_)) {
            continue;
        }
        if schema.field_with_unqualified_name(ROW).is_err() {
            return crate::error::unsupported(format!("joinaggregate by '{g}' (values of several types) over a source without a known row order"));
        }
        let first = first_value(col(g)).partition_by(partition.clone()).order_by(vec![col(ROW).sort(true, false)]).build()?;
        let metadata = FieldMetadata::new_from_field(schema.field_with_unqualified_name(g)?);
        cols.push((g.clone(), first.alias_with_metadata(g, Some(metadata))));
    }
    Step::plan(with_window_columns(input.plan, cols)?)
}

pub(super) const DEF: TransformDef = TransformDef {
    name: "joinaggregate",
    evaluation: super::Evaluation::Server(lower),
    partition: super::Partition::GroupBy,
    rows: super::Rows::FieldsUnlessRowOps,
};
