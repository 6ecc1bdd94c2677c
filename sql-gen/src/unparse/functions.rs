//! Functions in SQL. Our `vl_*` functions: the aggregates that have a dialect
//! form ([`crate::udaf::Moment::sql`]) and vega's time units ([`super::time`]);
//! every other one keeps the task local. DataFusion's own functions: only those
//! on the dialect's list ([`checked_functions`]), each checked against the engine
//! by the SQL test; any other keeps the task local (the list fails closed: a new
//! lowering is not pushed until the engines agree with it).

use super::SqlDialect::{DuckDb, Postgres, Spark};
use super::{SqlDialect, SqlError};
use crate::udaf::{Moment, SqlAggregate};
use datafusion::sql::sqlparser::ast::{self, BinaryOperator, Expr, FunctionArg, FunctionArgExpr, FunctionArguments, ObjectName};

/// DataFusion functions whose SQL the engines of each dialect compute as the
/// local engine does, by the name the unparser writes (before [`builtin_name`]
/// and [`builtin_form`] rename or rewrite them for a dialect). The SQL test
/// checks the list both ways: each entry is called by a conformance task that
/// ran on the engine and agreed with vega.js.
const CHECKED: &[(&str, &[SqlDialect])] = &[
    ("abs", ALL),
    ("acos", ALL),
    ("asin", ALL),
    ("atan", ALL),
    ("atan2", ALL),
    ("avg", ALL),
    ("ceil", ALL),
    ("coalesce", ALL),
    ("concat", ALL),
    ("cos", ALL),
    ("count", ALL),
    ("cume_dist", ALL),
    ("dense_rank", ALL),
    ("exp", ALL),
    ("first_value", ALL),
    ("floor", ALL),
    ("greatest", ALL),
    ("isnan", ALL),
    ("lag", ALL),
    ("last_value", ALL),
    ("lead", ALL),
    ("least", ALL),
    ("left", ALL),
    ("lower", ALL),
    ("max", ALL),
    ("min", ALL),
    ("nth_value", ALL),
    ("percent_rank", ALL),
    ("power", ALL),
    ("rank", ALL),
    ("regexp_like", ALL),
    ("repeat", ALL),
    ("reverse", ALL),
    ("right", ALL),
    ("row_number", ALL),
    ("sin", ALL),
    ("sqrt", ALL),
    ("strpos", ALL),
    ("sum", ALL),
    ("tan", ALL),
    ("to_timestamp_millis", ALL),
    ("upper", ALL),
    // The unparser names a string's length by the dialect's style.
    ("character_length", &[Spark, Postgres]),
    ("length", &[DuckDb]),
    // Spark gives NULL where JavaScript gives NaN; PostgreSQL raises.
    ("ln", &[DuckDb]),
    // Spark replaces every match (see builtin_refusal).
    ("regexp_replace", &[DuckDb, Postgres]),
    ("substr", &[DuckDb, Postgres]),
    ("trunc", &[DuckDb, Postgres]),
    ("stddev", &[Spark, DuckDb]),
];

const ALL: &[SqlDialect] = &SqlDialect::ALL;

/// The DataFusion functions `dialect` may be sent ([`CHECKED`]).
pub fn checked_functions(dialect: SqlDialect) -> impl Iterator<Item = &'static str> {
    CHECKED.iter().filter(move |(_, dialects)| dialects.contains(&dialect)).map(|(name, _)| *name)
}

/// A call's function name without quotes.
pub fn bare_name(f: &ast::Function) -> String {
    f.name.to_string().trim_matches(|c| c == '`' || c == '"').to_string()
}

/// The replacement of a call of `f`, `None` to keep it, or why it cannot be pushed.
pub fn rewrite(f: &ast::Function, dialect: SqlDialect) -> Result<Option<Expr>, SqlError> {
    let name = bare_name(f);
    let bare = name.as_str();
    if !bare.starts_with("vl_") {
        let args = argument_list(f);
        if let Some(why) = builtin_refusal(bare, args.len(), dialect) {
            return Err(SqlError::NotPushable(format!("{bare}: {why}")));
        }
        if !checked_functions(dialect).any(|n| n == bare) {
            return Err(SqlError::NotPushable(format!("{bare} is not on {dialect}'s list of checked functions")));
        }
        if let Some(form) = builtin_form(bare, &args, dialect) {
            return Ok(Some(form));
        }
        return Ok(builtin_name(bare, dialect).map(|renamed| call(f, renamed, args)));
    }
    if let Some(time) = super::time::rewrite(bare, &argument_list(f), dialect)? {
        return Ok(Some(time));
    }
    let no_form = || SqlError::NotPushable(format!("{bare} (vega's semantics) has no {dialect} form"));
    let moment = Moment::from_udf_name(bare).ok_or_else(no_form)?;
    // vl_<moment>(value, row): the row only orders vega's arithmetic.
    let value = argument_list(f).into_iter().next().ok_or_else(|| SqlError::Unparse(format!("{bare} without arguments")))?;
    Ok(Some(match moment.sql(dialect).ok_or_else(no_form)? {
        SqlAggregate::Call(sql_name) => call(f, sql_name, vec![value]),
        SqlAggregate::Quantile(sql_name, p) if dialect == SqlDialect::Postgres => {
            // An ordered-set aggregate: PostgreSQL has no window form of it.
            if f.over.is_some() {
                return Err(SqlError::NotPushable(format!("{bare} over a window: PostgreSQL's {sql_name} is an ordered-set aggregate only")));
            }
            parse(&format!("{sql_name}({p}) WITHIN GROUP (ORDER BY {value})"))?
        }
        SqlAggregate::Quantile(sql_name, p) => {
            call(f, sql_name, vec![value, FunctionArg::Unnamed(FunctionArgExpr::Expr(Expr::value(ast::Value::Number(format!("{p}"), false))))])
        }
        SqlAggregate::StandardError => {
            let count = call(f, "count", vec![value.clone()]);
            let sqrt = call(&plain(f), "sqrt", vec![FunctionArg::Unnamed(FunctionArgExpr::Expr(count))]);
            Expr::BinaryOp { left: Box::new(call(f, "stddev_samp", vec![value])), op: BinaryOperator::Divide, right: Box::new(sqrt) }
        }
    }))
}

