use super::*;
use crate::udaf::{self, Moment};
use datafusion::arrow::array::{Float64Array, Int64Array, StringArray};
use datafusion::arrow::datatypes::{DataType, Field, Schema};
use datafusion::arrow::record_batch::RecordBatch;
use datafusion::datasource::{provider_as_source, MemTable};
use datafusion::logical_expr::{col, lit, Expr, JoinType, LogicalPlanBuilder};
use std::sync::Arc;

fn cars() -> LogicalPlan {
    let schema = Arc::new(Schema::new(vec![
        Field::new("name", DataType::Utf8, true),
        Field::new("hp", DataType::Float64, true),
        Field::new("__vl_row", DataType::Int64, false),
    ]));
    let batch = RecordBatch::try_new(
        schema.clone(),
        vec![
            Arc::new(StringArray::from(vec![Some("a'b"), None])),
            Arc::new(Float64Array::from(vec![Some(130.0), Some(f64::NAN)])),
            Arc::new(Int64Array::from(vec![0, 1])),
        ],
    )
    .unwrap();
    let table = MemTable::try_new(schema, vec![vec![batch]]).unwrap();
    LogicalPlanBuilder::scan("?table?", provider_as_source(Arc::new(table)), None).unwrap().build().unwrap()
}

#[test]
fn in_memory_tables_become_values_with_typed_columns() {
    let task = to_sql(&cars(), SqlDialect::Spark).unwrap();
    assert!(task.tables.is_empty());
    let sql = task.sql;
    assert!(sql.contains("FROM (VALUES ('a\\u0027b', 1.3E2, 0), (NULL, CAST('NaN' AS DOUBLE), 1)) AS `__vl_values_0` (`name`, `hp`, `__vl_row`)"), "{sql}");
    assert!(sql.contains("CAST(`name` AS STRING) AS `name`"), "{sql}");
}

#[test]
fn an_aggregate_over_an_aggregate_keeps_both_groupings() {
    use datafusion::functions_aggregate::expr_fn::{count, max};
    let plan = LogicalPlanBuilder::from(cars())
        .aggregate(vec![col("name")], vec![count(lit(1)).alias("n")])
        .unwrap()
        .aggregate(Vec::<Expr>::new(), vec![max(col("n")).alias("most")])
        .unwrap()
        .build()
        .unwrap();
    let sql = to_sql(&plan, SqlDialect::Spark).unwrap().sql;
    assert!(sql.contains("GROUP BY `name`") && sql.contains("max(`n`)"), "{sql}");
}

#[test]
fn doubles_stay_doubles_in_each_dialect() {
    let plan = LogicalPlanBuilder::from(cars()).filter(col("hp").gt(lit(99.5))).unwrap().build().unwrap();
    let sql = |d| to_sql(&plan, d).unwrap().sql;
    assert!(sql(SqlDialect::Spark).contains("`hp` > 9.95E1"), "{}", sql(SqlDialect::Spark));
    assert!(sql(SqlDialect::DuckDb).contains("\"hp\" > 9.95E1"), "{}", sql(SqlDialect::DuckDb));
    assert!(sql(SqlDialect::Postgres).contains("\"hp\" > CAST(99.5 AS DOUBLE PRECISION)"), "{}", sql(SqlDialect::Postgres));
}

#[test]
fn vega_aggregates_have_dialect_forms_or_stay_local() {
    let agg = |m: Moment| {
        LogicalPlanBuilder::from(cars()).aggregate(Vec::<Expr>::new(), vec![udaf::call(m, col("hp"), col("__vl_row")).alias("v")]).unwrap().build().unwrap()
    };
    let spark = to_sql(&agg(Moment::Median), SqlDialect::Spark).unwrap().sql;
    assert!(spark.contains("percentile(`hp`, 0.5)"), "{spark}");
    let duck = to_sql(&agg(Moment::Q1), SqlDialect::DuckDb).unwrap().sql;
    assert!(duck.contains("quantile_cont(\"hp\", 0.25)"), "{duck}");
    assert!(to_sql(&agg(Moment::Mean), SqlDialect::Postgres).unwrap().sql.contains("avg(\"hp\")"));
    let postgres = to_sql(&agg(Moment::Median), SqlDialect::Postgres).unwrap().sql;
    assert!(postgres.contains("percentile_cont(0.5) WITHIN GROUP (ORDER BY \"hp\")"), "{postgres}");
    match to_sql(&agg(Moment::Product), SqlDialect::Postgres) {
        Err(SqlError::NotPushable(why)) => assert!(why.contains("vl_product"), "{why}"),
        other => panic!("{other:?}"),
    }
}

