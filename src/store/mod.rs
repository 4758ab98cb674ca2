//! sqlx queries over the ledger, one module per table. Functions take a
//! connection (or a transaction deref'd to one) and decide nothing.

pub mod attempts;
pub mod bank_accounts;
pub mod idempotency;
pub mod mutations;
pub mod seed;
pub mod users;
pub mod verify;
pub mod wallets;
pub mod withdrawals;

/// The name of the constraint a database error violated, if any.
pub fn violated_constraint(err: &sqlx::Error) -> Option<&str> {
    err.as_database_error().and_then(|e| e.constraint())
}
