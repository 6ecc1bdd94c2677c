//! The `vegalake` binary: output contract and one-line errors with exit code 1.

use std::path::PathBuf;
use std::process::Command;

fn vegalake(args: &[&str]) -> (i32, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_vegalake")).args(args).output().expect("runs");
    (out.status.code().unwrap_or(-1), String::from_utf8_lossy(&out.stdout).into(), String::from_utf8_lossy(&out.stderr).into())
}

fn temp_spec(name: &str, text: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("vegalake-cli-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join(name);
    std::fs::write(&path, text).unwrap();
    path
}

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).parent().unwrap().to_path_buf()
}

/// A failure is one line on stderr, naming the place, with exit code 1.
fn assert_one_line_error(args: &[&str], needle: &str) {
    let (code, stdout, stderr) = vegalake(args);
    assert_eq!(code, 1, "stderr: {stderr}");
    assert!(stdout.is_empty(), "stdout: {stdout}");
    assert_eq!(stderr.trim_end().lines().count(), 1, "one line: {stderr}");
    assert!(stderr.contains(needle), "{needle:?} not in {stderr:?}");
    assert!(!stderr.contains("panicked"), "{stderr}");
}

#[test]
fn evaluates_the_shipped_example() {
    let spec = repo().join("examples/histogram.vg.json");
    let data = repo().join("integration-tests/datasets");
    let (code, stdout, stderr) = vegalake(&["eval", spec.to_str().unwrap(), "--data-dir", data.to_str().unwrap()]);
    assert_eq!(code, 0, "{stderr}");
    let v: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    let bins = v["datasets"]["binned"].as_array().unwrap();
    let cars: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(data.join("data/cars.json")).unwrap()).unwrap();
    let total: f64 = bins.iter().map(|r| r["count"].as_f64().unwrap()).sum();
    assert_eq!(total as usize, cars.as_array().unwrap().len(), "every car counted once");
    assert_eq!(v["signals"]["hp_bins"]["step"], 10);
    assert!(v["unsupported"].as_object().unwrap().is_empty());
}

#[test]
fn invalid_json() {
    let p = temp_spec("bad.json", "{\"data\": [");
    assert_one_line_error(&["eval", p.to_str().unwrap()], "invalid JSON");
}

