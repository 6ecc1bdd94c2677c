//! The HTTP JSON API for browsers and scripts (`/v1/...`), same operations and
//! errors as gRPC: `{"error": message}` with the status of its kind.

use crate::error::{Kind, ServeError};
use crate::service::Service;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json as Body, Router};
use serde::Deserialize;
use serde_json::{json, Value as Json};
use std::sync::Arc;
use vegalake_executors::VarValue;

impl IntoResponse for ServeError {
    fn into_response(self) -> Response {
        (self.http_status(), Body(json!({"error": self.message}))).into_response()
    }
}

fn authorization(headers: &HeaderMap) -> Option<&str> {
    headers.get(axum::http::header::AUTHORIZATION).and_then(|v| v.to_str().ok())
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct SpecRequest {
    /// The spec, as JSON (an object) or as JSON text.
    spec: Json,
    #[serde(default)]
    timezone: String,
}

impl SpecRequest {
    fn text(&self) -> String {
        match &self.spec {
            Json::String(s) => s.clone(),
            other => other.to_string(),
        }
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct UpdateRequest {
    #[serde(default)]
    seq: u64,
    values: Vec<VarValue>,
}

/// A JSON body, or the error axum found in it as a 400 in our shape (a body over
/// the size limit is axum's 413).
fn body<T>(parsed: Result<Body<T>, axum::extract::rejection::JsonRejection>) -> Result<T, ServeError> {
    parsed.map(|Body(t)| t).map_err(|e| match e.status() {
        StatusCode::PAYLOAD_TOO_LARGE => ServeError::new(Kind::TooLarge, "the request is over the server's size limit"),
        _ => ServeError::new(Kind::InvalidArgument, format!("request: {}", e.body_text())),
    })
}

async fn info(State(s): State<Arc<Service>>, headers: HeaderMap) -> Result<Body<Json>, ServeError> {
    s.check(authorization(&headers))?;
    Ok(Body(s.info()))
}

async fn pre_transform(
    State(s): State<Arc<Service>>,
    headers: HeaderMap,
    req: Result<Body<SpecRequest>, axum::extract::rejection::JsonRejection>,
) -> Result<Body<Json>, ServeError> {
    let caller = s.check(authorization(&headers))?;
    let req = body(req)?;
    let (spec, warnings) = s.pre_transform(caller, &req.text(), &req.timezone).await?;
    Ok(Body(json!({"spec": spec, "warnings": warnings})))
}

async fn open(
    State(s): State<Arc<Service>>,
    headers: HeaderMap,
    req: Result<Body<SpecRequest>, axum::extract::rejection::JsonRejection>,
) -> Result<Body<Json>, ServeError> {
    let caller = s.check(authorization(&headers))?;
    let req = body(req)?;
    let opened = s.open(caller, &req.text(), &req.timezone).await?;
    Ok(Body(serde_json::to_value(opened).unwrap_or_default()))
}

async fn update(
    State(s): State<Arc<Service>>,
    headers: HeaderMap,
    Path(id): Path<String>,
    req: Result<Body<UpdateRequest>, axum::extract::rejection::JsonRejection>,
) -> Result<Body<Json>, ServeError> {
    let caller = s.check(authorization(&headers))?;
    let req = body(req)?;
    let updated = s.update(caller, &id, req.seq, req.values).await?;
    Ok(Body(serde_json::to_value(updated).unwrap_or_default()))
}

/// Follows a chart as server-sent events: one `update` event per update applied
/// (its answer as JSON, the shape `update` returns), and a last `error` event if
/// the watcher fell behind; the stream ends when the chart closes or the server
/// stops. Browsers read it with `fetch` (an `EventSource` cannot send the token).
async fn watch(State(s): State<Arc<Service>>, headers: HeaderMap, Path(id): Path<String>) -> Result<Response, ServeError> {
    use axum::response::sse::{Event, KeepAlive, Sse};
    use futures::StreamExt;
    let caller = s.check(authorization(&headers))?;
    let answers = s.watch(caller, &id)?;
    let error = |message: String| Event::default().event("error").data(json!({"error": message}).to_string());
    let events = answers.map(move |answer| {
        let event = match answer {
            Ok(updated) => Event::default().event("update").json_data(&*updated).unwrap_or_else(|e| error(e.to_string())),
            Err(e) => error(e.message),
        };
        Ok::<_, std::convert::Infallible>(event)
    });
    Ok(Sse::new(events).keep_alive(KeepAlive::default()).into_response())
}

async fn close(State(s): State<Arc<Service>>, headers: HeaderMap, Path(id): Path<String>) -> Result<StatusCode, ServeError> {
    let caller = s.check(authorization(&headers))?;
    s.close(caller, &id)?;
    Ok(StatusCode::NO_CONTENT)
}

/// The `/v1` routes.
pub fn routes(service: Arc<Service>) -> Router {
    Router::new()
        .route("/v1/info", get(info))
        .route("/v1/pretransform", post(pre_transform))
        .route("/v1/charts", post(open))
        .route("/v1/charts/{id}/update", post(update))
        .route("/v1/charts/{id}/watch", get(watch))
        .route("/v1/charts/{id}", axum::routing::delete(close))
        .with_state(service)
}
