//! The conventions a generated client relies on (SPEC §3, "OpenAPI
//! conventions"): unique, resource-qualified operation ids; every body a
//! named component; every closed set of values an `enum`; every reference
//! resolvable. Read from the document the server serves.

use serde_json::Value;
use std::collections::BTreeMap;

fn document() -> Value {
    serde_json::to_value(rivet_http::openapi::document()).unwrap()
}

fn operations(doc: &Value) -> Vec<(String, String, &Value)> {
    let mut out = Vec::new();
    for (path, item) in doc["paths"].as_object().unwrap() {
        for (method, op) in item.as_object().unwrap() {
            out.push((method.to_uppercase(), path.clone(), op));
        }
    }
    out
}

fn refs<'a>(v: &'a Value, out: &mut Vec<&'a str>) {
    match v {
        Value::Object(m) => {
            if let Some(Value::String(r)) = m.get("$ref") {
                out.push(r);
            }
            m.values().for_each(|x| refs(x, out));
        }
        Value::Array(a) => a.iter().for_each(|x| refs(x, out)),
        _ => {}
    }
}

#[test]
fn operation_ids_are_unique_camel_case_and_name_the_resource() {
    let doc = document();
    let mut seen: BTreeMap<String, String> = BTreeMap::new();
    for (method, path, op) in operations(&doc) {
        let id = op["operationId"].as_str().unwrap_or_else(|| panic!("{method} {path} has no operationId"));
        assert!(
            id.chars().next().is_some_and(|c| c.is_ascii_lowercase()) && id.chars().all(|c| c.is_ascii_alphanumeric()),
            "{method} {path}: `{id}` is not camelCase"
        );
        if let Some(other) = seen.insert(id.to_owned(), format!("{method} {path}")) {
            panic!("`{id}` names both {other} and {method} {path}");
        }
    }
    for (id, route) in [
        ("listTodos", "GET /api/v1/todos"),
        ("getTodo", "GET /api/v1/todos/{id}"),
        ("createProduct", "POST /api/v1/products"),
        ("getProduct", "GET /api/v1/products/{id}"),
        ("listUsers", "GET /api/v1/users"),
        ("login", "POST /api/v1/auth/login"),
    ] {
        assert_eq!(seen.get(id).map(String::as_str), Some(route), "{id}");
    }
}

#[test]
fn every_json_body_is_a_named_component_and_every_reference_resolves() {
    let doc = document();
    for (method, path, op) in operations(&doc) {
        let mut bodies: Vec<(String, &Value)> = Vec::new();
        if let Some(content) = op["requestBody"]["content"].as_object() {
            bodies.extend(content.iter().map(|(t, c)| (format!("request {t}"), &c["schema"])));
        }
        for (status, response) in op["responses"].as_object().unwrap() {
            for (t, c) in response["content"].as_object().into_iter().flatten() {
                if t.contains("json") {
                    bodies.push((format!("{status} {t}"), &c["schema"]));
                }
            }
        }
        for (what, schema) in bodies {
            let r = schema["$ref"].as_str().unwrap_or_else(|| panic!("{method} {path} {what}: inline schema {schema}"));
            assert!(r.starts_with("#/components/schemas/"), "{method} {path} {what}: {r}");
        }
    }
    let schemas = doc["components"]["schemas"].as_object().unwrap();
    let mut all = Vec::new();
    refs(&doc, &mut all);
    for r in all {
        let name = r.strip_prefix("#/components/schemas/").unwrap_or_else(|| panic!("unexpected reference {r}"));
        assert!(schemas.contains_key(name), "{r} does not resolve");
    }
    for page in ["TodoPage", "ProductPage", "UserPage"] {
        let items = &schemas[page]["properties"]["items"]["items"]["$ref"];
        assert!(items.as_str().is_some_and(|r| !r.contains("Page")), "{page} refers to its item: {items}");
    }
    for name in schemas.keys() {
        assert!(!name.ends_with("Body") && !name.contains('_'), "component `{name}` reads as the resource");
    }
}

#[test]
fn closed_sets_of_values_are_enums() {
    let doc = document();
    let schemas = &doc["components"]["schemas"];
    let enum_of = |name: &str| -> Vec<String> {
        schemas[name]["enum"]
            .as_array()
            .unwrap_or_else(|| panic!("{name} is an enum"))
            .iter()
            .map(|v| v.to_string())
            .collect()
    };
    assert_eq!(enum_of("TodoStatus"), ["\"pending\"", "\"in_progress\"", "\"done\""]);
    assert_eq!(enum_of("TodoPriority"), ["\"low\"", "\"medium\"", "\"high\"", "\"urgent\""]);
    assert_eq!(enum_of("Role"), ["\"user\"", "\"manager\"", "\"admin\""]);
    assert_eq!(enum_of("Scope").len(), 6);
    assert!(enum_of("Currency").contains(&"\"EUR\"".to_owned()));
    for (component, property, set) in [
        ("Todo", "status", "TodoStatus"),
        ("Todo", "priority", "TodoPriority"),
        ("CreateTodo", "status", "TodoStatus"),
        ("UpdateTodo", "priority", "TodoPriority"),
        ("User", "role", "Role"),
        ("AdminUpdateUser", "role", "Role"),
        ("Product", "currency", "Currency"),
        ("CreateProduct", "currency", "Currency"),
        ("TokenPair", "token_type", "TokenType"),
    ] {
        let p = &schemas[component]["properties"][property];
        let direct = p["$ref"].as_str();
        let nullable = p["oneOf"].as_array().and_then(|o| o.iter().find_map(|x| x["$ref"].as_str()));
        assert_eq!(
            direct.or(nullable),
            Some(format!("#/components/schemas/{set}").as_str()),
            "{component}.{property}: {p}"
        );
    }
    let scopes = &schemas["CreateApiKey"]["properties"]["scopes"]["items"]["$ref"];
    assert_eq!(scopes, "#/components/schemas/Scope");
    let tags = &schemas["CreateTodo"]["properties"]["tags"];
    assert_eq!(tags["uniqueItems"], true, "{tags}");
    assert_eq!(tags["maxItems"], 20, "{tags}");
}
