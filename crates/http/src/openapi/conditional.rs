//! Conditional requests in the document (see [`crate::conditional`]), so a
//! generated client has typed `If-None-Match` and `If-Match` arguments and
//! knows where to read the `ETag`:
//!
//! - an operation that can answer 304 takes an optional `If-None-Match`;
//! - a versioned resource (its GET can answer 304) is written conditionally:
//!   its PATCH and DELETE take an optional `If-Match` and can answer 412,
//!   as every handler of such a resource honours `If-Match`;
//! - every response that carries a tag says so: a 304, the 200 of an
//!   operation that can answer 304, and any 2xx whose body is one versioned
//!   resource.

use super::{operations_by_method, problem};
use utoipa::Modify;
use utoipa::openapi::header::Header;
use utoipa::openapi::path::{ParameterBuilder, ParameterIn};
use utoipa::openapi::schema::Type;
use utoipa::openapi::{ObjectBuilder, OpenApi, RefOr, Required, Response};

/// Components served with their `version` as a strong `ETag` (`"v3"`).
pub(super) const VERSIONED: [&str; 3] = ["Todo", "Product", "User"];

const IF_NONE_MATCH: &str = "The `ETag`s you hold (or `*`): when one is current the answer is 304 with no body";
const IF_MATCH: &str = "The `ETag` you last read (or `*`): the write happens only if it is still current, \
                        otherwise 412 `precondition_failed`";
const PRECONDITION_FAILED: &str = "`If-Match` names an older version (`precondition_failed`)";
const ETAG: &str = "The strong entity tag of what was returned; send it back in `If-None-Match` or `If-Match`";

fn string() -> ObjectBuilder {
    ObjectBuilder::new().schema_type(Type::String)
}

fn header_parameter(name: &str, description: &str) -> RefOr<utoipa::openapi::path::Parameter> {
    RefOr::T(
        ParameterBuilder::new()
            .name(name)
            .parameter_in(ParameterIn::Header)
            .required(Required::False)
            .description(Some(description))
            .schema(Some(string()))
            .build(),
    )
}

fn returns_versioned(response: &Response) -> bool {
    response.content.values().any(|content| match content {
        RefOr::T(c) => matches!(&c.schema, Some(RefOr::Ref(r))
            if r.ref_location.strip_prefix("#/components/schemas/").is_some_and(|name| VERSIONED.contains(&name))),
        RefOr::Ref(_) => false,
    })
}

pub(super) struct ConditionalRequests;

impl Modify for ConditionalRequests {
    fn modify(&self, openapi: &mut OpenApi) {
        for item in openapi.paths.paths.values_mut() {
            let versioned = item.get.as_ref().is_some_and(|get| get.responses.responses.contains_key("304"));
            for (method, op) in operations_by_method(item) {
                let reads = op.responses.responses.contains_key("304");
                let writes = versioned && matches!(method, "patch" | "delete");
                if writes {
                    op.responses.responses.entry("412".to_owned()).or_insert_with(|| problem(PRECONDITION_FAILED));
                }
                let parameters = op.parameters.get_or_insert_with(Vec::new);
                if reads {
                    parameters.push(header_parameter("If-None-Match", IF_NONE_MATCH));
                }
                if writes {
                    parameters.push(header_parameter("If-Match", IF_MATCH));
                }
                if parameters.is_empty() {
                    op.parameters = None;
                }
                for (status, response) in &mut op.responses.responses {
                    let RefOr::T(response) = response else { continue };
                    let tagged = status == "304"
                        || (reads && status == "200")
                        || (status.starts_with('2') && returns_versioned(response));
                    if tagged {
                        let mut header = Header::new(string());
                        header.description = Some(ETAG.to_owned());
                        response.headers.insert("ETag".to_owned(), RefOr::T(header));
                    }
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use serde_json::Value;

    fn operation(doc: &Value, id: &str) -> Value {
        doc["paths"]
            .as_object()
            .unwrap()
            .values()
            .flat_map(|item| item.as_object().unwrap().values())
            .find(|op| op["operationId"] == id)
            .unwrap_or_else(|| panic!("no operation {id}"))
            .clone()
    }

    fn headers_in(op: &Value) -> Vec<String> {
        op["parameters"]
            .as_array()
            .into_iter()
            .flatten()
            .filter(|p| p["in"] == "header")
            .map(|p| p["name"].as_str().unwrap().to_owned())
            .collect()
    }

    #[test]
    fn reads_take_if_none_match_writes_take_if_match_and_tagged_answers_name_their_etag() {
        let doc = serde_json::to_value(super::super::document()).unwrap();
        for id in ["getTodo", "getProduct", "getUser", "getCurrentUser", "listProducts"] {
            let op = operation(&doc, id);
            assert_eq!(headers_in(&op), ["If-None-Match"], "{id}");
            for status in ["200", "304"] {
                assert!(op["responses"][status]["headers"]["ETag"].is_object(), "{id} {status}");
            }
        }
        for id in [
            "updateTodo",
            "deleteTodo",
            "updateProduct",
            "deleteProduct",
            "updateCurrentUser",
            "deleteCurrentUser",
            "updateUser",
            "deleteUser",
        ] {
            let op = operation(&doc, id);
            assert_eq!(headers_in(&op), ["If-Match"], "{id}");
            assert_eq!(
                op["responses"]["412"]["content"]["application/problem+json"]["schema"]["$ref"],
                "#/components/schemas/Problem",
                "{id}"
            );
        }
        for (id, status) in [("createTodo", "201"), ("updateTodo", "200"), ("adjustProductStock", "200")] {
            assert!(operation(&doc, id)["responses"][status]["headers"]["ETag"].is_object(), "{id} {status}");
        }
        assert!(operation(&doc, "adjustProductStock")["responses"].get("412").is_none());
        for id in ["listTodos", "login", "createApiKey", "revokeApiKey"] {
            let op = operation(&doc, id);
            assert!(headers_in(&op).iter().all(|h| !h.starts_with("If-")), "{id}");
            assert!(op["responses"].get("412").is_none(), "{id}");
            assert!(op["responses"].as_object().unwrap().values().all(|r| r["headers"].get("ETag").is_none()), "{id}");
        }
    }
}
