-- POST /internal/v1/mutations (a remit credit): one transaction that locks the
-- wallet, looks the key up, then appends the mutation, moves the balance and
-- raises the user's write mark in one data-modifying statement
-- (src/service/wallet.rs post_mutation, src/store/mutations.rs
-- append_moving_balance). The balance read under the lock feeds the insert,
-- as in the service.
-- pgbench -D lo= hi= amount= type=Deposit::Credit action=remit
\set uid random(:lo, :hi)
\set key random(1, 9000000000000000000)
\set txid random(1, 9000000000000000000)
BEGIN;
-- (\gset needs plain column names: the capture check ignores "…" aliases)
select id, user_id, balance from deposits where user_id = :uid for no key update \gset w_
select id as "id: MutationId", user_id as "user_id: UserId",
                  type as "kind: MutationType", action as "action: Action", amount,
                  initial_balance, final_balance, transaction_id, transaction_no, note,
                  created_at, updated_at
           from mutations where idempotency_key = :key;
\set fb :w_balance + :amount
with moved as (
               update deposits set balance = :fb, updated_at = now() where id = :w_id
           ), marked as (
               insert into user_write_lsn (user_id, lsn) values (:uid, pg_current_wal_insert_lsn())
               on conflict (user_id) do update
               set lsn = greatest(user_write_lsn.lsn, excluded.lsn)
           )
           insert into mutations (user_id, deposit_id, type, action, amount, initial_balance,
                                  final_balance, transaction_id, transaction_no, note,
                                  withdrawal_id, topup_id, idempotency_key)
           values (:uid, :w_id, :type, :action, :amount, :w_balance, :fb, :txid, NULL, NULL, NULL, NULL, :key)
           returning id as "id!: MutationId", user_id as "user_id!: UserId",
                     type as "kind!: MutationType", action as "action!: Action", amount as "amount!",
                     initial_balance as "initial_balance!", final_balance as "final_balance!",
                     transaction_id as "transaction_id?", transaction_no as "transaction_no?",
                     note as "note?", created_at as "created_at!", updated_at as "updated_at!";
COMMIT;
