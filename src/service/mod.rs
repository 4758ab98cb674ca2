//! Every business rule of dompet. Knows nothing of HTTP: the public API, the
//! internal API and the command line all call the same methods here.

mod auth;
mod error;
mod history;
mod history_v2;
mod lifecycle;
mod login;
mod passwords;
mod payouts;
mod reads;
mod reconcile;
pub mod retention;
pub mod seed;
mod statement;
pub mod text;
mod tokens;
mod topup;
mod turns;
mod users;
mod verify;
mod wallet;
mod withdraw;

use std::time::Duration;

use chrono_tz::Tz;
use sqlx::PgPool;

use crate::database::{
    reader::{Reader, Reads},
    replicas::Replicas,
};

pub use auth::ApiToken;
pub use error::ServiceError;
pub use history_v2::{BalancedHistory, CombinedHistory};
pub use login::{Credentials, LoginOutcome, Session, LOGIN_TOKEN_LEN};
pub use passwords::{Admission, Lane, Passwords};
pub use payouts::Settled;
pub use reconcile::{Ambiguous, Duplicate, InvalidLine, Matched, ReconcileReport, Unmatched};
pub use tokens::{Revoked, MAX_TOKENS_PER_USER};
pub use topup::{TopupOutcome, TopupRequest, TopupRule, MAX_TOPUP, MIN_TOPUP};
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

/// A history cursor: `before_id`, the id of the last row a client already
/// has. A page with a cursor lists only older rows, newest first, and counts
/// `page`/`per_page` from there; the user's `(user_id, id desc)` index starts
/// the walk at the cursor, so any depth costs what page 1 costs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Cursor(i64);

impl Cursor {
    /// `None` for an id no row can have (below 1): no cursor, the way odd
    /// paging values fall back to their defaults.
    pub fn before(id: i64) -> Option<Self> {
        (id >= 1).then_some(Self(id))
    }

    /// The newest id a page may show: every id without a cursor.
    fn newest_id(cursor: Option<Self>) -> i64 {
        cursor.map_or(i64::MAX, |Self(before)| before - 1)
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
    /// How long a top-up request waits for its transfer (SPEC §5.3).
    topup_ttl_hours: i32,
    passwords: Passwords,
    replicas: Replicas,
    turns: turns::WalletTurns,
    /// Where reads on the primary get their connections.
    reads: Reads,
    /// Where back-office postings get theirs (`database::money_tx`): a
    /// ping-free pool as large as the money pool.
    postings: Reads,
}

fn money_connections(pool: &PgPool) -> usize {
    usize::try_from(pool.options().get_max_connections()).unwrap_or(usize::MAX)
}

impl Dompet {
    pub fn new(pool: PgPool, timezone: Tz, withdrawal_fee: i64) -> Self {
        Self {
            timezone,
            withdrawal_fee,
            topup_ttl_hours: Self::DEFAULT_TOPUP_TTL_HOURS,
            passwords: Passwords::new(),
            replicas: Replicas::default(),
            turns: turns::WalletTurns::new(DEFAULT_LOCK_WAIT),
            reads: Reads::beside(&pool, false, Self::DEFAULT_READ_CONNECTIONS),
            postings: Reads::beside(&pool, false, money_connections(&pool)),
            pool,
        }
    }

    /// How long a withdrawal may wait for its wallet's turn in this process,
    /// as the database's `lock_timeout` bounds the wait for the row itself.
    pub fn with_lock_wait(mut self, wait: Duration) -> Self {
        self.turns = turns::WalletTurns::new(wait);
        self
    }

    pub const DEFAULT_TOPUP_TTL_HOURS: i32 = 48;

    /// Pending top-ups expire this many hours after they were requested.
    pub fn with_topup_ttl_hours(mut self, hours: i32) -> Self {
        self.topup_ttl_hours = hours;
        self
    }

    /// Sends history reads to these streaming replicas (SPEC §8).
    pub fn with_replicas(mut self, replicas: Replicas) -> Self {
        self.replicas = replicas;
        self
    }

    /// The read pool's size unless told otherwise (`DOMPET_DB_READ_CONNECTIONS`).
    pub const DEFAULT_READ_CONNECTIONS: usize = 4;

    /// Reads on the primary over at most `connections` of their own; or,
    /// behind a transaction-mode pooler (PgBouncer), every read inside a
    /// transaction of the money pool, so its messages stay on one server
    /// connection. The postings' own pool (as large as the money pool)
    /// follows the same switch.
    pub fn with_reads(mut self, transaction_pooler: bool, connections: usize) -> Self {
        self.reads = Reads::beside(&self.pool, transaction_pooler, connections);
        let postings = money_connections(&self.pool);
        self.postings = Reads::beside(&self.pool, transaction_pooler, postings);
        self
    }

    /// One connection for reads on the primary (see `database::reader`).
    pub(crate) async fn reader(&self) -> Result<Reader, sqlx::Error> {
        self.reads.reader().await
    }

    pub fn reads(&self) -> &Reads {
        &self.reads
    }

    pub fn postings(&self) -> &Reads {
        &self.postings
    }

    pub fn replicas(&self) -> &Replicas {
        &self.replicas
    }

    pub fn timezone(&self) -> Tz {
        self.timezone
    }

    pub fn pool(&self) -> &PgPool {
        &self.pool
    }

    /// Whether the database answers.
    pub async fn ready(&self) -> bool {
        match crate::store::begin(&self.pool).await {
            Ok(mut tx) => {
                crate::store::health::ping(&mut tx).await.is_ok() && tx.commit().await.is_ok()
            }
            Err(_) => false,
        }
    }
}
