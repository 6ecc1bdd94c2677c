//! Vega's value semantics, shared by the loaders and the lowering: JavaScript number
//! and string conversions, dates in a time zone, and vega-time's units.

pub mod d3time;
pub mod date_parse;
pub mod number;
pub mod time;
