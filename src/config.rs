//! Configuration from the environment (and `./.env`), with the SPEC's defaults.

use std::{net::SocketAddr, path::PathBuf, time::Duration};

use chrono_tz::Tz;

/// A secret that never shows in `Debug` output or logs.
#[derive(Clone)]
pub struct Secret(String);

impl Secret {
    pub fn new(value: impl Into<String>) -> Self {
        Self(value.into())
    }
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Secret(…)")
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogFormat {
    Human,
    Json,
}

#[derive(Debug, Clone)]
pub struct Config {
    /// `None`: use the embedded cluster under `data_dir`.
    pub database_url: Option<Secret>,
    pub addr: SocketAddr,
    /// `DOMPET_ADMIN_TOKEN`; `None` keeps the operator API off.
    pub operator_token: Option<Secret>,
    pub timezone: Tz,
    pub withdrawal_fee: i64,
    /// Hours a pending top-up waits for its transfer (SPEC §5.3).
    pub topup_ttl_hours: i32,
    pub migrate: bool,
    pub log_format: LogFormat,
    pub data_dir: PathBuf,
    pub request_timeout: Duration,
    pub db_max_connections: u32,
    /// `DOMPET_DB_READ_CONNECTIONS`: the read pool's size.
    pub db_read_connections: u32,
    /// `DOMPET_METRICS`: serve `/metrics` on the public listener.
    pub metrics_public: bool,
    /// `DOMPET_METRICS_ADDR`: serve `/metrics` on a listener of its own.
    pub metrics_addr: Option<SocketAddr>,
    /// `DOMPET_ACCESS_LOG`: one log line per request (off by default).
    pub access_log: bool,
    /// `DOMPET_READ_DATABASE_URL`: streaming replicas for history reads.
    pub read_database_urls: Vec<Secret>,
    /// `DOMPET_REPLICA_MAX_LAG_SECS`: a replica further behind is skipped.
    pub replica_max_lag: Duration,
    /// `DOMPET_DB_STATEMENT_CACHE`: prepared statements kept per connection;
    /// 0 behind a PgBouncer that cannot track them (transaction pooling).
    pub db_statement_cache: usize,
    /// `DOMPET_DB_POOLER=pgbouncer` (or `DOMPET_DB_STATEMENT_CACHE=0`): a
    /// transaction-mode pooler sits in front of PostgreSQL, so reads run
    /// inside a transaction too (a `BEGIN` and a `COMMIT` more each); off by
    /// default, where a read is one round trip.
    pub db_transaction_pooler: bool,
    /// `DOMPET_MIGRATE_DATABASE_URL`: the owner role's URL, for migrations
    /// and the runtime role's grants; `DATABASE_URL` is then the runtime role.
    pub migrate_database_url: Option<Secret>,
    /// `DOMPET_ALLOW_PRIVILEGED_ROLE`: start even when `DATABASE_URL`'s role
    /// could rewrite the ledger (logged as an error at every start).
    pub allow_privileged_role: bool,
    /// `DOMPET_PRUNE_INTERVAL_SECS`: time between two retention passes.
    pub prune_interval: Duration,
}

/// Splits a list of `postgres://` URLs joined by commas. Only a comma that
/// starts another URL splits, so a comma inside a password stays put.
pub fn split_urls(list: &str) -> Vec<String> {
    let mut urls: Vec<String> = Vec::new();
    for piece in list.split(',') {
        let starts_url = ["postgres://", "postgresql://"]
            .iter()
            .any(|scheme| piece.trim_start().starts_with(scheme));
        match urls.last_mut() {
            Some(last) if !starts_url => {
                last.push(',');
                last.push_str(piece);
            }
            _ => urls.push(piece.trim().to_owned()),
        }
    }
    urls.retain(|u| !u.is_empty());
    urls
}

#[derive(Debug, thiserror::Error)]
#[error("invalid {name}={value:?}: {reason}")]
pub struct ConfigError {
    name: &'static str,
    value: String,
    reason: &'static str,
}

impl Config {
    /// Reads `./.env` (if present) and then the process environment, which
    /// wins over the file.
    pub fn from_env() -> Result<Self, ConfigError> {
        // Only the working directory's file: `dotenvy::dotenv()` would also
        // take one from any parent directory (/tmp, /home), where another
        // local user could plant DOMPET_ADMIN_TOKEN or DOMPET_PG_BIN.
        let _ = dotenvy::from_path(".env");
        Self::from_lookup(|name| std::env::var(name).ok())
    }

