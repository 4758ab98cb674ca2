//! Bad input to the withdraw endpoint: always a clear JSON answer, never a
//! 500, never money moved.

use crate::helpers::{
    accepted, form, rejected, spawn_app, BAD_REQUEST, RULE_ACCOUNT, RULE_AMOUNT, RULE_PASSWORD,
    TOO_LARGE,
};

#[tokio::test]
async fn malformed_amounts_are_refused_as_invalid_and_move_no_money() {
    // Arrange
    let app = spawn_app().await;
    let (user, account) = app.funded_user(100_000).await;
    let before = app.ledger_fingerprint().await;
    let form_amounts = [
        "",
        "abc",
        "-5",
        "-0",
        "0",
        "000",
        "25000.5",
        "25000.0",
        "25.000",
        "25,000",
        "1e3",
        "+5",
        " 25000",
        "25000 ",
        "2 5000",
        "0x10",
        "99999999999999999999",
        "9223372036854775808",
        "٢٥٠٠٠",
        "２５０００",
        "25000\0",
        "NaN",
        "Infinity",
    ];
    let json_amounts = [
        "25000.0",
        "2.5e4",
        "1e3",
        "-5",
        "0",
        "99999999999999999999",
        "\"25000.5\"",
        "\" 25000\"",
        "\"+5\"",
        "\"\"",
        "-9223372036854775808",
        "9223372036854775808",
        "18446744073709551615",
        "25000e0",
    ];

    for amount in form_amounts {
        // Act
        let answer = app
            .withdraw_form(&user, &form(amount, &account.to_string(), &user.password))
            .await;

        // Assert
        assert_eq!(
            (answer.status.as_u16(), answer.body.as_str()),
            (200, rejected(&[RULE_AMOUNT]).as_str()),
            "form amount {amount:?}"
        );
    }
    for amount in json_amounts {
        // Act
        let answer = app.withdraw_json(&user,
            &format!(
                r#"{{"deposit_withdrawal":{{"amount":{amount},"bank_account_id":{account},"password":"{}"}}}}"#,
                user.password
            ),
        )
        .await;

        // Assert
        assert_eq!(
            (answer.status.as_u16(), answer.body.as_str()),
            (200, rejected(&[RULE_AMOUNT]).as_str()),
            "JSON amount {amount}"
        );
    }
    assert_eq!(app.ledger_fingerprint().await, before);
    assert_eq!(app.balance(&user).await, 100_000);
    // The same user can still withdraw: nothing above took the day.
    let answer = app.withdraw(&user, 25_000, account, &user.password).await;
    answer.assert(200, &accepted(answer.withdrawal_id()));
}

#[tokio::test]
async fn malformed_bank_account_ids_are_refused_as_not_the_users_own() {
    // Arrange
    let app = spawn_app().await;
    let (user, account) = app.funded_user(100_000).await;
    let before = app.ledger_fingerprint().await;
    let ids = [
        String::new(),
        "abc".into(),
        "-1".into(),
        "0".into(),
        format!("{account}.0"),
        format!(" {account}"),
        format!("{account}abc"),
        format!("+{account}"),
        "99999999999999999999".into(),
        "1 OR 1=1".into(),
    ];

    for id in &ids {
        // Act
        let answer = app
            .withdraw_form(&user, &form("1000", id, &user.password))
            .await;

        // Assert
        assert_eq!(
            (answer.status.as_u16(), answer.body.as_str()),
            (200, rejected(&[RULE_ACCOUNT]).as_str()),
            "bank account id {id:?}"
        );
    }
    for id in ["1.5", "-1", "true"] {
        let answer = app.withdraw_json(&user,
            &format!(
                r#"{{"deposit_withdrawal":{{"amount":"1000","bank_account_id":{id},"password":"{}"}}}}"#,
                user.password
            ),
        )
        .await;
        if id == "true" {
            answer.assert(400, BAD_REQUEST);
        } else {
            answer.assert(200, &rejected(&[RULE_ACCOUNT]));
        }
    }
    assert_eq!(app.ledger_fingerprint().await, before);
}

