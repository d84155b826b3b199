//! Request and response bodies, one module per resource. Request bodies
//! refuse unknown fields, so a client can never set a field it does not own
//! (`role`, `is_active`, `id`...) by adding it.

pub mod api_keys;
pub mod auth;
pub mod events;
pub mod files;
pub mod products;
pub mod sets;
pub mod todos;
pub mod users;

/// Timestamps in response bodies: RFC 3339 in UTC, the same text chrono's
/// own `Serialize` writes (`SecondsFormat::AutoSi`, `Z`), formatted into one
/// buffer and handed to the serializer whole. chrono's `Serialize` writes
/// it through `collect_str`, field by field, and serde_json escapes each
/// piece on its own: a tenth of the CPU of a page of todos, in the profile.
pub(crate) mod timestamp {
    use chrono::{DateTime, SecondsFormat, Utc};
    use serde::Serializer;

    pub(crate) fn serialize<S: Serializer>(t: &DateTime<Utc>, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&t.to_rfc3339_opts(SecondsFormat::AutoSi, true))
    }

    /// An optional timestamp: `null` when absent.
    #[allow(clippy::ref_option)] // the signature serde's `serialize_with` calls
    pub(crate) fn optional<S: Serializer>(t: &Option<DateTime<Utc>>, s: S) -> Result<S::Ok, S::Error> {
        match t {
            Some(t) => serialize(t, s),
            None => s.serialize_none(),
        }
    }

    #[cfg(test)]
    mod tests {
        #[test]
        fn timestamps_read_as_chrono_writes_them() {
            #[derive(serde::Serialize)]
            struct Fast(#[serde(serialize_with = "super::serialize")] chrono::DateTime<chrono::Utc>);
            for text in [
                "2026-12-04T19:20:00Z",
                "2026-12-04T19:20:00.100Z",
                "2026-12-04T19:20:00.123456Z",
                "2026-12-04T19:20:00.123456789Z",
                "1970-01-01T00:00:00.000001Z",
                "0999-01-01T00:00:00Z",
            ] {
                let t: chrono::DateTime<chrono::Utc> = text.parse().unwrap();
                let fast = serde_json::to_string(&Fast(t)).unwrap();
                assert_eq!(fast, serde_json::to_string(&t).unwrap(), "{text}");
                assert_eq!(fast, format!("\"{text}\""));
            }
        }
    }
}
