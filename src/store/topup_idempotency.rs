//! `topup_idempotency`: the first answer to each (user, Idempotency-Key) of
//! the top-up endpoint.

use sqlx::PgConnection;

use super::idempotency::StoredAnswer;
use crate::domain::UserId;

pub async fn find(
    conn: &mut PgConnection,
    user_id: UserId,
    key: &str,
) -> Result<Option<StoredAnswer>, sqlx::Error> {
    sqlx::query_as!(
        StoredAnswer,
        "select fingerprint, outcome from topup_idempotency where user_id = $1 and key = $2",
        user_id.get(),
        key
    )
    .fetch_optional(conn)
    .await
}

/// Records the answer for a key inside the request's transaction. Returns
/// false when the key already has one (a concurrent twin got there first).
pub async fn save(
    conn: &mut PgConnection,
    user_id: UserId,
    key: &str,
    fingerprint: &str,
    outcome: &str,
) -> Result<bool, sqlx::Error> {
    let inserted = sqlx::query!(
        r#"insert into topup_idempotency (user_id, key, fingerprint, outcome)
           values ($1, $2, $3, $4) on conflict do nothing"#,
        user_id.get(),
        key,
        fingerprint,
        outcome
    )
    .execute(conn)
    .await?;
    Ok(inserted.rows_affected() == 1)
}
