//! `withdrawals`: requests to pay a wallet out to a bank account.

use chrono::NaiveDate;
use sqlx::PgConnection;

use crate::domain::{
    Amount, BankAccountId, UserId, WalletId, Withdrawal, WithdrawalId, WithdrawalState,
};

pub struct NewWithdrawal {
    pub user_id: UserId,
    pub deposit_id: WalletId,
    pub bank_account_id: BankAccountId,
    pub amount: Amount,
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
    user_id: UserId,
    day: NaiveDate,
) -> Result<bool, sqlx::Error> {
    sqlx::query_scalar!(
        r#"select exists(
               select 1 from withdrawals
               where user_id = $1 and state <> 'cancelled' and local_day = $2
           ) as "exists!""#,
        user_id.get(),
        day
    )
    .fetch_one(conn)
    .await
}

pub async fn insert(conn: &mut PgConnection, w: NewWithdrawal) -> Result<Withdrawal, sqlx::Error> {
    sqlx::query_as!(
        Withdrawal,
        r#"insert into withdrawals (user_id, deposit_id, bank_account_id, amount, fee, local_day)
           values ($1, $2, $3, $4, $5, $6)
           returning id as "id: WithdrawalId", user_id as "user_id: UserId",
                  deposit_id as "deposit_id: WalletId",
                  bank_account_id as "bank_account_id: BankAccountId", amount, fee,
                  state as "state: WithdrawalState",
                  created_at, updated_at, processed_at, cancelled_at"#,
        w.user_id.get(),
        w.deposit_id.get(),
        w.bank_account_id.get(),
        w.amount.get(),
        w.fee,
        w.local_day,
    )
    .fetch_one(conn)
    .await
}

pub async fn find(
    conn: &mut PgConnection,
    id: WithdrawalId,
) -> Result<Option<Withdrawal>, sqlx::Error> {
    sqlx::query_as!(
        Withdrawal,
        r#"select id as "id: WithdrawalId", user_id as "user_id: UserId",
                  deposit_id as "deposit_id: WalletId",
                  bank_account_id as "bank_account_id: BankAccountId", amount, fee,
                  state as "state: WithdrawalState",
                  created_at, updated_at, processed_at, cancelled_at
           from withdrawals where id = $1"#,
        id.get()
    )
    .fetch_optional(conn)
    .await
}

/// Moves a pending withdrawal to `processed` or `cancelled`, stamping the
/// matching timestamp. Returns `None` when it was not pending.
pub async fn finish(
    conn: &mut PgConnection,
    id: WithdrawalId,
    state: WithdrawalState,
) -> Result<Option<Withdrawal>, sqlx::Error> {
    sqlx::query_as!(
        Withdrawal,
        r#"update withdrawals
           set state = $2, updated_at = now(),
               processed_at = case when $2 = 'processed' then now() end,
               cancelled_at = case when $2 = 'cancelled' then now() end
           where id = $1 and state = 'pending'
           returning id as "id: WithdrawalId", user_id as "user_id: UserId",
                  deposit_id as "deposit_id: WalletId",
                  bank_account_id as "bank_account_id: BankAccountId", amount, fee,
                  state as "state: WithdrawalState",
                  created_at, updated_at, processed_at, cancelled_at"#,
        id.get(),
        state.as_str()
    )
    .fetch_optional(conn)
    .await
}

/// One page of a user's withdrawals, newest first, of those with ids up to
/// `newest_id`: one walk of `withdrawals_user_id_id` starting there (the
/// user as a range for the reason `mutations::page_for_user` gives), and
/// with `token_sha256` only if it is one of the user's tokens (as there).
pub async fn page_for_user(
    conn: &mut PgConnection,
    user_id: UserId,
    token_sha256: Option<&[u8]>,
    newest_id: i64,
    limit: i64,
    offset: i64,
) -> Result<Vec<Withdrawal>, sqlx::Error> {
    sqlx::query_as!(
        Withdrawal,
        r#"select id as "id: WithdrawalId", user_id as "user_id: UserId",
                  deposit_id as "deposit_id: WalletId",
                  bank_account_id as "bank_account_id: BankAccountId", amount, fee,
                  state as "state: WithdrawalState",
                  created_at, updated_at, processed_at, cancelled_at
           from withdrawals where user_id between $1 and $1 and id <= $2
             and ($5::bytea is null
                  or exists (select from tokens where token_sha256 = $5 and user_id = $1))
           order by user_id, id desc limit $3 offset $4"#,
        user_id.get(),
        newest_id,
        limit,
        offset,
        token_sha256
    )
    .fetch_all(conn)
    .await
}

/// The finance team's queue: oldest first, optionally one state only.
pub async fn page_by_state(
    conn: &mut PgConnection,
    state: Option<WithdrawalState>,
    limit: i64,
    offset: i64,
) -> Result<Vec<Withdrawal>, sqlx::Error> {
    sqlx::query_as!(
        Withdrawal,
        r#"select id as "id: WithdrawalId", user_id as "user_id: UserId",
                  deposit_id as "deposit_id: WalletId",
                  bank_account_id as "bank_account_id: BankAccountId", amount, fee,
                  state as "state: WithdrawalState",
                  created_at, updated_at, processed_at, cancelled_at
           from withdrawals where $1::text is null or state = $1
           order by id limit $2 offset $3"#,
        state.map(WithdrawalState::as_str),
        limit,
        offset
    )
    .fetch_all(conn)
    .await
}
