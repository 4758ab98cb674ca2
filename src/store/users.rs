//! `users`: identities, password hashes and API token digests.

use sqlx::PgConnection;

use crate::domain::{User, UserId, WalletId};

pub struct NewUser<'a> {
    pub id: Option<UserId>,
    pub username: &'a str,
    pub email: &'a str,
    pub password_hash: &'a str,
    pub token_sha256: &'a [u8],
}

/// Inserts a user, taking the given id (an import) or the next one.
pub async fn insert(conn: &mut PgConnection, user: NewUser<'_>) -> Result<UserId, sqlx::Error> {
    let id = sqlx::query_scalar!(
        r#"insert into users (id, username, email, password_hash, token_sha256)
           values (coalesce($1, nextval(pg_get_serial_sequence('users', 'id'))), $2, $3, $4, $5)
           returning id as "id: UserId""#,
        user.id.map(UserId::get),
        user.username,
        user.email,
        user.password_hash,
        user.token_sha256,
    )
    .fetch_one(&mut *conn)
    .await?;
    if user.id.is_some() {
        super::bump_identity_past(conn, "users", id.get()).await?;
    }
    Ok(id)
}

pub async fn find(conn: &mut PgConnection, id: UserId) -> Result<Option<User>, sqlx::Error> {
    sqlx::query_as!(
        User,
        r#"select u.id as "id: UserId", u.username, u.email,
                  d.id as "deposit_id: WalletId", d.balance
           from users u join deposits d on d.user_id = u.id
           where u.id = $1"#,
        id.get()
    )
    .fetch_optional(conn)
    .await
}

pub async fn exists(conn: &mut PgConnection, id: UserId) -> Result<bool, sqlx::Error> {
    sqlx::query_scalar!(
        r#"select exists(select 1 from users where id = $1) as "exists!""#,
        id.get()
    )
    .fetch_one(conn)
    .await
}

pub async fn token_digest(
    conn: &mut PgConnection,
    id: UserId,
) -> Result<Option<Vec<u8>>, sqlx::Error> {
    sqlx::query_scalar!("select token_sha256 from users where id = $1", id.get())
        .fetch_optional(conn)
        .await
}

pub async fn password_hash(
    conn: &mut PgConnection,
    id: UserId,
) -> Result<Option<String>, sqlx::Error> {
    sqlx::query_scalar!("select password_hash from users where id = $1", id.get())
        .fetch_optional(conn)
        .await
}
