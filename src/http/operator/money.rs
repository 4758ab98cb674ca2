//! Operator handlers for postings, the withdrawal queue and the audit.

use axum::{
    extract::State,
    http::StatusCode,
    response::{IntoResponse, Response},
    Json,
};
use serde::Deserialize;

use super::{error::OperatorError, path_id, Operator, OperatorJson, OperatorPath, OperatorQuery};
use crate::{
    domain::{Action, Amount, Mutation, Note, TransactionNo, UserId, WithdrawalId},
    http::{to_completion, AppState},
    service::{Page, Posted, Posting},
    wire::{LedgerReportJson, MutationJson, OperatorWithdrawalJson, WithdrawalListJson},
};

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PostMutation {
    user_id: UserId,
    action: String,
    amount: i64,
    transaction_id: Option<i64>,
    transaction_no: Option<String>,
    note: Option<String>,
    idempotency_key: String,
}

#[derive(Deserialize)]
pub struct ListQuery {
    state: Option<String>,
    page: Option<String>,
    per_page: Option<String>,
}

pub async fn post_mutation(
    State(state): State<AppState>,
    _: Operator,
    OperatorJson(body): OperatorJson<PostMutation>,
) -> Result<Response, OperatorError> {
    let action: Action = body
        .action
        .parse()
        .map_err(|e: crate::domain::UnknownAction| OperatorError::invalid(e.to_string()))?;
    let amount = Amount::new(body.amount)
        .ok_or_else(|| OperatorError::invalid("amount must be a whole number ≥ 1"))?;
    let transaction_no = body
        .transaction_no
        .map(TransactionNo::parse)
        .transpose()
        .map_err(OperatorError::invalid)?;
    let note = body
        .note
        .map(Note::parse)
        .transpose()
        .map_err(OperatorError::invalid)?;
    let posting = Posting {
        user_id: body.user_id,
        action,
        amount,
        transaction_id: body.transaction_id,
        transaction_no,
        note,
        idempotency_key: body.idempotency_key,
    };
    let tz = state.dompet.timezone();
    let dompet = state.dompet.clone();
    let posted = to_completion(async move { dompet.post_mutation(posting).await }).await?;
    let (status, row): (StatusCode, Mutation) = match posted {
        Posted::Created(row) => (StatusCode::CREATED, row),
        Posted::Replayed(row) => (StatusCode::OK, row),
    };
    Ok((status, Json(MutationJson::new(&row, tz))).into_response())
}

pub async fn list_withdrawals(
    State(state): State<AppState>,
    _: Operator,
    OperatorQuery(query): OperatorQuery<ListQuery>,
) -> Result<Response, OperatorError> {
    let wanted = match query.state.as_deref() {
        None | Some("") => None,
        Some(s) => Some(
            s.parse()
                .map_err(|e: crate::domain::UnknownState| OperatorError::invalid(e.to_string()))?,
        ),
    };
    let number = |v: Option<String>| v.and_then(|v| v.parse::<i64>().ok());
    let page = Page::new(number(query.page), number(query.per_page));
    let rows = state.dompet.list_withdrawals(wanted, page).await?;
    Ok(Json(WithdrawalListJson::new(&rows, state.dompet.timezone())).into_response())
}

pub async fn process_withdrawal(
    State(state): State<AppState>,
    _: Operator,
    OperatorPath(id): OperatorPath<String>,
) -> Result<Response, OperatorError> {
    let id: WithdrawalId = path_id(&id, OperatorError::withdrawal_not_found)?;
    let dompet = state.dompet.clone();
    let row = to_completion(async move { dompet.process_withdrawal(id).await }).await?;
    Ok(Json(OperatorWithdrawalJson::new(&row, state.dompet.timezone())).into_response())
}

pub async fn cancel_withdrawal(
    State(state): State<AppState>,
    _: Operator,
    OperatorPath(id): OperatorPath<String>,
) -> Result<Response, OperatorError> {
    let id: WithdrawalId = path_id(&id, OperatorError::withdrawal_not_found)?;
    let dompet = state.dompet.clone();
    let row = to_completion(async move { dompet.cancel_withdrawal(id).await }).await?;
    Ok(Json(OperatorWithdrawalJson::new(&row, state.dompet.timezone())).into_response())
}

pub async fn verify_ledger(
    State(state): State<AppState>,
    _: Operator,
) -> Result<Response, OperatorError> {
    let report = state.dompet.verify_ledger().await?;
    Ok(Json(LedgerReportJson::from(&report)).into_response())
}
