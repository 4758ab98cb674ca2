//! Logging through `tracing`: human-readable by default, JSON on request.

use tracing_subscriber::{fmt::MakeWriter, EnvFilter};

use crate::config::LogFormat;

/// Every library's warnings and errors (the database driver's among them),
/// and dompet's own notices. Per-request lines are `DOMPET_ACCESS_LOG`'s.
pub const DEFAULT_FILTER: &str = "warn,dompet=info";

/// Installs the global subscriber. Later calls are ignored, so tests may call
/// it once per app they start. `ansi`: colour codes, for a terminal only.
pub fn init_tracing<W>(format: LogFormat, default_filter: &str, writer: W, ansi: bool)
where
    W: for<'a> MakeWriter<'a> + Send + Sync + 'static,
{
    let filter =
        EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(default_filter));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(writer);
    let _ = match format {
        LogFormat::Human => builder.with_ansi(ansi).try_init(),
        LogFormat::Json => builder
            .json()
            .flatten_event(true)
            .with_span_list(false)
            .try_init(),
    };
}

/// An error and every cause beneath it on one line, for the log entry of a
/// failure that clients only see as a generic answer.
pub fn error_chain(err: &(dyn std::error::Error + 'static)) -> String {
    let mut line = err.to_string();
    let mut source = err.source();
    while let Some(cause) = source {
        line.push_str(": ");
        line.push_str(&cause.to_string());
        source = cause.source();
    }
    line
}

#[cfg(test)]
mod tests {
    use std::{
        io::Write,
        sync::{Arc, Mutex},
    };

    use super::*;

    #[derive(Clone, Default)]
    struct Captured(Arc<Mutex<Vec<u8>>>);

    impl Write for Captured {
        fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(bytes);
            Ok(bytes.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    #[test]
    fn the_default_filter_keeps_the_database_drivers_warnings_but_not_its_chatter() {
        let captured = Captured::default();
        let writer = captured.clone();
        let subscriber = tracing_subscriber::fmt()
            .with_env_filter(EnvFilter::new(DEFAULT_FILTER))
            .with_writer(move || writer.clone())
            .with_ansi(false)
            .finish();
        tracing::subscriber::with_default(subscriber, || {
            tracing::warn!(target: "sqlx::postgres::notice", "there is already a transaction in progress");
            tracing::info!(target: "sqlx::query", "select 1");
            tracing::info!(target: "dompet::cli", "dompet is serving");
            tracing::debug!(target: "dompet::http::telemetry", "per-request detail");
        });
        let log = String::from_utf8(captured.0.lock().unwrap().clone()).unwrap();
        assert!(
            log.contains("there is already a transaction in progress"),
            "{log}"
        );
        assert!(log.contains("dompet is serving"), "{log}");
        assert!(
            !log.contains("select 1") && !log.contains("per-request"),
            "{log}"
        );
    }
}
