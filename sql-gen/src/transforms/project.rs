//! `project`: keeps (and renames) some fields.

use super::{Step, TransformDef, TransformInput, ROW};
use crate::error::Result;
use crate::plan::{col, has_column};
use datafusion::logical_expr::{Expr, LogicalPlanBuilder};

fn lower(input: TransformInput) -> Result<Step> {
    input.params.only(&["fields", "as"])?;
    let fields: Vec<String> = input.params.fields("fields")?.into_iter().flatten().collect();
    let names = input.params.strings("as")?;
    if fields.is_empty() {
        return crate::error::unsupported("project without fields copies every field; evaluated on the client");
    }
    let schema = input.plan.schema().clone();
    let mut exprs: Vec<Expr> = Vec::new();
    for (i, f) in fields.iter().enumerate() {
        let name = names.get(i).cloned().flatten().unwrap_or_else(|| f.clone());
        // A missing field projects to undefined (null).
        let e =
            if schema.field_with_unqualified_name(f).is_ok() { col(f) } else { datafusion::logical_expr::lit(datafusion::common::ScalarValue::Float64(None)) };
        exprs.push(e.alias(name));
    }
    if has_column(&input.plan, ROW) {
        exprs.push(col(ROW));
    }
    Step::plan(LogicalPlanBuilder::from(input.plan).project(exprs)?.build()?)
}

pub(super) const DEF: TransformDef =
    TransformDef { name: "project", evaluation: super::Evaluation::Server(lower), partition: super::Partition::Fields, rows: super::Rows::Fields };
