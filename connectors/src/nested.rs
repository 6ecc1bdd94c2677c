//! Arrays and objects as typed Arrow columns (lists and structs), where every
//! value of a column has one shape: `flatten` unnests lists, and expressions read
//! an object's members (`datum.record.high`) and an array's items
//! (`datum.ranges[2]`) on the server. Any other nested column stays JSON text.

use datafusion::arrow::array::{Array, ArrayRef, BooleanBuilder, Float64Builder, ListBuilder, StringBuilder, StructArray};
use datafusion::arrow::buffer::NullBuffer;
use datafusion::arrow::datatypes::{DataType, Field, Fields};
use serde_json::Value as Json;
use std::collections::HashMap;
use std::sync::Arc;
use vegalake_planner::values::{SHORTEST_LIST_METADATA, UNDEFINED_FIELD_METADATA};

/// The one shape of a column's non-null values.
enum Shape {
    Number,
    String,
    Boolean,
    /// Arrays of one scalar shape, the shortest of this length.
    List(Box<Shape>, usize),
    /// Objects: each member's shape, whether some objects lack it (`undefined`)
    /// and whether some lack it or hold null (its field is nullable: a member that
    /// is not reads a value wherever its object is present).
    Struct(Vec<(String, Shape, bool, bool)>),
}

/// The values as one Arrow column, or `None` when they do not share a shape.
pub fn column(values: &[Option<&Json>]) -> Option<(Field, ArrayRef)> {
    let shape = shape_of(values)?;
    let array = build(&shape, values);
    let nullable = array.null_count() > 0;
    Some((field("", &shape, false).with_nullable(nullable), array))
}

fn shape_of(values: &[Option<&Json>]) -> Option<Shape> {
    let present: Vec<&Json> = values.iter().flatten().copied().filter(|v| !v.is_null()).collect();
    let Some(first) = present.first() else { return Some(Shape::Number) };
    let same_kind = |v: &&Json| std::mem::discriminant(*v) == std::mem::discriminant(*first);
    if !present.iter().all(same_kind) {
        return None;
    }
    Some(match first {
        Json::Number(_) => Shape::Number,
        Json::String(_) => Shape::String,
        Json::Bool(_) => Shape::Boolean,
        Json::Array(_) => {
            let arrays: Vec<&Vec<Json>> = present.iter().filter_map(|v| v.as_array()).collect();
            let items: Vec<Option<&Json>> = arrays.iter().flat_map(|a| a.iter().map(Some)).collect();
            let item = shape_of(&items)?;
            if matches!(item, Shape::List(..) | Shape::Struct(_)) {
                return None;
            }
            Shape::List(Box::new(item), arrays.iter().map(|a| a.len()).min().unwrap_or(0))
        }
        Json::Object(_) => {
            let objects: Vec<&serde_json::Map<String, Json>> = present.iter().filter_map(|v| v.as_object()).collect();
            let mut names: Vec<&String> = Vec::new();
            for o in &objects {
                names.extend(o.keys().filter(|k| !names.contains(k)).collect::<Vec<_>>());
            }
            // Arrow's struct of no fields has no length of its own (it panicked on
            // TopoJSON's empty `properties`): such objects stay JSON text.
            if names.is_empty() {
                return None;
            }
            let mut members = Vec::new();
            for name in names {
                let member: Vec<Option<&Json>> = objects.iter().map(|o| o.get(name)).collect();
                let missing = member.iter().any(Option::is_none);
                // Missing and null both in one member: one Arrow null cannot say which.
                if missing && member.iter().flatten().any(|v| v.is_null()) {
                    return None;
                }
                let nullable = missing || member.iter().flatten().any(|v| v.is_null());
                members.push((name.clone(), shape_of(&member)?, missing, nullable));
            }
            Shape::Struct(members)
        }
        Json::Null => unreachable!("nulls are filtered out"),
    })
}

fn data_type(shape: &Shape) -> DataType {
    match shape {
        Shape::Number => DataType::Float64,
        Shape::String => DataType::Utf8,
        Shape::Boolean => DataType::Boolean,
        Shape::List(item, _) => DataType::List(Arc::new(Field::new("item", data_type(item), true))),
        Shape::Struct(members) => {
            DataType::Struct(members.iter().map(|(n, s, missing, nullable)| field(n, s, *missing).with_nullable(*nullable)).collect::<Fields>())
        }
    }
}

