//! `timeunit`: truncates dates to time units (local time or UTC) and the interval end.

use super::{Step, TransformDef, TransformInput};
use crate::error::{invalid, unsupported, LowerError, Result};
use crate::lower::column;
use crate::lowered::Typed;
use crate::plan::with_columns;
use crate::udf;
use crate::vtype::VType;
use datafusion::common::ScalarValue;
use datafusion::logical_expr::{lit, when};
use vegalake_planner::values::time::{canonical_units, Zone};

fn lower(input: TransformInput) -> Result<Step> {
    let p = &input.params;
    p.only(&["field", "units", "step", "timezone", "as", "interval", "maxbins", "extent", "signal"])?;
    let field = p.required_field("field")?;
    let units: Vec<String> = p.strings("units")?.into_iter().flatten().collect();
    if units.is_empty() {
        return unsupported("timeunit without units (chosen from the data's extent)");
    }
    let units = canonical_units(&units).map_err(LowerError::Invalid)?;
    let step = p.number("step")?.unwrap_or(1.0);
    let zone = match p.string("timezone")?.as_deref().unwrap_or("local") {
        "local" => input.env.zone(),
        "utc" => Zone::Utc,
        other => return invalid(format!("timezone must be 'local' or 'utc', got '{other}'")),
    };
    let [u0, u1] = p.output_pair("as", ["unit0", "unit1"])?;
    let interval = p.boolean("interval")?.unwrap_or(true);

    let t = column(input.plan.schema(), &field)?;
    // vega floors `+v`: a date string is not parsed here (unlike `new Date(v)`).
    let ms = crate::coerce::to_number(&t);
    let names: Vec<&str> = units.iter().map(|u| u.name()).collect();
    let zone_name = lit(zone.name());
    let floor = udf::call("vl_time_floor", vec![zone_name.clone(), lit(names.join(",")), lit(step), ms]);
    let null = lit(ScalarValue::Float64(None));
    let start = when(t.expr.is_null(), null.clone()).otherwise(floor)?;
    let plan = with_columns(input.plan, vec![(u0.clone(), Typed::new(start, VType::Date).into_column_expr())])?;
    if !interval {
        return Step::plan(plan);
    }
    // The end is computed from the start column, not from its expression again:
    // in SQL, the expression would be repeated in each part of the end's.
    let start = column(plan.schema(), &u0)?;
    let last = units.last().expect("units is not empty").name();
    let end = udf::call("vl_time_offset", vec![zone_name, lit(last), crate::coerce::to_number(&start), lit(step)]);
    let end = when(start.expr.is_null(), null).otherwise(end)?;
    Step::plan(with_columns(plan, vec![(u1, Typed::new(end, VType::Date).into_column_expr())])?)
}

pub(super) const DEF: TransformDef = TransformDef {
    name: "timeunit",
    evaluation: super::Evaluation::Server(lower),
    partition: super::Partition::RowLocalWith("units", "without units, its units come from the extent of every key's rows"),
    rows: super::Rows::Fields,
};
