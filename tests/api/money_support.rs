//! Helpers shared by the v2 history, top-up and finance tests: the later
//! endpoints as `TestApp` methods, wire times with milliseconds, and the
//! finance tests' statement scene with what reconciliation could have
//! written.

use reqwest::Method;
use serde_json::Value;
use sqlx::PgPool;

use crate::helpers::{Answer, TestApp, TestUser};

pub(crate) const V2_MUTATIONS: &str = "/v2/dompet/history/mutations.json";
pub(crate) const V2_HISTORY: &str = "/v2/dompet/history.json";
pub(crate) const TOPUP: &str = "/v2/dompet/topup.json";
pub(crate) const TOPUP_ACCEPTED: &str = "Topup berhasil di-request";
pub(crate) const TOPUP_RULE_AMOUNT: &str =
    "Minimal Top Up adalah Rp. 10.000,- dan Maksimal Rp. 100.000.000,-";
pub(crate) const TOPUP_RULE_ACCOUNT: &str = "Id rekening bank tidak terdaftar";

/// `{"status":"OK","unique_code":…,"message":"Topup berhasil di-request"}`.
pub(crate) fn topup_accepted(code: i64) -> String {
    format!(r#"{{"status":"OK","unique_code":{code},"message":"{TOPUP_ACCEPTED}"}}"#)
}

/// A top-up rejection naming these rule messages, joined as the API joins.
pub(crate) fn topup_rejected(messages: &[&str]) -> String {
    format!(
        r#"{{"status":"ERROR","unique_code":null,"message":"{}"}}"#,
        messages.join(", ")
    )
}

impl TestApp {
    pub(crate) async fn v2_mutations(&self, user: &TestUser, query: &str) -> Answer {
        self.get_as(user, &format!("{V2_MUTATIONS}{query}")).await
    }

    pub(crate) async fn v2_history(&self, user: &TestUser, query: &str) -> Answer {
        self.get_as(user, &format!("{V2_HISTORY}{query}")).await
    }

    /// A form POST to the top-up endpoint.
    pub(crate) async fn topup_form(&self, user: &TestUser, form: &str) -> Answer {
        self.send(
            self.request(Method::POST, TOPUP)
                .basic_auth(user.id, Some(&user.token))
                .header("content-type", "application/x-www-form-urlencoded")
                .body(form.to_owned()),
        )
        .await
    }

    /// A well-formed top-up request; returns the answer.
    pub(crate) async fn request_topup(&self, user: &TestUser, amount: i64, account: i64) -> Answer {
        self.topup_form(user, &format!("amount={amount}&bank_account_id={account}"))
            .await
    }

    /// A pending top-up of `amount`: its id and unique code.
    pub(crate) async fn pending_topup(
        &self,
        user: &TestUser,
        amount: i64,
        account: i64,
    ) -> (i64, i64) {
        let answer = self.request_topup(user, amount, account).await;
        let code = answer.json()["unique_code"]
            .as_i64()
            .unwrap_or_else(|| panic!("top-up refused: {answer:?}"));
        let id = sqlx::query_scalar(
            "select id from topups where user_id = $1 and unique_code = $2 and amount = $3
             order by id desc limit 1",
        )
        .bind(user.id)
        .bind(code as i32)
        .bind(amount)
        .fetch_one(&self.pool)
        .await
        .expect("the top-up row");
        (id, code)
    }

    /// Moves a top-up's clock back so it expired an hour ago.
    pub(crate) async fn expire_topup(&self, id: i64) {
        sqlx::query(
            "update topups set created_at = now() - interval '49 hours',
                               expires_at = now() - interval '1 hour' where id = $1",
        )
        .bind(id)
        .execute(&self.pool)
        .await
        .expect("expire the top-up");
    }

    pub(crate) async fn admin_confirm_topup(&self, id: impl std::fmt::Display) -> Answer {
        self.admin(Method::POST, &format!("/topups/{id}/confirm"), None)
            .await
    }

    pub(crate) async fn admin_cancel_topup(&self, id: impl std::fmt::Display) -> Answer {
        self.admin(Method::POST, &format!("/topups/{id}/cancel"), None)
            .await
    }

    /// `POST /internal/v1/topups/reconcile` with a CSV statement.
    pub(crate) async fn admin_reconcile(&self, statement: &str, query: &str) -> Answer {
        self.send(
            self.request(
                Method::POST,
                &format!("/internal/v1/topups/reconcile{query}"),
            )
            .bearer_auth(crate::helpers::ADMIN_TOKEN)
            .header("content-type", "text/csv")
            .body(statement.to_owned()),
        )
        .await
    }

    /// `POST /internal/v1/mutations` with this JSON body.
    pub(crate) async fn post_mutation(&self, body: Value) -> Answer {
        self.admin(Method::POST, "/mutations", Some(body)).await
    }
}

/// SQL rendering a timestamptz as the v2 wire does in Asia/Jakarta:
/// milliseconds, truncated.
pub(crate) fn wire_ms(column: &str) -> String {
    format!(
        r#"to_char({column} at time zone 'Asia/Jakarta', 'YYYY-MM-DD"T"HH24:MI:SS.MS"+07:00"')"#
    )
}

/// A JSON string literal, or `null`.
pub(crate) fn json_str(value: Option<&str>) -> String {
    value.map_or("null".to_owned(), |v| {
        serde_json::to_string(v).expect("a string serializes")
    })
}

/// A mutation as the test expects it; the timestamps come from the database.
pub(crate) struct ExpectedMutation<'a> {
    pub id: i64,
    pub kind: &'a str,
    pub action: &'a str,
    pub amount: i64,
    pub initial: i64,
    pub last: i64,
    pub transaction_id: Option<i64>,
    pub transaction_no: Option<&'a str>,
    pub note: Option<&'a str>,
}

