//! A withdrawal and its lifecycle: pending → processed | cancelled.

use std::str::FromStr;

use chrono::{DateTime, Utc};

use super::{sql_text::sql_text_enum, BankAccountId, UserId, WalletId, WithdrawalId};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WithdrawalState {
    Pending,
    Processed,
    Cancelled,
}

impl WithdrawalState {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Pending => "pending",
            Self::Processed => "processed",
            Self::Cancelled => "cancelled",
        }
    }
}

#[derive(Debug, thiserror::Error)]
#[error("unknown withdrawal state {0:?}")]
pub struct UnknownState(pub String);

impl FromStr for WithdrawalState {
    type Err = UnknownState;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Ok(match s {
            "pending" => Self::Pending,
            "processed" => Self::Processed,
            "cancelled" => Self::Cancelled,
            other => return Err(UnknownState(other.to_owned())),
        })
    }
}

sql_text_enum!(WithdrawalState);

/// A request to pay a wallet out to the user's bank account.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Withdrawal {
    pub id: WithdrawalId,
    pub user_id: UserId,
    pub deposit_id: WalletId,
    pub bank_account_id: BankAccountId,
    pub amount: i64,
    /// Charged with the withdrawal: the debit was `amount + fee`.
    pub fee: i64,
    pub state: WithdrawalState,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub processed_at: Option<DateTime<Utc>>,
    pub cancelled_at: Option<DateTime<Utc>>,
}

/// One line of a bulk-transfer file: a withdrawal and where it is paid.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Payout {
    pub withdrawal_id: WithdrawalId,
    pub bank_name: String,
    pub account_number: String,
    pub account_name: String,
    /// What the user receives (the fee, if any, stays in dompet).
    pub amount: i64,
}