#[tokio::test]
async fn missing_fields_are_reported_by_the_rules_they_fail() {
    let app = spawn_app().await;
    /// A form body from the user's own account id and password.
    type Body = fn(i64, &str) -> String;
    let cases: [(&str, Body, &[&str]); 7] = [
        (
            "no amount",
            |account, password| {
                format!("deposit_withdrawal[bank_account_id]={account}&deposit_withdrawal[password]={password}")
            },
            &[RULE_AMOUNT],
        ),
        (
            "no bank account",
            |_, password| {
                format!("deposit_withdrawal[amount]=1000&deposit_withdrawal[password]={password}")
            },
            &[RULE_ACCOUNT],
        ),
        (
            "no password",
            |account, _| {
                format!(
                    "deposit_withdrawal[amount]=1000&deposit_withdrawal[bank_account_id]={account}"
                )
            },
            &[RULE_PASSWORD],
        ),
        (
            "an empty password",
            |account, _| {
                format!("deposit_withdrawal[amount]=1000&deposit_withdrawal[bank_account_id]={account}&deposit_withdrawal[password]=")
            },
            &[RULE_PASSWORD],
        ),
        (
            "an empty body",
            |_, _| String::new(),
            &[RULE_AMOUNT, RULE_ACCOUNT, RULE_PASSWORD],
        ),
        (
            "only unknown fields",
            |_, _| "amount=1000&password=x&deposit_withdrawal=1".into(),
            &[RULE_AMOUNT, RULE_ACCOUNT, RULE_PASSWORD],
        ),
        (
            "fields without the deposit_withdrawal prefix",
            |account, password| {
                format!("amount=1000&bank_account_id={account}&password={password}")
            },
            &[RULE_AMOUNT, RULE_ACCOUNT, RULE_PASSWORD],
        ),
    ];

    for (case, body, expected) in cases {
        // Arrange: a fresh user each, so missing passwords never add up to a lockout.
        let (user, account) = app.funded_user(100_000).await;
        let before = app.ledger_fingerprint().await;

        // Act
        let answer = app
            .withdraw_form(&user, &body(account, &user.password))
            .await;

        // Assert
        assert_eq!(
            (answer.status.as_u16(), answer.body.as_str()),
            (200, rejected(expected).as_str()),
            "{case}"
        );
        assert_eq!(app.ledger_fingerprint().await, before, "{case}");
    }
    // JSON: an empty object and a null deposit_withdrawal carry no fields either.
    for json in [
        "{}",
        r#"{"deposit_withdrawal":null}"#,
        r#"{"deposit_withdrawal":{}}"#,
    ] {
        let (user, _) = app.funded_user(100_000).await;
        app.withdraw_json(&user, json)
            .await
            .assert(200, &rejected(&[RULE_AMOUNT, RULE_ACCOUNT, RULE_PASSWORD]));
    }
}

