//! The API description: generated from the code, served at
//! `/api/v1/openapi.json`, and in step with the routes the server mounts.

use rivet_e2e::{Backend, TestApp};
use serde_json::Value;
use std::collections::BTreeSet;

fn documented(doc: &Value) -> BTreeSet<(String, String)> {
    let mut out = BTreeSet::new();
    for (path, item) in doc["paths"].as_object().unwrap() {
        for method in item.as_object().unwrap().keys() {
            out.insert((method.to_uppercase(), path.clone()));
        }
    }
    out
}

#[test]
fn every_mounted_route_is_documented_and_every_documented_one_is_mounted() {
    let doc = serde_json::to_value(rivet_http::openapi::document()).unwrap();
    let mounted: BTreeSet<(String, String)> = rivet_http::mounted_routes().into_iter().collect();
    let documented = documented(&doc);
    let undocumented: Vec<_> = mounted.difference(&documented).collect();
    let phantom: Vec<_> = documented.difference(&mounted).collect();
    assert!(undocumented.is_empty(), "mounted but not in the OpenAPI document: {undocumented:?}");
    assert!(phantom.is_empty(), "documented but not mounted: {phantom:?}");
    assert!(mounted.len() >= 30, "the whole API is mounted: {}", mounted.len());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_served_document_is_openapi_3_1_with_schemes_errors_and_examples() {
    let app = TestApp::spawn(Backend::Sqlite).await;
    let r = app.get("/api/v1/openapi.json", None).await;
    assert_eq!(r.status, 200, "{r}");
    let doc = r.body;
    assert!(doc["openapi"].as_str().unwrap().starts_with("3.1"), "{}", doc["openapi"]);
    let schemes = &doc["components"]["securitySchemes"];
    assert_eq!(schemes["bearer"]["scheme"], "bearer");
    assert_eq!(schemes["oauth2"]["flows"]["password"]["tokenUrl"], "/api/v1/auth/token");
    assert!(doc["components"]["schemas"]["Problem"]["properties"]["code"].is_object());
    assert!(
        doc["components"]["schemas"]["CreateTodo"]["properties"]["title"]["example"].is_string(),
        "request schemas carry examples"
    );
    assert_eq!(
        doc["components"]["schemas"]["CreateTodo"]["properties"]["title"]["maxLength"], 200,
        "and their constraints"
    );
    let tags: Vec<&str> = doc["tags"].as_array().unwrap().iter().map(|t| t["name"].as_str().unwrap()).collect();
    assert_eq!(tags, ["auth", "api-keys", "users", "todos", "products", "events", "operations"]);
    assert_eq!(
        (schemes["api_key"]["type"].as_str(), schemes["api_key"]["in"].as_str(), schemes["api_key"]["name"].as_str()),
        (Some("apiKey"), Some("header"), Some("X-API-Key"))
    );
    assert!(
        doc["paths"]["/api/v1/todos"]["get"]["security"].as_array().unwrap().iter().any(|r| r.get("api_key").is_some())
    );
    assert!(
        !doc["paths"]["/api/v1/api-keys"]["post"]["security"]
            .as_array()
            .unwrap()
            .iter()
            .any(|r| r.get("api_key").is_some()),
        "keys cannot manage keys"
    );
    for (path, item) in doc["paths"].as_object().unwrap() {
        for (method, op) in item.as_object().unwrap() {
            let responses = op["responses"].as_object().unwrap();
            assert!(
                responses.contains_key("500") && responses.contains_key("422"),
                "{method} {path} documents its errors"
            );
            assert_eq!(
                responses["500"]["content"]["application/problem+json"]["schema"]["$ref"],
                "#/components/schemas/Problem"
            );
            assert!(op["tags"].as_array().is_some_and(|t| !t.is_empty()), "{method} {path} has a tag");
            if op["security"].as_array().is_some_and(|s| s.iter().any(|r| r.get("bearer").is_some())) {
                assert!(responses.contains_key("401"), "{method} {path}: secured operations document 401");
            }
        }
    }
    assert_eq!(
        doc["paths"]["/api/v1/todos"]["get"]["security"],
        serde_json::json!([{"bearer": []}, {"oauth2": []}, {"api_key": []}])
    );
    assert_eq!(
        serde_json::to_value(rivet_http::openapi::document()).unwrap(),
        doc,
        "`rivet openapi` prints what is served"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_docs_page_and_its_assets_are_served_by_the_binary() {
    let app = TestApp::spawn(Backend::Sqlite).await;
    let redirect = app.get("/docs", None).await;
    assert_eq!((redirect.status, redirect.header("location")), (308, Some("/docs/")));
    let page = app.get("/docs/", None).await;
    assert_eq!(page.status, 200);
    assert!(page.header("content-type").unwrap().starts_with("text/html"));
    assert!(page.text.contains("swagger-ui"), "Swagger UI's page");
    let csp = page.header("content-security-policy").unwrap();
    assert!(csp.contains("script-src 'self'") && !csp.contains("http"), "the page may run only its own scripts: {csp}");
    for asset in ["swagger-ui.css", "swagger-ui-bundle.js", "swagger-initializer.js"] {
        let r = app.get(&format!("/docs/{asset}"), None).await;
        assert_eq!(r.status, 200, "{asset} is served from the binary");
        assert!(!r.text.contains("unpkg.com") && !r.text.contains("cdn."), "{asset} loads nothing from a CDN");
    }
    let init = app.get("/docs/swagger-initializer.js", None).await;
    assert!(init.text.contains("/api/v1/openapi.json"), "the page loads our document");
    let api = app.get("/api/v1/users/me", None).await;
    assert_eq!(
        api.header("content-security-policy"),
        Some("default-src 'none'; frame-ancestors 'none'"),
        "the API keeps its strict policy"
    );
}
