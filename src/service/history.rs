//! A user's own mutation and withdrawal history, newest first; served by a
//! replica when one has the user's own writes (see `reads`).

use super::{ApiToken, Cursor, Dompet, Page, ServiceError};
use crate::{
    domain::{Mutation, Withdrawal},
    store::{mutations, withdrawals},
};

impl Dompet {
    /// The page (older than the cursor, if any) when `credentials` are
    /// right; `None` when they are not.
    pub async fn mutation_history(
        &self,
        credentials: &ApiToken,
        page: Page,
        cursor: Option<Cursor>,
    ) -> Result<Option<Vec<Mutation>>, ServiceError> {
        let (newest, limit, offset) = (Cursor::newest_id(cursor), page.limit(), page.offset());
        self.read_authenticated(credentials, |conn, user_id, token| {
            Box::pin(mutations::page_for_user(
                conn, user_id, token, newest, limit, offset,
            ))
        })
        .await
    }

    /// The page (older than the cursor, if any) when `credentials` are
    /// right; `None` when they are not.
    pub async fn withdrawal_history(
        &self,
        credentials: &ApiToken,
        page: Page,
        cursor: Option<Cursor>,
    ) -> Result<Option<Vec<Withdrawal>>, ServiceError> {
        let (newest, limit, offset) = (Cursor::newest_id(cursor), page.limit(), page.offset());
        self.read_authenticated(credentials, |conn, user_id, token| {
            Box::pin(withdrawals::page_for_user(
                conn, user_id, token, newest, limit, offset,
            ))
        })
        .await
    }
}
