//! `withdraw_idempotency` and `topup_idempotency`: the first answer to each
//! (user, Idempotency-Key) of the withdraw and the top-up endpoint. The two
//! tables have one shape; each keeps its own whole statements, so sqlx checks
//! each against its own table.

use sqlx::PgConnection;

use crate::domain::UserId;

/// Whose keys: each endpoint has a table of its own, so one key may name a
/// withdrawal and a top-up alike.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Keys {
    Withdraw,
    Topup,
}

#[derive(Debug, Clone)]
pub struct StoredAnswer {
    pub fingerprint: String,
    pub outcome: String,
}

pub async fn find(
    conn: &mut PgConnection,
    keys: Keys,
    user_id: UserId,
    key: &str,
) -> Result<Option<StoredAnswer>, sqlx::Error> {
    let user_id = user_id.get();
    match keys {
        Keys::Withdraw => {
            sqlx::query_as!(
                StoredAnswer,
                r#"select fingerprint, outcome from withdraw_idempotency
                   where user_id = $1 and key = $2"#,
                user_id,
                key
            )
            .fetch_optional(conn)
            .await
        }
        Keys::Topup => {
            sqlx::query_as!(
                StoredAnswer,
                r#"select fingerprint, outcome from topup_idempotency
                   where user_id = $1 and key = $2"#,
                user_id,
                key
            )
            .fetch_optional(conn)
            .await
        }
    }
}

/// Records the answer for a key inside the request's transaction. Returns
/// false when the key already has one (a concurrent twin committed first).
pub async fn save(
    conn: &mut PgConnection,
    keys: Keys,
    user_id: UserId,
    key: &str,
    fingerprint: &str,
    outcome: &str,
) -> Result<bool, sqlx::Error> {
    let user_id = user_id.get();
    let insert = match keys {
        Keys::Withdraw => sqlx::query!(
            r#"insert into withdraw_idempotency (user_id, key, fingerprint, outcome)
               values ($1, $2, $3, $4) on conflict do nothing"#,
            user_id,
            key,
            fingerprint,
            outcome
        ),
        Keys::Topup => sqlx::query!(
            r#"insert into topup_idempotency (user_id, key, fingerprint, outcome)
               values ($1, $2, $3, $4) on conflict do nothing"#,
            user_id,
            key,
            fingerprint,
            outcome
        ),
    };
    Ok(insert.execute(conn).await?.rows_affected() == 1)
}
