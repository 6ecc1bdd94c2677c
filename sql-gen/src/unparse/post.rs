//! The AST pass after unparsing: what DataFusion's `Dialect` trait cannot express.
//!
//! - Number literals with a point are doubles to us, but DECIMAL to Spark and
//!   DuckDB and NUMERIC to PostgreSQL: they get an exponent (`5.0E0`) or a cast.
//!   NaN and infinities, which the unparser prints bare, become casts of strings.
//! - In-memory tables become `(VALUES ...)` derived tables.
//! - Our `vl_*` functions become the dialect's forms ([`super::functions`]), or
//!   make the task not pushable.

use super::tables::InlineTable;
use super::{functions, SqlDialect, SqlError};
use datafusion::logical_expr::lit;
use datafusion::sql::sqlparser::ast::{self, visit_expressions_mut, Expr, Statement, TableFactor, Value, VisitMut, VisitorMut};
use datafusion::sql::sqlparser::dialect::GenericDialect;
use datafusion::sql::sqlparser::parser::Parser;
use datafusion::sql::unparser::Unparser;
use std::ops::ControlFlow;

/// Rewrites `statement` for `dialect`; the DataFusion functions it calls.
pub fn rewrite(statement: &mut Statement, dialect: SqlDialect) -> Result<std::collections::BTreeSet<String>, SqlError> {
    let mut kept = std::collections::BTreeSet::new();
    let flow = visit_expressions_mut(statement, |e: &mut Expr| {
        match e {
            Expr::Value(v) => match &mut v.value {
                Value::Number(text, _) => {
                    if let Some(double) = double_literal(text, dialect) {
                        *e = double;
                    }
                }
                Value::SingleQuotedString(text) if dialect == SqlDialect::Spark => *text = spark_string(text),
                _ => {}
            },
            Expr::Cast { data_type, .. } if dialect == SqlDialect::Spark && *data_type == ast::DataType::Bool => *data_type = ast::DataType::Boolean,
            Expr::BinaryOp { left, op: ast::BinaryOperator::Divide, right } if dialect != SqlDialect::DuckDb => match js_division(left, right, dialect) {
                Ok(division) => *e = division,
                Err(refusal) => return ControlFlow::Break(refusal),
            },
            Expr::BinaryOp { left, op: ast::BinaryOperator::Modulo, right } if dialect == SqlDialect::Postgres => match postgres_remainder(left, right) {
                Ok(remainder) => *e = remainder,
                Err(refusal) => return ControlFlow::Break(refusal),
            },
            Expr::Cast { kind: ast::CastKind::TryCast, expr, data_type, .. } if dialect == SqlDialect::Postgres => match postgres_try_cast(expr, data_type) {
                Ok(cast) => *e = cast,
                Err(refusal) => return ControlFlow::Break(refusal),
            },
            Expr::IsTrue(inner) if dialect == SqlDialect::Spark => *e = coalesce(inner, false),
            Expr::IsFalse(inner) if dialect == SqlDialect::Spark => *e = coalesce(&Expr::UnaryOp { op: ast::UnaryOperator::Not, expr: inner.clone() }, false),
            Expr::IsNotTrue(inner) if dialect == SqlDialect::Spark => {
                *e = Expr::UnaryOp { op: ast::UnaryOperator::Not, expr: Box::new(coalesce(inner, false)) }
            }
            Expr::IsNotFalse(inner) if dialect == SqlDialect::Spark => *e = coalesce(inner, true),
            Expr::Function(f) => {
                let name = functions::bare_name(f);
                match functions::rewrite(f, dialect) {
                    Ok(replacement) => {
                        if !name.starts_with("vl_") {
                            kept.insert(name);
                        }
                        if let Some(replacement) = replacement {
                            *e = replacement;
                        }
                    }
                    Err(refusal) => return ControlFlow::Break(refusal),
                }
            }
            _ => {}
        }
        ControlFlow::Continue(())
    });
    match flow {
        ControlFlow::Break(e) => Err(e),
        ControlFlow::Continue(()) => Ok(kept),
    }
}

/// Spark reads `''` inside a literal as the end of one literal and the start of the
/// next (which it concatenates), and a backslash as an escape: quotes go in as
/// `\u0027`, backslashes doubled.
fn spark_string(text: &str) -> String {
    text.replace('\\', "\\\\").replace('\'', "\\u0027")
}

