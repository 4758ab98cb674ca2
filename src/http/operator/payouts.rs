//! Operator handlers for payouts in batches: the bulk-transfer export and
//! batch process/cancel (SPEC §5.4).

use axum::{
    extract::State,
    http::header,
    response::{IntoResponse, Response},
    Json,
};
use serde::Deserialize;
use utoipa::{IntoParams, ToSchema};

use super::{
    error::{OperatorError, OperatorErrorBody},
    state_filter, Operator, OperatorJson, OperatorQuery,
};
use crate::{
    domain::{WithdrawalId, WithdrawalState},
    http::{
        openapi::{operator_examples as example, OperatorErrors},
        AppState,
    },
    service::ServiceError,
    wire::{payout_csv, ErrorDetailJson, FailedJson, OperatorWithdrawalJson, SettledJson},
};

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ExportQuery {
    /// `pending` (the default), `processed` or `cancelled`.
    #[param(schema_with = crate::wire::schema::withdrawal_state)]
    state: Option<String>,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Batch {
    /// The withdrawals to settle; each succeeds or fails on its own.
    #[schema(value_type = Vec<i64>, examples(json!([4, 5, 6])))]
    ids: Vec<WithdrawalId>,
}

/// The bulk-transfer file for the bank: the withdrawals in `state` (pending
/// unless told), oldest first, one line each with the ticket `#C<id>` as its
/// reference.
#[utoipa::path(
    get,
    path = "/withdrawals/export.csv",
    tag = "operator",
    security(("bearer" = [])),
    params(ExportQuery),
    responses(
        (status = 200, content_type = "text/csv; charset=utf-8", body = String,
         description = "`reference,bank_name,account_number,account_name,amount`, then a line per payout.",
         headers(("Content-Disposition" = String, description = "`attachment; filename=\"payouts-pending.csv\"`")),
         example = json!("reference,bank_name,account_number,account_name,amount\n#C4,BCA,0123456789,Siti,25000\n")),
        (status = 400, body = OperatorErrorBody, description = "An unknown state.",
         example = json!(example::invalid())),
        OperatorErrors,
    ),
)]
pub async fn export(
    State(state): State<AppState>,
    _: Operator,
    OperatorQuery(query): OperatorQuery<ExportQuery>,
) -> Result<Response, OperatorError> {
    let wanted = state_filter(query.state.as_deref())?.unwrap_or(WithdrawalState::Pending);
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

/// Mark a batch of pending withdrawals as paid out.
#[utoipa::path(
    post,
    path = "/withdrawals/process",
    tag = "operator",
    security(("bearer" = [])),
    request_body = Batch,
    responses(
        (status = 200, body = SettledJson, description = "Whatever the individual outcomes: the answer lists them.",
         example = json!({"succeeded": [], "failed": [{"id": 5, "error": {"code": "withdrawal_not_found", "message": "withdrawal not found"}}]})),
        (status = 400, body = OperatorErrorBody, description = "A body that cannot be read.",
         example = json!(example::invalid())),
        (status = 413, body = OperatorErrorBody, description = "A body over 16 KiB.",
         example = json!(example::too_large())),
        OperatorErrors,
    ),
)]
pub async fn process(
    state: State<AppState>,
    _: Operator,
    OperatorJson(batch): OperatorJson<Batch>,
) -> Result<Response, OperatorError> {
    settle(state, batch, WithdrawalState::Processed).await
}

/// Cancel a batch of pending withdrawals (a failed payout), restoring each
/// one's money.
#[utoipa::path(
    post,
    path = "/withdrawals/cancel",
    tag = "operator",
    security(("bearer" = [])),
    request_body = Batch,
    responses(
        (status = 200, body = SettledJson, description = "Whatever the individual outcomes: the answer lists them.",
         example = json!({"succeeded": [], "failed": [{"id": 5, "error": {"code": "withdrawal_not_found", "message": "withdrawal not found"}}]})),
        (status = 400, body = OperatorErrorBody, description = "A body that cannot be read.",
         example = json!(example::invalid())),
        (status = 413, body = OperatorErrorBody, description = "A body over 16 KiB.",
         example = json!(example::too_large())),
        OperatorErrors,
    ),
)]
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
