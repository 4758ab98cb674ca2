//! Operator handlers for payouts in batches: the bulk-transfer export and
//! batch process/cancel (SPEC §5.4).

use axum::{
    extract::State,
    http::header,
    response::{IntoResponse, Response},
    Json,
};
use serde::Deserialize;

use super::{error::OperatorError, Operator, OperatorJson, OperatorQuery};
use crate::{
    domain::{UnknownState, WithdrawalId, WithdrawalState},
    http::AppState,
    service::ServiceError,
    wire::{payout_csv, ErrorDetailJson, FailedJson, OperatorWithdrawalJson, SettledJson},
};

#[derive(Deserialize)]
pub struct ExportQuery {
    state: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Batch {
    ids: Vec<WithdrawalId>,
}

/// `text/csv`: the withdrawals in `state` (pending unless told), oldest
/// first, one line each.
pub async fn export(
    State(state): State<AppState>,
    _: Operator,
    OperatorQuery(query): OperatorQuery<ExportQuery>,
) -> Result<Response, OperatorError> {
    let wanted = match query.state.as_deref() {
        None | Some("") => WithdrawalState::Pending,
        Some(s) => s
            .parse()
            .map_err(|e: UnknownState| OperatorError::invalid(e.to_string()))?,
    };
    let rows = state.dompet.payouts(wanted).await?;
    let csv = payout_csv(&rows)
        .map_err(|e| ServiceError::internal_from("cannot write the payout file", e))?;
    let disposition = format!("attachment; filename=\"payouts-{}.csv\"", wanted.as_str());
    Ok((
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8".to_owned()),
            (header::CONTENT_DISPOSITION, disposition),
        ],
        csv,
    )
        .into_response())
}

pub async fn process(
    state: State<AppState>,
    _: Operator,
    OperatorJson(batch): OperatorJson<Batch>,
) -> Result<Response, OperatorError> {
    settle(state, batch, WithdrawalState::Processed).await
}

pub async fn cancel(
    state: State<AppState>,
    _: Operator,
    OperatorJson(batch): OperatorJson<Batch>,
) -> Result<Response, OperatorError> {
    settle(state, batch, WithdrawalState::Cancelled).await
}

/// 200 whatever the individual outcomes: the answer lists them.
async fn settle(
    State(state): State<AppState>,
    batch: Batch,
    to: WithdrawalState,
) -> Result<Response, OperatorError> {
    let settled = state.dompet.settle_withdrawals(&batch.ids, to).await?;
    let tz = state.dompet.timezone();
    let errors: Vec<(WithdrawalId, OperatorError)> = settled
        .failed
        .into_iter()
        .map(|(id, e)| (id, OperatorError::from(e)))
        .collect();
    let body = SettledJson {
        succeeded: settled
            .succeeded
            .iter()
            .map(|w| OperatorWithdrawalJson::new(w, tz))
            .collect(),
        failed: errors
            .iter()
            .map(|(id, e)| FailedJson {
                id: *id,
                error: ErrorDetailJson {
                    code: e.code(),
                    message: e.message(),
                },
            })
            .collect(),
    };
    Ok(Json(body).into_response())
}
