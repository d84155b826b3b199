//! Partial updates: the domain's [`Patch`] is what PATCH bodies deserialize
//! into (give each field `#[serde(default)]`, so an absent field stays
//! absent); which fields may be cleared is the domain's rule.

pub use rivet_domain::patch::Patch;
