//! The ledger as the database holds it: rows read back in wire format, plain
//! SQL for arranging, and the damage a bug or an intruder could do.

use sqlx::PgPool;

use super::{
    expected::{report, violation},
    TestApp, TestUser,
};

pub async fn scalar(pool: &PgPool, sql: &str) -> i64 {
    sqlx::query_scalar(sql)
        .fetch_one(pool)
        .await
        .unwrap_or_else(|e| panic!("{sql}: {e}"))
}

pub async fn exec(pool: &PgPool, sql: &str) {
    sqlx::query(sql)
        .execute(pool)
        .await
        .unwrap_or_else(|e| panic!("{sql}: {e}"));
}

/// Rewrites ledger rows by hand, as only a bug or an intruder would: the
/// append-only guard on `mutations` is lifted for `sql` and put back.
pub async fn tamper(pool: &PgPool, sql: &str) {
    exec(pool, "alter table mutations disable trigger user").await;
    exec(pool, sql).await;
    exec(pool, "alter table mutations enable trigger user").await;
}

/// SQL rendering a timestamptz column as the wire does in Asia/Jakarta.
fn wire_time_sql(column: &str) -> String {
    format!(r#"to_char({column} at time zone 'Asia/Jakarta', 'YYYY-MM-DD"T"HH24:MI:SS"+07:00"')"#)
}

/// `created_at` and `updated_at` of a mutation as the wire shows them.
pub async fn mutation_stamps(pool: &PgPool, id: i64) -> (String, String) {
    sqlx::query_as(&format!(
        "select {}, {} from mutations where id = $1",
        wire_time_sql("created_at"),
        wire_time_sql("updated_at")
    ))
    .bind(id)
    .fetch_one(pool)
    .await
    .unwrap_or_else(|e| panic!("mutation {id}: {e}"))
}

/// The MUTATION body the database holds for `id`, with the values the test
/// expects spelled out.
pub async fn mutation_json(
    pool: &PgPool,
    id: i64,
    (kind, action, amount, initial, last, transaction_id): (&str, &str, i64, i64, i64, Option<i64>),
) -> String {
    let (created, updated) = mutation_stamps(pool, id).await;
    let transaction_id = transaction_id.map_or("null".to_owned(), |t| t.to_string());
    format!(
        r#"{{"id":{id},"type":"{kind}","action":"{action}","amount":{amount},"initial_balance":{initial},"final_balance":{last},"transaction_id":{transaction_id},"created_at":"{created}","updated_at":"{updated}"}}"#
    )
}

/// A withdrawal as the database holds it.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct WithdrawalRow {
    pub id: i64,
    pub user_id: i64,
    pub deposit_id: i64,
    pub bank_account_id: i64,
    pub amount: i64,
    pub state: String,
    pub created_at: String,
    pub updated_at: String,
    pub processed_at: Option<String>,
    pub cancelled_at: Option<String>,
}

impl WithdrawalRow {
    /// WITHDRAWAL plus `user_id`, in the contract's key order.
    pub fn json(&self) -> String {
        let time =
            |t: &Option<String>| t.as_ref().map_or("null".to_owned(), |t| format!("\"{t}\""));
        format!(
            r#"{{"amount":{},"bank_account_id":{},"cancelled_at":{},"created_at":"{}","deposit_id":{},"id":{},"processed_at":{},"state":"{}","updated_at":"{}","user_id":{}}}"#,
            self.amount,
            self.bank_account_id,
            time(&self.cancelled_at),
            self.created_at,
            self.deposit_id,
            self.id,
            time(&self.processed_at),
            self.state,
            self.updated_at,
            self.user_id
        )
    }
}

pub async fn withdrawal_row(pool: &PgPool, id: i64) -> WithdrawalRow {
    sqlx::query_as(&format!(
        "select id, user_id, deposit_id, bank_account_id, amount, state,
                {} as created_at, {} as updated_at, {} as processed_at, {} as cancelled_at
         from withdrawals where id = $1",
        wire_time_sql("created_at"),
        wire_time_sql("updated_at"),
        wire_time_sql("processed_at"),
        wire_time_sql("cancelled_at")
    ))
    .bind(id)
    .fetch_one(pool)
    .await
    .unwrap_or_else(|e| panic!("withdrawal {id}: {e}"))
}

/// `{"withdrawals":[…]}` for these ids, in this order.
pub async fn withdrawal_list_json(pool: &PgPool, ids: &[i64]) -> String {
    let mut items = Vec::new();
    for id in ids {
        items.push(withdrawal_row(pool, *id).await.json());
    }
    format!(r#"{{"withdrawals":[{}]}}"#, items.join(","))
}

/// A small ledger to damage: alice has topup 1000, topup 2000, payment 500
/// (balance 2500); bob, a bystander who must not be reported, has 7000.
pub struct Scene {
    pub alice: TestUser,
    pub mutations: [i64; 3],
    pub bob: TestUser,
}

pub async fn scene(app: &TestApp) -> Scene {
    let alice = app.create_user().await;
    let mut mutations = [0; 3];
    for (n, (action, amount)) in [("topup", 1_000), ("topup", 2_000), ("payment", 500)]
        .into_iter()
        .enumerate()
    {
        let answer = app
            .admin_post_mutation(serde_json::json!({"user_id":alice.id,"action":action,"amount":amount,"idempotency_key":format!("scene-{n}")}))
            .await;
        mutations[n] = answer.json()["id"]
            .as_i64()
            .unwrap_or_else(|| panic!("{answer:?}"));
    }
    let bob = app.create_user().await;
    app.credit(&bob, 7_000).await;
    app.assert_ledger_ok().await;
    Scene {
        alice,
        mutations,
        bob,
    }
}

/// Plants a broken chain in alice's middle row (arithmetic kept, so no
/// CHECK objects) and returns the report `ledger verify` must give.
pub async fn plant_broken_chain(app: &TestApp, scene: &Scene) -> String {
    let [_, m2, m3] = scene.mutations;
    tamper(
        &app.pool,
        &format!(
            "update mutations set initial_balance = 1500, final_balance = 3500 where id = {m2}"
        ),
    )
    .await;
    report(
        2,
        &[
            violation(
                "chain_broken",
                scene.alice.id,
                Some(m2),
                None,
                "initial_balance 1500 does not equal the previous final_balance 1000",
            ),
            violation(
                "chain_broken",
                scene.alice.id,
                Some(m3),
                None,
                "initial_balance 3000 does not equal the previous final_balance 3500",
            ),
        ],
    )
}
