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
};
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;
use utoipa_axum::{
    router::{OpenApiRouter, UtoipaMethodRouterExt},
    routes,
};

pub use self::error::{OperatorError, OperatorErrorBody, OperatorErrorDetail};
use super::AppState;
use crate::service::Page;

/// Unknown paths and methods under /internal/v1 fall through to the global
/// JSON 404/405 of SPEC §1 ("whatever the credentials").
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(users::create))
        .routes(routes!(users::show))
        .routes(routes!(users::add_bank_account))
        .routes(routes!(tokens::list, tokens::revoke_all))
        .routes(routes!(tokens::revoke))
        .routes(routes!(tokens::set_password))
        .routes(routes!(money::post_mutation))
        .routes(routes!(money::list_withdrawals))
        .routes(routes!(money::process_withdrawal))
        .routes(routes!(money::cancel_withdrawal))
        .routes(routes!(payouts::export))
        .routes(routes!(payouts::process))
        .routes(routes!(payouts::cancel))
        .routes(routes!(topups::list))
        .routes(routes!(topups::confirm))
        .routes(routes!(topups::cancel))
        .routes(routes!(topups::reconcile).layer(DefaultBodyLimit::max(topups::STATEMENT_LIMIT)))
        .routes(routes!(money::verify_ledger))
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

/// A list's `state` filter: absent or empty means every state; one that is
/// not a state is a 400 naming it.
fn state_filter<S>(raw: Option<&str>) -> Result<Option<S>, OperatorError>
where
    S: std::str::FromStr,
    S::Err: std::fmt::Display,
{
    match raw {
        None | Some("") => Ok(None),
        Some(s) => s
            .parse()
            .map(Some)
            .map_err(|e: S::Err| OperatorError::invalid(e.to_string())),
    }
}

/// A list's `page` and `per_page`: anything but a whole number falls back to
/// the default.
fn list_page(page: Option<String>, per_page: Option<String>) -> Page {
    let number = |v: Option<String>| v.and_then(|v| v.parse::<i64>().ok());
    Page::new(number(page), number(per_page))
}

/// A path id: digits naming a row, or nothing that can exist.
fn path_id<Id: std::str::FromStr>(
    raw: &str,
    missing: fn() -> OperatorError,
) -> Result<Id, OperatorError> {
    raw.parse().map_err(|_| missing())
}
