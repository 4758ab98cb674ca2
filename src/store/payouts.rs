//! Withdrawals joined with the bank accounts they are paid to: the rows of
//! a bulk-transfer file.

use sqlx::PgConnection;

use crate::domain::{Payout, WithdrawalId, WithdrawalState};

/// Every withdrawal in `state`, oldest first, with its bank account.
pub async fn by_state(
    conn: &mut PgConnection,
    state: WithdrawalState,
) -> Result<Vec<Payout>, sqlx::Error> {
    sqlx::query_as!(
        Payout,
        r#"select w.id as "withdrawal_id: WithdrawalId", b.bank_name, b.account_number,
                  b.account_name, w.amount
           from withdrawals w join bank_accounts b on b.id = w.bank_account_id
           where w.state = $1
           order by w.id"#,
        state.as_str()
    )
    .fetch_all(conn)
    .await
}