#[tokio::test]
async fn unparseable_or_wrongly_shaped_bodies_are_a_400_and_move_no_money() {
    // Arrange
    let app = spawn_app().await;
    let (user, account) = app.funded_user(100_000).await;
    let password = &user.password;
    let before = app.ledger_fingerprint().await;
    let json = |body: String| ("application/json", body.into_bytes());
    let cases: Vec<(&str, (&str, Vec<u8>))> = vec![
        ("truncated JSON", json(r#"{"deposit_withdrawal":{"amount":"1000""#.into())),
        ("not JSON at all", json(format!("deposit_withdrawal[amount]=1000&deposit_withdrawal[bank_account_id]={account}&deposit_withdrawal[password]={password}"))),
        ("an array body", json(format!(r#"[{{"deposit_withdrawal":{{"amount":"1000","bank_account_id":"{account}","password":"{password}"}}}}]"#))),
        ("a string body", json(r#""deposit_withdrawal""#.into())),
        ("a number body", json("25000".into())),
        ("deposit_withdrawal as an array", json(format!(r#"{{"deposit_withdrawal":["1000","{account}","{password}"]}}"#))),
        ("deposit_withdrawal as a string", json(r#"{"deposit_withdrawal":"amount=1000"}"#.into())),
        ("a boolean amount", json(format!(r#"{{"deposit_withdrawal":{{"amount":true,"bank_account_id":"{account}","password":"{password}"}}}}"#))),
        ("an object password", json(format!(r#"{{"deposit_withdrawal":{{"amount":"1000","bank_account_id":"{account}","password":{{"$ne":""}}}}}}"#))),
        ("an array bank account", json(format!(r#"{{"deposit_withdrawal":{{"amount":"1000","bank_account_id":[{account}],"password":"{password}"}}}}"#))),
        ("non-UTF-8 inside a JSON string", ("application/json", [&br#"{"deposit_withdrawal":{"amount":"1000","password":""#[..], b"\xff\xfe", br#""}}"#].concat())),
        ("plain text", ("text/plain", form("1000", &account.to_string(), password).into_bytes())),
        ("XML", ("application/xml", b"<deposit_withdrawal><amount>1000</amount></deposit_withdrawal>".to_vec())),
    ];

    for (case, (content_type, body)) in cases {
        // Act
        let answer = app
            .send(
                app.withdraw_request(&user, "")
                    .header("content-type", content_type)
                    .body(body),
            )
            .await;

        // Assert
        assert_eq!(
            (answer.status.as_u16(), answer.body.as_str()),
            (400, BAD_REQUEST),
            "{case}"
        );
        assert_eq!(answer.headers["content-type"], "application/json", "{case}");
    }
    assert_eq!(app.ledger_fingerprint().await, before);
    assert_eq!(app.balance(&user).await, 100_000);
}

#[tokio::test]
async fn non_utf8_bytes_in_a_form_body_are_refused_by_the_rules_not_with_a_server_error() {
    // Arrange
    let app = spawn_app().await;
    let (user, account) = app.funded_user(100_000).await;
    let before = app.ledger_fingerprint().await;
    let field = |name: &str, value: &[u8]| {
        [format!("deposit_withdrawal[{name}]=").as_bytes(), value].concat()
    };
    let amount = field("amount", b"1000");
    let bank = field("bank_account_id", account.to_string().as_bytes());
    let password = field("password", user.password.as_bytes());
    let join = |parts: [Vec<u8>; 3]| parts.join(&b'&');
    let cases: [(&str, Vec<u8>, &[&str]); 4] = [
        (
            "raw bytes in the amount",
            join([field("amount", b"10\xff00"), bank.clone(), password.clone()]),
            &[RULE_AMOUNT],
        ),
        (
            "percent-encoded bytes in the amount",
            join([field("amount", b"%FF%FE"), bank.clone(), password.clone()]),
            &[RULE_AMOUNT],
        ),
        (
            "raw bytes in the bank account",
            join([
                amount.clone(),
                field("bank_account_id", b"\xc3\x28"),
                password.clone(),
            ]),
            &[RULE_ACCOUNT],
        ),
        (
            "raw bytes in the password",
            join([
                amount.clone(),
                bank.clone(),
                field("password", b"rahasia-123\xff"),
            ]),
            &[RULE_PASSWORD],
        ),
    ];

    for (case, body, expected) in cases {
        // Act
        let answer = app
            .send(
                app.withdraw_request(&user, "")
                    .header("content-type", "application/x-www-form-urlencoded")
                    .body(body),
            )
            .await;

        // Assert
        assert_eq!(
            (answer.status.as_u16(), answer.body.as_str()),
            (200, rejected(expected).as_str()),
            "{case}"
        );
    }
    assert_eq!(app.ledger_fingerprint().await, before);
}

#[tokio::test]
async fn sql_in_every_field_is_only_invalid_input() {
    // Arrange
    let app = spawn_app().await;
    let (user, account) = app.funded_user(100_000).await;
    let before = app.ledger_fingerprint().await;
    let amount = "1000; update deposits set balance = 999999999; --";
    let bank = "1 OR 1=1; drop table withdrawals; --";
    let password = "' OR '1'='1' --";

    // Act
    let as_form = app
        .withdraw_form(&user, &form(amount, bank, password))
        .await;
    let as_json = app.withdraw_json(&user,
        &serde_json::json!({"deposit_withdrawal": {"amount": amount, "bank_account_id": bank, "password": password}})
            .to_string(),
    )
    .await;
    let as_query = app
        .send(app.withdraw_request(&user, &format!("?{}", form(amount, bank, password))))
        .await;

    // Assert
    for answer in [as_form, as_json, as_query] {
        answer.assert(200, &rejected(&[RULE_AMOUNT, RULE_ACCOUNT, RULE_PASSWORD]));
    }
    assert_eq!(app.ledger_fingerprint().await, before);
    app.assert_ledger_ok().await;
    // The tables are intact and the right password still works after 3 failures.
    let answer = app.withdraw(&user, 1000, account, &user.password).await;
    answer.assert(200, &accepted(answer.withdrawal_id()));
}

#[tokio::test]
async fn sql_in_the_idempotency_key_is_just_a_key() {
    // Arrange
    let app = spawn_app().await;
    let (user, account) = app.funded_user(100_000).await;
    let key = "k';drop/**/table/**/withdraw_idempotency;--";

    // Act
    let first = app.withdraw_with_key(&user, key, 1000, account).await;
    let again = app.withdraw_with_key(&user, key, 1000, account).await;

    // Assert
    first.assert(200, &accepted(first.withdrawal_id()));
    again.assert(200, &first.body);
    assert_eq!(app.withdrawal_counts(&user).await, (1, 1));
}

#[tokio::test]
async fn a_very_long_unicode_password_is_only_a_wrong_password() {
    // Arrange
    let app = spawn_app().await;
    let (user, account) = app.funded_user(100_000).await;
    let before = app.ledger_fingerprint().await;
    let long = "密".repeat(2000);

    // Act
    let answer = app.withdraw_json(&user,
        &serde_json::json!({"deposit_withdrawal": {"amount": "1000", "bank_account_id": account, "password": long}})
            .to_string(),
    )
    .await;
    let ascii = app
        .withdraw(&user, 1000, account, &"x".repeat(15_000))
        .await;

    // Assert
    answer.assert(200, &rejected(&[RULE_PASSWORD]));
    ascii.assert(200, &rejected(&[RULE_PASSWORD]));
    assert_eq!(app.ledger_fingerprint().await, before);
}

#[tokio::test]
async fn an_oversized_body_is_a_413_and_moves_no_money() {
    // Arrange
    let app = spawn_app().await;
    let (user, account) = app.funded_user(100_000).await;
    let before = app.ledger_fingerprint().await;
    let padding = "密".repeat(6000);
    let json = serde_json::json!({"deposit_withdrawal": {"amount": "1000", "bank_account_id": account, "password": user.password}, "padding": padding})
        .to_string();
    assert!(json.len() > 16 * 1024);

    // Act
    let as_json = app.withdraw_json(&user, &json).await;
    let as_form = app
        .withdraw_form(
            &user,
            &format!(
                "{}&pad={}",
                form("1000", &account.to_string(), &user.password),
                "x".repeat(16 * 1024)
            ),
        )
        .await;

    // Assert
    as_json.assert(413, TOO_LARGE);
    as_form.assert(413, TOO_LARGE);
    assert_eq!(app.ledger_fingerprint().await, before);
    assert_eq!(app.balance(&user).await, 100_000);
}
