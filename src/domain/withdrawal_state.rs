//! The withdrawal lifecycle: pending → processed | cancelled.

use std::str::FromStr;

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
