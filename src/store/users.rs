//! `users`: identities, display names and password hashes.

use sqlx::PgConnection;

use crate::domain::{User, UserId, WalletId};

pub struct NewUser<'a> {
    pub id: Option<UserId>,
    pub username: &'a str,
    pub email: &'a str,
    pub password_hash: &'a str,
    /// The display name; `None` shows the username.
    pub name: Option<&'a str>,
}

/// Inserts a user, taking the given id (an import) or the next one.
pub async fn insert(conn: &mut PgConnection, user: NewUser<'_>) -> Result<UserId, sqlx::Error> {
    let id = sqlx::query_scalar!(
        r#"insert into users (id, username, email, password_hash, name)
           values (coalesce($1, nextval(pg_get_serial_sequence('users', 'id'))), $2, $3, $4, $5)
           returning id as "id: UserId""#,
        user.id.map(UserId::get),
        user.username,
        user.email,
        user.password_hash,
        user.name,
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

/// What a withdrawal checks before its password: the hash, whether the
/// user is locked out (`password_lockouts`) and, when the request brought
/// an API token, the stored digest equal to the token's (`tokens`), all in
/// one statement: the public endpoint's authentication, lockout check and
/// hash read are one round trip. Multi-table, kept here because the user's
/// row is what it reads (at most one token and one lockout hang on it).
#[derive(Debug, Clone)]
pub struct PasswordGate {
    pub token_sha256: Option<Vec<u8>>,
    pub password_hash: String,
    pub locked: bool,
}

pub async fn password_gate(
    conn: &mut PgConnection,
    id: UserId,
    token_sha256: Option<&[u8]>,
) -> Result<Option<PasswordGate>, sqlx::Error> {
    sqlx::query_as!(
        PasswordGate,
        r#"select t.token_sha256 as "token_sha256?", u.password_hash,
                  coalesce(l.locked_until > now(), false) as "locked!"
           from users u
           left join password_lockouts l on l.user_id = u.id
           left join tokens t on t.user_id = u.id and t.token_sha256 = $2
           where u.id = $1"#,
        id.get(),
        token_sha256
    )
    .fetch_optional(conn)
    .await
}

/// Whom a login name names, with the hash to check the password against.
#[derive(Debug, Clone)]
pub struct LoginCandidate {
    pub id: UserId,
    pub password_hash: String,
}

/// The user whose username is `login`, else the one whose email is `login`
/// without regard to case (both unique, so at most one of each).
pub async fn find_for_login(
    conn: &mut PgConnection,
    login: &str,
) -> Result<Option<LoginCandidate>, sqlx::Error> {
    sqlx::query_as!(
        LoginCandidate,
        r#"select id as "id: UserId", password_hash from users
           where username = $1 or lower(email) = lower($1)
           order by username = $1 desc
           limit 1"#,
        login
    )
    .fetch_optional(conn)
    .await
}

/// What a login answers with, and the hash it was verified against.
#[derive(Debug, Clone)]
pub struct LoginProfile {
    pub id: UserId,
    pub user_name: String,
    pub email: String,
    pub omnikey: String,
    pub password_hash: String,
}

/// Locks the user's row until the transaction ends (serialising its logins
/// and password changes) and reads its profile. `no key update` leaves the
/// key-share locks of foreign keys alone, so wallet moves never wait here.
pub async fn lock_profile(
    conn: &mut PgConnection,
    id: UserId,
) -> Result<Option<LoginProfile>, sqlx::Error> {
    sqlx::query_as!(
        LoginProfile,
        r#"select id as "id: UserId", coalesce(name, username) as "user_name!", email, omnikey,
                  password_hash
           from users where id = $1 for no key update"#,
        id.get()
    )
    .fetch_optional(conn)
    .await
}

/// The user's login names: its username and its email.
pub async fn login_names(
    conn: &mut PgConnection,
    id: UserId,
) -> Result<Option<(String, String)>, sqlx::Error> {
    let names = sqlx::query!("select username, email from users where id = $1", id.get())
        .fetch_optional(conn)
        .await?;
    Ok(names.map(|n| (n.username, n.email)))
}

/// Replaces the user's password hash; false when there is no such user.
pub async fn set_password_hash(
    conn: &mut PgConnection,
    id: UserId,
    password_hash: &str,
) -> Result<bool, sqlx::Error> {
    let updated = sqlx::query!(
        "update users set password_hash = $2 where id = $1",
        id.get(),
        password_hash
    )
    .execute(conn)
    .await?;
    Ok(updated.rows_affected() > 0)
}
