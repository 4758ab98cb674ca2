//! Logging through `tracing`: human-readable by default, JSON on request.

use tracing_subscriber::{fmt::MakeWriter, EnvFilter};

use crate::config::LogFormat;

/// Installs the global subscriber. Later calls are ignored, so tests may call
/// it once per app they start.
pub fn init_tracing<W>(format: LogFormat, default_filter: &str, writer: W)
where
    W: for<'a> MakeWriter<'a> + Send + Sync + 'static,
{
    let filter =
        EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(default_filter));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(writer);
    let _ = match format {
        LogFormat::Human => builder.try_init(),
        LogFormat::Json => builder.json().flatten_event(true).try_init(),
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
