//! The `before_id` cursor of the history endpoints: a walk by cursor answers
//! exactly what page numbers answer, odd values fall back to no cursor, no
//! other user's row ever shows, the v2 balance stays beside the page, and the
//! page walks the user's own index from the cursor however deep it is.

use std::{collections::BTreeSet, path::Path};

use serde_json::Value;

use crate::{
    helpers::{spawn_app, Answer, TestApp, TestUser, EMPTY_HISTORY, MUTATIONS, WITHDRAWALS},
    money_support::{V2_HISTORY, V2_MUTATIONS},
};

/// The endpoints that take `before_id`.
const CURSOR_ENDPOINTS: [&str; 3] = [MUTATIONS, WITHDRAWALS, V2_MUTATIONS];

/// Accepts a withdrawal, then moves it to an earlier day so the user may
/// withdraw again today.
async fn withdraw_on_an_earlier_day(app: &TestApp, user: &TestUser, account: i64, amount: i64) {
    let id = app
        .withdraw(user, amount, account, &user.password)
        .await
        .withdrawal_id();
    sqlx::query(
        "update withdrawals
         set local_day = local_day - (select count(*)::int from withdrawals where user_id = $2)
         where id = $1",
    )
    .bind(id)
    .bind(user.id)
    .execute(&app.pool)
    .await
    .unwrap();
}

/// Alice: 20 credits and 5 withdrawals with their debits (30 mutations);
/// Bob's credits and 2 withdrawals come in between, so neither's ids run
/// without gaps.
async fn two_histories(app: &TestApp) -> (TestUser, TestUser) {
    let (alice, alice_account) = app.funded_user(0).await;
    let (bob, bob_account) = app.funded_user(0).await;
    for n in 1..=20 {
        app.credit(&alice, 10_000 + n).await;
        if n % 3 == 0 {
            app.credit(&bob, 5_000 + n).await;
        }
        if n % 4 == 0 {
            withdraw_on_an_earlier_day(app, &alice, alice_account, 1_000 + n).await;
        }
        if n % 9 == 0 {
            withdraw_on_an_earlier_day(app, &bob, bob_account, 100 + n).await;
        }
    }
    (alice, bob)
}

async fn get(app: &TestApp, user: &TestUser, path: &str, query: &str) -> Answer {
    let answer = app.get_as(user, &format!("{path}{query}")).await;
    assert_eq!(answer.status, 200, "{path}{query}: {}", answer.body);
    answer
}

/// The ids of a page, in the order shown.
fn ids(answer: &Answer) -> Vec<i64> {
    answer.json()["history"]
        .as_array()
        .unwrap_or_else(|| panic!("no history list: {}", answer.body))
        .iter()
        .map(|row| row["id"].as_i64().unwrap())
        .collect()
}

/// The user's ids in `table`, newest first.
async fn stored_ids(app: &TestApp, table: &str, user: &TestUser) -> Vec<i64> {
    sqlx::query_scalar(&format!(
        "select id from {table} where user_id = $1 order by id desc"
    ))
    .bind(user.id)
    .fetch_all(&app.pool)
    .await
    .unwrap()
}

fn table_of(path: &str) -> &'static str {
    if path == WITHDRAWALS {
        "withdrawals"
    } else {
        "mutations"
    }
}

/// The answer past the end of `path`'s history: `[]` (beside the balance on v2).
async fn empty_answer(app: &TestApp, user: &TestUser, path: &str) -> String {
    if path == V2_MUTATIONS {
        format!(
            r#"{{"status":"OK","balance":{},"history":[],"message":null}}"#,
            app.balance(user).await
        )
    } else {
        EMPTY_HISTORY.to_owned()
    }
}

#[tokio::test]
async fn a_walk_by_before_id_answers_the_same_bodies_as_page_numbers_on_every_endpoint() {
    // Arrange
    let app = spawn_app().await;
    let (alice, _) = two_histories(&app).await;

    for path in CURSOR_ENDPOINTS {
        for per_page in [3, 10] {
            // Act: page numbers until `[]`, then the cursor walk from page 1.
            let mut by_page = Vec::new();
            for page in 1.. {
                let answer = get(
                    &app,
                    &alice,
                    path,
                    &format!("?page={page}&per_page={per_page}"),
                )
                .await;
                let last = ids(&answer).is_empty();
                by_page.push(answer.body);
                if last {
                    break;
                }
            }
            let mut by_cursor =
                vec![get(&app, &alice, path, &format!("?per_page={per_page}")).await];
            while let Some(last_id) = ids(by_cursor.last().unwrap()).last().copied() {
                let query = format!("?before_id={last_id}&page=1&per_page={per_page}");
                by_cursor.push(get(&app, &alice, path, &query).await);
            }

            // Assert: the same bodies, byte for byte, and every row once.
            let by_cursor: Vec<String> = by_cursor.into_iter().map(|a| a.body).collect();
            assert_eq!(by_cursor, by_page, "{path} per_page={per_page}");
            assert_eq!(
                by_page.last().unwrap(),
                &empty_answer(&app, &alice, path).await
            );
            let rows = stored_ids(&app, table_of(path), &alice).await;
            assert_eq!(by_page.len(), rows.len().div_ceil(per_page) + 1, "{path}");
        }
    }
}

