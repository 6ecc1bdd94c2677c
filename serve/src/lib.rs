//! `vegalake serve`: the runtime as a service, gRPC (`vegalake.v1`, see
//! `proto/`) for programs and an HTTP JSON API for browsers and scripts, on one
//! port. Charts are held on the server per bearer token ([`auth`]); every
//! request runs under the server's [`Limits`] (request size, evaluation time,
//! concurrent evaluations, charts per token, idle charts closed). A folder of
//! specs can be served as [`Dashboards`] drawn by the browser client. Off
//! loopback, the port speaks [`Tls`].

pub mod auth;
mod dashboards;
pub mod error;
mod grpc;
mod http;
pub mod service;
mod tls;

pub use auth::Tokens;
pub use dashboards::Dashboards;
pub use error::{Kind, ServeError};
pub use service::{Compile, Limits, ServeOptions, Service};
pub use tls::Tls;

use std::future::Future;
use std::sync::Arc;
use tower_http::cors::{AllowOrigin, CorsLayer};
use vegalake_proto::v1::vegalake_server::VegalakeServer;

/// The router serving both protocols.
pub fn router(service: Arc<Service>, cors_origins: &[String], dashboards: Option<Dashboards>) -> axum::Router {
    let limits = service.options.limits.clone();
    let grpc = VegalakeServer::new(grpc::Grpc(service.clone()))
        .max_decoding_message_size(limits.max_request_bytes)
        .max_encoding_message_size(limits.max_response_bytes);
    let grpc = tonic::service::Routes::new(grpc).into_axum_router();
    let mut app = grpc.merge(http::routes(service.clone()));
    if let Some(d) = dashboards {
        app = app.merge(dashboards::routes(service, d));
    }
    let mut app = app.layer(axum::extract::DefaultBodyLimit::max(limits.max_request_bytes));
    // Browsers of the origins named may call the API; no other (never `*`).
    if !cors_origins.is_empty() {
        let origins: Vec<axum::http::HeaderValue> = cors_origins.iter().filter_map(|o| o.parse().ok()).collect();
        let cors = CorsLayer::new()
            .allow_origin(AllowOrigin::list(origins))
            .allow_methods([axum::http::Method::GET, axum::http::Method::POST, axum::http::Method::DELETE])
            .allow_headers([axum::http::header::AUTHORIZATION, axum::http::header::CONTENT_TYPE]);
        app = app.layer(cors);
    }
    app
}

/// Serves on `listener` (over `tls` when given) until `shutdown` resolves: then
/// no new connection is accepted (`closed` runs once the listener is closed) and
/// requests in flight finish. Idle charts are closed as they expire.
pub async fn serve(
    listener: tokio::net::TcpListener,
    service: Arc<Service>,
    cors_origins: &[String],
    dashboards: Option<Dashboards>,
    tls: Option<Tls>,
    shutdown: impl Future<Output = ()> + Send + 'static,
    closed: impl FnOnce(),
) -> std::io::Result<()> {
    let reaper = {
        let service = service.clone();
        let every = (service.options.limits.idle_timeout / 4).max(std::time::Duration::from_secs(1));
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(every);
            loop {
                tick.tick().await;
                service.reap();
            }
        })
    };
    let app = router(service.clone(), cors_origins, dashboards);
    let shutdown = async move {
        shutdown.await;
        service.stop_watches();
    };
    let served = tls::serve(listener, app, tls, shutdown, closed).await;
    reaper.abort();
    served
}
