//! Logging: human-readable in development, one JSON object per line in
//! production. The level comes from `RUST_LOG` when set, else `[log] level`.
//! Request fields (method, route, status, latency, request id, user id) come
//! from the request span, so every line logged while serving a request
//! carries them.

use rivet_app::settings::{LogFormat, LogSettings};
use tracing_subscriber::EnvFilter;

/// Installs the global subscriber. A second call (tests) changes nothing.
pub fn init(settings: &LogSettings) {
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(&settings.level));
    let ansi = std::io::IsTerminal::is_terminal(&std::io::stderr());
    let builder = tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr).with_ansi(ansi);
    let _ = match settings.format {
        LogFormat::Json => builder.json().flatten_event(true).with_current_span(true).with_span_list(false).try_init(),
        LogFormat::Pretty => builder.with_target(false).try_init(),
    };
}
