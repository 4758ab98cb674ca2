//! The two database roles: the owner, which runs the migrations, and the
//! runtime role the server connects as, which may read and append the ledger
//! but never rewrite it (SPEC §7).

use sqlx::{Connection, PgConnection};

/// The runtime role of the embedded default's private cluster.
pub const EMBEDDED_RUNTIME_ROLE: &str = "dompet_app";

/// The runtime role's grants, run as the owner after every migration. Also
/// the script an operator runs by hand (its header says how).
pub const GRANTS_SQL: &str = include_str!("grants.sql");

/// Creates the login role `role` with `password` and no privileges of its
/// own, or resets an existing one's password and attributes to these. Needs
/// a role allowed to create roles (the embedded cluster's superuser).
pub async fn ensure_runtime_role(
    conn: &mut PgConnection,
    role: &str,
    password: &str,
) -> Result<(), sqlx::Error> {
    let mut tx = conn.begin().await?;
    sqlx::query("select pg_advisory_xact_lock(hashtext('dompet.roles'))")
        .execute(&mut *tx)
        .await?;
    let exists: bool =
        sqlx::query_scalar("select exists(select 1 from pg_roles where rolname = $1)")
            .bind(role)
            .fetch_one(&mut *tx)
            .await?;
    // Role statements take no parameters: the server quotes them itself.
    let statement: String = sqlx::query_scalar(
        "select format('%s role %I with login password %L
                        nosuperuser nocreatedb nocreaterole noreplication nobypassrls',
                       case when $3 then 'alter' else 'create' end, $1::text, $2::text)",
    )
    .bind(role)
    .bind(password)
    .bind(exists)
    .fetch_one(&mut *tx)
    .await?;
    sqlx::raw_sql(&statement).execute(&mut *tx).await?;
    tx.commit().await
}

/// Gives `role` exactly the privileges of [`GRANTS_SQL`] on the database
/// `owner` is connected to, as `owner`'s current role.
pub async fn grant_runtime(owner: &mut PgConnection, role: &str) -> Result<(), sqlx::Error> {
    let mut tx = owner.begin().await?;
    sqlx::query("select set_config('dompet.runtime_role', $1, true)")
        .bind(role)
        .execute(&mut *tx)
        .await?;
    sqlx::raw_sql(GRANTS_SQL).execute(&mut *tx).await?;
    tx.commit().await
}

/// Why the connected role could rewrite the ledger, if it could: it is a
/// superuser, it is (or may become) the owner of `mutations` or of its
/// schema, or it holds UPDATE, DELETE or TRUNCATE on `mutations`. `None`
/// also when there is no ledger yet.
pub async fn ledger_rewrite_risk(conn: &mut PgConnection) -> Result<Option<String>, sqlx::Error> {
    let row: Option<(String, bool, bool, bool, Vec<String>)> = sqlx::query_as(
        "select current_user::text,
                r.rolsuper,
                pg_has_role(current_user, c.relowner, 'MEMBER'),
                pg_has_role(current_user, n.nspowner, 'MEMBER'),
                array(select p from unnest(array['UPDATE', 'DELETE', 'TRUNCATE']) p
                      where has_table_privilege(c.oid, p))
         from pg_roles r, pg_class c join pg_namespace n on n.oid = c.relnamespace
         where r.rolname = current_user and c.oid = to_regclass('mutations')",
    )
    .fetch_optional(conn)
    .await?;
    let Some((role, superuser, owner, schema_owner, privileges)) = row else {
        return Ok(None);
    };
    let why = if superuser {
        "is a superuser".to_owned()
    } else if owner {
        "owns the table mutations (it can disable the append-only trigger)".to_owned()
    } else if schema_owner {
        "owns the schema of mutations (it can drop the table)".to_owned()
    } else if !privileges.is_empty() {
        format!("may {} mutations", privileges.join(", "))
    } else {
        return Ok(None);
    };
    Ok(Some(format!("the role {role} {why}")))
}
