//! The v2 mutation history (SPEC §5.2): the balance beside the history,
//! `transaction_no` and `note` as the back office posts them, the seed-shaped
//! answers that leave them out, and older rows read back after the migration.

use reqwest::Method;
use serde_json::json;

use crate::{
    helpers::{dompet, spawn_app},
    money_support::{mutation_ids, ExpectedMutation, V2_MUTATIONS},
};

const BAD_TRANSACTION_NO: &str = r#"{"error":{"code":"invalid_request","message":"transaction_no must be 1 to 32 visible ASCII characters"}}"#;
const BAD_NOTE: &str = r#"{"error":{"code":"invalid_request","message":"note must be 1 to 500 characters without control characters"}}"#;
const KEY_REUSED: &str = r#"{"error":{"code":"idempotency_key_reused","message":"the idempotency key was already used for a different request"}}"#;

fn page_of(status_balance: i64, key: &str, items: &[String]) -> String {
    format!(
        r#"{{"status":"OK","balance":{status_balance},"{key}":[{}],"message":null}}"#,
        items.join(",")
    )
}

#[tokio::test]
async fn the_seed_remit_reads_back_in_the_v2_shape_with_the_balance_beside_it() {
    // Arrange
    let app = spawn_app().await;
    let (user, _) = app.seed_demo_user().await;

    // Act
    let answer = app.v2_mutations(&user, "?page=1&per_page=1").await;

    // Assert
    answer.assert(
        200,
        r#"{"status":"OK","balance":30000,"history":[{"id":346,"type":"Deposit::Credit","action":"remit","amount":30000,"initial_balance":0,"final_balance":30000,"transaction_id":51938,"transaction_no":null,"note":null,"created_at":"2013-11-25T15:32:47.000+07:00","updated_at":"2013-11-25T15:32:47.000+07:00"}],"message":null}"#,
    );
    assert_eq!(answer.headers["content-type"], "application/json");
}

#[tokio::test]
async fn v2_history_shows_transaction_numbers_notes_and_dompets_own_notes_newest_first() {
    // Arrange: a numbered remit with a note, a bare payment, a withdrawal and
    // its cancellation.
    let app = spawn_app().await;
    let user = app.create_user().await;
    let account = app.add_bank_account(&user).await;
    let remit = app
        .post_mutation(json!({
            "user_id": user.id, "action": "remit", "amount": 50000, "transaction_id": 51939,
            "transaction_no": "INV/16/01/51939", "note": "Penjualan \"sepatu lari\"\nukuran 42",
            "idempotency_key": "remit-51939"
        }))
        .await;
    assert_eq!(remit.status, 201, "{remit:?}");
    app.post_mutation(json!({
        "user_id": user.id, "action": "payment", "amount": 2000, "transaction_id": 777,
        "idempotency_key": "payment-777"
    }))
    .await;
    let withdrawal = app
        .withdraw(&user, 10000, account, &user.password)
        .await
        .withdrawal_id();
    app.admin(
        Method::POST,
        &format!("/withdrawals/{withdrawal}/cancel"),
        None,
    )
    .await;
    let ids = mutation_ids(&app, &user).await;
    let expected = [
        (
            "Deposit::Credit",
            "remit",
            50000,
            0,
            50000,
            Some(51939),
            Some("INV/16/01/51939"),
            Some("Penjualan \"sepatu lari\"\nukuran 42".to_owned()),
        ),
        (
            "Deposit::Debit",
            "payment",
            2000,
            50000,
            48000,
            Some(777),
            None,
            None,
        ),
        (
            "Deposit::Debit",
            "withdrawal",
            10000,
            48000,
            38000,
            None,
            None,
            Some(format!("Pencairan dana #C{withdrawal}")),
        ),
        (
            "Deposit::Credit",
            "restore",
            10000,
            38000,
            48000,
            None,
            None,
            Some(format!("Pengembalian dana pencairan #C{withdrawal}")),
        ),
    ];
    let mut items = Vec::new();
    for (id, (kind, action, amount, initial, last, transaction_id, transaction_no, note)) in
        ids.iter().zip(expected).rev()
    {
        let item = ExpectedMutation {
            id: *id,
            kind,
            action,
            amount,
            initial,
            last,
            transaction_id,
            transaction_no,
            note: note.as_deref(),
        };
        items.push(item.json(&app.pool).await);
    }

    // Act
    let answer = app.v2_mutations(&user, "").await;

    // Assert
    answer.assert(200, &page_of(48000, "history", &items));
}

