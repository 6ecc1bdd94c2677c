//! The gRPC service (`vegalake.v1.Vegalake`), over the same operations.

use crate::error::{Kind, ServeError};
use crate::service::Service;
use serde_json::Value as Json;
use std::sync::Arc;
use tonic::{Request, Response, Status};
use vegalake_executors::VarValue;
use vegalake_planner::Namespace;
use vegalake_proto::v1 as pb;
use vegalake_proto::v1::vegalake_server::Vegalake;

pub struct Grpc(pub Arc<Service>);

impl Grpc {
    fn caller<T>(&self, request: &Request<T>) -> Result<crate::auth::Caller, Status> {
        let header = request.metadata().get("authorization").and_then(|v| v.to_str().ok());
        self.0.check(header).map_err(|e| e.grpc_status())
    }
}

fn encoding(encoding: i32) -> Result<pb::Encoding, Status> {
    match pb::Encoding::try_from(encoding) {
        Ok(pb::Encoding::Unspecified) => Ok(pb::Encoding::Json),
        Ok(known) => Ok(known),
        Err(_) => Err(ServeError::new(Kind::InvalidArgument, format!("unknown encoding {encoding}")).grpc_status()),
    }
}

fn to_value(v: VarValue, encoding: pb::Encoding) -> pb::Value {
    let namespace = if v.namespace == Namespace::Data { "data" } else { "signal" };
    pb::Value::encode(namespace, v.name, v.scope, &v.value, encoding)
}

fn from_value(v: pb::Value, max_rows: usize) -> Result<VarValue, Status> {
    let invalid = |m: String| ServeError::new(Kind::InvalidArgument, m).grpc_status();
    let namespace = match v.namespace.as_str() {
        "data" => Namespace::Data,
        "signal" => Namespace::Signal,
        other => return Err(invalid(format!("value {}: namespace {other:?} (signal or data)", v.name))),
    };
    let value = v.to_json(max_rows).map_err(|e| invalid(format!("value {}: {e}", v.name)))?;
    Ok(VarValue { namespace, name: v.name, scope: v.scope, value })
}

fn to_answer(u: &crate::service::Updated, encoding: pb::Encoding) -> pb::UpdateResponse {
    pb::UpdateResponse { seq: u.seq, values: u.values.iter().cloned().map(|v| to_value(v, encoding)).collect(), cached: u.cached }
}

#[tonic::async_trait]
impl Vegalake for Grpc {
    type WatchStream = std::pin::Pin<Box<dyn futures::Stream<Item = Result<pb::UpdateResponse, Status>> + Send>>;

    async fn watch(&self, request: Request<pb::WatchRequest>) -> Result<Response<Self::WatchStream>, Status> {
        use futures::StreamExt;
        let caller = self.caller(&request)?;
        let r = request.into_inner();
        let encoding = encoding(r.encoding)?;
        let answers = self.0.watch(caller, &r.chart_id).map_err(|e| e.grpc_status())?;
        let answers = answers.map(move |answer| answer.map(|updated| to_answer(&updated, encoding)).map_err(|e| e.grpc_status()));
        Ok(Response::new(Box::pin(answers)))
    }

    async fn info(&self, request: Request<pb::InfoRequest>) -> Result<Response<pb::InfoResponse>, Status> {
        self.caller(&request)?;
        let info = self.0.info();
        let l = &self.0.options.limits;
        let strings = |v: &Json| v.as_array().into_iter().flatten().filter_map(Json::as_str).map(str::to_string).collect();
        Ok(Response::new(pb::InfoResponse {
            version: info["version"].as_str().unwrap_or_default().into(),
            engine: info["engine"].as_str().unwrap_or_default().into(),
            limits: Some(pb::Limits {
                max_request_bytes: l.max_request_bytes as u64,
                max_response_bytes: l.max_response_bytes as u64,
                max_rows: l.max_rows as u64,
                request_timeout_seconds: l.request_timeout.as_secs_f64(),
                max_concurrent: l.max_concurrent as u32,
                max_charts_per_token: l.max_charts_per_token as u32,
                idle_timeout_seconds: l.idle_timeout.as_secs_f64(),
                memory_limit_bytes: l.memory_limit.unwrap_or(0) as u64,
            }),
            data_roots: strings(&info["data_roots"]),
            tables: strings(&info["tables"]),
        }))
    }

    async fn pre_transform(&self, request: Request<pb::PreTransformRequest>) -> Result<Response<pb::PreTransformResponse>, Status> {
        let caller = self.caller(&request)?;
        let r = request.into_inner();
        let (spec, warnings) = self.0.pre_transform(caller, &r.spec, &r.timezone).await.map_err(|e| e.grpc_status())?;
        Ok(Response::new(pb::PreTransformResponse { spec: spec.to_string(), warnings }))
    }

    async fn open_chart(&self, request: Request<pb::OpenChartRequest>) -> Result<Response<pb::OpenChartResponse>, Status> {
        let caller = self.caller(&request)?;
        let r = request.into_inner();
        let o = self.0.open(caller, &r.spec, &r.timezone).await.map_err(|e| e.grpc_status())?;
        Ok(Response::new(pb::OpenChartResponse {
            chart_id: o.chart_id,
            client_spec: o.client_spec.to_string(),
            comm_plan: o.comm_plan.to_string(),
            warnings: o.warnings,
        }))
    }

    async fn update(&self, request: Request<pb::UpdateRequest>) -> Result<Response<pb::UpdateResponse>, Status> {
        let caller = self.caller(&request)?;
        let r = request.into_inner();
        let encoding = encoding(r.encoding)?;
        let max_rows = self.0.options.limits.max_rows;
        let values = r.values.into_iter().map(|v| from_value(v, max_rows)).collect::<Result<Vec<_>, _>>()?;
        let u = self.0.update(caller, &r.chart_id, r.seq, values).await.map_err(|e| e.grpc_status())?;
        Ok(Response::new(to_answer(&u, encoding)))
    }

    async fn close_chart(&self, request: Request<pb::CloseChartRequest>) -> Result<Response<pb::CloseChartResponse>, Status> {
        let caller = self.caller(&request)?;
        self.0.close(caller, &request.into_inner().chart_id).map_err(|e| e.grpc_status())?;
        Ok(Response::new(pb::CloseChartResponse {}))
    }
}
