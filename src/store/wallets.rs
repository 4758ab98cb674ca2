//! `deposits`: one wallet per user. Every money move starts by locking it.

use sqlx::PgConnection;

#[derive(Debug, Clone, Copy)]
pub struct Wallet {
    pub id: i64,
    pub user_id: i64,
    pub balance: i64,
}

pub async fn insert(conn: &mut PgConnection, user_id: i64) -> Result<i64, sqlx::Error> {
    sqlx::query_scalar!(
        "insert into deposits (user_id) values ($1) returning id",
        user_id
    )
    .fetch_one(conn)
    .await
}

/// Locks the user's wallet row until the transaction ends; concurrent money
/// moves for the same user queue here and see each other's results. `no key
/// update` is the lock an `update` of the balance takes anyway: it serialises
/// every money move, yet leaves alone the key-share locks that foreign keys
/// take, so the schema's own backstops (the one-per-day index) stay reachable.
pub async fn lock(conn: &mut PgConnection, user_id: i64) -> Result<Option<Wallet>, sqlx::Error> {
    sqlx::query_as!(
        Wallet,
        "select id, user_id, balance from deposits where user_id = $1 for no key update",
        user_id
    )
    .fetch_optional(conn)
    .await
}

pub async fn set_balance(
    conn: &mut PgConnection,
    id: i64,
    balance: i64,
) -> Result<(), sqlx::Error> {
    sqlx::query!(
        "update deposits set balance = $2, updated_at = now() where id = $1",
        id,
        balance
    )
    .execute(conn)
    .await?;
    Ok(())
}
