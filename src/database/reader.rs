//! A connection for reads: a plain pooled connection, or one inside a
//! transaction when a transaction-mode pooler (PgBouncer) sits in front of
//! PostgreSQL and must keep a statement's messages on one server connection.
//! Directly on PostgreSQL the wrapping would cost a `BEGIN` and a `COMMIT`
//! round trip on every read, so it is off unless configured.

use std::ops::{Deref, DerefMut};

use sqlx::{pool::PoolConnection, PgConnection, PgPool, Postgres, Transaction};

pub enum Reader {
    Plain(PoolConnection<Postgres>),
    InTransaction(Transaction<'static, Postgres>),
}

impl Reader {
    /// One pool checkout; `in_transaction` for a transaction-mode pooler.
    pub async fn acquire(pool: &PgPool, in_transaction: bool) -> Result<Self, sqlx::Error> {
        Ok(if in_transaction {
            Self::InTransaction(crate::store::begin(pool).await?)
        } else {
            Self::Plain(pool.acquire().await?)
        })
    }

    /// Ends the transaction, if any (reads only: nothing to keep).
    pub async fn finish(self) -> Result<(), sqlx::Error> {
        match self {
            Self::Plain(_) => Ok(()),
            Self::InTransaction(tx) => tx.commit().await,
        }
    }
}

impl Deref for Reader {
    type Target = PgConnection;

    fn deref(&self) -> &PgConnection {
        match self {
            Self::Plain(conn) => conn,
            Self::InTransaction(tx) => tx,
        }
    }
}

impl DerefMut for Reader {
    fn deref_mut(&mut self) -> &mut PgConnection {
        match self {
            Self::Plain(conn) => conn,
            Self::InTransaction(tx) => tx,
        }
    }
}
