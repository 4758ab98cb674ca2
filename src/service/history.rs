//! A user's own mutation and withdrawal history, newest first; served by a
//! replica when one has the user's own writes (see `reads`).

use super::{ApiToken, Dompet, Page, ServiceError};
use crate::{
    domain::{Mutation, Withdrawal},
    store::{mutations, withdrawals},
};

impl Dompet {
    /// The page when `credentials` are right; `None` when they are not.
    pub async fn mutation_history(
        &self,
        credentials: &ApiToken,
        page: Page,
    ) -> Result<Option<Vec<Mutation>>, ServiceError> {
        let (limit, offset) = (page.limit(), page.offset());
        self.read_authenticated(credentials, |conn, user_id| {
            Box::pin(mutations::page_for_user(conn, user_id, limit, offset))
        })
        .await
    }

    /// The page when `credentials` are right; `None` when they are not.
    pub async fn withdrawal_history(
        &self,
        credentials: &ApiToken,
        page: Page,
    ) -> Result<Option<Vec<Withdrawal>>, ServiceError> {
        let (limit, offset) = (page.limit(), page.offset());
        self.read_authenticated(credentials, |conn, user_id| {
            Box::pin(withdrawals::page_for_user(conn, user_id, limit, offset))
        })
        .await
    }
}