    pub fn from_lookup(get: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let get = |name: &str| get(name).filter(|v| !v.trim().is_empty());
        let fail = |name, value: String, reason| ConfigError {
            name,
            value,
            reason,
        };
        let seconds = |name: &'static str, default: u64| match get(name) {
            None => Ok(Duration::from_secs(default)),
            Some(v) => match v.parse::<u64>() {
                Ok(secs) if secs > 0 => Ok(Duration::from_secs(secs)),
                _ => Err(fail(name, v, "expected seconds ≥ 1")),
            },
        };
        let count = |name: &'static str, default: u32| match get(name) {
            None => Ok(default),
            Some(v) => match v.parse::<u32>() {
                Ok(n) if n > 0 => Ok(n),
                _ => Err(fail(name, v, "expected a number ≥ 1")),
            },
        };
        let addr = match get("DOMPET_ADDR") {
            Some(v) => v
                .parse()
                .map_err(|_| fail("DOMPET_ADDR", v, "expected host:port, e.g. 127.0.0.1:8080"))?,
            None => SocketAddr::from(([127, 0, 0, 1], 8080)),
        };
        let timezone = match get("DOMPET_TIMEZONE") {
            Some(v) => v
                .parse()
                .map_err(|_| fail("DOMPET_TIMEZONE", v, "expected an IANA zone name"))?,
            None => chrono_tz::Asia::Jakarta,
        };
        let withdrawal_fee = match get("DOMPET_WITHDRAWAL_FEE") {
            Some(v) => match v.parse::<i64>() {
                Ok(fee) if fee >= 0 => fee,
                _ => {
                    return Err(fail(
                        "DOMPET_WITHDRAWAL_FEE",
                        v,
                        "expected a whole number ≥ 0",
                    ))
                }
            },
            None => 0,
        };
        let topup_ttl_hours = match get("DOMPET_TOPUP_TTL_HOURS") {
            Some(v) => match v.parse::<i32>() {
                Ok(hours) if (1..=8760).contains(&hours) => hours,
                _ => {
                    return Err(fail(
                        "DOMPET_TOPUP_TTL_HOURS",
                        v,
                        "expected whole hours from 1 to 8760",
                    ))
                }
            },
            None => 48,
        };
        let flag = |name: &'static str, default: bool| match get(name)
            .as_deref()
            .map(str::to_ascii_lowercase)
        {
            None => Ok(default),
            Some(v) if matches!(v.as_str(), "true" | "1" | "yes") => Ok(true),
            Some(v) if matches!(v.as_str(), "false" | "0" | "no") => Ok(false),
            Some(v) => Err(fail(name, v, "expected true or false")),
        };
        let metrics_public = flag("DOMPET_METRICS", false)?;
        let access_log = flag("DOMPET_ACCESS_LOG", false)?;
        let metrics_addr = match get("DOMPET_METRICS_ADDR") {
            Some(v) => Some(v.parse().map_err(|_| {
                fail(
                    "DOMPET_METRICS_ADDR",
                    v,
                    "expected host:port, e.g. 127.0.0.1:9090",
                )
            })?),
            None => None,
        };
        let migrate = flag("DOMPET_MIGRATE", true)?;
        let log_format = match get("DOMPET_LOG_FORMAT").as_deref() {
            None | Some("human") => LogFormat::Human,
            Some("json") => LogFormat::Json,
            Some(v) => {
                return Err(fail(
                    "DOMPET_LOG_FORMAT",
                    v.into(),
                    "expected human or json",
                ))
            }
        };
        let request_timeout = seconds("DOMPET_REQUEST_TIMEOUT_SECS", 30)?;
        // A read is one short statement, so a read connection is busy
        // only while PostgreSQL works on it: a few per database core
        // keep it busy. More only add runnable backends; on the 2-core
        // bench machine 8 or 12 for 32 concurrent reads had statements
        // stalled for seconds (p99 50-900 ms), 4 and 6 none, at the same
        // throughput (bench/DIAGNOSIS.md §8).
        let db_read_connections = count("DOMPET_DB_READ_CONNECTIONS", 4)?;
        // 12, not more: on the 2-core benchmark machine 20 or 32
        // backends for 32 concurrent requests bought no throughput, and
        // every such run had statements stalled 1-5 s (backends left
        // runnable but unscheduled), one run in eleven with 4-12; 4 and 8
        // cost dompet CPU queueing for connections (bench/DIAGNOSIS.md §7).
        let db_max_connections = count("DOMPET_DB_MAX_CONNECTIONS", 12)?;
        let replica_max_lag = seconds("DOMPET_REPLICA_MAX_LAG_SECS", 5)?;
        let db_statement_cache = match get("DOMPET_DB_STATEMENT_CACHE") {
            Some(v) => v
                .parse::<usize>()
                .map_err(|_| fail("DOMPET_DB_STATEMENT_CACHE", v, "expected a number ≥ 0"))?,
            None => 100,
        };
        let db_transaction_pooler = match get("DOMPET_DB_POOLER").as_deref() {
            None | Some("" | "none") => db_statement_cache == 0,
            Some("pgbouncer") => true,
            Some(v) => {
                return Err(fail(
                    "DOMPET_DB_POOLER",
                    v.into(),
                    "expected none or pgbouncer",
                ))
            }
        };
        let read_database_urls: Vec<Secret> = get("DOMPET_READ_DATABASE_URL")
            .map(|list| split_urls(&list).into_iter().map(Secret::new).collect())
            .unwrap_or_default();
        for url in &read_database_urls {
            if url
                .expose()
                .parse::<sqlx::postgres::PgConnectOptions>()
                .is_err()
            {
                return Err(fail(
                    "DOMPET_READ_DATABASE_URL",
                    "…".into(),
                    "expected postgres:// URLs joined by commas",
                ));
            }
        }
        let operator_token = match get("DOMPET_ADMIN_TOKEN").map(|t| t.trim().to_owned()) {
            Some(token) if token.chars().count() < 16 => {
                return Err(fail(
                    "DOMPET_ADMIN_TOKEN",
                    "…".into(),
                    "must be at least 16 characters",
                ))
            }
            token => token.map(Secret::new),
        };
        let prune_interval = seconds("DOMPET_PRUNE_INTERVAL_SECS", 600)?;
        Ok(Self {
            migrate_database_url: get("DOMPET_MIGRATE_DATABASE_URL").map(Secret::new),
            allow_privileged_role: flag("DOMPET_ALLOW_PRIVILEGED_ROLE", false)?,
            prune_interval,
            database_url: get("DATABASE_URL").map(Secret::new),
            addr,
            operator_token,
            timezone,
            withdrawal_fee,
            topup_ttl_hours,
            migrate,
            log_format,
            data_dir: get("DOMPET_DATA_DIR")
                .map_or_else(|| PathBuf::from(".dompet"), PathBuf::from),
            request_timeout,
            db_max_connections,
            db_read_connections,
            metrics_public,
            metrics_addr,
            access_log,
            read_database_urls,
            replica_max_lag,
            db_statement_cache,
            db_transaction_pooler,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_match_the_spec() {
        let config = Config::from_lookup(|_| None).unwrap();
        assert_eq!(config.addr.to_string(), "127.0.0.1:8080");
        assert_eq!(config.timezone, chrono_tz::Asia::Jakarta);
        assert_eq!(config.withdrawal_fee, 0);
        assert_eq!(config.topup_ttl_hours, 48);
        assert!(config.migrate);
        assert!(config.database_url.is_none() && config.operator_token.is_none());
        assert!(!config.db_transaction_pooler);
        assert!(!config.metrics_public && config.metrics_addr.is_none() && !config.access_log);
    }

    #[test]
    fn metrics_and_access_log_are_switched_by_name() {
        let config = Config::from_lookup(|n| match n {
            "DOMPET_METRICS" => Some("TRUE".into()),
            "DOMPET_METRICS_ADDR" => Some("127.0.0.1:9090".into()),
            "DOMPET_ACCESS_LOG" => Some("1".into()),
            _ => None,
        })
        .unwrap();
        assert!(config.metrics_public && config.access_log);
        assert_eq!(config.metrics_addr.unwrap().to_string(), "127.0.0.1:9090");
        for (name, value) in [
            ("DOMPET_METRICS", "maybe"),
            ("DOMPET_METRICS_ADDR", "9090"),
            ("DOMPET_ACCESS_LOG", "on?"),
        ] {
            let err = Config::from_lookup(|n| (n == name).then(|| value.into())).unwrap_err();
            assert!(err.to_string().contains(name), "{err}");
        }
    }

    #[test]
    fn rejects_bad_values_with_the_variable_name() {
        let err = Config::from_lookup(|n| (n == "DOMPET_WITHDRAWAL_FEE").then(|| "-1".into()))
            .unwrap_err();
        assert!(err.to_string().contains("DOMPET_WITHDRAWAL_FEE"));
    }

    #[test]
    fn the_two_pools_are_sized_apart() {
        let config = Config::from_lookup(|_| None).unwrap();
        assert_eq!(
            (config.db_max_connections, config.db_read_connections),
            (12, 4)
        );
        let config =
            Config::from_lookup(|n| (n == "DOMPET_DB_READ_CONNECTIONS").then(|| "6".into()))
                .unwrap();
        assert_eq!(
            (config.db_max_connections, config.db_read_connections),
            (12, 6)
        );
        for bad in ["0", "-1", "four"] {
            let err = Config::from_lookup(|n| {
                (n == "DOMPET_DB_READ_CONNECTIONS").then(|| bad.to_owned())
            })
            .unwrap_err();
            assert!(
                err.to_string().contains("DOMPET_DB_READ_CONNECTIONS"),
                "{bad:?}"
            );
        }
    }

    #[test]
    fn a_short_admin_token_is_refused_without_echoing_it() {
        let err =
            Config::from_lookup(|n| (n == "DOMPET_ADMIN_TOKEN").then(|| "short-secret".into()))
                .unwrap_err()
                .to_string();
        assert!(
            err.contains("at least 16") && !err.contains("short-secret"),
            "{err}"
        );
    }

    #[test]
    fn url_lists_split_only_where_a_url_starts() {
        assert_eq!(
            split_urls("postgres://a:p,w@h1/db, postgresql://b@h2:5433/db"),
            ["postgres://a:p,w@h1/db", "postgresql://b@h2:5433/db"]
        );
        assert_eq!(split_urls("postgres://h/db"), ["postgres://h/db"]);
    }

    #[test]
    fn the_runtime_role_check_is_on_and_pruning_runs_every_ten_minutes_by_default() {
        let config = Config::from_lookup(|_| None).unwrap();
        assert!(!config.allow_privileged_role && config.migrate_database_url.is_none());
        assert_eq!(config.prune_interval, Duration::from_secs(600));
        let err = Config::from_lookup(|n| (n == "DOMPET_PRUNE_INTERVAL_SECS").then(|| "0".into()))
            .unwrap_err();
        assert!(err.to_string().contains("DOMPET_PRUNE_INTERVAL_SECS"));
        let err =
            Config::from_lookup(|n| (n == "DOMPET_ALLOW_PRIVILEGED_ROLE").then(|| "maybe".into()))
                .unwrap_err();
        assert!(err.to_string().contains("DOMPET_ALLOW_PRIVILEGED_ROLE"));
    }

    #[test]
    fn secrets_do_not_show_in_debug() {
        let config = Config::from_lookup(|n| {
            (n == "DOMPET_ADMIN_TOKEN").then(|| "hunter2-hunter2-hunter2".into())
        })
        .unwrap();
        assert!(!format!("{config:?}").contains("hunter2"));
    }
}
