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

use sqlx::{Executor, PgConnection, Postgres, Transaction};

use super::{read_pool::ReadConn, reader::Reads};

pub enum MoneyTx {
    /// `BEGIN` sent on a connection of the postings' own pool.
    Lean(ReadConn),
    /// sqlx's transaction on the money pool.
    Sqlx(Transaction<'static, Postgres>),
}

impl MoneyTx {
    pub async fn begin(on: &Reads) -> Result<Self, sqlx::Error> {
        Ok(match on {
            Reads::Pooled(pool) => {
                let mut conn = pool.acquire().await?;
                conn.execute(sqlx::raw_sql("BEGIN")).await?;
                Self::Lean(conn)
            }
            Reads::InTransaction(pool) => Self::Sqlx(crate::store::begin(pool).await?),
        })
    }

    pub async fn commit(self) -> Result<(), sqlx::Error> {
        match self {
            Self::Lean(conn) => end(conn, "COMMIT").await,
            Self::Sqlx(tx) => tx.commit().await,
        }
    }

    pub async fn rollback(self) -> Result<(), sqlx::Error> {
        match self {
            Self::Lean(conn) => end(conn, "ROLLBACK").await,
            Self::Sqlx(tx) => tx.rollback().await,
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
    type Target = PgConnection;

    fn deref(&self) -> &PgConnection {
        match self {
            Self::Lean(conn) => conn,
            Self::Sqlx(tx) => tx,
        }
    }
}

impl DerefMut for MoneyTx {
    fn deref_mut(&mut self) -> &mut PgConnection {
        match self {
            Self::Lean(conn) => conn,
            Self::Sqlx(tx) => tx,
        }
    }
}
