//! The command line: `dompet user|bank-account|mutation|withdrawal|ledger|migrate`
//! run as a child process against the test's database (SPEC §3).

use crate::helpers::{
    dompet, dompet_with, json_of, mutation_stamps, plant_broken_chain, report, run_dompet, scene,
    spawn_app, withdrawal_list_json, withdrawal_row, without_layout, TestApp, TestDb, TestUser,
};

async fn rows(app: &TestApp) -> (i64, i64, i64, (i64, i64, i64, i64)) {
    let count = |table: &'static str| {
        let pool = app.pool.clone();
        async move {
            sqlx::query_scalar::<_, i64>(&format!("select count(*) from {table}"))
                .fetch_one(&pool)
                .await
                .unwrap()
        }
    };
    (
        count("users").await,
        count("deposits").await,
        count("bank_accounts").await,
        app.ledger_fingerprint().await,
    )
}

#[tokio::test]
async fn an_operator_creates_a_user_adds_an_account_posts_money_and_sees_the_balance() {
    // Arrange
    let app = spawn_app().await;
    let password = "kata-sandi-rahasia";

    // Act 1: user create
    let created = dompet(
        &app,
        &[
            "user",
            "create",
            "--username",
            "siti",
            "--email",
            "siti@example.com",
            "--password",
            password,
        ],
    )
    .await;

    // Assert 1
    let body = json_of(&created);
    let id = body["id"].as_i64().expect("id");
    let deposit_id = body["deposit_id"].as_i64().expect("deposit_id");
    let token = body["token"].as_str().expect("token").to_owned();
    created.assert_json(&format!(
        r#"{{"id":{id},"username":"siti","email":"siti@example.com","deposit_id":{deposit_id},"token":"{token}"}}"#
    ));
    assert!(
        token.len() >= 20 && token.bytes().all(|b| b.is_ascii_alphanumeric()),
        "{token:?}"
    );
    assert!(
        !created.stderr.contains(password) && !created.stderr.contains(&token),
        "a secret reached the log: {}",
        created.stderr
    );

    // Act 2: bank-account add
    let account = dompet(
        &app,
        &[
            "bank-account",
            "add",
            "--user-id",
            &id.to_string(),
            "--bank-name",
            "BCA",
            "--account-number",
            "0012345678",
            "--account-name",
            "Siti Aminah",
        ],
    )
    .await;

    // Assert 2
    let account_id = json_of(&account)["id"].as_i64().expect("account id");
    account.assert_json(&format!(
        r#"{{"id":{account_id},"user_id":{id},"bank_name":"BCA","account_number":"0012345678","account_name":"Siti Aminah"}}"#
    ));

    // Act 3: mutation post, then the same again
    let posting = [
        "mutation",
        "post",
        "--user-id",
        &id.to_string(),
        "--action",
        "remit",
        "--amount",
        "30000",
        "--transaction-id",
        "51938",
        "--idempotency-key",
        "remit-51938",
    ];
    let posted = dompet(&app, &posting).await;
    let replayed = dompet(&app, &posting).await;

    // Assert 3
    let mutation_id = json_of(&posted)["id"].as_i64().expect("mutation id");
    let (created_at, updated_at) = mutation_stamps(&app.pool, mutation_id).await;
    let mutation = format!(
        r#"{{"id":{mutation_id},"type":"Deposit::Credit","action":"remit","amount":30000,"initial_balance":0,"final_balance":30000,"transaction_id":51938,"created_at":"{created_at}","updated_at":"{updated_at}"}}"#
    );
    posted.assert_json(&mutation);
    replayed.assert_json(&mutation);
    assert_eq!(
        app.ledger_fingerprint().await.0,
        1,
        "the replay wrote a row"
    );

    // Act 4: user show
    let shown = dompet(&app, &["user", "show", &id.to_string()]).await;

    // Assert 4
    shown.assert_json(&format!(
        r#"{{"id":{id},"username":"siti","email":"siti@example.com","deposit_id":{deposit_id},"balance":30000}}"#
    ));
    // The printed token and password are the user's public credentials.
    let user = TestUser {
        id,
        token,
        password: password.to_owned(),
        deposit_id,
    };
    let withdrawn = app.withdraw(&user, 10_000, account_id, password).await;
    assert_eq!(withdrawn.json()["status"], "OK", "{withdrawn:?}");
    assert_eq!(app.balance(&user).await, 20_000);
}

