-- GET /v1/dompet/history/mutations.json: the token check, then the page
-- (src/store/users.rs token_digest, src/store/mutations.rs page_for_user).
-- pgbench -D lo= hi= limit= offset=
\set uid random(:lo, :hi)
select token_sha256 from users where id = :uid;
select id, user_id, type as kind, action, amount, initial_balance, final_balance,
                  transaction_id, created_at, updated_at
           from mutations where user_id = :uid
           order by id desc limit :limit offset :offset;