#[tokio::test]
async fn page_and_per_page_count_from_the_cursor() {
    // Arrange: the cursor after the first 6 rows, so pages of 3 or 6 counted
    // from it line up with pages counted from the newest row.
    let app = spawn_app().await;
    let (alice, _) = two_histories(&app).await;

    for path in [MUTATIONS, V2_MUTATIONS] {
        let sixth = ids(&get(&app, &alice, path, "?per_page=6").await)[5];
        for (cursor_query, same_as) in [
            ("page=1&per_page=6", "page=2&per_page=6"),
            ("page=2&per_page=6", "page=3&per_page=6"),
            ("page=1&per_page=3", "page=3&per_page=3"),
            ("page=3&per_page=3", "page=5&per_page=3"),
            ("per_page=3&page=2", "page=4&per_page=3"),
            ("page=9&per_page=6", "page=10&per_page=6"),
            ("page=abc&per_page=3", "page=3&per_page=3"),
        ] {
            // Act
            let answer = get(
                &app,
                &alice,
                path,
                &format!("?before_id={sixth}&{cursor_query}"),
            )
            .await;

            // Assert
            let expected = get(&app, &alice, path, &format!("?{same_as}")).await;
            assert_eq!(answer.body, expected.body, "{path}?{cursor_query}");
        }
    }
}

#[tokio::test]
async fn odd_before_id_values_fall_back_to_no_cursor_on_every_endpoint() {
    // Arrange
    let app = spawn_app().await;
    let (alice, _) = two_histories(&app).await;
    let odd = [
        "",
        "abc",
        "0",
        "000",
        "-1",
        "-9223372036854775808",
        "%2B5",
        "5.0",
        "1e3",
        "%205",
        "5%20",
        "0x10",
        "9223372036854775808",
        "18446744073709551616",
        "99999999999999999999999999",
        "%00",
        "%FF",
        "%EF%BC%95",
        "null",
        "[5]",
    ];

    for path in CURSOR_ENDPOINTS {
        let newest = get(&app, &alice, path, "?per_page=4").await.body;
        let second_page = get(&app, &alice, path, "?page=2&per_page=4").await.body;
        let fourth = ids(&get(&app, &alice, path, "?per_page=4").await)[3];
        for value in odd {
            // Act
            let answer = get(
                &app,
                &alice,
                path,
                &format!("?before_id={value}&per_page=4"),
            )
            .await;

            // Assert
            assert_eq!(answer.body, newest, "{path}?before_id={value}");
        }
        for (query, expected) in [
            ("?before_id&per_page=4".to_owned(), &newest),
            ("?per_page=4&before_id=".to_owned(), &newest),
            // The largest id there can be: every row is older.
            (
                "?before_id=9223372036854775807&per_page=4".to_owned(),
                &newest,
            ),
            (format!("?before_id=000{fourth}&per_page=4"), &second_page),
            // The last one wins, as for `page` and `per_page`.
            (
                format!("?before_id=abc&before_id={fourth}&per_page=4"),
                &second_page,
            ),
            (
                format!("?before_id={fourth}&before_id=abc&per_page=4"),
                &newest,
            ),
        ] {
            let answer = get(&app, &alice, path, &query).await;
            assert_eq!(&answer.body, expected, "{path}{query}");
        }
    }
}

