//! The seed document's demo rows, written with the seed's own ids and time so
//! its curl examples answer exactly as documented.

use sqlx::PgConnection;

use crate::domain::{UserId, WalletId};

/// The seed's mutation 346: a 30000 remit for transaction 51938 at
/// 2013-11-25T15:32:47+07:00, the wallet's first, so it starts at 0.
pub async fn insert_remit(
    conn: &mut PgConnection,
    user_id: UserId,
    deposit_id: WalletId,
) -> Result<(), sqlx::Error> {
    sqlx::query!(
        r#"insert into mutations (id, user_id, deposit_id, type, action, amount, initial_balance,
                                  final_balance, transaction_id, idempotency_key, created_at, updated_at)
           values (346, $1, $2, 'Deposit::Credit', 'remit', 30000, 0, 30000, 51938,
                   'seed:remit:51938', '2013-11-25T15:32:47+07:00', '2013-11-25T15:32:47+07:00')"#,
        user_id.get(),
        deposit_id.get()
    )
    .execute(&mut *conn)
    .await?;
    super::bump_identity_past(conn, "mutations", 346).await
}

/// Makes the first withdrawal id 4, the seed's `withdrawal_id`, on a ledger
/// that has none yet.
pub async fn start_withdrawal_ids_at_seed(conn: &mut PgConnection) -> Result<(), sqlx::Error> {
    sqlx::query_scalar!(
        r#"select setval(pg_get_serial_sequence('withdrawals', 'id'), 3)
           where not exists (select 1 from withdrawals)"#
    )
    .fetch_optional(conn)
    .await?;
    Ok(())
}
