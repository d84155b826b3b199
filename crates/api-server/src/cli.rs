//! The command line: `rivet [serve]`, `rivet migrate`, `rivet user create`,
//! `rivet config check`.

use crate::startup::{self, Application, StartupError};
use clap::{Parser, Subcommand, ValueEnum};
use rivet_app::settings::{Settings, SettingsError};
use rivet_domain::Role;
use rivet_domain::accounts::Registration;
use tracing::info;

/// Rivet: a production-grade REST backend.
#[derive(Debug, Parser)]
#[command(name = "rivet", version, about)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Option<Command>,
}

/// What to do (default: serve).
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Serve the HTTP API (the default).
    Serve,
    /// Apply pending database migrations and exit.
    Migrate,
    /// Print the OpenAPI document (JSON) and exit.
    Openapi,
    /// Run background jobs (email, purges) without serving HTTP, until SIGINT/SIGTERM.
    Worker,
    /// Manage user accounts.
    #[command(subcommand)]
    User(UserCommand),
    /// Inspect the configuration.
    #[command(subcommand)]
    Config(ConfigCommand),
}

/// `rivet user ...`
#[derive(Debug, Subcommand)]
pub enum UserCommand {
    /// Create an account (use `--role admin` for the first administrator).
    Create {
        #[arg(long)]
        email: String,
        /// The password; read from RIVET_USER_PASSWORD when omitted.
        #[arg(long, env = "RIVET_USER_PASSWORD", hide_env_values = true)]
        password: String,
        #[arg(long, value_enum, default_value_t = RoleArg::User)]
        role: RoleArg,
        #[arg(long)]
        full_name: Option<String>,
    },
}

/// `rivet config ...`
#[derive(Debug, Subcommand)]
pub enum ConfigCommand {
    /// Print the effective configuration (secrets masked); fail if it is invalid.
    Check,
}

/// A role on the command line.
#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum RoleArg {
    User,
    Manager,
    Admin,
}

impl From<RoleArg> for Role {
    fn from(r: RoleArg) -> Self {
        match r {
            RoleArg::User => Role::User,
            RoleArg::Manager => Role::Manager,
            RoleArg::Admin => Role::Admin,
        }
    }
}

/// Why a command failed; `main` prints it on one line and exits non-zero.
#[derive(Debug, thiserror::Error)]
pub enum CliError {
    #[error(transparent)]
    Settings(#[from] SettingsError),
    #[error(transparent)]
    Startup(#[from] StartupError),
    #[error("{0}")]
    Command(String),
    #[error("server error: {0}")]
    Io(#[from] std::io::Error),
}

/// Loads settings, installs logging and runs the command.
///
/// # Errors
/// See [`CliError`].
pub async fn run(cli: Cli) -> Result<(), CliError> {
    if matches!(cli.command, Some(Command::Openapi)) {
        // Needs no configuration or database: the document is compiled in.
        let json = rivet_http::openapi::document().to_pretty_json().map_err(|e| CliError::Command(e.to_string()))?;
        println!("{json}");
        return Ok(());
    }
    let settings = Settings::load(&crate::process_sources()?)?;
    crate::telemetry::init(&settings.log);
    for key in &settings.unknown_keys {
        tracing::warn!(key = %key, "ignoring unknown configuration key");
    }
    match cli.command.unwrap_or(Command::Serve) {
        Command::Serve => serve(&settings).await,
        Command::Openapi => Ok(()),
        Command::Worker => work(&settings).await,
        Command::Migrate => {
            let (applied, backend) = rivet_app::migrate(&settings).await.map_err(StartupError::from)?;
            println!("applied {} migration(s) to the {backend} database", applied.len());
            Ok(())
        }
        Command::User(UserCommand::Create { email, password, role, full_name }) => {
            let services = rivet_app::Services::build(&settings).await.map_err(StartupError::from)?;
            let user = services
                .accounts
                .create(Registration { email, password, full_name }, role.into())
                .await
                .map_err(|e| CliError::Command(describe(&e)))?;
            println!("created {} {} ({})", user.role, user.email, user.id);
            Ok(())
        }
        Command::Config(ConfigCommand::Check) => {
            let json = serde_json::to_string_pretty(&settings).map_err(|e| CliError::Command(e.to_string()))?;
            println!("{json}");
            Ok(())
        }
    }
}

fn describe(e: &rivet_domain::Error) -> String {
    match e {
        rivet_domain::Error::Validation(v) => format!("invalid input: {v}"),
        other => other.to_string(),
    }
}

async fn serve(settings: &Settings) -> Result<(), CliError> {
    let app = Application::build(settings).await?;
    let url = format!("http://{}:{}", settings.server.host, app.port());
    let database = app.services().db.backend().name();
    info!(url = %url, database, env = ?settings.env, "Rivet is listening on {url} (health: {url}/health/ready)");
    app.run_until_stopped().await?;
    info!("Rivet stopped");
    Ok(())
}

async fn work(settings: &Settings) -> Result<(), CliError> {
    let services = rivet_app::Services::build(settings).await.map_err(StartupError::from)?;
    let worker = startup::worker(settings, &services);
    let (stop, stopped) = tokio::sync::watch::channel(false);
    let running = tokio::spawn(worker.run(stopped));
    startup::shutdown_signal().await;
    info!("stopping the worker: running jobs finish or return to the queue");
    let _ = stop.send(true);
    running.await.map_err(|e| CliError::Command(format!("the worker ended abnormally: {e}")))?;
    services.db.close();
    Ok(())
}
