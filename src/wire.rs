//! JSON shapes on the wire. serde writes fields in declaration order, so
//! each struct lists its keys exactly in the order the contract fixes.

pub mod schema;
mod topup;
mod v2;

use schema::*;
pub use topup::{
    payout_csv, ErrorDetailJson, FailedJson, OperatorTopupJson, ReconcileReportJson, SettledJson,
    TopupJson, TopupListJson,
};
pub use v2::{MutationV2Json, WithdrawalV2Json};

use chrono_tz::Tz;
use serde::Serialize;
use utoipa::ToSchema;

use crate::{
    domain::{
        BankAccount, BankAccountId, Mutation, MutationId, Token, TokenId, User, UserId, Violation,
        WalletId, WireTime, Withdrawal, WithdrawalId,
    },
    service::{CreatedUser, LedgerReport, Revoked},
};

/// MUTATION: `id, type, action, amount, initial_balance, final_balance,
/// transaction_id, created_at, updated_at`.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = Mutation)]
pub struct MutationJson {
    #[schema(value_type = i64, examples(346))]
    pub id: MutationId,
    /// `Deposit::Credit` for remit, topup, refund, restore; `Deposit::Debit` for payment, withdrawal.
    #[serde(rename = "type")]
    #[schema(schema_with = mutation_type)]
    pub kind: &'static str,
    #[schema(schema_with = action)]
    pub action: &'static str,
    /// Whole rupiah, always ≥ 1.
    #[schema(minimum = 1, examples(30000))]
    pub amount: i64,
    #[schema(minimum = 0, examples(0))]
    pub initial_balance: i64,
    #[schema(minimum = 0, examples(30000))]
    pub final_balance: i64,
    /// The marketplace transaction; always `null` for withdrawal and restore.
    #[schema(required = true, examples(51938))]
    pub transaction_id: Option<i64>,
    #[schema(schema_with = wire_time)]
    pub created_at: WireTime,
    #[schema(schema_with = wire_time)]
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
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = Withdrawal)]
pub struct WithdrawalJson {
    #[schema(minimum = 1, examples(25000))]
    pub amount: i64,
    #[schema(value_type = i64, examples(41812))]
    pub bank_account_id: BankAccountId,
    #[schema(schema_with = wire_time_or_null, required = true)]
    pub cancelled_at: Option<WireTime>,
    #[schema(schema_with = wire_time)]
    pub created_at: WireTime,
    /// The user's wallet.
    #[schema(value_type = i64, examples(1))]
    pub deposit_id: WalletId,
    #[schema(value_type = i64, examples(4))]
    pub id: WithdrawalId,
    #[schema(schema_with = wire_time_or_null, required = true)]
    pub processed_at: Option<WireTime>,
    #[schema(schema_with = withdrawal_state)]
    pub state: &'static str,
    #[schema(schema_with = wire_time)]
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
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = OperatorWithdrawal)]
pub struct OperatorWithdrawalJson {
    #[serde(flatten)]
    pub withdrawal: WithdrawalJson,
    #[schema(value_type = i64, examples(204254))]
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

#[derive(Debug, Serialize, ToSchema)]
#[schema(as = WithdrawalList)]
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

#[derive(Debug, Serialize, ToSchema)]
#[schema(as = CreatedUser)]
pub struct CreatedUserJson<'a> {
    #[schema(value_type = i64, examples(204254))]
    pub id: UserId,
    pub username: &'a str,
    pub email: &'a str,
    #[schema(value_type = i64, examples(1))]
    pub deposit_id: WalletId,
    /// The user's API token for HTTP Basic; shown only in this answer.
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

#[derive(Debug, Serialize, ToSchema)]
#[schema(as = User)]
pub struct UserJson<'a> {
    #[schema(value_type = i64, examples(204254))]
    pub id: UserId,
    pub username: &'a str,
    pub email: &'a str,
    #[schema(value_type = i64, examples(1))]
    pub deposit_id: WalletId,
    #[schema(minimum = 0, examples(30000))]
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

#[derive(Debug, Serialize, ToSchema)]
#[schema(as = BankAccount)]
pub struct BankAccountJson<'a> {
    #[schema(value_type = i64, examples(41812))]
    pub id: BankAccountId,
    #[schema(value_type = i64, examples(204254))]
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

#[derive(Debug, Serialize, ToSchema)]
#[schema(as = LedgerReport)]
pub struct LedgerReportJson<'a> {
    pub ok: bool,
    pub users_checked: i64,
    pub violations: Vec<ViolationJson<'a>>,
}

#[derive(Debug, Serialize, ToSchema)]
#[schema(as = Violation)]
pub struct ViolationJson<'a> {
    pub check: &'a str,
    #[schema(value_type = i64)]
    pub user_id: UserId,
    #[schema(value_type = Option<i64>, required = true)]
    pub mutation_id: Option<MutationId>,
    #[schema(value_type = Option<i64>, required = true)]
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
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = Token)]
pub struct TokenJson {
    #[schema(value_type = i64, examples(7))]
    pub id: TokenId,
    #[schema(schema_with = wire_time)]
    pub created_at: WireTime,
}

/// A user's tokens, oldest first.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = TokenList)]
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
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = Revoked)]
pub struct RevokedJson {
    #[schema(value_type = i64, examples(204254))]
    pub user_id: UserId,
    /// How many tokens were revoked.
    #[schema(examples(1))]
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
