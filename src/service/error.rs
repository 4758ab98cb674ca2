//! What can go wrong in a service call, free of any HTTP meaning.

#[derive(Debug, thiserror::Error)]
pub enum ServiceError {
    #[error("user not found")]
    UserNotFound,
    #[error("token not found")]
    TokenNotFound,
    #[error("withdrawal not found")]
    WithdrawalNotFound,
    #[error("the withdrawal is {0}, not pending")]
    NotPending(String),
    #[error("the balance {balance} is less than the debit of {amount}")]
    InsufficientBalance { balance: i64, amount: i64 },
    #[error("the balance would exceed the largest amount the ledger can hold")]
    BalanceOverflow,
    #[error("the idempotency key was already used for a different request")]
    IdempotencyMismatch,
    #[error("{0}")]
    Invalid(String),
    #[error("{0}")]
    Conflict(String),
    #[error("password hashing failed: {0}")]
    Hashing(String),
    #[error("internal error: {0}")]
    Internal(String),
    #[error("database error: {0}")]
    Database(#[from] sqlx::Error),
}

impl ServiceError {
    /// The database constraint behind this error, if any.
    pub fn constraint(&self) -> Option<&str> {
        match self {
            Self::Database(e) => crate::store::violated_constraint(e),
            _ => None,
        }
    }
}
