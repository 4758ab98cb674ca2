//! Every business rule of dompet. Knows nothing of HTTP: the public API, the
//! internal API and the command line all call the same methods here.

mod auth;
mod error;
mod history;
mod lifecycle;
mod passwords;
pub mod seed;
pub mod text;
mod turns;
mod users;
mod verify;
mod wallet;
mod withdraw;

use std::time::Duration;

use chrono_tz::Tz;
use sqlx::PgPool;

pub use error::ServiceError;
pub use passwords::{Admission, Lane, Passwords};
pub use users::{CreatedUser, NewBankAccount, NewUser};
pub use verify::LedgerReport;
pub use wallet::{Posted, Posting};
pub use withdraw::{Rule, WithdrawOutcome, WithdrawRequest};

/// Page and per-page after the SPEC's defaults and cap are applied.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Page {
    pub page: i64,
    pub per_page: i64,
}

impl Page {
    pub const MAX_PER_PAGE: i64 = 100;

    /// `None` means absent or unusable and takes the default (1 and 10).
    pub fn new(page: Option<i64>, per_page: Option<i64>) -> Self {
        Self {
            page: page.filter(|p| *p >= 1).unwrap_or(1),
            per_page: per_page
                .filter(|p| *p >= 1)
                .unwrap_or(10)
                .min(Self::MAX_PER_PAGE),
        }
    }

    fn limit(self) -> i64 {
        self.per_page
    }

    fn offset(self) -> i64 {
        (self.page - 1).saturating_mul(self.per_page)
    }
}

/// The wait for a wallet's turn unless told otherwise: the lock wait of the
/// default 30-second request timeout.
const DEFAULT_LOCK_WAIT: Duration = Duration::from_secs(3);

/// The service: a pool over the ledger plus the rules' settings.
#[derive(Clone)]
pub struct Dompet {
    pool: PgPool,
    timezone: Tz,
    withdrawal_fee: i64,
    passwords: Passwords,
    turns: turns::WalletTurns,
}

impl Dompet {
    pub fn new(pool: PgPool, timezone: Tz, withdrawal_fee: i64) -> Self {
        Self {
            pool,
            timezone,
            withdrawal_fee,
            passwords: Passwords::new(),
            turns: turns::WalletTurns::new(DEFAULT_LOCK_WAIT),
        }
    }

    /// How long a withdrawal may wait for its wallet's turn in this process,
    /// as the database's `lock_timeout` bounds the wait for the row itself.
    pub fn with_lock_wait(mut self, wait: Duration) -> Self {
        self.turns = turns::WalletTurns::new(wait);
        self
    }

    pub fn timezone(&self) -> Tz {
        self.timezone
    }

    pub fn pool(&self) -> &PgPool {
        &self.pool
    }

    /// Whether the database answers.
    pub async fn ready(&self) -> bool {
        match self.pool.acquire().await {
            Ok(mut conn) => crate::store::health::ping(&mut conn).await.is_ok(),
            Err(_) => false,
        }
    }
}