#[tokio::test]
async fn a_cursor_at_or_past_the_oldest_row_answers_an_empty_history() {
    // Arrange
    let app = spawn_app().await;
    let (alice, _) = two_histories(&app).await;

    for path in CURSOR_ENDPOINTS {
        let oldest = *stored_ids(&app, table_of(path), &alice)
            .await
            .last()
            .unwrap();
        let empty = empty_answer(&app, &alice, path).await;
        for query in [
            format!("?before_id={oldest}"),
            format!("?before_id={oldest}&page=1&per_page=100"),
            "?before_id=1".to_owned(),
            "?before_id=1&page=2147483647&per_page=2147483647".to_owned(),
        ] {
            // Act
            let answer = get(&app, &alice, path, &query).await;

            // Assert
            assert_eq!(answer.body, empty, "{path}{query}");
        }
        // …and the row just above the cursor is still the oldest one.
        let above = get(&app, &alice, path, &format!("?before_id={}", oldest + 1)).await;
        assert_eq!(ids(&above), [oldest], "{path}");
    }
}

#[tokio::test]
async fn another_users_ids_never_leak_through_a_cursor() {
    // Arrange: Bob's rows lie between Alice's; every id of either is tried as
    // Bob's cursor, as are ids nobody has.
    let app = spawn_app().await;
    let (alice, bob) = two_histories(&app).await;

    for path in CURSOR_ENDPOINTS {
        let table = table_of(path);
        let alices = stored_ids(&app, table, &alice).await;
        let bobs = stored_ids(&app, table, &bob).await;
        let mut cursors: BTreeSet<i64> = alices.iter().chain(&bobs).copied().collect();
        cursors.extend([1, alices[0] + 1, alices[0] + 1_000_000]);
        for cursor in cursors {
            // Act
            let answer = get(
                &app,
                &bob,
                path,
                &format!("?before_id={cursor}&per_page=100"),
            )
            .await;

            // Assert: exactly Bob's older rows, newest first; the same body
            // as the cursor just above Bob's next older row.
            let expected: Vec<i64> = bobs.iter().copied().filter(|id| *id < cursor).collect();
            assert_eq!(ids(&answer), expected, "{path}?before_id={cursor}");
            let same = match expected.first() {
                Some(next) => {
                    get(
                        &app,
                        &bob,
                        path,
                        &format!("?before_id={}&per_page=100", next + 1),
                    )
                    .await
                    .body
                }
                None => empty_answer(&app, &bob, path).await,
            };
            assert_eq!(answer.body, same, "{path}?before_id={cursor}");
        }
    }
}

#[tokio::test]
async fn the_v2_balance_beside_a_cursor_page_is_the_wallets_balance_now() {
    // Arrange
    let app = spawn_app().await;
    let (alice, _) = two_histories(&app).await;
    let balance = app.balance(&alice).await;
    let rows = stored_ids(&app, "mutations", &alice).await;
    let cursor = rows[15];

    // Act
    let answer = get(
        &app,
        &alice,
        V2_MUTATIONS,
        &format!("?before_id={cursor}&per_page=5"),
    )
    .await;

    // Assert: the page is old rows, the balance is today's.
    assert!(
        answer.body.starts_with(&format!(
            r#"{{"status":"OK","balance":{balance},"history":[{{"id":{}"#,
            rows[16]
        )),
        "{}",
        answer.body
    );
    assert_eq!(ids(&answer), rows[16..21]);
    let shown_final = answer.json()["history"][0]["final_balance"]
        .as_i64()
        .unwrap();
    assert_ne!(shown_final, balance, "the page is not the newest rows");
}

#[tokio::test]
async fn the_combined_history_takes_no_cursor() {
    // Its three lists have three id sequences; `before_id` is ignored there
    // like any other unknown parameter.
    let app = spawn_app().await;
    let (alice, _) = two_histories(&app).await;
    let plain = get(&app, &alice, V2_HISTORY, "?per_page=3").await;

    for value in ["1", "5", "9223372036854775807"] {
        let answer = get(
            &app,
            &alice,
            V2_HISTORY,
            &format!("?per_page=3&before_id={value}"),
        )
        .await;
        assert_eq!(answer.body, plain.body, "before_id={value}");
    }
}

#[tokio::test]
async fn the_document_lists_before_id_on_exactly_the_endpoints_that_take_it() {
    let app = spawn_app().await;
    let doc = app
        .send(app.request(reqwest::Method::GET, "/openapi.json"))
        .await
        .json();

    let paths = doc["paths"].as_object().unwrap();
    let with_cursor: Vec<&str> = paths
        .iter()
        .filter(|(_, item)| {
            item.as_object().unwrap().values().any(|op| {
                op["parameters"]
                    .as_array()
                    .is_some_and(|ps| ps.iter().any(|p| p["name"] == "before_id"))
            })
        })
        .map(|(path, _)| path.as_str())
        .collect();
    assert_eq!(with_cursor, CURSOR_ENDPOINTS);
    for path in CURSOR_ENDPOINTS {
        let parameter = paths[path]["get"]["parameters"]
            .as_array()
            .unwrap()
            .iter()
            .find(|p| p["name"] == "before_id")
            .unwrap();
        assert_eq!(parameter["in"], "query");
        assert_eq!(parameter["required"], false);
        let schema = &parameter["schema"];
        assert_eq!(schema["minimum"], 1, "{schema}");
        assert_eq!(schema["maximum"], i64::MAX, "{schema}");
        assert_eq!(schema["format"], "int64", "{schema}");
    }
}

