//! The public API's one error type: status codes and texts of every error
//! answer, in the envelopes of `texts`.

use super::texts::{ErrorEnvelope, TopupAnswer, WithdrawAnswer};
use crate::service::ServiceError;
use axum::{
    http::{header, HeaderValue, StatusCode},
    response::{IntoResponse, Response},
    Json,
};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PublicError {
    Unauthorized,
    NotFound,
    MethodNotAllowed,
    BadRequest,
    Timeout,
    PayloadTooLarge,
    IdempotencyMismatch,
    /// The same, on the top-up endpoint, in its own envelope.
    TopupIdempotencyMismatch,
    Unavailable,
    Internal,
}

impl PublicError {
    pub fn status(self) -> StatusCode {
        match self {
            Self::Unauthorized => StatusCode::UNAUTHORIZED,
            Self::NotFound => StatusCode::NOT_FOUND,
            Self::MethodNotAllowed => StatusCode::METHOD_NOT_ALLOWED,
            Self::BadRequest => StatusCode::BAD_REQUEST,
            Self::Timeout => StatusCode::REQUEST_TIMEOUT,
            Self::PayloadTooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            Self::IdempotencyMismatch | Self::TopupIdempotencyMismatch => {
                StatusCode::UNPROCESSABLE_ENTITY
            }
            Self::Unavailable => StatusCode::SERVICE_UNAVAILABLE,
            Self::Internal => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    pub fn message(self) -> &'static str {
        super::texts::error_message(self)
    }

    /// The envelope for a bare error status produced outside the handlers.
    pub fn for_status(status: StatusCode) -> Self {
        match status {
            StatusCode::UNAUTHORIZED => Self::Unauthorized,
            StatusCode::NOT_FOUND => Self::NotFound,
            StatusCode::METHOD_NOT_ALLOWED => Self::MethodNotAllowed,
            StatusCode::REQUEST_TIMEOUT => Self::Timeout,
            StatusCode::PAYLOAD_TOO_LARGE => Self::PayloadTooLarge,
            s if s.is_client_error() => Self::BadRequest,
            _ => Self::Internal,
        }
    }
}

impl From<ServiceError> for PublicError {
    fn from(err: ServiceError) -> Self {
        match err {
            ServiceError::IdempotencyMismatch => Self::IdempotencyMismatch,
            // The authenticated user vanished mid-request.
            ServiceError::UserNotFound => Self::Unauthorized,
            other => {
                tracing::error!(error = %crate::telemetry::error_chain(&other), "request failed");
                Self::Internal
            }
        }
    }
}

impl IntoResponse for PublicError {
    fn into_response(self) -> Response {
        let status = self.status();
        let mut response = match self {
            Self::IdempotencyMismatch => {
                Json(WithdrawAnswer::error(self.message())).into_response()
            }
            Self::TopupIdempotencyMismatch => {
                Json(TopupAnswer::error(self.message())).into_response()
            }
            _ => Json(ErrorEnvelope::new(self.message())).into_response(),
        };
        *response.status_mut() = status;
        if self == Self::Unauthorized {
            response.headers_mut().insert(
                header::WWW_AUTHENTICATE,
                HeaderValue::from_static("Basic realm=\"dompet\""),
            );
        }
        response
    }
}