/// DataFusion functions a dialect has no same-meaning form of.
fn builtin_refusal(name: &str, args: usize, dialect: SqlDialect) -> Option<&'static str> {
    match (name, args, dialect) {
        ("trunc", 1, SqlDialect::Spark) => Some("Spark's trunc truncates dates; floor/ceil return BIGINT"),
        ("regexp_like", 3, SqlDialect::Spark) => Some("Spark's regexp_like takes no flags"),
        ("ln" | "log" | "log2" | "log10", _, SqlDialect::Spark) => Some("Spark gives NULL where JavaScript gives NaN (x <= 0)"),
        ("btrim", _, SqlDialect::Spark) => Some("Spark's btrim is not JavaScript's trim"),
        ("regexp_replace", _, SqlDialect::Spark) => Some("Spark replaces every match; JavaScript's replace without /g only the first"),
        ("ln" | "log" | "log2" | "log10", _, SqlDialect::Postgres) => Some("PostgreSQL raises an error where JavaScript gives NaN (x < 0)"),
        _ => None,
    }
}

/// DataFusion functions another dialect writes as an expression of its own.
fn builtin_form(name: &str, args: &[FunctionArg], dialect: SqlDialect) -> Option<Expr> {
    let text = |i: usize| args.get(i).map(|a| a.to_string());
    let form = match (name, dialect) {
        // PostgreSQL has no isnan; its NaN equals itself (and NULL stays NULL).
        ("isnan", SqlDialect::Postgres) => format!("(({}) = CAST('NaN' AS DOUBLE PRECISION))", text(0)?),
        // Epoch milliseconds as a zone-less timestamp (UTC, as vegalake's are).
        ("to_timestamp_millis", SqlDialect::Postgres) => {
            format!("(to_timestamp(CAST(({}) AS DOUBLE PRECISION) / 1000.0) AT TIME ZONE 'UTC')", text(0)?)
        }
        // PostgreSQL's repeat and substr take INTEGER counts and positions.
        ("repeat", SqlDialect::Postgres) => format!("repeat({}, CAST(({}) AS INTEGER))", text(0)?, text(1)?),
        ("substr", SqlDialect::Postgres) => {
            let counts: Vec<String> = (1..args.len()).map(|i| Some(format!("CAST(({}) AS INTEGER)", text(i)?))).collect::<Option<_>>()?;
            format!("substr({}, {})", text(0)?, counts.join(", "))
        }
        _ => return None,
    };
    parse(&form).ok()
}

/// A SQL expression we wrote as text.
fn parse(text: &str) -> Result<Expr, SqlError> {
    use datafusion::sql::sqlparser::{dialect::PostgreSqlDialect, parser::Parser};
    Parser::new(&PostgreSqlDialect {}).try_with_sql(text).and_then(|mut p| p.parse_expr()).map_err(|e| SqlError::Unparse(format!("{text}: {e}")))
}

/// DataFusion functions another dialect names differently.
fn builtin_name(name: &str, dialect: SqlDialect) -> Option<&'static str> {
    match (name, dialect) {
        ("regexp_like", SqlDialect::DuckDb) => Some("regexp_matches"),
        ("to_timestamp_millis", SqlDialect::DuckDb) => Some("epoch_ms"),
        ("strpos", SqlDialect::Spark) => Some("instr"),
        // A TIMESTAMP in the session's zone: vegalake's Spark sessions run in UTC.
        ("to_timestamp_millis", SqlDialect::Spark) => Some("timestamp_millis"),
        _ => None,
    }
}

fn argument_list(f: &ast::Function) -> Vec<FunctionArg> {
    match &f.args {
        FunctionArguments::List(list) => list.args.clone(),
        _ => Vec::new(),
    }
}

/// `f` renamed, with other arguments (its window, if any, kept).
fn call(f: &ast::Function, name: &str, args: Vec<FunctionArg>) -> Expr {
    let mut call = f.clone();
    call.name = ObjectName::from(vec![ast::Ident::new(name)]);
    if let FunctionArguments::List(list) = &mut call.args {
        list.args = args;
    }
    Expr::Function(call)
}

/// `f` without its window: a scalar function call.
fn plain(f: &ast::Function) -> ast::Function {
    ast::Function { over: None, filter: None, ..f.clone() }
}
