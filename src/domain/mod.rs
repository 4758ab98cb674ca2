//! Plain domain values shared by the service, the store and the wire.

mod action;
mod amount;
mod notes;
mod time;
mod withdrawal_state;

pub use action::{Action, MutationType, UnknownAction};
pub use amount::Amount;
pub use notes::{Note, TransactionNo};
pub use time::{WireTime, WireTimeMillis};
pub use withdrawal_state::{UnknownState, WithdrawalState};
