//! Lowering of Vega expressions to DataFusion expressions over one input schema.

use crate::coerce;
use crate::env::{Environment, SignalValue};
use crate::error::{invalid, unsupported, LowerError, Result};
use crate::functions;
use crate::lowered::{Lowered, Typed};
use crate::vtype::VType;
use datafusion::arrow::datatypes::{DataType, Field};
use datafusion::common::{Column, DFSchema, ScalarValue};
use datafusion::logical_expr::{cast, lit, try_cast, Expr};
use std::ops::Not;
use vegalake_planner::expr::{self, BinaryOp, ExprKind, LogicalOp, UnaryOp};

/// Constants of the expression language (vega-expression's `constants`).
fn constant(name: &str) -> Option<f64> {
    Some(match name {
        "NaN" => f64::NAN,
        "E" => std::f64::consts::E,
        "LN2" => std::f64::consts::LN_2,
        "LN10" => std::f64::consts::LN_10,
        "LOG2E" => std::f64::consts::LOG2_E,
        "LOG10E" => std::f64::consts::LOG10_E,
        "PI" => std::f64::consts::PI,
        "SQRT1_2" => std::f64::consts::FRAC_1_SQRT_2,
        "SQRT2" => std::f64::consts::SQRT_2,
        "MIN_VALUE" => 5e-324,
        "MAX_VALUE" => f64::MAX,
        _ => return None,
    })
}

/// Lowers expressions that read rows of one schema.
pub struct Lowerer<'a> {
    pub schema: &'a DFSchema,
    pub env: &'a dyn Environment,
    /// Whether a value lowered since the enclosing node began may be `undefined`:
    /// a function reads the answer for its arguments ([`functions::lower_call`]).
    undefined_lowered: std::cell::Cell<bool>,
}

impl<'a> Lowerer<'a> {
    pub fn new(schema: &'a DFSchema, env: &'a dyn Environment) -> Lowerer<'a> {
        Lowerer { schema, env, undefined_lowered: std::cell::Cell::new(false) }
    }

    /// Whether an argument lowered since the current call began may be `undefined`.
    pub(crate) fn lowered_undefined(&self) -> bool {
        self.undefined_lowered.get()
    }
}

/// True if the column's nulls are `undefined` (see
/// [`vegalake_planner::values::UNDEFINED_FIELD_METADATA`]).
pub fn sometimes_undefined(schema: &DFSchema, name: &str) -> bool {
    schema.field_with_unqualified_name(name).is_ok_and(|f| vegalake_planner::values::nulls_are_undefined(f.metadata()))
}

/// A reference to a column, read as an expression value.
pub fn column(schema: &DFSchema, name: &str) -> Result<Typed> {
    let Ok(field) = schema.field_with_unqualified_name(name) else {
        // vegalake's own columns (`__vl_row`, ...) are not the user's to name.
        let available: Vec<&str> = schema.fields().iter().map(|f| f.name().as_str()).filter(|n| !n.starts_with("__vl_")).collect();
        // Not an error: vega.js reads a missing field as `undefined` (so `datum.y +
        // 1` is NaN), which the client evaluates; the reason names the fields there are.
        return unsupported(format!("unknown field '{name}', undefined in every row (fields: {})", available.join(", ")));
    };
    if field.metadata().contains_key(vegalake_planner::values::JSON_FIELD_METADATA) {
        return unsupported(format!("field '{name}' holds values of several types, arrays or objects"));
    }
    if field.data_type().is_nested() {
        return unsupported(format!("field '{name}' holds objects or arrays, used as a value"));
    }
    value_of(Expr::Column(Column::new_unqualified(name)), field.data_type(), name)
}

/// How a transform of vega keys its groups: the aggregates and windows by
/// `String(value)` (the number 1 and the string "1" share a group), `stack` by
/// `JSON.stringify` (they do not; null and undefined do).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GroupKeys {
    String,
    Json,
}

/// What rows group by for field `name`: the field's values, or for a field of
/// several types (JSON text) its key as the transform's vega code forms it.
pub fn group_key(schema: &DFSchema, name: &str, keys: GroupKeys) -> Result<Expr> {
    let Some(Lowered::Json { expr, undefined, .. }) = json_column(schema, name) else {
        return column(schema, name).map(|_| Expr::Column(Column::new_unqualified(name)));
    };
    Ok(match keys {
        GroupKeys::String => coerce::json_to_string(expr, undefined),
        // JSON.stringify writes undefined in an array as null.
        GroupKeys::Json => datafusion::functions::expr_fn::coalesce(vec![expr, lit("null")]),
    })
}

