//! The JavaScript types of column values and how they map to Arrow.
//!
//! Every column of a lowered plan has one of a few Arrow types: numbers are
//! `Float64` (JavaScript has no integers), dates are `Timestamp(ms)`, and strings,
//! booleans and all-null columns map directly. Connectors normalize to these.

use datafusion::arrow::datatypes::{DataType, TimeUnit};

/// The JavaScript type of a value in a lowered expression.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum VType {
    Number,
    String,
    Boolean,
    /// A `Date`. Inside expressions its value is epoch ms as `Float64`; stored in a
    /// column it is `Timestamp(Millisecond)`.
    Date,
    /// Only null values.
    Null,
}

impl VType {
    /// The type of a column of this Arrow type, or `None` for types vegalake does not
    /// evaluate on the server (lists, structs...).
    pub fn of_arrow(dt: &DataType) -> Option<VType> {
        Some(match dt {
            DataType::Float64 | DataType::Float32 | DataType::Int8 | DataType::Int16 | DataType::Int32 | DataType::Int64 => VType::Number,
            DataType::UInt8 | DataType::UInt16 | DataType::UInt32 | DataType::UInt64 => VType::Number,
            DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View => VType::String,
            DataType::Boolean => VType::Boolean,
            DataType::Timestamp(_, _) | DataType::Date32 | DataType::Date64 => VType::Date,
            DataType::Null => VType::Null,
            _ => return None,
        })
    }

    /// The Arrow type a value of this type has inside an expression.
    pub fn expr_type(self) -> DataType {
        match self {
            VType::Number | VType::Date | VType::Null => DataType::Float64,
            VType::String => DataType::Utf8,
            VType::Boolean => DataType::Boolean,
        }
    }

    /// The Arrow type of a column holding values of this type.
    pub fn column_type(self) -> DataType {
        match self {
            VType::Date => DataType::Timestamp(TimeUnit::Millisecond, None),
            other => other.expr_type(),
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            VType::Number => "number",
            VType::String => "string",
            VType::Boolean => "boolean",
            VType::Date => "date",
            VType::Null => "null",
        }
    }
}
