//! The Vega side of vegalake: the spec model, the expression language, the
//! dependency graph of a spec and its split into server and client halves.
//!
//! This crate knows nothing about engines; lowering lives in `vegalake-sql-gen`.

pub mod expr;
pub mod graph;
pub mod refs;
pub mod spec;
pub mod split;
pub mod values;

pub use graph::{Namespace, ScopePath, SpecGraph, Var};
pub use spec::{Data, Mark, Signal, Source, Spec, Transform};
pub use split::{split, CommPlan, Placement, Split};
