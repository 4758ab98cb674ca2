//! `mutations`: the append-only ledger of credits and debits.

use sqlx::PgConnection;

use crate::domain::{
    Action, Amount, Mutation, MutationId, MutationType, TopupId, UserId, WalletId, WithdrawalId,
};

pub struct NewMutation<'a> {
    pub user_id: UserId,
    pub deposit_id: WalletId,
    pub action: Action,
    pub amount: Amount,
    pub initial_balance: i64,
    pub final_balance: i64,
    pub transaction_id: Option<i64>,
    pub transaction_no: Option<&'a str>,
    pub note: Option<&'a str>,
    pub withdrawal_id: Option<WithdrawalId>,
    pub topup_id: Option<TopupId>,
    pub idempotency_key: Option<&'a str>,
}

/// A money move's three writes in one statement, one round trip: appends the
/// mutation, sets its wallet's balance to the mutation's final balance and
/// raises the user's write mark (`user_write_lsn`, read-your-writes on
/// replicas). The caller holds the wallet's lock. The mark's visibility on a
/// replica is what routing compares, and it commits with the mutation, so the
/// order of the parts within the statement does not matter.
pub async fn append_moving_balance(
    conn: &mut PgConnection,
    m: NewMutation<'_>,
) -> Result<Mutation, sqlx::Error> {
    sqlx::query_as!(
        Mutation,
        r#"with moved as (
               update deposits set balance = $7, updated_at = now() where id = $2
           ), marked as (
               insert into user_write_lsn (user_id, lsn) values ($1, pg_current_wal_insert_lsn())
               on conflict (user_id) do update
               set lsn = greatest(user_write_lsn.lsn, excluded.lsn)
           )
           insert into mutations (user_id, deposit_id, type, action, amount, initial_balance,
                                  final_balance, transaction_id, transaction_no, note,
                                  withdrawal_id, topup_id, idempotency_key)
           values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)
           returning id as "id!: MutationId", user_id as "user_id!: UserId",
                     type as "kind!: MutationType", action as "action!: Action", amount as "amount!",
                     initial_balance as "initial_balance!", final_balance as "final_balance!",
                     transaction_id as "transaction_id?", transaction_no as "transaction_no?",
                     note as "note?", created_at as "created_at!", updated_at as "updated_at!""#,
        m.user_id.get(),
        m.deposit_id.get(),
        m.action.mutation_type().as_str(),
        m.action.as_str(),
        m.amount.get(),
        m.initial_balance,
        m.final_balance,
        m.transaction_id,
        m.transaction_no,
        m.note,
        m.withdrawal_id.map(WithdrawalId::get),
        m.topup_id.map(TopupId::get),
        m.idempotency_key,
    )
    .fetch_one(conn)
    .await
}

pub async fn find_by_idempotency_key(
    conn: &mut PgConnection,
    key: &str,
) -> Result<Option<Mutation>, sqlx::Error> {
    sqlx::query_as!(
        Mutation,
        r#"select id as "id: MutationId", user_id as "user_id: UserId",
                  type as "kind: MutationType", action as "action: Action", amount,
                  initial_balance, final_balance, transaction_id, transaction_no, note,
                  created_at, updated_at
           from mutations where idempotency_key = $1"#,
        key
    )
    .fetch_optional(conn)
    .await
}

/// One page of a user's history, newest first, of the rows with ids up to
/// `newest_id`: one walk of `mutations_user_id_id` that starts at `newest_id`
/// (an index condition, not a filter) and steps over `offset` rows.
///
/// The user is a range (`between $1 and $1`), not `= $1`, and the order is
/// the index's `user_id, id desc`: with an equality the planner takes the
/// user as a constant, and for a user owning many rows it may walk the
/// primary key backwards filtering out every other user's newer rows
/// (seconds for a heavy user whose history stopped long ago). As a range,
/// only `mutations_user_id_id` gives the order, so the walk always starts at
/// `newest_id` in the user's own index, in custom and generic plans alike.
///
/// With `token_sha256`, the rows come only if it is one of the user's tokens
/// (the same probe of the unique digest index `tokens::find_digest` makes, a
/// one-time filter evaluated before the walk): a history request is then one
/// statement. No rows leaves "wrong token" and "empty page" for the caller
/// to tell apart.
pub async fn page_for_user(
    conn: &mut PgConnection,
    user_id: UserId,
    token_sha256: Option<&[u8]>,
    newest_id: i64,
    limit: i64,
    offset: i64,
) -> Result<Vec<Mutation>, sqlx::Error> {
    sqlx::query_as!(
        Mutation,
        r#"select id as "id: MutationId", user_id as "user_id: UserId",
                  type as "kind: MutationType", action as "action: Action", amount,
                  initial_balance, final_balance, transaction_id, transaction_no, note,
                  created_at, updated_at
           from mutations where user_id between $1 and $1 and id <= $2
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
