//! `password_failures` and `password_lockouts`: wrong withdraw passwords per
//! user. The policy (how many, over which window) is the service's.

use sqlx::{postgres::types::PgInterval, PgConnection};

use crate::domain::UserId;

pub async fn is_locked(conn: &mut PgConnection, user_id: UserId) -> Result<bool, sqlx::Error> {
    sqlx::query_scalar!(
        r#"select exists(
               select 1 from password_lockouts where user_id = $1 and locked_until > now()
           ) as "locked!""#,
        user_id.get()
    )
    .fetch_one(conn)
    .await
}

/// Records one failure and answers how many fall within `window`, older ones
/// forgotten on the way.
pub async fn record_failure(
    conn: &mut PgConnection,
    user_id: UserId,
    window: PgInterval,
) -> Result<i64, sqlx::Error> {
    sqlx::query!(
        "delete from password_failures where user_id = $1 and failed_at <= now() - $2::interval",
        user_id.get(),
        window
    )
    .execute(&mut *conn)
    .await?;
    sqlx::query_scalar!(
        r#"with added as (insert into password_failures (user_id) values ($1) returning 1)
           select (select count(*) from password_failures where user_id = $1)
                  + (select count(*) from added) as "failures!""#,
        user_id.get()
    )
    .fetch_one(conn)
    .await
}

/// Refuses the user's withdrawals for `duration` from now.
pub async fn lock_for(
    conn: &mut PgConnection,
    user_id: UserId,
    duration: PgInterval,
) -> Result<(), sqlx::Error> {
    sqlx::query!(
        r#"insert into password_lockouts (user_id, locked_until) values ($1, now() + $2::interval)
           on conflict (user_id) do update set locked_until = excluded.locked_until"#,
        user_id.get(),
        duration
    )
    .execute(conn)
    .await?;
    Ok(())
}

/// Forgets the user's counted failures.
pub async fn reset(conn: &mut PgConnection, user_id: UserId) -> Result<(), sqlx::Error> {
    sqlx::query!(
        "delete from password_failures where user_id = $1",
        user_id.get()
    )
    .execute(conn)
    .await?;
    Ok(())
}
