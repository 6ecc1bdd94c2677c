//! Dashboards: each Vega or Vega-Lite spec in a folder served as a page at
//! `/d/NAME`, drawn by the browser client (bundled into the binary: no CDN) and
//! kept live through the HTTP API; an index at `/`. Pages take the token as
//! `?token=` (a browser's address bar cannot send a header) and the API calls they
//! make send it as a bearer token.

use crate::error::{Kind, ServeError};
use crate::service::Service;
use axum::extract::{Path as UrlPath, Query, State};
use axum::http::{header, HeaderMap};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json as Body, Router};
use serde::Deserialize;
use std::path::PathBuf;
use std::sync::Arc;

const BUNDLE: &[u8] = include_bytes!(env!("VEGALAKE_CLIENT_BUNDLE"));

/// A folder of dashboard specs.
#[derive(Clone)]
pub struct Dashboards {
    dir: PathBuf,
}

impl Dashboards {
    pub fn new(dir: PathBuf) -> Result<Self, String> {
        if !dir.is_dir() {
            return Err(format!("{}: not a directory", dir.display()));
        }
        Ok(Dashboards { dir })
    }

    /// The dashboards by name (a file's name up to its first dot), sorted.
    fn list(&self) -> Vec<(String, PathBuf)> {
        let mut out: Vec<(String, PathBuf)> = std::fs::read_dir(&self.dir)
            .into_iter()
            .flatten()
            .flatten()
            .filter_map(|e| {
                let name = e.file_name().to_str()?.to_string();
                let stem = name.split('.').next()?.to_string();
                let valid = name.ends_with(".json") && !stem.is_empty() && stem.chars().all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-');
                valid.then(|| (stem, e.path()))
            })
            .collect();
        out.sort();
        out
    }

    /// The spec of a listed dashboard (a name is looked up, never joined to a path).
    fn spec(&self, name: &str) -> Result<String, ServeError> {
        let path: Option<PathBuf> = self.list().into_iter().find(|(n, _)| n == name).map(|(_, p)| p);
        let path = path.ok_or_else(|| ServeError::new(Kind::NotFound, format!("no dashboard '{name}'")))?;
        std::fs::read_to_string(&path).map_err(|e| ServeError::new(Kind::Internal, format!("dashboard '{name}': {e}")))
    }
}

#[derive(Deserialize)]
struct TokenQuery {
    #[serde(default)]
    token: Option<String>,
}

/// The caller of a page request: the bearer header, or `?token=`.
fn page_caller(s: &Service, headers: &HeaderMap, query: &TokenQuery) -> Result<(), ServeError> {
    let header = headers.get(header::AUTHORIZATION).and_then(|v| v.to_str().ok()).map(str::to_string);
    let bearer = header.or_else(|| query.token.as_ref().map(|t| format!("Bearer {t}")));
    s.check(bearer.as_deref()).map(|_| ())
}

fn escape(text: &str) -> String {
    text.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;")
}

type Shared = (Arc<Service>, Dashboards);

async fn index(State((s, d)): State<Shared>, headers: HeaderMap, Query(q): Query<TokenQuery>) -> Result<Html<String>, ServeError> {
    page_caller(&s, &headers, &q)?;
    let token = q.token.map(|t| format!("?token={}", escape(&t))).unwrap_or_default();
    let items: String = d.list().iter().map(|(n, _)| format!("<li><a href=\"/d/{0}{token}\">{0}</a></li>", escape(n))).collect();
    Ok(Html(format!(
        "<!doctype html><html><head><meta charset=\"utf-8\"><title>vegalake dashboards</title></head><body><h1>Dashboards</h1><ul>{items}</ul></body></html>"
    )))
}

async fn page(
    State((s, d)): State<Shared>,
    headers: HeaderMap,
    Query(q): Query<TokenQuery>,
    UrlPath(name): UrlPath<String>,
) -> Result<Html<String>, ServeError> {
    page_caller(&s, &headers, &q)?;
    d.spec(&name)?;
    let name = escape(&name);
    Ok(Html(format!(
        r#"<!doctype html><html><head><meta charset="utf-8"><title>{name}</title></head>
<body><h1>{name}</h1><div id="chart"></div>
<script type="module">
const token = new URLSearchParams(location.search).get("token") || "";
const client = await import(`/static/vegalake-client.js?token=${{encodeURIComponent(token)}}`);
const headers = {{"content-type": "application/json", authorization: `Bearer ${{token}}`}};
const el = document.getElementById("chart");
const opened = await fetch("/v1/dashboards/{name}", {{method: "POST", headers}});
const chart = await opened.json();
if (!opened.ok) {{ client.showError(el, chart.error); throw new Error(chart.error); }}
let deliver = null;
const transport = {{
  onMessage: (handler) => {{ deliver = handler; }},
  send: async (message) => {{
    const r = await fetch(`/v1/charts/${{chart.chart_id}}/update`, {{method: "POST", headers, body: JSON.stringify({{seq: message.seq, values: message.changes}})}});
    const body = await r.json();
    await deliver(r.ok ? {{type: "update", seq: message.seq, changes: body.values}} : {{type: "error", seq: message.seq, message: body.error}}, []);
  }},
}};
window.chart = await client.render(el, {{spec: chart.client_spec, plan: chart.comm_plan, transport, embedOptions: {{renderer: "svg"}}}});
</script></body></html>"#
    )))
}

async fn bundle(State((s, _)): State<Shared>, headers: HeaderMap, Query(q): Query<TokenQuery>) -> Result<Response, ServeError> {
    page_caller(&s, &headers, &q)?;
    Ok(([(header::CONTENT_TYPE, "text/javascript")], BUNDLE).into_response())
}

/// Opens the chart of a dashboard for the caller (the spec is the server's, not
/// the browser's).
async fn open(State((s, d)): State<Shared>, headers: HeaderMap, UrlPath(name): UrlPath<String>) -> Result<Body<serde_json::Value>, ServeError> {
    let caller = s.check(headers.get(header::AUTHORIZATION).and_then(|v| v.to_str().ok()))?;
    let spec = d.spec(&name)?;
    let opened = s.open(caller, &spec, "UTC").await?;
    Ok(Body(serde_json::to_value(opened).unwrap_or_default()))
}

pub fn routes(service: Arc<Service>, dashboards: Dashboards) -> Router {
    Router::new()
        .route("/", get(index))
        .route("/d/{name}", get(page))
        .route("/static/vegalake-client.js", get(bundle))
        .route("/v1/dashboards/{name}", post(open))
        .with_state((service, dashboards))
}
