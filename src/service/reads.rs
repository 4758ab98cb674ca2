//! Where a user's history reads run: a replica that has replayed the user's
//! own writes, else the primary. Adding a read path is one call of
//! `read_for_user` around a store function.

use sqlx::PgConnection;

use super::{Dompet, ServiceError};
use crate::{database::replicas::ReadFuture, domain::UserId};

impl Dompet {
    /// Runs `read` (a read-only store call) where read-your-writes allows.
    pub(crate) async fn read_for_user<T>(
        &self,
        user_id: UserId,
        read: impl for<'c> Fn(&'c mut PgConnection) -> ReadFuture<'c, T>,
    ) -> Result<T, ServiceError> {
        Ok(self.replicas.read(&self.pool, user_id, read).await?)
    }
}
