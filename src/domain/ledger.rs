//! What the ledger audit reports.

use super::{MutationId, UserId, WithdrawalId};

/// One broken invariant of SPEC §2, located as precisely as the check can.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Violation {
    pub check: String,
    pub user_id: UserId,
    pub mutation_id: Option<MutationId>,
    pub withdrawal_id: Option<WithdrawalId>,
    pub detail: String,
}
