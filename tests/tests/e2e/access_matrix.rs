//! Function-level authorization, exhaustively: every mounted route is called
//! by every kind of caller — anonymous, user, manager, admin, and an API key
//! with each single scope — and the outcome is compared with what the RBAC
//! table (`rivet_auth::rbac`) and the key rules say it must be.
//!
//! Requests are built so that an allowed call passes authorization and then
//! does nothing lasting (a stale `If-Match`, a wrong current password, an
//! unknown id), so one set of accounts serves the whole walk; the one call
//! that ends sessions runs last.

use rivet_auth::Permission;
use rivet_auth::rbac::permissions;
use rivet_domain::Role;
use rivet_domain::api_key::Scope;
use rivet_e2e::{Backend, PASSWORD, Reply, TestApp, Tokens};
use serde_json::{Value, json};
use std::collections::BTreeSet;

/// What a route demands of its caller.
#[derive(Debug, Clone, Copy)]
enum Rule {
    /// Anyone.
    Public,
    /// A signed-in session; API keys are refused.
    Session,
    /// Any signed-in caller's own data; a key needs the scope.
    Own(Scope),
    /// A role permission; a key needs the matching scope.
    Perm(Permission),
    /// Any signed-in caller, any key (the event stream: what it delivers
    /// depends on who asks).
    Signed,
}

#[derive(Clone)]
enum Caller {
    Anonymous,
    Session(Role, String),
    Key(Scope, String),
}

/// Names the caller without its credential.
impl std::fmt::Debug for Caller {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Anonymous => f.write_str("anonymous"),
            Self::Session(role, _) => write!(f, "{role}"),
            Self::Key(scope, _) => write!(f, "API key [{}]", scope.as_str()),
        }
    }
}

#[derive(Debug, PartialEq, Eq)]
enum Expect {
    Allowed,
    Unauthenticated,
    Forbidden,
}

fn scope_of(p: Permission) -> Scope {
    rivet_auth::principal::scope_for(p)
}

fn expected(rule: Rule, caller: &Caller) -> Expect {
    match (rule, caller) {
        (Rule::Public, _) => Expect::Allowed,
        (_, Caller::Anonymous) => Expect::Unauthenticated,
        (Rule::Signed, _) => Expect::Allowed,
        (Rule::Session | Rule::Own(_), Caller::Session(..)) => Expect::Allowed,
        (Rule::Session, Caller::Key(..)) => Expect::Forbidden,
        (Rule::Own(needed), Caller::Key(scope, _)) => {
            if needed == *scope {
                Expect::Allowed
            } else {
                Expect::Forbidden
            }
        }
        (Rule::Perm(p), Caller::Session(role, _)) => {
            if permissions(*role).contains(&p) {
                Expect::Allowed
            } else {
                Expect::Forbidden
            }
        }
        // Keys belong to an administrator, whose role holds every permission.
        (Rule::Perm(p), Caller::Key(scope, _)) => {
            if scope_of(p) == *scope {
                Expect::Allowed
            } else {
                Expect::Forbidden
            }
        }
    }
}

