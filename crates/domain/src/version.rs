//! Optimistic concurrency: a write that applies only to the version the
//! client last saw (HTTP `If-Match`).

/// Which stored versions a write may apply to.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum IfVersion {
    /// No condition (no `If-Match`, or `If-Match: *`).
    #[default]
    Any,
    /// Only if the stored version is one of these.
    OneOf(Vec<i64>),
}

impl IfVersion {
    /// Whether `version` satisfies the condition.
    pub fn allows(&self, version: i64) -> bool {
        match self {
            Self::Any => true,
            Self::OneOf(v) => v.contains(&version),
        }
    }
}
