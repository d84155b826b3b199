//! Reads cost one round trip, whatever their size: a todo with its tags is
//! one statement, and so is a page of todos with all of their tags (a count,
//! when asked for, is one more). Counted with diesel's instrumentation on
//! both backends.
//! (A binary of its own: the instrumentation hook is process-wide.)

#[path = "backends/common/mod.rs"]
mod common;

use diesel::connection::{Instrumentation, InstrumentationEvent, set_default_instrumentation};
use rivet_domain::collection::{PageRequest, Sort, Start};
use rivet_domain::ports::{TodoRepository, UserRepository};
use rivet_domain::time::now;
use rivet_domain::todo::*;
use rivet_domain::{Role, UserId};
use std::sync::atomic::{AtomicUsize, Ordering};

static STATEMENTS: AtomicUsize = AtomicUsize::new(0);
/// Statements diesel put in its prepared-statement cache (diesel's own
/// connections report it: SQLite's; Rivet's PostgreSQL connection keeps a
/// cache of its own).
static CACHED: AtomicUsize = AtomicUsize::new(0);

fn counting() -> Option<Box<dyn Instrumentation>> {
    Some(Box::new(|event: InstrumentationEvent<'_>| {
        if matches!(event, InstrumentationEvent::StartQuery { .. }) {
            STATEMENTS.fetch_add(1, Ordering::SeqCst);
        }
        if matches!(event, InstrumentationEvent::CacheQuery { .. }) {
            CACHED.fetch_add(1, Ordering::SeqCst);
        }
    }))
}

/// Statements for a page of 25, without and with its total, and for one todo.
async fn statements_for_a_page(backend: &str) -> (usize, usize, usize) {
    set_default_instrumentation(counting).unwrap();
    let s = common::stores(backend).await;
    let user = common::new_user("ada@example.com", Role::User);
    s.users.insert(user.clone()).await.unwrap();
    let me: UserId = user.id;
    for i in 0..30 {
        let tags = [format!("t{}", i % 4), format!("u{}", i % 3), "all".to_owned()];
        let todo = NewTodo {
            id: TodoId::new(),
            owner_id: me,
            title: TodoTitle::parse(&format!("todo {i:02}")).unwrap(),
            description: None,
            status: Status::Pending,
            priority: Priority::Medium,
            due_date: None,
            tags: tags.iter().map(|t| Tag::parse(t).unwrap()).collect(),
            created_at: now(),
        };
        s.todos.insert(todo).await.unwrap();
    }
    let mut query = TodoQuery {
        filter: TodoFilter { today: now().date_naive(), ..Default::default() },
        sort: Sort::by(TodoSort::CreatedAt, true),
        page: PageRequest { limit: 25, start: Start::First, include_total: false },
    };
    // Opens the connection reads run on (on a SQLite file, a pool of its own),
    // whose setup statements are not the read's.
    s.todos.list(me, &query).await.unwrap();
    let before = STATEMENTS.load(Ordering::SeqCst);
    let page = s.todos.list(me, &query).await.unwrap();
    let plain = STATEMENTS.load(Ordering::SeqCst) - before;
    assert_eq!(page.items.len(), 25);
    assert!(page.items.iter().all(|t| t.tags.len() == 3), "every todo on the page has its tags");
    query.page.include_total = true;
    let before = STATEMENTS.load(Ordering::SeqCst);
    let page = s.todos.list(me, &query).await.unwrap();
    let with_total = STATEMENTS.load(Ordering::SeqCst) - before;
    assert_eq!(page.total, Some(30));
    let first = &page.items[0];
    let before = STATEMENTS.load(Ordering::SeqCst);
    let found = s.todos.find(me, first.id).await.unwrap().expect("the todo is there");
    let one = STATEMENTS.load(Ordering::SeqCst) - before;
    assert_eq!(found.tags, first.tags, "the same tags, in the same order, read alone or in a page");
    let mut sorted = found.tags.clone();
    sorted.sort();
    assert_eq!(found.tags, sorted, "tags come in order");

    // A list filtered by statuses and priorities is one statement too, of
    // the same text however many values each filter has: prepared once,
    // then taken from the cache (on SQLite, where diesel reports caching).
    query.page.include_total = false;
    query.filter.statuses = vec![Status::Pending, Status::InProgress];
    query.filter.priorities = vec![Priority::Medium, Priority::High];
    let (before, cached) = (STATEMENTS.load(Ordering::SeqCst), CACHED.load(Ordering::SeqCst));
    assert_eq!(s.todos.list(me, &query).await.unwrap().items.len(), 25);
    let first_caches = CACHED.load(Ordering::SeqCst) - cached;
    query.filter.statuses = Status::ALL.to_vec();
    query.filter.priorities = vec![Priority::Medium];
    let cached = CACHED.load(Ordering::SeqCst);
    assert_eq!(s.todos.list(me, &query).await.unwrap().items.len(), 25);
    assert_eq!(STATEMENTS.load(Ordering::SeqCst) - before, 2, "{backend}: one statement per filtered page");
    assert_eq!(CACHED.load(Ordering::SeqCst) - cached, 0, "{backend}: other values, the same cached statement");
    if backend == "sqlite" {
        assert_eq!(first_caches, 1, "the filtered page's statement is cacheable");
    }
    query.filter.statuses = vec![Status::Done];
    assert!(s.todos.list(me, &query).await.unwrap().items.is_empty(), "{backend}: the filter filters");
    (plain, with_total, one)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_todo_or_a_page_of_25_with_tags_takes_one_statement_on_both_backends() {
    for backend in ["sqlite", "postgres"] {
        let (plain, with_total, one) = statements_for_a_page(backend).await;
        println!(
            "{backend}: {plain} statements for a page of 25 todos with tags, {with_total} with include_total, \
             {one} for one todo"
        );
        assert_eq!((plain, with_total, one), (1, 2, 1), "{backend}: the page with its tags (+ one count); one todo");
    }
}
