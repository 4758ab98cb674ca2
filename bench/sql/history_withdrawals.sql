-- GET /v2/dompet/history/withdrawals.json: the page, returned only when the token is the user's
-- (src/store/withdrawals.rs page_for_user with the token's digest; the digest computed in SQL from
-- the bench's token scheme). One statement: every bench user has withdrawals.
-- newest: the newest id the page may show, before_id - 1 with a cursor, 9223372036854775807 without.
-- pgbench -D lo= hi= newest= limit= offset=
\set uid random(:lo, :hi)
select id as "id: WithdrawalId", user_id as "user_id: UserId",
                  deposit_id as "deposit_id: WalletId",
                  bank_account_id as "bank_account_id: BankAccountId", amount, fee,
                  state as "state: WithdrawalState",
                  created_at, updated_at, processed_at, cancelled_at
           from withdrawals where user_id between :uid and :uid and id <= :newest
             and (sha256(convert_to('tok' || lpad(:uid::text, 17, '0'), 'UTF8'))::bytea is null
                  or exists (select from tokens where token_sha256 = sha256(convert_to('tok' || lpad(:uid::text, 17, '0'), 'UTF8')) and user_id = :uid))
           order by user_id, id desc limit :limit offset :offset;
