//! The later (v2) API's shapes (SPEC §5.2): the seed's items with
//! millisecond timestamps, and MUTATION_V2 with `transaction_no` and `note`.

use chrono_tz::Tz;
use serde::Serialize;

use crate::domain::{
    BankAccountId, Mutation, MutationId, WalletId, WireTimeMillis, Withdrawal, WithdrawalId,
};

/// MUTATION_V2: `id, type, action, amount, initial_balance, final_balance,
/// transaction_id, transaction_no, note, created_at, updated_at`.
#[derive(Debug, Serialize)]
pub struct MutationV2Json<'a> {
    pub id: MutationId,
    #[serde(rename = "type")]
    pub kind: &'static str,
    pub action: &'static str,
    pub amount: i64,
    pub initial_balance: i64,
    pub final_balance: i64,
    pub transaction_id: Option<i64>,
    pub transaction_no: Option<&'a str>,
    pub note: Option<&'a str>,
    pub created_at: WireTimeMillis,
    pub updated_at: WireTimeMillis,
}

impl<'a> MutationV2Json<'a> {
    pub fn new(row: &'a Mutation, tz: Tz) -> Self {
        Self {
            id: row.id,
            kind: row.kind.as_str(),
            action: row.action.as_str(),
            amount: row.amount,
            initial_balance: row.initial_balance,
            final_balance: row.final_balance,
            transaction_id: row.transaction_id,
            transaction_no: row.transaction_no.as_deref(),
            note: row.note.as_deref(),
            created_at: WireTimeMillis::new(row.created_at, tz),
            updated_at: WireTimeMillis::new(row.updated_at, tz),
        }
    }
}

/// WITHDRAWAL in the seed's (alphabetical) key order, milliseconds.
#[derive(Debug, Serialize)]
pub struct WithdrawalV2Json {
    pub amount: i64,
    pub bank_account_id: BankAccountId,
    pub cancelled_at: Option<WireTimeMillis>,
    pub created_at: WireTimeMillis,
    pub deposit_id: WalletId,
    pub id: WithdrawalId,
    pub processed_at: Option<WireTimeMillis>,
    pub state: &'static str,
    pub updated_at: WireTimeMillis,
}

impl WithdrawalV2Json {
    pub fn new(row: &Withdrawal, tz: Tz) -> Self {
        Self {
            amount: row.amount,
            bank_account_id: row.bank_account_id,
            cancelled_at: WireTimeMillis::opt(row.cancelled_at, tz),
            created_at: WireTimeMillis::new(row.created_at, tz),
            deposit_id: row.deposit_id,
            id: row.id,
            processed_at: WireTimeMillis::opt(row.processed_at, tz),
            state: row.state.as_str(),
            updated_at: WireTimeMillis::new(row.updated_at, tz),
        }
    }
}
