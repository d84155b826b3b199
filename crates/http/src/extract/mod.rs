//! Strict request extractors. Each turns bad input into an [`ApiError`]
//! with the right status and code, never a framework default.
//!
//! [`ApiError`]: crate::ApiError

mod json;
mod patch;
mod path;
mod principal;
mod query;

pub use json::{Json, read_form};
pub use patch::Patch;
pub use path::{path_id, path_id_named};
pub(crate) use principal::bearer_token;
pub use principal::{API_KEY, Authenticated, MaybePrincipal};
pub use query::Query;

use crate::error::{ApiError, Location};
use rivet_domain::ValidationErrors;

/// Turns a serde error (with the path where it happened) into an API error.
/// Unknown fields get their own code, so clients can tell a typo in a field
/// name from a bad value.
pub fn data_error(location: Location, path: &str, message: &str) -> ApiError {
    if let Some(rest) = message.strip_prefix("unknown field `") {
        // serde_path_to_error's path already ends at the unknown field.
        let name = rest.split('`').next().unwrap_or_default();
        let field = if path.is_empty() || path == "." { name.to_owned() } else { path.to_owned() };
        return ApiError::UnknownField { location, field };
    }
    if let Some(rest) = message.strip_prefix("missing field `") {
        let name = rest.split('`').next().unwrap_or_default();
        let field = if path.is_empty() || path == "." { name.to_owned() } else { format!("{path}.{name}") };
        return ApiError::Invalid { location, errors: ValidationErrors::single(field, "required", "is required") };
    }
    // serde's messages name the expected and the found type; strip position
    // suffixes that mean nothing to a client.
    let cleaned = message.split(" at line ").next().unwrap_or(message).to_owned();
    let field = if path.is_empty() || path == "." { "(root)".to_owned() } else { path.to_owned() };
    ApiError::Invalid { location, errors: ValidationErrors::single(field, "type", cleaned) }
}
