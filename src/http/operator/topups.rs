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

use super::{error::OperatorError, path_id, Operator, OperatorPath, OperatorQuery};
use crate::{
    domain::{TopupId, UnknownTopupState},
    http::AppState,
    service::Page,
    wire::{OperatorTopupJson, ReconcileReportJson, TopupListJson},
};

/// The largest statement accepted over HTTP (about 25,000 lines); larger
/// ones go through `dompet topup reconcile FILE.csv`.
pub const STATEMENT_LIMIT: usize = 1024 * 1024;

#[derive(Deserialize)]
pub struct ListQuery {
    state: Option<String>,
    page: Option<String>,
    per_page: Option<String>,
}

#[derive(Deserialize)]
pub struct ReconcileQuery {
    dry_run: Option<String>,
}

pub async fn list(
    State(state): State<AppState>,
    _: Operator,
    OperatorQuery(query): OperatorQuery<ListQuery>,
) -> Result<Response, OperatorError> {
    let wanted = match query.state.as_deref() {
        None | Some("") => None,
        Some(s) => Some(
            s.parse()
                .map_err(|e: UnknownTopupState| OperatorError::invalid(e.to_string()))?,
        ),
    };
    let number = |v: Option<String>| v.and_then(|v| v.parse::<i64>().ok());
    let page = Page::new(number(query.page), number(query.per_page));
    let rows = state.dompet.list_topups(wanted, page).await?;
    Ok(Json(TopupListJson::new(&rows, state.dompet.timezone())).into_response())
}

pub async fn confirm(
    State(state): State<AppState>,
    _: Operator,
    OperatorPath(id): OperatorPath<String>,
) -> Result<Response, OperatorError> {
    let id: TopupId = path_id(&id, OperatorError::topup_not_found)?;
    let row = state.dompet.confirm_topup(id).await?;
    Ok(Json(OperatorTopupJson::new(&row, state.dompet.timezone())).into_response())
}

pub async fn cancel(
    State(state): State<AppState>,
    _: Operator,
    OperatorPath(id): OperatorPath<String>,
) -> Result<Response, OperatorError> {
    let id: TopupId = path_id(&id, OperatorError::topup_not_found)?;
    let row = state.dompet.cancel_topup(id).await?;
    Ok(Json(OperatorTopupJson::new(&row, state.dompet.timezone())).into_response())
}

/// The statement is the raw body (`text/csv`, or anything: it is read as
/// CSV whatever the content type says).
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
