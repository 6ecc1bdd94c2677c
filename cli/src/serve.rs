//! `vegalake serve`: the runtime as a service on one port (gRPC and HTTP JSON).

use crate::{spec, DataArgs, EngineArgs, Failure};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;
use vegalake_serve::{Dashboards, Limits, ServeOptions, Service, Tls, Tokens};

#[derive(clap::Args)]
pub struct ServeArgs {
    /// Address to listen on (port 0 picks a free port). Prints "listening on
    /// ADDRESS" when ready.
    #[arg(long, default_value = "127.0.0.1:8080")]
    bind: SocketAddr,
    /// Bearer tokens, one per line (or `blake3:HEX`, a token's hash): every
    /// request needs one, and a chart belongs to the token that opened it.
    #[arg(long, value_name = "FILE")]
    token_file: Option<PathBuf>,
    /// No tokens, and a non-loopback address without TLS: a trusted network only.
    #[arg(long)]
    insecure: bool,
    /// The server's certificate chain (PEM): the port speaks TLS (needed off
    /// loopback). With --tls-key.
    #[arg(long, value_name = "FILE", requires = "tls_key")]
    tls_cert: Option<PathBuf>,
    /// The certificate's private key (PEM).
    #[arg(long, value_name = "FILE", requires = "tls_cert")]
    tls_key: Option<PathBuf>,
    /// Serve each Vega or Vega-Lite spec (NAME.json) of DIR as a page at /d/NAME
    /// (and an index at /), drawn by the bundled browser client.
    #[arg(long, value_name = "DIR")]
    dashboards: Option<PathBuf>,
    /// An origin whose pages may call the HTTP API (repeatable; never `*`).
    #[arg(long = "cors-origin", value_name = "ORIGIN")]
    cors_origins: Vec<String>,
    /// The largest request body or message, in bytes.
    #[arg(long, default_value_t = 4 << 20)]
    max_request_bytes: usize,
    /// Rows per dataset in an answer (more are cut, with a warning).
    #[arg(long, default_value_t = 100_000)]
    max_rows: usize,
    /// Seconds an evaluation may run before it is cancelled on the engine.
    #[arg(long, default_value_t = 60.0)]
    request_timeout: f64,
    /// Evaluations at once; more are refused with RESOURCE_EXHAUSTED / 429.
    #[arg(long)]
    max_concurrent: Option<usize>,
    /// Charts one token may hold open.
    #[arg(long, default_value_t = 32)]
    max_charts_per_token: usize,
    /// Seconds after which an unused chart is closed.
    #[arg(long, default_value_t = 1800.0)]
    idle_timeout: f64,
    #[command(flatten)]
    pub data: DataArgs,
    #[command(flatten)]
    engine: EngineArgs,
}

fn seconds(what: &str, s: f64) -> Result<Duration, Failure> {
    if s.is_finite() && s > 0.0 {
        Ok(Duration::from_secs_f64(s))
    } else {
        Err(Failure(format!("--{what}: {s} is not a positive number of seconds")))
    }
}

impl ServeArgs {
    fn tokens(&self) -> Result<Tokens, Failure> {
        match (&self.token_file, self.insecure) {
            (Some(file), _) => {
                let text = std::fs::read_to_string(file).map_err(|e| Failure(format!("--token-file {}: {e}", file.display())))?;
                Tokens::parse(&text).map_err(|e| Failure(format!("--token-file {}: {e}", file.display())))
            }
            (None, true) => Ok(Tokens::open()),
            (None, false) => Err(Failure("--token-file: the server needs tokens (or --insecure, for a trusted network only)".into())),
        }
    }

    fn limits(&self) -> Result<Limits, Failure> {
        let defaults = Limits::default();
        Ok(Limits {
            max_request_bytes: self.max_request_bytes,
            max_response_bytes: defaults.max_response_bytes,
            max_rows: self.max_rows,
            request_timeout: seconds("request-timeout", self.request_timeout)?,
            max_concurrent: self.max_concurrent.unwrap_or(defaults.max_concurrent).max(1),
            max_charts_per_token: self.max_charts_per_token,
            idle_timeout: seconds("idle-timeout", self.idle_timeout)?,
            memory_limit: self.engine.memory_limit,
        })
    }

    /// TLS when a certificate is given; off loopback, it is needed (or --insecure).
    fn tls(&self) -> Result<Option<Tls>, Failure> {
        let tls = match (&self.tls_cert, &self.tls_key) {
            (Some(cert), Some(key)) => Some(Tls::from_pem_files(cert, key).map_err(|e| Failure(format!("--tls-cert/--tls-key: {e}")))?),
            _ => None,
        };
        if tls.is_none() && !self.bind.ip().is_loopback() && !self.insecure {
            return Err(Failure(format!("--bind {}: not a loopback address; serving it needs --tls-cert and --tls-key (or --insecure)", self.bind)));
        }
        Ok(tls)
    }
}

/// Vega-Lite compiled by the binary's embedded compiler.
fn compile(json: serde_json::Value) -> Result<serde_json::Value, String> {
    spec::to_vega(json, "spec").map_err(|Failure(m)| m)
}

pub async fn run(args: &ServeArgs) -> Result<(), Failure> {
    let tls = args.tls()?;
    let tokens = args.tokens()?;
    let (_, data) = args.data.access(Path::new("./serve"))?;
    let options = ServeOptions {
        runtime: args.engine.runtime().await?,
        engine: args.engine.engine.clone(),
        data,
        tokens,
        limits: args.limits()?,
        compile: Arc::new(compile),
    };
    let dashboards = args.dashboards.clone().map(Dashboards::new).transpose().map_err(|e| Failure(format!("--dashboards: {e}")))?;
    let listener = tokio::net::TcpListener::bind(args.bind).await.map_err(|e| Failure(format!("--bind {}: {e}", args.bind)))?;
    let address = listener.local_addr().map_err(|e| Failure(e.to_string()))?;
    crate::announce(address);
    let closed = || eprintln!("vegalake: shutting down: requests in flight finish, new ones are refused");
    vegalake_serve::serve(listener, Arc::new(Service::new(options)), &args.cors_origins, dashboards, tls, shutdown_signal(), closed)
        .await
        .map_err(|e| Failure(format!("serve: {e}")))
}

/// SIGTERM or Ctrl-C: stop accepting, let requests in flight finish, exit 0.
async fn shutdown_signal() {
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    tokio::select! {
        _ = terminate => {}
        _ = tokio::signal::ctrl_c() => {}
    }
}
