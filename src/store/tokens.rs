//! `tokens`: a user's API tokens (one per device), as SHA-256 digests only.

use sqlx::PgConnection;

use crate::domain::{Token, TokenId, UserId};

pub async fn insert(
    conn: &mut PgConnection,
    user_id: UserId,
    token_sha256: &[u8],
) -> Result<TokenId, sqlx::Error> {
    sqlx::query_scalar!(
        r#"insert into tokens (user_id, token_sha256) values ($1, $2)
           returning id as "id: TokenId""#,
        user_id.get(),
        token_sha256
    )
    .fetch_one(conn)
    .await
}

/// The stored digest when `token_sha256` is a token of `user_id`: one probe
/// of the unique digest index. The index compares digests, whose prefixes a
/// guesser cannot steer, so its timing says nothing about any token.
pub async fn find_digest(
    conn: &mut PgConnection,
    user_id: UserId,
    token_sha256: &[u8],
) -> Result<Option<Vec<u8>>, sqlx::Error> {
    sqlx::query_scalar!(
        "select token_sha256 from tokens where token_sha256 = $1 and user_id = $2",
        token_sha256,
        user_id.get()
    )
    .fetch_optional(conn)
    .await
}

/// Deletes all but the newest `keep` tokens of the user; returns how many
/// went. Callers hold the user's row lock, so concurrent logins cannot
/// each keep their own ten.
pub async fn keep_newest(
    conn: &mut PgConnection,
    user_id: UserId,
    keep: i64,
) -> Result<u64, sqlx::Error> {
    let deleted = sqlx::query!(
        r#"delete from tokens
           where user_id = $1
             and id < (select id from tokens where user_id = $1
                       order by id desc offset $2 limit 1)"#,
        user_id.get(),
        // The oldest token kept is the `keep`-th newest.
        keep - 1
    )
    .execute(conn)
    .await?;
    Ok(deleted.rows_affected())
}

/// The user's tokens, oldest first.
pub async fn list(conn: &mut PgConnection, user_id: UserId) -> Result<Vec<Token>, sqlx::Error> {
    sqlx::query_as!(
        Token,
        r#"select id as "id: TokenId", user_id as "user_id: UserId", created_at
           from tokens where user_id = $1 order by id"#,
        user_id.get()
    )
    .fetch_all(conn)
    .await
}

/// Deletes one token of the user; false when the user has no such token.
pub async fn delete(
    conn: &mut PgConnection,
    user_id: UserId,
    token_id: TokenId,
) -> Result<bool, sqlx::Error> {
    let deleted = sqlx::query!(
        "delete from tokens where id = $1 and user_id = $2",
        token_id.get(),
        user_id.get()
    )
    .execute(conn)
    .await?;
    Ok(deleted.rows_affected() > 0)
}

/// Deletes every token of the user; returns how many there were.
pub async fn delete_all(conn: &mut PgConnection, user_id: UserId) -> Result<u64, sqlx::Error> {
    let deleted = sqlx::query!("delete from tokens where user_id = $1", user_id.get())
        .execute(conn)
        .await?;
    Ok(deleted.rows_affected())
}