#[test]
fn scalar_vega_functions_keep_the_task_local() {
    let plan = LogicalPlanBuilder::from(cars()).project(vec![crate::udf::call("vl_to_number", vec![col("name")]).alias("n")]).unwrap().build().unwrap();
    let err = to_sql(&plan, SqlDialect::DuckDb).unwrap_err();
    assert_eq!(err.to_string(), "not pushable: vl_to_number (vega's semantics) has no duckdb form");
}

#[test]
fn dialect_names_parse() {
    assert_eq!("spark".parse::<SqlDialect>(), Ok(SqlDialect::Spark));
    assert!("oracle".parse::<SqlDialect>().unwrap_err().contains("expected spark, duckdb or postgres"));
}

#[test]
fn values_plans_become_inline_tables_with_quoted_columns() {
    let values = LogicalPlanBuilder::values(vec![vec![lit(1.0), lit("a")], vec![lit(2.5), lit("b")]]).unwrap().build().unwrap();
    let plan = LogicalPlanBuilder::from(values).project(vec![col("column1").alias("Rotten Tomatoes"), col("column2").alias("t")]).unwrap().build().unwrap();
    let sql = to_sql(&plan, SqlDialect::DuckDb).unwrap().sql;
    assert!(sql.contains("FROM (VALUES (1E0, 'a'), (2.5E0, 'b')) AS \"__vl_values_0\""), "{sql}");
    assert!(sql.contains("AS \"Rotten Tomatoes\""), "{sql}");
}

#[test]
fn a_join_to_constants_is_pushable_other_joins_are_not() {
    let bins = LogicalPlanBuilder::values(vec![vec![lit("USA"), lit(40.0)], vec![lit("Japan"), lit(50.0)]]).unwrap();
    let bins = bins.project(vec![col("column1").alias("k"), col("column2").alias("start")]).unwrap().build().unwrap();
    let joined = LogicalPlanBuilder::from(cars()).join(bins, JoinType::Inner, (vec!["name"], vec!["k"]), None).unwrap().build().unwrap();
    for dialect in [SqlDialect::Spark, SqlDialect::DuckDb, SqlDialect::Postgres] {
        let sql = to_sql(&joined, dialect).unwrap().sql;
        assert!(sql.contains("JOIN") && sql.contains("__vl_values_0"), "{dialect}: {sql}");
    }
    let itself = LogicalPlanBuilder::from(cars())
        .alias("a")
        .unwrap()
        .join(LogicalPlanBuilder::from(cars()).alias("b").unwrap().build().unwrap(), JoinType::Inner, (vec!["a.name"], vec!["b.name"]), None)
        .unwrap()
        .build()
        .unwrap();
    assert!(matches!(to_sql(&itself, SqlDialect::Spark), Err(SqlError::NotPushable(_))));
    let left = LogicalPlanBuilder::from(cars())
        .join(LogicalPlanBuilder::values(vec![vec![lit("USA")]]).unwrap().build().unwrap(), JoinType::Left, (vec!["name"], vec!["column1"]), None)
        .unwrap()
        .build()
        .unwrap();
    assert!(matches!(to_sql(&left, SqlDialect::Spark), Err(SqlError::NotPushable(_))));
}

fn time_call(name: &str, args: Vec<Expr>) -> LogicalPlan {
    LogicalPlanBuilder::from(cars()).project(vec![crate::udf::call(name, args).alias("t")]).unwrap().build().unwrap()
}

#[test]
fn utc_time_units_rebuild_the_date_from_its_parts() {
    let floor = time_call("vl_time_floor", vec![lit("UTC"), lit("month"), lit(1.0), col("hp")]);
    let spark = to_sql(&floor, SqlDialect::Spark).unwrap().sql;
    // Units not taken from the date get vega's defaults: 2012, the 1st, midnight.
    assert!(spark.contains("make_timestamp(2012, month(timestamp_millis(CAST((`hp`) AS BIGINT))), 1, 0, 0, 0)"), "{spark}");
    let duck = to_sql(&floor, SqlDialect::DuckDb).unwrap().sql;
    assert!(duck.contains("epoch_ms(make_timestamp(2012, month(epoch_ms(CAST((\"hp\") AS BIGINT)))"), "{duck}");
    let end = time_call("vl_time_offset", vec![lit("UTC"), lit("month"), col("hp"), lit(1.0)]);
    let spark = to_sql(&end, SqlDialect::Spark).unwrap().sql;
    assert!(spark.contains("% 12") && spark.contains("(day(timestamp_millis(CAST((`hp`) AS BIGINT))) - 1) * 8.64E7"), "{spark}");
}