#[tokio::test]
async fn the_back_office_refuses_a_bad_transaction_no_or_note_with_400_and_writes_nothing() {
    // Arrange
    let app = spawn_app().await;
    let user = app.create_user().await;
    app.credit(&user, 100).await;
    let before = app.ledger_fingerprint().await;
    let cases = [
        (
            json!({"transaction_no": "x".repeat(33)}),
            BAD_TRANSACTION_NO,
        ),
        (json!({"transaction_no": ""}), BAD_TRANSACTION_NO),
        (json!({"transaction_no": "INV 1"}), BAD_TRANSACTION_NO),
        (json!({"transaction_no": "INV\u{e9}1"}), BAD_TRANSACTION_NO),
        (json!({"transaction_no": "INV\u{0}1"}), BAD_TRANSACTION_NO),
        (json!({"transaction_no": "INV\t1"}), BAD_TRANSACTION_NO),
        (json!({"note": "é".repeat(501)}), BAD_NOTE),
        (json!({"note": "a\u{0}b"}), BAD_NOTE),
        (json!({"note": "a\u{1b}[31mb"}), BAD_NOTE),
        (json!({"note": ""}), BAD_NOTE),
    ];

    for (extra, expected) in cases {
        let mut body = json!({
            "user_id": user.id, "action": "remit", "amount": 10, "idempotency_key": "bad-text"
        });
        for (k, v) in extra.as_object().unwrap() {
            body[k] = v.clone();
        }

        // Act
        let answer = app.post_mutation(body.clone()).await;

        // Assert
        answer.assert(400, expected);
        assert_eq!(app.ledger_fingerprint().await, before, "{body}");
    }
    let longest = app
        .post_mutation(json!({
            "user_id": user.id, "action": "remit", "amount": 10, "idempotency_key": "longest",
            "transaction_no": "~".repeat(32), "note": "é".repeat(500)
        }))
        .await;
    assert_eq!(longest.status, 201, "{longest:?}");
}

#[tokio::test]
async fn a_replay_must_repeat_the_transaction_no_and_note_or_it_is_a_reused_key() {
    // Arrange
    let app = spawn_app().await;
    let user = app.create_user().await;
    let first = json!({
        "user_id": user.id, "action": "refund", "amount": 700, "transaction_id": 9,
        "transaction_no": "RF-9", "note": "Pengembalian ongkir", "idempotency_key": "refund-9"
    });
    let created = app.post_mutation(first.clone()).await;
    assert_eq!(created.status, 201, "{created:?}");
    let before = app.ledger_fingerprint().await;
    let with = |key: &str, value: serde_json::Value| {
        let mut body = first.clone();
        match value {
            serde_json::Value::Null => {
                body.as_object_mut().unwrap().remove(key);
            }
            value => body[key] = value,
        }
        body
    };

    // Act
    let replay = app.post_mutation(first.clone()).await;
    let other_note = app
        .post_mutation(with("note", json!("Pengembalian dana")))
        .await;
    let no_note = app.post_mutation(with("note", json!(null))).await;
    let other_no = app
        .post_mutation(with("transaction_no", json!("RF-10")))
        .await;
    let no_no = app.post_mutation(with("transaction_no", json!(null))).await;

    // Assert
    replay.assert(200, &created.body);
    for answer in [other_note, no_note, other_no, no_no] {
        answer.assert(409, KEY_REUSED);
    }
    assert_eq!(app.ledger_fingerprint().await, before);
}

