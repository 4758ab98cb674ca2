//! What the readiness probe asks of the database.

use sqlx::PgConnection;

/// A round trip that touches no table.
pub async fn ping(conn: &mut PgConnection) -> Result<(), sqlx::Error> {
    sqlx::query_scalar!(r#"select 1 as "one!""#)
        .fetch_one(conn)
        .await?;
    Ok(())
}
