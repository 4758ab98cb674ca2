//! `password_failures` and `password_lockouts`: wrong withdraw passwords per
//! user. The policy (how many, over which window) is the service's; whether
//! the user is locked out and how many failures count are read with the rest
//! of a withdrawal's facts (`withdrawals::facts_under_lock`).

use sqlx::{postgres::types::PgInterval, PgConnection};

use crate::domain::UserId;

/// Records one failure, forgetting those older than `window` on the way.
pub async fn record_failure(
    conn: &mut PgConnection,
    user_id: UserId,
    window: PgInterval,
) -> Result<(), sqlx::Error> {
    sqlx::query!(
        r#"with forgotten as (
               delete from password_failures
               where user_id = $1 and failed_at <= now() - $2::interval
           )
           insert into password_failures (user_id) values ($1)"#,
        user_id.get(),
        window
    )
    .execute(conn)
    .await?;
    Ok(())
}

/// Refuses the user's withdrawals for `duration` from now and forgets the
/// failures that led there, so the count starts afresh after the lockout.
pub async fn lock_for(
    conn: &mut PgConnection,
    user_id: UserId,
    duration: PgInterval,
) -> Result<(), sqlx::Error> {
    sqlx::query!(
        r#"with locked as (
               insert into password_lockouts (user_id, locked_until)
               values ($1, now() + $2::interval)
               on conflict (user_id) do update set locked_until = excluded.locked_until
           )
           delete from password_failures where user_id = $1"#,
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
