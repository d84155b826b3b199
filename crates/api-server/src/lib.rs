//! The `rivet` application: configuration, telemetry, wiring and the CLI.
//! It holds no business rules; it connects Rivet's library crates.
//!
//! [`startup::Application::build`] is the one way to start the server, used
//! by `rivet serve` and by the end-to-end tests alike.

pub mod cli;
mod metrics_sources;
mod protection;
mod secret;
mod sections;
pub mod settings;
pub mod startup;
pub mod telemetry;
pub mod worker;

pub use settings::{RunEnv, Settings, Sources};
pub use startup::Application;
