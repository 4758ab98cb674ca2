//! API token checks for the public endpoints.

use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

use super::{Dompet, ServiceError};
use crate::{domain::UserId, store::tokens};

/// HTTP Basic `user_id:api_token` of a public request, as sent.
pub struct ApiToken {
    pub user_id: String,
    pub token: String,
}

impl ApiToken {
    /// The user id when it is one (else `None`), and the token's digest.
    pub(super) fn parts(&self) -> (Option<UserId>, [u8; 32]) {
        (
            self.user_id.parse::<UserId>().ok(),
            Sha256::digest(self.token.as_bytes()).into(),
        )
    }
}

/// Whether the stored digest (if any) is the given one, compared in constant
/// time; a missing one is compared against zeros, so the work is the same.
pub(super) fn digest_matches(given: &[u8; 32], stored: Option<&[u8]>) -> bool {
    let expected = stored.unwrap_or(&[0u8; 32]);
    let matches: bool = given.as_slice().ct_eq(expected).into();
    matches && stored.is_some()
}

impl Dompet {
    /// The user id when `token` is one of that user's API tokens: one probe
    /// of the unique digest index, checked against the user id. An unknown or
    /// malformed user id still costs a digest and a comparison, so the answer
    /// and its timing do not tell existing users from missing ones.
    pub async fn authenticate(
        &self,
        credentials: &ApiToken,
    ) -> Result<Option<UserId>, ServiceError> {
        let (id, given) = credentials.parts();
        let stored = match id {
            Some(id) => {
                let mut conn = self.reader().await?;
                let digest = tokens::find_digest(&mut conn, id, &given).await?;
                conn.finish().await?;
                digest
            }
            None => None,
        };
        Ok(id.filter(|_| digest_matches(&given, stored.as_deref())))
    }
}

/// SHA-256 of an API token: the only form in which tokens are stored.
pub(crate) fn token_digest(token: &str) -> Vec<u8> {
    Sha256::digest(token.as_bytes()).to_vec()
}
