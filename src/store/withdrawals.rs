//! `withdrawals`: requests to pay a wallet out to a bank account.

use chrono::NaiveDate;
use sqlx::{postgres::types::PgInterval, PgConnection};

use crate::domain::{
    Action, Amount, BankAccountId, UserId, WalletId, Withdrawal, WithdrawalId, WithdrawalState,
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

/// What the withdrawal rules need to know besides the request and the
/// wallet, read in one statement under the wallet's lock.
#[derive(Debug, Clone)]
pub struct Facts {
    /// A password lockout is running.
    pub locked: bool,
    /// Wrong passwords within the window given.
    pub failures: i64,
    /// Today in the service time zone, on the database's clock at the start
    /// of the transaction: the same instant every row of it is stamped with.
    pub today: NaiveDate,
    /// The bank account given is the user's own.
    pub owns_account: bool,
    /// The user already has a non-cancelled withdrawal today.
    pub withdrawn_today: bool,
    /// The stored first answer to the Idempotency-Key given, if any.
    pub key_fingerprint: Option<String>,
    pub key_outcome: Option<String>,
}

/// Everything a withdrawal request is judged on, in one round trip. It
/// reads five tables (`password_lockouts`, `password_failures`,
/// `bank_accounts`, `withdrawals`, `withdraw_idempotency`) and lives here
/// because it is the withdrawal request's own statement. The caller must
/// have locked the wallet in an EARLIER statement: in READ COMMITTED a
/// statement's snapshot is taken before it waits for a row lock, so only a
/// statement after the lock sees what a twin queued ahead of it committed
/// (its withdrawal, its lockout, its idempotency answer).
pub async fn facts_under_lock(
    conn: &mut PgConnection,
    user_id: UserId,
    timezone: &str,
    bank_account_id: Option<BankAccountId>,
    key: Option<&str>,
    failure_window: PgInterval,
) -> Result<Facts, sqlx::Error> {
    sqlx::query_as!(
        Facts,
        r#"select exists(select 1 from password_lockouts
                         where user_id = $1 and locked_until > now()) as "locked!",
                  (select count(*) from password_failures
                   where user_id = $1 and failed_at > now() - $5::interval) as "failures!",
                  d.today as "today!",
                  exists(select 1 from bank_accounts
                         where id = $3 and user_id = $1) as "owns_account!",
                  exists(select 1 from withdrawals
                         where user_id = $1 and state <> 'cancelled'
                           and local_day = d.today) as "withdrawn_today!",
                  k.fingerprint as "key_fingerprint?", k.outcome as "key_outcome?"
           from (select (now() at time zone $2)::date as today) d
           left join withdraw_idempotency k on k.user_id = $1 and k.key = $4"#,
        user_id.get(),
        timezone,
        bank_account_id.map(BankAccountId::get),
        key,
        failure_window,
    )
    .fetch_one(conn)
    .await
}

/// The debit of an accepted withdrawal, written beside it.
pub struct Debit<'a> {
    pub action: Action,
    pub total: Amount,
    pub initial_balance: i64,
    pub final_balance: i64,
    /// The mutation's note is this followed by the withdrawal's id (dompet's
    /// note, `Note::withdrawal`; the id is only known inside the statement).
    pub note_prefix: &'a str,
}

/// An accepted withdrawal's writes in one statement, one round trip: the
/// pending withdrawal, its debit mutation, the wallet's new balance, the
/// user's write mark (read-your-writes on replicas, as
/// `mutations::append_moving_balance` raises it for every other money move)
/// and the reset of the user's counted wrong passwords. Multi-table, kept
/// here because the withdrawal is what it writes and everything else hangs
/// on its id. The caller holds the wallet's lock and has checked the rules;
/// the schema still refuses a second withdrawal of the day
/// (`withdrawals_one_per_day`), a foreign bank account or an overdraft.
pub async fn insert_debited(
    conn: &mut PgConnection,
    w: NewWithdrawal,
    debit: Debit<'_>,
) -> Result<WithdrawalId, sqlx::Error> {
    sqlx::query_scalar!(
        r#"with withdrawal as (
               insert into withdrawals (user_id, deposit_id, bank_account_id, amount, fee, local_day)
               values ($1, $2, $3, $4, $5, $6)
               returning id
           ), debit as (
               insert into mutations (user_id, deposit_id, type, action, amount,
                                      initial_balance, final_balance, note, withdrawal_id)
               select $1, $2, $7::text, $8::text, $9::bigint, $10::bigint, $11::bigint,
                      $12::text || withdrawal.id, withdrawal.id
               from withdrawal
           ), moved as (
               update deposits set balance = $11, updated_at = now() where id = $2
           ), marked as (
               insert into user_write_lsn (user_id, lsn) values ($1, pg_current_wal_insert_lsn())
               on conflict (user_id) do update
               set lsn = greatest(user_write_lsn.lsn, excluded.lsn)
           ), reset as (
               delete from password_failures where user_id = $1
           )
           select id as "id!: WithdrawalId" from withdrawal"#,
        w.user_id.get(),
        w.deposit_id.get(),
        w.bank_account_id.get(),
        w.amount.get(),
        w.fee,
        w.local_day,
        debit.action.mutation_type().as_str(),
        debit.action.as_str(),
        debit.total.get(),
        debit.initial_balance,
        debit.final_balance,
        debit.note_prefix,
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
