//! `joinaggregate`: measures per group, added to every row of the group.

use super::measure::{as_window, measure, measure_name, Arithmetic};
use super::{Step, TransformDef, TransformInput};
use crate::error::Result;
use crate::plan::{col, with_window_columns};
use datafusion::logical_expr::Expr;

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
    let partition: Vec<Expr> = groupby.iter().map(|g| crate::lower::column(&schema, g).map(|_| col(g))).collect::<Result<_>>()?;
    let mut cols = Vec::new();
    for (i, op) in ops.iter().enumerate() {
        let field = fields.get(i).cloned().flatten();
        let m = measure(&schema, op, field.as_deref(), i, Arithmetic::Sequential)?;
        let name = names.get(i).cloned().flatten().unwrap_or_else(|| measure_name(op, field.as_deref()));
        let e = as_window(&m, &partition, &[], None).map_err(|_| crate::error::LowerError::Unsupported(format!("joinaggregate op '{op}'")))?;
        cols.push((name, e));
    }
    Step::plan(with_window_columns(input.plan, cols)?)
}

pub(super) const DEF: TransformDef = TransformDef {
    name: "joinaggregate",
    evaluation: super::Evaluation::Server(lower),
    partition: super::Partition::GroupBy,
    rows: super::Rows::FieldsUnlessRowOps,
};
