//! What can go wrong in a service call, free of any HTTP meaning. The texts
//! here are for logs; each surface words its own answers in its error map.

use crate::domain::{TopupState, WithdrawalState};

type Source = Box<dyn std::error::Error + Send + Sync>;

#[derive(Debug, thiserror::Error)]
pub enum ServiceError {
    #[error("user not found")]
    UserNotFound,
    #[error("token not found")]
    TokenNotFound,
    #[error("withdrawal not found")]
    WithdrawalNotFound,
    #[error("the withdrawal is {}, not pending", .0.as_str())]
    NotPending(WithdrawalState),
    #[error("top-up not found")]
    TopupNotFound,
    #[error("the top-up is {}, not pending", .0.as_str())]
    TopupNotPending(TopupState),
    #[error("the balance {balance} is less than the debit of {amount}")]
    InsufficientBalance { balance: i64, amount: i64 },
    #[error("the balance would exceed the largest amount the ledger can hold")]
    BalanceOverflow,
    #[error("the idempotency key was already used for a different request")]
    IdempotencyMismatch,
    /// Operator input the rules refuse; the text says what to fix.
    #[error("{0}")]
    Invalid(String),
    /// Operator input that collides with existing rows; the text says which.
    #[error("{0}")]
    Conflict(String),
    #[error("password hashing failed")]
    Hashing(#[source] Source),
    #[error("internal error: {context}")]
    Internal {
        context: &'static str,
        #[source]
        source: Option<Source>,
    },
    #[error("database error")]
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

    pub(crate) fn internal(context: &'static str) -> Self {
        Self::Internal {
            context,
            source: None,
        }
    }

    pub(crate) fn internal_from(
        context: &'static str,
        source: impl std::error::Error + Send + Sync + 'static,
    ) -> Self {
        Self::Internal {
            context,
            source: Some(Box::new(source)),
        }
    }
}
