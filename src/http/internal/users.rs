//! Operator handlers for users and their bank accounts.

use axum::{
    extract::State,
    http::StatusCode,
    response::{IntoResponse, Response},
    Json,
};
use serde::Deserialize;

use super::{error::AdminError, path_id, AdminJson, AdminPath, Operator};
use crate::{
    http::AppState,
    service::{NewBankAccount, NewUser},
    wire::{BankAccountJson, CreatedUserJson, UserJson},
};

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CreateUser {
    username: String,
    email: String,
    password: String,
    id: Option<i64>,
    token: Option<String>,
    name: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AddBankAccount {
    bank_name: String,
    account_number: String,
    account_name: String,
    id: Option<i64>,
}

pub async fn create(
    State(state): State<AppState>,
    _: Operator,
    AdminJson(body): AdminJson<CreateUser>,
) -> Result<Response, AdminError> {
    let new = NewUser {
        username: body.username,
        email: body.email,
        password: body.password,
        id: body.id,
        token: body.token,
        name: body.name,
    };
    let user = state.dompet.create_user(new).await?;
    Ok((StatusCode::CREATED, Json(CreatedUserJson::from(&user))).into_response())
}

pub async fn show(
    State(state): State<AppState>,
    _: Operator,
    AdminPath(id): AdminPath<String>,
) -> Result<Response, AdminError> {
    let id = path_id(&id, AdminError::user_not_found)?;
    let user = state.dompet.user(id).await?;
    Ok(Json(UserJson::from(&user)).into_response())
}

pub async fn add_bank_account(
    State(state): State<AppState>,
    _: Operator,
    AdminPath(user_id): AdminPath<String>,
    AdminJson(body): AdminJson<AddBankAccount>,
) -> Result<Response, AdminError> {
    let user_id = path_id(&user_id, AdminError::user_not_found)?;
    let new = NewBankAccount {
        bank_name: body.bank_name,
        account_number: body.account_number,
        account_name: body.account_name,
        id: body.id,
    };
    let account = state.dompet.add_bank_account(user_id, new).await?;
    Ok((StatusCode::CREATED, Json(BankAccountJson::from(&account))).into_response())
}
