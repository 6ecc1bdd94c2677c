//! The registry of Vega expression functions.
//!
//! Each function is one [`FunctionDef`] in the module of its topic: its name, its
//! arity and how it lowers. A function the server cannot evaluate is still
//! registered (those only a browser can evaluate in `client.rs`), with a lowering
//! that answers [`LowerError::Unsupported`](crate::LowerError::Unsupported) and
//! says why; a name that is not registered at all is an error, as in vega.js
//! ("Unrecognized function"). Whether the DataFusion expressions a lowering
//! writes may be sent to a SQL dialect is the unparser's registry
//! ([`crate::unparse`]), failing closed.

mod array;
mod client;
mod data;
mod date;
mod math;
mod string;
mod types;

use crate::error::{invalid, unsupported, Result};
use crate::lower::Lowerer;
use crate::lowered::{Lowered, Typed};
use std::collections::HashMap;
use std::sync::OnceLock;
use vegalake_planner::expr::Expr as Ast;

pub(crate) use array::d3_range;
pub(crate) use string::string_length;

/// How a function lowers: from its argument expressions to a lowered value.
pub type LowerFn = fn(&Lowerer, &[Ast]) -> Result<Lowered>;

/// One expression function.
pub struct FunctionDef {
    pub name: &'static str,
    /// Accepted argument counts (inclusive).
    pub arity: (usize, usize),
    /// Whether its lowering gives what vega.js gives for `undefined` arguments
    /// (`abs(undefined)` is NaN where `abs(null)` is 0); calls of the others with
    /// an argument that may be `undefined` are left to the client.
    pub reads_undefined: bool,
    pub lower: LowerFn,
}

const ANY: usize = usize::MAX;

/// The functions vega.js refuses more arguments to (its code generator's own check).
const REJECTS_EXTRA_ARGUMENTS: &[&str] = &["if", "clamp"];

fn registry() -> &'static HashMap<&'static str, &'static FunctionDef> {
    static REGISTRY: OnceLock<HashMap<&'static str, &'static FunctionDef>> = OnceLock::new();
    REGISTRY.get_or_init(|| {
        [math::FUNCTIONS, string::FUNCTIONS, date::FUNCTIONS, types::FUNCTIONS, array::FUNCTIONS, data::FUNCTIONS, client::FUNCTIONS]
            .into_iter()
            .flatten()
            .map(|f| (f.name, f))
            .collect()
    })
}

/// The definition of a function, if Vega has one by that name.
pub fn function(name: &str) -> Option<&'static FunctionDef> {
    registry().get(name).copied()
}

/// Every registered function name (for documentation and tests).
pub fn function_names() -> Vec<&'static str> {
    let mut names: Vec<_> = registry().keys().copied().collect();
    names.sort();
    names
}

pub(crate) fn lower_call(l: &Lowerer, name: &str, args: &[Ast]) -> Result<Lowered> {
    let Some(def) = function(name) else {
        return invalid(format!("unrecognized function '{name}'"));
    };
    let (lo, hi) = def.arity;
    // JavaScript ignores arguments past a function's parameters, and so does
    // vega.js (`round(x, 2)` is `Math.round(x, 2)`), except where its code
    // generator counts them: `if` and `clamp` (vega-expression's functions.js).
    let args = if args.len() > hi && !REJECTS_EXTRA_ARGUMENTS.contains(&name) { &args[..hi] } else { args };
    if args.len() < lo || args.len() > hi {
        let expected = if lo == hi {
            lo.to_string()
        } else if hi == ANY {
            format!("at least {lo}")
        } else {
            format!("{lo} to {hi}")
        };
        return invalid(format!("{name}() takes {expected} arguments, got {}", args.len()));
    }
    let lowered = (def.lower)(l, args)?;
    if l.lowered_undefined() && !def.reads_undefined {
        return unsupported(format!("{name}() of a value that may be undefined"));
    }
    Ok(lowered)
}

/// Lowers every argument to a scalar.
fn scalars(l: &Lowerer, args: &[Ast]) -> Result<Vec<Typed>> {
    args.iter().map(|a| l.scalar(a)).collect()
}

fn scalar(t: Typed) -> Result<Lowered> {
    Ok(Lowered::Scalar(t))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_name_is_registered_once() {
        let total: usize = [math::FUNCTIONS, string::FUNCTIONS, date::FUNCTIONS, types::FUNCTIONS, array::FUNCTIONS, data::FUNCTIONS, client::FUNCTIONS]
            .iter()
            .map(|f| f.len())
            .sum();
        assert_eq!(total, registry().len(), "a function is registered twice");
    }
}
