//! `POST /v2/authenticate.json` (SPEC §5.1): Basic `login:password` for a new
//! API token. Always HTTP 200; clients read `status`.

use axum::{
    extract::State,
    http::{header, HeaderMap},
    Json,
};

use super::{
    auth::basic_credentials,
    texts::{self, LoginAnswer},
    PublicError,
};
use crate::{
    http::{openapi::LoginErrors, AppState},
    service::Credentials,
};

/// Login: HTTP Basic `login:password` (the username or the email, not the
/// user id and token) for a new API token, one per device; a user holds at
/// most 10 (the 11th login revokes the oldest). Always HTTP 200, with or
/// without credentials: clients read `status`. 5 failed logins for one login
/// name within 30 minutes refuse that name for 30 minutes. A body, if any, is
/// ignored.
#[utoipa::path(
    post,
    path = "/v2/authenticate.json",
    tag = "public",
    // The credentials are the request itself: without them the answer is
    // the failure body, not a 401.
    security((), ("basic" = [])),
    responses(
        (status = 200, body = LoginAnswer,
         examples(
             ("Success" = (value = json!({
                 "status": "OK", "user_id": "204254", "user_name": "demo", "confirmed": true,
                 "token": "Sy7PRGGr4foUk22uzjMu", "email": "demo@example.com",
                 "omnikey": "0f8e4c2a9b7d61e35a4c0b9d8e7f6a51", "message": null
             }))),
             ("Invalid" = (value = json!({
                 "status": "ERROR", "user_id": null, "user_name": null, "confirmed": false,
                 "token": null, "email": null, "omnikey": null, "message": texts::LOGIN_INVALID
             }))),
             ("Throttled" = (value = json!({
                 "status": "ERROR", "user_id": null, "user_name": null, "confirmed": false,
                 "token": null, "email": null, "omnikey": null, "message": texts::LOGIN_THROTTLED
             }))),
         )),
        LoginErrors,
    ),
)]
pub async fn authenticate(
    State(state): State<AppState>,
    headers: HeaderMap,
) -> Result<Json<LoginAnswer>, PublicError> {
    let credentials = headers
        .get(header::AUTHORIZATION)
        .and_then(basic_credentials)
        .map(|(login, password)| Credentials { login, password });
    let outcome = state.dompet.login(credentials).await?;
    Ok(Json(outcome.into()))
}
