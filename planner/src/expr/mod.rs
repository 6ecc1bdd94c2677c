//! Vega's expression language: syntax tree and parser.

mod ast;
mod parser;

pub use ast::{BinaryOp, Expr, ExprKind, LogicalOp, UnaryOp};
pub use parser::{parse, ParseError};
