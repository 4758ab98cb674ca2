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
    /// Too much work is waiting (password checks past their queue bound);
    /// nothing was done, and the caller may retry shortly.
    #[error("busy: too much work is waiting")]
    Busy,
    #[error("password hashing failed")]
    Hashing(#[source] Source),
    #[error("internal error: {context}")]
    Internal {
        context: &'static str,
        #[source]
        source: Option<Source>,
    },
    /// The database cannot answer right now (gone, restarting, out of
    /// connections, or it gave up on a lock or a conflict): nothing about the
    /// request was wrong, and the same request may succeed in a moment.
    #[error("database unavailable")]
    Unavailable(#[source] sqlx::Error),
    #[error("database error")]
    Database(#[source] sqlx::Error),
}

impl From<sqlx::Error> for ServiceError {
    fn from(err: sqlx::Error) -> Self {
        if is_unavailable(&err) {
            Self::Unavailable(err)
        } else {
            Self::Database(err)
        }
    }
}

/// Failures of the database rather than of dompet: the connection is lost or
/// refused, the pool has none to give, the server is shutting down or
/// starting, or a transaction lost a conflict or a lock wait. A transaction
/// that failed this way (even at COMMIT) either committed or left no trace;
/// a retry with the same Idempotency-Key finds out which.
fn is_unavailable(err: &sqlx::Error) -> bool {
    use sqlx::Error as E;
    match err {
        E::PoolTimedOut | E::PoolClosed | E::Io(_) | E::Tls(_) | E::WorkerCrashed => true,
        E::Database(db) => db.code().is_some_and(|code| unavailable_sqlstate(&code)),
        _ => false,
    }
}

fn unavailable_sqlstate(code: &str) -> bool {
    matches!(
        code,
        "40001" // serialization_failure
            | "40P01" // deadlock_detected
            | "55P03" // lock_not_available (lock_timeout)
            | "57014" // query_canceled (statement_timeout)
            | "57P01" // admin_shutdown
            | "57P02" // crash_shutdown
            | "57P03" // cannot_connect_now
            | "25006" // read_only_sql_transaction: a standby, mid-failover
    ) || code.starts_with("08") // connection_exception
        || code.starts_with("53") // insufficient_resources, too_many_connections
}

impl ServiceError {
    /// The database constraint behind this error, if any.
    pub fn constraint(&self) -> Option<&str> {
        match self {
            Self::Database(e) => crate::store::violated_constraint(e),
            _ => None,
        }
    }

    /// Whether the database, not the request or dompet, is why this failed.
    pub fn is_unavailable(&self) -> bool {
        matches!(self, Self::Unavailable(_))
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lost_connections_and_pool_timeouts_are_unavailable_not_bugs() {
        let lost = sqlx::Error::Io(std::io::ErrorKind::ConnectionReset.into());
        for err in [lost, sqlx::Error::PoolTimedOut, sqlx::Error::PoolClosed] {
            assert!(ServiceError::from(err).is_unavailable());
        }
        assert!(!ServiceError::from(sqlx::Error::RowNotFound).is_unavailable());
    }

    #[test]
    fn sqlstates_of_a_database_going_away_or_giving_up_are_unavailable() {
        for code in [
            "40001", "40P01", "55P03", "57014", "57P01", "57P02", "57P03", "08006", "08001",
            "53300", "25006",
        ] {
            assert!(unavailable_sqlstate(code), "{code}");
        }
        for code in ["23505", "23514", "42703", "42501", "22P02", "P0001"] {
            assert!(!unavailable_sqlstate(code), "{code}");
        }
    }
}