/// Every route, its rule, and a request that is harmless when allowed.
fn routes(user_id: &str) -> Vec<(&'static str, String, Rule, Option<Value>)> {
    let none = "01900000-0000-7000-8000-000000000000";
    let file = ATTACHMENT;
    let reset = json!({"token": "not-a-token", "new_password": "a new passphrase here"});
    vec![
        ("GET", "/health/live".into(), Rule::Public, None),
        ("GET", "/health/ready".into(), Rule::Public, None),
        ("GET", "/metrics".into(), Rule::Public, None),
        ("GET", "/api/v1/openapi.json".into(), Rule::Public, None),
        ("POST", "/api/v1/auth/register".into(), Rule::Public, Some(json!({"email": "{fresh}", "password": PASSWORD}))),
        (
            "POST",
            "/api/v1/auth/login".into(),
            Rule::Public,
            Some(json!({"email": "user@example.com", "password": PASSWORD})),
        ),
        ("POST", "/api/v1/auth/token".into(), Rule::Public, None),
        ("POST", "/api/v1/auth/refresh".into(), Rule::Public, Some(json!({"refresh_token": "{refresh}"}))),
        ("POST", "/api/v1/auth/logout".into(), Rule::Public, Some(json!({"refresh_token": "{refresh}"}))),
        ("POST", "/api/v1/auth/password/forgot".into(), Rule::Public, Some(json!({"email": "user@example.com"}))),
        ("POST", "/api/v1/auth/password/reset".into(), Rule::Public, Some(reset)),
        ("POST", "/api/v1/auth/verify-email".into(), Rule::Public, Some(json!({"token": "not-a-token"}))),
        ("POST", "/api/v1/auth/verify-email/resend".into(), Rule::Session, Some(json!({}))),
        ("POST", "/api/v1/api-keys".into(), Rule::Session, Some(json!({"name": "m", "scopes": ["todos:read"]}))),
        ("GET", "/api/v1/api-keys".into(), Rule::Session, None),
        ("DELETE", format!("/api/v1/api-keys/{none}"), Rule::Session, None),
        ("GET", "/api/v1/users/me".into(), Rule::Own(Scope::ProfileRead), None),
        ("PATCH", "/api/v1/users/me".into(), Rule::Session, Some(json!({}))),
        ("DELETE", "/api/v1/users/me".into(), Rule::Session, None),
        (
            "POST",
            "/api/v1/users/me/password".into(),
            Rule::Session,
            Some(json!({"current_password": "wrong one", "new_password": "whatever passphrase"})),
        ),
        ("GET", "/api/v1/users/me/stats".into(), Rule::Own(Scope::TodosRead), None),
        ("GET", "/api/v1/users".into(), Rule::Perm(Permission::UsersRead), None),
        ("GET", format!("/api/v1/users/{user_id}"), Rule::Perm(Permission::UsersRead), None),
        ("PATCH", format!("/api/v1/users/{user_id}"), Rule::Perm(Permission::UsersWrite), Some(json!({}))),
        ("DELETE", format!("/api/v1/users/{user_id}"), Rule::Perm(Permission::UsersWrite), None),
        ("GET", format!("/api/v1/users/{user_id}/stats"), Rule::Perm(Permission::UsersRead), None),
        ("GET", "/api/v1/todos".into(), Rule::Own(Scope::TodosRead), None),
        ("POST", "/api/v1/todos".into(), Rule::Own(Scope::TodosWrite), Some(json!({"title": "matrix"}))),
        ("GET", format!("/api/v1/todos/{none}"), Rule::Own(Scope::TodosRead), None),
        ("PATCH", format!("/api/v1/todos/{none}"), Rule::Own(Scope::TodosWrite), Some(json!({"title": "x"}))),
        ("DELETE", format!("/api/v1/todos/{none}"), Rule::Own(Scope::TodosWrite), None),
        // Allowed callers get 415 for the uploads (a JSON body) and 404 elsewhere.
        ("GET", format!("/api/v1/todos/{none}/attachments"), Rule::Own(Scope::TodosRead), None),
        ("POST", format!("/api/v1/todos/{none}/attachments"), Rule::Own(Scope::TodosWrite), Some(json!({}))),
        ("GET", format!("/api/v1/todos/{none}/attachments/{file}"), Rule::Own(Scope::TodosRead), None),
        ("DELETE", format!("/api/v1/todos/{none}/attachments/{file}"), Rule::Own(Scope::TodosWrite), None),
        ("GET", "/api/v1/products".into(), Rule::Public, None),
        ("GET", format!("/api/v1/products/{none}"), Rule::Public, None),
        (
            "POST",
            "/api/v1/products".into(),
            Rule::Perm(Permission::ProductsWrite),
            Some(json!({"sku": "{sku}", "name": "Matrix", "price_cents": 100, "currency": "EUR", "category": "tools"})),
        ),
        (
            "PATCH",
            format!("/api/v1/products/{none}"),
            Rule::Perm(Permission::ProductsWrite),
            Some(json!({"name": "x"})),
        ),
        ("DELETE", format!("/api/v1/products/{none}"), Rule::Perm(Permission::ProductsWrite), None),
        ("GET", format!("/api/v1/products/{none}/image"), Rule::Public, None),
        ("PUT", format!("/api/v1/products/{none}/image"), Rule::Perm(Permission::ProductsWrite), Some(json!({}))),
        (
            "POST",
            format!("/api/v1/products/{none}/stock-adjustments"),
            Rule::Perm(Permission::ProductsWrite),
            Some(json!({"delta": 1, "reason": "matrix"})),
        ),
        // A bad resume id is refused once the caller is known, so the
        // stream never opens; without an upgrade the socket answers 426
        // (its authentication may come in its first message).
        ("GET", "/api/v1/events?after=bad".into(), Rule::Signed, None),
        ("GET", "/api/v1/events/ws".into(), Rule::Public, None),
        ("POST", "/api/v1/events/tickets".into(), Rule::Session, None),
        // Last: it ends the caller's sessions.
        ("POST", "/api/v1/auth/logout-all".into(), Rule::Session, Some(json!({}))),
    ]
}

