//! One integration test binary: a real PostgreSQL (a throwaway cluster, or
//! DATABASE_URL's server), the real app on a loopback port, real HTTP.

mod helpers;

mod cli;
mod foundation;
mod history_v2;
mod ledger;
mod money_support;
mod operator;
mod public_history;
mod withdraw;
mod withdraw_races;
