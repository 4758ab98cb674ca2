//! The operator surface under `/internal/v1` (SPEC §3): bearer-token auth,
//! `{"error":{"code","message"}}` errors.

mod error;
mod money;
mod payouts;
mod tokens;
mod topups;
mod users;

use axum::{
    extract::{
        rejection::{JsonRejection, PathRejection, QueryRejection},
        DefaultBodyLimit, FromRequest, FromRequestParts,
    },
    http::{header, request::Parts},
    routing::{delete, get, post},
    Router,
};
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

pub use self::error::OperatorError;
use super::AppState;

/// Unknown paths and methods under /internal/v1 fall through to the global
/// JSON 404/405 of SPEC §1 ("whatever the credentials").
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/users", post(users::create))
        .route("/users/{id}", get(users::show))
        .route("/users/{id}/bank_accounts", post(users::add_bank_account))
        .route(
            "/users/{id}/tokens",
            get(tokens::list).delete(tokens::revoke_all),
        )
        .route("/users/{id}/tokens/{token_id}", delete(tokens::revoke))
        .route("/users/{id}/password", post(tokens::set_password))
        .route("/mutations", post(money::post_mutation))
        .route("/withdrawals", get(money::list_withdrawals))
        .route("/withdrawals/{id}/process", post(money::process_withdrawal))
        .route("/withdrawals/{id}/cancel", post(money::cancel_withdrawal))
        .route("/withdrawals/export.csv", get(payouts::export))
        .route("/withdrawals/process", post(payouts::process))
        .route("/withdrawals/cancel", post(payouts::cancel))
        .route("/topups", get(topups::list))
        .route("/topups/{id}/confirm", post(topups::confirm))
        .route("/topups/{id}/cancel", post(topups::cancel))
        .route(
            "/topups/reconcile",
            post(topups::reconcile).layer(DefaultBodyLimit::max(topups::STATEMENT_LIMIT)),
        )
        .route("/ledger/verify", get(money::verify_ledger))
}

/// Proof that the request carried `Authorization: Bearer <DOMPET_ADMIN_TOKEN>`.
pub struct Operator;

impl FromRequestParts<AppState> for Operator {
    type Rejection = OperatorError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let expected = state
            .operator_token_sha256
            .ok_or_else(OperatorError::unauthorized)?;
        let given = parts
            .headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.trim().split_once(' '))
            .filter(|(scheme, _)| scheme.eq_ignore_ascii_case("bearer"))
            .map(|(_, token)| token)
            .ok_or_else(OperatorError::unauthorized)?;
        // Digests have a fixed length, so the comparison time says nothing
        // about the token's length or its first differing byte.
        let given = Sha256::digest(given.trim().as_bytes());
        match bool::from(given.as_slice().ct_eq(&expected)) {
            true => Ok(Self),
            false => Err(OperatorError::unauthorized()),
        }
    }
}

/// `axum::Json` with the operator error envelope for its rejections.
#[derive(FromRequest)]
#[from_request(via(axum::Json), rejection(OperatorError))]
pub struct OperatorJson<T>(pub T);

impl From<JsonRejection> for OperatorError {
    fn from(rejection: JsonRejection) -> Self {
        match rejection.status() {
            axum::http::StatusCode::PAYLOAD_TOO_LARGE => OperatorError::payload_too_large(),
            _ => OperatorError::invalid(rejection.body_text()),
        }
    }
}

/// `axum::extract::Query` with the operator error envelope for its rejections.
#[derive(FromRequestParts)]
#[from_request(via(axum::extract::Query), rejection(OperatorError))]
pub struct OperatorQuery<T>(pub T);

impl From<QueryRejection> for OperatorError {
    fn from(rejection: QueryRejection) -> Self {
        OperatorError::invalid(rejection.body_text())
    }
}

/// `axum::extract::Path` with the operator error envelope for its rejections.
#[derive(FromRequestParts)]
#[from_request(via(axum::extract::Path), rejection(OperatorError))]
pub struct OperatorPath<T>(pub T);

impl From<PathRejection> for OperatorError {
    fn from(rejection: PathRejection) -> Self {
        OperatorError::invalid(rejection.body_text())
    }
}

/// A path id: digits naming a row, or nothing that can exist.
fn path_id<Id: std::str::FromStr>(
    raw: &str,
    missing: fn() -> OperatorError,
) -> Result<Id, OperatorError> {
    raw.parse().map_err(|_| missing())
}