// ---------------------------------------------------------------- plans

/// The one statement in `.sqlx/` containing every marker: the text the store
/// sends, byte for byte.
fn sent_statement(markers: &[&str]) -> String {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join(".sqlx");
    let found: Vec<String> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|entry| {
            let text = std::fs::read_to_string(entry.unwrap().path()).unwrap();
            let data: Value = serde_json::from_str(&text).unwrap();
            data["query"].as_str().unwrap().to_owned()
        })
        .filter(|query| markers.iter().all(|m| query.contains(m)))
        .collect();
    assert_eq!(found.len(), 1, "{markers:?} in {found:?}");
    found.into_iter().next().unwrap()
}

/// The SQL for `user`'s token digest, as the history handlers bind it.
fn digest_of(user: &TestUser) -> String {
    format!("sha256(convert_to('{}', 'UTF8'))", user.token)
}

/// The scan node of `table` in an EXPLAIN (FORMAT JSON) plan.
fn scan_of<'a>(node: &'a Value, table: &str) -> Option<&'a Value> {
    if node["Relation Name"] == table {
        return Some(node);
    }
    node["Plans"]
        .as_array()?
        .iter()
        .find_map(|child| scan_of(child, table))
}

/// `count` rows for `user`, every `every`-th row in id order, the rows in
/// between `filler`'s (each user's rows a chain of 1-rupiah topups).
async fn insert_history(app: &TestApp, user: &TestUser, filler: &TestUser, count: i64, every: i64) {
    sqlx::query(
        "insert into mutations (user_id, deposit_id, type, action, amount, initial_balance,
                                final_balance, idempotency_key)
         select case when g % $5 = 0 then $1 else $3 end,
                case when g % $5 = 0 then $2 else $4 end,
                'Deposit::Credit', 'topup', 1,
                case when g % $5 = 0 then g / $5 - 1 else g - g / $5 - 1 end,
                case when g % $5 = 0 then g / $5 else g - g / $5 end,
                'plan-' || $1 || '-' || $3 || '-' || g
         from generate_series(1, $6 * $5) g
         order by g",
    )
    .bind(user.id)
    .bind(user.deposit_id)
    .bind(filler.id)
    .bind(filler.deposit_id)
    .bind(every)
    .bind(count)
    .execute(&app.pool)
    .await
    .unwrap();
}