#[test]
fn syntax_error_in_expression() {
    let p = temp_spec("syntax.vg.json", r#"{"data":[{"name":"t","values":[{"a":1}],"transform":[{"type":"filter","expr":"datum.a >"}]}]}"#);
    assert_one_line_error(&["eval", p.to_str().unwrap()], "data[0] \"t\": transform[0] (filter): expr: Unexpected end of input at column 10");
}

#[test]
fn an_unknown_field_reads_as_undefined_as_vega_reads_it() {
    let p = temp_spec("field.vg.json", r#"{"data":[{"name":"t","values":[{"a":1}],"transform":[{"type":"formula","expr":"datum.b * 2","as":"c"}]}]}"#);
    let (code, stdout, _) = vegalake(&["eval", p.to_str().unwrap()]);
    assert_eq!(code, 0);
    let v: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(v["datasets"]["t"], serde_json::json!([{"a": 1, "c": "NaN"}]), "{v}");
}

#[test]
fn unknown_transform_and_function() {
    let p = temp_spec("tx.vg.json", r#"{"data":[{"name":"t","values":[{"a":1}],"transform":[{"type":"frobnicate"}]}]}"#);
    assert_one_line_error(&["eval", p.to_str().unwrap()], "unknown transform type 'frobnicate'");
    let p = temp_spec("fn.vg.json", r#"{"data":[{"name":"t","values":[{"a":1}],"transform":[{"type":"filter","expr":"nosuch(datum.a)"}]}]}"#);
    assert_one_line_error(&["eval", p.to_str().unwrap()], "unrecognized function 'nosuch'");
}

#[test]
fn missing_and_forbidden_files() {
    let p = temp_spec("missing.vg.json", r#"{"data":[{"name":"t","url":"data/nope.csv"}]}"#);
    assert_one_line_error(&["eval", p.to_str().unwrap()], "data[0] \"t\": ");
    assert_one_line_error(&["eval", "/nonexistent/spec.json"], "cannot read spec");
    // A file vega.js would load itself stays the browser's: the server reads nothing.
    for (url, why) in [("../../../../etc/passwd", "leaves the data directory"), ("file:///etc/passwd", "is outside the allowed roots")] {
        let p = temp_spec("forbidden.vg.json", &format!(r#"{{"data":[{{"name":"t","url":"{url}","format":{{"type":"csv"}}}}]}}"#));
        let (code, stdout, stderr) = vegalake(&["eval", p.to_str().unwrap()]);
        assert_eq!(code, 0, "{stderr}");
        let v: serde_json::Value = serde_json::from_str(&stdout).unwrap();
        let reason = v["unsupported"]["t"].as_str().unwrap();
        assert!(reason.contains(why) && reason.contains("the browser loads it itself"), "{reason}");
        assert!(!stdout.contains("root:"), "the server read {url}");
    }
    // A table only the server could read is an error.
    let p = temp_spec("parquet.vg.json", r#"{"data":[{"name":"t","url":"file:///etc/nothing.parquet"}]}"#);
    assert_one_line_error(&["eval", p.to_str().unwrap()], "outside the allowed roots");
    let p = temp_spec("bucket.vg.json", r#"{"data":[{"name":"t","url":"delta+s3://private/table"}]}"#);
    assert_one_line_error(&["eval", p.to_str().unwrap(), "--allow-root", "s3://public"], "'s3://private/table' is outside the allowed roots");
    let p = temp_spec("table.vg.json", r#"{"data":[{"name":"t","url":"table://nope"}]}"#);
    assert_one_line_error(&["eval", p.to_str().unwrap()], "table://nope: no such table");
    let catalog = temp_spec("bad.toml", "[tables.x]\nuri = 1\n");
    assert_one_line_error(&["eval", p.to_str().unwrap(), "--catalog", catalog.to_str().unwrap()], "bad.toml:2: unknown field `uri`");
}

#[test]
fn explain_reports_what_the_scans_read() {
    let data = concat!(env!("CARGO_MANIFEST_DIR"), "/../integration-tests/datasets");
    let p = temp_spec(
        "explain.vg.json",
        r#"{"data":[{"name":"t","url":"data/flights-2k.parquet","transform":[{"type":"filter","expr":"datum.delay > 100"},{"type":"aggregate","as":["n"]}]}]}"#,
    );
    let (code, stdout, stderr) = vegalake(&["eval", p.to_str().unwrap(), "--data-dir", data, "--explain"]);
    assert_eq!(code, 0, "{stderr}");
    let v: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    let scan = &v["explain"][0];
    assert_eq!(scan["dataset"], "t");
    assert_eq!(scan["tables"][0]["files"], 1);
    assert_eq!(scan["scans"]["files_read"], 1);
    assert!(scan["scans"]["bytes_read"].as_u64().unwrap() > 0);
    assert!(scan["summary"].as_str().unwrap().starts_with("scanned 1 of 1 files"));
    // And the plan the dataset's server part ran.
    let plan = v["plans"]["t"].as_str().unwrap();
    assert!(plan.contains("Aggregate") && plan.contains("Filter") && plan.contains("TableScan"), "{plan}");
    // The same figures reach the log.
    let (_, _, stderr) = vegalake(&["eval", p.to_str().unwrap(), "--data-dir", data, "--verbose"]);
    assert!(stderr.contains("data[0] \"t\": scanned 1 of 1 files"), "{stderr}");
}

#[test]
fn unsupported_is_reported_not_an_error() {
    let p =
        temp_spec("split.vg.json", r#"{"data":[{"name":"t","values":[{"a":1}],"transform":[{"type":"sample","size":1}]},{"name":"u","values":[{"a":2}]}]}"#);
    let (code, stdout, _) = vegalake(&["eval", p.to_str().unwrap()]);
    assert_eq!(code, 0);
    let v: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    assert!(v["unsupported"]["t"].as_str().unwrap().contains("sample"));
    assert_eq!(v["datasets"]["u"][0]["a"], 2);
}

#[test]
fn bad_timezone_and_set_file() {
    let p = temp_spec("ok.vg.json", r#"{"data":[{"name":"t","values":[{"a":1}]}]}"#);
    assert_one_line_error(&["eval", p.to_str().unwrap(), "--timezone", "Mars/Olympus"], "unknown time zone");
    let s = temp_spec("set.json", "[1]");
    assert_one_line_error(&["eval", p.to_str().unwrap(), "--set", s.to_str().unwrap()], "must be a JSON object");
}

#[test]
fn pretransform_plan_and_replay_the_example() {
    let spec = repo().join("examples/histogram.vg.json");
    let data = repo().join("integration-tests/datasets");
    let (s, d) = (spec.to_str().unwrap(), data.to_str().unwrap());
    let (code, stdout, stderr) = vegalake(&["pretransform", s, "--data-dir", d]);
    assert_eq!(code, 0, "{stderr}");
    let client: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(client["data"].as_array().unwrap().len(), 1, "only the bins are shipped: {}", client["data"]);
    let bins = client["data"][0]["values"].as_array().unwrap();
    assert!(bins.len() <= 20 && bins.iter().map(|r| r["count"].as_f64().unwrap()).sum::<f64>() == 406.0, "{bins:?}");
    let (code, stdout, _) = vegalake(&["pretransform", s, "--data-dir", d, "--row-limit", "5"]);
    assert_eq!(code, 0);
    assert_eq!(serde_json::from_str::<serde_json::Value>(&stdout).unwrap()["data"][0]["values"].as_array().unwrap().len(), 5);
    let (code, stdout, _) = vegalake(&["plan", s, "--data-dir", d]);
    assert_eq!(code, 0);
    let plan: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(plan["comm"]["server_to_client"][0]["name"], "binned");
    assert_eq!(plan["server"]["data"].as_array().unwrap().len(), 2);
    let updates = temp_spec("updates.json", r#"[[{"namespace": "signal", "name": "nope", "value": 1}], []]"#);
    let (code, stdout, stderr) = vegalake(&["replay", s, updates.to_str().unwrap(), "--data-dir", d]);
    assert_eq!(code, 1, "a failed update fails the run");
    let lines: Vec<serde_json::Value> = stdout.lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    assert!(lines[0]["error"].as_str().unwrap().contains("declares no signal 'nope'"), "{}", lines[0]);
    assert!(lines[1]["latency_ms"].is_number(), "the next update is still served");
    assert_eq!(stderr.trim_end().lines().count(), 1);
}

/// A Vega-Lite histogram of the cars dataset (the shipped example's, in Vega-Lite).
const CARS_HISTOGRAM_VL: &str = r#"{"$schema": "https://vega.github.io/schema/vega-lite/v6.json",
  "data": {"url": "data/cars.json"}, "mark": "bar",
  "encoding": {"x": {"field": "Horsepower", "bin": {"step": 10}}, "y": {"aggregate": "count"}}}"#;

#[test]
fn vega_lite_runs_in_every_chart_command() {
    let p = temp_spec("cars.vl.json", CARS_HISTOGRAM_VL);
    let data = repo().join("integration-tests/datasets");
    let (s, d) = (p.to_str().unwrap(), data.to_str().unwrap());
    let (code, stdout, stderr) = vegalake(&["eval", s, "--data-dir", d]);
    assert_eq!(code, 0, "{stderr}");
    let v: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    let cars: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(data.join("data/cars.json")).unwrap()).unwrap();
    let with_hp = cars.as_array().unwrap().iter().filter(|c| c["Horsepower"].is_number()).count();
    let counted: f64 = v["datasets"]["source_0"].as_array().unwrap().iter().map(|r| r["__count"].as_f64().unwrap()).sum();
    assert_eq!(counted as usize, with_hp, "every car with a horsepower counted once: {stdout}");
    for command in ["pretransform", "plan", "sql"] {
        let (code, stdout, stderr) = vegalake(&[command, s, "--data-dir", d]);
        assert_eq!(code, 0, "{command}: {stderr}");
        assert!(!stdout.is_empty(), "{command}");
    }
    let updates = temp_spec("no-updates.json", "[[]]");
    let (code, stdout, stderr) = vegalake(&["replay", s, updates.to_str().unwrap(), "--data-dir", d]);
    assert_eq!(code, 0, "{stderr}");
    assert!(stdout.contains("\"update\":0"), "{stdout}");
    // What the Vega-Lite compiler rejects is a one-line error naming the file.
    let bad = temp_spec(
        "bad.vl.json",
        r#"{"$schema": "https://vega.github.io/schema/vega-lite/v6.json", "data": {"values": [{"a": 1}]},
        "mark": "bar", "encoding": {"x": {"field": "a", "type": "no-such-type"}}}"#,
    );
    assert_one_line_error(&["eval", bad.to_str().unwrap()], "bad.vl.json: Vega-Lite: Invalid field type");
}

#[test]
fn render_writes_svg_png_and_pdf() {
    let p = temp_spec("render.vl.json", CARS_HISTOGRAM_VL);
    let data = repo().join("integration-tests/datasets");
    let (s, d) = (p.to_str().unwrap(), data.to_str().unwrap());
    let out = p.parent().unwrap();
    let magic: [(&str, &[u8]); 3] = [("svg", b"<svg"), ("png", b"\x89PNG"), ("pdf", b"%PDF-")];
    for (ext, head) in magic {
        let file = out.join(format!("chart.{ext}"));
        let (code, _, stderr) = vegalake(&["render", s, "--data-dir", d, "-o", file.to_str().unwrap()]);
        assert_eq!(code, 0, "{ext}: {stderr}");
        assert!(std::fs::read(&file).unwrap().starts_with(head), "{ext}");
    }
    // The bars are drawn from the server's bins: one per bin with cars in it.
    let svg = std::fs::read_to_string(out.join("chart.svg")).unwrap();
    let (_, bins, _) = vegalake(&["eval", s, "--data-dir", d]);
    let bins: serde_json::Value = serde_json::from_str(&bins).unwrap();
    assert_eq!(svg.matches("aria-roledescription=\"bar\"").count(), bins["datasets"]["source_0"].as_array().unwrap().len());
    // --scale 2 doubles the PNG (its size is in the header: width, height at 16..24).
    let size = |f: &PathBuf| {
        let b = std::fs::read(f).unwrap();
        (u32::from_be_bytes(b[16..20].try_into().unwrap()), u32::from_be_bytes(b[20..24].try_into().unwrap()))
    };
    let double = out.join("double.png");
    let (code, _, stderr) = vegalake(&["render", s, "--data-dir", d, "--scale", "2", "-o", double.to_str().unwrap()]);
    assert_eq!(code, 0, "{stderr}");
    let (one, two) = (size(&out.join("chart.png")), size(&double));
    assert_eq!(two, (one.0 * 2, one.1 * 2));
    assert_one_line_error(&["render", s, "--data-dir", d, "-o", "chart.gif"], "chart.gif: the output's extension must be");
    assert_one_line_error(&["render", s, "--data-dir", d, "--scale", "0", "-o", "x.png"], "--scale: 0 is not a positive number");
    let missing_dir = out.join("no/such/dir/chart.png");
    assert_one_line_error(&["render", s, "--data-dir", d, "-o", missing_dir.to_str().unwrap()], "cannot write");
}

#[test]
fn sql_prints_each_server_task_in_the_dialect() {
    let spec = repo().join("examples/histogram.vg.json");
    let data = repo().join("integration-tests/datasets");
    let (spec, data) = (spec.to_str().unwrap(), data.to_str().unwrap());
    let (code, stdout, stderr) = vegalake(&["sql", spec, "--data-dir", data, "--dialect", "spark"]);
    assert_eq!(code, 0, "{stderr}");
    assert!(stdout.contains("-- dataset \"binned\""), "{stdout}");
    assert!(stdout.contains("FROM (VALUES ("), "{stdout}");
    assert!(stdout.contains("count(1)") || stdout.contains("count(*)"), "{stdout}");
    assert!(stderr.contains("server tasks pushable to spark"), "{stderr}");
    let (code, stdout, _) = vegalake(&["sql", spec, "--data-dir", data, "--dialect", "duckdb", "--json"]);
    assert_eq!(code, 0);
    let first: serde_json::Value = serde_json::from_str(stdout.lines().next().unwrap()).unwrap();
    assert!(first["sql"].as_str().is_some_and(|s| s.starts_with("SELECT")), "{first}");
    assert_one_line_error(&["sql", spec, "--dialect", "oracle"], "--dialect: unknown SQL dialect 'oracle' (expected spark, duckdb or postgres)");
}

#[test]
fn bad_or_unreachable_engines_fail_on_one_line() {
    let spec = repo().join("examples/histogram.vg.json");
    let spec = spec.to_str().unwrap();
    let unused = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    assert_one_line_error(&["eval", spec, "--engine", "hive://h:1"], "--engine: bad engine 'hive://h:1': unknown engine 'hive'");
    assert_one_line_error(&["eval", spec, "--engine", "local", "--timeout=-1"], "--timeout: -1 is not a positive number of seconds");
    for engine in [format!("ballista://127.0.0.1:{unused}"), format!("spark://127.0.0.1:{unused}"), format!("sc://127.0.0.1:{unused}")] {
        let shown = engine.replace("sc://", "spark://");
        assert_one_line_error(&["pretransform", spec, "--engine", &engine], &format!("{shown}: cannot connect"));
    }
    assert_one_line_error(&["executor", "--scheduler", "nowhere"], "bad scheduler address 'nowhere'");
}

#[test]
fn a_query_over_the_memory_limit_fails_in_one_line_and_sizes_are_checked() {
    let data = repo().join("integration-tests/datasets");
    let p = temp_spec(
        "names.vg.json",
        r#"{"data":[{"name":"t","url":"data/cars.json","transform":[{"type":"aggregate","groupby":["Name"],"ops":["mean"],"fields":["Horsepower"]}]}]}"#,
    );
    let args = ["eval", p.to_str().unwrap(), "--data-dir", data.to_str().unwrap(), "--memory-limit"];
    assert_one_line_error(&[&args[..], &["1K"]].concat(), "data[0] \"t\": over the runtime's memory limit");
    let (code, stdout, stderr) = vegalake(&[&args[..], &["64M"]].concat());
    assert_eq!(code, 0, "{stderr}");
    assert!(stdout.contains("\"Name\""), "evaluated within 64 MiB");
    let (code, _, stderr) = vegalake(&[&args[..], &["lots"]].concat());
    assert_eq!(code, 2, "clap's usage error: {stderr}");
    assert!(stderr.contains("'lots' is not a positive size"), "{stderr}");
}
