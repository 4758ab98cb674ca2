//! Logging in and telling which tokens still open the API.

use reqwest::Method;

use super::{Answer, TestApp, MUTATIONS, PUBLIC_UNAUTHORIZED};

/// What the users table holds about a user, for building expected bodies.
pub struct Profile {
    pub username: String,
    pub email: String,
    pub omnikey: String,
}

impl TestApp {
    /// `POST /v2/authenticate.json` with Basic `login:password`.
    pub async fn login(&self, login: &str, password: &str) -> Answer {
        self.send(
            self.request(Method::POST, "/v2/authenticate.json")
                .basic_auth(login, Some(password)),
        )
        .await
    }

    /// `POST /v2/authenticate.json` with this Authorization header, if any.
    pub async fn login_with_header(&self, authorization: Option<&str>) -> Answer {
        let mut request = self.request(Method::POST, "/v2/authenticate.json");
        if let Some(value) = authorization {
            request = request.header("authorization", value);
        }
        self.send(request).await
    }

    /// Logs in and returns the new token; fails the test on a refusal.
    pub async fn login_token(&self, login: &str, password: &str) -> String {
        let answer = self.login(login, password).await;
        assert_eq!(answer.json()["status"], "OK", "{}", answer.body);
        answer.json()["token"].as_str().expect("token").to_owned()
    }

    pub async fn profile(&self, user_id: i64) -> Profile {
        let (username, email, omnikey): (String, String, String) =
            sqlx::query_as("select username, email, omnikey from users where id = $1")
                .bind(user_id)
                .fetch_one(&self.pool)
                .await
                .expect("user row");
        Profile {
            username,
            email,
            omnikey,
        }
    }

    /// Whether `token` opens the user's mutation history (200) or not (401).
    pub async fn token_works(&self, user_id: i64, token: &str) -> bool {
        let answer = self
            .send(
                self.request(Method::GET, MUTATIONS)
                    .basic_auth(user_id, Some(token)),
            )
            .await;
        match answer.status.as_u16() {
            200 => true,
            401 => {
                assert_eq!(answer.body, PUBLIC_UNAUTHORIZED);
                false
            }
            _ => panic!("unexpected answer {answer:?}"),
        }
    }

    pub async fn token_count(&self, user_id: i64) -> i64 {
        sqlx::query_scalar("select count(*) from tokens where user_id = $1")
            .bind(user_id)
            .fetch_one(&self.pool)
            .await
            .expect("count tokens")
    }
}
