//! Rivet's composition root, as a library: settings → database →
//! repositories → use cases → job worker. It knows every adapter
//! (persistence, mail, Redis) and no web framework, so a service can embed
//! all of Rivet's logic — accounts, todos, products, the job queue — and
//! put its own transport in front of it. `rivet serve` is one such user: it
//! mounts `rivet-http` over what [`Services::build`] returns.
//!
//! ```no_run
//! # async fn demo() -> Result<(), Box<dyn std::error::Error>> {
//! use rivet_app::{RunEnv, Services, Settings, Sources};
//!
//! let mut settings = Settings::load(&Sources::compiled(RunEnv::Development, "config"))?;
//! settings.database.url = "sqlite://data/embedded.db".into();
//! let rivet = Services::build(&settings).await?;
//! let input = rivet_domain::accounts::Registration {
//!     email: "ada@example.com".into(),
//!     password: "correct horse battery staple".into(),
//!     full_name: None,
//! };
//! let ada = rivet.accounts.create(input, rivet_domain::Role::User).await?;
//! # Ok(()) }
//! ```
//!
//! Settings are plain typed structs ([`Settings`]); [`Settings::load`]
//! layers the compiled-in defaults, optional TOML files and the variables a
//! caller passes — the library reads no environment of its own.

mod error;
mod secret;
mod sections;
pub mod settings;
mod wiring;
pub mod worker;

pub use error::{Error, Result};
/// The adapter types [`Services`] exposes, for callers that read pool and
/// queue gauges.
pub use rivet_persistence::{Database, JobStore};
pub use settings::{RunEnv, Settings, SettingsError, Sources};
pub use wiring::{Services, blob_store, db_options, migrate, shared_rate_counter, signing_material};
pub use worker::{Worker, WorkerOptions};
