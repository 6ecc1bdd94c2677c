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
    /// Its stderr, line by line, read by a thread so the server never blocks on it.
    stderr: std::sync::mpsc::Receiver<String>,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Server {
    fn start(extra: &[&str]) -> Server {
        Server::start_at("127.0.0.1:0", extra)
    }

    fn start_at(bind: &str, extra: &[&str]) -> Server {
        let dir = std::env::temp_dir().join(format!("vegalake-serve-{}-{}", std::process::id(), extra.len()));
        std::fs::create_dir_all(&dir).unwrap();
        let tokens = dir.join("tokens");
        std::fs::write(&tokens, format!("{TOKEN}\nblake3:{}\n", blake3_hex(OTHER))).unwrap();
        let data = repo().join("integration-tests/datasets");
        let data = if extra.contains(&"--data-dir") { vec![] } else { vec!["--data-dir".to_string(), data.display().to_string()] };
        let mut child = Command::new(env!("CARGO_BIN_EXE_vegalake"))
            .args(["serve", "--bind", bind, "--token-file", tokens.to_str().unwrap()])
            .args(data)
            .args(extra)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let mut line = String::new();
        BufReader::new(child.stdout.take().unwrap()).read_line(&mut line).unwrap();
        let address = line.trim().strip_prefix("listening on ").unwrap_or_else(|| panic!("printed {line:?}")).to_string();
        let (lines, stderr) = std::sync::mpsc::channel();
        let pipe = BufReader::new(child.stderr.take().unwrap());
        std::thread::spawn(move || pipe.lines().map_while(Result::ok).try_for_each(|line| lines.send(line)));
        Server { child, address, stderr }
    }

    /// Waits until the server prints a line containing `text` on stderr.
    fn wait_for_stderr(&self, text: &str) {
        for line in self.stderr.iter() {
            if line.contains(text) {
                return;
            }
        }
        panic!("the server's stderr ended before {text:?}");
    }

    /// A request's head and the first `sent` bytes of its body, the rest to follow.
    fn begin(&self, method: &str, path: &str, body: &str, sent: usize) -> std::net::TcpStream {
        let mut stream = std::net::TcpStream::connect(&self.address).unwrap();
        write!(stream, "{}{}", head(method, path, Some(TOKEN), body.len()), &body[..sent]).unwrap();
        stream.flush().unwrap();
        stream
    }

    /// One HTTP/1.1 request; (status, JSON body).
    fn http(&self, method: &str, path: &str, token: Option<&str>, body: Option<&str>) -> (u16, Json) {
        let mut stream = std::net::TcpStream::connect(&self.address).unwrap();
        let body = body.unwrap_or("");
        // A server that closes early (one refusing plain text) answers nothing: status 0.
        let _ = write!(stream, "{}{body}", head(method, path, token, body.len()));
        let mut response = Vec::new();
        let _ = stream.read_to_end(&mut response);
        let response = String::from_utf8_lossy(&response);
        let status = response.split(' ').nth(1).and_then(|s| s.parse().ok()).unwrap_or(0);
        let body = response.split_once("\r\n\r\n").map_or("", |(_, b)| b);
        (status, serde_json::from_str(body).unwrap_or(Json::Null))
    }
}

/// An HTTP/1.1 request's head, for a JSON body of `length` bytes.
fn head(method: &str, path: &str, token: Option<&str>, length: usize) -> String {
    let auth = token.map(|t| format!("Authorization: Bearer {t}\r\n")).unwrap_or_default();
    format!("{method} {path} HTTP/1.1\r\nHost: vegalake\r\n{auth}Content-Type: application/json\r\nContent-Length: {length}\r\nConnection: close\r\n\r\n")
}

/// A token's hash, as a token file may hold it.
fn blake3_hex(token: &str) -> String {
    blake3::hash(token.as_bytes()).to_hex().to_string()
}

