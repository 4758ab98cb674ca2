//! Login (SPEC §5.1): a username or email and a password for a fresh API
//! token, behind a throttle per login name.

use sha2::{Digest, Sha256};
use sqlx::{postgres::types::PgInterval, PgConnection};

use super::{
    tokens::{generate_token, issue_in_tx},
    Dompet, Lane, ServiceError,
};
use crate::{
    domain::UserId,
    store::{login_throttle, users},
};

/// Failed logins of one name within the window that lock it out.
const THROTTLE_FAILURES: i64 = 5;
/// The window failures are counted in, and how long a lockout lasts.
const THROTTLE_MINUTES: i64 = 30;
/// Stale throttle rows each failure removes: more than it can add, so the
/// table never holds much beyond the names that failed recently.
const PRUNE_BATCH: i64 = 100;
/// Login tokens are as long as the seed's.
pub const LOGIN_TOKEN_LEN: usize = 20;
/// Longer names (and names with a NUL) match no user and are not looked up.
const MAX_LOGIN_LEN: usize = 254;

/// An argon2id hash with the parameters of `Argon2::default()`, the ones
/// every stored hash has. An unknown login is verified against it, so it
/// costs what a wrong password costs. Its password is not in the source.
const DUMMY_HASH: &str = "$argon2id$v=19$m=19456,t=2,p=1$GOPqN/W3ESNsDJ7wBWJtUw$Ib2Gp/yy86/xcwPQfoyT/6l+z4OIpGrXZEWbsq3P+/g";

/// The Basic credentials of a login request.
#[derive(Clone)]
pub struct Credentials {
    /// A username, or an email in any case.
    pub login: String,
    pub password: String,
}

impl std::fmt::Debug for Credentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Credentials").finish_non_exhaustive()
    }
}

/// A successful login: who, and the new token (shown only here).
#[derive(Clone)]
pub struct Session {
    pub user_id: UserId,
    /// The display name, or the username when none is set.
    pub user_name: String,
    pub email: String,
    pub omnikey: String,
    pub token: String,
}

impl std::fmt::Debug for Session {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Session")
            .field("user_id", &self.user_id)
            .finish_non_exhaustive()
    }
}

#[derive(Debug, Clone)]
pub enum LoginOutcome {
    LoggedIn(Session),
    /// No such login, a wrong password, or no usable credentials: one answer.
    Invalid,
    /// Too many failures for this login name; nothing was verified.
    Throttled,
}

/// The throttle's key for a login name: SHA-256 of its lower-cased form, so
/// `Demo` and `demo` share a count and no typed name is stored in clear.
pub(super) fn login_key(login: &str) -> Vec<u8> {
    Sha256::digest(login.to_lowercase().as_bytes()).to_vec()
}

fn minutes(n: i64) -> PgInterval {
    PgInterval {
        months: 0,
        days: 0,
        microseconds: n * 60 * 1_000_000,
    }
}

impl Dompet {
    /// Checks the credentials and issues a new token. Every failure costs an
    /// argon2 verify, against a dummy hash when the login names no one, so
    /// neither the answer nor its timing tells whether an account exists.
    #[tracing::instrument(name = "service.login", skip_all)]
    pub async fn login(
        &self,
        credentials: Option<Credentials>,
    ) -> Result<LoginOutcome, ServiceError> {
        let outcome = self.attempt_login(credentials).await;
        crate::metrics::login(match &outcome {
            Ok(LoginOutcome::LoggedIn(_)) => "ok",
            Ok(LoginOutcome::Invalid) => "failed",
            Ok(LoginOutcome::Throttled) => "throttled",
            Err(_) => "error",
        });
        outcome
    }

    async fn attempt_login(
        &self,
        credentials: Option<Credentials>,
    ) -> Result<LoginOutcome, ServiceError> {
        let Some(Credentials { login, password }) = credentials.filter(|c| !c.login.is_empty())
        else {
            // No name to count a failure against; the same work all the same.
            self.passwords
                .verify(
                    Lane::Login(String::new()),
                    String::new(),
                    DUMMY_HASH.to_owned(),
                )
                .await?;
            return Ok(LoginOutcome::Invalid);
        };
        // Each login name waits in its own lane; a flood is shed here,
        // before it costs the database anything.
        let admission = self.passwords.admit(Lane::Login(login.to_lowercase()))?;
        let key = login_key(&login);
        let mut conn = crate::store::begin(&self.pool).await?;
        if login_throttle::is_locked(&mut conn, &key).await? {
            return Ok(LoginOutcome::Throttled);
        }
        let candidate = if login.len() <= MAX_LOGIN_LEN && !login.contains('\0') {
            users::find_for_login(&mut conn, &login).await?
        } else {
            None
        };
        drop(conn);
        let hash = candidate
            .as_ref()
            .map_or(DUMMY_HASH, |c| c.password_hash.as_str());
        let matches = admission.verify(password, hash.to_owned()).await?;
        match candidate.filter(|_| matches) {
            Some(user) => self.open_session(&key, user).await,
            None => {
                let mut tx = crate::store::begin(&self.pool).await?;
                let outcome = count_failure(&mut tx, &key).await?;
                tx.commit().await?;
                self.prune_throttle().await;
                Ok(outcome)
            }
        }
    }

