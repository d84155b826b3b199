//! `GET /api/v1/users`: paging, filters and sorting through the shared
//! collection machinery, on both databases.

use rivet_domain::Role;
use rivet_e2e::{PASSWORD, Reply, TestApp, on_both_backends};
use serde_json::json;
use std::collections::HashSet;

/// Follows `next_cursor` from `first` to the end; returns every email seen.
async fn walk(app: &TestApp, first: &str, token: &str, mut between_pages: impl AsyncFnMut(usize)) -> Vec<String> {
    let mut seen = Vec::new();
    let mut path = first.to_owned();
    for page in 0..100 {
        let r = app.get(&path, Some(token)).await;
        assert_eq!(r.status, 200, "{r}");
        seen.extend(r.body["items"].as_array().unwrap().iter().map(|u| u["email"].as_str().unwrap().to_owned()));
        let Some(cursor) = r.body["next_cursor"].as_str() else {
            assert!(r.header("link").is_none(), "no Link on the last page");
            return seen;
        };
        let link = r.header("link").expect("a Link header accompanies a next page");
        assert!(link.ends_with("rel=\"next\"") && link.contains("cursor="), "{link}");
        path = link.trim_start_matches('<').split('>').next().unwrap().to_owned();
        assert!(path.contains(&format!("cursor={}", cursor.replace('=', "%3D"))) || path.contains("cursor="), "{path}");
        between_pages(page).await;
    }
    panic!("the walk did not end");
}

async fn admin(app: &TestApp) -> String {
    app.signed_in_as("admin@example.com", Role::Admin).await.1.access
}

fn emails(r: &Reply) -> Vec<&str> {
    r.body["items"].as_array().unwrap().iter().map(|u| u["email"].as_str().unwrap()).collect()
}

async fn a_cursor_walk_returns_every_user_once_even_while_users_register(app: TestApp) {
    let token = admin(&app).await;
    for i in 0..23 {
        app.register(&format!("user{i:02}@example.com"), PASSWORD).await;
    }
    let mut newcomers = 0;
    for sort in ["-created_at", "created_at", "email", "-full_name,email"] {
        let seen = walk(&app, &format!("/api/v1/users?limit=7&sort={sort}"), &token, async |page| {
            if page < 2 {
                newcomers += 1;
                app.register(&format!("newcomer{newcomers:02}@example.com"), PASSWORD).await;
            }
        })
        .await;
        let unique: HashSet<&String> = seen.iter().collect();
        assert_eq!(unique.len(), seen.len(), "{sort}: no user twice: {seen:?}");
        for i in 0..23 {
            assert!(seen.contains(&format!("user{i:02}@example.com")), "{sort}: user{i:02} missing from {seen:?}");
        }
        assert!(seen.contains(&"admin@example.com".to_owned()));
    }
}

async fn pages_come_in_the_requested_order_with_a_total_on_request(app: TestApp) {
    let token = admin(&app).await;
    for name in ["carol", "alice", "bob"] {
        app.register(&format!("{name}@example.com"), PASSWORD).await;
    }
    let newest = app.get("/api/v1/users", Some(&token)).await;
    assert_eq!(
        emails(&newest),
        ["bob@example.com", "alice@example.com", "carol@example.com", "admin@example.com"],
        "default: newest first"
    );
    assert!(newest.body["total"].is_null() && newest.body["next_cursor"].is_null(), "{newest}");
    let by_email = app.get("/api/v1/users?sort=email&limit=2&include_total=true", Some(&token)).await;
    assert_eq!(emails(&by_email), ["admin@example.com", "alice@example.com"]);
    assert_eq!(by_email.body["total"], 4);
    let offset = app.get("/api/v1/users?sort=-email&offset=1&limit=2", Some(&token)).await;
    assert_eq!(emails(&offset), ["bob@example.com", "alice@example.com"], "{offset}");
}