/// Spark divides by zero to NULL and PostgreSQL raises an error; JavaScript (and
/// the local engine) gives ±Infinity, or NaN for `0/0` and `NaN/0`. Both order
/// NaN above every number, hence the NaN test before the sign tests. (A divisor
/// of -0 gives the sign of +0 here.)
fn js_division(a: &Expr, b: &Expr, dialect: SqlDialect) -> Result<Expr, SqlError> {
    let (double, is_nan) = match dialect {
        SqlDialect::Postgres => ("DOUBLE PRECISION", format!("({a}) = CAST('NaN' AS DOUBLE PRECISION)")),
        _ => ("DOUBLE", format!("isnan({a})")),
    };
    let text = format!(
        "CASE WHEN ({b}) = 0 THEN CASE WHEN ({a}) IS NULL THEN NULL WHEN {is_nan} THEN CAST('NaN' AS {double}) \
         WHEN ({a}) > 0 THEN CAST('Infinity' AS {double}) WHEN ({a}) < 0 THEN CAST('-Infinity' AS {double}) \
         ELSE CAST('NaN' AS {double}) END ELSE ({a}) / ({b}) END"
    );
    parse_expr(&text, dialect)
}

/// PostgreSQL has no remainder of doubles: JavaScript's `%` (the dividend's sign;
/// NaN for a zero divisor or an infinite dividend; the dividend for an infinite
/// divisor) through NUMERIC, which holds a double's value exactly.
fn postgres_remainder(a: &Expr, b: &Expr) -> Result<Expr, SqlError> {
    let text = format!(
        "CASE WHEN ({a}) IS NULL OR ({b}) IS NULL THEN NULL \
         WHEN ({b}) = 0 OR ({a}) IN (CAST('NaN' AS DOUBLE PRECISION), CAST('Infinity' AS DOUBLE PRECISION), CAST('-Infinity' AS DOUBLE PRECISION)) \
         OR ({b}) = CAST('NaN' AS DOUBLE PRECISION) THEN CAST('NaN' AS DOUBLE PRECISION) \
         WHEN ({b}) IN (CAST('Infinity' AS DOUBLE PRECISION), CAST('-Infinity' AS DOUBLE PRECISION)) THEN ({a}) \
         ELSE CAST(mod(CAST(({a}) AS NUMERIC), CAST(({b}) AS NUMERIC)) AS DOUBLE PRECISION) END"
    );
    parse_expr(&text, SqlDialect::Postgres)
}

/// PostgreSQL has no `TRY_CAST`. Our plans try-cast numbers: to an integer,
/// which truncates as Arrow does (PostgreSQL's cast rounds) and is NULL out of
/// range or for NaN (PostgreSQL raises; it orders NaN above every number); to a
/// double, which cannot fail.
fn postgres_try_cast(inner: &Expr, to: &ast::DataType) -> Result<Expr, SqlError> {
    use ast::DataType::{BigInt, Double, DoublePrecision, Int, Integer};
    let text = match to {
        BigInt(_) | Int(_) | Integer(_) => {
            format!("CAST(CASE WHEN ({inner}) >= -9.2e18 AND ({inner}) <= 9.2e18 THEN trunc({inner}) END AS {to})")
        }
        DoublePrecision | Double(_) => format!("CAST(({inner}) AS DOUBLE PRECISION)"),
        other => return Err(SqlError::NotPushable(format!("a try-cast to {other}: PostgreSQL has no TRY_CAST"))),
    };
    parse_expr(&text, SqlDialect::Postgres)
}

fn parse_expr(text: &str, dialect: SqlDialect) -> Result<Expr, SqlError> {
    Parser::new(&GenericDialect {})
        .try_with_sql(text)
        .and_then(|mut p| p.parse_expr())
        .map_err(|e| SqlError::Unparse(format!("an expression for {dialect}: {e}")))
}

/// `coalesce(e, default)`: Spark has no `IS TRUE` / `IS FALSE`.
fn coalesce(e: &Expr, default: bool) -> Expr {
    let arg = |e: Expr| ast::FunctionArg::Unnamed(ast::FunctionArgExpr::Expr(e));
    Expr::Function(ast::Function {
        name: ast::ObjectName::from(vec![ast::Ident::new("coalesce")]),
        uses_odbc_syntax: false,
        parameters: ast::FunctionArguments::None,
        args: ast::FunctionArguments::List(ast::FunctionArgumentList {
            duplicate_treatment: None,
            args: vec![arg(Expr::Nested(Box::new(e.clone()))), arg(Expr::value(Value::Boolean(default)))],
            clauses: vec![],
        }),
        filter: None,
        null_treatment: None,
        over: None,
        within_group: vec![],
    })
}

