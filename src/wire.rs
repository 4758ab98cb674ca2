//! JSON shapes on the wire. serde writes fields in declaration order, so
//! each struct lists its keys exactly in the order the contract fixes.

mod topup;
mod v2;

pub use topup::{
    payout_csv, ErrorDetailJson, FailedJson, OperatorTopupJson, ReconcileReportJson, SettledJson,
    TopupJson, TopupListJson,
};
pub use v2::{MutationV2Json, WithdrawalV2Json};

use chrono_tz::Tz;
use serde::Serialize;

use crate::{
    domain::{
        BankAccount, BankAccountId, Mutation, MutationId, Token, TokenId, User, UserId, Violation,
        WalletId, WireTime, Withdrawal, WithdrawalId,
    },
    service::{CreatedUser, LedgerReport, Revoked},
};

/// MUTATION: `id, type, action, amount, initial_balance, final_balance,
/// transaction_id, created_at, updated_at`.
#[derive(Debug, Serialize)]
pub struct MutationJson {
    pub id: MutationId,
    #[serde(rename = "type")]
    pub kind: &'static str,
    pub action: &'static str,
    pub amount: i64,
    pub initial_balance: i64,
    pub final_balance: i64,
    pub transaction_id: Option<i64>,
    pub created_at: WireTime,
    pub updated_at: WireTime,
}

impl MutationJson {
    pub fn new(row: &Mutation, tz: Tz) -> Self {
        Self {
            id: row.id,
            kind: row.kind.as_str(),
            action: row.action.as_str(),
            amount: row.amount,
            initial_balance: row.initial_balance,
            final_balance: row.final_balance,
            transaction_id: row.transaction_id,
            created_at: WireTime::new(row.created_at, tz),
            updated_at: WireTime::new(row.updated_at, tz),
        }
    }
}

/// WITHDRAWAL, in the seed's (alphabetical) key order.
#[derive(Debug, Serialize)]
pub struct WithdrawalJson {
    pub amount: i64,
    pub bank_account_id: BankAccountId,
    pub cancelled_at: Option<WireTime>,
    pub created_at: WireTime,
    pub deposit_id: WalletId,
    pub id: WithdrawalId,
    pub processed_at: Option<WireTime>,
    pub state: &'static str,
    pub updated_at: WireTime,
}

impl WithdrawalJson {
    pub fn new(row: &Withdrawal, tz: Tz) -> Self {
        Self {
            amount: row.amount,
            bank_account_id: row.bank_account_id,
            cancelled_at: WireTime::opt(row.cancelled_at, tz),
            created_at: WireTime::new(row.created_at, tz),
            deposit_id: row.deposit_id,
            id: row.id,
            processed_at: WireTime::opt(row.processed_at, tz),
            state: row.state.as_str(),
            updated_at: WireTime::new(row.updated_at, tz),
        }
    }
}

/// WITHDRAWAL plus its owner, for the operator surface.
#[derive(Debug, Serialize)]
pub struct OperatorWithdrawalJson {
    #[serde(flatten)]
    pub withdrawal: WithdrawalJson,
    pub user_id: UserId,
}

impl OperatorWithdrawalJson {
    pub fn new(row: &Withdrawal, tz: Tz) -> Self {
        Self {
            withdrawal: WithdrawalJson::new(row, tz),
            user_id: row.user_id,
        }
    }
}

#[derive(Debug, Serialize)]
pub struct WithdrawalListJson {
    pub withdrawals: Vec<OperatorWithdrawalJson>,
}

impl WithdrawalListJson {
    pub fn new(rows: &[Withdrawal], tz: Tz) -> Self {
        Self {
            withdrawals: rows
                .iter()
                .map(|w| OperatorWithdrawalJson::new(w, tz))
                .collect(),
        }
    }
}

#[derive(Debug, Serialize)]
pub struct CreatedUserJson<'a> {
    pub id: UserId,
    pub username: &'a str,
    pub email: &'a str,
    pub deposit_id: WalletId,
    pub token: &'a str,
}

impl<'a> From<&'a CreatedUser> for CreatedUserJson<'a> {
    fn from(u: &'a CreatedUser) -> Self {
        Self {
            id: u.id,
            username: &u.username,
            email: &u.email,
            deposit_id: u.deposit_id,
            token: &u.token,
        }
    }
}

#[derive(Debug, Serialize)]
pub struct UserJson<'a> {
    pub id: UserId,
    pub username: &'a str,
    pub email: &'a str,
    pub deposit_id: WalletId,
    pub balance: i64,
}

impl<'a> From<&'a User> for UserJson<'a> {
    fn from(u: &'a User) -> Self {
        Self {
            id: u.id,
            username: &u.username,
            email: &u.email,
            deposit_id: u.deposit_id,
            balance: u.balance,
        }
    }
}

#[derive(Debug, Serialize)]
pub struct BankAccountJson<'a> {
    pub id: BankAccountId,
    pub user_id: UserId,
    pub bank_name: &'a str,
    pub account_number: &'a str,
    pub account_name: &'a str,
}

impl<'a> From<&'a BankAccount> for BankAccountJson<'a> {
    fn from(a: &'a BankAccount) -> Self {
        Self {
            id: a.id,
            user_id: a.user_id,
            bank_name: &a.bank_name,
            account_number: &a.account_number,
            account_name: &a.account_name,
        }
    }
}

#[derive(Debug, Serialize)]
pub struct LedgerReportJson<'a> {
    pub ok: bool,
    pub users_checked: i64,
    pub violations: Vec<ViolationJson<'a>>,
}

#[derive(Debug, Serialize)]
pub struct ViolationJson<'a> {
    pub check: &'a str,
    pub user_id: UserId,
    pub mutation_id: Option<MutationId>,
    pub withdrawal_id: Option<WithdrawalId>,
    pub detail: &'a str,
}

impl<'a> From<&'a Violation> for ViolationJson<'a> {
    fn from(v: &'a Violation) -> Self {
        Self {
            check: &v.check,
            user_id: v.user_id,
            mutation_id: v.mutation_id,
            withdrawal_id: v.withdrawal_id,
            detail: &v.detail,
        }
    }
}

impl<'a> From<&'a LedgerReport> for LedgerReportJson<'a> {
    fn from(r: &'a LedgerReport) -> Self {
        Self {
            ok: r.ok(),
            users_checked: r.users_checked,
            violations: r.violations.iter().map(ViolationJson::from).collect(),
        }
    }
}

/// A user's token as operators see it: never the token itself.
#[derive(Debug, Serialize)]
pub struct TokenJson {
    pub id: TokenId,
    pub created_at: WireTime,
}

/// A user's tokens, oldest first.
#[derive(Debug, Serialize)]
pub struct TokenListJson {
    pub tokens: Vec<TokenJson>,
}

impl TokenListJson {
    pub fn new(tokens: &[Token], tz: Tz) -> Self {
        Self {
            tokens: tokens
                .iter()
                .map(|t| TokenJson {
                    id: t.id,
                    created_at: WireTime::new(t.created_at, tz),
                })
                .collect(),
        }
    }
}

/// What a revocation or a password reset revoked.
#[derive(Debug, Serialize)]
pub struct RevokedJson {
    pub user_id: UserId,
    pub revoked: u64,
}

impl From<Revoked> for RevokedJson {
    fn from(r: Revoked) -> Self {
        Self {
            user_id: r.user_id,
            revoked: r.revoked,
        }
    }
}
