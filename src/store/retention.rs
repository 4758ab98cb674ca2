//! The statements that forget rows past their use, one batch each. A batch
//! picks at most `limit` old rows by their physical address and deletes just
//! those, so each statement is short and locks only the rows it removes; the
//! age test is repeated so a row changed meanwhile is left alone. Also the
//! lazy `expired` state of top-ups, written in the same small batches.

use sqlx::{postgres::types::PgInterval, PgConnection};

use super::idempotency::Keys;

/// Idempotency-Keys (of `keys`' table) created more than `age` ago.
pub async fn prune_idempotency(
    conn: &mut PgConnection,
    keys: Keys,
    age: PgInterval,
    limit: i64,
) -> Result<u64, sqlx::Error> {
    let delete = match keys {
        Keys::Withdraw => sqlx::query!(
            r#"delete from withdraw_idempotency
               where ctid = any(array(select ctid from withdraw_idempotency
                                      where created_at < now() - $1::interval limit $2))
                 and created_at < now() - $1::interval"#,
            age,
            limit
        ),
        Keys::Topup => sqlx::query!(
            r#"delete from topup_idempotency
               where ctid = any(array(select ctid from topup_idempotency
                                      where created_at < now() - $1::interval limit $2))
                 and created_at < now() - $1::interval"#,
            age,
            limit
        ),
    };
    Ok(delete.execute(conn).await?.rows_affected())
}

/// `password_failures` that no longer count: older than `window`.
pub async fn prune_password_failures(
    conn: &mut PgConnection,
    window: PgInterval,
    limit: i64,
) -> Result<u64, sqlx::Error> {
    let done = sqlx::query!(
        r#"delete from password_failures
           where ctid = any(array(select ctid from password_failures
                                  where failed_at <= now() - $1::interval limit $2))
             and failed_at <= now() - $1::interval"#,
        window,
        limit
    )
    .execute(conn)
    .await?;
    Ok(done.rows_affected())
}

/// `password_lockouts` that have ended.
pub async fn prune_password_lockouts(
    conn: &mut PgConnection,
    limit: i64,
) -> Result<u64, sqlx::Error> {
    let done = sqlx::query!(
        r#"delete from password_lockouts
           where ctid = any(array(select ctid from password_lockouts
                                  where locked_until <= now() limit $1))
             and locked_until <= now()"#,
        limit
    )
    .execute(conn)
    .await?;
    Ok(done.rows_affected())
}

/// Writes `expired` on pending top-ups past their time, which every read
/// already shows as expired: their totals leave the pending-total index
/// without waiting for a new request of the same amount. Rows another
/// transaction holds are skipped.
pub async fn expire_topups(conn: &mut PgConnection, limit: i64) -> Result<u64, sqlx::Error> {
    let done = sqlx::query!(
        r#"update topups set state = 'expired', updated_at = now()
           where id in (select id from topups
                        where state = 'pending' and expires_at <= now()
                        order by id limit $1
                        for update skip locked)"#,
        limit
    )
    .execute(conn)
    .await?;
    Ok(done.rows_affected())
}
