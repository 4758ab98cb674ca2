-- GET /v1/dompet/history/mutations.json: the token check, then the page
-- (src/store/tokens.rs find_digest; the digest computed in SQL from the bench's token scheme, src/store/mutations.rs page_for_user).
-- newest: the newest id the page may show, before_id - 1 with a cursor, 9223372036854775807 without.
-- pgbench -D lo= hi= newest= limit= offset=
\set uid random(:lo, :hi)
select token_sha256 from tokens where token_sha256 = sha256(convert_to('tok' || lpad(:uid::text, 17, '0'), 'UTF8')) and user_id = :uid;
select id as "id: MutationId", user_id as "user_id: UserId",
                  type as "kind: MutationType", action as "action: Action", amount,
                  initial_balance, final_balance, transaction_id, transaction_no, note,
                  created_at, updated_at
           from mutations where user_id between :uid and :uid and id <= :newest
           order by user_id, id desc limit :limit offset :offset;
