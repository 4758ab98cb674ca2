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
    /// user; `None` (and no rows) when they do not match. `read` is given
    /// the token's digest for a statement that returns rows only when the
    /// token is the user's (see `mutations::page_for_user`).
    ///
    /// Without replicas a page with rows is one statement: its rows prove
    /// the digest was found in the unique index, by the same equality probe
    /// `authenticate` makes. No rows (a wrong token, or an empty page) costs
    /// a second statement, the token check itself, on the same connection,
    /// so a wrong token always gets the same work and the same single 401.
    /// With replicas the token is checked on the primary (a revoked token
    /// must not live on in a lagging copy) and the read goes where
    /// `read_for_user` sends it, unfiltered.
    pub(crate) async fn read_authenticated<T>(
        &self,
        credentials: &ApiToken,
        read: impl for<'c> Fn(&'c mut PgConnection, UserId, Option<&'c [u8]>) -> ReadFuture<'c, Vec<T>>,
    ) -> Result<Option<Vec<T>>, ServiceError> {
        if !self.replicas.is_empty() {
            return match self.authenticate(credentials).await? {
                Some(id) => Ok(Some(self.read_for_user(id, |c| read(c, id, None)).await?)),
                None => Ok(None),
            };
        }
        let (id, given) = credentials.parts();
        let Some(id) = id else {
            let _ = digest_matches(&given, None);
            return Ok(None);
        };
        let mut conn = self.reader().await?;
        let rows = read(&mut conn, id, Some(&given)).await?;
        if !rows.is_empty() {
            conn.finish().await?;
            return Ok(Some(rows));
        }
        let stored = tokens::find_digest(&mut conn, id, &given).await?;
        conn.finish().await?;
        Ok(digest_matches(&given, stored.as_deref()).then_some(rows))
    }
}
