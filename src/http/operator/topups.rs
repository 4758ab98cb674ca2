//! Operator handlers for top-ups: the list, confirm, cancel, and the
//! reconciliation of a bank statement (SPEC §5.4).

use axum::{
    body::Bytes,
    extract::{rejection::BytesRejection, State},
    http::StatusCode,
    response::{IntoResponse, Response},
    Json,
};
use serde::Deserialize;
use serde_json::json;
use utoipa::IntoParams;

use super::{
    error::{OperatorError, OperatorErrorBody},
    list_page, path_id, state_filter, Operator, OperatorPath, OperatorQuery,
};
use crate::{
    domain::{TopupId, TopupState},
    http::{
        openapi::{operator_examples as example, OperatorErrors},
        AppState,
    },
    wire::{OperatorTopupJson, ReconcileReportJson, TopupListJson},
};

/// The largest statement accepted over HTTP (about 25,000 lines); larger
/// ones go through `dompet topup reconcile FILE.csv`.
pub const STATEMENT_LIMIT: usize = 1024 * 1024;

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ListQuery {
    /// `pending`, `confirmed`, `cancelled` or `expired`; all when absent.
    #[param(schema_with = crate::wire::schema::topup_state)]
    state: Option<String>,
    /// Page number, default 1.
    #[param(value_type = Option<i64>, minimum = 1, example = 1)]
    page: Option<String>,
    /// Records per page, default 10, at most 100.
    #[param(value_type = Option<i64>, minimum = 1, example = 50)]
    per_page: Option<String>,
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ReconcileQuery {
    /// `true`: report what would happen and change nothing.
    #[param(value_type = Option<bool>)]
    dry_run: Option<String>,
}

fn topup_example(state: &str) -> serde_json::Value {
    let confirmed = (state == "confirmed").then_some("2013-11-26T10:00:00.000+07:00");
    json!({"id": 12, "amount": 25000, "unique_code": 213, "total": 25213,
           "bank_account_id": 41812, "state": state,
           "created_at": "2013-11-26T09:00:00.000+07:00",
           "updated_at": confirmed.unwrap_or("2013-11-26T09:00:00.000+07:00"),
           "confirmed_at": confirmed, "expires_at": "2013-11-28T09:00:00.000+07:00",
           "user_id": 204254})
}

/// Top-ups, oldest first.
#[utoipa::path(
    get,
    path = "/topups",
    tag = "operator",
    security(("bearer" = [])),
    params(ListQuery),
    responses(
        (status = 200, body = TopupListJson, example = json!({"topups": [topup_example("pending")]})),
        (status = 400, body = OperatorErrorBody, description = "An unknown state.",
         example = json!(example::invalid())),
        OperatorErrors,
    ),
)]
pub async fn list(
    State(state): State<AppState>,
    _: Operator,
    OperatorQuery(query): OperatorQuery<ListQuery>,
) -> Result<Response, OperatorError> {
    let wanted: Option<TopupState> = state_filter(query.state.as_deref())?;
    let page = list_page(query.page, query.per_page);
    let rows = state.dompet.list_topups(wanted, page).await?;
    Ok(Json(TopupListJson::new(&rows, state.dompet.timezone())).into_response())
}

/// Confirm a pending, unexpired top-up: its `total` is credited as a
/// `topup` mutation in the same transaction.
#[utoipa::path(
    post,
    path = "/topups/{id}/confirm",
    tag = "operator",
    security(("bearer" = [])),
    params(("id" = i64, Path, description = "The top-up id.")),
    responses(
        (status = 200, body = OperatorTopupJson, example = json!(topup_example("confirmed"))),
        (status = 404, body = OperatorErrorBody, description = "No such top-up.",
         example = json!(example::topup_not_found())),
        (status = 409, body = OperatorErrorBody, description = "The top-up is not pending (or has expired).",
         example = json!(example::topup_not_pending())),
        (status = 422, body = OperatorErrorBody, description = "The credit would pass the largest balance.",
         example = json!(example::balance_overflow())),
        OperatorErrors,
    ),
)]
pub async fn confirm(
    State(state): State<AppState>,
    _: Operator,
    OperatorPath(id): OperatorPath<String>,
) -> Result<Response, OperatorError> {
    let id: TopupId = path_id(&id, OperatorError::topup_not_found)?;
    let row = state.dompet.confirm_topup(id).await?;
    Ok(Json(OperatorTopupJson::new(&row, state.dompet.timezone())).into_response())
}

/// Cancel a pending top-up.
#[utoipa::path(
    post,
    path = "/topups/{id}/cancel",
    tag = "operator",
    security(("bearer" = [])),
    params(("id" = i64, Path, description = "The top-up id.")),
    responses(
        (status = 200, body = OperatorTopupJson, example = json!(topup_example("cancelled"))),
        (status = 404, body = OperatorErrorBody, description = "No such top-up.",
         example = json!(example::topup_not_found())),
        (status = 409, body = OperatorErrorBody, description = "The top-up is not pending.",
         example = json!(example::topup_not_pending())),
        OperatorErrors,
    ),
)]
pub async fn cancel(
    State(state): State<AppState>,
    _: Operator,
    OperatorPath(id): OperatorPath<String>,
) -> Result<Response, OperatorError> {
    let id: TopupId = path_id(&id, OperatorError::topup_not_found)?;
    let row = state.dompet.cancel_topup(id).await?;
    Ok(Json(OperatorTopupJson::new(&row, state.dompet.timezone())).into_response())
}

/// Reconcile a bank statement: each line whose amount equals exactly one
/// pending top-up's total confirms it; a line (by reference) is applied at
/// most once however often the file is sent. The statement is the raw body
/// (`text/csv`, or anything: it is read as CSV whatever the content type
/// says), at most 1 MiB.
#[utoipa::path(
    post,
    path = "/topups/reconcile",
    tag = "operator",
    security(("bearer" = [])),
    params(ReconcileQuery),
    request_body(content = String, content_type = "text/csv",
                 description = "`reference,date,amount`, a header line first.",
                 example = json!("reference,date,amount\nTRX-1001,2013-11-26,25213\n")),
    responses(
        (status = 200, body = ReconcileReportJson,
         example = json!({"dry_run": false,
             "matched": [{"line": 2, "reference": "TRX-1001", "amount": 25213, "topup_id": 12}],
             "unmatched": [], "ambiguous": [], "duplicate": [], "invalid": []})),
        (status = 400, body = OperatorErrorBody, description = "A `dry_run` that is neither true nor false, or a body that cannot be read.",
         example = json!(example::invalid())),
        (status = 413, body = OperatorErrorBody, description = "A statement over 1 MiB.",
         example = json!(example::statement_too_large())),
        OperatorErrors,
    ),
)]
pub async fn reconcile(
    State(state): State<AppState>,
    _: Operator,
    OperatorQuery(query): OperatorQuery<ReconcileQuery>,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, OperatorError> {
    let dry_run = match query.dry_run.as_deref() {
        None | Some("" | "false" | "0") => false,
        Some("true" | "1") => true,
        Some(_) => return Err(OperatorError::invalid("dry_run must be true or false")),
    };
    let body = body.map_err(|rejection| match rejection.status() {
        StatusCode::PAYLOAD_TOO_LARGE => OperatorError::statement_too_large(),
        _ => OperatorError::invalid(rejection.body_text()),
    })?;
    let report = state.dompet.reconcile(&body, dry_run).await?;
    Ok(Json(ReconcileReportJson::from(&report)).into_response())
}
