//! SQL pushdown: every server task of the conformance suite unparsed for DuckDB,
//! Spark and PostgreSQL and run there (the Python packages duckdb and pyspark,
//! local[2]; the PostgreSQL server scripts/test.sh starts); each
//! complete top-level dataset is compared with the local engine's result. Prints the share of
//! pushable tasks per dialect. SQL engines add and average in their own order: where
//! that changes a result beyond float tolerance, `sql_differences.json` says why,
//! and the test checks that the difference is still there (and only there).

use crate::{expected_files, read_json, root, spec_options};
use serde_json::{json, Map, Value as Json};
use vegalake_executors::{evaluate, server_tasks, SqlDialect};
use vegalake_integration_tests::compare_datasets;
use vegalake_planner::values::JSON_FIELD_METADATA;
use vegalake_planner::Spec;

/// Runs the tasks on `engine` (duckdb, spark or postgres, through harness/sql_run.py); their
/// rows or errors by id.
pub(crate) fn run_on(engine: &str, tasks: &[Json]) -> Map<String, Json> {
    let file = std::env::temp_dir().join(format!("vegalake-{engine}-tasks-{}.json", std::process::id()));
    std::fs::write(&file, serde_json::to_string(tasks).unwrap()).unwrap();
    let python = std::env::var("VEGALAKE_PYTHON").unwrap_or_else(|_| "python3".into());
    let output = std::process::Command::new(&python)
        .arg(root().join("harness/sql_run.py"))
        .arg(engine)
        .arg(&file)
        .env("TZ", "UTC")
        .output()
        .unwrap_or_else(|e| panic!("cannot run {python} (needed by this test): {e}"));
    let _ = std::fs::remove_file(&file);
    assert!(
        output.status.success(),
        "sql_run.py {engine} failed (scripts/test.sh installs duckdb, pyspark and psycopg, and starts PostgreSQL): {}",
        String::from_utf8_lossy(&output.stderr)
    );
    serde_json::from_slice::<Json>(&output.stdout).expect("JSON").as_object().cloned().expect("an object")
}

/// What one engine did with its tasks.
#[derive(Default)]
struct EngineOutcome {
    ran: usize,
    equal: usize,
    known: usize,
    /// DataFusion functions called by tasks whose complete datasets agreed.
    functions: std::collections::BTreeSet<String>,
}

/// The dialect's list of checked functions, both ways: each listed function was
/// called by a task that ran on the engine and agreed with vega.js. (The other
/// way holds by construction: an unlisted function keeps its task local.)
fn check_function_list(dialect: SqlDialect, used: &std::collections::BTreeSet<String>, failures: &mut Vec<String>) {
    for name in vegalake_executors::sql::checked_functions(dialect) {
        if !used.contains(name) {
            failures.push(format!("{dialect}: {name} is on the list of checked functions, but no conformance task that agreed calls it"));
        }
    }
    println!("sql: {dialect}: functions called: {}", used.iter().cloned().collect::<Vec<_>>().join(" "));
}

