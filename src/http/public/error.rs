//! The public API's one error type and its `{"status":"ERROR",…}` envelope.

use axum::{
    http::{header, HeaderValue, StatusCode},
    response::{IntoResponse, Response},
    Json,
};
use serde::Serialize;

use crate::service::ServiceError;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PublicError {
    Unauthorized,
    NotFound,
    MethodNotAllowed,
    BadRequest,
    Timeout,
    PayloadTooLarge,
    IdempotencyMismatch,
    Unavailable,
    Internal,
}

#[derive(Serialize)]
struct Envelope {
    status: &'static str,
    message: &'static str,
}

/// The withdraw endpoint's shape, for errors answered there.
#[derive(Serialize)]
struct WithdrawEnvelope {
    status: &'static str,
    withdrawal_id: Option<i64>,
    message: &'static str,
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
            Self::IdempotencyMismatch => StatusCode::UNPROCESSABLE_ENTITY,
            Self::Unavailable => StatusCode::SERVICE_UNAVAILABLE,
            Self::Internal => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    pub fn message(self) -> &'static str {
        match self {
            Self::Unauthorized => "Autentikasi gagal.",
            Self::NotFound => "Tidak ditemukan.",
            Self::MethodNotAllowed => "Metode tidak diizinkan.",
            Self::BadRequest => "Format permintaan tidak valid.",
            Self::Timeout => "Waktu permintaan habis.",
            Self::PayloadTooLarge => "Permintaan terlalu besar.",
            Self::IdempotencyMismatch => "Idempotency-Key sudah dipakai untuk permintaan lain.",
            Self::Unavailable => "Database tidak tersedia.",
            Self::Internal => "Terjadi kesalahan pada server.",
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
        match err {
            ServiceError::IdempotencyMismatch => Self::IdempotencyMismatch,
            // The authenticated user vanished mid-request.
            ServiceError::UserNotFound => Self::Unauthorized,
            other => {
                tracing::error!(error = %other, source = ?std::error::Error::source(&other), "request failed");
                Self::Internal
            }
        }
    }
}

impl IntoResponse for PublicError {
    fn into_response(self) -> Response {
        let status = self.status();
        let mut response = match self {
            Self::IdempotencyMismatch => Json(WithdrawEnvelope {
                status: "ERROR",
                withdrawal_id: None,
                message: self.message(),
            })
            .into_response(),
            _ => Json(Envelope {
                status: "ERROR",
                message: self.message(),
            })
            .into_response(),
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
