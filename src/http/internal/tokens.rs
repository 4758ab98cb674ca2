//! Operator handlers for a user's API tokens and password (SPEC §5.1).

use axum::{extract::State, Json};
use serde::Deserialize;

use super::{error::AdminError, path_id, AdminJson, AdminPath, Operator};
use crate::{
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
    AdminPath(user_id): AdminPath<String>,
) -> Result<Json<TokenListJson>, AdminError> {
    let user_id = path_id(&user_id, AdminError::user_not_found)?;
    let tokens = state.dompet.tokens(user_id).await?;
    Ok(Json(TokenListJson::new(&tokens, state.dompet.timezone())))
}

pub async fn revoke(
    State(state): State<AppState>,
    _: Operator,
    AdminPath((user_id, token_id)): AdminPath<(String, String)>,
) -> Result<Json<RevokedJson>, AdminError> {
    let user_id = path_id(&user_id, AdminError::user_not_found)?;
    let token_id = path_id(&token_id, AdminError::token_not_found)?;
    let revoked = state.dompet.revoke_token(user_id, token_id).await?;
    Ok(Json(revoked.into()))
}

pub async fn revoke_all(
    State(state): State<AppState>,
    _: Operator,
    AdminPath(user_id): AdminPath<String>,
) -> Result<Json<RevokedJson>, AdminError> {
    let user_id = path_id(&user_id, AdminError::user_not_found)?;
    let revoked = state.dompet.revoke_tokens(user_id).await?;
    Ok(Json(revoked.into()))
}

/// Replaces the password and revokes every token of the user.
pub async fn set_password(
    State(state): State<AppState>,
    _: Operator,
    AdminPath(user_id): AdminPath<String>,
    AdminJson(body): AdminJson<SetPassword>,
) -> Result<Json<RevokedJson>, AdminError> {
    let user_id = path_id(&user_id, AdminError::user_not_found)?;
    let revoked = state.dompet.set_password(user_id, body.password).await?;
    Ok(Json(revoked.into()))
}
