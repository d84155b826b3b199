//! Password policy (NIST SP 800-63B §5.1.1.2): 8 to 128 characters, not a
//! commonly used password, not the account's own email address. No
//! composition rules: they make passwords weaker, not stronger.

use crate::user::Email;
use crate::validation::FieldError;
use std::collections::HashSet;
use std::sync::LazyLock;

static COMMON: LazyLock<HashSet<&'static str>> =
    LazyLock::new(|| include_str!("../../data/common-passwords.txt").lines().filter(|l| !l.is_empty()).collect());

/// A plaintext password that satisfies the policy. Its `Debug` never shows it.
#[derive(Clone)]
pub struct Password(String);

impl Password {
    /// Fewest characters accepted.
    pub const MIN_CHARS: usize = 8;
    /// Most characters accepted (bcrypt sees at most 72 bytes; see `rivet-auth`).
    pub const MAX_CHARS: usize = 128;

    /// Checks a new password against the policy.
    ///
    /// # Errors
    /// `length`, `common_password` or `equals_email`.
    pub fn parse(raw: &str, email: Option<&Email>) -> Result<Self, FieldError> {
        let chars = raw.chars().count();
        if !(Self::MIN_CHARS..=Self::MAX_CHARS).contains(&chars) {
            return Err(FieldError::new(
                "password",
                "length",
                format!("must be {} to {} characters", Self::MIN_CHARS, Self::MAX_CHARS),
            ));
        }
        let lowered = raw.to_lowercase();
        if COMMON.contains(lowered.as_str()) {
            return Err(FieldError::new(
                "password",
                "common_password",
                "is too common; choose a less predictable password",
            ));
        }
        if email.is_some_and(|e| e.as_str() == lowered.trim()) {
            return Err(FieldError::new("password", "equals_email", "must not be your email address"));
        }
        Ok(Self(raw.to_owned()))
    }

    /// The plaintext, for hashing only.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for Password {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Password(<redacted>)")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn length_is_counted_in_characters_not_bytes() {
        assert!(Password::parse("ééééééé", None).is_err());
        assert!(Password::parse("éééééééé", None).is_ok());
        assert!(Password::parse(&"x".repeat(128), None).is_ok());
        assert!(Password::parse(&"x".repeat(129), None).is_err());
    }

    #[test]
    fn common_passwords_are_rejected_whatever_their_case() {
        let err = Password::parse("PassWord", None).unwrap_err();
        assert_eq!(err.code, "common_password");
        assert_eq!(Password::parse("trustno1", None).unwrap_err().code, "common_password");
    }

    #[test]
    fn the_email_address_is_not_a_password() {
        let email = Email::parse("ada.lovelace@example.com").unwrap();
        assert_eq!(Password::parse("Ada.Lovelace@example.com", Some(&email)).unwrap_err().code, "equals_email");
    }

    #[test]
    fn the_bundled_list_is_loaded() {
        assert!(COMMON.len() >= 9_000, "expected the bundled list, found {} entries", COMMON.len());
    }

    #[test]
    fn debug_output_never_shows_the_password() {
        let p = Password::parse("correct horse battery staple", None).unwrap();
        assert!(!format!("{p:?}").contains("horse"));
    }
}
