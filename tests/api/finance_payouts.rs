//! The finance team's payouts (SPEC §5.4): pending withdrawals exported as a
//! bulk-transfer CSV and settled as a batch; and, over top-ups and payouts
//! alike, the same from the command line and the bearer token every finance
//! route demands.

use reqwest::Method;
use serde_json::json;

use crate::{
    helpers::{dompet, invalid_request, spawn_app, spawn_app_with, withdrawal_row, TestApp},
    money_support::{money_state, statement_scene, topup_state},
};

// ---------------------------------------------------------------- payouts

/// A pending withdrawal to an account with this holder name; its id.
async fn pending_to(app: &TestApp, amount: i64, account_name: &str) -> i64 {
    let (user, _) = app.funded_user(amount).await;
    let account = app
        .admin(
            Method::POST,
            &format!("/users/{}/bank_accounts", user.id),
            Some(json!({"bank_name":"Bank Mandiri","account_number":"0012345678","account_name":account_name})),
        )
        .await
        .json()["id"]
        .as_i64()
        .unwrap();
    app.withdraw(&user, amount, account, &user.password)
        .await
        .withdrawal_id()
}

#[tokio::test]
async fn the_export_is_a_bulk_transfer_csv_of_pending_withdrawals_that_parses_back() {
    // Arrange: names that need quoting, and a processed withdrawal left out.
    let app = spawn_app().await;
    let names = [
        "Siti Aminah",
        "Budi, S.Kom",
        "Andi \"Ucok\" Lubis",
        "Dewi \"Ratna\", S.H.",
    ];
    let mut ids = Vec::new();
    for (i, name) in names.iter().enumerate() {
        ids.push(pending_to(&app, 10_000 * (i as i64 + 1), name).await);
    }
    let paid = pending_to(&app, 99_000, "Sudah Dibayar").await;
    app.admin_process_withdrawal(paid).await;

    // Act
    let answer = app
        .admin(Method::GET, "/withdrawals/export.csv?state=pending", None)
        .await;
    let default = app
        .admin(Method::GET, "/withdrawals/export.csv", None)
        .await;
    let processed = app
        .admin(Method::GET, "/withdrawals/export.csv?state=processed", None)
        .await;

    // Assert
    assert_eq!(answer.status, 200);
    assert_eq!(answer.headers["content-type"], "text/csv; charset=utf-8");
    assert_eq!(
        answer.headers["content-disposition"],
        r#"attachment; filename="payouts-pending.csv""#
    );
    assert_eq!(default.body, answer.body);
    let mut reader = csv::Reader::from_reader(answer.body.as_bytes());
    assert_eq!(
        reader.headers().unwrap(),
        vec![
            "reference",
            "bank_name",
            "account_number",
            "account_name",
            "amount"
        ]
    );
    let rows: Vec<Vec<String>> = reader
        .records()
        .map(|r| r.unwrap().iter().map(str::to_owned).collect())
        .collect();
    let expected: Vec<Vec<String>> = ids
        .iter()
        .zip(names)
        .enumerate()
        .map(|(i, (id, name))| {
            vec![
                format!("#C{id}"),
                "Bank Mandiri".into(),
                "0012345678".into(),
                name.into(),
                (10_000 * (i as i64 + 1)).to_string(),
            ]
        })
        .collect();
    assert_eq!(rows, expected);
    assert_eq!(
        processed.body,
        format!("reference,bank_name,account_number,account_name,amount\n#C{paid},Bank Mandiri,0012345678,Sudah Dibayar,99000\n")
    );
    app.admin(Method::GET, "/withdrawals/export.csv?state=paid", None)
        .await
        .assert(
            400,
            &invalid_request(r#"unknown withdrawal state \"paid\""#),
        );
}

#[tokio::test]
async fn a_batch_settles_each_withdrawal_on_its_own_and_says_why_the_others_failed() {
    // Arrange
    let app = spawn_app().await;
    let first = pending_to(&app, 10_000, "A").await;
    let second = pending_to(&app, 20_000, "B").await;
    let done = pending_to(&app, 30_000, "C").await;
    app.admin_process_withdrawal(done).await;
    let cancelled = pending_to(&app, 40_000, "D").await;
    app.admin_cancel_withdrawal(cancelled).await;

    // Act
    let answer = app
        .admin(
            Method::POST,
            "/withdrawals/process",
            Some(json!({"ids": [first, done, 999_999, second, cancelled, first]})),
        )
        .await;

    // Assert
    let pool = &app.pool;
    answer.assert(
        200,
        &format!(
            r#"{{"succeeded":[{},{}],"failed":[{{"id":{done},"error":{{"code":"withdrawal_not_pending","message":"the withdrawal is processed, not pending"}}}},{{"id":999999,"error":{{"code":"withdrawal_not_found","message":"withdrawal not found"}}}},{{"id":{cancelled},"error":{{"code":"withdrawal_not_pending","message":"the withdrawal is cancelled, not pending"}}}},{{"id":{first},"error":{{"code":"withdrawal_not_pending","message":"the withdrawal is processed, not pending"}}}}]}}"#,
            withdrawal_row(pool, first).await.json(),
            withdrawal_row(pool, second).await.json(),
        ),
    );
    app.assert_ledger_ok().await;
}

#[tokio::test]
async fn a_cancel_in_a_batch_restores_exactly_what_a_single_cancel_restores() {
    // Arrange: a fee, so the restore is amount + fee.
    let app = spawn_app_with(|config| config.withdrawal_fee = 2_500).await;
    let mut users = Vec::new();
    for _ in 0..3 {
        let (user, account) = app.funded_user(50_000).await;
        let id = app
            .withdraw(&user, 30_000, account, &user.password)
            .await
            .withdrawal_id();
        users.push((user, id));
    }

    // Act: one cancelled alone, two in a batch.
    app.admin_cancel_withdrawal(users[0].1).await;
    let batch = app
        .admin(
            Method::POST,
            "/withdrawals/cancel",
            Some(json!({"ids": [users[1].1, users[2].1]})),
        )
        .await;

    // Assert
    assert_eq!(batch.status, 200, "{batch:?}");
    assert_eq!(batch.json()["failed"], json!([]));
    for (user, id) in &users {
        assert_eq!(app.balance(user).await, 50_000, "user {}", user.id);
        let restore = &app.v2_mutations(user, "?per_page=1").await.json()["history"][0];
        assert_eq!(restore["action"], "restore");
        assert_eq!(restore["amount"], 32_500);
        assert_eq!(
            restore["note"],
            format!("Pengembalian dana pencairan #C{id}")
        );
    }
    app.assert_ledger_ok().await;
}

#[tokio::test]
async fn a_batch_must_name_one_to_a_thousand_whole_ids() {
    let app = spawn_app().await;
    let before = app.ledger_fingerprint().await;
    let too_many: Vec<i64> = (1..=1001).collect();

    for body in [json!({"ids": []}), json!({"ids": too_many})] {
        for path in ["/withdrawals/process", "/withdrawals/cancel"] {
            app.admin(Method::POST, path, Some(body.clone()))
                .await
                .assert(400, &invalid_request("ids must list 1 to 1000 withdrawals"));
        }
    }
    for body in [
        json!({"ids": ["4"]}),
        json!({"ids": [1.5]}),
        json!({}),
        json!({"ids":[1],"x":1}),
    ] {
        let answer = app
            .admin(Method::POST, "/withdrawals/process", Some(body.clone()))
            .await;
        assert_eq!(answer.status, 400, "{body}: {answer:?}");
        assert_eq!(answer.json()["error"]["code"], "invalid_request");
    }
    assert_eq!(app.ledger_fingerprint().await, before);
}

// ------------------------------------------------------------ command line

#[tokio::test]
async fn the_finance_team_does_the_same_from_the_command_line() {
    // Arrange
    let app = spawn_app().await;
    let (_, t) = statement_scene(&app).await;
    let withdrawal = pending_to(&app, 15_000, "Rina, S.E.").await;
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("statement.csv");
    std::fs::write(
        &file,
        format!("reference,date,amount\nC-1,2016-01-08,{}\n", t[0].1),
    )
    .unwrap();
    let file = file.to_str().unwrap();

    // Act + Assert: reconcile, dry run first.
    let dry = dompet(&app, &["topup", "reconcile", file, "--dry-run"]).await;
    assert_eq!(dry.code, Some(0), "{dry:?}");
    let report: serde_json::Value = serde_json::from_str(&dry.stdout).unwrap();
    assert_eq!(report["dry_run"], true);
    assert_eq!(report["matched"][0]["topup_id"], t[0].0);
    assert_eq!(topup_state(&app, t[0].0).await, "pending");
    let real = dompet(&app, &["topup", "reconcile", file]).await;
    let report: serde_json::Value = serde_json::from_str(&real.stdout).unwrap();
    assert_eq!(
        (
            report["dry_run"].clone(),
            report["matched"][0]["line"].clone()
        ),
        (json!(false), json!(2))
    );
    assert_eq!(topup_state(&app, t[0].0).await, "confirmed");

    // confirm, cancel, list
    let confirm = dompet(&app, &["topup", "confirm", &t[1].0.to_string()]).await;
    assert_eq!(confirm.code, Some(0), "{confirm:?}");
    let again = dompet(&app, &["topup", "confirm", &t[1].0.to_string()]).await;
    assert_eq!(again.code, Some(1));
    assert!(
        again
            .stderr
            .contains("the top-up is confirmed, not pending"),
        "{again:?}"
    );
    let cancel = dompet(&app, &["topup", "cancel", &t[2].0.to_string()]).await;
    assert_eq!(cancel.code, Some(0), "{cancel:?}");
    let list = dompet(&app, &["topup", "list", "--state", "pending"]).await;
    let list: serde_json::Value = serde_json::from_str(&list.stdout).unwrap();
    assert_eq!(list["topups"].as_array().unwrap().len(), 1);
    assert_eq!(list["topups"][0]["id"], t[3].0);
    let missing = dompet(&app, &["topup", "reconcile", "/nonexistent/statement.csv"]).await;
    assert_eq!(missing.code, Some(1), "{missing:?}");

    // export: the same bytes as over HTTP
    let export = dompet(&app, &["withdrawal", "export"]).await;
    assert_eq!(export.code, Some(0), "{export:?}");
    assert_eq!(
        export.stdout,
        format!(
            "reference,bank_name,account_number,account_name,amount\n#C{withdrawal},Bank Mandiri,0012345678,\"Rina, S.E.\",15000\n"
        )
    );
    let http = app
        .admin(Method::GET, "/withdrawals/export.csv", None)
        .await;
    assert_eq!(http.body, export.stdout);
    let verify = dompet(&app, &["ledger", "verify"]).await;
    assert_eq!(verify.code, Some(0), "{verify:?}");
}

#[tokio::test]
async fn every_finance_route_refuses_a_missing_or_wrong_bearer_token_and_changes_nothing() {
    // Arrange
    let app = spawn_app().await;
    let (_, t) = statement_scene(&app).await;
    let withdrawal = pending_to(&app, 10_000, "A").await;
    let statement = format!("reference,date,amount\nZ,2016-01-08,{}\n", t[0].1);
    let routes = [
        (Method::GET, "/topups".to_owned(), None),
        (Method::POST, format!("/topups/{}/confirm", t[0].0), None),
        (Method::POST, format!("/topups/{}/cancel", t[1].0), None),
        (
            Method::POST,
            "/topups/reconcile".to_owned(),
            Some(statement),
        ),
        (Method::GET, "/withdrawals/export.csv".to_owned(), None),
        (
            Method::POST,
            "/withdrawals/process".to_owned(),
            Some(format!(r#"{{"ids":[{withdrawal}]}}"#)),
        ),
        (
            Method::POST,
            "/withdrawals/cancel".to_owned(),
            Some(format!(r#"{{"ids":[{withdrawal}]}}"#)),
        ),
    ];
    let before = money_state(&app).await;

    for (method, path, body) in routes {
        for header in [None, Some("Bearer wrong-token"), Some("Basic x")] {
            // Act
            let mut request = app.request(method.clone(), &format!("/internal/v1{path}"));
            if let Some(header) = header {
                request = request.header("authorization", header);
            }
            if let Some(body) = &body {
                request = request
                    .header("content-type", "application/json")
                    .body(body.clone());
            }
            let answer = app.send(request).await;

            // Assert
            answer.assert(401, crate::helpers::OPERATOR_UNAUTHORIZED);
        }
    }
    assert_eq!(money_state(&app).await, before);
}
