//! Loading a page never costs a query per row: a page of todos with their
//! tags is one query for the todos and one for all of their tags, whatever
//! the page size. Counted with diesel's instrumentation on both backends.
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

fn counting() -> Option<Box<dyn Instrumentation>> {
    Some(Box::new(|event: InstrumentationEvent<'_>| {
        if matches!(event, InstrumentationEvent::StartQuery { .. }) {
            STATEMENTS.fetch_add(1, Ordering::SeqCst);
        }
    }))
}

async fn statements_for_a_page(backend: &str) -> (usize, usize) {
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
    (plain, with_total)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_page_of_25_todos_with_tags_takes_two_statements_on_both_backends() {
    for backend in ["sqlite", "postgres"] {
        let (plain, with_total) = statements_for_a_page(backend).await;
        println!("{backend}: {plain} statements for a page of 25 todos with tags, {with_total} with include_total");
        assert_eq!((plain, with_total), (2, 3), "{backend}: page query + one tag query (+ one count)");
    }
}
