//! `password_attempts`: wrong withdraw passwords per user, for the lockout.

use sqlx::{postgres::types::PgInterval, PgConnection};

pub async fn is_locked(conn: &mut PgConnection, user_id: i64) -> Result<bool, sqlx::Error> {
    sqlx::query_scalar!(
        r#"select exists(
               select 1 from password_attempts where user_id = $1 and locked_until > now()
           ) as "locked!""#,
        user_id
    )
    .fetch_one(conn)
    .await
}

/// Counts one failure in the current window (a new window once the old one
/// is older than `window`); the `limit`-th failure locks for `lock_for` and
/// starts the count afresh.
pub async fn record_failure(
    conn: &mut PgConnection,
    user_id: i64,
    limit: i32,
    window: PgInterval,
    lock_for: PgInterval,
) -> Result<(), sqlx::Error> {
    sqlx::query!(
        r#"insert into password_attempts as a (user_id, failures, window_started_at)
           values ($1, 1, now())
           on conflict (user_id) do update set
               failures = case when a.window_started_at < now() - $2::interval then 1
                               else a.failures + 1 end,
               window_started_at = case when a.window_started_at < now() - $2::interval then now()
                                        else a.window_started_at end"#,
        user_id,
        window
    )
    .execute(&mut *conn)
    .await?;
    sqlx::query!(
        r#"update password_attempts
           set locked_until = now() + $3::interval, failures = 0, window_started_at = now()
           where user_id = $1 and failures >= $2"#,
        user_id,
        limit,
        lock_for
    )
    .execute(conn)
    .await?;
    Ok(())
}

pub async fn reset(conn: &mut PgConnection, user_id: i64) -> Result<(), sqlx::Error> {
    sqlx::query!(
        "update password_attempts set failures = 0 where user_id = $1 and failures > 0",
        user_id
    )
    .execute(conn)
    .await?;
    Ok(())
}
