//! Schemas of the API's closed sets of values (`TodoStatus`, `Role`,
//! `Scope`, `Currency`...), built from the domain's own lists, so the
//! document's `enum`s cannot drift from what validation accepts. The wire
//! values stay strings in the DTOs: the domain parses them and reports an
//! unknown value as a field error with the allowed values named.

use std::borrow::Cow;
use utoipa::openapi::schema::{SchemaType, Type};
use utoipa::openapi::{ObjectBuilder, RefOr, Schema};

fn string_enum(description: &str, values: impl IntoIterator<Item = &'static str>) -> RefOr<Schema> {
    ObjectBuilder::new()
        .schema_type(SchemaType::Type(Type::String))
        .description(Some(description))
        .enum_values(Some(values))
        .into()
}

/// Declares a schema-only type named `$name` whose schema is a string enum of `$values`.
macro_rules! closed_set {
    ($name:ident, $description:literal, $values:expr) => {
        #[doc = $description]
        #[derive(Debug)]
        pub struct $name;

        impl utoipa::PartialSchema for $name {
            fn schema() -> RefOr<Schema> {
                string_enum($description, $values)
            }
        }

        impl utoipa::ToSchema for $name {
            fn name() -> Cow<'static, str> {
                Cow::Borrowed(stringify!($name))
            }
        }
    };
}

use rivet_domain::api_key::Scope as DomainScope;
use rivet_domain::product::Currency as DomainCurrency;
use rivet_domain::todo::{Priority, Status};

closed_set!(TodoStatus, "Where a todo stands.", Status::ALL.map(Status::as_str));
closed_set!(
    TodoPriority,
    "How urgent a todo is; sorts by rank (low < medium < high < urgent).",
    Priority::ALL.map(Priority::as_str)
);
closed_set!(Role, "A user's role: what they may do.", rivet_domain::Role::ALL.map(rivet_domain::Role::as_str));
closed_set!(
    Scope,
    "A permission an API key may carry (never beyond its owner's role).",
    DomainScope::ALL.map(DomainScope::as_str)
);
closed_set!(Currency, "An ISO 4217 currency code.", DomainCurrency::codes());
closed_set!(TokenType, "How to present the access token.", ["Bearer"]);
closed_set!(GrantType, "An OAuth2 grant (RFC 6749 §4.3, §6).", ["password", "refresh_token"]);
closed_set!(
    OAuthErrorCode,
    "An RFC 6749 §5.2 error code.",
    ["invalid_request", "invalid_grant", "unsupported_grant_type"]
);

/// Declares a schema-only type named `$name`: a string matching `$pattern`
/// of at most `$max` characters.
macro_rules! patterned {
    ($name:ident, $description:literal, $pattern:expr, $max:expr) => {
        #[doc = $description]
        #[derive(Debug)]
        pub struct $name;

        impl utoipa::PartialSchema for $name {
            fn schema() -> RefOr<Schema> {
                ObjectBuilder::new()
                    .schema_type(SchemaType::Type(Type::String))
                    .description(Some($description))
                    .pattern(Some($pattern))
                    .max_length(Some($max))
                    .into()
            }
        }

        impl utoipa::ToSchema for $name {
            fn name() -> Cow<'static, str> {
                Cow::Borrowed(stringify!($name))
            }
        }
    };
}

patterned!(
    Tag,
    "A tag: 1 to 32 of a-z, 0-9 and -.",
    rivet_domain::todo::Tag::PATTERN,
    rivet_domain::todo::Tag::MAX_CHARS
);
patterned!(
    IdempotencyKey,
    "1 to 255 visible ASCII characters, unique per request you mean once.",
    rivet_domain::idempotency::IdempotencyKey::PATTERN,
    255
);
patterned!(
    EventId,
    "An event's place in the log, as sent in its `id`: 32 hex digits.",
    rivet_domain::events::EventPosition::PATTERN,
    32
);
patterned!(
    Sku,
    "A stock-keeping unit: 3 to 32 of A-Z, 0-9 and - (lower case is upper-cased).",
    rivet_domain::product::Sku::PATTERN,
    32
);

#[cfg(test)]
mod tests {
    use super::*;
    use utoipa::PartialSchema;

    fn values<T: PartialSchema>() -> Vec<String> {
        let json = serde_json::to_value(T::schema()).unwrap();
        json["enum"].as_array().unwrap().iter().map(|v| v.as_str().unwrap().to_owned()).collect()
    }

    #[test]
    fn every_listed_value_parses_in_the_domain() {
        assert!(values::<TodoStatus>().iter().all(|v| Status::parse(v).is_ok()));
        assert!(values::<TodoPriority>().iter().all(|v| Priority::parse(v).is_ok()));
        assert!(values::<Role>().iter().all(|v| rivet_domain::Role::parse(v).is_ok()));
        assert!(values::<Scope>().iter().all(|v| DomainScope::parse(v).is_ok()));
        assert_eq!(values::<Scope>().len(), DomainScope::ALL.len());
        assert!(values::<Currency>().iter().all(|v| DomainCurrency::parse(v).is_ok()));
        assert!(values::<Currency>().contains(&"EUR".to_owned()));
    }
}
