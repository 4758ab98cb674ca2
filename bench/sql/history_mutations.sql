-- GET /v1/dompet/history/mutations.json: the page, returned only when the token is the user's
-- (src/store/mutations.rs page_for_user with the token's digest; the digest computed in SQL from the
-- bench's token scheme). One statement: every bench user has rows, so dompet's second statement
-- (the token check that tells a wrong token from an empty page) never runs here.
-- newest: the newest id the page may show, before_id - 1 with a cursor, 9223372036854775807 without.
-- pgbench -D lo= hi= newest= limit= offset=
\set uid random(:lo, :hi)
select id as "id: MutationId", user_id as "user_id: UserId",
                  type as "kind: MutationType", action as "action: Action", amount,
                  initial_balance, final_balance, transaction_id, transaction_no, note,
                  created_at, updated_at
           from mutations where user_id between :uid and :uid and id <= :newest
             and (sha256(convert_to('tok' || lpad(:uid::text, 17, '0'), 'UTF8'))::bytea is null
                  or exists (select from tokens where token_sha256 = sha256(convert_to('tok' || lpad(:uid::text, 17, '0'), 'UTF8')) and user_id = :uid))
           order by user_id, id desc limit :limit offset :offset;
