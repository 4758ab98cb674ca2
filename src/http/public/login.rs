//! `POST /v2/authenticate.json` (SPEC §5.1): Basic `login:password` for a new
//! API token. Always HTTP 200; clients read `status`.

use axum::{extract::State, http::HeaderMap, Json};
use serde::Serialize;

use super::{auth::basic_credentials, PublicError};
use crate::{
    http::AppState,
    service::{Credentials, LoginOutcome},
};

const INVALID: &str = "Username atau password tidak valid";
const THROTTLED: &str = "Terlalu banyak percobaan login. Coba lagi nanti.";

/// The later Dompet document's login answer, keys in its order; `user_id`
/// is a JSON string there.
#[derive(Serialize)]
pub struct LoginAnswer {
    status: &'static str,
    user_id: Option<String>,
    user_name: Option<String>,
    confirmed: bool,
    token: Option<String>,
    email: Option<String>,
    omnikey: Option<String>,
    message: Option<&'static str>,
}

impl LoginAnswer {
    fn refused(message: &'static str) -> Self {
        Self {
            status: "ERROR",
            user_id: None,
            user_name: None,
            confirmed: false,
            token: None,
            email: None,
            omnikey: None,
            message: Some(message),
        }
    }
}

impl From<LoginOutcome> for LoginAnswer {
    fn from(outcome: LoginOutcome) -> Self {
        match outcome {
            // The back office vouches for every user it creates.
            LoginOutcome::LoggedIn(session) => Self {
                status: "OK",
                user_id: Some(session.user_id.to_string()),
                user_name: Some(session.user_name),
                confirmed: true,
                token: Some(session.token),
                email: Some(session.email),
                omnikey: Some(session.omnikey),
                message: None,
            },
            LoginOutcome::Invalid => Self::refused(INVALID),
            LoginOutcome::Throttled => Self::refused(THROTTLED),
        }
    }
}

/// The body, if any, is ignored.
pub async fn authenticate(
    State(state): State<AppState>,
    headers: HeaderMap,
) -> Result<Json<LoginAnswer>, PublicError> {
    let credentials = headers
        .get(axum::http::header::AUTHORIZATION)
        .and_then(basic_credentials)
        .map(|(login, password)| Credentials { login, password });
    let outcome = state.dompet.login(credentials).await?;
    Ok(Json(outcome.into()))
}