/// A value of Arrow type `dt` (a column, an object's member, an array's item) as
/// an expression value.
fn value_of(e: Expr, dt: &DataType, name: &str) -> Result<Typed> {
    let ty = VType::of_arrow(dt).ok_or_else(|| LowerError::Unsupported(format!("field '{name}' of type {dt}")))?;
    let expr = match (ty, dt) {
        (VType::Date, _) => cast(try_cast(e, DataType::Int64), DataType::Float64),
        (_, dt) if dt != &ty.expr_type() && ty != VType::Null => cast(e, ty.expr_type()),
        _ => e,
    };
    Ok(Typed::new(expr, ty))
}

/// A field of objects or arrays read through its members or items, or `None` for
/// another field.
fn nested_column(schema: &DFSchema, name: &str) -> Option<Lowered> {
    let field = schema.field_with_unqualified_name(name).ok()?;
    let json = field.metadata().contains_key(vegalake_planner::values::JSON_FIELD_METADATA);
    (field.data_type().is_nested() && !json).then(|| Lowered::Nested { expr: Expr::Column(Column::new_unqualified(name)), field: field.clone() })
}

/// A field of values of several types (JSON text), or `None` for another field.
fn json_column(schema: &DFSchema, name: &str) -> Option<Lowered> {
    let field = schema.field_with_unqualified_name(name).ok()?;
    field.metadata().contains_key(vegalake_planner::values::JSON_FIELD_METADATA).then(|| Lowered::Json {
        expr: Expr::Column(Column::new_unqualified(name)),
        name: name.to_string(),
        undefined: vegalake_planner::values::nulls_are_undefined(field.metadata()),
    })
}

/// `object[key]` of a struct (its member) or a list (its item, or `length`).
fn nested_member(expr: Expr, field: &Field, key: &ScalarValue) -> Result<Lowered> {
    let undefined = |f: &Field| vegalake_planner::values::nulls_are_undefined(f.metadata());
    // Of objects some rows lack, a member that every present object holds reads as
    // a value that is `undefined` in those rows (as `datum.a && datum.a.b` reads).
    let parent_undefined = undefined(field);
    match (field.data_type(), key) {
        (DataType::Struct(members), ScalarValue::Utf8(Some(name))) => {
            let Some(member) = members.iter().find(|m| m.name() == name) else {
                return unsupported(format!("member '{name}' of '{}', undefined in every object", field.name()));
            };
            if undefined(member) {
                return unsupported(format!("member '{name}' of '{}' is missing (undefined) in some objects", field.name()));
            }
            if parent_undefined && (member.is_nullable() || member.data_type().is_nested()) {
                return unsupported(format!("member '{name}' of '{}' (missing in some rows), null or nested in some objects", field.name()));
            }
            let e = datafusion::functions::core::expr_fn::get_field(expr, name.as_str());
            if member.data_type().is_nested() {
                return Ok(Lowered::Nested { expr: e, field: member.clone() });
            }
            Ok(Lowered::Scalar(value_of(e, member.data_type(), name)?.with_undefined_nulls(parent_undefined)))
        }
        _ if parent_undefined => unsupported(format!("items of '{}', missing in some rows", field.name())),
        (DataType::List(_), ScalarValue::Utf8(Some(name))) if name == "length" => {
            Ok(Lowered::Scalar(Typed::number(cast(datafusion::functions_nested::expr_fn::cardinality(expr), DataType::Float64))))
        }
        (DataType::List(item), key) => {
            // `xs[2]` and `xs["2"]` read the same item.
            let index = match key {
                ScalarValue::Float64(Some(i)) => Some(*i),
                ScalarValue::Utf8(Some(s)) => s.parse::<f64>().ok().filter(|i| vegalake_planner::values::number::js_number_to_string(*i) == *s),
                _ => None,
            };
            let Some(i) = index.filter(|i| *i >= 0.0 && i.fract() == 0.0) else { return unsupported(format!("property {key} of arrays")) };
            let shortest: f64 = field.metadata().get(vegalake_planner::values::SHORTEST_LIST_METADATA).and_then(|n| n.parse().ok()).unwrap_or(0.0);
            if i >= shortest {
                return unsupported(format!("item {i} of '{}', undefined in arrays shorter than that", field.name()));
            }
            let e = datafusion::functions_nested::expr_fn::array_element(expr, lit(i as i64 + 1));
            Ok(Lowered::Scalar(value_of(e, item.data_type(), field.name())?))
        }
        _ => unsupported(format!("property {key} of '{}'", field.name())),
    }
}

