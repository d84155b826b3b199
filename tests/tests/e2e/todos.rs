//! `/api/v1/todos` and the stats endpoints, on both databases.

use chrono::{Duration, Utc};
use rivet_domain::Role;
use rivet_e2e::{Reply, TestApp, on_both_backends};
use serde_json::{Value, json};

async fn create(app: &TestApp, token: &str, body: Value) -> Value {
    let r = app.post("/api/v1/todos", &body, Some(token)).await;
    assert_eq!(r.status, 201, "{r}");
    r.body
}

fn titles(r: &Reply) -> Vec<&str> {
    r.body["items"]
        .as_array()
        .unwrap_or_else(|| panic!("a list: {r}"))
        .iter()
        .map(|t| t["title"].as_str().unwrap())
        .collect()
}

fn day(offset: i64) -> String {
    (Utc::now().date_naive() + Duration::days(offset)).to_string()
}

async fn a_todo_is_created_with_defaults_read_patched_and_deleted(app: TestApp) {
    let (_, t) = app.signed_in_user("ada@example.com").await;
    let body = json!({
        "title": "  Write the report ", "tags": ["work", "q3"], "due_date": "2031-02-03", "description": "long"
    });
    let r = app.post("/api/v1/todos", &body, Some(&t.access)).await;
    assert_eq!(r.status, 201, "{r}");
    let id = r.body["id"].as_str().unwrap().to_owned();
    assert_eq!(r.header("location"), Some(format!("/api/v1/todos/{id}").as_str()));
    assert_eq!(r.header("etag"), Some("\"v1\""));
    assert_eq!(
        (r.body["title"].as_str(), r.body["status"].as_str(), r.body["priority"].as_str()),
        (Some("Write the report"), Some("pending"), Some("medium"))
    );
    assert_eq!(r.body["tags"], json!(["q3", "work"]), "tags come back sorted");
    assert!(r.body["completed_at"].is_null());
    let path = format!("/api/v1/todos/{id}");
    let read = app.get(&path, Some(&t.access)).await;
    assert_eq!(read.body, r.body, "{read}");
    let patched =
        app.patch(&path, &json!({"description": null, "due_date": null, "priority": "urgent"}), Some(&t.access)).await;
    assert_eq!(patched.status, 200, "{patched}");
    assert!(patched.body["description"].is_null() && patched.body["due_date"].is_null());
    assert_eq!(
        (patched.body["priority"].as_str(), patched.body["title"].as_str(), patched.body["version"].as_i64()),
        (Some("urgent"), Some("Write the report"), Some(2))
    );
    assert_eq!(patched.body["tags"], json!(["q3", "work"]), "absent fields stay");
    assert_eq!(app.delete(&path, Some(&t.access)).await.status, 204);
    assert_eq!(app.get(&path, Some(&t.access)).await.code(), "not_found");
}

async fn completed_at_is_set_by_done_and_cleared_by_leaving_it(app: TestApp) {
    let (_, t) = app.signed_in_user("ada@example.com").await;
    let todo = create(&app, &t.access, json!({"title": "Ship"})).await;
    let path = format!("/api/v1/todos/{}", todo["id"].as_str().unwrap());
    let done = app.patch(&path, &json!({"status": "done"}), Some(&t.access)).await;
    let at = done.body["completed_at"].as_str().expect("set on done").to_owned();
    let again = app.patch(&path, &json!({"status": "done", "title": "Shipped"}), Some(&t.access)).await;
    assert_eq!(again.body["completed_at"].as_str(), Some(at.as_str()));
    let reopened = app.patch(&path, &json!({"status": "in_progress"}), Some(&t.access)).await;
    assert!(reopened.body["completed_at"].is_null(), "{reopened}");
    let born_done = create(&app, &t.access, json!({"title": "Already", "status": "done"})).await;
    assert!(born_done["completed_at"].is_string());
}

