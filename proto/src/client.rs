//! The Rust client of `vegalake serve`: the gRPC service behind plain methods,
//! with the bearer token sent on every call, specs and values as JSON (datasets
//! as Arrow IPC on the wire when a chart asks: [`Chart::encoding`]), and each
//! failure a [`ClientError`] holding the server's status and one-line message.
//!
//! ```no_run
//! # async fn example() -> Result<(), vegalake_proto::client::ClientError> {
//! use vegalake_proto::client::{Client, Variable};
//! let mut client = Client::connect("grpc://127.0.0.1:8080", Some("my-token")).await?;
//! let spec = serde_json::json!({"data": [{"name": "t", "values": [{"a": 1}]}]});
//! let mut chart = client.open(&spec, None).await?;
//! let brush = Variable::data("brush_store", serde_json::json!([]));
//! let changed = client.update(&mut chart, vec![brush]).await?;
//! println!("{} values changed", changed.values.len());
//! client.close(&chart).await?;
//! # Ok(())
//! # }
//! ```

use crate::v1 as pb;
use serde::{Deserialize, Serialize};
use serde_json::Value as Json;
use tonic::metadata::{Ascii, MetadataValue};
use tonic::transport::Channel;

/// A failed call: the gRPC status code and the server's one-line message.
#[derive(Debug, Clone, thiserror::Error)]
#[error("{code:?}: {message}")]
pub struct ClientError {
    pub code: tonic::Code,
    pub message: String,
}

impl ClientError {
    fn local(message: impl Into<String>) -> ClientError {
        ClientError { code: tonic::Code::InvalidArgument, message: message.into() }
    }
}

impl From<tonic::Status> for ClientError {
    fn from(s: tonic::Status) -> Self {
        ClientError { code: s.code(), message: s.message().to_string() }
    }
}

/// A signal or dataset of a chart, in a group scope: what an update sends and
/// answers (`vegalake replay`'s and `ChartState.update`'s shape).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Variable {
    /// `"signal"` or `"data"`.
    pub namespace: String,
    pub name: String,
    #[serde(default)]
    pub scope: Vec<u32>,
    pub value: Json,
}

impl Variable {
    pub fn signal(name: &str, value: Json) -> Variable {
        Variable { namespace: "signal".into(), name: name.into(), scope: vec![], value }
    }

    pub fn data(name: &str, value: Json) -> Variable {
        Variable { namespace: "data".into(), name: name.into(), scope: vec![], value }
    }

    fn to_wire(&self, encoding: pb::Encoding) -> pb::Value {
        pb::Value::encode(&self.namespace, self.name.clone(), self.scope.clone(), &self.value, encoding)
    }

    fn from_wire(v: pb::Value) -> Result<Variable, ClientError> {
        let value = v.to_json(usize::MAX).map_err(|e| ClientError { code: tonic::Code::Internal, message: format!("the server's value {}: {e}", v.name) })?;
        Ok(Variable { namespace: v.namespace, name: v.name, scope: v.scope, value })
    }
}

/// A chart opened on the server.
#[derive(Debug, Clone)]
pub struct Chart {
    pub id: String,
    /// The client spec, the server's values inlined.
    pub client_spec: Json,
    /// `{server_to_client, client_to_server}`: which variables travel.
    pub comm_plan: Json,
    pub warnings: Vec<String>,
    /// The sequence number of the last update sent.
    pub seq: u64,
    /// How datasets travel in this chart's updates and watches: JSON (the
    /// default) or Arrow IPC (typed columns for programs; the same values come
    /// back either way). Arrow's schema and alignment cost more than they save
    /// on small datasets: 2.6 KB against JSON's 1.7 KB a crossfilter brush
    /// answer of three ~20-row histograms (`scripts/bench.sh serve`).
    pub encoding: pb::Encoding,
}

/// An update's answer.
#[derive(Debug, Clone, PartialEq)]
pub struct Updated {
    pub seq: u64,
    /// The server variables that changed.
    pub values: Vec<Variable>,
    /// Nothing was computed: every value came from the server's cache.
    pub cached: bool,
}

/// The updates applied to a chart, as they are applied ([`Client::watch`]).
pub struct Watch(tonic::Streaming<pb::UpdateResponse>);

impl Watch {
    /// The next update's answer; `None` once the chart closed or the server stopped.
    pub async fn next(&mut self) -> Option<Result<Updated, ClientError>> {
        match self.0.message().await {
            Ok(Some(answer)) => Some(Updated::from_wire(answer)),
            Ok(None) => None,
            Err(status) => Some(Err(status.into())),
        }
    }
}

impl Updated {
    fn from_wire(answer: pb::UpdateResponse) -> Result<Updated, ClientError> {
        let values = answer.values.into_iter().map(Variable::from_wire).collect::<Result<_, _>>()?;
        Ok(Updated { seq: answer.seq, values, cached: answer.cached })
    }
}

/// A connection to a server.
#[derive(Clone)]
pub struct Client {
    inner: pb::vegalake_client::VegalakeClient<Channel>,
    token: Option<MetadataValue<Ascii>>,
}

impl Client {
    /// Connects to `url`: `grpc://HOST:PORT` (or `http://`), or over TLS
    /// `grpcs://HOST:PORT` (or `https://`) trusting the system's certificate
    /// authorities; `token` is sent as the bearer token of every call.
    pub async fn connect(url: &str, token: Option<&str>) -> Result<Client, ClientError> {
        Client::connect_trusting(url, token, None).await
    }

