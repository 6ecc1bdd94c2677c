//! Functions in SQL. Our `vl_*` functions: the aggregates that have a dialect
//! form ([`crate::udaf::Moment::sql`]) and vega's time units ([`super::time`]);
//! every other one keeps the task local. DataFusion's own functions: one entry
//! each in [`BUILTINS`], saying how each dialect writes it or why it may not be
//! sent; a function without an entry, or unchecked in a dialect, keeps the task
//! local (failing closed: a new lowering is not pushed until the engines agree
//! with it).

use super::SqlDialect::{self, DuckDb, Postgres, Spark};
use super::SqlError;
use crate::udaf::{Moment, SqlAggregate};
use datafusion::sql::sqlparser::ast::{self, BinaryOperator, Expr, FunctionArg, FunctionArgExpr, FunctionArguments, ObjectName};

/// How one dialect writes a DataFusion function.
#[derive(Clone, Copy)]
enum Form {
    /// Not checked against the dialect's engines: the task stays local.
    Unchecked,
    /// As the unparser writes it.
    Same,
    /// As written, with at most this many arguments; more are refused, with why.
    AtMost(usize, &'static str),
    /// Under another name.
    Named(&'static str),
    /// As an expression of the dialect's own, from the arguments' SQL.
    Written(fn(&[String]) -> Option<String>),
    /// Refused, with why: the dialect's function of that name means something else.
    Refused(&'static str),
}

/// One DataFusion function, by the name the unparser writes, and its form in each
/// dialect. The SQL test checks the entries both ways: each checked form is called
/// by a conformance task that ran on the engine and agreed with vega.js.
struct Builtin {
    name: &'static str,
    spark: Form,
    duckdb: Form,
    postgres: Form,
}

impl Builtin {
    fn form(&self, dialect: SqlDialect) -> Form {
        match dialect {
            Spark => self.spark,
            DuckDb => self.duckdb,
            Postgres => self.postgres,
        }
    }
}

/// The same in every dialect.
const fn same(name: &'static str) -> Builtin {
    Builtin { name, spark: Form::Same, duckdb: Form::Same, postgres: Form::Same }
}

const SPARK_LOG: Form = Form::Refused("Spark gives NULL where JavaScript gives NaN (x <= 0)");
const POSTGRES_LOG: Form = Form::Refused("PostgreSQL raises an error where JavaScript gives NaN (x < 0)");

const BUILTINS: &[Builtin] = &[
    same("abs"),
    same("acos"),
    same("asin"),
    same("atan"),
    same("atan2"),
    same("avg"),
    Builtin { spark: Form::Written(spark_ceil), ..same("ceil") },
    same("coalesce"),
    same("concat"),
    same("cos"),
    same("count"),
    same("cume_dist"),
    same("dense_rank"),
    same("exp"),
    same("first_value"),
    Builtin { spark: Form::Written(spark_floor), ..same("floor") },
    same("greatest"),
    same("lag"),
    same("last_value"),
    same("lead"),
    same("least"),
    same("left"),
    same("lower"),
    same("max"),
    same("min"),
    same("nth_value"),
    same("percent_rank"),
    same("power"),
    same("rank"),
    same("reverse"),
    same("right"),
    same("row_number"),
    same("sin"),
    same("sqrt"),
    same("sum"),
    same("tan"),
    same("upper"),
    // PostgreSQL has no isnan; its NaN equals itself (and NULL stays NULL).
    Builtin { postgres: Form::Written(postgres_isnan), ..same("isnan") },
    Builtin { spark: Form::AtMost(2, "Spark's regexp_like takes no flags"), duckdb: Form::Named("regexp_matches"), ..same("regexp_like") },
    Builtin { spark: Form::Named("instr"), ..same("strpos") },
    // PostgreSQL's repeat and substr take INTEGER counts and positions.
    Builtin { postgres: Form::Written(postgres_repeat), ..same("repeat") },
    Builtin { spark: Form::Unchecked, postgres: Form::Written(postgres_substr), ..same("substr") },
    // Epoch milliseconds as a zone-less timestamp: vegalake's are UTC, and so are
    // its Spark sessions.
    Builtin {
        spark: Form::Named("timestamp_millis"),
        duckdb: Form::Named("epoch_ms"),
        postgres: Form::Written(postgres_timestamp_millis),
        ..same("to_timestamp_millis")
    },
    // The unparser names a string's length by the dialect's style.
    Builtin { duckdb: Form::Unchecked, ..same("character_length") },
    Builtin { spark: Form::Unchecked, postgres: Form::Unchecked, ..same("length") },
    Builtin { spark: SPARK_LOG, postgres: POSTGRES_LOG, ..same("ln") },
    Builtin { spark: SPARK_LOG, duckdb: Form::Unchecked, postgres: POSTGRES_LOG, name: "log" },
    Builtin { spark: SPARK_LOG, duckdb: Form::Unchecked, postgres: POSTGRES_LOG, name: "log2" },
    Builtin { spark: SPARK_LOG, duckdb: Form::Unchecked, postgres: POSTGRES_LOG, name: "log10" },
    Builtin { spark: Form::Refused("Spark replaces every match; JavaScript's replace without /g only the first"), ..same("regexp_replace") },
    Builtin { spark: Form::Refused("Spark's trunc truncates dates; floor/ceil return BIGINT"), ..same("trunc") },
    Builtin { spark: Form::Refused("Spark's btrim is not JavaScript's trim"), duckdb: Form::Unchecked, postgres: Form::Unchecked, name: "btrim" },
    Builtin { postgres: Form::Unchecked, ..same("stddev") },
];

/// Spark's floor and ceil return BIGINT: NaN became 0 there (`round(datum.a)` of a
/// missing field, CI-equivalent run of the SQL test) and infinities the largest
/// long. Values at or past 2^52 are integers already and pass unchanged, as do
/// NaN and the infinities (Spark's NaN compares above every number).
fn spark_integral(function: &str, args: &[String]) -> Option<String> {
    let x = args.first()?;
    Some(format!("CASE WHEN NOT (abs({x}) < 4503599627370496.0) THEN ({x}) ELSE CAST({function}({x}) AS DOUBLE) END"))
}

fn spark_floor(args: &[String]) -> Option<String> {
    spark_integral("floor", args)
}

fn spark_ceil(args: &[String]) -> Option<String> {
    spark_integral("ceil", args)
}

fn postgres_isnan(args: &[String]) -> Option<String> {
    Some(format!("(({}) = CAST('NaN' AS DOUBLE PRECISION))", args.first()?))
}

fn postgres_timestamp_millis(args: &[String]) -> Option<String> {
    Some(format!("(to_timestamp(CAST(({}) AS DOUBLE PRECISION) / 1000.0) AT TIME ZONE 'UTC')", args.first()?))
}

fn postgres_repeat(args: &[String]) -> Option<String> {
    Some(format!("repeat({}, CAST(({}) AS INTEGER))", args.first()?, args.get(1)?))
}

fn postgres_substr(args: &[String]) -> Option<String> {
    let (text, counts) = args.split_first()?;
    let counts: Vec<String> = counts.iter().map(|c| format!("CAST(({c}) AS INTEGER)")).collect();
    Some(format!("substr({text}, {})", counts.join(", ")))
}

/// The DataFusion functions `dialect` may be sent (a checked form in `BUILTINS`).
pub fn checked_functions(dialect: SqlDialect) -> impl Iterator<Item = &'static str> {
    BUILTINS.iter().filter(move |b| !matches!(b.form(dialect), Form::Unchecked | Form::Refused(_))).map(|b| b.name)
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
        return builtin(f, bare, dialect);
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

/// The form of DataFusion's function `name` in `dialect` ([`BUILTINS`]).
fn builtin(f: &ast::Function, name: &str, dialect: SqlDialect) -> Result<Option<Expr>, SqlError> {
    let args = argument_list(f);
    let unchecked = || SqlError::NotPushable(format!("{name} is not on {dialect}'s list of checked functions"));
    let refused = |why: &str| SqlError::NotPushable(format!("{name}: {why}"));
    match BUILTINS.iter().find(|b| b.name == name).ok_or_else(unchecked)?.form(dialect) {
        Form::Unchecked => Err(unchecked()),
        Form::Refused(why) => Err(refused(why)),
        Form::AtMost(most, why) if args.len() > most => Err(refused(why)),
        Form::Same | Form::AtMost(..) => Ok(None),
        Form::Named(renamed) => Ok(Some(call(f, renamed, args))),
        Form::Written(write) => {
            let texts: Vec<String> = args.iter().map(ToString::to_string).collect();
            let text = write(&texts).ok_or_else(|| SqlError::Unparse(format!("{name} with {} arguments", texts.len())))?;
            parse(&text).map(Some)
        }
    }
}

/// A SQL expression we wrote as text, its arguments' identifiers quoted by the
/// dialect (the generic grammar reads Spark's backticks; PostgreSQL's read
/// `CASE WHEN ... \`x\` ...` as a bare `CASE`, CI-equivalent run of the batch test).
fn parse(text: &str) -> Result<Expr, SqlError> {
    use datafusion::sql::sqlparser::{dialect::GenericDialect, parser::Parser};
    Parser::new(&GenericDialect {}).try_with_sql(text).and_then(|mut p| p.parse_expr()).map_err(|e| SqlError::Unparse(format!("{text}: {e}")))
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
