//! `vegalake serve`, the real binary on loopback: the crossfilter of the
//! interactions suite opened and brushed over HTTP and over gRPC, each state equal
//! to vega.js's (`integration-tests/interactions`); and its security: tokens,
//! other tokens' charts, paths outside the roots, oversized requests, stale
//! updates, the concurrency limit, and SIGTERM.

use serde_json::{json, Value as Json};
use std::collections::HashMap;
use std::io::{BufRead, BufReader, Read, Write};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use vegalake_integration_tests::{columns, compare_datasets, restrict};

const TOKEN: &str = "first-token-0123456789";
const OTHER: &str = "other-token-0123456789";

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).parent().unwrap().to_path_buf()
}

/// The server, killed when dropped.
struct Server {
    child: Child,
    address: String,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Server {
    fn start(extra: &[&str]) -> Server {
        let dir = std::env::temp_dir().join(format!("vegalake-serve-{}-{}", std::process::id(), extra.len()));
        std::fs::create_dir_all(&dir).unwrap();
        let tokens = dir.join("tokens");
        std::fs::write(&tokens, format!("{TOKEN}\nblake3:{}\n", blake3_hex(OTHER))).unwrap();
        let data = repo().join("integration-tests/datasets");
        let mut child = Command::new(env!("CARGO_BIN_EXE_vegalake"))
            .args(["serve", "--bind", "127.0.0.1:0", "--token-file", tokens.to_str().unwrap(), "--data-dir", data.to_str().unwrap()])
            .args(extra)
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let mut line = String::new();
        BufReader::new(child.stdout.take().unwrap()).read_line(&mut line).unwrap();
        let address = line.trim().strip_prefix("listening on ").unwrap_or_else(|| panic!("printed {line:?}")).to_string();
        Server { child, address }
    }

    /// One HTTP/1.1 request; (status, JSON body).
    fn http(&self, method: &str, path: &str, token: Option<&str>, body: Option<&str>) -> (u16, Json) {
        let mut stream = std::net::TcpStream::connect(&self.address).unwrap();
        let auth = token.map(|t| format!("Authorization: Bearer {t}\r\n")).unwrap_or_default();
        let body = body.unwrap_or("");
        write!(
            stream,
            "{method} {path} HTTP/1.1\r\nHost: {}\r\n{auth}Content-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
            self.address,
            body.len()
        )
        .unwrap();
        let mut response = Vec::new();
        let _ = stream.read_to_end(&mut response);
        let response = String::from_utf8_lossy(&response);
        let status = response.split(' ').nth(1).and_then(|s| s.parse().ok()).unwrap_or(0);
        let body = response.split_once("\r\n\r\n").map_or("", |(_, b)| b);
        (status, serde_json::from_str(body).unwrap_or(Json::Null))
    }
}

/// A token's hash, as a token file may hold it.
fn blake3_hex(token: &str) -> String {
    blake3::hash(token.as_bytes()).to_hex().to_string()
}

/// The crossfilter of the interactions suite: its Vega spec, updates and vega.js's states.
fn crossfilter() -> (Json, Vec<Json>, Vec<Json>) {
    let dir = repo().join("integration-tests/interactions");
    let expected: Json = serde_json::from_str(&std::fs::read_to_string(dir.join("expected/crossfilter_three_histograms.json")).unwrap()).unwrap();
    let updates: Json = serde_json::from_str(&std::fs::read_to_string(dir.join("crossfilter_three_histograms.updates.json")).unwrap()).unwrap();
    (expected["spec"].clone(), updates.as_array().unwrap().clone(), expected["steps"].as_array().unwrap().clone())
}

/// The server's datasets against one vega.js step; how many were compared.
fn check(current: &HashMap<String, Json>, step: &Json, at: &str) -> usize {
    let mut compared = 0;
    for (name, rows) in current {
        if let Some(theirs) = step["datasets"].get(name) {
            if let Some(d) = compare_datasets(rows, &restrict(theirs, &columns(rows)), false) {
                panic!("{at} {name}: {d}");
            }
            compared += 1;
        }
    }
    compared
}

/// The shipped datasets of a client spec, as the browser holds them.
fn shipped(client: &Json) -> HashMap<String, Json> {
    client["data"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|d| d["values"].is_array() && d.get("transform").is_none())
        .map(|d| (d["name"].as_str().unwrap().to_string(), d["values"].clone()))
        .collect()
}

#[test]
fn the_http_api_brushes_a_crossfilter_as_vegajs_does() {
    let server = Server::start(&[]);
    let (spec, updates, steps) = crossfilter();
    let (status, opened) = server.http("POST", "/v1/charts", Some(TOKEN), Some(&json!({"spec": spec}).to_string()));
    assert_eq!(status, 200, "{opened}");
    let id = opened["chart_id"].as_str().unwrap();
    let mut current = shipped(&opened["client_spec"]);
    let mut compared = check(&current, &steps[0], "open");
    for (i, update) in updates.iter().enumerate() {
        let (status, answer) = server.http("POST", &format!("/v1/charts/{id}/update"), Some(TOKEN), Some(&json!({"seq": i + 1, "values": update}).to_string()));
        assert_eq!(status, 200, "update {i}: {answer}");
        for v in answer["values"].as_array().unwrap().iter().filter(|v| v["namespace"] == "data") {
            current.insert(v["name"].as_str().unwrap().to_string(), v["value"].clone());
        }
        compared += check(&current, &steps[i + 1], &format!("update {i}"));
    }
    assert!(compared > updates.len(), "{compared} states compared");
    // The same brush again: nothing to compute.
    let last = updates.last().unwrap();
    let (_, again) = server.http("POST", &format!("/v1/charts/{id}/update"), Some(TOKEN), Some(&json!({"seq": updates.len() + 1, "values": last}).to_string()));
    assert_eq!(again["cached"], true, "{again}");
    let (status, _) = server.http("DELETE", &format!("/v1/charts/{id}"), Some(TOKEN), None);
    assert_eq!(status, 204);
    let (status, _) = server.http("POST", &format!("/v1/charts/{id}/update"), Some(TOKEN), Some(r#"{"values": []}"#));
    assert_eq!(status, 404, "a closed chart is gone");
}

#[test]
fn requests_are_authenticated_owned_and_bounded() {
    let server = Server::start(&["--max-request-bytes", "20000"]);
    for token in [None, Some("wrong-token-0123456789")] {
        let (status, body) = server.http("GET", "/v1/info", token, None);
        assert_eq!(status, 401, "{token:?}: {body}");
    }
    let (status, info) = server.http("GET", "/v1/info", Some(OTHER), None);
    assert_eq!(status, 200, "a token stored as its hash works");
    assert_eq!(info["limits"]["max_request_bytes"], 20000);
    let small = json!({"data": [{"name": "t", "values": [{"a": 1}]}]}).to_string();
    let (_, opened) = server.http("POST", "/v1/charts", Some(TOKEN), Some(&json!({"spec": small}).to_string()));
    let id = opened["chart_id"].as_str().unwrap();
    let (status, body) = server.http("POST", &format!("/v1/charts/{id}/update"), Some(OTHER), Some(r#"{"values": []}"#));
    assert_eq!(status, 404, "another token's chart is not found: {body}");
    let (status, _) = server.http("POST", &format!("/v1/charts/{id}/update"), Some(TOKEN), Some(r#"{"seq": 5, "values": []}"#));
    assert_eq!(status, 200);
    let (status, body) = server.http("POST", &format!("/v1/charts/{id}/update"), Some(TOKEN), Some(r#"{"seq": 4, "values": []}"#));
    assert_eq!(status, 409, "a stale update: {body}");
    for url in ["../../Cargo.toml", "/etc/passwd", "file:///etc/passwd"] {
        let spec = json!({"data": [{"name": "t", "url": url, "format": {"type": "csv"}}]}).to_string();
        let (status, body) = server.http("POST", "/v1/pretransform", Some(TOKEN), Some(&json!({"spec": spec}).to_string()));
        // The server reads nothing outside its roots.
        assert_eq!(status, 403, "{url}: {body}");
        assert!(body["error"].as_str().unwrap().contains("data[0] \"t\""), "{body}");
    }
    let big = json!({"spec": "x".repeat(30_000)}).to_string();
    let (status, _) = server.http("POST", "/v1/pretransform", Some(TOKEN), Some(&big));
    assert_eq!(status, 413, "an oversized request");
    let (status, body) = server.http("POST", "/v1/pretransform", Some(TOKEN), Some("{not json"));
    assert_eq!(status, 400, "{body}");
    let (status, body) = server.http("GET", "/v1/info", Some(TOKEN), None);
    assert_eq!(status, 200, "the server keeps serving: {body}");
}

#[test]
fn an_evaluation_past_its_deadline_is_cancelled() {
    let server = Server::start(&["--request-timeout", "0.000001"]);
    let (spec, _, _) = crossfilter();
    let (status, body) = server.http("POST", "/v1/charts", Some(TOKEN), Some(&json!({"spec": spec}).to_string()));
    assert_eq!(status, 504, "{body}");
    assert!(body["error"].as_str().unwrap().contains("past the server's limit"), "{body}");
    let (status, _) = server.http("GET", "/v1/info", Some(TOKEN), None);
    assert_eq!(status, 200, "the server keeps serving");
}

#[test]
fn grpc_opens_and_brushes_the_same_chart() {
    let server = Server::start(&[]);
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    runtime.block_on(async {
        use vegalake_proto::v1::vegalake_client::VegalakeClient;
        use vegalake_proto::v1::{value, InfoRequest, OpenChartRequest, UpdateRequest, Value};
        let mut client = VegalakeClient::connect(format!("http://{}", server.address)).await.unwrap();
        let status = client.info(InfoRequest {}).await.unwrap_err();
        assert_eq!(status.code(), tonic::Code::Unauthenticated);
        let authorized = |m: &mut tonic::metadata::MetadataMap| {
            m.insert("authorization", format!("Bearer {TOKEN}").parse().unwrap());
        };
        let mut request = tonic::Request::new(InfoRequest {});
        authorized(request.metadata_mut());
        assert!(!client.info(request).await.unwrap().into_inner().version.is_empty());
        let (spec, updates, steps) = crossfilter();
        let mut request = tonic::Request::new(OpenChartRequest { spec: spec.to_string(), ..Default::default() });
        authorized(request.metadata_mut());
        let opened = client.open_chart(request).await.unwrap().into_inner();
        let mut current = shipped(&serde_json::from_str(&opened.client_spec).unwrap());
        let mut compared = check(&current, &steps[0], "grpc open");
        for (i, update) in updates.iter().enumerate() {
            let values = update
                .as_array()
                .unwrap()
                .iter()
                .map(|v| Value {
                    namespace: v["namespace"].as_str().unwrap().into(),
                    name: v["name"].as_str().unwrap().into(),
                    scope: vec![],
                    value: Some(value::Value::Json(v["value"].to_string())),
                })
                .collect();
            let mut request = tonic::Request::new(UpdateRequest { chart_id: opened.chart_id.clone(), seq: i as u64 + 1, values });
            authorized(request.metadata_mut());
            let answer = client.update(request).await.unwrap().into_inner();
            for v in answer.values.into_iter().filter(|v| v.namespace == "data") {
                let Some(value::Value::Json(text)) = v.value else { panic!("JSON values asked") };
                current.insert(v.name, serde_json::from_str(&text).unwrap());
            }
            compared += check(&current, &steps[i + 1], &format!("grpc update {i}"));
        }
        assert!(compared > updates.len());
    });
}

#[test]
fn sigterm_stops_the_server_cleanly() {
    let mut server = Server::start(&[]);
    let (status, _) = server.http("GET", "/v1/info", Some(TOKEN), None);
    assert_eq!(status, 200);
    let pid = server.child.id().to_string();
    assert!(Command::new("kill").args(["-TERM", &pid]).status().unwrap().success());
    let exit = server.child.wait().unwrap();
    assert_eq!(exit.code(), Some(0), "{exit:?}");
}

#[test]
fn serving_needs_tokens_and_loopback() {
    let run = |args: &[&str]| Command::new(env!("CARGO_BIN_EXE_vegalake")).arg("serve").args(args).output().unwrap();
    let out = run(&["--bind", "127.0.0.1:0"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("--token-file: the server needs tokens"));
    let out = run(&["--bind", "0.0.0.0:0", "--token-file", "/dev/null"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("not a loopback address"));
}