/// A field of `shape`, with what expressions need to know of it as metadata.
fn field(name: &str, shape: &Shape, sometimes_missing: bool) -> Field {
    let mut metadata = HashMap::new();
    if let Shape::List(_, shortest) = shape {
        metadata.insert(SHORTEST_LIST_METADATA.to_string(), shortest.to_string());
    }
    if sometimes_missing {
        metadata.insert(UNDEFINED_FIELD_METADATA.to_string(), "true".to_string());
    }
    Field::new(name, data_type(shape), true).with_metadata(metadata)
}

/// A present, non-null value.
fn value<'a>(v: &Option<&'a Json>) -> Option<&'a Json> {
    v.filter(|v| !v.is_null())
}

fn build(shape: &Shape, values: &[Option<&Json>]) -> ArrayRef {
    match shape {
        Shape::Number => Arc::new(values.iter().map(|v| value(v).and_then(Json::as_f64)).collect::<datafusion::arrow::array::Float64Array>()),
        Shape::String => Arc::new(values.iter().map(|v| value(v).and_then(Json::as_str)).collect::<datafusion::arrow::array::StringArray>()),
        Shape::Boolean => Arc::new(values.iter().map(|v| value(v).and_then(Json::as_bool)).collect::<datafusion::arrow::array::BooleanArray>()),
        Shape::List(item, _) => {
            macro_rules! list {
                ($builder:expr, $item:ident) => {{
                    let mut b = ListBuilder::new($builder);
                    for v in values {
                        match value(v).and_then(Json::as_array) {
                            Some(items) => {
                                items.iter().for_each(|i| b.values().append_option(i.$item()));
                                b.append(true);
                            }
                            None => b.append(false),
                        }
                    }
                    Arc::new(b.finish()) as ArrayRef
                }};
            }
            match item.as_ref() {
                Shape::String => list!(StringBuilder::new(), as_str),
                Shape::Boolean => list!(BooleanBuilder::new(), as_bool),
                _ => list!(Float64Builder::new(), as_f64),
            }
        }
        Shape::Struct(members) => {
            let DataType::Struct(fields) = data_type(shape) else { unreachable!("a struct shape") };
            let children: Vec<ArrayRef> = members
                .iter()
                .map(|(name, member, ..)| build(member, &values.iter().map(|v| value(v).and_then(|o| o.get(name))).collect::<Vec<_>>()))
                .collect();
            let nulls = NullBuffer::from(values.iter().map(|v| value(v).is_some()).collect::<Vec<bool>>());
            let array = StructArray::new(fields, children, Some(nulls).filter(|n| n.null_count() > 0));
            Arc::new(array)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn shape(values: &[Json]) -> Option<DataType> {
        column(&values.iter().map(Some).collect::<Vec<_>>()).map(|(f, a)| {
            assert_eq!(f.data_type(), a.data_type());
            a.data_type().clone()
        })
    }

    #[test]
    fn one_shape_makes_a_typed_column_and_mixed_shapes_stay_json() {
        assert!(matches!(shape(&[json!({"high": 1, "low": 0}), json!(null), json!({"high": 2})]), Some(DataType::Struct(_))));
        assert!(matches!(shape(&[json!([1, 2]), json!([])]), Some(DataType::List(_))));
        assert_eq!(shape(&[json!([1, "a"])]), None, "items of two types");
        assert_eq!(shape(&[json!({"a": 1}), json!({"a": "x"})]), None, "a member of two types");
        assert_eq!(shape(&[json!({}), json!({})]), None, "objects without members");
        assert_eq!(shape(&[json!({"a": null}), json!({})]), None, "null and missing in one member");
        assert_eq!(shape(&[json!({"a": 1}), json!([1])]), None, "objects and arrays");
    }

    #[test]
    fn members_say_when_they_are_missing_and_lists_their_shortest_length() {
        let (f, _) = column(&[Some(&json!({"a": 1, "xs": [1, 2]})), Some(&json!({"xs": [3]}))]).unwrap();
        let DataType::Struct(members) = f.data_type() else { panic!("a struct") };
        assert!(members[0].metadata().contains_key(UNDEFINED_FIELD_METADATA), "'a' is missing from the second object");
        assert_eq!(members[1].metadata().get(SHORTEST_LIST_METADATA).map(String::as_str), Some("1"));
    }
}
