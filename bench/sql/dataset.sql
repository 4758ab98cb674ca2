-- The benchmark's data set, built set-based on a freshly migrated database.
--
-- psql variables (bench/run passes them):
--   users            total users, ids 1..users
--   whales           users 1..whales carry whale_mutations mutations each; the
--                    first half of them are dormant (their history ends 400
--                    days ago, so every other user's newer rows lie above
--                    theirs in id order), the others active to the end
--   whale_mutations  length of a whale's history
--   per_user         mean history length of the other users (spread per/2 .. 3*per/2)
--   password_hash    argon2id PHC string every user gets (made by `dompet user create`)
--
-- Every user i has:
--   API token  'tok' || lpad(i, 17, '0')   (20 characters; stored as SHA-256,
--              so the wrk scripts can compute any user's Basic credentials)
--   wallet     deposits.id = i,  bank account bank_accounts.id = i
--   history    alternating credits (remit 10000) and debits of d = 2000 + (i % 5) * 1000
--              (every k-th debit a processed withdrawal, the others payments), spread
--              over the two years before the last 30 days (a dormant whale's over its
--              first year), so the balance chain is closed-form: no window function,
--              and `ledger verify` stays clean.
-- Rows go in in time order, so a user's history is spread over the table as a
-- real ledger's is (page 1 touches about one heap page per row).

\set ON_ERROR_STOP on

begin;
-- A bulk load: the foreign-key triggers would cost one index probe per row
-- and per key; `dompet ledger verify` checks the result afterwards instead.
set local session_replication_role = replica;
set local work_mem = '256MB';

create temp table plan_users on commit drop as
select id::bigint as user_id,
       n,
       2000 + (id % 5) * 1000 as d,
       -- every k-th mutation is a withdrawal debit (k even, so it lands on a
       -- debit), at least 1.5 days apart, so their local days never collide
       2 * greatest(5, ceil(n * 1.5 / span_days / 2)::int) as k,
       now() - interval '760 days' + (id % 1440) * interval '1 minute' as t0,
       span_days * interval '1 day' / n as step
from (
    select id,
           case when id <= :whales then :whale_mutations
                else greatest(2, :per_user / 2 + (id * 7919) % (:per_user + 1)) end as n,
           case when id <= (:whales + 1) / 2 then 360 else 730 end as span_days
    from generate_series(1, :users) id
) s;

insert into users (id, username, email, password_hash, created_at)
select user_id, 'bench' || user_id, 'bench' || user_id || '@example.com', :'password_hash', t0
from plan_users;

-- One API token per user (migration 0002 moved tokens into their own table).
insert into tokens (user_id, token_sha256, created_at)
select user_id, sha256(convert_to('tok' || lpad(user_id::text, 17, '0'), 'UTF8')), t0
from plan_users;

insert into deposits (id, user_id, balance, updated_at)
select user_id, user_id,
       (n / 2) * (10000 - d) + (n % 2) * 10000,
       t0 + n * step
from plan_users;

insert into bank_accounts (id, user_id, bank_name, account_number, account_name, created_at)
select user_id, user_id, 'BCA', lpad(user_id::text, 10, '0'), 'Bench ' || user_id, t0
from plan_users;

-- Withdrawal j of user i debits at position s = j * k; its id is i * 1000000 + j.
insert into withdrawals (id, user_id, deposit_id, bank_account_id, amount, fee, state,
                         local_day, created_at, updated_at, processed_at)
select u.user_id * 1000000 + j, u.user_id, u.user_id, u.user_id, u.d, 0, 'processed',
       ((u.t0 + j * u.k * u.step) at time zone 'Asia/Jakarta')::date,
       u.t0 + j * u.k * u.step, u.t0 + j * u.k * u.step + interval '1 hour',
       u.t0 + j * u.k * u.step + interval '1 hour'
from plan_users u
cross join lateral generate_series(1, u.n / u.k) j;

-- Balance before position s: (s-1)/2 complete credit+debit pairs, plus the
-- credit just before when s is a debit.
insert into mutations (user_id, deposit_id, type, action, amount, initial_balance, final_balance,
                       transaction_id, withdrawal_id, idempotency_key, created_at, updated_at)
select user_id, user_id,
       case when credit then 'Deposit::Credit' else 'Deposit::Debit' end,
       case when credit then 'remit' when withdrawal then 'withdrawal' else 'payment' end,
       amount, initial, case when credit then initial + amount else initial - amount end,
       case when withdrawal then null else user_id * 1000000 + s end,
       case when withdrawal then user_id * 1000000 + s / k end,
       case when withdrawal then null else 'seed-' || user_id || '-' || s end,
       at, at
from (
    select u.user_id, s, u.k,
           s % 2 = 1 as credit,
           s % 2 = 0 and s % u.k = 0 as withdrawal,
           case when s % 2 = 1 then 10000 else u.d end as amount,
           ((s - 1) / 2) * (10000 - u.d) + case when s % 2 = 0 then 10000 else 0 end as initial,
           u.t0 + s * u.step as at
    from plan_users u
    cross join lateral generate_series(1, u.n) s
) m
order by at;

-- The service hands out ids after the imported ones.
select setval(pg_get_serial_sequence('users', 'id'), (select max(id) from users));
select setval(pg_get_serial_sequence('deposits', 'id'), (select max(id) from deposits));
select setval(pg_get_serial_sequence('bank_accounts', 'id'), (select max(id) from bank_accounts));
select setval(pg_get_serial_sequence('withdrawals', 'id'), (select max(id) from withdrawals));

create schema if not exists bench;
create table bench.dataset (params text not null, built_at timestamptz not null default now());
insert into bench.dataset (params) values (:'params');
commit;

vacuum (analyze) users, deposits, bank_accounts, withdrawals, mutations;
