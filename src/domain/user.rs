//! Users, their wallets and the bank accounts they are paid out to.

use super::{BankAccountId, UserId, WalletId};

/// A user as the operators see it: identity and wallet balance.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct User {
    pub id: UserId,
    pub username: String,
    pub email: String,
    pub deposit_id: WalletId,
    pub balance: i64,
}

/// A user's wallet row, read under the lock every money move takes first.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Wallet {
    pub id: WalletId,
    pub user_id: UserId,
    pub balance: i64,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BankAccount {
    pub id: BankAccountId,
    pub user_id: UserId,
    pub bank_name: String,
    pub account_number: String,
    pub account_name: String,
}
