//! Operator handlers for a user's API tokens and password (SPEC §5.1).

use axum::{extract::State, Json};
use serde::Deserialize;
use utoipa::ToSchema;

use super::{
    error::{OperatorError, OperatorErrorBody},
    path_id, Operator, OperatorJson, OperatorPath,
};
use crate::{
    domain::{TokenId, UserId},
    http::{
        openapi::{operator_examples as example, OperatorErrors},
        AppState,
    },
    wire::{RevokedJson, TokenListJson},
};

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SetPassword {
    /// 8 to 1024 characters.
    #[schema(format = Password, min_length = 8, max_length = 1024, examples("rahasia-456"))]
    password: String,
}

/// A user's API tokens (id and creation time; never the token), oldest first.
#[utoipa::path(
    get,
    path = "/users/{id}/tokens",
    tag = "operator",
    security(("bearer" = [])),
    params(("id" = i64, Path, description = "The user id.")),
    responses(
        (status = 200, body = TokenListJson,
         example = json!({"tokens": [{"id": 7, "created_at": "2013-11-25T15:32:47+07:00"}]})),
        (status = 404, body = OperatorErrorBody, description = "No such user.",
         example = json!(example::user_not_found())),
        OperatorErrors,
    ),
)]
pub async fn list(
    State(state): State<AppState>,
    _: Operator,
    OperatorPath(user_id): OperatorPath<String>,
) -> Result<Json<TokenListJson>, OperatorError> {
    let user_id: UserId = path_id(&user_id, OperatorError::user_not_found)?;
    let tokens = state.dompet.tokens(user_id).await?;
    Ok(Json(TokenListJson::new(&tokens, state.dompet.timezone())))
}

/// Revoke one of a user's tokens.
#[utoipa::path(
    delete,
    path = "/users/{id}/tokens/{token_id}",
    tag = "operator",
    security(("bearer" = [])),
    params(("id" = i64, Path, description = "The user id."),
           ("token_id" = i64, Path, description = "The token's id (from the list).")),
    responses(
        (status = 200, body = RevokedJson, example = json!({"user_id": 204254, "revoked": 1})),
        (status = 404, body = OperatorErrorBody, description = "No such user, or no such token of the user.",
         example = json!(example::token_not_found())),
        OperatorErrors,
    ),
)]
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

/// Revoke every token of a user.
#[utoipa::path(
    delete,
    path = "/users/{id}/tokens",
    tag = "operator",
    security(("bearer" = [])),
    params(("id" = i64, Path, description = "The user id.")),
    responses(
        (status = 200, body = RevokedJson, example = json!({"user_id": 204254, "revoked": 3})),
        (status = 404, body = OperatorErrorBody, description = "No such user.",
         example = json!(example::user_not_found())),
        OperatorErrors,
    ),
)]
pub async fn revoke_all(
    State(state): State<AppState>,
    _: Operator,
    OperatorPath(user_id): OperatorPath<String>,
) -> Result<Json<RevokedJson>, OperatorError> {
    let user_id: UserId = path_id(&user_id, OperatorError::user_not_found)?;
    let revoked = state.dompet.revoke_tokens(user_id).await?;
    Ok(Json(revoked.into()))
}

/// Replace a user's password; every token of the user is revoked.
#[utoipa::path(
    post,
    path = "/users/{id}/password",
    tag = "operator",
    security(("bearer" = [])),
    params(("id" = i64, Path, description = "The user id.")),
    request_body = SetPassword,
    responses(
        (status = 200, body = RevokedJson, example = json!({"user_id": 204254, "revoked": 3})),
        (status = 400, body = OperatorErrorBody, description = "A body that cannot be read, or a password the rules refuse.",
         example = json!(example::invalid())),
        (status = 404, body = OperatorErrorBody, description = "No such user.",
         example = json!(example::user_not_found())),
        (status = 413, body = OperatorErrorBody, description = "A body over 16 KiB.",
         example = json!(example::too_large())),
        OperatorErrors,
    ),
)]
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