#[tokio::test]
async fn an_operator_imports_a_user_with_its_id_and_its_token_and_password_from_the_environment() {
    // Arrange
    let app = spawn_app().await;

    // Act: the secrets come from DOMPET_USER_PASSWORD and DOMPET_USER_TOKEN,
    // not from the command line, which every local user can read.
    let run = dompet_with(
        Some(&app.db),
        &[
            "user",
            "create",
            "--username",
            "seed",
            "--email",
            "seed@example.com",
            "--id",
            "204254",
        ],
        &[
            ("DOMPET_USER_PASSWORD", "testing1234"),
            ("DOMPET_USER_TOKEN", "Sy7PRGGr4foUk22uzjMu"),
        ],
    )
    .await;

    // Assert
    let deposit_id = json_of(&run)["deposit_id"].as_i64().expect("deposit_id");
    run.assert_json(&format!(
        r#"{{"id":204254,"username":"seed","email":"seed@example.com","deposit_id":{deposit_id},"token":"Sy7PRGGr4foUk22uzjMu"}}"#
    ));
    let account = dompet(
        &app,
        &[
            "bank-account",
            "add",
            "--user-id",
            "204254",
            "--bank-name",
            "BCA",
            "--account-number",
            "1",
            "--account-name",
            "Seed",
            "--id",
            "41812",
        ],
    )
    .await;
    account.assert_json(
        r#"{"id":41812,"user_id":204254,"bank_name":"BCA","account_number":"1","account_name":"Seed"}"#,
    );
    let user = TestUser {
        id: 204254,
        token: "Sy7PRGGr4foUk22uzjMu".into(),
        password: "testing1234".into(),
        deposit_id,
    };
    app.credit(&user, 30_000).await;
    let withdrawn = app.withdraw(&user, 25_000, 41812, "testing1234").await;
    assert_eq!(withdrawn.json()["status"], "OK", "{withdrawn:?}");
}

