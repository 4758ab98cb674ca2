//! dompet: the Bukalapak Dompet API on a PostgreSQL ledger.

pub mod cli;
pub mod config;
pub mod database;
pub mod domain;
pub mod http;
pub mod metrics;
pub mod pgcluster;
pub mod pool;
pub mod service;
pub mod startup;
pub mod store;
pub mod telemetry;
pub mod wire;

/// The ledger schema, embedded in the binary; used by `serve`, `migrate` and the tests.
pub static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations");
