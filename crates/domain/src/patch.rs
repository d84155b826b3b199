//! Partial updates. A field of a PATCH is absent (leave the value as it is),
//! `null` (clear it) or a value; [`Patch`] keeps the three apart, where serde
//! alone would fold `null` into "absent". Which fields may be cleared is a
//! rule of each resource, stated by its use case with [`Patch::nullable`] or
//! [`Patch::required`], so every caller of the domain gets the same rule.

use crate::validation::{FieldError, ValidationErrors};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// A PATCH field: absent, explicitly null, or a value.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum Patch<T> {
    #[default]
    Absent,
    Null,
    Value(T),
}

impl<T> Patch<T> {
    /// A field that can be cleared: `null` clears it, a value is parsed
    /// (its error recorded under `field`).
    pub fn nullable<U>(
        self,
        field: &str,
        errors: &mut ValidationErrors,
        parse: impl FnOnce(T) -> Result<U, FieldError>,
    ) -> Option<Option<U>> {
        match self {
            Self::Absent => None,
            Self::Null => Some(None),
            Self::Value(v) => errors.check(field, parse(v)).map(Some),
        }
    }

    /// A field that can be left out but never cleared: `null` is the error
    /// `null` under `field`, a value is parsed.
    pub fn required<U>(
        self,
        field: &str,
        errors: &mut ValidationErrors,
        parse: impl FnOnce(T) -> Result<U, FieldError>,
    ) -> Option<U> {
        match self {
            Self::Absent => None,
            Self::Null => {
                errors.push(FieldError::new(field, "null", "must not be null; omit the field to leave it unchanged"));
                None
            }
            Self::Value(v) => errors.check(field, parse(v)),
        }
    }
}

impl<T> From<Option<T>> for Patch<T> {
    /// `None` is absent: for callers that never clear a field.
    fn from(value: Option<T>) -> Self {
        value.map_or(Self::Absent, Self::Value)
    }
}

impl<'de, T: Deserialize<'de>> Deserialize<'de> for Patch<T> {
    /// Called only for a field that is present (give the field
    /// `#[serde(default)]`), so `null` is [`Patch::Null`].
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        Ok(match Option::<T>::deserialize(d)? {
            None => Self::Null,
            Some(v) => Self::Value(v),
        })
    }
}

/// Serialized as the value it carries (`null` for absent and null), which is
/// what an API description shows as a field's default.
impl<T: Serialize> Serialize for Patch<T> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            Self::Absent | Self::Null => s.serialize_none(),
            Self::Value(v) => s.serialize_some(v),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn positive(n: i64) -> Result<i64, FieldError> {
        if n > 0 { Ok(n) } else { Err(FieldError::new("n", "range", "must be positive")) }
    }

    #[test]
    fn absent_null_and_value_follow_the_field_rule() {
        let mut errors = ValidationErrors::new();
        assert_eq!(Patch::<i64>::Absent.required("n", &mut errors, positive), None);
        assert_eq!(Patch::Value(3).required("n", &mut errors, positive), Some(3));
        assert_eq!(Patch::<i64>::Absent.nullable("n", &mut errors, positive), None);
        assert_eq!(Patch::<i64>::Null.nullable("n", &mut errors, positive), Some(None));
        assert_eq!(Patch::Value(2).nullable("n", &mut errors, positive), Some(Some(2)));
        assert!(errors.is_empty());
        assert_eq!(Patch::<i64>::Null.required("n", &mut errors, positive), None);
        assert_eq!(Patch::Value(-1).nullable("m", &mut errors, positive), None);
        let codes: Vec<_> = errors.errors().iter().map(|e| (e.field.as_str(), e.code)).collect();
        assert_eq!(codes, [("n", "null"), ("m", "range")]);
    }

    #[test]
    fn json_null_is_null_and_a_missing_field_is_absent() {
        #[derive(Deserialize)]
        struct Body {
            #[serde(default)]
            a: Patch<String>,
            #[serde(default)]
            b: Patch<String>,
        }
        let body: Body = serde_json::from_str(r#"{"a": null}"#).unwrap();
        assert_eq!((body.a, body.b), (Patch::Null, Patch::Absent));
    }
}
