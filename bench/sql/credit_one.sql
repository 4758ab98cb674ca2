-- DIAGNOSIS ONLY: the credit posting as ONE data-modifying statement in
-- autocommit (one round trip instead of six: BEGIN, lock, key lookup, insert,
-- update, COMMIT). The wallet row is still locked first (FOR NO KEY UPDATE in
-- the first CTE; READ COMMITTED re-reads the latest balance after a wait), the
-- insert takes the balance read under that lock, and the balance moves only if
-- the insert happened: a replayed key inserts nothing (ON CONFLICT) and the
-- service would then read the first result in a second statement.
-- pgbench -D lo= hi= amount= type=Deposit::Credit action=remit
\set uid random(:lo, :hi)
\set key random(1, 9000000000000000000)
\set txid random(1, 9000000000000000000)
with w as (
    select id, user_id, balance from deposits where user_id = :uid for no key update
), m as (
    insert into mutations (user_id, deposit_id, type, action, amount, initial_balance,
                           final_balance, transaction_id, withdrawal_id, idempotency_key)
    select w.user_id, w.id, :type, :action, :amount, w.balance, w.balance + :amount, :txid, NULL, :key
    from w
    on conflict (idempotency_key) do nothing
    returning id, user_id, deposit_id, type as kind, action, amount, initial_balance, final_balance,
              transaction_id, created_at, updated_at
), d as (
    update deposits set balance = m.final_balance, updated_at = now()
    from m where deposits.id = m.deposit_id
    returning deposits.id
)
select id, user_id, kind, action, amount, initial_balance, final_balance, transaction_id,
       created_at, updated_at
from m;
