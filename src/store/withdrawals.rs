//! `withdrawals`: requests to pay a wallet out to a bank account.

use chrono::{DateTime, NaiveDate, Utc};
use sqlx::PgConnection;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WithdrawalRow {
    pub id: i64,
    pub user_id: i64,
    pub deposit_id: i64,
    pub bank_account_id: i64,
    pub amount: i64,
    pub fee: i64,
    pub state: String,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub processed_at: Option<DateTime<Utc>>,
    pub cancelled_at: Option<DateTime<Utc>>,
}

pub struct NewWithdrawal {
    pub user_id: i64,
    pub deposit_id: i64,
    pub bank_account_id: i64,
    pub amount: i64,
    pub fee: i64,
    /// Today in the service time zone: the day this withdrawal uses up.
    pub local_day: NaiveDate,
}

/// Today's date in `timezone` on the database's clock, at the start of the
/// current transaction: the same instant every row of it is stamped with.
pub async fn local_today(
    conn: &mut PgConnection,
    timezone: &str,
) -> Result<NaiveDate, sqlx::Error> {
    sqlx::query_scalar!(
        r#"select (now() at time zone $1)::date as "today!""#,
        timezone
    )
    .fetch_one(conn)
    .await
}

/// Whether the user already has a non-cancelled withdrawal on `day`.
pub async fn exists_on(
    conn: &mut PgConnection,
    user_id: i64,
    day: NaiveDate,
) -> Result<bool, sqlx::Error> {
    sqlx::query_scalar!(
        r#"select exists(
               select 1 from withdrawals
               where user_id = $1 and state <> 'cancelled' and local_day = $2
           ) as "exists!""#,
        user_id,
        day
    )
    .fetch_one(conn)
    .await
}

pub async fn insert(
    conn: &mut PgConnection,
    w: NewWithdrawal,
) -> Result<WithdrawalRow, sqlx::Error> {
    sqlx::query_as!(
        WithdrawalRow,
        r#"insert into withdrawals (user_id, deposit_id, bank_account_id, amount, fee, local_day)
           values ($1, $2, $3, $4, $5, $6)
           returning id, user_id, deposit_id, bank_account_id, amount, fee, state,
                     created_at, updated_at, processed_at, cancelled_at"#,
        w.user_id,
        w.deposit_id,
        w.bank_account_id,
        w.amount,
        w.fee,
        w.local_day,
    )
    .fetch_one(conn)
    .await
}

pub async fn find(conn: &mut PgConnection, id: i64) -> Result<Option<WithdrawalRow>, sqlx::Error> {
    sqlx::query_as!(
        WithdrawalRow,
        r#"select id, user_id, deposit_id, bank_account_id, amount, fee, state,
                  created_at, updated_at, processed_at, cancelled_at
           from withdrawals where id = $1"#,
        id
    )
    .fetch_optional(conn)
    .await
}

/// Moves a pending withdrawal to `processed` or `cancelled`, stamping the
/// matching timestamp. Returns `None` when it was not pending.
pub async fn finish(
    conn: &mut PgConnection,
    id: i64,
    state: &str,
) -> Result<Option<WithdrawalRow>, sqlx::Error> {
    sqlx::query_as!(
        WithdrawalRow,
        r#"update withdrawals
           set state = $2, updated_at = now(),
               processed_at = case when $2 = 'processed' then now() end,
               cancelled_at = case when $2 = 'cancelled' then now() end
           where id = $1 and state = 'pending'
           returning id, user_id, deposit_id, bank_account_id, amount, fee, state,
                     created_at, updated_at, processed_at, cancelled_at"#,
        id,
        state
    )
    .fetch_optional(conn)
    .await
}

/// One page of a user's withdrawals, newest first.
pub async fn page_for_user(
    conn: &mut PgConnection,
    user_id: i64,
    limit: i64,
    offset: i64,
) -> Result<Vec<WithdrawalRow>, sqlx::Error> {
    sqlx::query_as!(
        WithdrawalRow,
        r#"select id, user_id, deposit_id, bank_account_id, amount, fee, state,
                  created_at, updated_at, processed_at, cancelled_at
           from withdrawals where user_id = $1
           order by id desc limit $2 offset $3"#,
        user_id,
        limit,
        offset
    )
    .fetch_all(conn)
    .await
}

/// The finance team's queue: oldest first, optionally one state only.
pub async fn page_by_state(
    conn: &mut PgConnection,
    state: Option<&str>,
    limit: i64,
    offset: i64,
) -> Result<Vec<WithdrawalRow>, sqlx::Error> {
    sqlx::query_as!(
        WithdrawalRow,
        r#"select id, user_id, deposit_id, bank_account_id, amount, fee, state,
                  created_at, updated_at, processed_at, cancelled_at
           from withdrawals where $1::text is null or state = $1
           order by id limit $2 offset $3"#,
        state,
        limit,
        offset
    )
    .fetch_all(conn)
    .await
}
