//! One integration test binary: a real PostgreSQL (a throwaway cluster, or
//! DATABASE_URL's server), the real app on a loopback port, real HTTP.

mod helpers;

mod cli;
mod foundation;
mod ledger;
mod login;
mod login_throttle;
mod operator;
mod public_history;
mod tokens;
mod withdraw;
mod withdraw_races;
