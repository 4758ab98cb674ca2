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
    Json,
};
use utoipa_axum::{router::OpenApiRouter, routes};

pub use self::error::{PublicError, RETRY_AFTER_SECS};
use self::{
    auth::BasicToken,
    extract::{BeforeId, IdempotencyKey, Pagination, WithdrawParams},
};
pub(super) use self::{
    extract::{CursorQuery, PageQuery, WithdrawForm, WithdrawJson},
    texts::{ErrorEnvelope, History, TopupAnswer, WithdrawAnswer},
};
use super::{
    openapi::{PublicReadErrors, WithdrawErrors},
    to_completion, AppState,
};
use crate::wire::{MutationJson, WithdrawalJson};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(mutations))
        .routes(routes!(withdrawals))
        .routes(routes!(withdraw))
        .merge(history_v2::router())
        .merge(topup::router())
        .routes(routes!(login::authenticate))
}

/// Mutation history: the current user's ledger mutations, newest first
/// (older than `before_id`, if given).
#[utoipa::path(
    get,
    path = "/v1/dompet/history/mutations.json",
    tag = "public",
    security(("basic" = [])),
    params(PageQuery, CursorQuery),
    responses(
        (status = 200, description = "A page of the history (`[]` past the end).",
         body = History<MutationJson>,
         example = json!({
             "status": "OK",
             "history": [{"id": 346,
                          "type": "Deposit::Credit",
                          "action": "remit",
                          "amount": 30000,
                          "initial_balance": 0,
                          "final_balance": 30000,
                          "transaction_id": 51938,
                          "created_at": "2013-11-25T15:32:47+07:00",
                          "updated_at": "2013-11-25T15:32:47+07:00"}],
             "message": null
         })),
        PublicReadErrors,
    ),
)]
async fn mutations(
    State(state): State<AppState>,
    BasicToken(credentials): BasicToken,
    Pagination(page): Pagination,
    BeforeId(cursor): BeforeId,
) -> Result<Response, PublicError> {
    let rows = state
        .dompet
        .mutation_history(&credentials, page, cursor)
        .await?
        .ok_or_else(auth::unauthorized)?;
    let tz = state.dompet.timezone();
    let history: Vec<_> = rows.iter().map(|m| MutationJson::new(m, tz)).collect();
    Ok(json_sized(&History::ok(history), rows.len()))
}

/// Withdrawal history: the current user's withdrawals, newest first
/// (older than `before_id`, if given).
#[utoipa::path(
    get,
    path = "/v2/dompet/history/withdrawals.json",
    tag = "public",
    security(("basic" = [])),
    params(PageQuery, CursorQuery),
    responses(
        (status = 200, description = "A page of the history (`[]` past the end).",
         body = History<WithdrawalJson>,
         example = json!({
             "status": "OK",
             "history": [{"amount": 25000,
                          "bank_account_id": 41812,
                          "cancelled_at": null,
                          "created_at": "2013-11-22T16:00:39+07:00",
                          "deposit_id": 1,
                          "id": 4,
                          "processed_at": null,
                          "state": "pending",
                          "updated_at": "2013-11-22T16:00:39+07:00"}],
             "message": null
         })),
        PublicReadErrors,
    ),
)]
async fn withdrawals(
    State(state): State<AppState>,
    BasicToken(credentials): BasicToken,
    Pagination(page): Pagination,
    BeforeId(cursor): BeforeId,
) -> Result<Response, PublicError> {
    let rows = state
        .dompet
        .withdrawal_history(&credentials, page, cursor)
        .await?
        .ok_or_else(auth::unauthorized)?;
    let tz = state.dompet.timezone();
    let history: Vec<_> = rows.iter().map(|w| WithdrawalJson::new(w, tz)).collect();
    Ok(json_sized(&History::ok(history), rows.len()))
}

/// A history page as JSON, written into a buffer reserved for its rows
/// (about 250 bytes each) instead of axum's `Json`, which starts at 128 bytes
/// and reaches a 10-row page through five reallocations and copies. The
/// same bytes and headers as `Json`, whose answer a failed serialisation
/// still gets.
fn json_sized<T: serde::Serialize>(page: &T, rows: usize) -> Response {
    let mut body = Vec::with_capacity(64 + 320 * rows);
    if serde_json::to_writer(&mut body, page).is_err() {
        return Json(page).into_response();
    }
    let mut response = Response::new(axum::body::Body::from(body));
    response.headers_mut().insert(
        axum::http::header::CONTENT_TYPE,
        axum::http::HeaderValue::from_static("application/json"),
    );
    response
}

