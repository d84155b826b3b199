//! What the derive macros cannot say, added to the generated document from
//! the domain's own rules, so the description never promises more than the
//! validation accepts:
//!
//! - short single-line texts get [`SINGLE_LINE_PATTERN`];
//! - each list's `sort` parameter gets the pattern of its allow-list;
//! - a stock adjustment's `delta` is a non-zero range (`oneOf` two ranges);
//! - response bodies whose every property is always sent (`null` when
//!   empty) list them all as `required`, so generated clients type them as
//!   present-but-nullable rather than optional.
//!
//! Every entry names a component or an operation that must exist; a unit
//! test fails when one does not.

use rivet_domain::collection::Sort;
use rivet_domain::product::ProductSort;
use rivet_domain::todo::TodoSort;
use rivet_domain::user::UserSort;
use rivet_domain::validation::SINGLE_LINE_PATTERN;
use utoipa::Modify;
use utoipa::openapi::schema::{KnownFormat, OneOfBuilder, SchemaFormat, SchemaType, Type};
use utoipa::openapi::{ObjectBuilder, OpenApi, RefOr, Schema};

/// `(component, property)` holding one line of human text.
pub(super) const SINGLE_LINE: [(&str, &str); 11] = [
    ("CreateTodo", "title"),
    ("UpdateTodo", "title"),
    ("CreateProduct", "name"),
    ("CreateProduct", "category"),
    ("UpdateProduct", "name"),
    ("UpdateProduct", "category"),
    ("AdjustStock", "reason"),
    ("Register", "full_name"),
    ("UpdateMe", "full_name"),
    ("AdminUpdateUser", "full_name"),
    ("CreateApiKey", "name"),
];

/// Response components every property of which is always present.
pub(super) const ALWAYS_SENT: [&str; 16] = [
    "Todo",
    "TodoPage",
    "TodoStats",
    "TodoCountsByStatus",
    "TodoCountsByPriority",
    "UserStats",
    "Product",
    "ProductPage",
    "User",
    "UserPage",
    "ApiKey",
    "TokenPair",
    "OAuthToken",
    "OAuthError",
    "Liveness",
    "Readiness",
];

/// `(operation id, pattern of its sort parameter)`.
fn sort_patterns() -> [(&'static str, String); 3] {
    [
        ("listTodos", Sort::<TodoSort>::pattern()),
        ("listProducts", Sort::<ProductSort>::pattern()),
        ("listUsers", Sort::<UserSort>::pattern()),
    ]
}

fn object<'a>(openapi: &'a mut OpenApi, name: &str) -> Option<&'a mut utoipa::openapi::schema::Object> {
    match openapi.components.as_mut()?.schemas.get_mut(name)? {
        RefOr::T(Schema::Object(o)) => Some(o),
        _ => None,
    }
}

fn string_property<'a>(
    o: &'a mut utoipa::openapi::schema::Object,
    name: &str,
) -> Option<&'a mut utoipa::openapi::schema::Object> {
    match o.properties.get_mut(name)? {
        RefOr::T(Schema::Object(p)) => Some(p),
        _ => None,
    }
}

/// −1 000 000 to −1, or 1 to 1 000 000.
fn non_zero_delta() -> RefOr<Schema> {
    let range = |min: i64, max: i64| {
        ObjectBuilder::new()
            .schema_type(SchemaType::Type(Type::Integer))
            .format(Some(int64()))
            .minimum(Some(min))
            .maximum(Some(max))
    };
    let max = rivet_domain::product::MAX_STOCK;
    OneOfBuilder::new()
        .item(range(-max, -1))
        .item(range(1, max))
        .description(Some("The change: non-zero, at most 1 000 000 either way."))
        .examples([serde_json::json!(-2)])
        .into()
}

fn int64() -> SchemaFormat {
    SchemaFormat::KnownFormat(KnownFormat::Int64)
}

pub(super) struct Refinements;

impl Modify for Refinements {
    fn modify(&self, openapi: &mut OpenApi) {
        for (component, property) in SINGLE_LINE {
            if let Some(p) = object(openapi, component).and_then(|o| string_property(o, property)) {
                p.pattern = Some(SINGLE_LINE_PATTERN.to_owned());
            }
        }
        for component in ALWAYS_SENT {
            if let Some(o) = object(openapi, component) {
                o.required = o.properties.keys().cloned().collect();
            }
        }
        if let Some(o) = object(openapi, "AdjustStock") {
            o.properties.insert("delta".to_owned(), non_zero_delta());
        }
        let patterns = sort_patterns();
        for item in openapi.paths.paths.values_mut() {
            let Some(op) = item.get.as_mut() else { continue };
            let Some((_, pattern)) = patterns.iter().find(|(id, _)| op.operation_id.as_deref() == Some(id)) else {
                continue;
            };
            for param in op.parameters.iter_mut().flatten() {
                if let RefOr::T(param) = param
                    && param.name == "sort"
                    && let Some(RefOr::T(Schema::Object(s))) = param.schema.as_mut()
                {
                    s.pattern = Some(pattern.clone());
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::Value;

    fn document() -> Value {
        serde_json::to_value(super::super::document()).unwrap()
    }

    #[test]
    fn every_refinement_reaches_its_target() {
        let doc = document();
        let schemas = &doc["components"]["schemas"];
        for (component, property) in SINGLE_LINE {
            let p = &schemas[component]["properties"][property];
            assert_eq!(p["pattern"], SINGLE_LINE_PATTERN, "{component}.{property}: {p}");
        }
        for component in ALWAYS_SENT {
            let s = &schemas[component];
            let properties: Vec<&String> =
                s["properties"].as_object().unwrap_or_else(|| panic!("{component}")).keys().collect();
            let required: Vec<&str> = s["required"].as_array().unwrap().iter().map(|v| v.as_str().unwrap()).collect();
            assert_eq!(properties.len(), required.len(), "{component}");
        }
        for (operation, pattern) in sort_patterns() {
            let op = doc["paths"]
                .as_object()
                .unwrap()
                .values()
                .find_map(|item| item.get("get").filter(|op| op["operationId"] == operation))
                .unwrap_or_else(|| panic!("{operation}"));
            let sort = op["parameters"].as_array().unwrap().iter().find(|p| p["name"] == "sort").unwrap();
            assert_eq!(sort["schema"]["pattern"], Value::String(pattern), "{operation}");
        }
    }
}