/// The crossfilter over Parquet of the interactions suite (20 brushes): its Vega
/// spec, updates and vega.js's states.
fn crossfilter() -> (Json, Vec<Json>, Vec<Json>) {
    let dir = repo().join("integration-tests/interactions");
    let expected: Json = serde_json::from_str(&std::fs::read_to_string(dir.join("expected/crossfilter_parquet.json")).unwrap()).unwrap();
    let updates: Json = serde_json::from_str(&std::fs::read_to_string(dir.join("crossfilter_parquet.updates.json")).unwrap()).unwrap();
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
    // A second view follows the chart as server-sent events; its head arrives once
    // it is subscribed.
    let mut watch = BufReader::new(server.begin("GET", &format!("/v1/charts/{id}/watch"), "", 0));
    let watch_head: Vec<String> = watch.by_ref().lines().map(Result::unwrap).take_while(|l| !l.is_empty()).collect();
    assert!(
        watch_head[0].starts_with("HTTP/1.1 200") && watch_head.iter().any(|h| h.eq_ignore_ascii_case("content-type: text/event-stream")),
        "{watch_head:?}"
    );
    let mut answers = Vec::new();
    let mut current = shipped(&opened["client_spec"]);
    let mut compared = check(&current, &steps[0], "open");
    for (i, update) in updates.iter().enumerate() {
        let (status, answer) = server.http("POST", &format!("/v1/charts/{id}/update"), Some(TOKEN), Some(&json!({"seq": i + 1, "values": update}).to_string()));
        assert_eq!(status, 200, "update {i}: {answer}");
        answers.push(answer.clone());
        for v in answer["values"].as_array().unwrap().iter().filter(|v| v["namespace"] == "data") {
            current.insert(v["name"].as_str().unwrap().to_string(), v["value"].clone());
        }
        compared += check(&current, &steps[i + 1], &format!("update {i}"));
    }
    assert!(updates.len() >= 20 && compared > updates.len(), "{} updates, {compared} states compared", updates.len());
    // The same brush again: nothing to compute.
    let last = updates.last().unwrap();
    let (_, again) = server.http("POST", &format!("/v1/charts/{id}/update"), Some(TOKEN), Some(&json!({"seq": updates.len() + 1, "values": last}).to_string()));
    assert_eq!(again["cached"], true, "{again}");
    answers.push(again);
    let (status, _) = server.http("DELETE", &format!("/v1/charts/{id}"), Some(TOKEN), None);
    assert_eq!(status, 204);
    // The stream ended with the chart; it held each answer, in order.
    let mut stream = Vec::new();
    watch.read_to_end(&mut stream).unwrap();
    let events = server_sent_events(&dechunk(&stream));
    let watched: Vec<Json> =
        events.iter().map(|(event, data)| if event == "update" { serde_json::from_str(data).unwrap() } else { json!({event: data}) }).collect();
    assert_eq!(watched, answers, "the watcher saw each update as answered");
    let (status, _) = server.http("POST", &format!("/v1/charts/{id}/update"), Some(TOKEN), Some(r#"{"values": []}"#));
    assert_eq!(status, 404, "a closed chart is gone");
}

/// The body of a chunked HTTP/1.1 response.
fn dechunk(mut raw: &[u8]) -> Vec<u8> {
    let mut body = Vec::new();
    while let Some(end) = raw.windows(2).position(|w| w == b"\r\n") {
        let size = usize::from_str_radix(std::str::from_utf8(&raw[..end]).unwrap().trim(), 16).unwrap();
        if size == 0 {
            break;
        }
        body.extend_from_slice(&raw[end + 2..end + 2 + size]);
        raw = &raw[end + 4 + size..];
    }
    body
}

/// The (event, data) pairs of a server-sent event stream, without keep-alive comments.
fn server_sent_events(body: &[u8]) -> Vec<(String, String)> {
    let text = String::from_utf8(body.to_vec()).unwrap();
    let field = |block: &str, name: &str| block.lines().filter_map(|l| l.strip_prefix(name)).collect::<Vec<_>>().join("\n");
    text.split("\n\n").filter(|b| b.contains("data:")).map(|b| (field(b, "event: "), field(b, "data: "))).collect()
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
fn the_rust_client_opens_and_brushes_the_same_chart_over_grpc() {
    use vegalake_proto::client::{Client, Variable};
    let server = Server::start(&[]);
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    runtime.block_on(async {
        let url = format!("grpc://{}", server.address);
        let refused = Client::connect(&url, None).await.unwrap().info().await.unwrap_err();
        assert_eq!(refused.code, tonic::Code::Unauthenticated, "{refused}");
        let mut client = Client::connect(&url, Some(TOKEN)).await.unwrap();
        assert!(!client.info().await.unwrap().version.is_empty());
        let (spec, updates, steps) = crossfilter();
        let mut chart = client.open(&spec, None).await.unwrap();
        // A second view of the chart follows it (another connection, the same token).
        let mut watch = Client::connect(&url, Some(TOKEN)).await.unwrap().watch(&chart).await.unwrap();
        let mut answers = Vec::new();
        let mut current = shipped(&chart.client_spec);
        let mut compared = check(&current, &steps[0], "grpc open");
        for (i, update) in updates.iter().enumerate() {
            let values: Vec<Variable> = serde_json::from_value(update.clone()).unwrap();
            let answer = client.update(&mut chart, values).await.unwrap();
            answers.push(answer.clone());
            for v in answer.values.into_iter().filter(|v| v.namespace == "data") {
                current.insert(v.name, v.value);
            }
            compared += check(&current, &steps[i + 1], &format!("grpc update {i}"));
        }
        assert!(updates.len() >= 20 && compared > updates.len(), "{} updates, {compared} states compared", updates.len());
        let last: Vec<Variable> = serde_json::from_value(updates.last().unwrap().clone()).unwrap();
        let again = client.update(&mut chart, last).await.unwrap();
        assert!(again.cached, "the same brush again is a cache hit");
        answers.push(again);
        for answer in &answers {
            assert_eq!(watch.next().await.unwrap().unwrap(), *answer, "the watcher saw update {} as answered", answer.seq);
        }
        let mut other = Client::connect(&url, Some(OTHER)).await.unwrap();
        let stolen = other.update(&mut chart.clone(), vec![]).await.unwrap_err();
        assert_eq!(stolen.code, tonic::Code::NotFound, "another token's chart: {stolen}");
        assert_eq!(other.watch(&chart).await.err().map(|e| e.code), Some(tonic::Code::NotFound), "another token's chart is not watched");
        client.close(&chart).await.unwrap();
        assert!(watch.next().await.is_none(), "the watch ends when the chart closes");
        let closed = client.update(&mut chart, vec![]).await.unwrap_err();
        assert_eq!(closed.code, tonic::Code::NotFound, "{closed}");
    });
}

#[test]
fn arrow_encoded_datasets_travel_both_ways_and_answer_as_json_does() {
    use vegalake_proto::client::{Client, Variable};
    use vegalake_proto::v1 as pb;
    let server = Server::start(&[]);
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    runtime.block_on(async {
        let url = format!("grpc://{}", server.address);
        let mut client = Client::connect(&url, Some(TOKEN)).await.unwrap();
        let (spec, updates, steps) = crossfilter();
        let mut json_chart = client.open(&spec, None).await.unwrap();
        let mut arrow_chart = client.open(&spec, None).await.unwrap();
        arrow_chart.encoding = pb::Encoding::Arrow;
        let mut watch = client.watch(&arrow_chart).await.unwrap();
        let mut current = shipped(&arrow_chart.client_spec);
        let mut compared = 0;
        for (i, update) in updates.iter().enumerate() {
            // The brush store goes out as Arrow too (the client encodes datasets so).
            let values: Vec<Variable> = serde_json::from_value(update.clone()).unwrap();
            let by_json = client.update(&mut json_chart, values.clone()).await.unwrap();
            let by_arrow = client.update(&mut arrow_chart, values).await.unwrap();
            assert_eq!(by_arrow.values, by_json.values, "update {i}: Arrow and JSON answer the same values");
            assert_eq!(watch.next().await.unwrap().unwrap(), by_arrow, "update {i}: the Arrow watch saw the answer");
            for v in by_arrow.values.into_iter().filter(|v| v.namespace == "data") {
                current.insert(v.name, v.value);
            }
            compared += check(&current, &steps[i + 1], &format!("arrow update {i}"));
        }
        assert!(compared > updates.len(), "{compared} states compared");

        // On the wire, datasets are Arrow IPC and signals JSON; bad Arrow is refused.
        let channel = tonic::transport::Channel::from_shared(format!("http://{}", server.address)).unwrap().connect().await.unwrap();
        let mut raw = pb::vegalake_client::VegalakeClient::new(channel);
        let request = |values: Vec<pb::Value>, seq: u64| {
            let mut r = tonic::Request::new(pb::UpdateRequest { chart_id: arrow_chart.id.clone(), seq, values, encoding: pb::Encoding::Arrow.into() });
            r.metadata_mut().insert("authorization", format!("Bearer {TOKEN}").parse().unwrap());
            r
        };
        let first: Vec<Variable> = serde_json::from_value(updates[0].clone()).unwrap();
        let store = |value: pb::value::Value| pb::Value { namespace: "data".into(), name: first[0].name.clone(), scope: vec![], value: Some(value) };
        let ipc = vegalake_proto::arrow_rows::rows_to_ipc(first[0].value.as_array().unwrap()).unwrap();
        let answer = raw.update(request(vec![store(pb::value::Value::Arrow(ipc.clone()))], 1000)).await.unwrap().into_inner();
        let data: Vec<&pb::Value> = answer.values.iter().filter(|v| v.namespace == "data").collect();
        assert!(!data.is_empty() && data.iter().all(|v| matches!(v.value, Some(pb::value::Value::Arrow(_)))), "{answer:?}");
        let refused = [
            (store(pb::value::Value::Arrow(ipc[..ipc.len() / 2].to_vec())), "Arrow IPC: "),
            (pb::Value { namespace: "signal".into(), name: "s".into(), scope: vec![], value: Some(pb::value::Value::Arrow(ipc)) }, "send a signal as JSON"),
        ];
        for (seq, (value, message)) in (1001..).zip(refused) {
            let status = raw.update(request(vec![value], seq)).await.unwrap_err();
            assert_eq!(status.code(), tonic::Code::InvalidArgument, "{status:?}");
            assert!(status.message().contains(message) && !status.message().contains('\n'), "{status:?}");
        }
        assert!(client.info().await.is_ok(), "the server keeps serving");
    });
}

#[test]
fn sigterm_mid_request_lets_it_finish_refuses_new_ones_and_exits_zero() {
    let mut server = Server::start(&[]);
    let (spec, _, steps) = crossfilter();
    let body = json!({"spec": spec}).to_string();
    // A chart followed over gRPC: its watch stream must end for the server to stop.
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    let mut watch = runtime.block_on(async {
        let mut client = vegalake_proto::client::Client::connect(&format!("grpc://{}", server.address), Some(TOKEN)).await.unwrap();
        let chart = client.open(&spec, None).await.unwrap();
        client.watch(&chart).await.unwrap()
    });
    // A request in flight: its head and half its body sent before SIGTERM.
    let mut in_flight = server.begin("POST", "/v1/charts", &body, body.len() / 2);
    let pid = server.child.id().to_string();
    assert!(Command::new("kill").args(["-TERM", &pid]).status().unwrap().success());
    server.wait_for_stderr("shutting down");
    // Refused, or queued before the listener closed and then reset: never answered.
    let answered = std::net::TcpStream::connect(&server.address).is_ok_and(|mut s| {
        let mut response = String::new();
        let asked = write!(s, "{}", head("GET", "/v1/info", Some(TOKEN), 0));
        asked.is_ok() && s.read_to_string(&mut response).is_ok() && response.starts_with("HTTP/1.1 200")
    });
    assert!(!answered, "a request made after SIGTERM was answered");
    in_flight.write_all(&body.as_bytes()[body.len() / 2..]).unwrap();
    let mut response = String::new();
    in_flight.read_to_string(&mut response).unwrap();
    assert!(response.starts_with("HTTP/1.1 200"), "{response}");
    let opened: Json = serde_json::from_str(response.split_once("\r\n\r\n").unwrap().1).unwrap();
    assert!(check(&shipped(&opened["client_spec"]), &steps[0], "in flight at SIGTERM") > 0);
    assert!(runtime.block_on(watch.next()).is_none(), "the watch stream ended with the server");
    let exit = server.child.wait().unwrap();
    assert_eq!(exit.code(), Some(0), "{exit:?}");
}

#[test]
fn a_client_gone_mid_query_leaves_the_server_serving_others() {
    let server = Server::start(&[]);
    let (spec, _, _) = crossfilter();
    let body = json!({"spec": spec}).to_string();
    for _ in 0..4 {
        let stream = server.begin("POST", "/v1/charts", &body, body.len());
        stream.shutdown(std::net::Shutdown::Both).unwrap();
    }
    let (status, opened) = server.http("POST", "/v1/charts", Some(TOKEN), Some(&body));
    assert_eq!(status, 200, "{opened}");
}

#[test]
fn specs_read_nothing_outside_the_roots_however_they_name_it() {
    let dir = std::env::temp_dir().join(format!("vegalake-serve-roots-{}", std::process::id()));
    let root = dir.join("root");
    std::fs::create_dir_all(&root).unwrap();
    std::fs::write(dir.join("secret.csv"), "a\n1\n").unwrap();
    std::fs::write(root.join("shown.csv"), "a\n2\n").unwrap();
    let _ = std::fs::remove_file(root.join("escape.csv"));
    std::os::unix::fs::symlink(dir.join("secret.csv"), root.join("escape.csv")).unwrap();
    let server = Server::start(&["--data-dir", root.to_str().unwrap()]);
    let pretransform = |url: &str| {
        let spec = json!({"data": [{"name": "t", "url": url, "format": {"type": "csv"}}], "marks": [{"type": "text", "from": {"data": "t"}, "encode": {"update": {"text": {"field": "a"}}}}]});
        server.http("POST", "/v1/pretransform", Some(TOKEN), Some(&json!({"spec": spec.to_string()}).to_string()))
    };
    let (status, body) = pretransform("shown.csv");
    assert_eq!((status, &body["spec"]["data"][0]["values"]), (200, &json!([{"a": "2"}])), "{body}");
    let secret = dir.join("secret.csv");
    let outside =
        ["escape.csv", "../secret.csv", secret.to_str().unwrap(), &format!("file://{}", secret.display()), "https://example.com/t.csv", "s3://bucket/t.csv"];
    for url in outside {
        let (status, body) = pretransform(url);
        assert_eq!(status, 403, "{url}: {body}");
        assert!(!body.to_string().contains("\"a\":\"1\""), "{url}: the secret was read: {body}");
    }
    std::fs::remove_dir_all(&dir).ok();
}

/// A certificate authority of the test's own (`ca.pem`) and the server's
/// certificate for 127.0.0.1 it signed, with its key: (ca, cert, key), by openssl.
fn certificates(dir: &std::path::Path) -> (PathBuf, PathBuf, PathBuf) {
    let file = |name: &str| dir.join(name).to_str().unwrap().to_string();
    let openssl = |args: &[&str]| {
        let made = Command::new("openssl").args(args).output().unwrap();
        assert!(made.status.success(), "openssl {args:?}: {}", String::from_utf8_lossy(&made.stderr));
    };
    let ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"];
    openssl(&[&["req", "-x509"][..], &ec, &["-days", "2", "-subj", "/CN=vegalake-test-ca", "-keyout", &file("ca.key"), "-out", &file("ca.pem")]].concat());
    openssl(&[&["req"][..], &ec, &["-subj", "/CN=127.0.0.1", "-keyout", &file("key.pem"), "-out", &file("server.csr")]].concat());
    std::fs::write(dir.join("server.ext"), "basicConstraints=critical,CA:FALSE\nsubjectAltName=IP:127.0.0.1\n").unwrap();
    openssl(
        &["x509", "-req", "-in", &file("server.csr"), "-CA", &file("ca.pem"), "-CAkey", &file("ca.key"), "-CAcreateserial", "-days", "2"]
            .into_iter()
            .chain(["-extfile", &file("server.ext"), "-out", &file("cert.pem")])
            .collect::<Vec<_>>(),
    );
    (dir.join("ca.pem"), dir.join("cert.pem"), dir.join("key.pem"))
}

#[test]
fn off_loopback_the_port_speaks_tls_to_grpc_and_http_clients() {
    use vegalake_proto::client::Client;
    let dir = std::env::temp_dir().join(format!("vegalake-serve-tls-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let (ca, cert, key) = certificates(&dir);
    let server = Server::start_at("0.0.0.0:0", &["--tls-cert", cert.to_str().unwrap(), "--tls-key", key.to_str().unwrap()]);
    let port = server.address.rsplit(':').next().unwrap().to_string();
    let url = format!("grpcs://127.0.0.1:{port}");
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    runtime.block_on(async {
        let mut client = Client::connect_trusting(&url, Some(TOKEN), Some(&std::fs::read(&ca).unwrap())).await.unwrap();
        assert!(!client.info().await.unwrap().version.is_empty());
        let spec = json!({"data": [{"name": "t", "values": [{"a": 2}, {"a": 3}], "transform": [{"type": "aggregate", "ops": ["sum"], "fields": ["a"]}]}],
            "marks": [{"type": "text", "from": {"data": "t"}, "encode": {"update": {"text": {"field": "sum_a"}}}}]});
        let (client_spec, _) = client.pre_transform(&spec, None).await.unwrap();
        assert_eq!(client_spec["data"][0]["values"], json!([{"sum_a": 5}]), "{client_spec}");
        // The authority is nobody's the system trusts: without it, no answer.
        let untrusted = match Client::connect(&url, Some(TOKEN)).await {
            Ok(mut c) => c.info().await.map(|_| ()),
            Err(e) => Err(e),
        };
        assert!(untrusted.is_err(), "a self-signed certificate was trusted");
    });
    let https = |token: &str| {
        let out = Command::new("curl")
            .args(["-sS", "--cacert", ca.to_str().unwrap(), "-H", &format!("Authorization: Bearer {token}"), "-w", "\n%{http_code}"])
            .arg(format!("https://127.0.0.1:{port}/v1/info"))
            .output()
            .unwrap();
        String::from_utf8_lossy(&out.stdout).to_string()
    };
    let answer = https(TOKEN);
    assert!(answer.ends_with("\n200") && answer.contains("\"max_request_bytes\""), "{answer}");
    assert!(https("wrong-token-0123456789").ends_with("\n401"));
    // Plain HTTP to the TLS port is not served.
    let (status, _) = server.http("GET", "/v1/info", Some(TOKEN), None);
    assert_eq!(status, 0, "plain text answered on the TLS port");
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn serving_needs_tokens_and_loopback() {
    let run = |args: &[&str]| Command::new(env!("CARGO_BIN_EXE_vegalake")).arg("serve").args(args).output().unwrap();
    let out = run(&["--bind", "127.0.0.1:0"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("--token-file: the server needs tokens"));
    let out = run(&["--bind", "0.0.0.0:0", "--token-file", "/dev/null"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("not a loopback address; serving it needs --tls-cert"));
    let out = run(&["--bind", "127.0.0.1:0", "--insecure", "--tls-cert", "/nonexistent/cert.pem", "--tls-key", "/nonexistent/key.pem"]);
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("/nonexistent/cert.pem") && stderr.lines().count() == 1, "{stderr}");
}