async fn bad_todos_are_refused_field_by_field(app: TestApp) {
    let (_, t) = app.signed_in_user("ada@example.com").await;
    let body = json!({
        "title": "", "status": "later", "priority": "asap",
        "tags": ["ok", "Not OK", "ok"], "description": "x".repeat(10_001)
    });
    let r = app.post("/api/v1/todos", &body, Some(&t.access)).await;
    assert_eq!(r.status, 422, "{r}");
    let mut fields: Vec<&str> =
        r.body["errors"].as_array().unwrap().iter().map(|e| e["field"].as_str().unwrap()).collect();
    fields.sort_unstable();
    assert_eq!(fields, ["description", "priority", "status", "tags[1]", "tags[2]", "title"]);
    let many: Vec<String> = (0..21).map(|i| format!("t{i}")).collect();
    assert_eq!(
        app.post("/api/v1/todos", &json!({"title": "x", "tags": many}), Some(&t.access)).await.body["errors"][0]["field"],
        "tags"
    );
    let date = app.post("/api/v1/todos", &json!({"title": "x", "due_date": "31/12/2030"}), Some(&t.access)).await;
    assert_eq!((date.status, date.body["errors"][0]["field"].as_str()), (422, Some("due_date")), "{date}");
    for field in ["id", "owner_id", "version", "completed_at", "created_at"] {
        let mut body = json!({"title": "x"});
        body[field] = json!("2030-01-01T00:00:00Z");
        assert_eq!(app.post("/api/v1/todos", &body, Some(&t.access)).await.code(), "unknown_field", "{field}");
    }
    let todo = create(&app, &t.access, json!({"title": "x"})).await;
    let null_title = app
        .patch(&format!("/api/v1/todos/{}", todo["id"].as_str().unwrap()), &json!({"title": null}), Some(&t.access))
        .await;
    assert_eq!((null_title.status, null_title.body["errors"][0]["code"].as_str()), (422, Some("null")), "{null_title}");
    assert_eq!(app.get("/api/v1/todos/not-a-uuid", Some(&t.access)).await.status, 422);
}

async fn another_users_todo_does_not_exist_for_any_method(app: TestApp) {
    let (_, ada) = app.signed_in_user("ada@example.com").await;
    let (_, eve) = app.signed_in_user("eve@example.com").await;
    let todo = create(&app, &ada.access, json!({"title": "private"})).await;
    let path = format!("/api/v1/todos/{}", todo["id"].as_str().unwrap());
    assert_eq!(app.get(&path, Some(&eve.access)).await.code(), "not_found");
    assert_eq!(app.patch(&path, &json!({"title": "mine now"}), Some(&eve.access)).await.code(), "not_found");
    assert_eq!(app.delete(&path, Some(&eve.access)).await.code(), "not_found");
    assert_eq!(titles(&app.get("/api/v1/todos", Some(&eve.access)).await).len(), 0);
    assert_eq!(app.get(&path, Some(&ada.access)).await.body["title"], "private", "untouched");
    assert_eq!(app.get("/api/v1/todos", None).await.code(), "unauthenticated");
}

