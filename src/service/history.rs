//! A user's own mutation and withdrawal history, newest first.

use super::{Dompet, Page, ServiceError};
use crate::store::{
    mutations::{self, MutationRow},
    withdrawals::{self, WithdrawalRow},
};

impl Dompet {
    pub async fn mutation_history(
        &self,
        user_id: i64,
        page: Page,
    ) -> Result<Vec<MutationRow>, ServiceError> {
        let mut conn = self.pool.acquire().await?;
        Ok(mutations::page_for_user(&mut conn, user_id, page.limit(), page.offset()).await?)
    }

    pub async fn withdrawal_history(
        &self,
        user_id: i64,
        page: Page,
    ) -> Result<Vec<WithdrawalRow>, ServiceError> {
        let mut conn = self.pool.acquire().await?;
        Ok(withdrawals::page_for_user(&mut conn, user_id, page.limit(), page.offset()).await?)
    }
}
