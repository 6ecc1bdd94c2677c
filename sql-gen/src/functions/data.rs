//! Functions that read other datasets: `data()` and Vega-Lite's selection tests.

use super::{scalar, FunctionDef, ANY};
use crate::coerce;
use crate::error::{invalid, unsupported, Result};
use crate::lower::{column, Lowerer};
use crate::lowered::{Lowered, Typed};
use crate::vtype::VType;
use datafusion::functions::expr_fn::isnan;
use datafusion::logical_expr::{lit, Expr};
use serde_json::{Map, Value as Json};
use vegalake_planner::expr::{BinaryOp, Expr as Ast};

fn dataset<'a>(l: &'a Lowerer, a: &Ast) -> Result<(String, &'a [Map<String, Json>])> {
    let name = l.lower(a)?.const_str("the dataset name")?;
    match l.env.dataset_rows(&name) {
        Some(rows) => Ok((name, rows)),
        None => unsupported(format!("dataset '{name}' is only known on the client")),
    }
}

fn value(v: &Json) -> Typed {
    match Lowered::from_json(v) {
        Lowered::Scalar(t) => t,
        _ => Typed::null(),
    }
}

/// A field of the datum as vega-selections reads it (dates compare as numbers).
fn datum_field(l: &Lowerer, field: &str) -> Result<Typed> {
    if field.contains(['.', '[', '\\']) {
        return unsupported(format!("selection over nested field '{field}'"));
    }
    let t = column(l.schema, field)?;
    Ok(if t.ty == VType::Date { Typed::number(t.expr) } else { t })
}

fn cmp(op: BinaryOp, a: &Typed, b: &Typed) -> Result<Expr> {
    Ok(coerce::binary(op, a, b)?.expr)
}

/// vega-util's inrange(d, range, left, right) over a constant range.
fn in_range(d: &Typed, range: &Json, left: bool, right: bool) -> Result<Expr> {
    let Some(items) = range.as_array().filter(|r| !r.is_empty()) else {
        return invalid("a range selection needs an array of values");
    };
    let (mut r0, mut r1) = (items[0].clone(), items[items.len() - 1].clone());
    if let (Some(a), Some(b)) = (r0.as_f64(), r1.as_f64()) {
        if a > b {
            std::mem::swap(&mut r0, &mut r1);
        }
    } else if !(r0.is_string() && r1.is_string() && r0.as_str() <= r1.as_str()) {
        return unsupported("a range selection over non-numeric values");
    }
    let (lo, hi) = (value(&r0), value(&r1));
    let lo_ok = cmp(if left { BinaryOp::LtEq } else { BinaryOp::Lt }, &lo, d)?;
    let hi_ok = cmp(if right { BinaryOp::LtEq } else { BinaryOp::Lt }, d, &hi)?;
    Ok(lo_ok.and(hi_ok))
}

/// `a OR b OR ...` (or AND) as a balanced tree: a selection may have thousands of
/// entries, and a chain that deep would exhaust the stack of whoever walks it.
fn balanced(mut terms: Vec<Expr>, and: bool) -> Expr {
    if terms.is_empty() {
        return lit(and);
    }
    while terms.len() > 1 {
        let mut next = Vec::with_capacity(terms.len().div_ceil(2));
        let mut it = terms.into_iter();
        while let Some(a) = it.next() {
            next.push(match it.next() {
                Some(b) if and => a.and(b),
                Some(b) => a.or(b),
                None => a,
            });
        }
        terms = next;
    }
    terms.pop().expect("one term left")
}

/// `values.includes(d)` (SameValueZero) for a constant list.
fn includes(d: &Typed, values: &[Json]) -> Result<Expr> {
    let mut terms = Vec::with_capacity(values.len());
    for v in values {
        let t = value(v);
        terms.push(match (v.as_f64(), d.ty) {
            (Some(x), VType::Number) if x.is_nan() => isnan(d.expr.clone()).is_true(),
            _ => cmp(BinaryOp::StrictEq, d, &t)?,
        });
    }
    Ok(balanced(terms, false))
}

