//! The finance team's top-ups (SPEC §5.4): confirmed, cancelled and listed
//! one by one; a bank statement reconciled (dry run first), each line
//! applied once; the ledger audit of top-ups and their credits.

use futures::future::join_all;
use reqwest::Method;

use crate::{
    helpers::{invalid_request, report, spawn_app, tamper, violation},
    money_support::{money_state, operator_topup_json, statement_scene, topup_state},
};

const TOPUP_NOT_FOUND: &str =
    r#"{"error":{"code":"topup_not_found","message":"top-up not found"}}"#;

fn not_pending(state: &str) -> String {
    format!(
        r#"{{"error":{{"code":"topup_not_pending","message":"the top-up is {state}, not pending"}}}}"#
    )
}

// ---------------------------------------------------------------- top-ups

#[tokio::test]
async fn confirming_a_top_up_credits_its_total_once_with_a_note_naming_it() {
    // Arrange
    let app = spawn_app().await;
    let (user, account) = app.funded_user(5_000).await;
    let (id, code) = app.pending_topup(&user, 250_000, account).await;

    // Act
    let confirmed = app.admin_confirm_topup(id).await;
    let again = app.admin_confirm_topup(id).await;
    let cancel = app.admin_cancel_topup(id).await;

    // Assert
    confirmed.assert(200, &operator_topup_json(&app.pool, id, "confirmed").await);
    again.assert(409, &not_pending("confirmed"));
    cancel.assert(409, &not_pending("confirmed"));
    let total = 250_000 + code;
    assert_eq!(app.balance(&user).await, 5_000 + total);
    let credit = &app.v2_mutations(&user, "?per_page=1").await.json()["history"][0];
    assert_eq!(credit["action"], "topup");
    assert_eq!(credit["amount"], total);
    assert_eq!(credit["note"], format!("Top up saldo #T{id}"));
    assert_eq!(credit["transaction_id"], serde_json::Value::Null);
    app.assert_ledger_ok().await;
}

#[tokio::test]
async fn a_cancelled_or_expired_top_up_cannot_be_confirmed_and_unknown_ids_are_404() {
    // Arrange
    let app = spawn_app().await;
    let (user, account) = app.funded_user(0).await;
    let (cancelled, _) = app.pending_topup(&user, 10_000, account).await;
    let (expired, _) = app.pending_topup(&user, 20_000, account).await;
    app.expire_topup(expired).await;
    let before = app.ledger_fingerprint().await;

    // Act
    let cancel = app.admin_cancel_topup(cancelled).await;

    // Assert
    cancel.assert(
        200,
        &operator_topup_json(&app.pool, cancelled, "cancelled").await,
    );
    app.admin_confirm_topup(cancelled)
        .await
        .assert(409, &not_pending("cancelled"));
    app.admin_cancel_topup(cancelled)
        .await
        .assert(409, &not_pending("cancelled"));
    app.admin_confirm_topup(expired)
        .await
        .assert(409, &not_pending("expired"));
    app.admin_cancel_topup(expired)
        .await
        .assert(409, &not_pending("expired"));
    for id in ["999999", "abc", "-1", "99999999999999999999"] {
        app.admin_confirm_topup(id)
            .await
            .assert(404, TOPUP_NOT_FOUND);
        app.admin_cancel_topup(id)
            .await
            .assert(404, TOPUP_NOT_FOUND);
    }
    assert_eq!(app.ledger_fingerprint().await, before);
    app.assert_ledger_ok().await;
}

#[tokio::test]
async fn ten_simultaneous_confirms_credit_once() {
    // Arrange
    let app = spawn_app().await;
    let (user, account) = app.funded_user(0).await;
    let (id, code) = app.pending_topup(&user, 500_000, account).await;

    // Act
    let answers = join_all((0..10).map(|_| app.admin_confirm_topup(id))).await;

    // Assert
    let ok: Vec<_> = answers.iter().filter(|a| a.status == 200).collect();
    assert_eq!(ok.len(), 1, "{answers:#?}");
    for answer in answers.iter().filter(|a| a.status != 200) {
        answer.assert(409, &not_pending("confirmed"));
    }
    assert_eq!(app.balance(&user).await, 500_000 + code);
    app.assert_ledger_ok().await;
}

