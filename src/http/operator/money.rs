//! Operator handlers for postings, the withdrawal queue and the audit.

use axum::{
    extract::State,
    http::StatusCode,
    response::{IntoResponse, Response},
    Json,
};
use serde::Deserialize;
use serde_json::json;
use utoipa::{IntoParams, ToSchema};

use super::{
    error::{OperatorError, OperatorErrorBody},
    list_page, path_id, state_filter, Operator, OperatorJson, OperatorPath, OperatorQuery,
};
use crate::{
    domain::{
        Action, Amount, Mutation, Note, TransactionNo, UserId, WithdrawalId, WithdrawalState,
    },
    http::{
        openapi::{operator_examples as example, OperatorErrors},
        to_completion, AppState,
    },
    service::{Posted, Posting},
    wire::{LedgerReportJson, MutationJson, OperatorWithdrawalJson, WithdrawalListJson},
};

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PostMutation {
    #[schema(value_type = i64, examples(204254))]
    user_id: UserId,
    /// `remit`, `topup`, `refund` (credits) or `payment` (a debit).
    #[schema(schema_with = postable_action)]
    action: String,
    /// Whole rupiah, at least 1.
    #[schema(minimum = 1, examples(50000))]
    amount: i64,
    /// The marketplace transaction this mutation belongs to.
    #[schema(examples(51939))]
    transaction_id: Option<i64>,
    /// The marketplace's transaction number: at most 32 visible ASCII characters.
    #[schema(
        min_length = 1,
        max_length = 32,
        pattern = "^[\\x21-\\x7E]{1,32}$",
        examples("BL13NOV25ABCD")
    )]
    transaction_no: Option<String>,
    /// At most 500 characters, shown to the user in the v2 history.
    #[schema(min_length = 1, max_length = 500, examples("Pencairan dana penjualan"))]
    note: Option<String>,
    /// 1 to 255 bytes. The same key twice applies once and answers the first result.
    #[schema(min_length = 1, max_length = 255, examples("remit-51939"))]
    idempotency_key: String,
}

fn postable_action() -> utoipa::openapi::schema::Object {
    use crate::domain::Action::*;
    use utoipa::openapi::schema::{ObjectBuilder, Type};
    let postable = [Remit, Topup, Refund, Payment, Withdrawal, Restore]
        .into_iter()
        .filter(|action| action.is_postable())
        .map(Action::as_str);
    ObjectBuilder::new()
        .schema_type(Type::String)
        .enum_values(Some(postable))
        .examples(["remit"])
        .build()
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ListQuery {
    /// `pending`, `processed` or `cancelled`; all when absent.
    #[param(schema_with = crate::wire::schema::withdrawal_state)]
    state: Option<String>,
    /// Page number, default 1.
    #[param(value_type = Option<i64>, minimum = 1, example = 1)]
    page: Option<String>,
    /// Records per page, default 10, at most 100.
    #[param(value_type = Option<i64>, minimum = 1, example = 50)]
    per_page: Option<String>,
}

fn mutation_example() -> serde_json::Value {
    json!({"id": 347, "type": "Deposit::Credit", "action": "remit", "amount": 50000,
           "initial_balance": 30000, "final_balance": 80000, "transaction_id": 51939,
           "created_at": "2013-11-25T16:02:11+07:00", "updated_at": "2013-11-25T16:02:11+07:00"})
}

fn withdrawal_example(state: &str) -> serde_json::Value {
    let at = "2013-11-23T10:15:00+07:00";
    json!({"amount": 25000, "bank_account_id": 41812,
           "cancelled_at": if state == "cancelled" { Some(at) } else { None },
           "created_at": "2013-11-22T16:00:39+07:00", "deposit_id": 1, "id": 4,
           "processed_at": if state == "processed" { Some(at) } else { None },
           "state": state,
           "updated_at": if state == "pending" { "2013-11-22T16:00:39+07:00" } else { at },
           "user_id": 204254})
}

/// Credit (`remit`, `topup`, `refund`) or debit (`payment`) a wallet, once per
/// idempotency key.
#[utoipa::path(
    post,
    path = "/mutations",
    tag = "operator",
    security(("bearer" = [])),
    request_body = PostMutation,
    responses(
        (status = 201, body = MutationJson, description = "Posted.", example = json!(mutation_example())),
        (status = 200, body = MutationJson, description = "A replay: the key was posted before with the same fields; the first result.",
         example = json!(mutation_example())),
        (status = 400, body = OperatorErrorBody, description = "A body that cannot be read, an unknown action, an amount below 1.",
         example = json!(example::invalid())),
        (status = 404, body = OperatorErrorBody, description = "No such user.",
         example = json!(example::user_not_found())),
        (status = 409, body = OperatorErrorBody, description = "The key was used with other fields.",
         example = json!(example::key_reused())),
        (status = 413, body = OperatorErrorBody, description = "A body over 16 KiB.",
         example = json!(example::too_large())),
        (status = 422, body = OperatorErrorBody, description = "A debit over the balance, or a credit past the largest balance.",
         example = json!(example::insufficient_balance())),
        OperatorErrors,
    ),
)]
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