#[test]
fn utc_calendar_prefixes_truncate_in_the_engine() {
    let floor = time_call("vl_time_floor", vec![lit("UTC"), lit("year,month"), lit(1.0), col("hp")]);
    let spark = to_sql(&floor, SqlDialect::Spark).unwrap().sql;
    assert!(spark.contains("unix_millis(date_trunc('MONTH', timestamp_millis(CAST((`hp`) AS BIGINT))))"), "{spark}");
    let duck = to_sql(&floor, SqlDialect::DuckDb).unwrap().sql;
    assert!(duck.contains("epoch_ms(date_trunc('MONTH', epoch_ms(CAST((\"hp\") AS BIGINT))))"), "{duck}");
    let postgres = to_sql(&floor, SqlDialect::Postgres).unwrap().sql;
    assert!(postgres.contains("date_trunc('MONTH', (to_timestamp(CAST(trunc(\"hp\") AS BIGINT) / 1000.0) AT TIME ZONE 'UTC'))"), "{postgres}");
    assert!(!spark.contains("make_timestamp"), "{spark}");
}

#[test]
fn time_units_engines_compute_differently_stay_local() {
    let refused = |plan: &LogicalPlan, dialect| match to_sql(plan, dialect) {
        Err(SqlError::NotPushable(why)) => why,
        other => panic!("{other:?}"),
    };
    let local = time_call("vl_time_floor", vec![lit("America/New_York"), lit("month"), lit(1.0), col("hp")]);
    assert!(refused(&local, SqlDialect::Spark).contains("local time zone"));
    let stepped = time_call("vl_time_floor", vec![lit("UTC"), lit("hours"), lit(6.0), col("hp")]);
    assert!(refused(&stepped, SqlDialect::DuckDb).contains("step"));
    let weeks = time_call("vl_time_floor", vec![lit("UTC"), lit("year,week"), lit(1.0), col("hp")]);
    assert!(refused(&weeks, SqlDialect::Spark).contains("'week'"));
    let per_row = time_call("vl_time_offset", vec![lit("UTC"), lit("month"), col("hp"), col("hp")]);
    assert!(refused(&per_row, SqlDialect::Spark).contains("per row"));
}

#[test]
fn functions_off_the_checked_list_keep_the_task_local() {
    let plan = LogicalPlanBuilder::from(cars()).project(vec![datafusion::functions::math::expr_fn::cbrt(col("hp")).alias("c")]).unwrap().build().unwrap();
    for dialect in SqlDialect::ALL {
        assert!(!super::checked_functions(dialect).any(|f| f == "cbrt"));
        let err = to_sql(&plan, dialect).unwrap_err();
        assert_eq!(err.to_string(), format!("not pushable: cbrt is not on {dialect}'s list of checked functions"));
    }
    let listed = LogicalPlanBuilder::from(cars()).project(vec![datafusion::functions::math::expr_fn::sqrt(col("hp")).alias("s")]).unwrap().build().unwrap();
    assert_eq!(to_sql(&listed, SqlDialect::Postgres).unwrap().functions.into_iter().collect::<Vec<_>>(), ["sqrt"]);
}

#[test]
fn each_dialect_writes_a_function_by_its_entry_or_refuses_it_with_the_reason() {
    use datafusion::functions::expr_fn::regexp_like;
    let project = |e: Expr| LogicalPlanBuilder::from(cars()).project(vec![e.alias("v")]).unwrap().build().unwrap();
    let two = project(regexp_like(col("name"), lit("a"), None));
    let three = project(regexp_like(col("name"), lit("a"), Some(lit("i"))));
    assert!(to_sql(&two, SqlDialect::DuckDb).unwrap().sql.contains("regexp_matches("), "renamed");
    assert!(to_sql(&two, SqlDialect::Spark).unwrap().sql.contains("regexp_like("), "the same");
    assert_eq!(to_sql(&three, SqlDialect::Spark).unwrap_err().to_string(), "not pushable: regexp_like: Spark's regexp_like takes no flags");
    assert!(to_sql(&three, SqlDialect::Postgres).is_ok());
    let ln = project(datafusion::functions::math::expr_fn::ln(col("hp")));
    assert!(to_sql(&ln, SqlDialect::Spark).unwrap_err().to_string().contains("Spark gives NULL where JavaScript gives NaN"));
    assert!(to_sql(&ln, SqlDialect::Postgres).unwrap_err().to_string().contains("PostgreSQL raises"));
    assert!(to_sql(&ln, SqlDialect::DuckDb).is_ok());
    // A refused form is not on the dialect's list; a rewritten one is.
    assert!(!super::checked_functions(SqlDialect::Spark).any(|f| f == "ln"));
    assert!(super::checked_functions(SqlDialect::Postgres).any(|f| f == "isnan"));
    let isnan = project(datafusion::functions::expr_fn::isnan(col("hp")));
    assert!(to_sql(&isnan, SqlDialect::Postgres).unwrap().sql.contains("CAST('NaN' AS DOUBLE PRECISION)"));
}
