//! A request's failure: a kind that maps to a gRPC status and an HTTP status,
//! and the one-line message the CLI would print.

use vegalake_executors::{ErrorKind, EvalError};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Unauthenticated,
    NotFound,
    PermissionDenied,
    InvalidArgument,
    ResourceExhausted,
    /// A request over the size limit (HTTP 413; gRPC RESOURCE_EXHAUSTED).
    TooLarge,
    DeadlineExceeded,
    FailedPrecondition,
    Unavailable,
    Internal,
}

/// A failed request.
#[derive(Debug, Clone, thiserror::Error)]
#[error("{message}")]
pub struct ServeError {
    pub kind: Kind,
    pub message: String,
}

impl ServeError {
    pub fn new(kind: Kind, message: impl Into<String>) -> Self {
        ServeError { kind, message: message.into() }
    }

    pub fn http_status(&self) -> axum::http::StatusCode {
        use axum::http::StatusCode;
        match self.kind {
            Kind::Unauthenticated => StatusCode::UNAUTHORIZED,
            Kind::NotFound => StatusCode::NOT_FOUND,
            Kind::PermissionDenied => StatusCode::FORBIDDEN,
            Kind::InvalidArgument => StatusCode::BAD_REQUEST,
            Kind::ResourceExhausted => StatusCode::TOO_MANY_REQUESTS,
            Kind::TooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            Kind::DeadlineExceeded => StatusCode::GATEWAY_TIMEOUT,
            Kind::FailedPrecondition => StatusCode::CONFLICT,
            Kind::Unavailable => StatusCode::SERVICE_UNAVAILABLE,
            Kind::Internal => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    pub fn grpc_status(&self) -> tonic::Status {
        use tonic::Code;
        let code = match self.kind {
            Kind::Unauthenticated => Code::Unauthenticated,
            Kind::NotFound => Code::NotFound,
            Kind::PermissionDenied => Code::PermissionDenied,
            Kind::InvalidArgument => Code::InvalidArgument,
            Kind::ResourceExhausted | Kind::TooLarge => Code::ResourceExhausted,
            Kind::DeadlineExceeded => Code::DeadlineExceeded,
            Kind::FailedPrecondition => Code::FailedPrecondition,
            Kind::Unavailable => Code::Unavailable,
            Kind::Internal => Code::Internal,
        };
        tonic::Status::new(code, self.message.clone())
    }
}

impl From<EvalError> for ServeError {
    fn from(e: EvalError) -> Self {
        let kind = match e.kind {
            ErrorKind::Spec => Kind::InvalidArgument,
            ErrorKind::Forbidden => Kind::PermissionDenied,
            ErrorKind::Data => Kind::FailedPrecondition,
            ErrorKind::Engine => Kind::Unavailable,
            ErrorKind::Timeout => Kind::DeadlineExceeded,
            ErrorKind::Memory => Kind::ResourceExhausted,
        };
        ServeError::new(kind, e.to_string())
    }
}
