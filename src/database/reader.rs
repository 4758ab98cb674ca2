//! A connection for reads on the primary: one from the ping-free read pool,
//! or, when a transaction-mode pooler (PgBouncer) sits in front of
//! PostgreSQL and must keep a statement's messages on one server connection,
//! one inside a transaction of the money pool. Directly on PostgreSQL the
//! wrapping would cost a `BEGIN` and a `COMMIT` round trip on every read, so
//! it is off unless configured.

use std::ops::{Deref, DerefMut};

use sqlx::{PgConnection, PgPool, Postgres, Transaction};

use super::read_pool::{ReadConn, ReadPool};

/// Where reads on the primary get their connection.
#[derive(Clone)]
pub enum Reads {
    Pooled(ReadPool),
    /// Behind a transaction-mode pooler: the money pool, in a transaction.
    InTransaction(PgPool),
}

impl Reads {
    /// Reads beside the money pool `primary`, over at most `size`
    /// connections of their own; `in_transaction` for a transaction-mode
    /// pooler (reads then share the money pool).
    pub fn beside(primary: &PgPool, in_transaction: bool, size: usize) -> Self {
        match in_transaction {
            true => Self::InTransaction(primary.clone()),
            false => Self::Pooled(ReadPool::beside(primary, size)),
        }
    }

    /// One checkout.
    pub async fn reader(&self) -> Result<Reader, sqlx::Error> {
        Ok(match self {
            Self::Pooled(pool) => Reader::Pooled(pool.acquire().await?),
            Self::InTransaction(pool) => Reader::InTransaction(crate::store::begin(pool).await?),
        })
    }

    /// The read pool, when reads have their own.
    pub fn pool(&self) -> Option<&ReadPool> {
        match self {
            Self::Pooled(pool) => Some(pool),
            Self::InTransaction(_) => None,
        }
    }
}

/// Call [`Reader::finish`] once the reads answered: a reader dropped without
/// it (an error, a cancelled request) closes its connection.
pub enum Reader {
    Pooled(ReadConn),
    InTransaction(Transaction<'static, Postgres>),
}

impl Reader {
    /// Gives the connection back (and ends the transaction, if any: reads
    /// only, nothing to keep).
    pub async fn finish(self) -> Result<(), sqlx::Error> {
        match self {
            Self::Pooled(conn) => {
                conn.release();
                Ok(())
            }
            Self::InTransaction(tx) => tx.commit().await,
        }
    }
}

impl Deref for Reader {
    type Target = PgConnection;

    fn deref(&self) -> &PgConnection {
        match self {
            Self::Pooled(conn) => conn,
            Self::InTransaction(tx) => tx,
        }
    }
}

impl DerefMut for Reader {
    fn deref_mut(&mut self) -> &mut PgConnection {
        match self {
            Self::Pooled(conn) => conn,
            Self::InTransaction(tx) => tx,
        }
    }
}