/// Runs `tasks` on `engine` and compares each complete dataset with the local rows.
fn check_engine(engine: &str, tasks: &[Json], local: &Map<String, Json>, known: &Map<String, Json>, failures: &mut Vec<String>) -> EngineOutcome {
    let results = run_on(engine, tasks);
    let mut out = EngineOutcome::default();
    let mut differing = Vec::new();
    for task in tasks {
        let id = task["id"].as_str().unwrap();
        let key = format!("{engine} {id}");
        let r = &results[id];
        if let Some(error) = r.get("error") {
            failures.push(format!("{key}: {error}\n  {}", task["sql"]));
            continue;
        }
        out.ran += 1;
        let Some(ours) = local.get(id) else { continue };
        let rows = with_json_values(&r["rows"], &task["json_columns"]);
        match (compare_datasets(&rows, ours, false), known.get(&key)) {
            (None, None) => {
                out.equal += 1;
                out.functions.extend(task["functions"].as_array().into_iter().flatten().filter_map(Json::as_str).map(String::from));
            }
            (None, Some(_)) => failures.push(format!("{key}: equal to local now: take it out of sql_differences.json")),
            (Some(_), Some(_)) => differing.push(key),
            (Some(diff), None) => failures.push(format!("{key}: differs from local: {diff}")),
        }
    }
    for key in known.keys().filter(|k| k.starts_with(&format!("{engine} ")) && !differing.contains(k)) {
        failures.push(format!("{key}: listed in sql_differences.json but not seen"));
    }
    out.known = differing.len();
    out
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

/// The fewest conformance tasks each dialect must take (of the suite's server
/// tasks); raised as dialects learn more (measured 477/459/458 of 844 with the
/// `undefined` and mixed-type specs, Spark's floor and ceil written for NaN).
const PUSHABLE_FLOOR: [(SqlDialect, usize); 3] = [(SqlDialect::DuckDb, 474), (SqlDialect::Spark, 456), (SqlDialect::Postgres, 455)];

/// A refusal without the part that names the one instance (a function's arguments).
fn reason_kind(why: &str) -> String {
    why.split(" (").next().unwrap_or(why).chars().take(90).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn conformance_tasks_as_sql_run_on_duckdb_spark_and_postgres() {
    let mut tasks = 0;
    let mut unparse_errors: Vec<String> = Vec::new();
    let mut queued: Vec<(SqlDialect, Vec<Json>)> = vec![(SqlDialect::DuckDb, Vec::new()), (SqlDialect::Spark, Vec::new()), (SqlDialect::Postgres, Vec::new())];
    let mut local: Map<String, Json> = Map::new();
    let mut refusals: std::collections::BTreeMap<(SqlDialect, String), usize> = Default::default();
    for f in expected_files() {
        let expected = read_json(&f);
        let name = f.file_stem().unwrap().to_string_lossy().to_string();
        let spec: Spec = serde_json::from_value(expected["spec"].clone()).expect("valid spec");
        let opts = spec_options(&expected);
        let Ok(result) = evaluate(&spec, &opts).await else { continue };
        let server = server_tasks(&spec, &opts).await.expect("the pass evaluate ran");
        tasks += server.len();
        for t in &server {
            let id = format!("{name}/{}", t.dataset);
            let complete = t.scope.is_empty() && t.server_transforms == t.total_transforms;
            if let (true, Some(rows)) = (complete, result.datasets.get(&t.dataset)) {
                local.insert(id.clone(), rows.clone());
            }
            let schema = t.schema();
            let json_columns: Vec<&String> = schema.fields().iter().filter(|f| f.metadata().contains_key(JSON_FIELD_METADATA)).map(|f| f.name()).collect();
            for (dialect, queue) in queued.iter_mut() {
                let sql = match t.sql(*dialect) {
                    Ok(sql) => sql,
                    Err(vegalake_executors::sql::SqlError::Unparse(e)) => {
                        unparse_errors.push(format!("{dialect} {id}: {e}"));
                        continue;
                    }
                    Err(vegalake_executors::sql::SqlError::NotPushable(why)) => {
                        *refusals.entry((*dialect, reason_kind(&why))).or_default() += 1;
                        continue;
                    }
                };
                // PostgreSQL has no Parquet reader: `vegalake sql` writes the
                // view pg_duckdb-style extensions take, but a bare server has no
                // such task to run, as a warehouse connection never does.
                if *dialect == SqlDialect::Postgres && !sql.tables.is_empty() {
                    continue;
                }
                let setup = sql.setup(*dialect);
                queue.push(json!({"id": id, "setup": setup, "sql": sql.sql, "json_columns": json_columns, "functions": sql.functions}));
            }
        }
    }
    let known = read_json(&root().join("sql_differences.json"));
    let known = known.as_object().expect("an object");
    // Not pushable is a verdict; failing to unparse is our bug or DataFusion's.
    let mut failures = unparse_errors;
    let share = |n: usize| 100.0 * n as f64 / tasks.max(1) as f64;
    for (dialect, queue) in &queued {
        let complete = queue.iter().filter(|t| local.contains_key(t["id"].as_str().unwrap())).count();
        let o = check_engine(dialect.name(), queue, &local, known, &mut failures);
        check_function_list(*dialect, &o.functions, &mut failures);
        println!(
            "sql: {dialect}: {} of {tasks} server tasks pushable ({:.0}%), {} ran, {} of {complete} complete datasets equal to local, {} known differences",
            queue.len(),
            share(queue.len()),
            o.ran,
            o.equal,
            o.known
        );
        let mut reasons: Vec<(&String, &usize)> = refusals.iter().filter(|((d, _), _)| d == dialect).map(|((_, r), n)| (r, n)).collect();
        reasons.sort_by(|a, b| b.1.cmp(a.1));
        let top: Vec<String> = reasons.iter().take(6).map(|(r, n)| format!("{n}× {r}")).collect();
        println!("sql: {dialect}: not pushable, most often: {}", top.join("; "));
        // The share of pushable tasks only rises: raise the floor with it.
        let floor = PUSHABLE_FLOOR.iter().find(|(d, _)| d == dialect).map_or(0, |(_, n)| *n);
        if queue.len() < floor {
            failures.push(format!("{dialect}: {} tasks pushable, below the floor of {floor}", queue.len()));
        }
    }
    assert!(failures.is_empty(), "{} failures:\n{}", failures.len(), failures.join("\n"));
}