    /// As [`Client::connect`], over TLS trusting also the certificate authority
    /// `ca_pem` (PEM): a server with a private or self-signed certificate.
    pub async fn connect_trusting(url: &str, token: Option<&str>, ca_pem: Option<&[u8]>) -> Result<Client, ClientError> {
        let (secure, address) = match url.split_once("://") {
            Some(("grpc" | "http", rest)) => (false, rest),
            Some(("grpcs" | "https", rest)) => (true, rest),
            Some((scheme, _)) => return Err(ClientError::local(format!("{url}: scheme {scheme}:// (grpc://, grpcs://, http:// or https://)"))),
            None => (false, url),
        };
        let token = token.map(|t| format!("Bearer {t}").parse().map_err(|_| ClientError::local("token: not printable ASCII"))).transpose()?;
        let scheme = if secure { "https" } else { "http" };
        let mut endpoint = Channel::from_shared(format!("{scheme}://{address}")).map_err(|e| ClientError::local(format!("{url}: {e}")))?;
        if secure {
            let mut tls = tonic::transport::ClientTlsConfig::new().with_native_roots();
            if let Some(ca) = ca_pem {
                tls = tls.ca_certificate(tonic::transport::Certificate::from_pem(ca));
            }
            endpoint = endpoint.tls_config(tls).map_err(|e| ClientError::local(format!("{url}: {e}")))?;
        }
        let channel =
            endpoint.connect().await.map_err(|e| ClientError { code: tonic::Code::Unavailable, message: format!("{url}: cannot connect: {}", chain(&e)) })?;
        let inner = pb::vegalake_client::VegalakeClient::new(channel).max_decoding_message_size(usize::MAX);
        Ok(Client { inner, token })
    }

    fn request<T>(&self, message: T) -> tonic::Request<T> {
        let mut request = tonic::Request::new(message);
        if let Some(token) = &self.token {
            request.metadata_mut().insert("authorization", token.clone());
        }
        request
    }

    /// The server's version, engine, limits and readable data.
    pub async fn info(&mut self) -> Result<pb::InfoResponse, ClientError> {
        Ok(self.inner.info(self.request(pb::InfoRequest {})).await?.into_inner())
    }

    /// The client spec of `spec` (Vega or Vega-Lite) with the server's results
    /// inlined, and the warnings.
    pub async fn pre_transform(&mut self, spec: &Json, timezone: Option<&str>) -> Result<(Json, Vec<String>), ClientError> {
        let request = pb::PreTransformRequest { spec: spec.to_string(), timezone: timezone.unwrap_or_default().into() };
        let answer = self.inner.pre_transform(self.request(request)).await?.into_inner();
        Ok((parse(&answer.spec, "spec")?, answer.warnings))
    }

    /// Opens `spec` as a chart held by the server for this token.
    pub async fn open(&mut self, spec: &Json, timezone: Option<&str>) -> Result<Chart, ClientError> {
        let request = pb::OpenChartRequest { spec: spec.to_string(), timezone: timezone.unwrap_or_default().into() };
        let o = self.inner.open_chart(self.request(request)).await?.into_inner();
        Ok(Chart {
            id: o.chart_id,
            client_spec: parse(&o.client_spec, "client spec")?,
            comm_plan: parse(&o.comm_plan, "comm plan")?,
            warnings: o.warnings,
            seq: 0,
            encoding: pb::Encoding::Json,
        })
    }

    /// Sends the client's changed values (the next sequence number of `chart`);
    /// answers the server values that changed.
    pub async fn update(&mut self, chart: &mut Chart, values: Vec<Variable>) -> Result<Updated, ClientError> {
        chart.seq += 1;
        let values = values.iter().map(|v| v.to_wire(chart.encoding)).collect();
        let request = pb::UpdateRequest { chart_id: chart.id.clone(), seq: chart.seq, values, encoding: chart.encoding.into() };
        Updated::from_wire(self.inner.update(self.request(request)).await?.into_inner())
    }

    /// Follows `chart`: the answer of each update applied to it from now on (by
    /// this client or another of the token), until it closes.
    pub async fn watch(&mut self, chart: &Chart) -> Result<Watch, ClientError> {
        let request = pb::WatchRequest { chart_id: chart.id.clone(), encoding: chart.encoding.into() };
        let answers = self.inner.watch(self.request(request)).await?.into_inner();
        Ok(Watch(answers))
    }

    /// Closes the chart on the server.
    pub async fn close(&mut self, chart: &Chart) -> Result<(), ClientError> {
        self.inner.close_chart(self.request(pb::CloseChartRequest { chart_id: chart.id.clone() })).await?;
        Ok(())
    }
}

fn parse(text: &str, what: &str) -> Result<Json, ClientError> {
    serde_json::from_str(text).map_err(|e| ClientError { code: tonic::Code::Internal, message: format!("the server's {what}: invalid JSON: {e}") })
}

/// An error and its causes, on one line (tonic's transport error says only
/// "transport error" at the top).
fn chain(e: &dyn std::error::Error) -> String {
    let mut line = e.to_string();
    let mut cause = e.source();
    while let Some(c) = cause {
        line.push_str(&format!(": {c}"));
        cause = c.source();
    }
    line
}
