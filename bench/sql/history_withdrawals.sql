-- GET /v2/dompet/history/withdrawals.json: the token check, then the page
-- (src/store/tokens.rs find_digest; the digest computed in SQL from the bench's token scheme, src/store/withdrawals.rs page_for_user).
-- newest: the newest id the page may show, before_id - 1 with a cursor, 9223372036854775807 without.
-- pgbench -D lo= hi= newest= limit= offset=
\set uid random(:lo, :hi)
select token_sha256 from tokens where token_sha256 = sha256(convert_to('tok' || lpad(:uid::text, 17, '0'), 'UTF8')) and user_id = :uid;
select id as "id: WithdrawalId", user_id as "user_id: UserId",
                  deposit_id as "deposit_id: WalletId",
                  bank_account_id as "bank_account_id: BankAccountId", amount, fee,
                  state as "state: WithdrawalState",
                  created_at, updated_at, processed_at, cancelled_at
           from withdrawals where user_id between :uid and :uid and id <= :newest
           order by user_id, id desc limit :limit offset :offset;