#[tokio::test]
async fn the_seed_shaped_answers_leave_out_transaction_no_and_note() {
    // Arrange: a posting with both fields.
    let app = spawn_app().await;
    let user = app.create_user().await;

    // Act
    let posted = app
        .post_mutation(json!({
            "user_id": user.id, "action": "remit", "amount": 1200, "transaction_id": 5,
            "transaction_no": "INV-5", "note": "Catatan", "idempotency_key": "seed-shape"
        }))
        .await;
    let v1 = app.mutations(&user, "").await;

    // Assert: the operator's MUTATION and the v1 history keep the seed's keys.
    let (id, created, updated): (i64, String, String) = sqlx::query_as(
        r#"select id, to_char(created_at at time zone 'Asia/Jakarta', 'YYYY-MM-DD"T"HH24:MI:SS"+07:00"'),
                  to_char(updated_at at time zone 'Asia/Jakarta', 'YYYY-MM-DD"T"HH24:MI:SS"+07:00"')
           from mutations where user_id = $1"#,
    )
    .bind(user.id)
    .fetch_one(&app.pool)
    .await
    .unwrap();
    let mutation = format!(
        r#"{{"id":{id},"type":"Deposit::Credit","action":"remit","amount":1200,"initial_balance":0,"final_balance":1200,"transaction_id":5,"created_at":"{created}","updated_at":"{updated}"}}"#
    );
    posted.assert(201, &mutation);
    v1.assert(
        200,
        &format!(r#"{{"status":"OK","history":[{mutation}],"message":null}}"#),
    );
}

#[tokio::test]
async fn the_command_line_posts_a_transaction_no_and_a_note() {
    // Arrange
    let app = spawn_app().await;
    let user = app.create_user().await;
    let id = user.id.to_string();
    let post = |extra: &'static [&'static str], key: &'static str| {
        let mut args = vec![
            "mutation",
            "post",
            "--user-id",
            &id,
            "--action",
            "topup",
            "--amount",
            "25000",
            "--idempotency-key",
            key,
        ];
        args.extend_from_slice(extra);
        let app = &app;
        async move { dompet(app, &args).await }
    };

    // Act
    let bad_no = post(&["--transaction-no", "INV 7"], "cli-bad").await;
    let bad_note = post(&["--note", ""], "cli-bad").await;
    let good = post(
        &[
            "--transaction-no",
            "INV/7",
            "--note",
            "Isi saldo lewat kasir",
        ],
        "cli-7",
    )
    .await;

    // Assert
    for bad in [&bad_no, &bad_note] {
        assert_eq!(bad.code, Some(2), "{bad:?}");
        assert_eq!(bad.stdout, "");
    }
    assert!(
        bad_no
            .stderr
            .contains("transaction_no must be 1 to 32 visible ASCII characters"),
        "{bad_no:?}"
    );
    assert_eq!(good.code, Some(0), "{good:?}");
    let history = app.v2_mutations(&user, "").await.json();
    assert_eq!(history["balance"], 25000);
    assert_eq!(history["history"].as_array().unwrap().len(), 1);
    assert_eq!(history["history"][0]["transaction_no"], "INV/7");
    assert_eq!(history["history"][0]["note"], "Isi saldo lewat kasir");
}

/// Applies only the migrations older than `version` to `pool`, through a
/// migrator over copies of those files (so the full one recognises them).
async fn migrate_before(pool: &sqlx::PgPool, version: i64) {
    let dir = tempfile::tempdir().expect("temp dir");
    for migration in dompet::MIGRATOR.iter().filter(|m| m.version < version) {
        let name = format!(
            "{:04}_{}.sql",
            migration.version,
            migration.description.replace(' ', "_")
        );
        std::fs::write(dir.path().join(name), migration.sql.as_bytes()).expect("copy migration");
    }
    sqlx::migrate::Migrator::new(dir.path())
        .await
        .expect("read the old migrations")
        .run(pool)
        .await
        .expect("apply the old migrations");
}

