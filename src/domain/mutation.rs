//! A ledger mutation: what moved money, in which direction, and the row.

use std::str::FromStr;

use chrono::{DateTime, Utc};

use super::{sql_text::sql_text_enum, MutationId, UserId};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MutationType {
    Credit,
    Debit,
}

impl MutationType {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Credit => "Deposit::Credit",
            Self::Debit => "Deposit::Debit",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    Remit,
    Topup,
    Refund,
    Payment,
    Withdrawal,
    Restore,
}

impl Action {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Remit => "remit",
            Self::Topup => "topup",
            Self::Refund => "refund",
            Self::Payment => "payment",
            Self::Withdrawal => "withdrawal",
            Self::Restore => "restore",
        }
    }

    pub fn mutation_type(self) -> MutationType {
        match self {
            Self::Remit | Self::Topup | Self::Refund | Self::Restore => MutationType::Credit,
            Self::Payment | Self::Withdrawal => MutationType::Debit,
        }
    }

    /// Withdrawals and restores belong to the withdrawal lifecycle; the back
    /// office may post only the others.
    pub fn is_postable(self) -> bool {
        !matches!(self, Self::Withdrawal | Self::Restore)
    }
}

#[derive(Debug, thiserror::Error)]
#[error("unknown mutation type {0:?}")]
pub struct UnknownMutationType(pub String);

impl FromStr for MutationType {
    type Err = UnknownMutationType;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "Deposit::Credit" => Ok(Self::Credit),
            "Deposit::Debit" => Ok(Self::Debit),
            other => Err(UnknownMutationType(other.to_owned())),
        }
    }
}

#[derive(Debug, thiserror::Error)]
#[error("unknown action {0:?}")]
pub struct UnknownAction(pub String);

impl FromStr for Action {
    type Err = UnknownAction;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Ok(match s {
            "remit" => Self::Remit,
            "topup" => Self::Topup,
            "refund" => Self::Refund,
            "payment" => Self::Payment,
            "withdrawal" => Self::Withdrawal,
            "restore" => Self::Restore,
            other => return Err(UnknownAction(other.to_owned())),
        })
    }
}

sql_text_enum!(MutationType);
sql_text_enum!(Action);

/// One row of the append-only ledger.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mutation {
    pub id: MutationId,
    pub user_id: UserId,
    pub kind: MutationType,
    pub action: Action,
    pub amount: i64,
    pub initial_balance: i64,
    pub final_balance: i64,
    pub transaction_id: Option<i64>,
    /// The marketplace's transaction number (SPEC §5.2), when given.
    pub transaction_no: Option<String>,
    /// The back office's note, or dompet's own on the movements it makes.
    pub note: Option<String>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}