#[tokio::test]
async fn an_operator_lists_processes_and_cancels_withdrawals_made_on_the_public_api() {
    // Arrange
    let app = spawn_app().await;
    let (_, first) = app.user_with_withdrawal(10_000, 1_000).await;
    let (bob, second) = app.user_with_withdrawal(20_000, 2_000).await;

    // Act / Assert: the queue, oldest first, and a page of it.
    dompet(&app, &["withdrawal", "list"])
        .await
        .assert_json(&withdrawal_list_json(&app.pool, &[first, second]).await);
    dompet(
        &app,
        &[
            "withdrawal",
            "list",
            "--state",
            "pending",
            "--per-page",
            "1",
            "--page",
            "2",
        ],
    )
    .await
    .assert_json(&withdrawal_list_json(&app.pool, &[second]).await);

    // Process the first.
    let processed = dompet(&app, &["withdrawal", "process", &first.to_string()]).await;
    let row = withdrawal_row(&app.pool, first).await;
    assert_eq!(row.state, "processed");
    assert!(row.processed_at.is_some());
    processed.assert_json(&row.json());

    // Cancel the second: its money is back.
    let cancelled = dompet(&app, &["withdrawal", "cancel", &second.to_string()]).await;
    let row = withdrawal_row(&app.pool, second).await;
    assert_eq!(row.state, "cancelled");
    assert!(row.cancelled_at.is_some());
    cancelled.assert_json(&row.json());
    assert_eq!(app.balance(&bob).await, 22_000);

    dompet(&app, &["withdrawal", "list", "--state", "pending"])
        .await
        .assert_json(r#"{"withdrawals":[]}"#);
    dompet(&app, &["withdrawal", "list", "--state", "cancelled"])
        .await
        .assert_json(&withdrawal_list_json(&app.pool, &[second]).await);

    // Finished withdrawals stay finished.
    let before = app.ledger_fingerprint().await;
    dompet(&app, &["withdrawal", "cancel", &first.to_string()])
        .await
        .assert_error(1, "error: the withdrawal is processed, not pending");
    dompet(&app, &["withdrawal", "process", &second.to_string()])
        .await
        .assert_error(1, "error: the withdrawal is cancelled, not pending");
    dompet(
        &app,
        &["withdrawal", "process", &(second + 1000).to_string()],
    )
    .await
    .assert_error(1, "error: withdrawal not found");
    assert_eq!(app.ledger_fingerprint().await, before);
    app.assert_ledger_ok().await;
}

#[tokio::test]
async fn ledger_verify_exits_0_on_a_clean_ledger_and_3_with_the_report_on_damage() {
    // Arrange
    let app = spawn_app().await;
    let scene = scene(&app).await;

    // Act / Assert: clean.
    dompet(&app, &["ledger", "verify"])
        .await
        .assert_json(&report(2, &[]));

    // Damage the chain by hand.
    let expected = plant_broken_chain(&app, &scene).await;

    let run = dompet(&app, &["ledger", "verify"]).await;

    assert_eq!(
        (run.code, without_layout(&run.stdout)),
        (Some(3), expected),
        "stderr: {}",
        run.stderr
    );
}

#[tokio::test]
async fn every_command_has_help_that_exits_0() {
    // (arguments, what the help must name)
    let cases: [(&[&str], &[&str]); 14] = [
        (
            &["--help"],
            &[
                "Usage: dompet",
                "serve",
                "migrate",
                "user",
                "bank-account",
                "mutation",
                "withdrawal",
                "ledger",
            ],
        ),
        (&["serve", "--help"], &["Usage: dompet serve", "--addr"]),
        (&["migrate", "--help"], &["Usage: dompet migrate"]),
        (
            &["user", "--help"],
            &["Usage: dompet user", "create", "show"],
        ),
        (
            &["user", "create", "--help"],
            &[
                "Usage: dompet user create",
                "--username",
                "--email",
                "--password",
                "--id",
                "--token",
                "[env: DOMPET_USER_PASSWORD]",
                "[env: DOMPET_USER_TOKEN]",
            ],
        ),
        (
            &["user", "show", "--help"],
            &["Usage: dompet user show", "<ID>"],
        ),
        (
            &["bank-account", "--help"],
            &["Usage: dompet bank-account", "add"],
        ),
        (
            &["bank-account", "add", "--help"],
            &[
                "Usage: dompet bank-account add",
                "--user-id",
                "--bank-name",
                "--account-number",
                "--account-name",
                "--id",
            ],
        ),
        (
            &["mutation", "post", "--help"],
            &[
                "Usage: dompet mutation post",
                "--user-id",
                "--action",
                "--amount",
                "--transaction-id",
                "--idempotency-key",
            ],
        ),
        (
            &["withdrawal", "--help"],
            &["Usage: dompet withdrawal", "list", "process", "cancel"],
        ),
        (
            &["withdrawal", "list", "--help"],
            &[
                "Usage: dompet withdrawal list",
                "--state",
                "--page",
                "--per-page",
            ],
        ),
        (
            &["withdrawal", "process", "--help"],
            &["Usage: dompet withdrawal process", "<ID>"],
        ),
        (
            &["withdrawal", "cancel", "--help"],
            &["Usage: dompet withdrawal cancel", "<ID>"],
        ),
        (
            &["ledger", "verify", "--help"],
            &["Usage: dompet ledger verify"],
        ),
    ];

    for (args, names) in cases {
        // No database at all: help needs none.
        let run = dompet_with(None, args, &[]).await;

        assert_eq!(run.code, Some(0), "dompet {args:?}: {run:#?}");
        for name in names {
            assert!(
                run.stdout.contains(name),
                "dompet {args:?} does not mention {name}:\n{}",
                run.stdout
            );
        }
    }
}

#[tokio::test]
async fn bad_input_is_an_error_line_and_exit_1_or_2_and_writes_nothing() {
    // Arrange
    let app = spawn_app().await;
    let user = app.create_user().await;
    let uid = user.id.to_string();
    let missing = (user.id + 1000).to_string();
    let before = rows(&app).await;
    let post = |amount: &'static str, action: &'static str, user_id: &str| -> Vec<String> {
        [
            "mutation",
            "post",
            "--user-id",
            user_id,
            "--action",
            action,
            "--amount",
            amount,
            "--idempotency-key",
            "k",
        ]
        .map(str::to_owned)
        .to_vec()
    };
    // (arguments, exit code, the exact error line for operator errors)
    let cases: Vec<(Vec<String>, i32, Option<&str>)> = vec![
        (post("12.5", "payment", &uid), 2, None),
        (post("0", "topup", &uid), 2, None),
        (post("1e3", "topup", &uid), 2, None),
        (post("abc", "topup", &uid), 2, None),
        (
            [
                "mutation",
                "post",
                "--user-id",
                &uid,
                "--action",
                "topup",
                "--amount=-5",
                "--idempotency-key",
                "k",
            ]
            .map(str::to_owned)
            .to_vec(),
            2,
            None,
        ),
        (post("100", "gift", &uid), 2, None),
        (
            [
                "mutation",
                "post",
                "--user-id",
                &uid,
                "--action",
                "topup",
                "--amount",
                "100",
            ]
            .map(str::to_owned)
            .to_vec(),
            2,
            None,
        ),
        (["user", "show", "abc"].map(str::to_owned).to_vec(), 2, None),
        (
            ["withdrawal", "list", "--state", "paid"]
                .map(str::to_owned)
                .to_vec(),
            2,
            None,
        ),
        (["user", "delete", "1"].map(str::to_owned).to_vec(), 2, None),
        (
            post("5000", "payment", &uid),
            1,
            Some("error: the balance 0 is less than the debit of 5000"),
        ),
        (
            post("100", "withdrawal", &uid),
            1,
            Some("error: withdrawal mutations come only from the withdrawal lifecycle"),
        ),
        (
            post("100", "restore", &uid),
            1,
            Some("error: restore mutations come only from the withdrawal lifecycle"),
        ),
        (
            post("100", "topup", &missing),
            1,
            Some("error: user not found"),
        ),
        (
            ["user", "show", &missing].map(str::to_owned).to_vec(),
            1,
            Some("error: user not found"),
        ),
        (
            [
                "bank-account",
                "add",
                "--user-id",
                &missing,
                "--bank-name",
                "BCA",
                "--account-number",
                "1",
                "--account-name",
                "X",
            ]
            .map(str::to_owned)
            .to_vec(),
            1,
            Some("error: user not found"),
        ),
        (
            [
                "user",
                "create",
                "--username",
                "x",
                "--email",
                "x@example.com",
                "--password",
                "short",
            ]
            .map(str::to_owned)
            .to_vec(),
            1,
            Some("error: password must be 8 to 1024 characters"),
        ),
        (
            [
                "user",
                "create",
                "--username",
                "x",
                "--email",
                "x@example.com",
                "--password",
                "long-enough",
                "--token",
                "too-short",
            ]
            .map(str::to_owned)
            .to_vec(),
            1,
            Some("error: token must be 20 to 128 characters of [A-Za-z0-9]"),
        ),
    ];

    for (args, code, line) in cases {
        // Act
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let run = dompet(&app, &args).await;

        // Assert
        match line {
            Some(line) => run.assert_error(code, line),
            None => {
                // clap's usage error: exit 2, its own `error:` line first.
                assert_eq!(run.code, Some(code), "dompet {args:?}: {run:#?}");
                assert_eq!(run.stdout, "", "dompet {args:?}");
                assert!(
                    run.stderr.lines().any(|l| l.starts_with("error: ")),
                    "dompet {args:?}: no error line in {}",
                    run.stderr
                );
            }
        }
    }
    assert_eq!(rows(&app).await, before);
}

#[tokio::test]
async fn migrate_prepares_an_empty_database_even_with_migrations_turned_off() {
    // Arrange: a database with no schema, and start-up migrations disabled.
    let db = TestDb::create().await;
    let no_migrate = [("DOMPET_MIGRATE", "false")];
    let before = dompet_with(Some(&db), &["user", "show", "1"], &no_migrate).await;
    assert_eq!(
        before.code,
        Some(1),
        "a command ran without a schema: {before:#?}"
    );

    // Act
    let first = dompet_with(Some(&db), &["migrate"], &no_migrate).await;
    let second = dompet_with(Some(&db), &["migrate"], &no_migrate).await;

    // Assert
    for run in [&first, &second] {
        assert_eq!(run.code, Some(0), "{run:#?}");
        assert!(run.stderr.contains("migrations applied"), "{run:#?}");
    }
    dompet_with(Some(&db), &["user", "show", "1"], &no_migrate)
        .await
        .assert_error(1, "error: user not found");
    dompet_with(Some(&db), &["ledger", "verify"], &no_migrate)
        .await
        .assert_json(&report(0, &[]));
}

#[tokio::test]
async fn a_database_that_refuses_the_login_is_an_error_line_without_the_password() {
    // Arrange: the test server with a wrong password.
    let app = spawn_app().await;
    let url = app.db.url();
    let (scheme, rest) = url.split_once("://").expect("a URL");
    let host = rest.split_once('@').map_or(rest, |(_, host)| host);
    let wrong = format!("{scheme}://dompet:Wr0ng-Pa55w0rd@{host}");

    // Act
    let run = run_dompet(
        &["user", "show", "1"],
        vec![("DATABASE_URL".to_owned(), wrong)],
    )
    .await;

    // Assert
    assert_eq!(run.code, Some(1), "{run:#?}");
    assert_eq!(run.stdout, "");
    assert!(
        run.stderr
            .lines()
            .any(|l| l.starts_with("error: cannot reach the database")),
        "{run:#?}"
    );
    assert!(
        !run.stderr.contains("Wr0ng-Pa55w0rd"),
        "the password reached stderr: {}",
        run.stderr
    );
}

#[tokio::test]
async fn control_characters_and_long_text_on_the_command_line_are_refused_and_write_nothing() {
    // Arrange (argv cannot carry a NUL byte; everything else can)
    let app = spawn_app().await;
    let user = app.create_user().await;
    let uid = user.id.to_string();
    let before = rows(&app).await;
    let long_name = "s".repeat(101);
    let long_key = "k".repeat(256);
    let account = |name: &str| {
        vec![
            "bank-account".to_owned(),
            "add".into(),
            "--user-id".into(),
            uid.clone(),
            "--bank-name".into(),
            "BCA".into(),
            "--account-number".into(),
            "0123456789".into(),
            "--account-name".into(),
            name.into(),
        ]
    };
    let cases: Vec<(Vec<String>, &str)> = vec![
        (
            [
                "user",
                "create",
                "--username",
                &long_name,
                "--email",
                "s@example.com",
                "--password",
                "rahasia-123",
            ]
            .map(str::to_owned)
            .to_vec(),
            "error: username must be 1 to 100 characters without control characters",
        ),
        (
            [
                "user",
                "create",
                "--username",
                "siti\nroot",
                "--email",
                "s@example.com",
                "--password",
                "rahasia-123",
            ]
            .map(str::to_owned)
            .to_vec(),
            "error: username must be 1 to 100 characters without control characters",
        ),
        (
            account("Siti\u{1b}[31m"),
            "error: account_name must be 1 to 200 characters without control characters",
        ),
        (
            [
                "mutation",
                "post",
                "--user-id",
                &uid,
                "--action",
                "topup",
                "--amount",
                "100",
                "--idempotency-key",
                &long_key,
            ]
            .map(str::to_owned)
            .to_vec(),
            "error: idempotency_key must be 1 to 255 characters without control characters",
        ),
    ];

    for (args, line) in cases {
        // Act
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let run = dompet(&app, &args).await;

        // Assert
        run.assert_error(1, line);
    }
    assert_eq!(rows(&app).await, before);
}
