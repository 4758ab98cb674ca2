-- GET /v2/dompet/history/withdrawals.json: the token check, then the page
-- (src/store/users.rs token_digest, src/store/withdrawals.rs page_for_user).
-- pgbench -D lo= hi= limit= offset=
\set uid random(:lo, :hi)
select token_sha256 from users where id = :uid;
select id, user_id, deposit_id, bank_account_id, amount, fee, state,
                  created_at, updated_at, processed_at, cancelled_at
           from withdrawals where user_id = :uid
           order by id desc limit :limit offset :offset;
