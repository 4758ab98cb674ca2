//! `ledger verify`: the invariants of SPEC §2 over the whole ledger.

use super::{Dompet, ServiceError};
use crate::{domain::Violation, store::verify};

/// At most this many violations are listed; one broken row rarely breaks
/// more than one check, so the first thousand locate any damage.
const MAX_VIOLATIONS: i64 = 1000;

#[derive(Debug, Clone)]
pub struct LedgerReport {
    pub users_checked: i64,
    pub violations: Vec<Violation>,
}

impl LedgerReport {
    pub fn ok(&self) -> bool {
        self.violations.is_empty()
    }
}

impl Dompet {
    #[tracing::instrument(name = "service.verify_ledger", skip_all)]
    pub async fn verify_ledger(&self) -> Result<LedgerReport, ServiceError> {
        let mut tx = crate::store::begin(&self.pool).await?;
        // One snapshot for both queries, so postings running meanwhile can
        // neither be half-seen nor counted against the wrong user total.
        verify::begin_snapshot(&mut tx).await?;
        let users_checked = verify::users_count(&mut tx).await?;
        let violations = verify::violations(&mut tx, MAX_VIOLATIONS).await?;
        tx.commit().await?;
        Ok(LedgerReport {
            users_checked,
            violations,
        })
    }
}
