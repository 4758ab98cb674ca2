//! A user's own mutation and withdrawal history, newest first; served by a
//! replica when one has the user's own writes (see `reads`).

use super::{Dompet, Page, ServiceError};
use crate::{
    domain::{Mutation, UserId, Withdrawal},
    store::{mutations, withdrawals},
};

impl Dompet {
    pub async fn mutation_history(
        &self,
        user_id: UserId,
        page: Page,
    ) -> Result<Vec<Mutation>, ServiceError> {
        let (limit, offset) = (page.limit(), page.offset());
        self.read_for_user(user_id, |conn| {
            Box::pin(mutations::page_for_user(conn, user_id, limit, offset))
        })
        .await
    }

    pub async fn withdrawal_history(
        &self,
        user_id: UserId,
        page: Page,
    ) -> Result<Vec<Withdrawal>, ServiceError> {
        let (limit, offset) = (page.limit(), page.offset());
        self.read_for_user(user_id, |conn| {
            Box::pin(withdrawals::page_for_user(conn, user_id, limit, offset))
        })
        .await
    }
}
