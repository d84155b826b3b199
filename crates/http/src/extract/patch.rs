//! Partial updates: telling "absent" from "null".
//!
//! In a PATCH body, an absent field leaves the value as it is and `null`
//! clears it. `Patch<T>` keeps the three cases apart; serde alone would fold
//! `null` into "absent".

use rivet_domain::FieldError;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// A PATCH field: absent, explicitly null, or a value.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum Patch<T> {
    #[default]
    Absent,
    Null,
    Value(T),
}

impl<'de, T: Deserialize<'de>> Deserialize<'de> for Patch<T> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        Ok(match Option::<T>::deserialize(d)? {
            None => Self::Null,
            Some(v) => Self::Value(v),
        })
    }
}

/// Serialized as the value it carries (`null` for absent and null), which is
/// what the API description shows as a field's default.
impl<T: Serialize> Serialize for Patch<T> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            Self::Absent | Self::Null => s.serialize_none(),
            Self::Value(v) => s.serialize_some(v),
        }
    }
}

impl<T> Patch<T> {
    /// `None` when absent, `Some(None)` when null, `Some(Some(v))` for a value.
    pub fn into_option(self) -> Option<Option<T>> {
        match self {
            Self::Absent => None,
            Self::Null => Some(None),
            Self::Value(v) => Some(Some(v)),
        }
    }
}

/// For a field that may be omitted but not cleared: `null` is an error.
///
/// # Errors
/// A `null` field error naming `field`.
pub fn non_null<T>(field: &str, patch: Patch<T>) -> Result<Option<T>, FieldError> {
    match patch {
        Patch::Absent => Ok(None),
        Patch::Null => Err(FieldError::new(field, "null", "must not be null; omit the field to leave it unchanged")),
        Patch::Value(v) => Ok(Some(v)),
    }
}
