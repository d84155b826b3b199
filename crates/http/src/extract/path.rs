//! Path parameters.

use crate::error::{ApiError, Location};
use rivet_domain::ValidationErrors;
use uuid::Uuid;

/// Parses an id path segment.
///
/// # Errors
/// 422 with `location: "path"` when the segment is not a UUID.
pub fn path_id(raw: &str) -> Result<Uuid, ApiError> {
    path_id_named(raw, "id")
}

/// A UUID path segment named `name`, as [`path_id`].
///
/// # Errors
/// 422 `validation_failed` naming `name` when it is not a UUID.
pub fn path_id_named(raw: &str, name: &str) -> Result<Uuid, ApiError> {
    Uuid::parse_str(raw).map_err(|_| ApiError::Invalid {
        location: Location::Path,
        errors: ValidationErrors::single(name, "format", "must be a UUID"),
    })
}
