//! `login_throttle`: failed logins per login name (its digest), over a
//! sliding window, and the lockouts they caused.

use sqlx::{postgres::types::PgInterval, PgConnection};

/// Whether the name is locked out right now (a plain read, no row lock).
pub async fn is_locked(conn: &mut PgConnection, login_sha256: &[u8]) -> Result<bool, sqlx::Error> {
    sqlx::query_scalar!(
        r#"select exists(
               select 1 from login_throttle where login_sha256 = $1 and locked_until > now()
           ) as "locked!""#,
        login_sha256
    )
    .fetch_one(conn)
    .await
}

/// Locks the name's row (when it has one) until the transaction ends and
/// tells whether the name is locked out.
pub async fn lock_row(conn: &mut PgConnection, login_sha256: &[u8]) -> Result<bool, sqlx::Error> {
    let locked = sqlx::query_scalar!(
        r#"select coalesce(locked_until > now(), false) as "locked!"
           from login_throttle where login_sha256 = $1 for update"#,
        login_sha256
    )
    .fetch_optional(conn)
    .await?;
    Ok(locked.unwrap_or(false))
}

/// Counts one failure, forgetting those older than `window`, and returns how
/// many now fall within it; `None` when the name is locked out (nothing is
/// counted then).
pub async fn count_failure(
    conn: &mut PgConnection,
    login_sha256: &[u8],
    window: PgInterval,
) -> Result<Option<i64>, sqlx::Error> {
    let count = sqlx::query_scalar!(
        r#"insert into login_throttle as t (login_sha256, failures, forget_after)
           values ($1, array[now()], now() + $2::interval)
           on conflict (login_sha256) do update
           set failures = array(select f from unnest(t.failures) f where f > now() - $2::interval)
                          || now(),
               locked_until = null,
               forget_after = now() + $2::interval
           where t.locked_until is null or t.locked_until <= now()
           returning cardinality(failures)::bigint as "count!""#,
        login_sha256,
        window
    )
    .fetch_optional(conn)
    .await?;
    Ok(count)
}

/// Locks the name out for `window`; its failures start afresh.
pub async fn lock_out(
    conn: &mut PgConnection,
    login_sha256: &[u8],
    window: PgInterval,
) -> Result<(), sqlx::Error> {
    sqlx::query!(
        r#"update login_throttle
           set failures = '{}', locked_until = now() + $2::interval, forget_after = now() + $2::interval
           where login_sha256 = $1"#,
        login_sha256,
        window
    )
    .execute(conn)
    .await?;
    Ok(())
}

/// Forgets the name's failures (and any lockout that has run out).
pub async fn reset(conn: &mut PgConnection, login_sha256: &[u8]) -> Result<(), sqlx::Error> {
    sqlx::query!(
        "delete from login_throttle where login_sha256 = $1",
        login_sha256
    )
    .execute(conn)
    .await?;
    Ok(())
}

/// Deletes up to `limit` rows that no longer mean anything; rows another
/// transaction holds are skipped rather than waited for.
pub async fn prune(conn: &mut PgConnection, limit: i64) -> Result<u64, sqlx::Error> {
    let deleted = sqlx::query!(
        r#"delete from login_throttle
           where login_sha256 in (select login_sha256 from login_throttle
                                  where forget_after <= now()
                                  order by forget_after limit $1
                                  for update skip locked)"#,
        limit
    )
    .execute(conn)
    .await?;
    Ok(deleted.rows_affected())
}
