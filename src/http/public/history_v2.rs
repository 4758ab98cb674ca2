//! The later (v2) histories: the balance beside the history (SPEC §5.2).

use axum::{
    extract::State,
    response::{IntoResponse, Response},
    routing::get,
    Json, Router,
};
use serde::Serialize;

use super::{auth::PublicUser, extract::Pagination, PublicError};
use crate::{
    http::AppState,
    wire::{MutationV2Json, TopupJson, WithdrawalV2Json},
};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/v2/dompet/history/mutations.json", get(mutations))
        .route("/v2/dompet/history.json", get(combined))
}

/// `{"status","balance","history","message"}`.
#[derive(Serialize)]
struct BalancedHistoryAnswer<'a> {
    status: &'static str,
    balance: i64,
    history: Vec<MutationV2Json<'a>>,
    message: Option<&'static str>,
}

/// `{"status","balance","topup_history","withdrawal_history","mutation_history","message"}`.
#[derive(Serialize)]
struct CombinedHistoryAnswer<'a> {
    status: &'static str,
    balance: i64,
    topup_history: Vec<TopupJson>,
    withdrawal_history: Vec<WithdrawalV2Json>,
    mutation_history: Vec<MutationV2Json<'a>>,
    message: Option<&'static str>,
}

async fn mutations(
    State(state): State<AppState>,
    PublicUser(user_id): PublicUser,
    Pagination(page): Pagination,
) -> Result<Response, PublicError> {
    let found = state.dompet.balanced_history(user_id, page).await?;
    let tz = state.dompet.timezone();
    let answer = BalancedHistoryAnswer {
        status: "OK",
        balance: found.balance,
        history: found
            .mutations
            .iter()
            .map(|m| MutationV2Json::new(m, tz))
            .collect(),
        message: None,
    };
    Ok(Json(answer).into_response())
}

async fn combined(
    State(state): State<AppState>,
    PublicUser(user_id): PublicUser,
    Pagination(page): Pagination,
) -> Result<Response, PublicError> {
    let found = state.dompet.combined_history(user_id, page).await?;
    let tz = state.dompet.timezone();
    let answer = CombinedHistoryAnswer {
        status: "OK",
        balance: found.balance,
        topup_history: found.topups.iter().map(|t| TopupJson::new(t, tz)).collect(),
        withdrawal_history: found
            .withdrawals
            .iter()
            .map(|w| WithdrawalV2Json::new(w, tz))
            .collect(),
        mutation_history: found
            .mutations
            .iter()
            .map(|m| MutationV2Json::new(m, tz))
            .collect(),
        message: None,
    };
    Ok(Json(answer).into_response())
}
