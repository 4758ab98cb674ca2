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
    /// The readiness probe's answer when the database does not answer.
    Unavailable,
    /// The database could not serve this request (lost, restarting, out of
    /// connections, a lock or conflict given up on): retry, with the same
    /// Idempotency-Key for a withdrawal. Never a rule's rejection.
    RetryLater,
    /// `RetryLater` on the withdraw endpoint, in its envelope.
    WithdrawRetryLater,
    /// `RetryLater` on the top-up endpoint, in its envelope.
    TopupRetryLater,
    /// Too much waiting work: shed at once, to be retried.
    Busy,
    /// `Busy` at the withdraw endpoint, in that endpoint's envelope.
    WithdrawBusy,
    /// `Busy` at the top-up endpoint, in that endpoint's envelope.
    TopupBusy,
    Internal,
}

/// Seconds a client should wait before retrying a `RetryLater`: a restarting
/// PostgreSQL is usually back within one or two.
pub const RETRY_AFTER_SECS: &str = "2";

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
            Self::Unavailable
            | Self::RetryLater
            | Self::WithdrawRetryLater
            | Self::TopupRetryLater
            | Self::Busy
            | Self::WithdrawBusy
            | Self::TopupBusy => StatusCode::SERVICE_UNAVAILABLE,
            Self::Internal => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    pub fn message(self) -> &'static str {
        super::texts::error_message(self)
    }

    /// The same error as the withdraw endpoint answers it: a client that
    /// must retry its withdrawal reads `withdrawal_id: null` there.
    pub fn for_withdraw(self) -> Self {
        match self {
            Self::RetryLater => Self::WithdrawRetryLater,
            Self::Busy => Self::WithdrawBusy,
            other => other,
        }
    }

    /// The same for the top-up endpoint (`unique_code: null`).
    pub fn for_topup(self) -> Self {
        match self {
            Self::RetryLater => Self::TopupRetryLater,
            Self::Busy => Self::TopupBusy,
            Self::IdempotencyMismatch => Self::TopupIdempotencyMismatch,
            other => other,
        }
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
        match &err {
            ServiceError::IdempotencyMismatch => Self::IdempotencyMismatch,
            // The authenticated user vanished mid-request.
            ServiceError::UserNotFound => Self::Unauthorized,
            ServiceError::Invalid(_) => Self::BadRequest,
            ServiceError::Busy => Self::Busy,
            ServiceError::Database(e) | ServiceError::Unavailable(e)
                if crate::store::is_timeout(e) =>
            {
                tracing::warn!(error = %e, "gave up waiting on the database");
                Self::Busy
            }
            ServiceError::Unavailable(_) => {
                tracing::warn!(error = %crate::telemetry::error_chain(&err), "database unavailable; answered 503");
                Self::RetryLater
            }
            _ => {
                tracing::error!(error = %crate::telemetry::error_chain(&err), "request failed");
                Self::Internal
            }
        }
    }
}

impl IntoResponse for PublicError {
    fn into_response(self) -> Response {
        let status = self.status();
        let mut response = match self {
            Self::IdempotencyMismatch | Self::WithdrawRetryLater | Self::WithdrawBusy => {
                Json(WithdrawAnswer::error(self.message())).into_response()
            }
            Self::TopupIdempotencyMismatch | Self::TopupRetryLater | Self::TopupBusy => {
                Json(TopupAnswer::error(self.message())).into_response()
            }
            _ => Json(ErrorEnvelope::new(self.message())).into_response(),
        };
        *response.status_mut() = status;
        if matches!(
            self,
            Self::RetryLater | Self::WithdrawRetryLater | Self::TopupRetryLater
        ) {
            response.headers_mut().insert(
                header::RETRY_AFTER,
                HeaderValue::from_static(RETRY_AFTER_SECS),
            );
        }
        if self == Self::Unauthorized {
            response.headers_mut().insert(
                header::WWW_AUTHENTICATE,
                HeaderValue::from_static("Basic realm=\"dompet\""),
            );
        }
        if status == StatusCode::SERVICE_UNAVAILABLE
            && !response.headers().contains_key(header::RETRY_AFTER)
        {
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, crate::http::retry_after());
        }
        response
    }
}
