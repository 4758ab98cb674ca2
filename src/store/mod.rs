//! sqlx queries over the ledger, one module per table. Functions take a
//! connection (or a transaction deref'd to one) and decide nothing.

pub mod attempts;
pub mod bank_accounts;
pub mod health;
pub mod history_v2;
pub mod idempotency;
pub mod login_throttle;
pub mod mutations;
pub mod payouts;
pub mod retention;
pub mod seed;
pub mod statement_lines;
pub mod tokens;
pub mod topups;
pub mod users;
pub mod verify;
pub mod wallets;
pub mod withdrawals;
pub mod write_marks;

use sqlx::{PgPool, Postgres, Transaction};

/// Begins a transaction on a connection from `pool`, the only way dompet
/// begins one on a pool (clippy refuses `Pool::begin` elsewhere). The `BEGIN`
/// runs in a task of its own, so it always gets its answer: sqlx 0.8 hands a
/// connection back to the pool still inside the transaction when the future
/// awaiting `BEGIN` is dropped (a client gone, a timeout; launchbadge/sqlx
/// #4393), and the next borrower's statements would silently join it. Once
/// begun, a transaction that is dropped rolls back on its own.
pub async fn begin(pool: &PgPool) -> Result<Transaction<'static, Postgres>, sqlx::Error> {
    let pool = pool.clone();
    #[allow(clippy::disallowed_methods)]
    let begun = tokio::spawn(async move { pool.begin().await });
    begun
        .await
        .map_err(|e| sqlx::Error::Io(std::io::Error::other(e)))?
}

/// After a row was inserted with an explicit id (an import), moves `table`'s
/// identity sequence past it so the id is never handed out again.
pub async fn bump_identity_past(
    conn: &mut sqlx::PgConnection,
    table: &str,
    id: i64,
) -> Result<(), sqlx::Error> {
    sqlx::query_scalar!(
        r#"select setval(seq, greatest($2, coalesce(pg_sequence_last_value(seq), 0)))
           from (select pg_get_serial_sequence($1, 'id')::regclass as seq) s"#,
        table,
        id
    )
    .fetch_one(conn)
    .await?;
    Ok(())
}

/// The name of the constraint a database error violated, if any.
pub fn violated_constraint(err: &sqlx::Error) -> Option<&str> {
    err.as_database_error().and_then(|e| e.constraint())
}

/// Whether a wait ran out: for a pooled connection (`acquire_timeout`), for
/// a lock (`lock_timeout`, 55P03) or for a statement (`statement_timeout`,
/// 57014). Nothing of the transaction was kept, so the request may simply be
/// tried again.
pub fn is_timeout(err: &sqlx::Error) -> bool {
    // A pool with no connection to give is not counted here: from inside
    // dompet it cannot be told from a database that refuses connections, so
    // it is "unavailable" rather than "busy".
    err.as_database_error()
        .and_then(|e| e.code())
        .is_some_and(|code| matches!(code.as_ref(), "55P03" | "57014"))
}
