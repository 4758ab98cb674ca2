//! One integration test binary: a real PostgreSQL (a throwaway cluster, or
//! DATABASE_URL's server), the real app on a loopback port, real HTTP.
//! Test modules share only `helpers` (and `money_support`), never each other.

mod helpers;

mod bounded_waits;
mod cli;
mod failover;
mod foundation;
mod fuzz;
mod operator;
mod password_fairness;
mod pgbouncer;
mod public_history;
mod read_pool;
mod replication;
mod text_checks;

mod login;
mod login_throttle;
mod tokens;

mod database_roles;
mod database_unavailable;
mod request_timeout;
mod retention;
mod startup_files;

mod ledger_lifecycle;
mod ledger_postings;
mod ledger_races;
mod ledger_verify;

mod withdraw_accepted;
mod withdraw_bad_input;
mod withdraw_idempotency;
mod withdraw_lockout;
mod withdraw_params;
mod withdraw_races;
mod withdraw_rules;
mod withdraw_twins;

mod finance_payouts;
mod finance_topups;
mod history_cursor;
mod history_v2;
mod history_v2_combined;
mod money_support;
mod postings_pool;
mod topup;

mod operations;
mod startup;
