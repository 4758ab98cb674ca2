//! Operator handlers for users and their bank accounts.

use axum::{
    extract::State,
    http::StatusCode,
    response::{IntoResponse, Response},
    Json,
};
use serde::Deserialize;

use super::{error::OperatorError, path_id, Operator, OperatorJson, OperatorPath};
use crate::{
    domain::{BankAccountId, UserId},
    http::{to_completion, AppState},
    service::{NewBankAccount, NewUser},
    wire::{BankAccountJson, CreatedUserJson, UserJson},
};

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CreateUser {
    username: String,
    email: String,
    password: String,
    id: Option<UserId>,
    token: Option<String>,
    name: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AddBankAccount {
    bank_name: String,
    account_number: String,
    account_name: String,
    id: Option<BankAccountId>,
}

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

pub async fn show(
    State(state): State<AppState>,
    _: Operator,
    OperatorPath(id): OperatorPath<String>,
) -> Result<Response, OperatorError> {
    let id: UserId = path_id(&id, OperatorError::user_not_found)?;
    let user = state.dompet.user(id).await?;
    Ok(Json(UserJson::from(&user)).into_response())
}

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
