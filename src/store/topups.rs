//! `topups`: requests to add money by bank transfer. A pending row past
//! `expires_at` reads as `expired` in every query here, whether or not the
//! lazy write of that state has happened yet.

use sqlx::PgConnection;

use crate::domain::{BankAccountId, Topup, TopupId, TopupState, UserId, WalletId};

pub struct NewTopup {
    pub user_id: UserId,
    pub bank_account_id: BankAccountId,
    pub amount: i64,
    pub unique_code: i32,
    pub ttl_hours: i32,
}

/// Writes `expired` on the pending rows past their time whose totals lie in
/// `low..=high`, freeing those totals for new requests. Rows another
/// transaction holds (being confirmed, cancelled or expired right now) are
/// skipped rather than waited for: two requests never deadlock over them.
pub async fn expire_stale(
    conn: &mut PgConnection,
    low: i64,
    high: i64,
) -> Result<u64, sqlx::Error> {
    let done = sqlx::query!(
        r#"update topups set state = 'expired', updated_at = now()
           where id in (select id from topups
                        where state = 'pending' and expires_at <= now()
                          and total between $1 and $2
                        for update skip locked)"#,
        low,
        high
    )
    .execute(conn)
    .await?;
    Ok(done.rows_affected())
}

/// A code from 1 to 999 that no pending top-up of this snapshot uses with
/// `amount`, picked at random so concurrent requests rarely pick alike.
/// `None` when every code is taken.
pub async fn free_code(conn: &mut PgConnection, amount: i64) -> Result<Option<i32>, sqlx::Error> {
    sqlx::query_scalar!(
        r#"select code as "code!" from (
               select generate_series(1, 999) as code
               except
               select (total - $1)::integer from topups
               where state = 'pending' and total between $1 + 1 and $1 + 999
           ) free
           order by random() limit 1"#,
        amount
    )
    .fetch_optional(conn)
    .await
}

/// Inserts a pending top-up with `unique_code`, unless a pending top-up
/// already has the same total (a concurrent request took the code first):
/// then `None`, and nothing was written. `topups_pending_total` decides.
pub async fn insert(conn: &mut PgConnection, new: NewTopup) -> Result<Option<Topup>, sqlx::Error> {
    sqlx::query_as!(
        Topup,
        r#"insert into topups (user_id, deposit_id, bank_account_id, amount, unique_code, total, expires_at)
           select $1, d.id, $2, $3::bigint, $4::integer, $3::bigint + $4::integer,
                  now() + make_interval(hours => $5::integer)
           from deposits d where d.user_id = $1
           on conflict (total) where state = 'pending' do nothing
           returning id as "id: TopupId", user_id as "user_id: UserId",
                     deposit_id as "deposit_id: WalletId",
                     bank_account_id as "bank_account_id: BankAccountId",
                     amount, unique_code, total,
                     (case when state = 'pending' and expires_at <= now() then 'expired'
                           else state end) as "state!: TopupState",
                     created_at, updated_at, confirmed_at, expires_at"#,
        new.user_id.get(),
        new.bank_account_id.get(),
        new.amount,
        new.unique_code,
        new.ttl_hours,
    )
    .fetch_optional(conn)
    .await
}

pub async fn find(conn: &mut PgConnection, id: TopupId) -> Result<Option<Topup>, sqlx::Error> {
    sqlx::query_as!(
        Topup,
        r#"select id as "id: TopupId", user_id as "user_id: UserId",
                  deposit_id as "deposit_id: WalletId",
                  bank_account_id as "bank_account_id: BankAccountId",
                  amount, unique_code, total,
                  (case when state = 'pending' and expires_at <= now() then 'expired'
                        else state end) as "state!: TopupState",
                  created_at, updated_at, confirmed_at, expires_at
           from topups where id = $1"#,
        id.get()
    )
    .fetch_optional(conn)
    .await
}

