//! HTTP Basic `user_id:api_token`, one 401 for every way it can fail.

use axum::{
    extract::FromRequestParts,
    http::{header, request::Parts, HeaderValue},
};
use base64::{engine::general_purpose::STANDARD, Engine as _};

use super::PublicError;
use crate::{domain::UserId, http::AppState, service::ApiToken};

/// The authenticated user's id.
pub struct PublicUser(pub UserId);

impl FromRequestParts<AppState> for PublicUser {
    type Rejection = PublicError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let BasicToken(credentials) = BasicToken::from_request_parts(parts, state).await?;
        match state.dompet.authenticate(&credentials).await? {
            Some(id) => Ok(Self(id)),
            None => Err(unauthorized()),
        }
    }
}

/// The Basic credentials as sent, for a service call that checks them on the
/// same connection as its read (the histories).
pub struct BasicToken(pub ApiToken);

impl<S: Send + Sync> FromRequestParts<S> for BasicToken {
    type Rejection = PublicError;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        match parts
            .headers
            .get(header::AUTHORIZATION)
            .and_then(basic_credentials)
        {
            Some((user_id, token)) => Ok(Self(ApiToken { user_id, token })),
            None => {
                tracing::debug!("missing or malformed Basic credentials");
                Err(PublicError::Unauthorized)
            }
        }
    }
}

/// The one answer for credentials that did not match.
pub(super) fn unauthorized() -> PublicError {
    tracing::debug!("credentials did not match");
    PublicError::Unauthorized
}

/// `user:secret` of a Basic header; `None` when missing a part or not UTF-8.
pub(super) fn basic_credentials(header: &HeaderValue) -> Option<(String, String)> {
    let value = header.to_str().ok()?;
    let (scheme, encoded) = value.trim().split_once(' ')?;
    if !scheme.eq_ignore_ascii_case("basic") {
        return None;
    }
    let decoded = String::from_utf8(STANDARD.decode(encoded.trim()).ok()?).ok()?;
    let (user_id, token) = decoded.split_once(':')?;
    Some((user_id.to_owned(), token.to_owned()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_seed_credentials() {
        let header = HeaderValue::from_static("Basic MjA0MjU0OlN5N1BSR0dyNGZvVWsyMnV6ak11");
        assert_eq!(
            basic_credentials(&header),
            Some(("204254".into(), "Sy7PRGGr4foUk22uzjMu".into()))
        );
    }

    #[test]
    fn refuses_other_schemes_and_garbage() {
        for bad in ["Bearer abc", "Basic", "Basic !!!", "Basic MjA0MjU0", ""] {
            assert_eq!(
                basic_credentials(&HeaderValue::from_static(bad)),
                None,
                "{bad}"
            );
        }
    }
}
