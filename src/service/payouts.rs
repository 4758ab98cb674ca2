//! Payouts in batches (SPEC §5.4): pending withdrawals out as one
//! bulk-transfer file, and back as one batch of results.

use super::{Dompet, ServiceError};
use crate::{
    domain::{Payout, Withdrawal, WithdrawalId, WithdrawalState},
    store::payouts,
};

/// The most ids one batch may name: a bank's bulk file holds about as many.
pub const MAX_BATCH: usize = 1000;

/// Each withdrawal of a batch, settled on its own.
#[derive(Debug)]
pub struct Settled {
    pub succeeded: Vec<Withdrawal>,
    /// In the order asked, with why each one failed.
    pub failed: Vec<(WithdrawalId, ServiceError)>,
}

impl Dompet {
    /// The withdrawals in `state`, oldest first, with the accounts they are
    /// paid to.
    pub async fn payouts(&self, state: WithdrawalState) -> Result<Vec<Payout>, ServiceError> {
        let mut conn = self.pool.acquire().await?;
        Ok(payouts::by_state(&mut conn, state).await?)
    }

    /// Processes or cancels each of `ids` exactly as the single-withdrawal
    /// calls do, each in its own transaction: one failure leaves the others
    /// alone.
    #[tracing::instrument(name = "service.settle_withdrawals", skip_all, fields(to = to.as_str(), count = ids.len()))]
    pub async fn settle_withdrawals(
        &self,
        ids: &[WithdrawalId],
        to: WithdrawalState,
    ) -> Result<Settled, ServiceError> {
        if ids.is_empty() || ids.len() > MAX_BATCH {
            return Err(ServiceError::Invalid(format!(
                "ids must list 1 to {MAX_BATCH} withdrawals"
            )));
        }
        let mut settled = Settled {
            succeeded: Vec::new(),
            failed: Vec::new(),
        };
        for &id in ids {
            let result = match to {
                WithdrawalState::Processed => self.process_withdrawal(id).await,
                WithdrawalState::Cancelled => self.cancel_withdrawal(id).await,
                WithdrawalState::Pending => {
                    return Err(ServiceError::Invalid(
                        "a batch processes or cancels; it cannot make pending".into(),
                    ))
                }
            };
            match result {
                Ok(withdrawal) => settled.succeeded.push(withdrawal),
                Err(e) => settled.failed.push((id, e)),
            }
        }
        Ok(settled)
    }
}
