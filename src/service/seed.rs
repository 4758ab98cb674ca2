//! The seed document's demo data, for the embedded default.

use super::{tokens, Dompet, Lane, ServiceError};
use crate::{
    domain::{BankAccountId, UserId},
    store::{bank_accounts, seed, users, wallets},
};

pub const DEMO_USER_ID: UserId = UserId::new(204254);
pub const DEMO_TOKEN: &str = "Sy7PRGGr4foUk22uzjMu";
pub const DEMO_PASSWORD: &str = "testing1234";
pub const DEMO_BANK_ACCOUNT_ID: BankAccountId = BankAccountId::new(41812);

impl Dompet {
    /// Writes the demo user of the seed once: user 204254 with its token and
    /// password, bank account 41812 and the 30000 remit of transaction 51938.
    /// Returns false when it was already there.
    pub async fn seed_demo(&self) -> Result<bool, ServiceError> {
        let mut conn = self.pool.acquire().await?;
        if users::exists(&mut conn, DEMO_USER_ID).await? {
            return Ok(false);
        }
        drop(conn);
        let password_hash = self
            .passwords
            .hash(Lane::Anonymous, DEMO_PASSWORD.to_owned())
            .await?;
        let mut tx = crate::store::begin(&self.pool).await?;
        let new_user = users::NewUser {
            id: Some(DEMO_USER_ID),
            username: "demo",
            email: "demo@dompet.invalid",
            password_hash: &password_hash,
            name: None,
        };
        users::insert(&mut tx, new_user).await?;
        tokens::issue_in_tx(&mut tx, DEMO_USER_ID, DEMO_TOKEN).await?;
        let deposit_id = wallets::insert(&mut tx, DEMO_USER_ID).await?;
        let account = bank_accounts::NewBankAccount {
            id: Some(DEMO_BANK_ACCOUNT_ID),
            user_id: DEMO_USER_ID,
            bank_name: "BCA",
            account_number: "0123456789",
            account_name: "Demo",
        };
        bank_accounts::insert(&mut tx, account).await?;
        seed::insert_remit(&mut tx, DEMO_USER_ID, deposit_id).await?;
        wallets::set_balance(&mut tx, deposit_id, 30000).await?;
        seed::start_withdrawal_ids_at_seed(&mut tx).await?;
        tx.commit().await?;
        tracing::info!(
            user_id = %DEMO_USER_ID,
            "seeded the demo user of the seed document"
        );
        Ok(true)
    }
}