#[tokio::test]
async fn mutations_written_before_the_notes_migration_read_back_with_null_transaction_no_and_note()
{
    // Arrange: a ledger at the first schema, with a user and two mutations
    // written the way that schema knew.
    let db = crate::helpers::TestDb::create().await;
    let pool = db.pool(5).await;
    migrate_before(&pool, 2).await;
    let token = "oldtokenoldtokenoldtoken";
    let digest = {
        use sha2::Digest as _;
        sha2::Sha256::digest(token.as_bytes()).to_vec()
    };
    let user_id: i64 = sqlx::query_scalar(
        "insert into users (username, email, password_hash, token_sha256)
         values ('lama', 'lama@example.com', 'not-a-hash', $1) returning id",
    )
    .bind(&digest)
    .fetch_one(&pool)
    .await
    .unwrap();
    sqlx::query(
        "with d as (insert into deposits (user_id, balance) values ($1, 1500) returning id)
         insert into mutations (user_id, deposit_id, type, action, amount, initial_balance,
                                final_balance, transaction_id, idempotency_key, created_at, updated_at)
         select $1, d.id, t, a, amt, i, f, tx, k, at, at from d, (values
             ('Deposit::Credit', 'remit', 2000, 0, 2000, 11, 'old-1', timestamptz '2016-01-08 11:34:18.5+07'),
             ('Deposit::Debit', 'payment', 500, 2000, 1500, 12, 'old-2', timestamptz '2016-01-09 08:00:00+07')
         ) v(t, a, amt, i, f, tx, k, at)",
    )
    .bind(user_id)
    .execute(&pool)
    .await
    .unwrap();

    // Act: the full migration, then the v2 history over HTTP.
    dompet::MIGRATOR
        .run(&pool)
        .await
        .expect("migrate to the current schema");
    let mut config = dompet::config::Config::from_lookup(|_| None).unwrap();
    config.addr = "127.0.0.1:0".parse().unwrap();
    let server = dompet::startup::Application::build(&config, pool.clone())
        .await
        .unwrap();
    let base = format!("http://{}", server.local_addr().unwrap());
    tokio::spawn(server.run_until(std::future::pending()));
    let answer = reqwest::Client::new()
        .get(format!("{base}{V2_MUTATIONS}"))
        .basic_auth(user_id, Some(token))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();

    // Assert
    let ids: Vec<i64> = sqlx::query_scalar("select id from mutations order by id")
        .fetch_all(&pool)
        .await
        .unwrap();
    assert_eq!(
        answer,
        format!(
            r#"{{"status":"OK","balance":1500,"history":[{{"id":{},"type":"Deposit::Debit","action":"payment","amount":500,"initial_balance":2000,"final_balance":1500,"transaction_id":12,"transaction_no":null,"note":null,"created_at":"2016-01-09T08:00:00.000+07:00","updated_at":"2016-01-09T08:00:00.000+07:00"}},{{"id":{},"type":"Deposit::Credit","action":"remit","amount":2000,"initial_balance":0,"final_balance":2000,"transaction_id":11,"transaction_no":null,"note":null,"created_at":"2016-01-08T11:34:18.500+07:00","updated_at":"2016-01-08T11:34:18.500+07:00"}}],"message":null}}"#,
            ids[1], ids[0]
        )
    );
    pool.close().await;
}

/// The statement of `store::history_v2::mutations_with_balance`.
const BALANCED_PAGE: &str = r#"select d.balance, m.id
   from deposits d
   left join lateral (
       select id, user_id, type, action, amount, initial_balance, final_balance,
              transaction_id, transaction_no, note, created_at, updated_at
       from mutations where user_id between $1 and $1 and id <= $2
       order by user_id, id desc limit $3 offset $4
   ) m on true
   where d.user_id = $1
   order by m.id desc"#;

#[tokio::test]
async fn the_balanced_page_walks_the_users_index_even_when_newer_rows_belong_to_others() {
    // Arrange: a short, old history, then a long one of another user on top
    // of it, so walking the primary key backwards would pass 20,000 rows.
    let app = spawn_app().await;
    let (short, long) = (app.create_user().await, app.create_user().await);
    for (user, rows) in [(&short, 10), (&long, 20_000)] {
        sqlx::query(
            "insert into mutations (user_id, deposit_id, type, action, amount, initial_balance, final_balance, idempotency_key)
             select $1, $2, 'Deposit::Credit', 'remit', 1, g - 1, g, 'skew-' || $1 || '-' || g
             from generate_series(1, $3::bigint) g",
        )
        .bind(user.id)
        .bind(user.deposit_id)
        .bind(rows)
        .execute(&app.pool)
        .await
        .unwrap();
    }
    sqlx::query("analyze").execute(&app.pool).await.unwrap();

    // Act
    let plan: Vec<String> = sqlx::query_scalar(&format!("explain {BALANCED_PAGE}"))
        .bind(short.id)
        .bind(i64::MAX)
        .bind(10_i64)
        .bind(0_i64)
        .fetch_all(&app.pool)
        .await
        .unwrap();

    // Assert
    let plan = plan.join("\n");
    assert!(
        plan.contains("using mutations_user_id_id") && !plan.contains("mutations_pkey"),
        "{plan}"
    );
}
