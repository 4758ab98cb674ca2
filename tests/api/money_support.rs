//! Helpers shared by the v2 history, top-up and finance tests: the later
//! endpoints as `TestApp` methods, wire times with milliseconds, and a
//! `dompet` child process for the command line.

use std::process::Command;

use reqwest::Method;
use serde_json::Value;
use sqlx::PgPool;

use crate::helpers::{Answer, TestApp, TestUser};

pub(crate) const V2_MUTATIONS: &str = "/v2/dompet/history/mutations.json";
pub(crate) const V2_HISTORY: &str = "/v2/dompet/history.json";

impl TestApp {
    pub(crate) async fn v2_mutations(&self, user: &TestUser, query: &str) -> Answer {
        self.get_as(user, &format!("{V2_MUTATIONS}{query}")).await
    }

    pub(crate) async fn v2_history(&self, user: &TestUser, query: &str) -> Answer {
        self.get_as(user, &format!("{V2_HISTORY}{query}")).await
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

/// How a `dompet` run ended.
#[derive(Debug)]
pub(crate) struct Run {
    pub code: Option<i32>,
    pub stdout: String,
    pub stderr: String,
}

/// Runs `dompet args…` against the test's database, in an empty directory
/// (no stray .env), with only PATH and `DATABASE_URL` in its environment.
pub(crate) async fn dompet_cli(app: &TestApp, args: &[&str]) -> Run {
    let url = app.db.url();
    let args: Vec<String> = args.iter().map(|a| (*a).to_owned()).collect();
    tokio::task::spawn_blocking(move || {
        let dir = tempfile::tempdir().expect("temp dir");
        let output = Command::new(env!("CARGO_BIN_EXE_dompet"))
            .args(&args)
            .current_dir(dir.path())
            .env_clear()
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .env("NO_COLOR", "1")
            .env("DATABASE_URL", url)
            .output()
            .expect("run dompet");
        Run {
            code: output.status.code(),
            stdout: String::from_utf8(output.stdout).expect("stdout is UTF-8"),
            stderr: String::from_utf8(output.stderr).expect("stderr is UTF-8"),
        }
    })
    .await
    .expect("dompet thread")
}
