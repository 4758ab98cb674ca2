//! The operator surface's one error type: `{"error":{"code","message"}}`.

use axum::{
    http::StatusCode,
    response::{IntoResponse, Response},
    Json,
};
use serde::Serialize;

use crate::service::ServiceError;

#[derive(Debug)]
pub struct AdminError {
    status: StatusCode,
    code: &'static str,
    message: String,
}

impl AdminError {
    fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> Self {
        Self {
            status,
            code,
            message: message.into(),
        }
    }

    pub fn unauthorized() -> Self {
        Self::new(
            StatusCode::UNAUTHORIZED,
            "unauthorized",
            "a valid bearer token is required",
        )
    }

    pub fn invalid(message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "invalid_request", message)
    }

    pub fn payload_too_large() -> Self {
        Self::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "payload_too_large",
            "the body is over 16 KiB",
        )
    }

    pub fn user_not_found() -> Self {
        ServiceError::UserNotFound.into()
    }

    pub fn token_not_found() -> Self {
        ServiceError::TokenNotFound.into()
    }

    pub fn withdrawal_not_found() -> Self {
        ServiceError::WithdrawalNotFound.into()
    }
}

impl From<ServiceError> for AdminError {
    fn from(err: ServiceError) -> Self {
        let message = err.to_string();
        let (status, code) = match &err {
            ServiceError::UserNotFound => (StatusCode::NOT_FOUND, "user_not_found"),
            ServiceError::TokenNotFound => (StatusCode::NOT_FOUND, "token_not_found"),
            ServiceError::WithdrawalNotFound => (StatusCode::NOT_FOUND, "withdrawal_not_found"),
            ServiceError::NotPending(_) => (StatusCode::CONFLICT, "withdrawal_not_pending"),
            ServiceError::InsufficientBalance { .. } => {
                (StatusCode::UNPROCESSABLE_ENTITY, "insufficient_balance")
            }
            ServiceError::BalanceOverflow => (StatusCode::UNPROCESSABLE_ENTITY, "balance_overflow"),
            ServiceError::IdempotencyMismatch => (StatusCode::CONFLICT, "idempotency_key_reused"),
            ServiceError::Invalid(_) => (StatusCode::BAD_REQUEST, "invalid_request"),
            ServiceError::Conflict(_) => (StatusCode::CONFLICT, "conflict"),
            ServiceError::Hashing(_) | ServiceError::Internal(_) | ServiceError::Database(_) => {
                tracing::error!(error = %err, source = ?std::error::Error::source(&err), "operator request failed");
                return Self::new(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "internal",
                    "internal error; see the server log",
                );
            }
        };
        Self::new(status, code, message)
    }
}

impl IntoResponse for AdminError {
    fn into_response(self) -> Response {
        #[derive(Serialize)]
        struct Body<'a> {
            error: Detail<'a>,
        }
        #[derive(Serialize)]
        struct Detail<'a> {
            code: &'a str,
            message: &'a str,
        }
        let body = Body {
            error: Detail {
                code: self.code,
                message: &self.message,
            },
        };
        (self.status, Json(body)).into_response()
    }
}
