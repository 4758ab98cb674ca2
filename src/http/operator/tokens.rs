//! Operator handlers for a user's API tokens and password (SPEC §5.1).

use axum::{extract::State, Json};
use serde::Deserialize;

use super::{error::OperatorError, path_id, Operator, OperatorJson, OperatorPath};
use crate::{
    domain::{TokenId, UserId},
    http::AppState,
    wire::{RevokedJson, TokenListJson},
};

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SetPassword {
    password: String,
}

pub async fn list(
    State(state): State<AppState>,
    _: Operator,
    OperatorPath(user_id): OperatorPath<String>,
) -> Result<Json<TokenListJson>, OperatorError> {
    let user_id: UserId = path_id(&user_id, OperatorError::user_not_found)?;
    let tokens = state.dompet.tokens(user_id).await?;
    Ok(Json(TokenListJson::new(&tokens, state.dompet.timezone())))
}

pub async fn revoke(
    State(state): State<AppState>,
    _: Operator,
    OperatorPath((user_id, token_id)): OperatorPath<(String, String)>,
) -> Result<Json<RevokedJson>, OperatorError> {
    let user_id: UserId = path_id(&user_id, OperatorError::user_not_found)?;
    let token_id: TokenId = path_id(&token_id, OperatorError::token_not_found)?;
    let revoked = state.dompet.revoke_token(user_id, token_id).await?;
    Ok(Json(revoked.into()))
}

pub async fn revoke_all(
    State(state): State<AppState>,
    _: Operator,
    OperatorPath(user_id): OperatorPath<String>,
) -> Result<Json<RevokedJson>, OperatorError> {
    let user_id: UserId = path_id(&user_id, OperatorError::user_not_found)?;
    let revoked = state.dompet.revoke_tokens(user_id).await?;
    Ok(Json(revoked.into()))
}

/// Replaces the password and revokes every token of the user.
pub async fn set_password(
    State(state): State<AppState>,
    _: Operator,
    OperatorPath(user_id): OperatorPath<String>,
    OperatorJson(body): OperatorJson<SetPassword>,
) -> Result<Json<RevokedJson>, OperatorError> {
    let user_id: UserId = path_id(&user_id, OperatorError::user_not_found)?;
    let revoked = state.dompet.set_password(user_id, body.password).await?;
    Ok(Json(revoked.into()))
}