async fn conditional_requests_use_the_version(app: TestApp) {
    let (_, t) = app.signed_in_user("ada@example.com").await;
    let todo = create(&app, &t.access, json!({"title": "v1"})).await;
    let path = format!("/api/v1/todos/{}", todo["id"].as_str().unwrap());
    let cached =
        app.send(app.request(reqwest::Method::GET, &path, Some(&t.access)).header("if-none-match", "\"v1\"")).await;
    assert_eq!((cached.status, cached.text.as_str(), cached.header("etag")), (304, "", Some("\"v1\"")));
    let stale = app
        .send(
            app.request(reqwest::Method::PATCH, &path, Some(&t.access))
                .header("if-match", "\"v7\"")
                .json(&json!({"title": "x"})),
        )
        .await;
    assert_eq!((stale.status, stale.code()), (412, "precondition_failed"), "{stale}");
    let ok = app
        .send(
            app.request(reqwest::Method::PATCH, &path, Some(&t.access))
                .header("if-match", "\"v1\"")
                .json(&json!({"title": "v2"})),
        )
        .await;
    assert_eq!((ok.status, ok.header("etag")), (200, Some("\"v2\"")), "{ok}");
    let fresh =
        app.send(app.request(reqwest::Method::GET, &path, Some(&t.access)).header("if-none-match", "\"v1\"")).await;
    assert_eq!(fresh.status, 200, "an old tag no longer matches");
    let race = |title: &'static str| {
        app.send(
            app.request(reqwest::Method::PATCH, &path, Some(&t.access))
                .header("if-match", "\"v2\"")
                .json(&json!({"title": title})),
        )
    };
    let (a, b) = tokio::join!(race("from A"), race("from B"));
    let mut statuses = [a.status, b.status];
    statuses.sort_unstable();
    assert_eq!(statuses, [200, 412], "exactly one of two writers holding v2 wins: {a} / {b}");
    let winner = if a.status == 200 { "from A" } else { "from B" };
    assert_eq!(app.get(&path, Some(&t.access)).await.body["title"], winner, "no lost update");
    let gone =
        app.send(app.request(reqwest::Method::DELETE, &path, Some(&t.access)).header("if-match", "\"v2\"")).await;
    assert_eq!(gone.status, 412);
    assert_eq!(
        app.send(app.request(reqwest::Method::DELETE, &path, Some(&t.access)).header("if-match", "\"v3\""))
            .await
            .status,
        204
    );
}

async fn filters_and_sorts_follow_the_spec(app: TestApp) {
    let (_, t) = app.signed_in_user("ada@example.com").await;
    let a = &t.access;
    create(&app, a, json!({"title": "late report", "due_date": day(-3), "priority": "high", "tags": ["work"]})).await;
    let milk = json!({
        "title": "Buy MILK", "due_date": day(0), "priority": "low", "tags": ["home"], "description": "and bread"
    });
    create(&app, a, milk).await;
    create(&app, a, json!({"title": "finished late", "due_date": day(-5), "status": "done", "priority": "urgent"}))
        .await;
    create(&app, a, json!({"title": "someday", "priority": "medium"})).await;
    let next_week = json!({
        "title": "next week", "due_date": day(7), "status": "in_progress", "priority": "urgent", "tags": ["work", "home"]
    });
    create(&app, a, next_week).await;
    let get = async |q: &str| app.get(&format!("/api/v1/todos?{q}"), Some(a)).await;
    assert_eq!(
        titles(&get("sort=-priority,title").await),
        ["finished late", "next week", "late report", "someday", "Buy MILK"],
        "by rank, not by name"
    );
    assert_eq!(
        titles(&get("sort=due_date").await),
        ["finished late", "late report", "Buy MILK", "next week", "someday"],
        "undated last"
    );
    assert_eq!(titles(&get("sort=-due_date&limit=2").await), ["someday", "next week"]);
    assert_eq!(titles(&get("overdue=true").await), ["late report"]);
    assert_eq!(titles(&get("overdue=false&sort=title").await), ["Buy MILK", "finished late", "next week", "someday"]);
    assert_eq!(titles(&get("status=pending,in_progress&priority=urgent").await), ["next week"]);
    // A list repeated by name, as many generated clients send it, is the same list.
    assert_eq!(titles(&get("status=pending&status=in_progress&priority=urgent").await), ["next week"]);
    assert_eq!(titles(&get("priority=low&priority=urgent&status=done").await), ["finished late"]);
    assert_eq!(get("tag=home&tag=work").await.status, 422, "a single-valued filter is not a list");
    assert_eq!(titles(&get("tag=home&sort=title").await), ["Buy MILK", "next week"]);
    assert_eq!(
        titles(&get(&format!("due_before={}&due_after={}&sort=title", day(1), day(-4))).await),
        ["Buy MILK", "late report"]
    );
    assert_eq!(titles(&get("q=milk").await), ["Buy MILK"]);
    assert_eq!(titles(&get("q=BREAD").await), ["Buy MILK"], "the description is searched too");
    assert_eq!(titles(&get("created_after=2999-01-01T00:00:00Z").await).len(), 0);
    for bad in ["status=later", "priority=p1", "overdue=maybe", "due_before=tomorrow", "sort=owner_id", "colour=red"] {
        assert_eq!(get(bad).await.status, 422, "{bad}");
    }
}