/// Withdrawal request: pay part of the wallet out to one of the user's bank
/// accounts.
///
/// The parameters may come as a form body (the seed's curl), as JSON, or in
/// the query string; a body field wins over the same query field. The rules
/// are checked in order and every failing one adds its message, joined with
/// `", "`: 1 amount is ASCII digits ≥ 1; 2 the bank account is the user's;
/// 3 no other non-cancelled withdrawal today; 4 the password matches; 5
/// amount ≤ balance; 6 amount + fee ≤ balance. A rejection is HTTP 200 with
/// `"status":"ERROR"`, as in the original API: clients read `status`. After 5
/// wrong passwords within 30 minutes, withdrawals are refused for 30 minutes.
#[utoipa::path(
    post,
    path = "/v2/dompet/withdraw.json",
    tag = "public",
    security(("basic" = [])),
    params(
        ("Idempotency-Key" = Option<String>, Header, min_length = 1, max_length = 255,
         pattern = r"^[\x21-\x7E]+$",
         description = "Per user, kept at least 24 hours: a retry with the same key and the same \
                        parameters replays the first answer without acting again; the same key \
                        with other parameters answers 422."),
        ("deposit_withdrawal[amount]" = Option<String>, Query, example = "25000",
         description = "As in the body; a body field wins."),
        ("deposit_withdrawal[bank_account_id]" = Option<String>, Query, example = "41812",
         description = "As in the body; a body field wins."),
        ("deposit_withdrawal[password]" = Option<String>, Query,
         description = "As in the body; a body field wins."),
    ),
    request_body(
        description = "The three parameters (all optional here: a missing one fails its rule).",
        content(
            (WithdrawForm = "application/x-www-form-urlencoded",
             example = json!({"deposit_withdrawal[amount]": "25000",
                              "deposit_withdrawal[bank_account_id]": "41812",
                              "deposit_withdrawal[password]": "testing1234"})),
            (WithdrawJson = "application/json",
             example = json!({"deposit_withdrawal": {"amount": "25000",
                                                     "bank_account_id": "41812",
                                                     "password": "testing1234"}})),
        ),
    ),
    responses(
        (status = 200, description = "Accepted (`OK`) or rejected by the rules (`ERROR`).",
         body = WithdrawAnswer,
         examples(
             ("Success" = (value = json!({
                 "status": "OK",
                 "withdrawal_id": 4,
                 "message": "Pencairan akan diproses oleh tim Bukalapak. Dana akan ditransfer ke rekening Anda dalam waktu 1x24 jam."
             }))),
             ("Invalid account ID" = (value = json!({
                 "status": "ERROR",
                 "withdrawal_id": null,
                 "message": "Rekening pencairan harus milik Anda."
             }))),
             ("Invalid password" = (value = json!({
                 "status": "ERROR",
                 "withdrawal_id": null,
                 "message": "Password tidak valid."
             }))),
             (">1 withdraw request in a day" = (value = json!({
                 "status": "ERROR",
                 "withdrawal_id": null,
                 "message": "Pencairan hanya bisa dilakukan satu kali sehari."
             }))),
             (">1 withdraw request in a day and invalid password" = (value = json!({
                 "status": "ERROR",
                 "withdrawal_id": null,
                 "message": "Pencairan hanya bisa dilakukan satu kali sehari., Password tidak valid."
             }))),
             ("Locked out" = (value = json!({
                 "status": "ERROR",
                 "withdrawal_id": null,
                 "message": texts::LOCKED_OUT
             }))),
         )),
        WithdrawErrors,
    ),
)]
async fn withdraw(
    State(state): State<AppState>,
    token: Result<BasicToken, PublicError>,
    IdempotencyKey(key): IdempotencyKey,
    WithdrawParams(request): WithdrawParams,
) -> Result<Json<WithdrawAnswer>, PublicError> {
    let BasicToken(credentials) = token.map_err(PublicError::for_withdraw)?;
    let dompet = state.dompet.clone();
    // The service checks the credentials in its first statement.
    let outcome = to_completion(async move {
        dompet
            .request_withdrawal_with_token(&credentials, request, key)
            .await
    })
    .await
    .map_err(|e| PublicError::from(e).for_withdraw())?
    .ok_or_else(|| auth::unauthorized().for_withdraw())?;
    Ok(Json(outcome.into()))
}
