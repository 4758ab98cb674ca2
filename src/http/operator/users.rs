//! Operator handlers for users and their bank accounts.

use axum::{
    extract::State,
    http::StatusCode,
    response::{IntoResponse, Response},
    Json,
};
use serde::Deserialize;
use utoipa::ToSchema;

use super::{
    error::{OperatorError, OperatorErrorBody},
    path_id, Operator, OperatorJson, OperatorPath,
};
use crate::{
    domain::{BankAccountId, UserId},
    http::{
        openapi::{operator_examples as example, OperatorErrors},
        to_completion, AppState,
    },
    service::{NewBankAccount, NewUser},
    wire::{BankAccountJson, CreatedUserJson, UserJson},
};

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateUser {
    /// 1 to 100 characters, not only spaces; unique.
    #[schema(min_length = 1, max_length = 100, examples("siti"))]
    username: String,
    /// An address (with `@`) of at most 254 characters; unique.
    #[schema(min_length = 3, max_length = 254, examples("siti@example.com"))]
    email: String,
    /// 8 to 1024 characters.
    #[schema(format = Password, min_length = 8, max_length = 1024, examples("rahasia-123"))]
    password: String,
    /// Import with this id (else the next free one).
    #[schema(value_type = Option<i64>, minimum = 1, maximum = 4611686018427387903_i64)]
    id: Option<UserId>,
    /// Import with this API token (else a new one): 20 to 128 characters of `[A-Za-z0-9]`.
    #[schema(pattern = "^[A-Za-z0-9]{20,128}$")]
    token: Option<String>,
    /// The display name logins answer with (1 to 100 characters); the username when absent.
    #[schema(min_length = 1, max_length = 100, examples("Siti Rahayu"))]
    name: Option<String>,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AddBankAccount {
    /// 1 to 200 characters, not only spaces (as are the next two).
    #[schema(min_length = 1, max_length = 200, examples("BCA"))]
    bank_name: String,
    #[schema(min_length = 1, max_length = 200, examples("0123456789"))]
    account_number: String,
    #[schema(min_length = 1, max_length = 200, examples("Siti"))]
    account_name: String,
    /// Import with this id (else the next free one).
    #[schema(value_type = Option<i64>, minimum = 1, maximum = 4611686018427387903_i64)]
    id: Option<BankAccountId>,
}

/// Create a user and its wallet. The API token is shown only in this answer.
#[utoipa::path(
    post,
    path = "/users",
    tag = "operator",
    security(("bearer" = [])),
    request_body = CreateUser,
    responses(
        (status = 201, body = CreatedUserJson, description = "Created.",
         example = json!({"id": 204255, "username": "siti", "email": "siti@example.com",
                          "deposit_id": 2, "token": "q8GZ0vBtXn3YwLk5Rj7PaHd2Mc9TfE1s"})),
        (status = 400, body = OperatorErrorBody, description = "A body that cannot be read, or a field the rules refuse.",
         example = json!(example::invalid())),
        (status = 409, body = OperatorErrorBody, description = "The id, username, email or token is taken.",
         example = json!(example::conflict())),
        (status = 413, body = OperatorErrorBody, description = "A body over 16 KiB.",
         example = json!(example::too_large())),
        OperatorErrors,
    ),
)]
pub async fn create(
    State(state): State<AppState>,
    _: Operator,
    OperatorJson(body): OperatorJson<CreateUser>,
) -> Result<Response, OperatorError> {
    let new = NewUser {
        username: body.username,
        email: body.email,
        password: body.password,
        id: body.id,
        token: body.token,
        name: body.name,
    };
    let dompet = state.dompet.clone();
    let user = to_completion(async move { dompet.create_user(new).await }).await?;
    Ok((StatusCode::CREATED, Json(CreatedUserJson::from(&user))).into_response())
}

/// A user with its wallet balance.
#[utoipa::path(
    get,
    path = "/users/{id}",
    tag = "operator",
    security(("bearer" = [])),
    params(("id" = i64, Path, description = "The user id.")),
    responses(
        (status = 200, body = UserJson,
         example = json!({"id": 204254, "username": "demo", "email": "demo@example.com",
                          "deposit_id": 1, "balance": 30000})),
        (status = 404, body = OperatorErrorBody, description = "No such user.",
         example = json!(example::user_not_found())),
        OperatorErrors,
    ),
)]
pub async fn show(
    State(state): State<AppState>,
    _: Operator,
    OperatorPath(id): OperatorPath<String>,
) -> Result<Response, OperatorError> {
    let id: UserId = path_id(&id, OperatorError::user_not_found)?;
    let user = state.dompet.user(id).await?;
    Ok(Json(UserJson::from(&user)).into_response())
}

/// Add a bank account to a user (a withdrawal's destination).
#[utoipa::path(
    post,
    path = "/users/{id}/bank_accounts",
    tag = "operator",
    security(("bearer" = [])),
    params(("id" = i64, Path, description = "The user id.")),
    request_body = AddBankAccount,
    responses(
        (status = 201, body = BankAccountJson, description = "Created.",
         example = json!({"id": 41813, "user_id": 204255, "bank_name": "BCA",
                          "account_number": "0123456789", "account_name": "Siti"})),
        (status = 400, body = OperatorErrorBody, description = "A body that cannot be read, or a field the rules refuse.",
         example = json!(example::invalid())),
        (status = 404, body = OperatorErrorBody, description = "No such user.",
         example = json!(example::user_not_found())),
        (status = 409, body = OperatorErrorBody, description = "The id is taken.",
         example = json!(example::conflict())),
        (status = 413, body = OperatorErrorBody, description = "A body over 16 KiB.",
         example = json!(example::too_large())),
        OperatorErrors,
    ),
)]
pub async fn add_bank_account(
    State(state): State<AppState>,
    _: Operator,
    OperatorPath(user_id): OperatorPath<String>,
    OperatorJson(body): OperatorJson<AddBankAccount>,
) -> Result<Response, OperatorError> {
    let user_id: UserId = path_id(&user_id, OperatorError::user_not_found)?;
    let new = NewBankAccount {
        bank_name: body.bank_name,
        account_number: body.account_number,
        account_name: body.account_name,
        id: body.id,
    };
    let dompet = state.dompet.clone();
    let account = to_completion(async move { dompet.add_bank_account(user_id, new).await }).await?;
    Ok((StatusCode::CREATED, Json(BankAccountJson::from(&account))).into_response())
}