/// The double `text` as the dialect reads a double; `None` for integers.
fn double_literal(text: &str, dialect: SqlDialect) -> Option<Expr> {
    let special = match text {
        "NaN" => Some("NaN"),
        "inf" => Some("Infinity"),
        "-inf" => Some("-Infinity"),
        _ => None,
    };
    // Integers, and doubles already written with an exponent, stay.
    if special.is_none() && (!text.contains('.') || text.contains('E')) {
        return None;
    }
    if special.is_none() && dialect != SqlDialect::Postgres {
        // Scientific notation, the shortest that reads back the same double: Spark
        // refuses the 309-digit decimal form of the largest doubles.
        let value: f64 = text.parse().ok()?;
        return Some(Expr::value(Value::Number(format!("{value:E}"), false)));
    }
    let literal = match special {
        Some(s) => Expr::value(Value::SingleQuotedString(s.to_string())),
        None => Expr::value(Value::Number(text.to_string(), false)),
    };
    let data_type = match dialect {
        SqlDialect::Postgres => ast::DataType::DoublePrecision,
        _ => ast::DataType::Double(ast::ExactNumberInfo::None),
    };
    Some(Expr::Cast { kind: ast::CastKind::Cast, expr: Box::new(literal), data_type, array: false, format: None })
}

/// `(VALUES ...) AS name(columns)`, to stand where the scan of `table.name` was.
pub fn values_factor(table: &InlineTable, unparser: &Unparser, dialect: SqlDialect, quote: Option<char>) -> Result<TableFactor, SqlError> {
    let ident = |s: &str| match quote {
        Some(q) => ast::Ident::with_quote(q, s).to_string(),
        None => s.to_string(),
    };
    let mut rows = Vec::with_capacity(table.rows.len());
    for row in &table.rows {
        let cells = row.iter().map(|v| unparser.expr_to_sql(&lit(v.clone())).map(|e| cell_text(e, dialect))).collect::<Result<Vec<_>, _>>();
        rows.push(format!("({})", cells.map_err(|e| SqlError::Unparse(e.to_string()))?.join(", ")));
    }
    let columns: Vec<String> = table.columns.iter().map(|c| ident(c)).collect();
    let text = format!("SELECT * FROM (VALUES {}) AS {}({})", rows.join(", "), ident(&table.name), columns.join(", "));
    let parsed = Parser::parse_sql(&GenericDialect {}, &text).map_err(|e| SqlError::Unparse(format!("inline values: {e}")))?;
    let relation = match parsed.into_iter().next() {
        Some(Statement::Query(q)) => match *q.body {
            ast::SetExpr::Select(select) => select.from.into_iter().next().map(|f| f.relation),
            _ => None,
        },
        _ => None,
    };
    relation.ok_or_else(|| SqlError::Unparse("inline values did not parse as a table".into()))
}

/// A cell as text: NaN and infinities as casts, which would not parse bare.
fn cell_text(e: Expr, dialect: SqlDialect) -> String {
    match &e {
        Expr::Value(v) => match &v.value {
            Value::Number(text, _) => double_literal(text, dialect).unwrap_or(e).to_string(),
            _ => e.to_string(),
        },
        _ => e.to_string(),
    }
}

/// Puts each derived table where its placeholder is scanned (keeping the scan's alias).
/// Also quotes the column names of derived tables' aliases, which the unparser
/// leaves bare (`AS t (Rotten Tomatoes Rating)` does not parse).
pub fn replace_tables(statement: &mut Statement, derived: &[(String, TableFactor)], quote: Option<char>) {
    struct Replace<'a>(&'a [(String, TableFactor)], Option<char>);
    impl VisitorMut for Replace<'_> {
        type Break = ();
        fn post_visit_table_factor(&mut self, factor: &mut TableFactor) -> ControlFlow<()> {
            if let TableFactor::Derived { alias: Some(alias), .. } = factor {
                for column in alias.columns.iter_mut().filter(|c| c.name.quote_style.is_none()) {
                    column.name.quote_style = self.1;
                }
            }
            ControlFlow::Continue(())
        }
        fn pre_visit_table_factor(&mut self, factor: &mut TableFactor) -> ControlFlow<()> {
            let TableFactor::Table { name, alias, .. } = factor else { return ControlFlow::Continue(()) };
            let Some(last) = name.0.last().and_then(|p| p.as_ident()) else { return ControlFlow::Continue(()) };
            if let Some((_, table)) = self.0.iter().find(|(n, _)| *n == last.value) {
                let mut table = table.clone();
                if let (Some(scan_alias), TableFactor::Derived { alias: Some(a), .. }) = (alias, &mut table) {
                    a.name = scan_alias.name.clone();
                }
                *factor = table;
            }
            ControlFlow::Continue(())
        }
    }
    let _ = statement.visit(&mut Replace(derived, quote));
}