/// vega-selections' `testPoint` for one store entry.
fn test_point(l: &Lowerer, entry: &Map<String, Json>) -> Result<Expr> {
    let (Some(fields), Some(values)) = (entry.get("fields").and_then(Json::as_array), entry.get("values").and_then(Json::as_array)) else {
        return invalid("a selection store entry needs 'fields' and 'values'");
    };
    let mut all = lit(true);
    for (f, v) in fields.iter().zip(values) {
        let name = f.get("field").and_then(Json::as_str).ok_or_else(|| crate::error::LowerError::Invalid("selection field without a name".into()))?;
        let d = datum_field(l, name)?;
        let ty = f.get("type").and_then(Json::as_str).unwrap_or("E");
        let test = match ty {
            "E" => match v.as_array() {
                Some(items) => includes(&d, items)?,
                None => cmp(BinaryOp::StrictEq, &d, &value(v))?,
            },
            "R" => in_range(&d, v, true, true)?,
            "R-RE" => in_range(&d, v, true, false)?,
            "R-E" => in_range(&d, v, false, false)?,
            "R-LE" => in_range(&d, v, false, true)?,
            "E-LT" => cmp(BinaryOp::Lt, &d, &value(v))?,
            "E-LTE" => cmp(BinaryOp::LtEq, &d, &value(v))?,
            "E-GT" => cmp(BinaryOp::Gt, &d, &value(v))?,
            "E-GTE" => cmp(BinaryOp::GtEq, &d, &value(v))?,
            "E-VALID" => d.expr.clone().is_not_null().and(isnan(coerce::to_number(&d)).is_false()),
            "E-ONE" => includes(&d, v.as_array().map(Vec::as_slice).unwrap_or(&[]))?,
            other => return invalid(format!("unknown selection field type '{other}'")),
        };
        all = all.and(test);
    }
    Ok(all)
}

fn op_is_intersect(l: &Lowerer, a: &[Ast]) -> Result<bool> {
    match a.get(2) {
        None => Ok(false),
        Some(x) => Ok(l.lower(x)?.const_str("the selection op")? == "intersect"),
    }
}

fn distinct_units(rows: &[Map<String, Json>]) -> usize {
    let mut units: Vec<&Json> = rows.iter().filter_map(|r| r.get("unit")).collect();
    units.dedup();
    units.len()
}

/// vega-selections' `selectionTest`: union of entries, or their intersection.
fn selection_test(l: &Lowerer, a: &[Ast]) -> Result<Lowered> {
    let (_, rows) = dataset(l, &a[0])?;
    if !matches!(l.lower(&a[1])?, Lowered::Datum) {
        return unsupported("vlSelectionTest() of something other than datum");
    }
    let intersect = op_is_intersect(l, a)?;
    if intersect && distinct_units(rows) > 1 {
        return unsupported("intersecting selections across several units");
    }
    if rows.is_empty() {
        return scalar(Typed::boolean(lit(false)));
    }
    let tests = rows.iter().map(|r| test_point(l, r)).collect::<Result<Vec<_>>>()?;
    scalar(Typed::boolean(balanced(tests, intersect)))
}

fn selection_id_test(l: &Lowerer, a: &[Ast]) -> Result<Lowered> {
    let (_, rows) = dataset(l, &a[0])?;
    if op_is_intersect(l, a)? && distinct_units(rows) > 1 {
        return unsupported("intersecting selections across several units");
    }
    let id = datum_field(l, "_vgsid_")?;
    let ids: Vec<Json> = rows.iter().filter_map(|r| r.get("_vgsid_").cloned()).collect();
    scalar(Typed::boolean(includes(&id, &ids)?))
}

pub(super) const FUNCTIONS: &[FunctionDef] = &[
    FunctionDef {
        name: "data",
        arity: (1, 1),
        reads_undefined: false,
        lower: |l, a| {
            let (_, rows) = dataset(l, &a[0])?;
            Ok(Lowered::List(rows.iter().map(|r| Lowered::from_json(&Json::Object(r.clone()))).collect()))
        },
    },
    FunctionDef { name: "vlSelectionTest", arity: (2, ANY), reads_undefined: false, lower: selection_test },
    FunctionDef { name: "vlSelectionIdTest", arity: (2, ANY), reads_undefined: false, lower: selection_id_test },
];
