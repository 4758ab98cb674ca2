//! `mutations`: the append-only ledger of credits and debits.

use chrono::{DateTime, Utc};
use sqlx::PgConnection;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MutationRow {
    pub id: i64,
    pub user_id: i64,
    pub kind: String,
    pub action: String,
    pub amount: i64,
    pub initial_balance: i64,
    pub final_balance: i64,
    pub transaction_id: Option<i64>,
    pub transaction_no: Option<String>,
    pub note: Option<String>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

pub struct NewMutation<'a> {
    pub user_id: i64,
    pub deposit_id: i64,
    pub kind: &'a str,
    pub action: &'a str,
    pub amount: i64,
    pub initial_balance: i64,
    pub final_balance: i64,
    pub transaction_id: Option<i64>,
    pub transaction_no: Option<&'a str>,
    pub note: Option<&'a str>,
    pub withdrawal_id: Option<i64>,
    pub idempotency_key: Option<&'a str>,
}

pub async fn insert(
    conn: &mut PgConnection,
    m: NewMutation<'_>,
) -> Result<MutationRow, sqlx::Error> {
    sqlx::query_as!(
        MutationRow,
        r#"insert into mutations (user_id, deposit_id, type, action, amount, initial_balance,
                                  final_balance, transaction_id, transaction_no, note,
                                  withdrawal_id, idempotency_key)
           values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)
           returning id, user_id, type as kind, action, amount, initial_balance, final_balance,
                     transaction_id, transaction_no, note, created_at, updated_at"#,
        m.user_id,
        m.deposit_id,
        m.kind,
        m.action,
        m.amount,
        m.initial_balance,
        m.final_balance,
        m.transaction_id,
        m.transaction_no,
        m.note,
        m.withdrawal_id,
        m.idempotency_key,
    )
    .fetch_one(conn)
    .await
}

pub async fn find_by_idempotency_key(
    conn: &mut PgConnection,
    key: &str,
) -> Result<Option<MutationRow>, sqlx::Error> {
    sqlx::query_as!(
        MutationRow,
        r#"select id, user_id, type as kind, action, amount, initial_balance, final_balance,
                  transaction_id, transaction_no, note, created_at, updated_at
           from mutations where idempotency_key = $1"#,
        key
    )
    .fetch_optional(conn)
    .await
}

/// One page of a user's history, newest first, walking `mutations_user_id_id`.
pub async fn page_for_user(
    conn: &mut PgConnection,
    user_id: i64,
    limit: i64,
    offset: i64,
) -> Result<Vec<MutationRow>, sqlx::Error> {
    sqlx::query_as!(
        MutationRow,
        r#"select id, user_id, type as kind, action, amount, initial_balance, final_balance,
                  transaction_id, transaction_no, note, created_at, updated_at
           from mutations where user_id = $1
           order by id desc limit $2 offset $3"#,
        user_id,
        limit,
        offset
    )
    .fetch_all(conn)
    .await
}
