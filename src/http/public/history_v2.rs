//! The later (v2) histories: the balance beside the history (SPEC §5.2).

use axum::{
    extract::State,
    response::{IntoResponse, Response},
    Json,
};
use serde::Serialize;
use serde_json::json;
use utoipa::ToSchema;
use utoipa_axum::{router::OpenApiRouter, routes};

use super::{
    auth::PublicUser,
    extract::{BeforeId, Pagination},
    CursorQuery, PageQuery, PublicError,
};
use crate::{
    http::{openapi::PublicReadErrors, AppState},
    wire::{schema, MutationV2Json, TopupJson, WithdrawalV2Json},
};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(mutations))
        .routes(routes!(combined))
}

/// `{"status","balance","history","message"}`.
#[derive(Serialize, ToSchema)]
#[schema(as = BalancedHistory)]
struct BalancedHistoryAnswer<'a> {
    #[schema(schema_with = schema::status_ok)]
    status: &'static str,
    /// The wallet's balance, read in the same snapshot as the page.
    #[schema(minimum = 0, examples(53840976))]
    balance: i64,
    history: Vec<MutationV2Json<'a>>,
    #[schema(schema_with = schema::always_null, required = true)]
    message: Option<&'static str>,
}

/// `{"status","balance","topup_history","withdrawal_history","mutation_history","message"}`.
#[derive(Serialize, ToSchema)]
#[schema(as = CombinedHistory)]
struct CombinedHistoryAnswer<'a> {
    #[schema(schema_with = schema::status_ok)]
    status: &'static str,
    #[schema(minimum = 0, examples(53840976))]
    balance: i64,
    topup_history: Vec<TopupJson>,
    withdrawal_history: Vec<WithdrawalV2Json>,
    mutation_history: Vec<MutationV2Json<'a>>,
    #[schema(schema_with = schema::always_null, required = true)]
    message: Option<&'static str>,
}

fn mutation_v2_example() -> serde_json::Value {
    json!({"id": 346, "type": "Deposit::Credit", "action": "remit", "amount": 30000,
           "initial_balance": 0, "final_balance": 30000, "transaction_id": 51938,
           "transaction_no": null, "note": null,
           "created_at": "2013-11-25T15:32:47.000+07:00",
           "updated_at": "2013-11-25T15:32:47.000+07:00"})
}

/// Mutation history with the balance (the later API): MUTATION_V2 items
/// with `transaction_no`, `note` and millisecond timestamps, newest first
/// (older than `before_id`, if given). The balance is the wallet's current
/// one, whatever the cursor.
#[utoipa::path(
    get,
    path = "/v2/dompet/history/mutations.json",
    tag = "public",
    security(("basic" = [])),
    params(PageQuery, CursorQuery),
    responses(
        (status = 200, body = BalancedHistoryAnswer,
         example = json!({"status": "OK", "balance": 30000,
                          "history": [mutation_v2_example()], "message": null})),
        PublicReadErrors,
    ),
)]
async fn mutations(
    State(state): State<AppState>,
    PublicUser(user_id): PublicUser,
    Pagination(page): Pagination,
    BeforeId(cursor): BeforeId,
) -> Result<Response, PublicError> {
    let found = state.dompet.balanced_history(user_id, page, cursor).await?;
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

/// Top-ups, withdrawals and mutations with the balance (the later API);
/// `page` and `per_page` apply to each list. No `before_id` here: the lists
/// have their own id sequences; walk deep in the per-list histories.
#[utoipa::path(
    get,
    path = "/v2/dompet/history.json",
    tag = "public",
    security(("basic" = [])),
    params(PageQuery),
    responses(
        (status = 200, body = CombinedHistoryAnswer,
         example = json!({"status": "OK", "balance": 30000,
             "topup_history": [{"id": 12, "amount": 25000, "unique_code": 213, "total": 25213,
                 "bank_account_id": 41812, "state": "pending",
                 "created_at": "2013-11-26T09:00:00.000+07:00",
                 "updated_at": "2013-11-26T09:00:00.000+07:00", "confirmed_at": null,
                 "expires_at": "2013-11-28T09:00:00.000+07:00"}],
             "withdrawal_history": [],
             "mutation_history": [mutation_v2_example()], "message": null})),
        PublicReadErrors,
    ),
)]
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
