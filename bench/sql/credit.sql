-- POST /internal/v1/mutations (a remit credit): one transaction that locks the
-- wallet, looks the key up, appends the mutation and moves the balance
-- (src/service/wallet.rs post_mutation). The balance read under the lock
-- feeds the insert, as in the service.
-- pgbench -D lo= hi= amount= type=Deposit::Credit action=remit
\set uid random(:lo, :hi)
\set key random(1, 9000000000000000000)
\set txid random(1, 9000000000000000000)
BEGIN;
select id, user_id, balance from deposits where user_id = :uid for no key update \gset w_
select id, user_id, type as kind, action, amount, initial_balance, final_balance,
                  transaction_id, created_at, updated_at
           from mutations where idempotency_key = :key;
\set fb :w_balance + :amount
insert into mutations (user_id, deposit_id, type, action, amount, initial_balance,
                                  final_balance, transaction_id, withdrawal_id, idempotency_key)
           values (:uid, :w_id, :type, :action, :amount, :w_balance, :fb, :txid, NULL, :key)
           returning id, user_id, type as kind, action, amount, initial_balance, final_balance,
                     transaction_id, created_at, updated_at;
update deposits set balance = :fb, updated_at = now() where id = :w_id;
COMMIT;