/// `{a: x, b: y}[key]` for a key computed per row: the member named by the key
/// as a string, `undefined` for other keys.
fn object_member(props: Vec<(String, Lowered)>, key: Typed) -> Result<Lowered> {
    let key = coerce::to_string(&key)?;
    let mut value = Typed::undefined();
    for (name, member) in props {
        let member = member.into_scalar(&format!("member '{name}'"))?;
        value = coerce::conditional(key.clone().eq(lit(name)), member, value)?;
    }
    Ok(Lowered::Scalar(value))
}

/// The largest lowered expression the server plans. JavaScript's `==` and `<`
/// use each operand several times once their coercions are spelled out, so a
/// chain repeats its first operand exponentially: the fuzzer's `datum.c == 1 ==
/// 1 ...` (nine links) took 16 s and 1.5 GB to plan. Real charts' largest
/// expressions (the conformance suite's selection tests) stay far below.
pub const MAX_LOWERED_NODES: usize = 20_000;

/// Whether `e` has more than `limit` nodes (counting stops there).
fn larger_than(e: &Expr, limit: usize) -> bool {
    use datafusion::common::tree_node::{TreeNode, TreeNodeRecursion};
    let mut nodes = 0;
    let _ = e.apply(|_| {
        nodes += 1;
        Ok(if nodes > limit { TreeNodeRecursion::Stop } else { TreeNodeRecursion::Continue })
    });
    nodes > limit
}

