//! `POST /v2/authenticate.json` (SPEC §5.1): Basic `login:password` for a new
//! API token. Always HTTP 200; clients read `status`.

use axum::{
    extract::State,
    http::{header, HeaderMap},
    Json,
};

use super::{auth::basic_credentials, texts::LoginAnswer, PublicError};
use crate::{http::AppState, service::Credentials};

/// The body, if any, is ignored.
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
