//! The ledger audit: every invariant of SPEC §2 and of the top-ups of §5.4
//! as one set-based query, so the database does the scanning (one ordered
//! pass over `mutations`).

use sqlx::PgConnection;

use crate::domain::{MutationId, UserId, Violation, WithdrawalId};

/// Makes the caller's transaction one read-only snapshot, so every query of
/// the audit sees the same ledger while postings go on.
pub async fn begin_snapshot(conn: &mut PgConnection) -> Result<(), sqlx::Error> {
    sqlx::query!("set transaction isolation level repeatable read, read only")
        .execute(conn)
        .await?;
    Ok(())
}

pub async fn users_count(conn: &mut PgConnection) -> Result<i64, sqlx::Error> {
    sqlx::query_scalar!(r#"select count(*) as "count!" from users"#)
        .fetch_one(conn)
        .await
}

pub async fn violations(
    conn: &mut PgConnection,
    limit: i64,
) -> Result<Vec<Violation>, sqlx::Error> {
    sqlx::query_as!(
        Violation,
        r#"with chain as (
               select m.id, m.user_id, m.type, m.amount, m.initial_balance, m.final_balance,
                      coalesce(lag(m.final_balance) over w, 0) as expected_initial,
                      lead(m.id) over w is null as newest
               from mutations m
               window w as (partition by m.user_id order by m.id)
           ),
           restores as (
               select id, user_id, withdrawal_id, amount from mutations where action = 'restore'
           ),
           found as (
               select 'chain_broken' as rule_name, user_id, id as mutation_id, null::bigint as withdrawal_id,
                      format('initial_balance %s does not equal the previous final_balance %s',
                             initial_balance, expected_initial) as detail
               from chain where initial_balance <> expected_initial
               union all
               select 'final_balance_arithmetic', user_id, id, null,
                      format('%s: initial_balance %s and amount %s cannot give final_balance %s',
                             type, initial_balance, amount, final_balance)
               from chain
               where final_balance <> case when type = 'Deposit::Credit' then initial_balance + amount
                                           else initial_balance - amount end
               union all
               select 'amount_not_positive', user_id, id, null, format('amount %s', amount)
               from chain where amount <= 0
               union all
               select 'negative_balance', user_id, id, null,
                      format('initial_balance %s, final_balance %s', initial_balance, final_balance)
               from chain where initial_balance < 0 or final_balance < 0
               union all
               select 'wallet_balance_mismatch', d.user_id, c.id, null,
                      format('wallet %s holds %s but the last final_balance is %s',
                             d.id, d.balance, coalesce(c.final_balance, 0))
               from deposits d left join chain c on c.user_id = d.user_id and c.newest
               where d.balance <> coalesce(c.final_balance, 0) or d.balance < 0
               union all
               select 'wallet_missing', u.id, null, null, 'the user has no wallet'
               from users u left join deposits d on d.user_id = u.id
               where d.id is null
               union all
               select 'withdrawal_debit_mismatch', w.user_id, m.id, w.id,
                      case when m.id is null then 'no withdrawal debit for this withdrawal'
                           else format('debit of %s for amount %s + fee %s', m.amount, w.amount, w.fee) end
               from withdrawals w
               left join mutations m on m.withdrawal_id = w.id and m.action = 'withdrawal'
               where m.id is null or m.amount <> w.amount + w.fee or m.user_id <> w.user_id
               union all
               select 'restore_mismatch', coalesce(w.user_id, r.user_id), r.id, coalesce(w.id, r.withdrawal_id),
                      case when r.id is null then 'cancelled withdrawal without a restore'
                           when w.state <> 'cancelled' then format('restore on a %s withdrawal', w.state)
                           when r.user_id <> w.user_id then format('restore credited to user %s', r.user_id)
                           else format('restore of %s for amount %s + fee %s', r.amount, w.amount, w.fee) end
               from withdrawals w full join restores r on r.withdrawal_id = w.id
               where (w.state = 'cancelled'
                      and (r.id is null or r.amount <> w.amount + w.fee or r.user_id <> w.user_id))
                  or (w.state <> 'cancelled' and r.id is not null)
               union all
               -- Every confirmed top-up has exactly one credit of its total
               -- to its owner (a second is refused by mutations_one_credit_per_topup);
               -- no other top-up has one.
               select 'topup_credit_mismatch', t.user_id, m.id, null,
                      case when m.id is null then format('confirmed top-up #T%s has no credit', t.id)
                           when t.state <> 'confirmed' then format('credit for top-up #T%s, which is %s', t.id, t.state)
                           when m.user_id <> t.user_id then format('credit for top-up #T%s went to user %s', t.id, m.user_id)
                           when m.action <> 'topup' then format('%s mutation for top-up #T%s', m.action, t.id)
                           else format('credit of %s for top-up #T%s of total %s', m.amount, t.id, t.total) end
               from topups t
               left join mutations m on m.topup_id = t.id
               where (t.state = 'confirmed'
                      and (m.id is null or m.amount <> t.total or m.user_id <> t.user_id or m.action <> 'topup'))
                  or (t.state <> 'confirmed' and m.id is not null)
               union all
               select 'statement_line_mismatch', t.user_id, null, null,
                      format('statement line %s of %s applied to top-up #T%s (%s, total %s)',
                             s.reference, s.amount, t.id, t.state, t.total)
               from statement_lines s join topups t on t.id = s.topup_id
               where t.state <> 'confirmed' or s.amount <> t.total
           )
           select rule_name as "check!", user_id as "user_id!: UserId",
                  mutation_id as "mutation_id: MutationId",
                  withdrawal_id as "withdrawal_id: WithdrawalId",
                  detail as "detail!"
           from found
           order by user_id, mutation_id nulls last, rule_name
           limit $1"#,
        limit
    )
    .fetch_all(conn)
    .await
}
