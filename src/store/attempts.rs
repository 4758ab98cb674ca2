//! `password_failures` and `password_lockouts`: wrong withdraw passwords per
//! user, counted over a sliding window.

use sqlx::{postgres::types::PgInterval, PgConnection};

pub async fn is_locked(conn: &mut PgConnection, user_id: i64) -> Result<bool, sqlx::Error> {
    sqlx::query_scalar!(
        r#"select exists(
               select 1 from password_lockouts where user_id = $1 and locked_until > now()
           ) as "locked!""#,
        user_id
    )
    .fetch_one(conn)
    .await
}

/// Counts one failure; when `limit` failures fall within `window`, locks the
/// user for `window` and starts counting afresh.
pub async fn record_failure(
    conn: &mut PgConnection,
    user_id: i64,
    limit: i64,
    window: PgInterval,
) -> Result<(), sqlx::Error> {
    sqlx::query!(
        "delete from password_failures where user_id = $1 and failed_at <= now() - $2::interval",
        user_id,
        window
    )
    .execute(&mut *conn)
    .await?;
    sqlx::query!(
        "insert into password_failures (user_id) values ($1)",
        user_id
    )
    .execute(&mut *conn)
    .await?;
    let locked = sqlx::query!(
        r#"insert into password_lockouts (user_id, locked_until)
           select $1, now() + $3::interval
           where (select count(*) from password_failures where user_id = $1) >= $2
           on conflict (user_id) do update set locked_until = excluded.locked_until"#,
        user_id,
        limit,
        window
    )
    .execute(&mut *conn)
    .await?
    .rows_affected();
    if locked > 0 {
        reset(conn, user_id).await?;
    }
    Ok(())
}

/// A passed password check forgets earlier failures.
pub async fn reset(conn: &mut PgConnection, user_id: i64) -> Result<(), sqlx::Error> {
    sqlx::query!("delete from password_failures where user_id = $1", user_id)
        .execute(conn)
        .await?;
    Ok(())
}