async fn filters_narrow_the_list(app: TestApp) {
    let token = admin(&app).await;
    let (manager_id, _) = app.signed_in_as("boss@example.com", Role::Manager).await;
    app.register("ada.lovelace@example.com", PASSWORD).await;
    let (_, ada) = app.signed_in_user("ada@analytical.example").await;
    app.patch("/api/v1/users/me", &json!({"full_name": "Augusta ADA King"}), Some(&ada.access)).await;
    let (plain_id, _) = app.signed_in_as("dormant@example.com", Role::User).await;
    app.patch(&format!("/api/v1/users/{plain_id}"), &json!({"is_active": false}), Some(&token)).await;

    let staff = app.get("/api/v1/users?role=manager,admin&sort=email", Some(&token)).await;
    assert_eq!(emails(&staff), ["admin@example.com", "boss@example.com"], "{staff}");
    let repeated = app.get("/api/v1/users?role=manager&role=admin&sort=email", Some(&token)).await;
    assert_eq!(emails(&repeated), ["admin@example.com", "boss@example.com"], "a repeated role is the same list");
    assert_eq!(app.get("/api/v1/users?role=manager", Some(&token)).await.body["items"][0]["id"], manager_id.as_str());
    let inactive = app.get("/api/v1/users?is_active=false", Some(&token)).await;
    assert_eq!(emails(&inactive), ["dormant@example.com"]);
    let ada_matches = app.get("/api/v1/users?q=ADA&sort=email", Some(&token)).await;
    assert_eq!(
        emails(&ada_matches),
        ["ada.lovelace@example.com", "ada@analytical.example"],
        "email or name, any case: {ada_matches}"
    );
    let by_name = app.get("/api/v1/users?q=king", Some(&token)).await;
    assert_eq!(emails(&by_name), ["ada@analytical.example"]);
    let wildcard = app.get("/api/v1/users?q=%25", Some(&token)).await;
    assert_eq!(emails(&wildcard).len(), 0, "% is matched literally: {wildcard}");
    let injection = app.get("/api/v1/users?q=%27%3B%20DROP%20TABLE%20users%3B%20--", Some(&token)).await;
    assert_eq!((injection.status, emails(&injection).len()), (200, 0), "{injection}");
    let future = app.get("/api/v1/users?created_after=2999-01-01T00:00:00Z", Some(&token)).await;
    assert_eq!(emails(&future).len(), 0);
    let past = app.get("/api/v1/users?created_before=2999-01-01T00:00:00Z&include_total=true", Some(&token)).await;
    assert_eq!(past.body["total"], 5);
}

async fn bad_paging_and_filter_parameters_are_422_naming_them(app: TestApp) {
    let token = admin(&app).await;
    app.register("someone@example.com", PASSWORD).await;
    let cases = [
        ("limit=0", "limit"),
        ("limit=101", "limit"),
        ("limit=ten", "limit"),
        ("offset=10001", "offset"),
        ("sort=password_hash", "sort"),
        ("sort=email,email", "sort"),
        ("role=root", "role"),
        ("is_active=yes", "is_active"),
        ("created_after=yesterday", "created_after"),
        ("include_total=1", "include_total"),
    ];
    for (query, field) in cases {
        let r = app.get(&format!("/api/v1/users?{query}"), Some(&token)).await;
        assert_eq!((r.status, r.code()), (422, "validation_failed"), "{query}: {r}");
        assert_eq!(
            (r.body["errors"][0]["location"].as_str(), r.body["errors"][0]["field"].as_str()),
            (Some("query"), Some(field)),
            "{query}: {r}"
        );
    }
    let unknown = app.get("/api/v1/users?rol=admin", Some(&token)).await;
    assert_eq!(
        (unknown.status, unknown.code(), unknown.body["errors"][0]["field"].as_str()),
        (422, "unknown_field", Some("rol")),
        "{unknown}"
    );

    let first = app.get("/api/v1/users?limit=1&sort=email", Some(&token)).await;
    let cursor = first.body["next_cursor"].as_str().unwrap().to_owned();
    let other_sort = app.get(&format!("/api/v1/users?limit=1&sort=-email&cursor={cursor}"), Some(&token)).await;
    assert_eq!(
        (other_sort.status, other_sort.code(), other_sort.body["errors"][0]["field"].as_str()),
        (422, "invalid_cursor", Some("cursor")),
        "{other_sort}"
    );
    let mut bytes = cursor.clone().into_bytes();
    bytes[5] = if bytes[5] == b'x' { b'y' } else { b'x' };
    let tampered = String::from_utf8(bytes).unwrap();
    let r = app.get(&format!("/api/v1/users?limit=1&sort=email&cursor={tampered}"), Some(&token)).await;
    assert_eq!(
        (r.status, r.code(), r.body["errors"][0]["location"].as_str()),
        (422, "invalid_cursor", Some("query")),
        "{r}"
    );
    let both = app.get(&format!("/api/v1/users?sort=email&offset=1&cursor={cursor}"), Some(&token)).await;
    assert_eq!((both.status, both.body["errors"][0]["field"].as_str()), (422, Some("offset")), "{both}");
    let ok = app.get(&format!("/api/v1/users?limit=1&sort=email&cursor={cursor}"), Some(&token)).await;
    assert_eq!(ok.status, 200, "{ok}");
}

async fn only_holders_of_users_read_may_list(app: TestApp) {
    let (_, user) = app.signed_in_user("user@example.com").await;
    let (_, manager) = app.signed_in_as("manager@example.com", Role::Manager).await;
    for t in [&user, &manager] {
        assert_eq!(app.get("/api/v1/users", Some(&t.access)).await.code(), "forbidden");
    }
    assert_eq!(app.get("/api/v1/users", None).await.code(), "unauthenticated");
}

on_both_backends!(
    a_cursor_walk_returns_every_user_once_even_while_users_register,
    pages_come_in_the_requested_order_with_a_total_on_request,
    filters_narrow_the_list,
    bad_paging_and_filter_parameters_are_422_naming_them,
    only_holders_of_users_read_may_list
);
