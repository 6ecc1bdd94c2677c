//! `vegalake batch` end to end on the batch tests' stores (integration-tests/batch):
//! every format written and readable, a bad key isolated (exit code 2, the other
//! charts as a clean run draws them, one error row), and an interrupted run
//! resumed to the same bytes as an uninterrupted one.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).parent().unwrap().to_path_buf()
}

/// A directory of its own for one test, with the stores' rows as `stores.json`
/// and the templates.
fn workspace(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("vegalake-cli-batch-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::copy(repo().join("integration-tests/batch/rows.json"), dir.join("stores.json")).unwrap();
    for t in ["histogram", "stacked"] {
        let text = std::fs::read_to_string(repo().join(format!("integration-tests/batch/templates/{t}.vl.json"))).unwrap();
        std::fs::write(dir.join(format!("{t}.vl.json")), text.replace("stores.parquet", "stores.json")).unwrap();
    }
    // A Vega template drawing each row as text; `peek` of a null value throws in
    // vega.js (a TypeError), so a store with a null value fails to draw.
    let labels = r#"{"$schema": "https://vega.github.io/schema/vega/v6.json", "width": 200, "height": 200,
      "data": [{"name": "rows", "url": "stores.json"}],
      "marks": [{"type": "text", "from": {"data": "rows"},
        "encode": {"enter": {"x": {"value": 10}, "y": {"signal": "datum.units * 4"}, "text": {"signal": "datum.category + ' ' + peek(datum.value)"}}}}]}"#;
    std::fs::write(dir.join("labels.vg.json"), labels).unwrap();
    dir
}

fn batch(dir: &Path, args: &[&str]) -> (i32, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_vegalake")).arg("batch").args(args).current_dir(dir).output().expect("runs");
    (out.status.code().unwrap_or(-1), String::from_utf8_lossy(&out.stderr).into())
}

fn manifest(dir: &Path) -> Vec<serde_json::Value> {
    std::fs::read_to_string(dir.join("manifest.jsonl")).unwrap().lines().map(|l| serde_json::from_str(l).unwrap()).collect()
}

/// Every file of a batch's output directory but the journal, by name.
fn outputs(dir: &Path) -> Vec<(String, Vec<u8>)> {
    let mut files: Vec<(String, Vec<u8>)> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap())
        .filter(|e| e.file_name() != ".vegalake-batch.jsonl")
        .map(|e| (e.file_name().to_string_lossy().into_owned(), std::fs::read(e.path()).unwrap()))
        .collect();
    files.sort();
    files
}

fn png_size(bytes: &[u8]) -> (u32, u32) {
    assert!(bytes.starts_with(b"\x89PNG\r\n\x1a\n"), "not a PNG");
    (u32::from_be_bytes(bytes[16..20].try_into().unwrap()), u32::from_be_bytes(bytes[20..24].try_into().unwrap()))
}

#[test]
fn every_format_is_written_with_a_manifest_and_a_gallery() {
    let dir = workspace("formats");
    let (code, stderr) = batch(
        &dir,
        &[
            "--template",
            "histogram.vl.json",
            "--by",
            "store",
            "--where",
            "datum.store < 's010'",
            "--formats",
            "vega,svg,png,pdf",
            "--out",
            "out",
            "--progress",
            "none",
        ],
    );
    assert_eq!(code, 0, "{stderr}");
    assert!(stderr.contains("10 charts: 10 drawn, 0 kept from a previous run, 0 failed"), "{stderr}");
    let out = dir.join("out");
    let rows = manifest(&out);
    assert_eq!(rows.len(), 10);
    let source: serde_json::Value = serde_json::from_slice(&std::fs::read(dir.join("stores.json")).unwrap()).unwrap();
    for row in &rows {
        assert_eq!(row["status"], "ok", "{row}");
        let id = row["id"].as_str().unwrap();
        let store = &row["key"]["store"];
        let source_rows = source.as_array().unwrap().iter().filter(|r| &r["store"] == store).count();
        assert_eq!(row["source_rows"], source_rows, "{row}");
        assert_eq!(row["files"], serde_json::json!([format!("{id}.vg.json"), format!("{id}.svg"), format!("{id}.png"), format!("{id}.pdf")]));
        let spec: serde_json::Value = serde_json::from_slice(&std::fs::read(out.join(format!("{id}.vg.json"))).unwrap()).unwrap();
        let bins = spec["data"].as_array().unwrap().iter().find(|d| d["values"].is_array()).unwrap()["values"].as_array().unwrap().len();
        let svg = std::fs::read_to_string(out.join(format!("{id}.svg"))).unwrap();
        assert_eq!(svg.matches("aria-roledescription=\"bar\"").count(), bins, "{id}: one bar per bin of its data");
        let (w, h) = png_size(&std::fs::read(out.join(format!("{id}.png"))).unwrap());
        assert!(w > 100 && h > 100, "{id}: {w}x{h}");
        assert!(std::fs::read(out.join(format!("{id}.pdf"))).unwrap().starts_with(b"%PDF-"));
    }
    let gallery = std::fs::read_to_string(out.join("index.html")).unwrap();
    assert_eq!(gallery.matches("<img").count(), 10);
    assert!(std::fs::read_to_string(out.join("errors.jsonl")).unwrap().is_empty());
}

