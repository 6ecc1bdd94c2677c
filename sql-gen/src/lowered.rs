//! The result of lowering an expression: a typed column expression, or a constant
//! structure (array, object, regex) that only exists at planning time.

use crate::error::{invalid, unsupported, Result};
use crate::vtype::VType;
use datafusion::arrow::datatypes::DataType;
use datafusion::common::ScalarValue;
use datafusion::logical_expr::{cast, lit, try_cast, Expr};
use serde_json::Value as Json;

/// A DataFusion expression with the JavaScript type of its values.
#[derive(Debug, Clone, PartialEq)]
pub struct Typed {
    pub expr: Expr,
    pub ty: VType,
    /// Whether its nulls are JavaScript `undefined` rather than `null` (a field
    /// some rows lack, a field no row has, a spread vega leaves undefined): they
    /// coerce differently (`+undefined` is NaN, `+null` is 0; `undefined !== null`).
    pub undefined: bool,
}

impl Typed {
    pub fn new(expr: Expr, ty: VType) -> Typed {
        Typed { expr, ty, undefined: false }
    }

    /// JavaScript's `undefined`.
    pub fn undefined() -> Typed {
        Typed::null().with_undefined_nulls(true)
    }

    /// The same value, its nulls `undefined` (or `null`).
    pub fn with_undefined_nulls(self, undefined: bool) -> Typed {
        Typed { undefined, ..self }
    }

    pub fn number(expr: Expr) -> Typed {
        Typed::new(expr, VType::Number)
    }

    pub fn string(expr: Expr) -> Typed {
        Typed::new(expr, VType::String)
    }

    pub fn boolean(expr: Expr) -> Typed {
        Typed::new(expr, VType::Boolean)
    }

    pub fn null() -> Typed {
        Typed::new(lit(ScalarValue::Float64(None)), VType::Null)
    }

    /// The constant value, when the expression is a literal.
    pub fn literal(&self) -> Option<&ScalarValue> {
        match &self.expr {
            Expr::Literal(v, _) => Some(v),
            _ => None,
        }
    }

    /// The string constant, when the expression is a string literal.
    pub fn literal_str(&self) -> Option<&str> {
        match self.literal()? {
            ScalarValue::Utf8(Some(s)) => Some(s),
            _ => None,
        }
    }

    /// The number constant, when the expression is a numeric literal.
    pub fn literal_f64(&self) -> Option<f64> {
        match self.literal()? {
            ScalarValue::Float64(Some(v)) if self.ty == VType::Number => Some(*v),
            _ => None,
        }
    }

    /// The expression as stored in a column (dates become timestamps).
    pub fn into_column_expr(self) -> Expr {
        match self.ty {
            VType::Date => try_cast(try_cast(self.expr, DataType::Int64), self.ty.column_type()),
            VType::Null => cast(self.expr, DataType::Float64),
            _ => self.expr,
        }
    }
}

/// A lowered expression.
#[derive(Debug, Clone, PartialEq)]
pub enum Lowered {
    Scalar(Typed),
    /// An array literal or array-valued signal.
    List(Vec<Lowered>),
    /// An object literal or object-valued signal.
    Object(Vec<(String, Lowered)>),
    /// The current row, `datum`.
    Datum,
    /// A field of objects or arrays (an Arrow struct or list column), or a member
    /// of one: read through its members and items (`datum.record.high`).
    Nested {
        expr: Expr,
        field: datafusion::arrow::datatypes::FieldRef,
    },
    Regex {
        pattern: String,
        flags: String,
    },
    /// A field of values of several types, as JSON text (see
    /// [`vegalake_planner::values::JSON_FIELD_METADATA`]): read only by the type
    /// checks and by conversion to a number; its nulls may be `undefined`.
    Json {
        expr: Expr,
        name: String,
        undefined: bool,
    },
}

impl Lowered {
    /// A constant from a JSON value (signal values, dataset rows).
    pub fn from_json(v: &Json) -> Lowered {
        match v {
            Json::Null => Lowered::Scalar(Typed::null()),
            Json::Bool(b) => Lowered::Scalar(Typed::boolean(lit(*b))),
            Json::Number(n) => Lowered::Scalar(Typed::number(lit(n.as_f64().unwrap_or(f64::NAN)))),
            Json::String(s) => Lowered::Scalar(Typed::string(lit(s.as_str()))),
            Json::Array(items) => Lowered::List(items.iter().map(Lowered::from_json).collect()),
            Json::Object(map) => Lowered::Object(map.iter().map(|(k, v)| (k.clone(), Lowered::from_json(v))).collect()),
        }
    }

    pub fn into_scalar(self, what: &str) -> Result<Typed> {
        match self {
            Lowered::Scalar(t) => Ok(t),
            Lowered::Datum => unsupported(format!("{what}: 'datum' used as a value")),
            Lowered::Regex { .. } => unsupported(format!("{what}: a regular expression used as a value")),
            Lowered::List(_) => unsupported(format!("{what}: array values are evaluated on the client")),
            Lowered::Object(_) | Lowered::Nested { .. } => unsupported(format!("{what}: object values are evaluated on the client")),
            Lowered::Json { name, .. } => unsupported(format!("field '{name}' holds values of several types, arrays or objects")),
        }
    }

