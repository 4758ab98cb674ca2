//! The later (v2) API's shapes (SPEC §5.2): the seed's items with
//! millisecond timestamps, and MUTATION_V2 with `transaction_no` and `note`.

use chrono_tz::Tz;
use serde::Serialize;
use utoipa::ToSchema;

use super::schema::*;

use crate::domain::{
    BankAccountId, Mutation, MutationId, WalletId, WireTimeMillis, Withdrawal, WithdrawalId,
};

/// MUTATION_V2: `id, type, action, amount, initial_balance, final_balance,
/// transaction_id, transaction_no, note, created_at, updated_at`.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = MutationV2)]
pub struct MutationV2Json<'a> {
    #[schema(value_type = i64, examples(346))]
    pub id: MutationId,
    #[serde(rename = "type")]
    #[schema(schema_with = mutation_type)]
    pub kind: &'static str,
    #[schema(schema_with = action)]
    pub action: &'static str,
    #[schema(minimum = 1, examples(30000))]
    pub amount: i64,
    #[schema(minimum = 0)]
    pub initial_balance: i64,
    #[schema(minimum = 0)]
    pub final_balance: i64,
    #[schema(required = true)]
    pub transaction_id: Option<i64>,
    /// The marketplace's transaction number, when the back office gave one.
    #[schema(required = true)]
    pub transaction_no: Option<&'a str>,
    /// The back office's note, or dompet's own for the movements it makes
    /// (`#C<withdrawal id>`, `#T<topup id>`).
    #[schema(required = true)]
    pub note: Option<&'a str>,
    #[schema(schema_with = wire_time_millis)]
    pub created_at: WireTimeMillis,
    #[schema(schema_with = wire_time_millis)]
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
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = WithdrawalV2)]
pub struct WithdrawalV2Json {
    #[schema(minimum = 1, examples(25000))]
    pub amount: i64,
    #[schema(value_type = i64, examples(41812))]
    pub bank_account_id: BankAccountId,
    #[schema(schema_with = wire_time_millis_or_null, required = true)]
    pub cancelled_at: Option<WireTimeMillis>,
    #[schema(schema_with = wire_time_millis)]
    pub created_at: WireTimeMillis,
    #[schema(value_type = i64, examples(1))]
    pub deposit_id: WalletId,
    #[schema(value_type = i64, examples(4))]
    pub id: WithdrawalId,
    #[schema(schema_with = wire_time_millis_or_null, required = true)]
    pub processed_at: Option<WireTimeMillis>,
    #[schema(schema_with = withdrawal_state)]
    pub state: &'static str,
    #[schema(schema_with = wire_time_millis)]
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