/// A bad key fails alone: exit code 2, one error row, and every other chart
/// byte for byte as a run without that key draws it.
fn assert_isolated(dir: &Path, template: &str, keys: &str, bad: &str, extra: &[&str], error: &str) {
    let mut args = vec!["--template", template, "--by", "store", "--formats", "vega,png", "--progress", "none"];
    args.extend_from_slice(extra);
    let with_bad = format!("{keys} && true");
    let (code, stderr) = batch(dir, &[&args[..], &["--where", &with_bad, "--out", "with-bad"]].concat());
    assert_eq!(code, 2, "{stderr}");
    let without = format!("{keys} && datum.store != '{bad}'");
    let (code, stderr) = batch(dir, &[&args[..], &["--where", &without, "--out", "clean"]].concat());
    assert_eq!(code, 0, "{stderr}");
    let errors: Vec<serde_json::Value> =
        std::fs::read_to_string(dir.join("with-bad/errors.jsonl")).unwrap().lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    assert_eq!(errors.len(), 1, "{errors:?}");
    assert_eq!(errors[0]["id"], format!("store={bad}"));
    assert!(errors[0]["error"].as_str().unwrap().contains(error), "{}", errors[0]);
    let clean = outputs(&dir.join("clean"));
    let charts = |files: Vec<(String, Vec<u8>)>| files.into_iter().filter(|(n, _)| n.starts_with("store=")).collect::<Vec<_>>();
    assert_eq!(charts(outputs(&dir.join("with-bad"))), charts(clean.clone()), "the other charts differ from a clean run");
    assert!(charts(clean).len() >= 8);
}

#[test]
fn a_chart_whose_drawing_throws_fails_alone() {
    let dir = workspace("throws");
    // s009 has a null value (s001..s008 have none).
    assert_isolated(&dir, "labels.vg.json", "datum.store >= 's001' && datum.store <= 's009'", "s009", &[], "of null");
}

#[test]
fn a_chart_over_the_row_limit_fails_alone() {
    let dir = workspace("rows");
    // Of s001..s008, only s003 has 16 rows.
    assert_isolated(
        &dir,
        "labels.vg.json",
        "datum.store >= 's001' && datum.store <= 's008'",
        "s003",
        &["--row-limit", "15"],
        "16 data rows, over the row limit of 15",
    );
}

#[test]
fn an_interrupted_run_resumes_to_the_same_bytes() {
    let dir = workspace("resume");
    let args = ["--template", "stacked.vl.json", "--by", "store", "--where", "datum.store < 's060'", "--formats", "vega,svg,png"];
    let (code, stderr) = batch(&dir, &[&args[..], &["--out", "whole", "--progress", "none"]].concat());
    assert_eq!(code, 0, "{stderr}");
    // The same run, killed once half its charts are done (its progress lines say when).
    let mut child = Command::new(env!("CARGO_BIN_EXE_vegalake"))
        .arg("batch")
        .args(args)
        .args(["--out", "resumed", "--progress", "jsonl"])
        .current_dir(&dir)
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    for line in BufReader::new(child.stderr.take().unwrap()).lines() {
        let line: serde_json::Value = serde_json::from_str(&line.unwrap()).unwrap_or_default();
        if line["stage"] == "render" && line["done"].as_u64().is_some_and(|d| d >= 30) {
            break;
        }
    }
    child.kill().unwrap();
    child.wait().unwrap();
    let journal = std::fs::read_to_string(dir.join("resumed/.vegalake-batch.jsonl")).unwrap();
    let finished = journal.lines().filter(|l| serde_json::from_str::<serde_json::Value>(l).is_ok()).count();
    assert!((30..60).contains(&finished), "{finished} charts finished before the kill");
    let (code, stderr) = batch(&dir, &[&args[..], &["--out", "resumed", "--resume", "--progress", "none"]].concat());
    assert_eq!(code, 0, "{stderr}");
    let drawn = 60 - finished;
    assert!(stderr.contains(&format!("60 charts: {drawn} drawn, {finished} kept from a previous run, 0 failed")), "{stderr}");
    assert_eq!(outputs(&dir.join("resumed")), outputs(&dir.join("whole")), "a resumed run's files differ from an uninterrupted run's");
}

#[test]
fn bad_batch_arguments_fail_on_one_line() {
    let dir = workspace("errors");
    let cases: [(&[&str], &str); 4] = [
        (&["--template", "histogram.vl.json", "--by", "store", "--out", "o", "--formats", "gif"], "--formats: unknown format \"gif\""),
        (&["--template", "histogram.vl.json", "--by", "store", "--out", "o", "--where", "datum.store >"], "Unexpected end of input"),
        (&["--template", "histogram.vl.json", "--by", "nope", "--out", "o"], "unknown field 'nope'"),
        (&["--template", "missing.vl.json", "--by", "store", "--out", "o"], "cannot read spec"),
    ];
    for (args, needle) in cases {
        let (code, stderr) = batch(&dir, args);
        assert_eq!(code, 1, "{args:?}: {stderr}");
        assert_eq!(stderr.trim_end().lines().count(), 1, "{args:?}: one line: {stderr}");
        assert!(stderr.contains(needle), "{args:?}: {needle:?} not in {stderr:?}");
    }
}
