//! The finance team's side of withdrawals: list, process, cancel.

use super::{
    wallet::{apply_in_tx, Origin},
    Dompet, Page, ServiceError,
};
use crate::{
    domain::{Action, Amount, Withdrawal, WithdrawalId, WithdrawalState},
    store::{wallets, withdrawals},
};

impl Dompet {
    /// Withdrawals oldest first, optionally in one state.
    pub async fn list_withdrawals(
        &self,
        state: Option<WithdrawalState>,
        page: Page,
    ) -> Result<Vec<Withdrawal>, ServiceError> {
        let mut tx = crate::store::begin(&self.pool).await?;
        let page = withdrawals::page_by_state(&mut tx, state, page.limit(), page.offset()).await?;
        tx.commit().await?;
        Ok(page)
    }

    /// Marks a pending withdrawal as paid out.
    pub async fn process_withdrawal(&self, id: WithdrawalId) -> Result<Withdrawal, ServiceError> {
        self.finish_withdrawal(id, WithdrawalState::Processed).await
    }

    /// Cancels a pending withdrawal and restores exactly what it debited, in
    /// one transaction; the user's day slot is free again.
    pub async fn cancel_withdrawal(&self, id: WithdrawalId) -> Result<Withdrawal, ServiceError> {
        self.finish_withdrawal(id, WithdrawalState::Cancelled).await
    }

    #[tracing::instrument(name = "service.finish_withdrawal", skip_all, fields(withdrawal_id = %id, to = to.as_str()))]
    async fn finish_withdrawal(
        &self,
        id: WithdrawalId,
        to: WithdrawalState,
    ) -> Result<Withdrawal, ServiceError> {
        let mut tx = crate::store::begin(&self.pool).await?;
        let found = withdrawals::find(&mut tx, id)
            .await?
            .ok_or(ServiceError::WithdrawalNotFound)?;
        // Wallet first, as every money move; it also serialises a process
        // racing a cancel of the same withdrawal.
        let mut wallet = wallets::lock(&mut tx, found.user_id)
            .await?
            .ok_or(ServiceError::UserNotFound)?;
        let Some(done) = withdrawals::finish(&mut tx, id, to).await? else {
            let now = withdrawals::find(&mut tx, id)
                .await?
                .map_or(found.state, |w| w.state);
            return Err(ServiceError::NotPending(now));
        };
        if to == WithdrawalState::Cancelled {
            let restored = Amount::new(done.amount + done.fee)
                .ok_or(ServiceError::internal("a withdrawal debited nothing"))?;
            apply_in_tx(
                &mut tx,
                &mut wallet,
                Action::Restore,
                restored,
                Origin::Withdrawal(done.id),
            )
            .await?;
        }
        tx.commit().await?;
        tracing::info!(withdrawal_id = %id, state = to.as_str(), "withdrawal finished");
        Ok(done)
    }
}
