//! `user_write_lsn` and the WAL positions around it: what read-your-writes
//! across replicas is decided on, and what the replica health check reads.

use sqlx::PgConnection;

use crate::domain::UserId;

// The mark itself is raised by a money move's own statement
// (`mutations::append_moving_balance`, `withdrawals::insert_debited`).

/// The user's last write mark as text (`"0/3000148"`), `None` if the user
/// never moved money.
pub async fn find(conn: &mut PgConnection, user_id: UserId) -> Result<Option<String>, sqlx::Error> {
    sqlx::query_scalar!(
        r#"select lsn::text as "lsn!" from user_write_lsn where user_id = $1"#,
        user_id.get()
    )
    .fetch_optional(conn)
    .await
}

/// On a replica: whether it has replayed the move that set `lsn` for the
/// user (its copy of the row is at least as new).
pub async fn replayed(
    conn: &mut PgConnection,
    user_id: UserId,
    lsn: &str,
) -> Result<bool, sqlx::Error> {
    sqlx::query_scalar!(
        r#"select exists(select 1 from user_write_lsn
                         where user_id = $1 and lsn >= $2::text::pg_lsn) as "replayed!""#,
        user_id.get(),
        lsn
    )
    .fetch_one(conn)
    .await
}

/// The primary's WAL insert position, as bytes from 0/0.
pub async fn primary_position(conn: &mut PgConnection) -> Result<i64, sqlx::Error> {
    sqlx::query_scalar!(
        r#"select (pg_current_wal_insert_lsn() - '0/0'::pg_lsn)::bigint as "position!""#
    )
    .fetch_one(conn)
    .await
}

/// What a replica says of itself: whether it is still a standby, and how
/// far it has replayed (bytes from 0/0; `None` on a server that is not one).
pub struct ReplicaPosition {
    pub in_recovery: bool,
    pub replayed: Option<i64>,
}

pub async fn replica_position(conn: &mut PgConnection) -> Result<ReplicaPosition, sqlx::Error> {
    let row = sqlx::query!(
        r#"select pg_is_in_recovery() as "in_recovery!",
                  (pg_last_wal_replay_lsn() - '0/0'::pg_lsn)::bigint as replayed"#
    )
    .fetch_one(conn)
    .await?;
    Ok(ReplicaPosition {
        in_recovery: row.in_recovery,
        replayed: row.replayed,
    })
}

/// Whether the server accepts writes (a primary, not a standby).
pub async fn is_writable(conn: &mut PgConnection) -> Result<bool, sqlx::Error> {
    sqlx::query_scalar!(r#"select not pg_is_in_recovery() as "writable!""#)
        .fetch_one(conn)
        .await
}
