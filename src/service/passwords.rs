//! argon2id hashing, off the async runtime and bounded in concurrency: a
//! burst of logins must not starve the executor or exhaust memory.

use std::sync::Arc;

use argon2::{
    password_hash::{rand_core::OsRng, PasswordHash, PasswordHasher, PasswordVerifier, SaltString},
    Argon2,
};
use tokio::sync::Semaphore;
use tracing::Instrument;

use super::ServiceError;

#[derive(Clone)]
pub struct Passwords {
    permits: Arc<Semaphore>,
}

impl Default for Passwords {
    fn default() -> Self {
        Self::new()
    }
}

impl Passwords {
    /// One hash at a time per core: each takes ~19 MiB and a core for tens of
    /// milliseconds, so more would only queue inside the blocking pool.
    pub fn new() -> Self {
        let cores = std::thread::available_parallelism().map_or(2, |n| n.get());
        Self {
            permits: Arc::new(Semaphore::new(cores)),
        }
    }

    pub async fn hash(&self, password: String) -> Result<String, ServiceError> {
        self.run(move || {
            let salt = SaltString::generate(&mut OsRng);
            Argon2::default()
                .hash_password(password.as_bytes(), &salt)
                .map(|hash| hash.to_string())
                .map_err(|e| ServiceError::Hashing(Box::new(e)))
        })
        .await?
    }

    /// False for a wrong password or an unreadable stored hash.
    pub async fn verify(&self, password: String, phc: String) -> Result<bool, ServiceError> {
        self.run(move || {
            PasswordHash::new(&phc).is_ok_and(|parsed| {
                Argon2::default()
                    .verify_password(password.as_bytes(), &parsed)
                    .is_ok()
            })
        })
        .await
    }

    async fn run<T: Send + 'static>(
        &self,
        work: impl FnOnce() -> T + Send + 'static,
    ) -> Result<T, ServiceError> {
        // The permit travels into the blocking task: a request dropped
        // mid-hash (a timeout, a disconnect) must not free its slot while
        // the hash still runs.
        let wait = crate::metrics::hash_wait();
        let permit = self
            .permits
            .clone()
            .acquire_owned()
            .await
            .map_err(|e| ServiceError::Hashing(Box::new(e)))?;
        drop(wait);
        let span = tracing::Span::current();
        tokio::task::spawn_blocking(move || {
            let _permit = permit;
            span.in_scope(work)
        })
        .in_current_span()
        .await
        .map_err(|e| ServiceError::Hashing(Box::new(e)))
    }
}