impl ExpectedMutation<'_> {
    /// MUTATION_V2 in the contract's key order.
    pub(crate) async fn json(&self, pool: &PgPool) -> String {
        let (created, updated): (String, String) = sqlx::query_as(&format!(
            "select {}, {} from mutations where id = $1",
            wire_ms("created_at"),
            wire_ms("updated_at")
        ))
        .bind(self.id)
        .fetch_one(pool)
        .await
        .unwrap_or_else(|e| panic!("mutation {}: {e}", self.id));
        format!(
            r#"{{"id":{},"type":"{}","action":"{}","amount":{},"initial_balance":{},"final_balance":{},"transaction_id":{},"transaction_no":{},"note":{},"created_at":"{created}","updated_at":"{updated}"}}"#,
            self.id,
            self.kind,
            self.action,
            self.amount,
            self.initial,
            self.last,
            self.transaction_id
                .map_or("null".to_owned(), |t| t.to_string()),
            json_str(self.transaction_no),
            json_str(self.note),
        )
    }
}

/// WITHDRAWAL with millisecond timestamps, as the database holds it.
pub(crate) async fn withdrawal_v2_json(pool: &PgPool, id: i64) -> String {
    let row: (
        i64,
        i64,
        Option<String>,
        String,
        i64,
        String,
        Option<String>,
        String,
    ) = sqlx::query_as(&format!(
        "select amount, bank_account_id, {}, {}, deposit_id, state, {}, {}
             from withdrawals where id = $1",
        wire_ms("cancelled_at"),
        wire_ms("created_at"),
        wire_ms("processed_at"),
        wire_ms("updated_at"),
    ))
    .bind(id)
    .fetch_one(pool)
    .await
    .unwrap_or_else(|e| panic!("withdrawal {id}: {e}"));
    let (amount, account, cancelled, created, deposit, state, processed, updated) = row;
    let quoted = |t: Option<String>| t.map_or("null".to_owned(), |t| format!("\"{t}\""));
    format!(
        r#"{{"amount":{amount},"bank_account_id":{account},"cancelled_at":{},"created_at":"{created}","deposit_id":{deposit},"id":{id},"processed_at":{},"state":"{state}","updated_at":"{updated}"}}"#,
        quoted(cancelled),
        quoted(processed),
    )
}

/// The user's mutation ids, oldest first.
pub(crate) async fn mutation_ids(app: &TestApp, user: &TestUser) -> Vec<i64> {
    sqlx::query_scalar("select id from mutations where user_id = $1 order by id")
        .bind(user.id)
        .fetch_all(&app.pool)
        .await
        .unwrap()
}

/// TOPUP as the database holds it, in the contract's key order, with
/// millisecond timestamps; `state` is given by the test (it may be derived).
pub(crate) async fn topup_json(pool: &PgPool, id: i64, state: &str) -> String {
    let row: (i64, i32, i64, i64, String, String, Option<String>, String) = sqlx::query_as(&format!(
        "select amount, unique_code, total, bank_account_id, {}, {}, {}, {} from topups where id = $1",
        wire_ms("created_at"),
        wire_ms("updated_at"),
        wire_ms("confirmed_at"),
        wire_ms("expires_at"),
    ))
    .bind(id)
    .fetch_one(pool)
    .await
    .unwrap_or_else(|e| panic!("top-up {id}: {e}"));
    let (amount, code, total, account, created, updated, confirmed, expires) = row;
    format!(
        r#"{{"id":{id},"amount":{amount},"unique_code":{code},"total":{total},"bank_account_id":{account},"state":"{state}","created_at":"{created}","updated_at":"{updated}","confirmed_at":{},"expires_at":"{expires}"}}"#,
        json_str(confirmed.as_deref()),
    )
}

/// TOPUP plus `user_id`, as the operator surface shows it.
pub(crate) async fn operator_topup_json(pool: &PgPool, id: i64, state: &str) -> String {
    let user_id: i64 = sqlx::query_scalar("select user_id from topups where id = $1")
        .bind(id)
        .fetch_one(pool)
        .await
        .unwrap();
    let topup = topup_json(pool, id, state).await;
    format!(r#"{},"user_id":{user_id}}}"#, &topup[..topup.len() - 1])
}

// ---------------------------------------------------------------- finance

/// What reconciliation could have written.
pub(crate) async fn money_state(app: &TestApp) -> ((i64, i64, i64, i64), i64, String) {
    let lines: i64 = sqlx::query_scalar("select count(*) from statement_lines")
        .fetch_one(&app.pool)
        .await
        .unwrap();
    let states: String =
        sqlx::query_scalar("select coalesce(string_agg(state, ',' order by id), '') from topups")
            .fetch_one(&app.pool)
            .await
            .unwrap();
    (app.ledger_fingerprint().await, lines, states)
}

/// A top-up's state as stored (not as of now: no lazy expiry).
pub(crate) async fn topup_state(app: &TestApp, id: i64) -> String {
    sqlx::query_scalar("select state from topups where id = $1")
        .bind(id)
        .fetch_one(&app.pool)
        .await
        .unwrap()
}

/// Four users' pending top-ups; returns `(users, [(id, total)…])`.
pub(crate) async fn statement_scene(app: &TestApp) -> (Vec<TestUser>, Vec<(i64, i64)>) {
    let mut users = Vec::new();
    let mut topups = Vec::new();
    for amount in [100_000, 200_000, 300_000, 400_000] {
        let (user, account) = app.funded_user(0).await;
        let (id, code) = app.pending_topup(&user, amount, account).await;
        users.push(user);
        topups.push((id, amount + code));
    }
    (users, topups)
}
