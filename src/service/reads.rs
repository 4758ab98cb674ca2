//! Where a user's history reads run: a replica that has replayed the user's
//! own writes, else the primary. Adding a read path is one call of
//! `read_for_user` (or `read_authenticated`) around a store function.

use sqlx::PgConnection;

use super::{
    auth::{digest_matches, ApiToken},
    Dompet, ServiceError,
};
use crate::{database::replicas::ReadFuture, domain::UserId, store::tokens};

impl Dompet {
    /// Runs `read` (a read-only store call) where read-your-writes allows.
    pub(crate) async fn read_for_user<T>(
        &self,
        user_id: UserId,
        read: impl for<'c> Fn(&'c mut PgConnection) -> ReadFuture<'c, T>,
    ) -> Result<T, ServiceError> {
        Ok(self.replicas.read(&self.reads, user_id, read).await?)
    }

    /// Checks `credentials` as `authenticate` does, then runs `read` for the
    /// user; `None` (and no read) when they do not match. Without replicas
    /// both run on one pooled connection, back to back: one checkout and two
    /// round trips per request. With replicas the token is checked on the
    /// primary (a revoked token must not live on in a lagging copy) and the
    /// read goes where `read_for_user` sends it.
    pub(crate) async fn read_authenticated<T>(
        &self,
        credentials: &ApiToken,
        read: impl for<'c> Fn(&'c mut PgConnection, UserId) -> ReadFuture<'c, T>,
    ) -> Result<Option<T>, ServiceError> {
        if !self.replicas.is_empty() {
            return match self.authenticate(credentials).await? {
                Some(id) => Ok(Some(self.read_for_user(id, |c| read(c, id)).await?)),
                None => Ok(None),
            };
        }
        let (id, given) = credentials.parts();
        let Some(id) = id else {
            let _ = digest_matches(&given, None);
            return Ok(None);
        };
        let mut conn = self.reader().await?;
        let stored = tokens::find_digest(&mut conn, id, &given).await?;
        if !digest_matches(&given, stored.as_deref()) {
            conn.finish().await?;
            return Ok(None);
        }
        let rows = read(&mut conn, id).await?;
        conn.finish().await?;
        Ok(Some(rows))
    }
}
