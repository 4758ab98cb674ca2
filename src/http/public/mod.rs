//! The three Dompet endpoints of the seed, with HTTP Basic auth, and the
//! later document's login that hands out the tokens.

mod auth;
mod error;
mod extract;
mod history_v2;
mod login;
mod texts;
mod topup;

use axum::{
    extract::State,
    response::{IntoResponse, Response},
    routing::{get, post},
    Json, Router,
};

pub use self::error::PublicError;
use self::{
    auth::{BasicToken, PublicUser},
    extract::{IdempotencyKey, Pagination, WithdrawParams},
    texts::{History, WithdrawAnswer},
};
use super::{to_completion, AppState};
use crate::wire::{MutationJson, WithdrawalJson};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/v1/dompet/history/mutations.json", get(mutations))
        .route("/v2/dompet/history/withdrawals.json", get(withdrawals))
        .route("/v2/dompet/withdraw.json", post(withdraw))
        .merge(history_v2::router())
        .merge(topup::router())
        .route("/v2/authenticate.json", post(login::authenticate))
}

async fn mutations(
    State(state): State<AppState>,
    BasicToken(credentials): BasicToken,
    Pagination(page): Pagination,
) -> Result<Response, PublicError> {
    let rows = state
        .dompet
        .mutation_history(&credentials, page)
        .await?
        .ok_or_else(auth::unauthorized)?;
    let tz = state.dompet.timezone();
    let history = rows.iter().map(|m| MutationJson::new(m, tz)).collect();
    Ok(Json(History::ok(history)).into_response())
}

async fn withdrawals(
    State(state): State<AppState>,
    BasicToken(credentials): BasicToken,
    Pagination(page): Pagination,
) -> Result<Response, PublicError> {
    let rows = state
        .dompet
        .withdrawal_history(&credentials, page)
        .await?
        .ok_or_else(auth::unauthorized)?;
    let tz = state.dompet.timezone();
    let history = rows.iter().map(|w| WithdrawalJson::new(w, tz)).collect();
    Ok(Json(History::ok(history)).into_response())
}

async fn withdraw(
    State(state): State<AppState>,
    user: Result<PublicUser, PublicError>,
    IdempotencyKey(key): IdempotencyKey,
    WithdrawParams(request): WithdrawParams,
) -> Result<Json<WithdrawAnswer>, PublicError> {
    let PublicUser(user_id) = user.map_err(PublicError::for_withdraw)?;
    let dompet = state.dompet.clone();
    let outcome =
        to_completion(async move { dompet.request_withdrawal(user_id, request, key).await })
            .await
            .map_err(|e| PublicError::from(e).for_withdraw())?;
    Ok(Json(outcome.into()))
}