impl Lowerer<'_> {
    /// Parses and lowers `source` as a scalar value.
    pub fn parse_scalar(&self, source: &str) -> Result<Typed> {
        let ast = expr::parse(source).map_err(|e| LowerError::Invalid(format!("{e} in expression {source:?}")))?;
        self.lower(&ast)?.into_scalar(source)
    }

    /// Parses and lowers `source` as a condition (JavaScript truthiness).
    pub fn parse_condition(&self, source: &str) -> Result<Expr> {
        let ast = expr::parse(source).map_err(|e| LowerError::Invalid(format!("{e} in expression {source:?}")))?;
        self.condition(&ast)
    }

    pub fn scalar(&self, e: &expr::Expr) -> Result<Typed> {
        self.lower(e)?.into_scalar(&e.to_string())
    }

    /// A non-null boolean that is true where `e` is truthy.
    pub fn condition(&self, e: &expr::Expr) -> Result<Expr> {
        match &e.kind {
            ExprKind::Logical { op, left, right } => {
                let (l, r) = (self.condition(left)?, self.condition(right)?);
                Ok(if *op == LogicalOp::And { l.and(r) } else { l.or(r) })
            }
            ExprKind::Unary { op: UnaryOp::Not, arg } => Ok(self.condition(arg)?.not()),
            _ => match self.lower(e)? {
                // An object is truthy; a missing one is not.
                Lowered::Nested { expr, .. } => Ok(expr.is_not_null()),
                other => Ok(coerce::truthy(&other.into_scalar(&e.to_string())?)),
            },
        }
    }

    /// Lowers `e`; an expression whose lowered form outgrows [`MAX_LOWERED_NODES`]
    /// is left to the client.
    pub fn lower(&self, e: &expr::Expr) -> Result<Lowered> {
        let outer = self.undefined_lowered.replace(false);
        let lowered = self.lower_node(e);
        self.undefined_lowered.set(outer || lowered.as_ref().is_ok_and(Lowered::may_be_undefined));
        let lowered = lowered?;
        if let Lowered::Scalar(t) = &lowered {
            if larger_than(&t.expr, MAX_LOWERED_NODES) {
                return unsupported(format!("an expression over {MAX_LOWERED_NODES} nodes once lowered (JavaScript's coercions repeat operands)"));
            }
        }
        Ok(lowered)
    }

    fn lower_node(&self, e: &expr::Expr) -> Result<Lowered> {
        Ok(match &e.kind {
            ExprKind::Number(n) => Lowered::Scalar(Typed::number(lit(*n))),
            ExprKind::String(s) => Lowered::Scalar(Typed::string(lit(s.as_str()))),
            ExprKind::Boolean(b) => Lowered::Scalar(Typed::boolean(lit(*b))),
            ExprKind::Null => Lowered::Scalar(Typed::null()),
            ExprKind::Regex { pattern, flags } => Lowered::Regex { pattern: pattern.clone(), flags: flags.clone() },
            ExprKind::Identifier(name) => self.identifier(name)?,
            ExprKind::Member { object, property, .. } => self.member(object, property)?,
            ExprKind::Call { callee, args } => functions::lower_call(self, callee, args).map_err(|err| match err {
                LowerError::Invalid(m) if !m.contains(callee.as_str()) => LowerError::Invalid(format!("{callee}(): {m}")),
                other => other,
            })?,
            // `-5` is a constant (array literals of constants stay constant).
            ExprKind::Unary { op: UnaryOp::Neg, arg } if matches!(arg.kind, ExprKind::Number(_)) => match arg.kind {
                ExprKind::Number(n) => Lowered::Scalar(Typed::number(lit(-n))),
                _ => unreachable!("guarded by the match arm"),
            },
            ExprKind::Unary { op: UnaryOp::Not, arg } => Lowered::Scalar(Typed::boolean(self.condition(arg)?.not())),
            ExprKind::Unary { op: UnaryOp::BitNot, .. } => return unsupported("bitwise operator '~'"),
            ExprKind::Unary { op, arg } => {
                // `+x` of a field of several types: its JSON text as a number.
                let n = match self.lower(arg)? {
                    Lowered::Json { expr, undefined, .. } => coerce::json_to_number(expr, undefined),
                    other => coerce::to_number(&other.into_scalar(&arg.to_string())?),
                };
                Lowered::Scalar(Typed::number(if *op == UnaryOp::Neg { Expr::Negative(Box::new(n)) } else { n }))
            }
            ExprKind::Binary { op, left, right } => {
                let (l, r) = (self.scalar(left)?, self.scalar(right)?);
                if *op == BinaryOp::Add {
                    self.check_concatenation(&l, &r)?;
                }
                Lowered::Scalar(coerce::binary(*op, &l, &r)?)
            }
            ExprKind::Logical { op, left, right } => {
                let (l, r) = (self.lower(left)?, self.lower(right)?);
                // Vega-Lite reads a nested field as `datum.a && datum.a.b && ...`: an
                // object or array is truthy unless null, when `&&` gives the null
                // (as a member of a null object reads).
                if let (Lowered::Nested { expr, field }, LogicalOp::And) = (&l, op) {
                    let missing = if vegalake_planner::values::nulls_are_undefined(field.metadata()) { Typed::undefined() } else { Typed::null() };
                    return Ok(match r {
                        Lowered::Nested { .. } => r,
                        r => Lowered::Scalar(coerce::conditional(expr.clone().is_not_null(), r.into_scalar(&right.to_string())?, missing)?),
                    });
                }
                let (l, r) = (l.into_scalar(&left.to_string())?, r.into_scalar(&right.to_string())?);
                let test = coerce::truthy(&l);
                // a && b is b when a is truthy, else a; a || b is a when a is truthy.
                Lowered::Scalar(match op {
                    LogicalOp::And => coerce::conditional(test, r, l)?,
                    LogicalOp::Or => coerce::conditional(test, l, r)?,
                })
            }
            ExprKind::Conditional { test, consequent, alternate } => {
                let test = self.condition(test)?;
                Lowered::Scalar(coerce::conditional(test, self.scalar(consequent)?, self.scalar(alternate)?)?)
            }
            ExprKind::Array(items) => Lowered::List(items.iter().map(|i| self.lower(i)).collect::<Result<_>>()?),
            ExprKind::Object(props) => Lowered::Object(props.iter().map(|(k, v)| Ok((k.clone(), self.lower(v)?))).collect::<Result<_>>()?),
        })
    }

    /// JavaScript's `+` concatenates only when an operand is a string at run time; a
    /// null string column adds numbers instead, which would make a mixed column.
    fn check_concatenation(&self, l: &Typed, r: &Typed) -> Result<()> {
        let stringish = |t: &Typed| t.ty == VType::String;
        if !stringish(l) && !stringish(r) {
            return Ok(());
        }
        let sure_string = |t: &Typed| stringish(t) && coerce::never_null(&t.expr, Some(self.schema));
        if sure_string(l) || sure_string(r) {
            return Ok(());
        }
        unsupported("'+' with a string that may be null (JavaScript adds numbers on those rows)")
    }

    fn identifier(&self, name: &str) -> Result<Lowered> {
        if name == "datum" {
            return Ok(Lowered::Datum);
        }
        if let Some(v) = constant(name) {
            return Ok(Lowered::Scalar(Typed::number(lit(v))));
        }
        match self.env.signal(name) {
            Some(SignalValue::Known(v)) => Ok(Lowered::from_json(&v)),
            Some(SignalValue::ClientOnly) => unsupported(format!("signal '{name}' has a value only on the client")),
            None if matches!(name, "event" | "item" | "parent") => unsupported(format!("'{name}' is only known on the client")),
            None => invalid(format!("unrecognized signal name '{name}'")),
        }
    }

    /// `text[i]`: the character at `i`, `undefined` past the end (characters are
    /// code points here, as in `substring`). Indexing null throws in JavaScript.
    fn character(&self, text: Typed, i: f64) -> Result<Lowered> {
        if !coerce::never_null(&text.expr, Some(self.schema)) {
            return unsupported("indexing a string that may be null (JavaScript throws there)");
        }
        if i < 0.0 || i.fract() != 0.0 {
            return Ok(Lowered::Scalar(Typed::undefined()));
        }
        let length = datafusion::functions::expr_fn::character_length(text.expr.clone());
        let character = datafusion::functions::expr_fn::substring(text.expr, lit(i as i64 + 1), lit(1_i64));
        let beyond = Expr::Literal(ScalarValue::Utf8(None), None);
        Ok(Lowered::Scalar(Typed::string(datafusion::logical_expr::when(length.gt(lit(i as i64)), character).otherwise(beyond)?).with_undefined_nulls(true)))
    }

    /// `datum[name]`: a field as a value; `undefined` in every row for a field no
    /// row has (vega.js reads it so: `datum.y + 1` is NaN).
    fn field(&self, name: &str) -> Result<Lowered> {
        if self.schema.field_with_unqualified_name(name).is_err() {
            return Ok(Lowered::Scalar(Typed::undefined()));
        }
        if let Some(json) = json_column(self.schema, name) {
            return Ok(json);
        }
        if let Some(nested) = nested_column(self.schema, name) {
            return Ok(nested);
        }
        Ok(Lowered::Scalar(column(self.schema, name)?.with_undefined_nulls(sometimes_undefined(self.schema, name))))
    }

    fn member(&self, object: &expr::Expr, property: &expr::Expr) -> Result<Lowered> {
        let obj = self.lower(object)?;
        let prop = self.lower(property)?;
        let key = prop.as_scalar().and_then(|t| t.literal().cloned());
        match (obj, key) {
            (Lowered::Datum, Some(datafusion::common::ScalarValue::Utf8(Some(name)))) => self.field(&name),
            (Lowered::Nested { expr, field }, Some(key)) => nested_member(expr, &field, &key),
            (Lowered::Datum, Some(datafusion::common::ScalarValue::Float64(Some(n)))) => self.field(&vegalake_planner::values::number::js_number_to_string(n)),
            (Lowered::Datum, _) => unsupported("a computed field name on datum"),
            (Lowered::Object(props), Some(datafusion::common::ScalarValue::Utf8(Some(name)))) => {
                Ok(props.into_iter().find(|(k, _)| *k == name).map(|(_, v)| v).unwrap_or(Lowered::Scalar(Typed::undefined())))
            }
            (Lowered::List(items), Some(datafusion::common::ScalarValue::Utf8(Some(name)))) if name == "length" => {
                Ok(Lowered::Scalar(Typed::number(lit(items.len() as f64))))
            }
            (Lowered::List(items), Some(datafusion::common::ScalarValue::Float64(Some(i)))) => {
                let idx = (i >= 0.0 && i.fract() == 0.0).then_some(i as usize);
                Ok(idx.and_then(|i| items.into_iter().nth(i)).unwrap_or(Lowered::Scalar(Typed::undefined())))
            }
            (Lowered::Scalar(t), Some(datafusion::common::ScalarValue::Utf8(Some(name)))) if name == "length" && t.ty == VType::String => {
                functions::string_length(&t)
            }
            (Lowered::Scalar(t), Some(datafusion::common::ScalarValue::Float64(Some(i)))) if t.ty == VType::String => self.character(t, i),
            (Lowered::Object(props), None) => object_member(props, prop.into_scalar(&property.to_string())?),
            _ => unsupported(format!("property access {object}[{property}]")),
        }
    }
}
