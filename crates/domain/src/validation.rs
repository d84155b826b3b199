//! Field-level validation errors, collected rather than failing on the first
//! broken rule, so a client learns every problem with its input at once.

use std::fmt;

/// One broken rule on one field.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldError {
    /// Dotted path of the field within its input (`email`, `tags[1]`).
    pub field: String,
    /// Stable machine-readable code (`length`, `format`, `common_password`...).
    pub code: &'static str,
    /// Human-readable message, safe to show to end users.
    pub message: String,
}

impl FieldError {
    /// Builds a field error.
    pub fn new(field: impl Into<String>, code: &'static str, message: impl Into<String>) -> Self {
        Self { field: field.into(), code, message: message.into() }
    }
}

/// A non-empty list of field errors.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ValidationErrors(Vec<FieldError>);

impl ValidationErrors {
    /// An empty collector.
    pub fn new() -> Self {
        Self::default()
    }

    /// A single error.
    pub fn single(field: impl Into<String>, code: &'static str, message: impl Into<String>) -> Self {
        Self(vec![FieldError::new(field, code, message)])
    }

    /// Adds an error.
    pub fn push(&mut self, error: FieldError) {
        self.0.push(error);
    }

    /// Records the error of a parse result under `field` and returns the value, if any.
    pub fn check<T>(&mut self, field: &str, result: Result<T, FieldError>) -> Option<T> {
        match result {
            Ok(v) => Some(v),
            Err(mut e) => {
                e.field = field.to_owned();
                self.0.push(e);
                None
            }
        }
    }

    /// The collected errors.
    pub fn errors(&self) -> &[FieldError] {
        &self.0
    }

    /// True when nothing was collected.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// `Ok(())` when empty, otherwise `Err(self)`.
    ///
    /// # Errors
    /// The collected errors, when there are any.
    pub fn into_result(self) -> Result<(), Self> {
        if self.0.is_empty() { Ok(()) } else { Err(self) }
    }
}

impl fmt::Display for ValidationErrors {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let parts: Vec<String> = self.0.iter().map(|e| format!("{}: {}", e.field, e.message)).collect();
        f.write_str(&parts.join("; "))
    }
}

impl std::error::Error for ValidationErrors {}

/// [`single_line`] as a regular expression, for API descriptions: no control
/// characters, no leading or trailing whitespace, at least one character
/// (the length bound is stated separately). Every string it matches, within
/// the length bound, is accepted; `single_line` also accepts (and trims)
/// surrounding whitespace.
pub const SINGLE_LINE_PATTERN: &str = r"^[^\s\x00-\x1f\x7f-\x9f](?:[^\x00-\x1f\x7f-\x9f]*[^\s\x00-\x1f\x7f-\x9f])?$";

/// The rule for short human text (names, titles, categories): trimmed, 1 to
/// `max` characters, no control characters. Returns the trimmed text.
///
/// # Errors
/// `length` or `format`, naming `field`.
pub fn single_line(field: &str, raw: &str, max: usize) -> Result<String, FieldError> {
    let value = raw.trim();
    let chars = value.chars().count();
    if chars == 0 || chars > max {
        return Err(FieldError::new(field, "length", format!("must be 1 to {max} characters")));
    }
    if value.chars().any(char::is_control) {
        return Err(FieldError::new(field, "format", "must not contain control characters"));
    }
    Ok(value.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #[test]
        fn every_string_the_documented_pattern_allows_is_accepted(s in SINGLE_LINE_PATTERN.trim_matches(['^', '$'])) {
            let chars = s.chars().count();
            prop_assume!(chars <= 200);
            prop_assert_eq!(single_line("f", &s, 200).map_err(|e| e.code), Ok(s.clone()));
        }
    }
}
