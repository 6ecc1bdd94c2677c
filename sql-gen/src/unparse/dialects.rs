//! Our unparser dialects: Spark SQL (DataFusion has none) and DuckDB (DataFusion's,
//! with one change).
//!
//! Backtick quoting, Spark's type names (`DOUBLE`, `STRING`, `BIGINT`, and
//! `TIMESTAMP_NTZ`, since our timestamps are zone-less instants read as UTC),
//! `<=>` for `IS NOT DISTINCT FROM`, and a derived-table alias on every subquery.
//! What the trait cannot express (double literals, NaN) is done after unparsing,
//! in [`super::post`].

use datafusion::arrow::datatypes::TimeUnit;
use datafusion::sql::sqlparser::ast::WindowFrameBound;
use datafusion::sql::sqlparser::ast::{self, ExactNumberInfo, ObjectName};
use datafusion::sql::unparser::dialect::{CharacterLengthStyle, DateFieldExtractStyle, Dialect, DistinctFromStyle, IntervalStyle};

/// The Spark SQL dialect (Spark 3.4 and later: `TIMESTAMP_NTZ`).
pub struct SparkDialect;

fn named(name: &str) -> ast::DataType {
    ast::DataType::Custom(ObjectName::from(vec![ast::Ident::new(name)]), vec![])
}

impl Dialect for SparkDialect {
    fn identifier_quote_style(&self, _identifier: &str) -> Option<char> {
        Some('`')
    }

    fn supports_nulls_first_in_sort(&self) -> bool {
        true
    }

    fn interval_style(&self) -> IntervalStyle {
        IntervalStyle::SQLStandard
    }

    fn float64_ast_dtype(&self) -> ast::DataType {
        ast::DataType::Double(ExactNumberInfo::None)
    }

    fn utf8_cast_dtype(&self) -> ast::DataType {
        named("STRING")
    }

    fn large_utf8_cast_dtype(&self) -> ast::DataType {
        named("STRING")
    }

    fn date_field_extract_style(&self) -> DateFieldExtractStyle {
        DateFieldExtractStyle::Extract
    }

    fn distinct_from_style(&self) -> DistinctFromStyle {
        DistinctFromStyle::Spaceship
    }

    fn character_length_style(&self) -> CharacterLengthStyle {
        CharacterLengthStyle::Length
    }

    fn int64_cast_dtype(&self) -> ast::DataType {
        named("BIGINT")
    }

    fn int32_cast_dtype(&self) -> ast::DataType {
        named("INT")
    }

    fn timestamp_cast_dtype(&self, _unit: &TimeUnit, _tz: &Option<std::sync::Arc<str>>) -> ast::DataType {
        named("TIMESTAMP_NTZ")
    }

    fn date32_cast_dtype(&self) -> ast::DataType {
        ast::DataType::Date
    }

    fn requires_derived_table_alias(&self) -> bool {
        true
    }

    fn supports_qualify(&self) -> bool {
        false
    }

    /// Spark refuses a frame on ranking and offset functions (they have their own).
    fn window_func_support_window_frame(&self, func_name: &str, _start: &WindowFrameBound, _end: &WindowFrameBound) -> bool {
        !matches!(func_name, "lag" | "lead" | "row_number" | "rank" | "dense_rank" | "percent_rank" | "cume_dist" | "ntile")
    }
}

/// DuckDB as DataFusion writes it, but with `/` for division: DataFusion's DuckDB
/// dialect writes `//` (integer division, for integer operands), and our operands
/// are doubles, divided as JavaScript divides them (`0/0` is NaN).
pub struct DuckDbDialect(datafusion::sql::unparser::dialect::DuckDBDialect);

impl DuckDbDialect {
    pub fn new() -> DuckDbDialect {
        DuckDbDialect(datafusion::sql::unparser::dialect::DuckDBDialect::new())
    }
}

impl Default for DuckDbDialect {
    fn default() -> Self {
        DuckDbDialect::new()
    }
}

impl Dialect for DuckDbDialect {
    fn identifier_quote_style(&self, identifier: &str) -> Option<char> {
        self.0.identifier_quote_style(identifier)
    }
    fn character_length_style(&self) -> CharacterLengthStyle {
        self.0.character_length_style()
    }
    fn division_operator(&self) -> ast::BinaryOperator {
        ast::BinaryOperator::Divide
    }
    fn scalar_function_to_sql_overrides(
        &self,
        unparser: &datafusion::sql::unparser::Unparser,
        func_name: &str,
        args: &[datafusion::logical_expr::Expr],
    ) -> datafusion::common::Result<Option<ast::Expr>> {
        self.0.scalar_function_to_sql_overrides(unparser, func_name, args)
    }
    fn distinct_from_style(&self) -> DistinctFromStyle {
        self.0.distinct_from_style()
    }
    fn supports_qualify(&self) -> bool {
        self.0.supports_qualify()
    }
}
