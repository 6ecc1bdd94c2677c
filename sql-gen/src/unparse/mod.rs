//! Unparsing a server task's logical plan to SQL for an engine that holds the data:
//! Spark SQL (a dialect of our own, [`SparkDialect`]), DuckDB and PostgreSQL
//! (DataFusion's dialects).
//!
//! Three steps:
//! 1. `tables`: table scans become names the engine knows ([`TableRef`]: a
//!    Parquet listing or list of files the engine registers as a view), and
//!    in-memory sources become `VALUES`; `portable`: plan rewrites every dialect needs;
//! 2. DataFusion's `Unparser` with the dialect;
//! 3. `post`: an AST pass for what the unparser cannot be told: our `vl_*`
//!    functions in each dialect's terms (or "not pushable", with the reason), double
//!    literals and NaN.
//!
//! A plan that cannot be rendered faithfully is [`SqlError::NotPushable`]: the
//! caller runs it locally on data it fetched instead.
//!
//! ```
//! use datafusion::logical_expr::{lit, LogicalPlanBuilder};
//! use vegalake_sql_gen::unparse::{to_sql, SqlDialect};
//!
//! let plan = LogicalPlanBuilder::empty(true).project(vec![lit(1.5).alias("x")]).unwrap().build().unwrap();
//! let task = to_sql(&plan, SqlDialect::Spark).unwrap();
//! assert_eq!(task.sql, "SELECT 1.5E0 AS `x`");
//! ```

mod dialects;
mod functions;
mod portable;
mod post;
mod tables;
mod time;

pub use dialects::{DuckDbDialect, SparkDialect};
pub use functions::checked_functions;
pub use tables::{FileList, ForeignTable, TableOf, TableRef, VALUES_CELL_LIMIT};

use datafusion::logical_expr::LogicalPlan;
use datafusion::sql::sqlparser::ast::Statement;
use datafusion::sql::unparser::dialect::{Dialect, PostgreSqlDialect};
use datafusion::sql::unparser::Unparser;
use std::fmt;
use std::str::FromStr;

/// The SQL dialects vegalake writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum SqlDialect {
    Spark,
    DuckDb,
    Postgres,
}

impl SqlDialect {
    pub const ALL: [SqlDialect; 3] = [SqlDialect::Spark, SqlDialect::DuckDb, SqlDialect::Postgres];

    pub fn name(self) -> &'static str {
        match self {
            SqlDialect::Spark => "spark",
            SqlDialect::DuckDb => "duckdb",
            SqlDialect::Postgres => "postgres",
        }
    }

    /// The session settings our SQL assumes. Spark: UTC session time (our SQL
    /// writes zones explicitly), NULL rather than an error where JavaScript gives
    /// NaN or null (ANSI mode off), and partition values read from paths as text
    /// (the query casts them to the table's types; Spark's guess would read a
    /// string `007` as the number 7).
    pub fn session_settings(self) -> &'static [(&'static str, &'static str)] {
        match self {
            SqlDialect::Spark => &[
                ("spark.sql.session.timeZone", "UTC"),
                ("spark.sql.ansi.enabled", "false"),
                ("spark.sql.sources.partitionColumnTypeInference.enabled", "false"),
            ],
            SqlDialect::DuckDb | SqlDialect::Postgres => &[],
        }
    }
}

impl fmt::Display for SqlDialect {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for SqlDialect {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        SqlDialect::ALL.into_iter().find(|d| d.name() == s).ok_or_else(|| format!("unknown SQL dialect '{s}' (expected spark, duckdb or postgres)"))
    }
}

/// Why a plan has no SQL.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SqlError {
    /// Something in it has no faithful rendering in the dialect; run it locally.
    #[error("not pushable: {0}")]
    NotPushable(String),
    /// The unparser failed on a plan it should handle (a bug of ours or DataFusion's).
    #[error("cannot unparse: {0}")]
    Unparse(String),
}

/// A server task as SQL: the query, and the tables it reads under which names.
#[derive(Debug, Clone, PartialEq)]
pub struct SqlTask {
    pub sql: String,
    pub tables: Vec<TableRef>,
    /// The DataFusion functions it calls by their own names (each on the
    /// dialect's list, [`checked_functions`]).
    pub functions: std::collections::BTreeSet<String>,
}

impl SqlTask {
    /// The statements to run before the query: the dialect's session settings,
    /// then those that make the task's tables known to the engine.
    pub fn setup(&self, dialect: SqlDialect) -> Vec<String> {
        let settings = dialect.session_settings().iter().map(|(key, value)| format!("SET {key}={value}"));
        settings.chain(self.tables.iter().map(|t| t.create_view(dialect))).collect()
    }

    /// The setup, then the query: what `vegalake sql` prints.
    pub fn script(&self, dialect: SqlDialect) -> String {
        let mut out = String::new();
        for statement in self.setup(dialect).iter().chain([&self.sql]) {
            out.push_str(statement);
            out.push_str(";\n");
        }
        out
    }
}

/// The SQL of `plan` (an unoptimized lowered plan) in `dialect`.
pub fn to_sql(plan: &LogicalPlan, dialect: SqlDialect) -> Result<SqlTask, SqlError> {
    to_sql_reading(plan, dialect, &|_| None)
}

/// [`to_sql`], with `table_of` telling how tables of kinds the unparser does not
/// know (a source's own providers) are read: as Parquet files, or by name.
pub fn to_sql_reading(plan: &LogicalPlan, dialect: SqlDialect, table_of: TableOf<'_>) -> Result<SqlTask, SqlError> {
    let (plan, tables) = tables::name_tables(plan, table_of)?;
    let plan = portable::portable(plan)?;
    let mut statement = match dialect {
        SqlDialect::Spark => unparse(&SparkDialect, dialect, &plan, &tables.inline),
        SqlDialect::DuckDb => unparse(&DuckDbDialect::new(), dialect, &plan, &tables.inline),
        SqlDialect::Postgres => unparse(&PostgreSqlDialect {}, dialect, &plan, &tables.inline),
    }?;
    let functions = post::rewrite(&mut statement, dialect)?;
    Ok(SqlTask { sql: statement.to_string(), tables: tables.named, functions })
}

fn unparse(dialect: &dyn Dialect, target: SqlDialect, plan: &LogicalPlan, inline: &[tables::InlineTable]) -> Result<Statement, SqlError> {
    let unparser = Unparser::new(dialect);
    let mut statement = unparser.plan_to_sql(plan).map_err(|e| SqlError::Unparse(e.to_string().replace('\n', " ")))?;
    let quote = dialect.identifier_quote_style("");
    let derived = inline.iter().map(|t| Ok((t.name.clone(), post::values_factor(t, &unparser, target, quote)?))).collect::<Result<Vec<_>, SqlError>>()?;
    post::replace_tables(&mut statement, &derived, quote);
    Ok(statement)
}

#[cfg(test)]
mod tests;
