//! The transaction of a back-office posting, on a connection of a ping-free
//! pool of its own.
//!
//! Why not sqlx's pool: it sends a `Sync` round trip every time a connection
//! goes back (unconditionally, from a task spawned per release), a sixth
//! round trip beside a posting's five statements. Here the connection goes
//! back only after its `COMMIT` or `ROLLBACK` answered; dropped any other way
//! (an error on the way, a request cut short mid-statement) it is closed, and
//! PostgreSQL rolls back whatever it held. So no one inherits an open
//! transaction or a half-read answer, which is what sqlx's ping guards
//! against (and `store::begin`'s spawned `BEGIN` for sqlx's pool).
//!
//! Behind a transaction-mode pooler the postings use sqlx's pool, as every
//! other transaction does (`Reads::InTransaction`).

use std::ops::{Deref, DerefMut};

use sqlx::Executor;

use super::{
    read_pool::ReadConn,
    reader::{Reader, Reads},
};

/// A [`Reader`] inside a transaction: `BEGIN` sent on a connection of the
/// postings' own pool, or sqlx's transaction on the money pool. Not a
/// `Reader` itself, so `Reader::finish` can never hand back a connection
/// with the transaction still open.
pub struct MoneyTx(Reader);

impl MoneyTx {
    pub async fn begin(on: &Reads) -> Result<Self, sqlx::Error> {
        let mut reader = on.reader().await?;
        if let Reader::Pooled(conn) = &mut reader {
            // Cancelled or failed here, the connection is dropped: closed.
            conn.execute(sqlx::raw_sql("BEGIN")).await?;
        }
        Ok(Self(reader))
    }

    pub async fn commit(self) -> Result<(), sqlx::Error> {
        match self.0 {
            Reader::Pooled(conn) => end(conn, "COMMIT").await,
            Reader::InTransaction(tx) => tx.commit().await,
        }
    }

    pub async fn rollback(self) -> Result<(), sqlx::Error> {
        match self.0 {
            Reader::Pooled(conn) => end(conn, "ROLLBACK").await,
            Reader::InTransaction(tx) => tx.rollback().await,
        }
    }
}

/// Ends the transaction and hands the connection back; on an error the
/// connection is dropped here, so closed.
async fn end(mut conn: ReadConn, statement: &'static str) -> Result<(), sqlx::Error> {
    conn.execute(sqlx::raw_sql(statement)).await?;
    conn.release();
    Ok(())
}

impl Deref for MoneyTx {
    type Target = Reader;

    fn deref(&self) -> &Reader {
        &self.0
    }
}

impl DerefMut for MoneyTx {
    fn deref_mut(&mut self) -> &mut Reader {
        &mut self.0
    }
}
