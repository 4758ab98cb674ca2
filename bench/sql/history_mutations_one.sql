-- DIAGNOSIS ONLY: the token check joined to the page, one statement (one
-- round trip) — the raw ceiling for "authentication and the page in one round
-- trip" (bench/experiments, X_ONE_STATEMENT). Superseded: dompet now sends the single
-- statement of history_mutations.sql (the page with the token check as a one-time filter).
-- pgbench -D lo= hi= limit= offset=
\set uid random(:lo, :hi)
select u.token_sha256, m.id, m.user_id, m.type, m.action, m.amount, m.initial_balance, m.final_balance,
       m.transaction_id, m.created_at, m.updated_at
from users u left join lateral (
  select id, user_id, type, action, amount, initial_balance, final_balance, transaction_id, created_at, updated_at
  from mutations where user_id = u.id
  order by id desc limit :limit offset :offset) m on true
where u.id = :uid;
