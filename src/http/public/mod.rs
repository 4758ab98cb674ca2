//! The three Dompet endpoints of the seed, with HTTP Basic auth.

mod auth;
mod error;
mod extract;
mod history_v2;

use axum::{
    extract::State,
    http::HeaderMap,
    response::{IntoResponse, Response},
    routing::{get, post},
    Json, Router,
};
use serde::Serialize;

pub use self::error::PublicError;
use self::{
    auth::PublicUser,
    extract::{idempotency_key, Pagination, WithdrawParams},
};
use super::AppState;
use crate::{
    service::{WithdrawOutcome, WithdrawRequest},
    wire::{MutationJson, WithdrawalJson},
};

const WITHDRAW_ACCEPTED: &str =
    "Pencairan akan diproses oleh tim Bukalapak. Dana akan ditransfer ke rekening Anda dalam waktu 1x24 jam.";
const LOCKED_OUT: &str = "Terlalu banyak percobaan password. Coba lagi nanti.";

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/v1/dompet/history/mutations.json", get(mutations))
        .route("/v2/dompet/history/withdrawals.json", get(withdrawals))
        .route("/v2/dompet/withdraw.json", post(withdraw))
        .merge(history_v2::router())
}

#[derive(Serialize)]
struct History<T> {
    status: &'static str,
    history: Vec<T>,
    message: Option<&'static str>,
}

impl<T> History<T> {
    fn ok(history: Vec<T>) -> Self {
        Self {
            status: "OK",
            history,
            message: None,
        }
    }
}

#[derive(Serialize)]
struct WithdrawAnswer {
    status: &'static str,
    withdrawal_id: Option<i64>,
    message: String,
}

impl From<WithdrawOutcome> for WithdrawAnswer {
    fn from(outcome: WithdrawOutcome) -> Self {
        let refused = |message: String| Self {
            status: "ERROR",
            withdrawal_id: None,
            message,
        };
        match outcome {
            WithdrawOutcome::Accepted { withdrawal_id } => Self {
                status: "OK",
                withdrawal_id: Some(withdrawal_id),
                message: WITHDRAW_ACCEPTED.to_owned(),
            },
            WithdrawOutcome::Rejected { rules } => refused(
                rules
                    .iter()
                    .map(|rule| rule.message())
                    .collect::<Vec<_>>()
                    .join(", "),
            ),
            WithdrawOutcome::LockedOut => refused(LOCKED_OUT.to_owned()),
        }
    }
}

async fn mutations(
    State(state): State<AppState>,
    PublicUser(user_id): PublicUser,
    Pagination(page): Pagination,
) -> Result<Response, PublicError> {
    let rows = state.dompet.mutation_history(user_id, page).await?;
    let tz = state.dompet.timezone();
    let history = rows.iter().map(|m| MutationJson::new(m, tz)).collect();
    Ok(Json(History::ok(history)).into_response())
}

async fn withdrawals(
    State(state): State<AppState>,
    PublicUser(user_id): PublicUser,
    Pagination(page): Pagination,
) -> Result<Response, PublicError> {
    let rows = state.dompet.withdrawal_history(user_id, page).await?;
    let tz = state.dompet.timezone();
    let history = rows.iter().map(|w| WithdrawalJson::new(w, tz)).collect();
    Ok(Json(History::ok(history)).into_response())
}

async fn withdraw(
    State(state): State<AppState>,
    PublicUser(user_id): PublicUser,
    headers: HeaderMap,
    WithdrawParams(fields): WithdrawParams,
) -> Result<Json<WithdrawAnswer>, PublicError> {
    let request = WithdrawRequest {
        amount: fields.amount,
        bank_account_id: fields.bank_account_id,
        password: fields.password,
        idempotency_key: idempotency_key(&headers)?,
    };
    let outcome = state.dompet.request_withdrawal(user_id, request).await?;
    Ok(Json(outcome.into()))
}
