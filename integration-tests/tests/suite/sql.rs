//! SQL pushdown: every server task of the conformance suite unparsed for Spark and
//! DuckDB; the DuckDB SQL run on DuckDB (the Python package) and each complete
//! top-level dataset compared with the local engine's result. Prints the share of
//! pushable tasks per dialect. SQL engines add and average in their own order: where
//! that changes a result beyond float tolerance, `sql_differences.json` says why,
//! and the test checks that the difference is still there (and only there).

use crate::{expected_files, read_json, root};
use serde_json::{json, Map, Value as Json};
use vegalake_executors::{evaluate, sql_tasks, EvalOptions, SqlDialect};
use vegalake_integration_tests::compare_datasets;
use vegalake_planner::values::time::Zone;
use vegalake_planner::values::JSON_FIELD_METADATA;
use vegalake_planner::Spec;

fn options(expected: &Json) -> EvalOptions {
    let meta = &expected["spec"]["usermeta"]["vegalake"];
    EvalOptions {
        data: vegalake_executors::DataAccess::new(root().join("datasets")),
        zone: Zone::parse(meta["timezone"].as_str().unwrap_or("UTC")).expect("valid zone"),
        signals: meta["set"].as_object().cloned().unwrap_or_default(),
        stores: meta["store"].as_object().cloned().unwrap_or_default(),
    }
}

/// Runs the tasks on DuckDB; their rows or errors by id.
fn run_duckdb(tasks: &[Json]) -> Map<String, Json> {
    let file = std::env::temp_dir().join(format!("vegalake-duckdb-tasks-{}.json", std::process::id()));
    std::fs::write(&file, serde_json::to_string(tasks).unwrap()).unwrap();
    let python = std::env::var("VEGALAKE_PYTHON").unwrap_or_else(|_| "python3".into());
    let output = std::process::Command::new(&python)
        .arg(root().join("harness/duckdb_run.py"))
        .arg(&file)
        .output()
        .unwrap_or_else(|e| panic!("cannot run {python} (needed by this test): {e}"));
    let _ = std::fs::remove_file(&file);
    assert!(output.status.success(), "duckdb_run.py failed (scripts/test.sh installs the duckdb package): {}", String::from_utf8_lossy(&output.stderr));
    serde_json::from_slice::<Json>(&output.stdout).expect("JSON").as_object().cloned().expect("an object")
}

/// Columns of JSON values (objects, arrays) come back from the engine as their
/// text; the plan's schema says which, as it does for the local engine's output.
fn with_json_values(rows: &Json, columns: &Json) -> Json {
    let columns: Vec<&str> = columns.as_array().into_iter().flatten().filter_map(Json::as_str).collect();
    let decode = |(k, v): (&String, &Json)| {
        let v = match v.as_str() {
            Some(text) if columns.contains(&k.as_str()) => serde_json::from_str(text).unwrap_or_else(|_| v.clone()),
            _ => v.clone(),
        };
        (k.clone(), v)
    };
    Json::Array(rows.as_array().into_iter().flatten().filter_map(Json::as_object).map(|o| Json::Object(o.iter().map(decode).collect())).collect())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn conformance_tasks_as_sql_run_on_duckdb() {
    let (mut tasks, mut pushable_spark, mut failures) = (0, 0, Vec::new());
    let mut duck_tasks = Vec::new();
    let mut local: Map<String, Json> = Map::new();
    for f in expected_files() {
        let expected = read_json(&f);
        let name = f.file_stem().unwrap().to_string_lossy().to_string();
        let spec: Spec = serde_json::from_value(expected["spec"].clone()).expect("valid spec");
        let opts = options(&expected);
        let Ok(spark) = sql_tasks(&spec, &opts, SqlDialect::Spark).await else { continue };
        tasks += spark.len();
        pushable_spark += spark.iter().filter(|t| t.pushable()).count();
        let duck = sql_tasks(&spec, &opts, SqlDialect::DuckDb).await.expect("the same pass");
        let result = evaluate(&spec, &opts).await.expect("evaluates");
        for t in duck {
            let Ok(sql) = t.sql else { continue };
            let id = format!("{name}/{}", t.dataset);
            let complete = t.scope.is_empty() && t.server_transforms == t.total_transforms;
            if let (true, Some(rows)) = (complete, result.datasets.get(&t.dataset)) {
                local.insert(id.clone(), rows.clone());
            }
            let setup: Vec<String> = sql.tables.iter().map(|r| r.create_view(SqlDialect::DuckDb)).collect();
            let json_columns: Vec<&String> = t.schema.fields().iter().filter(|f| f.metadata().contains_key(JSON_FIELD_METADATA)).map(|f| f.name()).collect();
            duck_tasks.push(json!({"id": id, "setup": setup, "sql": sql.sql, "json_columns": json_columns}));
        }
    }
    let results = run_duckdb(&duck_tasks);
    let known = read_json(&root().join("sql_differences.json"));
    let known = known.as_object().expect("an object");
    let mut equal = 0;
    let mut differing = Vec::new();
    for task in &duck_tasks {
        let id = task["id"].as_str().unwrap();
        match &results[id] {
            Json::Object(r) if r.contains_key("error") => failures.push(format!("{id}: DuckDB: {}\n  {}", r["error"], task["sql"])),
            r => {
                if let Some(ours) = local.get(id) {
                    let rows = with_json_values(&r["rows"], &task["json_columns"]);
                    match (compare_datasets(&rows, ours, false), known.get(id)) {
                        (None, None) => equal += 1,
                        (None, Some(_)) => failures.push(format!("{id}: equal to local now: take it out of sql_differences.json")),
                        (Some(_), Some(_)) => differing.push(id.to_string()),
                        (Some(diff), None) => failures.push(format!("{id}: DuckDB differs from local: {diff}")),
                    }
                }
            }
        }
    }
    for id in known.keys().filter(|id| !differing.contains(id)) {
        failures.push(format!("{id}: listed in sql_differences.json but not compared"));
    }
    let share = |n: usize| 100.0 * n as f64 / tasks.max(1) as f64;
    println!(
        "sql: {tasks} server tasks; pushable to spark {pushable_spark} ({:.0}%), to duckdb {} ({:.0}%); duckdb ran {} without error, {equal} of {} complete datasets equal to local, {} known differences",
        share(pushable_spark),
        duck_tasks.len(),
        share(duck_tasks.len()),
        duck_tasks.len() - failures.iter().filter(|f| f.contains(": DuckDB: ")).count(),
        local.len(),
        differing.len()
    );
    assert!(failures.is_empty(), "{} failures:\n{}", failures.len(), failures.join("\n"));
}
