//! API token checks for the public endpoints.

use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

use super::{Dompet, ServiceError};
use crate::{domain::UserId, store::tokens};

impl Dompet {
    /// The user id when `token` is one of that user's API tokens: one probe
    /// of the unique digest index, checked against the user id. An unknown or
    /// malformed user id still costs a digest and a comparison, so the answer
    /// and its timing do not tell existing users from missing ones.
    pub async fn authenticate(
        &self,
        user_id: &str,
        token: &str,
    ) -> Result<Option<UserId>, ServiceError> {
        let id = user_id.parse::<UserId>().ok();
        let given = Sha256::digest(token.as_bytes());
        let stored = match id {
            Some(id) => {
                // Statements run in transactions: see `reads` (PgBouncer).
                let mut tx = self.pool.begin().await?;
                let digest = tokens::find_digest(&mut tx, id, &given).await?;
                tx.commit().await?;
                digest
            }
            None => None,
        };
        let expected = stored.as_deref().unwrap_or(&[0u8; 32]);
        let matches: bool = given.as_slice().ct_eq(expected).into();
        Ok(id.filter(|_| matches && stored.is_some()))
    }
}

/// SHA-256 of an API token: the only form in which tokens are stored.
pub(crate) fn token_digest(token: &str) -> Vec<u8> {
    Sha256::digest(token.as_bytes()).to_vec()
}