#[tokio::test]
async fn a_confirm_racing_a_cancel_has_exactly_one_winner() {
    let app = spawn_app().await;
    let (user, account) = app.funded_user(0).await;
    for round in 0..10 {
        let (id, code) = app.pending_topup(&user, 10_000 + round, account).await;
        let before = app.balance(&user).await;

        let (confirm, cancel) =
            tokio::join!(app.admin_confirm_topup(id), app.admin_cancel_topup(id));

        let credited = app.balance(&user).await - before;
        match (confirm.status.as_u16(), cancel.status.as_u16()) {
            (200, 409) => assert_eq!(credited, 10_000 + round + code),
            (409, 200) => assert_eq!(credited, 0),
            other => panic!("{other:?}: {confirm:?} {cancel:?}"),
        }
    }
    app.assert_ledger_ok().await;
}

#[tokio::test]
async fn the_top_up_list_filters_by_state_as_of_now_oldest_first() {
    // Arrange
    let app = spawn_app().await;
    let (user, account) = app.funded_user(0).await;
    let (a, _) = app.pending_topup(&user, 10_000, account).await;
    let (b, _) = app.pending_topup(&user, 20_000, account).await;
    let (c, _) = app.pending_topup(&user, 30_000, account).await;
    let (d, _) = app.pending_topup(&user, 40_000, account).await;
    app.admin_confirm_topup(b).await;
    app.admin_cancel_topup(c).await;
    app.expire_topup(d).await;
    let list = |items: Vec<String>| format!(r#"{{"topups":[{}]}}"#, items.join(","));
    let pool = &app.pool;

    // Act + Assert
    app.admin(Method::GET, "/topups?state=pending", None)
        .await
        .assert(
            200,
            &list(vec![operator_topup_json(pool, a, "pending").await]),
        );
    app.admin(Method::GET, "/topups?state=expired", None)
        .await
        .assert(
            200,
            &list(vec![operator_topup_json(pool, d, "expired").await]),
        );
    app.admin(Method::GET, "/topups?state=confirmed", None)
        .await
        .assert(
            200,
            &list(vec![operator_topup_json(pool, b, "confirmed").await]),
        );
    app.admin(Method::GET, "/topups?per_page=2&page=2", None)
        .await
        .assert(
            200,
            &list(vec![
                operator_topup_json(pool, c, "cancelled").await,
                operator_topup_json(pool, d, "expired").await,
            ]),
        );
    app.admin(Method::GET, "/topups?state=paid", None)
        .await
        .assert(400, &invalid_request(r#"unknown top-up state \"paid\""#));
}

// ---------------------------------------------------------- reconciliation

#[tokio::test]
async fn a_statement_confirms_what_matches_reports_the_rest_and_applies_each_line_once() {
    // Arrange: lines for top-ups 0 and 1, two lines competing for top-up 2,
    // one matching nothing, a repeated reference, and three malformed lines.
    let app = spawn_app().await;
    let (users, t) = statement_scene(&app).await;
    let statement = format!(
        "reference,date,amount\n\
         TRF-001,2016-01-08,{a}\n\
         TRF-002,2016-01-08,{b}\n\
         TRF-003,2016-01-08,{c}\n\
         TRF-004,2016-01-09,{c}\n\
         TRF-005,2016-01-09,777777\n\
         TRF-001,2016-01-09,{a}\n\
         TRF-006,08/01/2016,{d}\n\
         TRF-007,2016-01-09,\"{d},00\"\n\
         TRF-008\n",
        a = t[0].1,
        b = t[1].1,
        c = t[2].1,
        d = t[3].1,
    );
    let expected = |dry_run: bool, applied: bool| {
        let matched_or_duplicate = |line: u64, reference: &str, (id, total): (i64, i64)| {
            match applied {
                false => format!(
                    r#"{{"line":{line},"reference":"{reference}","amount":{total},"topup_id":{id}}}"#
                ),
                true => format!(r#"{{"line":{line},"reference":"{reference}","topup_id":{id}}}"#),
            }
        };
        let matched = match applied {
            false => format!(
                "{},{}",
                matched_or_duplicate(2, "TRF-001", t[0]),
                matched_or_duplicate(3, "TRF-002", t[1])
            ),
            true => String::new(),
        };
        let mut duplicate = Vec::new();
        if applied {
            duplicate.push(matched_or_duplicate(2, "TRF-001", t[0]));
            duplicate.push(matched_or_duplicate(3, "TRF-002", t[1]));
        }
        duplicate.push(format!(
            r#"{{"line":7,"reference":"TRF-001","topup_id":{}}}"#,
            t[0].0
        ));
        format!(
            r#"{{"dry_run":{dry_run},"matched":[{matched}],"unmatched":[{{"line":6,"reference":"TRF-005","amount":777777}}],"ambiguous":[{{"line":4,"reference":"TRF-003","amount":{c},"topup_ids":[{id}]}},{{"line":5,"reference":"TRF-004","amount":{c},"topup_ids":[{id}]}}],"duplicate":[{}],"invalid":[{{"line":8,"reference":"TRF-006","reason":"the date must be YYYY-MM-DD"}},{{"line":9,"reference":"TRF-007","reason":"the amount must be whole rupiah in digits only, at least 1"}},{{"line":10,"reference":"TRF-008","reason":"the line has fewer fields than the header (reference, date, amount)"}}]}}"#,
            duplicate.join(","),
            c = t[2].1,
            id = t[2].0,
        )
    };
    let before = money_state(&app).await;

    // Act 1: a dry run.
    let dry = app.admin_reconcile(&statement, "?dry_run=true").await;

    // Assert 1: the real run's report, nothing changed.
    dry.assert(200, &expected(true, false));
    assert_eq!(money_state(&app).await, before);

    // Act 2: the real run, then the same statement again.
    let real = app.admin_reconcile(&statement, "").await;
    let resent = app.admin_reconcile(&statement, "?dry_run=false").await;

    // Assert 2
    real.assert(200, &expected(false, false));
    resent.assert(200, &expected(false, true));
    assert_eq!(app.balance(&users[0]).await, t[0].1);
    assert_eq!(app.balance(&users[1]).await, t[1].1);
    assert_eq!(
        app.balance(&users[2]).await,
        0,
        "ambiguous lines apply nothing"
    );
    assert_eq!(
        app.balance(&users[3]).await,
        0,
        "malformed lines apply nothing"
    );
    assert_eq!(topup_state(&app, t[0].0).await, "confirmed");
    assert_eq!(topup_state(&app, t[2].0).await, "pending");
    app.assert_ledger_ok().await;
    app.admin(Method::GET, "/ledger/verify", None)
        .await
        .assert(200, &report(4, &[]));
}

#[tokio::test]
async fn overlapping_statements_credit_each_transfer_once() {
    // Arrange
    let app = spawn_app().await;
    let (users, t) = statement_scene(&app).await;
    let monday = format!(
        "reference,date,amount\nA-1,2016-01-08,{}\nA-2,2016-01-08,{}\n",
        t[0].1, t[1].1
    );
    let monday_and_tuesday = format!(
        "date,amount,reference\n2016-01-08,{},A-2\n2016-01-09,{},B-1\n2016-01-09,{},B-2\n",
        t[1].1, t[2].1, t[0].1
    );

    // Act
    app.admin_reconcile(&monday, "").await;
    let second = app.admin_reconcile(&monday_and_tuesday, "").await;

    // Assert: A-2 was applied on Monday; B-2's sum is top-up 0's, which A-1
    // confirmed already, so it matches nothing pending now.
    second.assert(
        200,
        &format!(
            r#"{{"dry_run":false,"matched":[{{"line":3,"reference":"B-1","amount":{},"topup_id":{}}}],"unmatched":[{{"line":4,"reference":"B-2","amount":{}}}],"ambiguous":[],"duplicate":[{{"line":2,"reference":"A-2","topup_id":{}}}],"invalid":[]}}"#,
            t[2].1, t[2].0, t[0].1, t[1].0
        ),
    );
    for (user, (_, total)) in users.iter().zip(&t).take(3) {
        assert_eq!(app.balance(user).await, *total);
    }
    app.assert_ledger_ok().await;
}

#[tokio::test]
async fn simultaneous_reconciliations_of_one_statement_credit_each_line_once() {
    let app = spawn_app().await;
    let (users, t) = statement_scene(&app).await;
    let statement = format!(
        "reference,date,amount\n{}",
        t.iter()
            .enumerate()
            .map(|(i, (_, total))| format!("R-{i},2016-01-08,{total}\n"))
            .collect::<String>()
    );

    let reports = join_all((0..8).map(|_| app.admin_reconcile(&statement, ""))).await;

    let matched: usize = reports
        .iter()
        .map(|r| r.json()["matched"].as_array().unwrap().len())
        .sum();
    assert_eq!(matched, 4, "{reports:#?}");
    for (user, (_, total)) in users.iter().zip(&t) {
        assert_eq!(app.balance(user).await, *total);
    }
    app.assert_ledger_ok().await;
}

#[tokio::test]
async fn an_expired_top_up_is_not_matched_by_a_statement() {
    let app = spawn_app().await;
    let (user, account) = app.funded_user(0).await;
    let (id, code) = app.pending_topup(&user, 60_000, account).await;
    app.expire_topup(id).await;

    let answer = app
        .admin_reconcile(
            &format!("reference,date,amount\nX,2016-01-08,{}\n", 60_000 + code),
            "",
        )
        .await;

    answer.assert(
        200,
        &format!(
            r#"{{"dry_run":false,"matched":[],"unmatched":[{{"line":2,"reference":"X","amount":{}}}],"ambiguous":[],"duplicate":[],"invalid":[]}}"#,
            60_000 + code
        ),
    );
    assert_eq!(app.balance(&user).await, 0);
}

#[tokio::test]
async fn a_statement_that_cannot_be_read_whole_is_400_and_applies_nothing() {
    let app = spawn_app().await;
    let (_, t) = statement_scene(&app).await;
    let before = money_state(&app).await;

    for (statement, query, message) in [
        ("", "", "the statement is empty: expected a header line reference,date,amount"),
        (
            &*format!("ref,date,amount\nA,2016-01-08,{}\n", t[0].1),
            "",
            "the header line must name the columns reference, date and amount (found: ref,date,amount)",
        ),
        ("reference,date,amount\n", "?dry_run=maybe", "dry_run must be true or false"),
    ] {
        app.admin_reconcile(statement, query)
            .await
            .assert(400, &invalid_request(message));
    }
    let huge = format!("reference,date,amount\n{}", "x".repeat(1024 * 1024));
    let too_large = app.admin_reconcile(&huge, "").await;
    assert_eq!(too_large.status, 413, "{too_large:?}");
    assert_eq!(too_large.json()["error"]["code"], "payload_too_large");
    let anonymous = app
        .send(
            app.request(Method::POST, "/internal/v1/topups/reconcile")
                .body("reference,date,amount\n"),
        )
        .await;
    assert_eq!(anonymous.status, 401);
    assert_eq!(money_state(&app).await, before);
}

#[tokio::test]
async fn ledger_verify_reports_a_confirmed_top_up_without_its_credit_and_a_credit_without_one() {
    // Arrange: top-up 0 confirmed behind the service's back (no credit), and
    // a credit moved from top-up 1 onto the still pending top-up 2.
    let app = spawn_app().await;
    let (users, t) = statement_scene(&app).await;
    app.admin_confirm_topup(t[1].0).await;
    tamper(
        &app.pool,
        &format!(
            "update topups set state = 'confirmed', confirmed_at = now() where id = {}",
            t[0].0
        ),
    )
    .await;
    let credit: i64 = sqlx::query_scalar("select id from mutations where topup_id = $1")
        .bind(t[1].0)
        .fetch_one(&app.pool)
        .await
        .unwrap();
    tamper(
        &app.pool,
        &format!(
            "update mutations set topup_id = {} where id = {credit}",
            t[2].0
        ),
    )
    .await;

    // Act
    let answer = app.admin(Method::GET, "/ledger/verify", None).await;

    // Assert
    answer.assert(
        200,
        &report(
            4,
            &[
                violation(
                    "topup_credit_mismatch",
                    users[0].id,
                    None,
                    None,
                    &format!("confirmed top-up #T{} has no credit", t[0].0),
                ),
                violation(
                    "topup_credit_mismatch",
                    users[1].id,
                    None,
                    None,
                    &format!("confirmed top-up #T{} has no credit", t[1].0),
                ),
                violation(
                    "topup_credit_mismatch",
                    users[2].id,
                    Some(credit),
                    None,
                    &format!("credit for top-up #T{}, which is pending", t[2].0),
                ),
            ],
        ),
    );
}
