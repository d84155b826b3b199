//! Email addresses: trimmed, lower-cased, and checked for a plausible shape.
//!
//! Deliverability is proven by the verification email, not by a regex; the
//! parser only rejects what can never be an address, so users are not locked
//! out by an over-eager rule.

use crate::validation::FieldError;

/// A normalised email address (trimmed, lower-cased).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Email(String);

impl Email {
    /// Maximum length of an address (RFC 5321 path limit).
    pub const MAX_LEN: usize = 254;

    /// Parses and normalises an address.
    ///
    /// # Errors
    /// A `format` or `length` field error when the input cannot be an address.
    pub fn parse(raw: &str) -> Result<Self, FieldError> {
        let value = raw.trim().to_lowercase();
        let invalid = |msg: &str| Err(FieldError::new("email", "format", msg));
        if value.is_empty() {
            return Err(FieldError::new("email", "required", "must not be empty"));
        }
        if value.chars().count() > Self::MAX_LEN {
            return Err(FieldError::new("email", "length", format!("must be at most {} characters", Self::MAX_LEN)));
        }
        if value.chars().any(|c| c.is_whitespace() || c.is_control()) {
            return invalid("must not contain spaces or control characters");
        }
        let Some((local, domain)) = value.rsplit_once('@') else {
            return invalid("must be an email address like name@example.com");
        };
        if local.is_empty() || local.len() > 64 || local.contains('@') {
            return invalid("must be an email address like name@example.com");
        }
        let labels: Vec<&str> = domain.split('.').collect();
        let label_ok = |l: &&str| {
            !l.is_empty()
                && l.len() <= 63
                && !l.starts_with('-')
                && !l.ends_with('-')
                && l.chars().all(|c| c.is_alphanumeric() || c == '-')
        };
        if labels.len() < 2 || !labels.iter().all(label_ok) {
            return invalid("must have a domain like example.com");
        }
        Ok(Self(value))
    }

    /// The normalised address.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Builds an email from a value already normalised by [`Email::parse`]
    /// (a stored row). No validation.
    pub fn from_trusted(value: String) -> Self {
        Self(value)
    }
}

impl std::fmt::Display for Email {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn an_address_is_trimmed_and_lower_cased() {
        assert_eq!(Email::parse("  Ada@Example.COM ").unwrap().as_str(), "ada@example.com");
    }

    #[test]
    fn addresses_without_a_domain_or_local_part_are_rejected() {
        for bad in ["", "ada", "ada@", "@example.com", "ada@example", "ada@exa mple.com", "a@b@c.com", "ada@-x.com"] {
            assert!(Email::parse(bad).is_err(), "{bad:?} should be rejected");
        }
    }

    #[test]
    fn unicode_domains_and_plus_addressing_are_accepted() {
        assert!(Email::parse("ada+rivet@bücher.example").is_ok());
    }

    proptest! {
        #[test]
        fn parsing_is_idempotent(s in "\\PC{0,80}") {
            if let Ok(e) = Email::parse(&s) {
                prop_assert_eq!(Email::parse(e.as_str()).unwrap(), e);
            }
        }
    }
}
