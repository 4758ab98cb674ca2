//! A top-up request and its lifecycle: pending → confirmed | cancelled |
//! expired.

use std::str::FromStr;

use chrono::{DateTime, Utc};

use super::{sql_text::sql_text_enum, BankAccountId, TopupId, UserId, WalletId};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TopupState {
    Pending,
    Confirmed,
    Cancelled,
    /// Past `expires_at` while pending: it can no longer be confirmed.
    Expired,
}

impl TopupState {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Pending => "pending",
            Self::Confirmed => "confirmed",
            Self::Cancelled => "cancelled",
            Self::Expired => "expired",
        }
    }
}

#[derive(Debug, thiserror::Error)]
#[error("unknown top-up state {0:?}")]
pub struct UnknownTopupState(pub String);

impl FromStr for TopupState {
    type Err = UnknownTopupState;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Ok(match s {
            "pending" => Self::Pending,
            "confirmed" => Self::Confirmed,
            "cancelled" => Self::Cancelled,
            "expired" => Self::Expired,
            other => return Err(UnknownTopupState(other.to_owned())),
        })
    }
}

sql_text_enum!(TopupState);

/// A user's request to add money by bank transfer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Topup {
    pub id: TopupId,
    pub user_id: UserId,
    pub deposit_id: WalletId,
    pub bank_account_id: BankAccountId,
    pub amount: i64,
    /// 1–999, making `total` unique among pending top-ups.
    pub unique_code: i32,
    /// `amount + unique_code`: what the user transfers and what is credited.
    pub total: i64,
    /// As of the reading transaction: a pending row past `expires_at` reads
    /// as expired.
    pub state: TopupState,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub confirmed_at: Option<DateTime<Utc>>,
    pub expires_at: DateTime<Utc>,
}
