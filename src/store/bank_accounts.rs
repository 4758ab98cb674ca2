//! `bank_accounts`: where a user's withdrawals are paid.

use sqlx::PgConnection;

use crate::domain::{BankAccount, BankAccountId, UserId};

pub struct NewBankAccount<'a> {
    pub id: Option<BankAccountId>,
    pub user_id: UserId,
    pub bank_name: &'a str,
    pub account_number: &'a str,
    pub account_name: &'a str,
}

pub async fn insert(
    conn: &mut PgConnection,
    account: NewBankAccount<'_>,
) -> Result<BankAccount, sqlx::Error> {
    let row = sqlx::query_as!(
        BankAccount,
        r#"insert into bank_accounts (id, user_id, bank_name, account_number, account_name)
           values (coalesce($1, nextval(pg_get_serial_sequence('bank_accounts', 'id'))), $2, $3, $4, $5)
           returning id as "id: BankAccountId", user_id as "user_id: UserId",
                     bank_name, account_number, account_name"#,
        account.id.map(BankAccountId::get),
        account.user_id.get(),
        account.bank_name,
        account.account_number,
        account.account_name,
    )
    .fetch_one(&mut *conn)
    .await?;
    if account.id.is_some() {
        super::bump_identity_past(conn, "bank_accounts", row.id.get()).await?;
    }
    Ok(row)
}

pub async fn belongs_to(
    conn: &mut PgConnection,
    id: BankAccountId,
    user_id: UserId,
) -> Result<bool, sqlx::Error> {
    sqlx::query_scalar!(
        r#"select exists(select 1 from bank_accounts where id = $1 and user_id = $2) as "exists!""#,
        id.get(),
        user_id.get()
    )
    .fetch_one(conn)
    .await
}