    /// Whether a value in it may be `undefined` (see [`Typed::undefined`]).
    pub fn may_be_undefined(&self) -> bool {
        match self {
            Lowered::Scalar(t) => t.undefined,
            Lowered::Json { undefined, .. } => *undefined,
            Lowered::Nested { field, .. } => vegalake_planner::values::nulls_are_undefined(field.metadata()),
            Lowered::List(items) => items.iter().any(Lowered::may_be_undefined),
            Lowered::Object(props) => props.iter().any(|(_, v)| v.may_be_undefined()),
            _ => false,
        }
    }

    pub fn as_scalar(&self) -> Option<&Typed> {
        match self {
            Lowered::Scalar(t) => Some(t),
            _ => None,
        }
    }

    /// The constant string, for parameters that must be literal (a dataset name).
    pub fn const_str(&self, what: &str) -> Result<String> {
        match self.as_scalar().and_then(Typed::literal_str) {
            Some(s) => Ok(s.to_string()),
            None => invalid(format!("{what} must be a constant string")),
        }
    }

    /// The value as JSON when it is fully constant.
    pub fn to_json(&self) -> Option<Json> {
        match self {
            // JSON has no `undefined` (a signal holding it is not a constant here).
            Lowered::Scalar(t) if t.undefined => None,
            Lowered::Scalar(t) => match (t.ty, t.literal().cloned().or_else(|| fold_constant(&t.expr))?) {
                (_, v) if v.is_null() => Some(Json::Null),
                (VType::Number | VType::Date, ScalarValue::Float64(Some(v))) => Some(json_number(v)),
                (VType::Number, ScalarValue::Int64(Some(v))) => Some(json_number(v as f64)),
                (VType::String, ScalarValue::Utf8(Some(s))) => Some(Json::String(s)),
                (VType::Boolean, ScalarValue::Boolean(Some(b))) => Some(Json::Bool(b)),
                _ => None,
            },
            Lowered::List(items) => items.iter().map(Lowered::to_json).collect::<Option<Vec<_>>>().map(Json::Array),
            Lowered::Object(props) => {
                props.iter().map(|(k, v)| v.to_json().map(|v| (k.clone(), v))).collect::<Option<serde_json::Map<_, _>>>().map(Json::Object)
            }
            _ => None,
        }
    }
}

/// The value of an expression that reads no column (`ceil(12 / 5)`), folded by
/// DataFusion's simplifier; `None` when it does not fold to a literal.
fn fold_constant(e: &datafusion::logical_expr::Expr) -> Option<ScalarValue> {
    use datafusion::logical_expr::simplify::SimplifyContext;
    use datafusion::optimizer::simplify_expressions::ExprSimplifier;
    let schema = std::sync::Arc::new(datafusion::common::DFSchema::empty());
    let simplifier = ExprSimplifier::new(SimplifyContext::builder().with_schema(schema).build());
    match simplifier.simplify(e.clone()).ok()? {
        datafusion::logical_expr::Expr::Literal(v, _) => Some(v),
        _ => None,
    }
}

/// A number as JSON the way the eval contract prints it: non-finite numbers as strings.
pub fn json_number(v: f64) -> Json {
    if v.is_finite() {
        if v == v.trunc() && v.abs() < 9.0e15 {
            Json::from(v as i64)
        } else {
            serde_json::Number::from_f64(v).map_or(Json::Null, Json::Number)
        }
    } else {
        Json::String(vegalake_planner::values::number::js_number_to_string(v))
    }
}

/// A scalar as JSON, as the eval contract prints a row's value of its type
/// (dates as epoch milliseconds); other types are unsupported.
pub fn scalar_json(v: &ScalarValue) -> crate::Result<Json> {
    use datafusion::arrow::datatypes::DataType;
    if v.is_null() {
        return Ok(Json::Null);
    }
    Ok(match v {
        ScalarValue::Utf8(Some(s)) | ScalarValue::LargeUtf8(Some(s)) | ScalarValue::Utf8View(Some(s)) => Json::String(s.clone()),
        ScalarValue::Boolean(Some(b)) => Json::Bool(*b),
        v if v.data_type().is_numeric() => match v.cast_to(&DataType::Float64)? {
            ScalarValue::Float64(Some(x)) => json_number(x),
            _ => Json::Null,
        },
        v if v.data_type().is_temporal() => match v.cast_to(&DataType::Timestamp(datafusion::arrow::datatypes::TimeUnit::Millisecond, None))? {
            ScalarValue::TimestampMillisecond(Some(ms), _) => json_number(ms as f64),
            _ => Json::Null,
        },
        other => return Err(crate::LowerError::Unsupported(format!("a key of type {}", other.data_type()))),
    })
}
