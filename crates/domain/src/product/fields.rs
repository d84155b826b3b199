//! The value objects of a product.

use crate::validation::{FieldError, single_line};
use std::collections::HashSet;
use std::sync::LazyLock;

static CURRENCIES: LazyLock<HashSet<&'static str>> = LazyLock::new(|| Currency::codes().collect());

/// A stock-keeping unit: 3 to 32 of `A-Z`, `0-9` and `-` (input is upper-cased).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Sku(String);

impl Sku {
    /// The canonical form, for API descriptions (lower case and surrounding
    /// whitespace are accepted too, and normalised).
    pub const PATTERN: &str = "^[A-Z0-9-]{3,32}$";

    /// # Errors
    /// `format`.
    pub fn parse(raw: &str) -> Result<Self, FieldError> {
        let v = raw.trim().to_ascii_uppercase();
        let ok =
            (3..=32).contains(&v.len()) && v.bytes().all(|b| b.is_ascii_uppercase() || b.is_ascii_digit() || b == b'-');
        if ok {
            Ok(Self(v))
        } else {
            Err(FieldError::new("sku", "format", "must be 3 to 32 characters of A-Z, 0-9 and -"))
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn from_trusted(v: String) -> Self {
        Self(v)
    }
}

/// A product name: 1 to 200 characters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProductName(String);

impl ProductName {
    /// # Errors
    /// `length` or `format`.
    pub fn parse(raw: &str) -> Result<Self, FieldError> {
        single_line("name", raw, 200).map(Self)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn from_trusted(v: String) -> Self {
        Self(v)
    }
}

/// A product category: 1 to 64 characters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Category(String);

impl Category {
    /// # Errors
    /// `length` or `format`.
    pub fn parse(raw: &str) -> Result<Self, FieldError> {
        single_line("category", raw, 64).map(Self)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn from_trusted(v: String) -> Self {
        Self(v)
    }
}

/// An ISO 4217 currency code (input is upper-cased).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Currency(String);

impl Currency {
    /// Every code accepted, upper case, in the bundled list's order.
    pub fn codes() -> impl Iterator<Item = &'static str> {
        include_str!("../../data/iso4217.txt").lines().filter(|l| !l.is_empty())
    }

    /// # Errors
    /// `one_of` for anything but a current ISO 4217 code.
    pub fn parse(raw: &str) -> Result<Self, FieldError> {
        let v = raw.trim().to_ascii_uppercase();
        if CURRENCIES.contains(v.as_str()) {
            Ok(Self(v))
        } else {
            Err(FieldError::new("currency", "one_of", "must be an ISO 4217 code such as EUR or USD"))
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn from_trusted(v: String) -> Self {
        Self(v)
    }
}

/// Largest price, in minor units.
pub const MAX_PRICE_CENTS: i64 = 100_000_000;
/// Largest stock.
pub const MAX_STOCK: i64 = 1_000_000;

/// Checks a price in minor units.
///
/// # Errors
/// `range`.
pub fn price_cents(v: i64) -> Result<i64, FieldError> {
    if (0..=MAX_PRICE_CENTS).contains(&v) {
        Ok(v)
    } else {
        Err(FieldError::new("price_cents", "range", "must be 0 to 100000000"))
    }
}

/// Checks a stock level.
///
/// # Errors
/// `range`.
pub fn stock(v: i64) -> Result<i64, FieldError> {
    if (0..=MAX_STOCK).contains(&v) { Ok(v) } else { Err(FieldError::new("stock", "range", "must be 0 to 1000000")) }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn skus_are_upper_cased_and_checked() {
        assert_eq!(Sku::parse(" abc-12 ").unwrap().as_str(), "ABC-12");
        for bad in ["AB", "A B C", "ÄBC", &"A".repeat(33)] {
            assert!(Sku::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn currencies_come_from_iso_4217() {
        assert_eq!(Currency::parse("eur").unwrap().as_str(), "EUR");
        assert!(Currency::parse("XYZ").is_err());
        assert!(CURRENCIES.len() > 150);
    }

    proptest::proptest! {
        #[test]
        fn every_sku_the_documented_pattern_allows_is_accepted(s in Sku::PATTERN.trim_matches(['^', '$'])) {
            proptest::prop_assert_eq!(Sku::parse(&s).map(|v| v.0), Ok(s.clone()));
        }
    }

    #[test]
    fn every_listed_code_is_accepted() {
        assert!(Currency::codes().all(|c| Currency::parse(c).is_ok_and(|v| v.as_str() == c)));
        assert_eq!(Currency::codes().count(), CURRENCIES.len());
    }

    #[test]
    fn prices_and_stock_are_bounded() {
        assert!(price_cents(-1).is_err() && price_cents(100_000_001).is_err() && price_cents(0).is_ok());
        assert!(stock(1_000_001).is_err() && stock(1_000_000).is_ok());
    }
}
