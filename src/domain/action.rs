//! What moved money, and in which direction.

use std::str::FromStr;

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
