//! The Vega side of vegalake: the spec model and the expression language.
//!
//! This crate knows nothing about engines; lowering lives in `vegalake-sql-gen`.

pub mod expr;
pub mod spec;
pub mod values;

pub use spec::{Data, Mark, Signal, Source, Spec, Transform};