/// The withdrawal queue, oldest first.
#[utoipa::path(
    get,
    path = "/withdrawals",
    tag = "operator",
    security(("bearer" = [])),
    params(ListQuery),
    responses(
        (status = 200, body = WithdrawalListJson,
         example = json!({"withdrawals": [withdrawal_example("pending")]})),
        (status = 400, body = OperatorErrorBody, description = "An unknown state.",
         example = json!(example::invalid())),
        OperatorErrors,
    ),
)]
pub async fn list_withdrawals(
    State(state): State<AppState>,
    _: Operator,
    OperatorQuery(query): OperatorQuery<ListQuery>,
) -> Result<Response, OperatorError> {
    let wanted: Option<WithdrawalState> = state_filter(query.state.as_deref())?;
    let page = list_page(query.page, query.per_page);
    let rows = state.dompet.list_withdrawals(wanted, page).await?;
    Ok(Json(WithdrawalListJson::new(&rows, state.dompet.timezone())).into_response())
}

/// Mark a pending withdrawal as paid out.
#[utoipa::path(
    post,
    path = "/withdrawals/{id}/process",
    tag = "operator",
    security(("bearer" = [])),
    params(("id" = i64, Path, description = "The withdrawal id.")),
    responses(
        (status = 200, body = OperatorWithdrawalJson, example = json!(withdrawal_example("processed"))),
        (status = 404, body = OperatorErrorBody, description = "No such withdrawal.",
         example = json!(example::withdrawal_not_found())),
        (status = 409, body = OperatorErrorBody, description = "The withdrawal is not pending.",
         example = json!(example::not_pending())),
        OperatorErrors,
    ),
)]
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

/// Cancel a pending withdrawal: its debit is restored to the wallet by a
/// `restore` credit in the same transaction.
#[utoipa::path(
    post,
    path = "/withdrawals/{id}/cancel",
    tag = "operator",
    security(("bearer" = [])),
    params(("id" = i64, Path, description = "The withdrawal id.")),
    responses(
        (status = 200, body = OperatorWithdrawalJson, example = json!(withdrawal_example("cancelled"))),
        (status = 404, body = OperatorErrorBody, description = "No such withdrawal.",
         example = json!(example::withdrawal_not_found())),
        (status = 409, body = OperatorErrorBody, description = "The withdrawal is not pending.",
         example = json!(example::not_pending())),
        OperatorErrors,
    ),
)]
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

/// Check every ledger invariant over one snapshot.
#[utoipa::path(
    get,
    path = "/ledger/verify",
    tag = "operator",
    security(("bearer" = [])),
    responses(
        (status = 200, body = LedgerReportJson, description = "The audit; `ok` is false when any invariant is violated.",
         example = json!({"ok": true, "users_checked": 2, "violations": []})),
        OperatorErrors,
    ),
)]
pub async fn verify_ledger(
    State(state): State<AppState>,
    _: Operator,
) -> Result<Response, OperatorError> {
    let report = state.dompet.verify_ledger().await?;
    Ok(Json(LedgerReportJson::from(&report)).into_response())
}
