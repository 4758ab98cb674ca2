//! Plain domain values shared by the service, the store and the wire.

mod amount;
mod ids;
mod ledger;
mod mutation;
mod notes;
mod sql_text;
mod time;
mod token;
mod topup;
mod user;
mod withdrawal;

pub use amount::Amount;
pub use ids::{
    BankAccountId, MutationId, NotAnId, TokenId, TopupId, UserId, WalletId, WithdrawalId,
};
pub use ledger::Violation;
pub use mutation::{Action, Mutation, MutationType, UnknownAction, UnknownMutationType};
pub use notes::{Note, TransactionNo};
pub use time::{WireTime, WireTimeMillis};
pub use token::Token;
pub use topup::{Topup, TopupState, UnknownTopupState};
pub use user::{BankAccount, User, Wallet};
pub use withdrawal::{Payout, UnknownState, Withdrawal, WithdrawalState};
