//! A user's own mutation and withdrawal history, newest first.

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
        let mut conn = self.pool.acquire().await?;
        Ok(mutations::page_for_user(&mut conn, user_id, page.limit(), page.offset()).await?)
    }

    pub async fn withdrawal_history(
        &self,
        user_id: UserId,
        page: Page,
    ) -> Result<Vec<Withdrawal>, ServiceError> {
        let mut conn = self.pool.acquire().await?;
        Ok(withdrawals::page_for_user(&mut conn, user_id, page.limit(), page.offset()).await?)
    }
}