    /// Issues the token for a verified password, unless the name got locked
    /// out or the password replaced while argon2 ran.
    async fn open_session(
        &self,
        key: &[u8],
        user: users::LoginCandidate,
    ) -> Result<LoginOutcome, ServiceError> {
        let token = generate_token(LOGIN_TOKEN_LEN);
        let mut tx = crate::store::begin(&self.pool).await?;
        // Failures of twins that finished first may have locked the name:
        // their verdict stands, and this one is not revealed.
        if login_throttle::lock_row(&mut tx, key).await? {
            return Ok(LoginOutcome::Throttled);
        }
        let profile = users::lock_profile(&mut tx, user.id).await?;
        let Some(profile) = profile.filter(|p| p.password_hash == user.password_hash) else {
            // An operator set a new password meanwhile: the one given is
            // no longer right.
            let outcome = count_failure(&mut tx, key).await?;
            tx.commit().await?;
            return Ok(outcome);
        };
        login_throttle::reset(&mut tx, key).await?;
        issue_in_tx(&mut tx, profile.id, &token).await?;
        tx.commit().await?;
        tracing::info!(user_id = %profile.id, "logged in; token issued");
        Ok(LoginOutcome::LoggedIn(Session {
            user_id: profile.id,
            user_name: profile.user_name,
            email: profile.email,
            omnikey: profile.omnikey,
            token,
        }))
    }

    /// Removes stale throttle rows. Best effort: a failure here must not
    /// turn the login's answer into an error.
    async fn prune_throttle(&self) {
        let pruned = async {
            let mut tx = crate::store::begin(&self.pool).await?;
            let pruned = login_throttle::prune(&mut tx, PRUNE_BATCH).await?;
            tx.commit().await.map(|()| pruned)
        }
        .await;
        if let Err(e) = pruned {
            tracing::warn!(error = %e, "pruning the login throttle failed");
        }
    }
}

/// Counts a failed login for the name, locking it out at the limit. The
/// failure that reaches the limit still answers `Invalid`; the next ones
/// are refused.
async fn count_failure(conn: &mut PgConnection, key: &[u8]) -> Result<LoginOutcome, ServiceError> {
    let window = minutes(THROTTLE_MINUTES);
    match login_throttle::count_failure(conn, key, window).await? {
        None => Ok(LoginOutcome::Throttled),
        Some(failures) => {
            if failures >= THROTTLE_FAILURES {
                login_throttle::lock_out(conn, key, window).await?;
                crate::metrics::lockout("login");
                tracing::warn!("a login name was locked out after repeated failures");
            }
            Ok(LoginOutcome::Invalid)
        }
    }
}

#[cfg(test)]
mod tests {
    use argon2::{password_hash::PasswordHash, Argon2, Params, PasswordVerifier};

    use super::*;

    #[test]
    fn the_dummy_hash_costs_what_a_stored_hash_costs() {
        let dummy = PasswordHash::new(DUMMY_HASH).expect("a PHC string");
        let params = Params::try_from(&dummy).expect("argon2 parameters");
        let default = Argon2::default();
        assert_eq!(dummy.algorithm.as_str(), "argon2id");
        assert_eq!(params.m_cost(), default.params().m_cost());
        assert_eq!(params.t_cost(), default.params().t_cost());
        assert_eq!(params.p_cost(), default.params().p_cost());
        // It is a well-formed hash that argon2 runs against and refuses.
        assert_eq!(
            default.verify_password(b"testing1234", &dummy),
            Err(argon2::password_hash::Error::Password)
        );
    }

    #[test]
    fn login_names_are_counted_without_regard_to_case() {
        assert_eq!(
            login_key("Demo@Dompet.Invalid"),
            login_key("demo@dompet.invalid")
        );
        assert_ne!(login_key("demo"), login_key("demo2"));
        assert_eq!(login_key("x").len(), 32);
    }
}
