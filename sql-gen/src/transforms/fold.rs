//! `fold`: one row per input row and field, with the field's name and value.

use super::{Step, TransformDef, TransformInput, ROW};
use crate::coerce::unify;
use crate::error::{invalid, Result};
use crate::lower::column;
use crate::plan::{col, column_names, has_column};
use datafusion::logical_expr::{lit, Expr, LogicalPlanBuilder};

fn lower(input: TransformInput) -> Result<Step> {
    let p = &input.params;
    p.only(&["fields", "as"])?;
    let fields: Vec<String> = p.fields("fields")?.into_iter().flatten().collect();
    if fields.is_empty() {
        return invalid("fold needs 'fields'");
    }
    let [key, value] = p.output_pair("as", ["key", "value"])?;
    let schema = input.plan.schema().clone();
    // Every folded value lands in one column: the fields must agree on a type.
    let mut typed: Vec<crate::lowered::Typed> = fields.iter().map(|f| column(&schema, f)).collect::<Result<_>>()?;
    for i in 1..typed.len() {
        let (a, b, _) = unify(typed[0].clone(), typed[i].clone())?;
        typed[0] = a;
        typed[i] = b;
    }
    let k = fields.len() as i64;
    let others: Vec<String> = column_names(&input.plan).into_iter().filter(|c| c != &key && c != &value && c != ROW).collect();
    let ordered = has_column(&input.plan, ROW);
    let mut union: Option<LogicalPlanBuilder> = None;
    for (i, (f, t)) in fields.iter().zip(typed).enumerate() {
        let mut exprs: Vec<Expr> = others.iter().map(|c| col(c)).collect();
        exprs.push(lit(f.clone()).alias(&key));
        exprs.push(t.into_column_expr().alias(&value));
        if ordered {
            exprs.push((col(ROW) * lit(k) + lit(i as i64)).alias(ROW));
        }
        let branch = LogicalPlanBuilder::from(input.plan.clone()).project(exprs)?.build()?;
        union = Some(match union {
            None => LogicalPlanBuilder::from(branch),
            Some(u) => u.union(branch)?,
        });
    }
    Step::plan(union.expect("fields is not empty").build()?)
}

pub(super) const DEF: TransformDef =
    TransformDef { name: "fold", evaluation: super::Evaluation::Server(lower), partition: super::Partition::RowLocal, rows: super::Rows::Fields };
