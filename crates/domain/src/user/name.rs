//! A person's display name.

use crate::validation::{FieldError, single_line};

/// A trimmed display name of 1 to 200 characters without control characters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FullName(String);

impl FullName {
    /// Longest accepted name, in characters.
    pub const MAX_CHARS: usize = 200;

    /// Parses a name.
    ///
    /// # Errors
    /// `length` when empty after trimming or too long; `format` on control characters.
    pub fn parse(raw: &str) -> Result<Self, FieldError> {
        single_line("full_name", raw, Self::MAX_CHARS).map(Self)
    }

    /// The name.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Builds a name from a stored value. No validation.
    pub fn from_trusted(value: String) -> Self {
        Self(value)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_name_is_trimmed_and_bounded() {
        assert_eq!(FullName::parse("  Ada Lovelace ").unwrap().as_str(), "Ada Lovelace");
        assert!(FullName::parse("   ").is_err());
        assert!(FullName::parse(&"é".repeat(200)).is_ok());
        assert!(FullName::parse(&"é".repeat(201)).is_err());
        assert!(FullName::parse("Ada\u{0}").is_err());
    }
}
