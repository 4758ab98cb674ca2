//! Users, bank accounts and money arranged through the service, for a test
//! app and a replication node alike: one place for the test user's known
//! password and the seed-like bank account.

use dompet::{
    domain::{Action, Amount, UserId},
    service::{Dompet, NewBankAccount, NewUser, Posting},
};

use super::{random, TestUser, USER_PASSWORD};

/// A user with a known token and password.
pub async fn create_user(dompet: &Dompet) -> TestUser {
    let suffix = random(10);
    let created = dompet
        .create_user(NewUser {
            username: format!("user_{suffix}"),
            email: format!("{suffix}@example.com"),
            password: USER_PASSWORD.to_owned(),
            id: None,
            token: None,
            name: None,
        })
        .await
        .expect("create user");
    TestUser {
        id: created.id.get(),
        token: created.token,
        password: USER_PASSWORD.to_owned(),
        deposit_id: created.deposit_id.get(),
    }
}

/// A BCA account of the user's; its id.
pub async fn add_bank_account(dompet: &Dompet, user: &TestUser) -> i64 {
    dompet
        .add_bank_account(
            UserId::new(user.id),
            NewBankAccount {
                bank_name: "BCA".into(),
                account_number: "1234567890".into(),
                account_name: "Test".into(),
                id: None,
            },
        )
        .await
        .expect("add bank account")
        .id
        .get()
}

/// Credits `amount` with a `topup` under a fresh key.
pub async fn credit(dompet: &Dompet, user: &TestUser, amount: i64) {
    dompet
        .post_mutation(Posting {
            user_id: UserId::new(user.id),
            action: Action::Topup,
            amount: Amount::new(amount).expect("positive amount"),
            transaction_id: None,
            transaction_no: None,
            note: None,
            idempotency_key: format!("test-credit-{}", random(16)),
        })
        .await
        .expect("credit");
}

/// A user with a bank account and `balance` in the wallet.
pub async fn funded_user(dompet: &Dompet, balance: i64) -> (TestUser, i64) {
    let user = create_user(dompet).await;
    let account = add_bank_account(dompet, &user).await;
    if balance > 0 {
        credit(dompet, &user, balance).await;
    }
    (user, account)
}

/// Runs the operator's audit and fails the test on any violation.
pub async fn assert_ledger_ok(dompet: &Dompet) {
    let report = dompet.verify_ledger().await.expect("verify");
    assert!(report.ok(), "ledger violations: {:#?}", report.violations);
}
