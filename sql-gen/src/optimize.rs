//! Optimizer rules of our own.
//!
//! vegalake reads every number as `Float64` (JavaScript has one number type), so a
//! table's integer column reaches filters as `CAST(col AS Float64)`. DataFusion does
//! not take that cast off a comparison (large integers do not all fit a double),
//! and table providers such as Delta's skip files only on predicates over their own
//! columns. [`UnwrapIntegerCasts`] rewrites `CAST(int AS Float64) <op> c` to the
//! equivalent comparison of the integer column, exact whenever |c| < 2^53 (every
//! integer there is a double, and the cast is monotone), so a brush on an integer
//! partition column prunes partitions and files.

use datafusion::common::tree_node::{Transformed, TreeNode};
use datafusion::common::{Result, ScalarValue};
use datafusion::logical_expr::{BinaryExpr, Expr, ExprSchemable, LogicalPlan, Operator};
use datafusion::optimizer::{ApplyOrder, OptimizerConfig, OptimizerRule};

/// Comparisons of integer columns cast to `Float64` with constants, uncast.
#[derive(Debug, Default)]
pub struct UnwrapIntegerCasts;

impl OptimizerRule for UnwrapIntegerCasts {
    fn name(&self) -> &str {
        "vegalake_unwrap_integer_casts"
    }

    fn apply_order(&self) -> Option<ApplyOrder> {
        Some(ApplyOrder::BottomUp)
    }

    fn supports_rewrite(&self) -> bool {
        true
    }

    fn rewrite(&self, plan: LogicalPlan, _config: &dyn OptimizerConfig) -> Result<Transformed<LogicalPlan>> {
        let LogicalPlan::Filter(_) = &plan else { return Ok(Transformed::no(plan)) };
        let schema = plan.inputs()[0].schema().clone();
        plan.map_expressions(|e| e.transform_up(|e| Ok(unwrap(e, &schema))))
    }
}

fn unwrap(e: Expr, schema: &datafusion::common::DFSchema) -> Transformed<Expr> {
    if let Expr::InList(list) = &e {
        return unwrap_in_list(list, schema).map_or(Transformed::no(e), Transformed::yes);
    }
    let Expr::BinaryExpr(BinaryExpr { left, op, right }) = &e else { return Transformed::no(e) };
    // Put the cast column on the left.
    let (column, op, constant) = match (left.as_ref(), right.as_ref()) {
        (Expr::Cast(_), Expr::Literal(..)) => (left.as_ref(), *op, right.as_ref()),
        (Expr::Literal(..), Expr::Cast(_)) => match op.swap() {
            Some(swapped) => (right.as_ref(), swapped, left.as_ref()),
            None => return Transformed::no(e),
        },
        _ => return Transformed::no(e),
    };
    let (Expr::Cast(cast), Expr::Literal(ScalarValue::Float64(Some(c)), _)) = (column, constant) else { return Transformed::no(e) };
    let Some(target) = cast.expr.get_type(schema).ok().filter(|t| t.is_integer()) else { return Transformed::no(e) };
    if cast.field.data_type() != &datafusion::arrow::datatypes::DataType::Float64 || !c.is_finite() || c.abs() >= 9.0e15 {
        return Transformed::no(e);
    }
    let bound = match op {
        Operator::GtEq | Operator::Lt => c.ceil(),
        Operator::LtEq | Operator::Gt => c.floor(),
        Operator::Eq | Operator::NotEq if c.fract() == 0.0 => *c,
        _ => return Transformed::no(e),
    };
    let Ok(value) = ScalarValue::Int64(Some(bound as i64)).cast_to(&target) else { return Transformed::no(e) };
    Transformed::yes(Expr::BinaryExpr(BinaryExpr::new(cast.expr.clone(), op, Box::new(Expr::Literal(value, None)))))
}

/// `CAST(int AS Float64) [NOT] IN (c, ...)` as `int [NOT] IN (...)`: values that
/// are not whole numbers can never be equal, so they leave the list.
fn unwrap_in_list(list: &datafusion::logical_expr::expr::InList, schema: &datafusion::common::DFSchema) -> Option<Expr> {
    let Expr::Cast(cast) = list.expr.as_ref() else { return None };
    let target = cast.expr.get_type(schema).ok().filter(|t| t.is_integer())?;
    let mut values = Vec::new();
    for item in &list.list {
        let Expr::Literal(ScalarValue::Float64(Some(c)), _) = item else { return None };
        if !c.is_finite() || c.abs() >= 9.0e15 {
            return None;
        }
        if c.fract() == 0.0 {
            values.push(Expr::Literal(ScalarValue::Int64(Some(*c as i64)).cast_to(&target).ok()?, None));
        }
    }
    if values.is_empty() {
        return None;
    }
    Some(Expr::InList(datafusion::logical_expr::expr::InList::new(cast.expr.clone(), values, list.negated)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use datafusion::arrow::datatypes::{DataType, Field, Schema};
    use datafusion::logical_expr::{cast, col, lit};

    fn schema() -> datafusion::common::DFSchema {
        datafusion::common::DFSchema::try_from(Schema::new(vec![Field::new("day", DataType::Int32, true), Field::new("x", DataType::Float32, true)])).unwrap()
    }

    fn rewritten(e: Expr) -> String {
        unwrap(e, &schema()).data.to_string()
    }

    #[test]
    fn bounds_round_to_the_integers_they_admit() {
        let day = || cast(col("day"), DataType::Float64);
        assert_eq!(rewritten(lit(40.0).lt_eq(day())), "day >= Int32(40)");
        assert_eq!(rewritten(day().lt_eq(lit(49.5))), "day <= Int32(49)");
        assert_eq!(rewritten(day().gt_eq(lit(39.2))), "day >= Int32(40)");
        assert_eq!(rewritten(day().lt(lit(39.2))), "day < Int32(40)");
        assert_eq!(rewritten(day().gt(lit(39.2))), "day > Int32(39)");
        assert_eq!(rewritten(day().eq(lit(42.0))), "day = Int32(42)");
        // Not rewritten: a fractional equality, a float column, NaN.
        assert!(rewritten(day().eq(lit(42.5))).contains("CAST"));
        assert!(rewritten(cast(col("x"), DataType::Float64).gt(lit(1.0))).contains("CAST"));
        assert!(rewritten(day().gt(lit(f64::NAN))).contains("CAST"));
        assert_eq!(rewritten(day().in_list(vec![lit(3.0), lit(4.5), lit(17.0)], false)), "day IN ([Int32(3), Int32(17)])");
    }
}