async fn statistics_summarise_ones_own_todos(app: TestApp) {
    let (user_id, t) = app.signed_in_as("ada@example.com", Role::User).await;
    let (_, admin) = app.signed_in_as("admin@example.com", Role::Admin).await;
    create(&app, &t.access, json!({"title": "late", "due_date": day(-1)})).await;
    create(&app, &t.access, json!({"title": "today", "due_date": day(0), "priority": "urgent"})).await;
    create(&app, &t.access, json!({"title": "done", "status": "done", "priority": "low"})).await;
    let mine = app.get("/api/v1/users/me/stats", Some(&t.access)).await;
    assert_eq!(mine.status, 200, "{mine}");
    assert_eq!(
        mine.body,
        json!({"todos": {
        "total": 3, "by_status": {"pending": 2, "in_progress": 0, "done": 1},
        "by_priority": {"low": 1, "medium": 1, "high": 0, "urgent": 1},
        "overdue": 1, "due_today": 1, "completed_last_7_days": 1, "completion_rate": 0.3333},
        "storage_bytes": 0})
    );
    let by_admin = app.get(&format!("/api/v1/users/{user_id}/stats"), Some(&admin.access)).await;
    assert_eq!(by_admin.body, mine.body);
    assert_eq!(app.get(&format!("/api/v1/users/{user_id}/stats"), Some(&t.access)).await.code(), "forbidden");
    assert_eq!(
        app.get(&format!("/api/v1/users/{}/stats", uuid::Uuid::now_v7()), Some(&admin.access)).await.code(),
        "not_found"
    );
    assert_eq!(app.get("/api/v1/users/me/stats", Some(&admin.access)).await.body["todos"]["total"], 0);
}

async fn a_cursor_walk_over_todos_sees_each_once_while_todos_are_added(app: TestApp) {
    let (_, t) = app.signed_in_user("ada@example.com").await;
    for i in 0..17 {
        let priority = ["low", "medium", "high", "urgent"][i % 4];
        let due = if i % 3 == 0 { Value::Null } else { json!(day(i as i64)) };
        create(&app, &t.access, json!({"title": format!("t{i:02}"), "priority": priority, "due_date": due})).await;
    }
    for sort in ["-priority,title", "due_date", "-created_at", "title", "-updated_at"] {
        let mut seen: Vec<String> = Vec::new();
        let mut path = format!("/api/v1/todos?limit=4&sort={sort}");
        loop {
            let r = app.get(&path, Some(&t.access)).await;
            assert_eq!(r.status, 200, "{r}");
            seen.extend(titles(&r).into_iter().map(str::to_owned));
            create(&app, &t.access, json!({"title": format!("new during {sort}")})).await;
            let Some(c) = r.body["next_cursor"].as_str() else { break };
            path = format!("/api/v1/todos?limit=4&sort={sort}&cursor={c}");
        }
        for i in 0..17 {
            assert_eq!(
                seen.iter().filter(|s| **s == format!("t{i:02}")).count(),
                1,
                "{sort}: t{i:02} exactly once in {seen:?}"
            );
        }
    }
}

on_both_backends!(
    a_todo_is_created_with_defaults_read_patched_and_deleted,
    completed_at_is_set_by_done_and_cleared_by_leaving_it,
    bad_todos_are_refused_field_by_field,
    another_users_todo_does_not_exist_for_any_method,
    conditional_requests_use_the_version,
    filters_and_sorts_follow_the_spec,
    statistics_summarise_ones_own_todos,
    a_cursor_walk_over_todos_sees_each_once_while_todos_are_added
);
