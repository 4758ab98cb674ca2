//! The operator surface's one error type, `{"error":{"code","message"}}`,
//! and its map from service errors: the only place operators' error codes
//! and texts are chosen, for the HTTP API and the command line alike.

use axum::{
    http::StatusCode,
    response::{IntoResponse, Response},
    Json,
};
use serde::Serialize;
use utoipa::ToSchema;

use crate::service::ServiceError;

#[derive(Debug)]
pub struct OperatorError {
    status: StatusCode,
    code: &'static str,
    message: String,
}

impl OperatorError {
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

    /// An unexpected failure, already logged.
    pub fn internal() -> Self {
        Self::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "internal",
            "internal error; see the server log",
        )
    }

    /// The request ran past `DOMPET_REQUEST_TIMEOUT_SECS`. Writes run to
    /// completion, so the outcome is learnt by retrying with the same key.
    pub fn timeout() -> Self {
        Self::new(
            StatusCode::REQUEST_TIMEOUT,
            "timeout",
            "the request ran out of time; a write may still have been applied: \
             retry with the same Idempotency-Key",
        )
    }

    /// The operator answer for a bare error status from outside the handlers
    /// (the timeout layer, a caught panic, a framework rejection).
    pub fn for_status(status: StatusCode) -> Self {
        match status {
            StatusCode::UNAUTHORIZED => Self::unauthorized(),
            StatusCode::REQUEST_TIMEOUT => Self::timeout(),
            StatusCode::PAYLOAD_TOO_LARGE => Self::payload_too_large(),
            s if s.is_client_error() => Self::new(
                s,
                "invalid_request",
                s.canonical_reason()
                    .unwrap_or("the request cannot be served"),
            ),
            _ => Self::internal(),
        }
    }

    pub fn busy() -> Self {
        Self::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "busy",
            "too much work is waiting; nothing was done, try again shortly",
        )
    }

    /// A database that went away needs a moment longer than shed work.
    fn retry_after(&self) -> axum::http::HeaderValue {
        match self.code {
            "unavailable" => {
                axum::http::HeaderValue::from_static(crate::http::public::RETRY_AFTER_SECS)
            }
            _ => crate::http::retry_after(),
        }
    }

    pub fn statement_too_large() -> Self {
        Self::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "payload_too_large",
            "the statement is over 1 MiB; split it or use `dompet topup reconcile FILE.csv`",
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

    pub fn topup_not_found() -> Self {
        ServiceError::TopupNotFound.into()
    }

    pub fn status(&self) -> StatusCode {
        self.status
    }

    pub fn code(&self) -> &'static str {
        self.code
    }

    pub fn message(&self) -> &str {
        &self.message
    }
}

impl From<ServiceError> for OperatorError {
    fn from(err: ServiceError) -> Self {
        use StatusCode as S;
        match &err {
            ServiceError::UserNotFound => {
                Self::new(S::NOT_FOUND, "user_not_found", "user not found")
            }
            ServiceError::TokenNotFound => {
                Self::new(S::NOT_FOUND, "token_not_found", "token not found")
            }
            ServiceError::WithdrawalNotFound => {
                Self::new(S::NOT_FOUND, "withdrawal_not_found", "withdrawal not found")
            }
            ServiceError::NotPending(state) => Self::new(
                S::CONFLICT,
                "withdrawal_not_pending",
                format!("the withdrawal is {}, not pending", state.as_str()),
            ),
            ServiceError::TopupNotFound => {
                Self::new(S::NOT_FOUND, "topup_not_found", "top-up not found")
            }
            ServiceError::TopupNotPending(state) => Self::new(
                S::CONFLICT,
                "topup_not_pending",
                format!("the top-up is {}, not pending", state.as_str()),
            ),
            ServiceError::InsufficientBalance { balance, amount } => Self::new(
                S::UNPROCESSABLE_ENTITY,
                "insufficient_balance",
                format!("the balance {balance} is less than the debit of {amount}"),
            ),
            ServiceError::BalanceOverflow => Self::new(
                S::UNPROCESSABLE_ENTITY,
                "balance_overflow",
                "the balance would exceed the largest amount the ledger can hold",
            ),
            ServiceError::IdempotencyMismatch => Self::new(
                S::CONFLICT,
                "idempotency_key_reused",
                "the idempotency key was already used for a different request",
            ),
            ServiceError::Invalid(message) => Self::new(S::BAD_REQUEST, "invalid_request", message),
            ServiceError::Conflict(message) => Self::new(S::CONFLICT, "conflict", message),
            ServiceError::Busy => Self::busy(),
            ServiceError::Database(e) | ServiceError::Unavailable(e)
                if crate::store::is_timeout(e) =>
            {
                tracing::warn!(error = %e, "gave up waiting on the database");
                Self::busy()
            }
            ServiceError::Unavailable(_) => {
                tracing::warn!(error = %crate::telemetry::error_chain(&err), "database unavailable; answered 503");
                Self::new(
                    S::SERVICE_UNAVAILABLE,
                    "unavailable",
                    "the database is unavailable; retry shortly",
                )
            }
            ServiceError::Hashing(_)
            | ServiceError::Internal { .. }
            | ServiceError::Database(_) => {
                tracing::error!(error = %crate::telemetry::error_chain(&err), "operator request failed");
                Self::internal()
            }
        }
    }
}

/// `{"error":{"code","message"}}`.
#[derive(Serialize, ToSchema)]
pub struct OperatorErrorBody<'a> {
    error: OperatorErrorDetail<'a>,
}

#[derive(Serialize, ToSchema)]
pub struct OperatorErrorDetail<'a> {
    /// Stable and machine-readable: `invalid_request`, `unauthorized`,
    /// `user_not_found`, `withdrawal_not_found`, `conflict`,
    /// `idempotency_key_reused`, `withdrawal_not_pending`,
    /// `insufficient_balance`, `balance_overflow`, `payload_too_large`, `internal`.
    #[schema(examples("insufficient_balance"))]
    code: &'a str,
    /// For people; may change.
    message: &'a str,
}

impl IntoResponse for OperatorError {
    fn into_response(self) -> Response {
        let body = OperatorErrorBody {
            error: OperatorErrorDetail {
                code: self.code,
                message: &self.message,
            },
        };
        let mut response = (self.status, Json(body)).into_response();
        if self.status == StatusCode::SERVICE_UNAVAILABLE {
            response
                .headers_mut()
                .insert(axum::http::header::RETRY_AFTER, self.retry_after());
        }
        response
    }
}
