//! `users`: identities, password hashes and API token digests.

use sqlx::PgConnection;

#[derive(Debug, Clone)]
pub struct UserRow {
    pub id: i64,
    pub username: String,
    pub email: String,
    pub deposit_id: i64,
    pub balance: i64,
}

pub struct NewUser<'a> {
    pub id: Option<i64>,
    pub username: &'a str,
    pub email: &'a str,
    pub password_hash: &'a str,
    pub token_sha256: &'a [u8],
}

/// Inserts a user, taking the given id (an import) or the next one.
pub async fn insert(conn: &mut PgConnection, user: NewUser<'_>) -> Result<i64, sqlx::Error> {
    let id = sqlx::query_scalar!(
        r#"insert into users (id, username, email, password_hash, token_sha256)
           values (coalesce($1, nextval(pg_get_serial_sequence('users', 'id'))), $2, $3, $4, $5)
           returning id"#,
        user.id,
        user.username,
        user.email,
        user.password_hash,
        user.token_sha256,
    )
    .fetch_one(&mut *conn)
    .await?;
    if user.id.is_some() {
        super::bump_identity_past(conn, "users", id).await?;
    }
    Ok(id)
}

pub async fn find(conn: &mut PgConnection, id: i64) -> Result<Option<UserRow>, sqlx::Error> {
    sqlx::query_as!(
        UserRow,
        r#"select u.id, u.username, u.email, d.id as deposit_id, d.balance
           from users u join deposits d on d.user_id = u.id
           where u.id = $1"#,
        id
    )
    .fetch_optional(conn)
    .await
}

pub async fn token_digest(
    conn: &mut PgConnection,
    id: i64,
) -> Result<Option<Vec<u8>>, sqlx::Error> {
    sqlx::query_scalar!("select token_sha256 from users where id = $1", id)
        .fetch_optional(conn)
        .await
}

pub async fn password_hash(
    conn: &mut PgConnection,
    id: i64,
) -> Result<Option<String>, sqlx::Error> {
    sqlx::query_scalar!("select password_hash from users where id = $1", id)
        .fetch_optional(conn)
        .await
}

pub async fn count(conn: &mut PgConnection) -> Result<i64, sqlx::Error> {
    sqlx::query_scalar!(r#"select count(*) as "count!" from users"#)
        .fetch_one(conn)
        .await
}