/// Confirms a pending, unexpired top-up. `None` when it was not one.
pub async fn confirm(conn: &mut PgConnection, id: TopupId) -> Result<Option<Topup>, sqlx::Error> {
    sqlx::query_as!(
        Topup,
        r#"update topups set state = 'confirmed', confirmed_at = now(), updated_at = now()
           where id = $1 and state = 'pending' and expires_at > now()
           returning id as "id: TopupId", user_id as "user_id: UserId",
                     deposit_id as "deposit_id: WalletId",
                     bank_account_id as "bank_account_id: BankAccountId",
                     amount, unique_code, total, state as "state: TopupState",
                     created_at, updated_at, confirmed_at, expires_at"#,
        id.get()
    )
    .fetch_optional(conn)
    .await
}

/// Cancels a pending, unexpired top-up. `None` when it was not one.
pub async fn cancel(conn: &mut PgConnection, id: TopupId) -> Result<Option<Topup>, sqlx::Error> {
    sqlx::query_as!(
        Topup,
        r#"update topups set state = 'cancelled', cancelled_at = now(), updated_at = now()
           where id = $1 and state = 'pending' and expires_at > now()
           returning id as "id: TopupId", user_id as "user_id: UserId",
                     deposit_id as "deposit_id: WalletId",
                     bank_account_id as "bank_account_id: BankAccountId",
                     amount, unique_code, total, state as "state: TopupState",
                     created_at, updated_at, confirmed_at, expires_at"#,
        id.get()
    )
    .fetch_optional(conn)
    .await
}

/// One page of a user's top-ups, newest first, walking `topups_user_id_id`.
pub async fn page_for_user(
    conn: &mut PgConnection,
    user_id: UserId,
    limit: i64,
    offset: i64,
) -> Result<Vec<Topup>, sqlx::Error> {
    sqlx::query_as!(
        Topup,
        r#"select id as "id: TopupId", user_id as "user_id: UserId",
                  deposit_id as "deposit_id: WalletId",
                  bank_account_id as "bank_account_id: BankAccountId",
                  amount, unique_code, total,
                  (case when state = 'pending' and expires_at <= now() then 'expired'
                        else state end) as "state!: TopupState",
                  created_at, updated_at, confirmed_at, expires_at
           from topups where user_id = $1
           order by id desc limit $2 offset $3"#,
        user_id.get(),
        limit,
        offset
    )
    .fetch_all(conn)
    .await
}

/// The finance team's list: oldest first, optionally one state only (as it
/// reads now, so `expired` includes pending rows past their time).
pub async fn page_by_state(
    conn: &mut PgConnection,
    state: Option<TopupState>,
    limit: i64,
    offset: i64,
) -> Result<Vec<Topup>, sqlx::Error> {
    sqlx::query_as!(
        Topup,
        r#"select id as "id: TopupId", user_id as "user_id: UserId",
                  deposit_id as "deposit_id: WalletId",
                  bank_account_id as "bank_account_id: BankAccountId",
                  amount, unique_code, total, now_state as "state!: TopupState",
                  created_at, updated_at, confirmed_at, expires_at
           from (select *, case when state = 'pending' and expires_at <= now() then 'expired'
                                else state end as now_state
                 from topups) t
           where $1::text is null or now_state = $1
           order by id limit $2 offset $3"#,
        state.map(TopupState::as_str),
        limit,
        offset
    )
    .fetch_all(conn)
    .await
}

/// The pending, unexpired top-ups whose total is one of `totals`.
pub async fn pending_with_totals(
    conn: &mut PgConnection,
    totals: &[i64],
) -> Result<Vec<(i64, TopupId)>, sqlx::Error> {
    let rows = sqlx::query!(
        r#"select total, id as "id: TopupId" from topups
           where state = 'pending' and expires_at > now() and total = any($1)
           order by total, id"#,
        totals
    )
    .fetch_all(conn)
    .await?;
    Ok(rows.into_iter().map(|r| (r.total, r.id)).collect())
}
