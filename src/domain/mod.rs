//! Plain domain values shared by the service, the store and the wire.

mod amount;
mod ids;
mod ledger;
mod mutation;
mod sql_text;
mod time;
mod token;
mod user;
mod withdrawal;

pub use amount::Amount;
pub use ids::{BankAccountId, MutationId, NotAnId, TokenId, UserId, WalletId, WithdrawalId};
pub use ledger::Violation;
pub use mutation::{Action, Mutation, MutationType, UnknownAction, UnknownMutationType};
pub use time::WireTime;
pub use token::Token;
pub use user::{BankAccount, User, Wallet};
pub use withdrawal::{UnknownState, Withdrawal, WithdrawalState};
