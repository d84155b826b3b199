//! The two column types whose storage differs between the backends.
//!
//! | SQL type   | PostgreSQL    | SQLite                                          |
//! |------------|---------------|-------------------------------------------------|
//! | [`sql::Uuid`] | `uuid` (16 bytes) | `TEXT`, hyphenated lower-case              |
//! | [`sql::UtcTime`] | `timestamptz` | `TEXT`, `YYYY-MM-DDTHH:MM:SS.ffffffZ` |
//!
//! The SQLite timestamp format has a fixed width, so comparing the text
//! compares the instants; values are truncated to microseconds, the
//! precision PostgreSQL keeps, so a value reads back equal on both.
//! Rust values cross the boundary as [`DbUuid`] and [`DbTime`].

use chrono::{DateTime, SecondsFormat, Utc};
use diesel::deserialize::{self, FromSql, FromSqlRow};
use diesel::expression::AsExpression;
#[cfg(feature = "postgres")]
use diesel::pg::{Pg, PgValue};
use diesel::serialize::{self, IsNull, Output, ToSql};
#[cfg(feature = "sqlite")]
use diesel::sqlite::{Sqlite, SqliteValue};
#[cfg(feature = "postgres")]
use std::io::Write;

/// The portable SQL types used in [`crate::schema`].
pub mod sql {
    /// A UUID column.
    #[derive(Debug, Clone, Copy, Default, diesel::sql_types::SqlType, diesel::query_builder::QueryId)]
    #[diesel(postgres_type(oid = 2950, array_oid = 2951))]
    #[diesel(sqlite_type(name = "Text"))]
    pub struct Uuid;

    /// A UTC timestamp column.
    #[derive(Debug, Clone, Copy, Default, diesel::sql_types::SqlType, diesel::query_builder::QueryId)]
    #[diesel(postgres_type(oid = 1184, array_oid = 1185))]
    #[diesel(sqlite_type(name = "Text"))]
    pub struct UtcTime;
}

/// A UUID as stored.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, AsExpression, FromSqlRow)]
#[diesel(sql_type = sql::Uuid)]
pub struct DbUuid(pub uuid::Uuid);

/// A UTC timestamp as stored.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, AsExpression, FromSqlRow)]
#[diesel(sql_type = sql::UtcTime)]
pub struct DbTime(pub DateTime<Utc>);

#[cfg(feature = "postgres")]
impl ToSql<sql::Uuid, Pg> for DbUuid {
    fn to_sql<'b>(&'b self, out: &mut Output<'b, '_, Pg>) -> serialize::Result {
        out.write_all(self.0.as_bytes())?;
        Ok(IsNull::No)
    }
}

#[cfg(feature = "postgres")]
impl FromSql<sql::Uuid, Pg> for DbUuid {
    fn from_sql(value: PgValue<'_>) -> deserialize::Result<Self> {
        Ok(Self(uuid::Uuid::from_slice(value.as_bytes())?))
    }
}

#[cfg(feature = "sqlite")]
impl ToSql<sql::Uuid, Sqlite> for DbUuid {
    fn to_sql<'b>(&'b self, out: &mut Output<'b, '_, Sqlite>) -> serialize::Result {
        out.set_value(self.0.hyphenated().to_string());
        Ok(IsNull::No)
    }
}

#[cfg(feature = "sqlite")]
impl FromSql<sql::Uuid, Sqlite> for DbUuid {
    fn from_sql(value: SqliteValue<'_, '_, '_>) -> deserialize::Result<Self> {
        let text = <String as FromSql<diesel::sql_types::Text, Sqlite>>::from_sql(value)?;
        Ok(Self(uuid::Uuid::parse_str(&text)?))
    }
}

#[cfg(feature = "postgres")]
impl ToSql<sql::UtcTime, Pg> for DbTime {
    fn to_sql<'b>(&'b self, out: &mut Output<'b, '_, Pg>) -> serialize::Result {
        <DateTime<Utc> as ToSql<diesel::sql_types::Timestamptz, Pg>>::to_sql(&self.0, out)
    }
}

#[cfg(feature = "postgres")]
impl FromSql<sql::UtcTime, Pg> for DbTime {
    fn from_sql(value: PgValue<'_>) -> deserialize::Result<Self> {
        Ok(Self(<DateTime<Utc> as FromSql<diesel::sql_types::Timestamptz, Pg>>::from_sql(value)?))
    }
}

#[cfg(feature = "sqlite")]
impl ToSql<sql::UtcTime, Sqlite> for DbTime {
    fn to_sql<'b>(&'b self, out: &mut Output<'b, '_, Sqlite>) -> serialize::Result {
        out.set_value(encode_sqlite_time(self.0));
        Ok(IsNull::No)
    }
}

#[cfg(feature = "sqlite")]
impl FromSql<sql::UtcTime, Sqlite> for DbTime {
    fn from_sql(value: SqliteValue<'_, '_, '_>) -> deserialize::Result<Self> {
        let text = <String as FromSql<diesel::sql_types::Text, Sqlite>>::from_sql(value)?;
        Ok(Self(DateTime::parse_from_rfc3339(&text)?.with_timezone(&Utc)))
    }
}

/// The fixed-width text form of a timestamp in SQLite.
pub fn encode_sqlite_time(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Micros, true)
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn sqlite_time_text_sorts_like_the_instants() {
        let a = Utc.with_ymd_and_hms(2026, 1, 2, 3, 4, 5).unwrap();
        let b = a + chrono::Duration::microseconds(1);
        let c = a + chrono::Duration::milliseconds(500);
        let texts: Vec<String> = [a, b, c].into_iter().map(encode_sqlite_time).collect();
        assert_eq!(texts[0], "2026-01-02T03:04:05.000000Z");
        assert!(texts[0] < texts[1] && texts[1] < texts[2], "{texts:?}");
    }
}
