//! The later (v2) history: a page of mutations together with the wallet
//! balance, read by one statement and so from one snapshot.

use chrono::{DateTime, Utc};
use sqlx::PgConnection;

use crate::domain::{Action, Mutation, MutationId, MutationType, UserId};

/// One row of the joined read: the balance, and a mutation unless the page
/// is empty.
struct PageRow {
    balance: i64,
    id: Option<MutationId>,
    user_id: Option<UserId>,
    kind: Option<MutationType>,
    action: Option<Action>,
    amount: Option<i64>,
    initial_balance: Option<i64>,
    final_balance: Option<i64>,
    transaction_id: Option<i64>,
    transaction_no: Option<String>,
    note: Option<String>,
    created_at: Option<DateTime<Utc>>,
    updated_at: Option<DateTime<Utc>>,
}

impl PageRow {
    fn mutation(self) -> Option<Mutation> {
        Some(Mutation {
            id: self.id?,
            user_id: self.user_id?,
            kind: self.kind?,
            action: self.action?,
            amount: self.amount?,
            initial_balance: self.initial_balance?,
            final_balance: self.final_balance?,
            transaction_id: self.transaction_id,
            transaction_no: self.transaction_no,
            note: self.note,
            created_at: self.created_at?,
            updated_at: self.updated_at?,
        })
    }
}

/// The user's balance and one page of mutations with ids up to `newest_id`,
/// newest first, walking `mutations_user_id_id` from `newest_id` like the v1
/// page. A single statement sees a single snapshot, so the balance is always
/// the newest row's `final_balance`, whatever the page shows.
/// `None` when the user has no wallet. The page names the user as `$1`, not
/// as `d.user_id`: a join parameter would hide which user it is from the
/// planner, which then walks the primary key backwards past every other
/// user's newer rows; and as a range in the index's order, for the reason
/// `mutations::page_for_user` gives.
pub async fn mutations_with_balance(
    conn: &mut PgConnection,
    user_id: UserId,
    newest_id: i64,
    limit: i64,
    offset: i64,
) -> Result<Option<(i64, Vec<Mutation>)>, sqlx::Error> {
    let rows = sqlx::query_as!(
        PageRow,
        r#"select d.balance, m.id as "id?: MutationId", m.user_id as "user_id?: UserId",
                  m.type as "kind?: MutationType", m.action as "action?: Action",
                  m.amount as "amount?",
                  m.initial_balance as "initial_balance?", m.final_balance as "final_balance?",
                  m.transaction_id as "transaction_id?", m.transaction_no as "transaction_no?",
                  m.note as "note?", m.created_at as "created_at?", m.updated_at as "updated_at?"
           from deposits d
           left join lateral (
               select id, user_id, type, action, amount, initial_balance, final_balance,
                      transaction_id, transaction_no, note, created_at, updated_at
               from mutations where user_id between $1 and $1 and id <= $2
               order by user_id, id desc limit $3 offset $4
           ) m on true
           where d.user_id = $1
           order by m.id desc"#,
        user_id.get(),
        newest_id,
        limit,
        offset
    )
    .fetch_all(conn)
    .await?;
    let Some(balance) = rows.first().map(|row| row.balance) else {
        return Ok(None);
    };
    Ok(Some((
        balance,
        rows.into_iter().filter_map(PageRow::mutation).collect(),
    )))
}
