//! `bank_accounts`: where a user's withdrawals are paid.

use sqlx::PgConnection;

#[derive(Debug, Clone)]
pub struct BankAccountRow {
    pub id: i64,
    pub user_id: i64,
    pub bank_name: String,
    pub account_number: String,
    pub account_name: String,
}

pub struct NewBankAccount<'a> {
    pub id: Option<i64>,
    pub user_id: i64,
    pub bank_name: &'a str,
    pub account_number: &'a str,
    pub account_name: &'a str,
}

pub async fn insert(
    conn: &mut PgConnection,
    account: NewBankAccount<'_>,
) -> Result<BankAccountRow, sqlx::Error> {
    let row = sqlx::query_as!(
        BankAccountRow,
        r#"insert into bank_accounts (id, user_id, bank_name, account_number, account_name)
           values (coalesce($1, nextval(pg_get_serial_sequence('bank_accounts', 'id'))), $2, $3, $4, $5)
           returning id, user_id, bank_name, account_number, account_name"#,
        account.id,
        account.user_id,
        account.bank_name,
        account.account_number,
        account.account_name,
    )
    .fetch_one(&mut *conn)
    .await?;
    if account.id.is_some() {
        super::bump_identity_past(conn, "bank_accounts", row.id).await?;
    }
    Ok(row)
}

pub async fn belongs_to(
    conn: &mut PgConnection,
    id: i64,
    user_id: i64,
) -> Result<bool, sqlx::Error> {
    sqlx::query_scalar!(
        r#"select exists(select 1 from bank_accounts where id = $1 and user_id = $2) as "exists!""#,
        id,
        user_id
    )
    .fetch_one(conn)
    .await
}
