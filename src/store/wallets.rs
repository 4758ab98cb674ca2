//! `deposits`: one wallet per user. Every money move starts by locking it.

use sqlx::PgConnection;

use crate::domain::{UserId, Wallet, WalletId};

pub async fn insert(conn: &mut PgConnection, user_id: UserId) -> Result<WalletId, sqlx::Error> {
    sqlx::query_scalar!(
        r#"insert into deposits (user_id) values ($1) returning id as "id: WalletId""#,
        user_id.get()
    )
    .fetch_one(conn)
    .await
}

/// Locks the user's wallet row until the transaction ends; concurrent money
/// moves for the same user queue here and see each other's results. `no key
/// update` is the lock an `update` of the balance takes anyway: it serialises
/// every money move, yet leaves alone the key-share locks that foreign keys
/// take, so the schema's own backstops (the one-per-day index) stay reachable.
pub async fn lock(conn: &mut PgConnection, user_id: UserId) -> Result<Option<Wallet>, sqlx::Error> {
    sqlx::query_as!(
        Wallet,
        r#"select id as "id: WalletId", user_id as "user_id: UserId", balance
           from deposits where user_id = $1 for no key update"#,
        user_id.get()
    )
    .fetch_optional(conn)
    .await
}

pub async fn set_balance(
    conn: &mut PgConnection,
    id: WalletId,
    balance: i64,
) -> Result<(), sqlx::Error> {
    sqlx::query!(
        "update deposits set balance = $2, updated_at = now() where id = $1",
        id.get(),
        balance
    )
    .execute(conn)
    .await?;
    Ok(())
}
