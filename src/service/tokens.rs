//! API tokens: one per login (device), at most ten per user, listed and
//! revoked by operators; a password reset revokes them all.

use rand::{distributions::Alphanumeric, Rng};
use sqlx::PgConnection;

use super::{
    auth::token_digest, login::login_key, users::check_password, Dompet, Lane, ServiceError,
};
use crate::{
    domain::{Token, TokenId, UserId},
    store::{login_throttle, tokens, users},
};

/// A user holds at most this many tokens; a new one revokes the oldest.
pub const MAX_TOKENS_PER_USER: i64 = 10;

/// How many tokens an operator action revoked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Revoked {
    pub user_id: UserId,
    pub revoked: u64,
}

/// `len` random characters of `[A-Za-z0-9]`, the seed's token alphabet.
pub(super) fn generate_token(len: usize) -> String {
    rand::thread_rng()
        .sample_iter(&Alphanumeric)
        .take(len)
        .map(char::from)
        .collect()
}

/// Stores `token` for the user and revokes the oldest beyond the limit. The
/// caller holds the user's row lock (or has just inserted the user).
pub(super) async fn issue_in_tx(
    conn: &mut PgConnection,
    user_id: UserId,
    token: &str,
) -> Result<(), ServiceError> {
    tokens::insert(conn, user_id, &token_digest(token)).await?;
    let revoked = tokens::keep_newest(conn, user_id, MAX_TOKENS_PER_USER).await?;
    if revoked > 0 {
        tracing::info!(%user_id, revoked, "oldest tokens revoked to make room");
    }
    Ok(())
}

impl Dompet {
    /// The user's tokens, oldest first.
    pub async fn tokens(&self, user_id: UserId) -> Result<Vec<Token>, ServiceError> {
        let mut conn = crate::store::begin(&self.pool).await?;
        if !users::exists(&mut conn, user_id).await? {
            return Err(ServiceError::UserNotFound);
        }
        Ok(tokens::list(&mut conn, user_id).await?)
    }

    #[tracing::instrument(name = "service.revoke_token", skip_all, fields(%user_id, %token_id))]
    pub async fn revoke_token(
        &self,
        user_id: UserId,
        token_id: TokenId,
    ) -> Result<Revoked, ServiceError> {
        let mut conn = crate::store::begin(&self.pool).await?;
        if !users::exists(&mut conn, user_id).await? {
            return Err(ServiceError::UserNotFound);
        }
        if !tokens::delete(&mut conn, user_id, token_id).await? {
            return Err(ServiceError::TokenNotFound);
        }
        conn.commit().await?;
        tracing::info!("token revoked");
        Ok(Revoked {
            user_id,
            revoked: 1,
        })
    }

    #[tracing::instrument(name = "service.revoke_tokens", skip_all, fields(%user_id))]
    pub async fn revoke_tokens(&self, user_id: UserId) -> Result<Revoked, ServiceError> {
        let mut conn = crate::store::begin(&self.pool).await?;
        if !users::exists(&mut conn, user_id).await? {
            return Err(ServiceError::UserNotFound);
        }
        let revoked = tokens::delete_all(&mut conn, user_id).await?;
        conn.commit().await?;
        tracing::info!(revoked, "all tokens revoked");
        Ok(Revoked { user_id, revoked })
    }

    /// Replaces the user's password and revokes every token, in one
    /// transaction: no device stays signed in on the old password. The
    /// user's login names start afresh on the throttle, so the new password
    /// works at once.
    #[tracing::instrument(name = "service.set_password", skip_all, fields(%user_id))]
    pub async fn set_password(
        &self,
        user_id: UserId,
        password: String,
    ) -> Result<Revoked, ServiceError> {
        check_password(&password)?;
        let mut conn = crate::store::begin(&self.pool).await?;
        let (username, email) = users::login_names(&mut conn, user_id)
            .await?
            .ok_or(ServiceError::UserNotFound)?;
        drop(conn);
        let password_hash = self.passwords.hash(Lane::Anonymous, password).await?;
        let mut tx = crate::store::begin(&self.pool).await?;
        // Throttle rows before the user row, the order a login takes them
        // in, so a reset and a login never wait for each other in a cycle.
        for name in [username, email] {
            login_throttle::reset(&mut tx, &login_key(&name)).await?;
        }
        if !users::set_password_hash(&mut tx, user_id, &password_hash).await? {
            return Err(ServiceError::UserNotFound);
        }
        let revoked = tokens::delete_all(&mut tx, user_id).await?;
        tx.commit().await?;
        tracing::info!(revoked, "password replaced; every token revoked");
        Ok(Revoked { user_id, revoked })
    }
}