/// The attachment id in the matrix's attachment paths.
const ATTACHMENT: &str = "01900000-0000-7000-8000-0000000000a1";

fn template(path: &str, user_id: &str) -> String {
    let path = path.split('?').next().unwrap_or(path);
    path.replace(user_id, "{id}")
        .replace("01900000-0000-7000-8000-000000000000", "{id}")
        .replace(ATTACHMENT, "{attachment_id}")
}

async fn call(app: &TestApp, caller: &Caller, method: &str, path: &str, body: Option<&Value>, n: usize) -> Reply {
    let mut rb = app.request(method.parse().unwrap(), path, None);
    rb = match caller {
        Caller::Anonymous => rb,
        Caller::Session(_, token) => rb.bearer_auth(token),
        Caller::Key(_, key) => rb.header("x-api-key", key),
    };
    if path.ends_with("/auth/token") {
        return app
            .send(rb.form(&[("grant_type", "password"), ("username", "user@example.com"), ("password", PASSWORD)]))
            .await;
    }
    if method == "DELETE" || (method == "PATCH" && path.contains("/users/")) {
        rb = rb.header("if-match", "\"v999\"");
    }
    if let Some(body) = body {
        let mut text =
            body.to_string().replace("{fresh}", &format!("fresh{n}@example.com")).replace("{sku}", &format!("MX-{n}"));
        if text.contains("{refresh}") {
            text = text.replace("{refresh}", &app.login("user@example.com", PASSWORD).await.refresh);
        }
        rb = rb.header("content-type", "application/json").body(text);
    }
    app.send(rb).await
}

async fn session(app: &TestApp, email: &str, role: Role) -> (String, Tokens) {
    app.signed_in_as(email, role).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_route_admits_exactly_the_callers_the_rbac_table_allows_on_postgres() {
    every_route_admits_exactly_the_callers_the_rbac_table_allows(Backend::Postgres).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_route_admits_exactly_the_callers_the_rbac_table_allows_through_pgbouncer() {
    every_route_admits_exactly_the_callers_the_rbac_table_allows(Backend::PgBouncer).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_route_admits_exactly_the_callers_the_rbac_table_allows_on_sqlite() {
    every_route_admits_exactly_the_callers_the_rbac_table_allows(Backend::Sqlite).await;
}

async fn every_route_admits_exactly_the_callers_the_rbac_table_allows(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let (user_id, user) = session(&app, "user@example.com", Role::User).await;
    let (_, manager) = session(&app, "manager@example.com", Role::Manager).await;
    let (_, admin) = session(&app, "admin@example.com", Role::Admin).await;
    let (_, key_owner) = session(&app, "keys@example.com", Role::Admin).await;
    let mut callers = vec![
        Caller::Anonymous,
        Caller::Session(Role::User, user.access),
        Caller::Session(Role::Manager, manager.access),
        Caller::Session(Role::Admin, admin.access),
    ];
    for scope in Scope::ALL {
        let r = app
            .post(
                "/api/v1/api-keys",
                &json!({"name": scope.as_str(), "scopes": [scope.as_str()]}),
                Some(&key_owner.access),
            )
            .await;
        assert_eq!(r.status, 201, "{r}");
        callers.push(Caller::Key(scope, r.body["key"].as_str().unwrap().to_owned()));
    }

    let table = routes(&user_id);
    let covered: BTreeSet<(String, String)> =
        table.iter().map(|(m, p, ..)| ((*m).to_owned(), template(p, &user_id))).collect();
    let mounted: BTreeSet<(String, String)> = rivet_http::mounted_routes().into_iter().collect();
    assert_eq!(covered, mounted, "the matrix must list every mounted route, and only those");

    let mut failures = Vec::new();
    let mut cells = 0;
    for (i, (method, path, rule, body)) in table.iter().enumerate() {
        for (j, caller) in callers.iter().enumerate() {
            let want = expected(*rule, caller);
            let r = call(&app, caller, method, path, body.as_ref(), i * 100 + j).await;
            cells += 1;
            let ok = match want {
                Expect::Allowed => r.status != 401 && r.status != 403 && r.status < 500,
                Expect::Unauthenticated => r.status == 401,
                Expect::Forbidden => r.status == 403 && matches!(r.code(), "forbidden" | "insufficient_scope"),
            };
            if !ok {
                failures.push(format!("{method} {path} as {caller:?}: expected {want:?}, got {r}"));
            }
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {cells} cells disagree with the RBAC table:\n{}",
        failures.len(),
        failures.join("\n")
    );
    assert_eq!(cells, table.len() * callers.len());
    println!("access matrix: {} routes x {} callers = {cells} cells", table.len(), callers.len());
}
