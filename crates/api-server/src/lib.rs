//! The `rivet` binary's library: the CLI, telemetry, binding the HTTP
//! listener and graceful shutdown. It holds no business rules and no wiring
//! of its own: [`rivet_app`] builds the object graph from settings, and
//! [`rivet_http`] serves it.
//!
//! [`startup::Application::build`] is the one way to start the server, used
//! by `rivet serve` and by the end-to-end tests alike.

pub mod cli;
mod metrics_sources;
mod protection;
pub mod startup;
pub mod telemetry;

pub use rivet_app::settings::{self, RunEnv, Settings, Sources};
pub use rivet_app::worker;
pub use startup::Application;

/// The sources a server process uses: `RIVET_ENV`, `RIVET_CONFIG_DIR`
/// (default `./config`) and the process environment's `RIVET__*` and
/// `DATABASE_URL`. The binary is the one place that reads the environment.
///
/// # Errors
/// An invalid `RIVET_ENV`.
pub fn process_sources() -> Result<Sources, settings::SettingsError> {
    let env = RunEnv::parse(&std::env::var("RIVET_ENV").unwrap_or_else(|_| "development".into()))?;
    let config_dir = std::env::var_os("RIVET_CONFIG_DIR")
        .map_or_else(|| std::path::PathBuf::from("config"), std::path::PathBuf::from);
    Ok(Sources { env, config_dir, vars: std::env::vars().collect() })
}