#[tokio::test]
async fn any_depth_walks_the_users_index_from_the_cursor_in_custom_and_generic_plans() {
    // Arrange: a heavy user whose 12,000 rows all lie below 12,000 newer
    // rows of someone else (walking the primary key backwards from the top
    // would pass them all), and a heavy user whose 12,000 rows alternate
    // with another's. The planner sees each heavy user as a large share of
    // the table, which is when it is tempted to walk the primary key.
    let app = spawn_app().await;
    let (dormant, newer, active, neighbour) = (
        app.create_user().await,
        app.create_user().await,
        app.create_user().await,
        app.create_user().await,
    );
    insert_history(&app, &dormant, &dormant, 12_000, 1).await;
    insert_history(&app, &newer, &newer, 12_000, 1).await;
    insert_history(&app, &active, &neighbour, 12_000, 2).await;
    sqlx::query("analyze mutations")
        .execute(&app.pool)
        .await
        .unwrap();
    let depth = |user: &TestUser, depth: i64| {
        let (pool, user_id) = (app.pool.clone(), user.id);
        async move {
            sqlx::query_scalar::<_, i64>(
                "select id from mutations where user_id = $1 order by id desc offset $2 limit 1",
            )
            .bind(user_id)
            .bind(depth)
            .fetch_one(&pool)
            .await
            .unwrap()
        }
    };
    let v1 = sent_statement(&["select id as", "from mutations where user_id between"]);
    let v2 = sent_statement(&["from deposits d", "left join lateral"]);
    // (what, user, newest id the page may show)
    let cases = [
        ("dormant heavy user, page 1", &dormant, i64::MAX),
        (
            "dormant heavy user, cursor at depth 10,000",
            &dormant,
            depth(&dormant, 10_000).await - 1,
        ),
        ("active heavy user, page 1", &active, i64::MAX),
        (
            "active heavy user, cursor at depth 10,000",
            &active,
            depth(&active, 10_000).await - 1,
        ),
    ];
    // A connection of its own: its settings and statements die with it.
    let mut conn = app.pool.acquire().await.unwrap().detach();
    for (name, statement) in [("v1", &v1), ("v2", &v2)] {
        sqlx::query(&format!(
            "prepare {name}(int8, int8, int8, int8, bytea) as {statement}"
        ))
        .execute(&mut conn)
        .await
        .unwrap();
    }

    for mode in ["force_custom_plan", "force_generic_plan"] {
        sqlx::query(&format!("set plan_cache_mode = {mode}"))
            .execute(&mut conn)
            .await
            .unwrap();
        for name in ["v1", "v2"] {
            for (case, user, newest) in &cases {
                // Act
                let plan: Value = sqlx::query_scalar(&format!(
                    "explain (analyze, format json) execute {name}({}, {newest}, 10, 0, {})",
                    user.id,
                    digest_of(user)
                ))
                .fetch_one(&mut conn)
                .await
                .unwrap();

                // Assert: the user's index, starting at the cursor: ten index
                // entries read for ten rows shown, nothing filtered out.
                let scan = scan_of(&plan[0]["Plan"], "mutations")
                    .unwrap_or_else(|| panic!("{mode} {name} {case}: {plan}"));
                let what = format!("{mode} {name} {case}: {scan}");
                assert_eq!(scan["Node Type"], "Index Scan", "{what}");
                assert_eq!(scan["Index Name"], "mutations_user_id_id", "{what}");
                assert!(
                    scan["Index Cond"].as_str().unwrap().contains("(id <= "),
                    "{what}"
                );
                assert_eq!(scan["Filter"], Value::Null, "{what}");
                assert_eq!(scan["Actual Rows"], 10, "{what}");
            }
        }
    }
}

#[tokio::test]
async fn a_deep_withdrawal_cursor_walks_the_users_index_too() {
    // Arrange: 3,000 old cancelled withdrawals of one user under 3,000 newer
    // ones of another.
    let app = spawn_app().await;
    let (heavy, newer) = (app.create_user().await, app.create_user().await);
    for user in [&heavy, &newer] {
        let account = app.add_bank_account(user).await;
        sqlx::query(
            "insert into withdrawals (user_id, deposit_id, bank_account_id, amount, state,
                                      local_day, cancelled_at)
             select $1, $2, $3, 1, 'cancelled', date '2000-01-01' + g, now()
             from generate_series(1, 3000) g",
        )
        .bind(user.id)
        .bind(user.deposit_id)
        .bind(account)
        .execute(&app.pool)
        .await
        .unwrap();
    }
    sqlx::query("analyze withdrawals")
        .execute(&app.pool)
        .await
        .unwrap();
    let statement = sent_statement(&["from withdrawals where user_id between"]);
    let ids: Vec<i64> =
        sqlx::query_scalar("select id from withdrawals where user_id = $1 order by id desc")
            .bind(heavy.id)
            .fetch_all(&app.pool)
            .await
            .unwrap();
    let mut conn = app.pool.acquire().await.unwrap().detach();
    sqlx::query(&format!(
        "prepare page(int8, int8, int8, int8, bytea) as {statement}"
    ))
    .execute(&mut conn)
    .await
    .unwrap();

    for mode in ["force_custom_plan", "force_generic_plan"] {
        sqlx::query(&format!("set plan_cache_mode = {mode}"))
            .execute(&mut conn)
            .await
            .unwrap();
        for newest in [i64::MAX, ids[2_500] - 1] {
            // Act
            let plan: Value = sqlx::query_scalar(&format!(
                "explain (analyze, format json) execute page({}, {newest}, 10, 0, {})",
                heavy.id,
                digest_of(&heavy)
            ))
            .fetch_one(&mut conn)
            .await
            .unwrap();

            // Assert
            let scan = scan_of(&plan[0]["Plan"], "withdrawals").unwrap();
            let what = format!("{mode} newest {newest}: {scan}");
            assert_eq!(scan["Index Name"], "withdrawals_user_id_id", "{what}");
            assert_eq!(scan["Filter"], Value::Null, "{what}");
            assert_eq!(scan["Actual Rows"], 10, "{what}");
        }
    }
}
