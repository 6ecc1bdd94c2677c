//! Vega's value semantics, shared by the loaders and the lowering: JavaScript number
//! and string conversions, dates in a time zone, and vega-time's units.

/// Arrow field metadata key marking a column whose nulls are all JavaScript
/// `undefined` (rows that lack the field, spreads vega leaves undefined), which
/// coerces unlike `null` (`+undefined` is NaN, `+null` is 0) and is left out of
/// output rows. Its value is `"true"`; `"false"` overrides an inherited mark (a
/// projection extends its input's metadata and cannot remove a key).
pub const UNDEFINED_FIELD_METADATA: &str = "vegalake:undefined";

/// Whether a field's metadata marks its nulls as `undefined` (see
/// [`UNDEFINED_FIELD_METADATA`]).
pub fn nulls_are_undefined<S: std::hash::BuildHasher>(metadata: &std::collections::HashMap<String, String, S>) -> bool {
    metadata.get(UNDEFINED_FIELD_METADATA).is_some_and(|v| v == "true")
}

/// Arrow field metadata key marking a column of JSON text: values of several types,
/// arrays or objects, carried through unchanged and restored on output; expressions
/// and transforms do not compute on them.
pub const JSON_FIELD_METADATA: &str = "vegalake:json";

/// Arrow field metadata key of a list column: the length of its shortest array,
/// below which `datum.xs[i]` reads an item in every row (past it, `undefined`).
pub const SHORTEST_LIST_METADATA: &str = "vegalake:shortest";

pub mod d3format;
pub mod d3time;
pub mod date_parse;
pub mod geo;
pub mod number;
pub mod regression;
pub mod statistics;
pub mod time;
