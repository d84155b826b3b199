//! Property: walking every page of a user's todos with the cursor returns
//! each todo that existed throughout the walk exactly once — whatever the
//! sort, the page size, and however many todos are added between pages —
//! on both databases.

use crate::common;

use proptest::prelude::*;
use rivet_domain::collection::{PageRequest, Sort, SortTerm, Start};
use rivet_domain::ports::{TodoRepository, UserRepository};
use rivet_domain::time::now;
use rivet_domain::todo::*;
use rivet_domain::{Role, UserId};
use std::collections::HashMap;

#[derive(Debug, Clone)]
struct Case {
    /// (title, priority rank, due in days or none) of the todos present before the walk.
    initial: Vec<(u8, i32, Option<i64>)>,
    sort: Vec<(TodoSort, bool)>,
    limit: u32,
    /// Todos added after each of the first pages. (Unbounded additions that
    /// sort just after the cursor would keep the walk going for ever, each
    /// page rightly showing the newest: the property is about rows that
    /// existed throughout.)
    added_per_page: usize,
}

fn sort_key() -> impl Strategy<Value = TodoSort> {
    prop_oneof![
        Just(TodoSort::CreatedAt),
        Just(TodoSort::UpdatedAt),
        Just(TodoSort::DueDate),
        Just(TodoSort::Priority),
        Just(TodoSort::Title)
    ]
}

fn case() -> impl Strategy<Value = Case> {
    (
        prop::collection::vec((0u8..6, 0i32..4, prop::option::of(-3i64..3)), 0..30),
        prop::collection::vec((sort_key(), any::<bool>()), 1..3),
        1u32..8,
        0usize..3,
    )
        .prop_map(|(initial, mut sort, limit, added_per_page)| {
            sort.dedup_by_key(|(k, _)| *k);
            Case { initial, sort, limit, added_per_page }
        })
}

fn todo(owner: UserId, title: &str, rank: i32, due: Option<i64>) -> NewTodo {
    NewTodo {
        id: TodoId::new(),
        owner_id: owner,
        // Few distinct titles, ranks and dates: ties are common, so the id
        // tie-breaker is exercised.
        title: TodoTitle::parse(title).unwrap(),
        description: None,
        status: Status::Pending,
        priority: Priority::from_rank(rank).unwrap(),
        due_date: due.map(|d| now().date_naive() + chrono::Duration::days(d)),
        tags: vec![],
        created_at: now(),
    }
}

async fn walk(s: &common::Stores, c: &Case) -> Result<(), TestCaseError> {
    let user = common::new_user(&format!("walker-{}@example.com", uuid::Uuid::now_v7().simple()), Role::User);
    s.users.insert(user.clone()).await.unwrap();
    let mut existing = Vec::new();
    for (t, rank, due) in &c.initial {
        existing.push(s.todos.insert(todo(user.id, &format!("t{t}"), *rank, *due)).await.unwrap().id);
    }
    let terms: Vec<String> = c
        .sort
        .iter()
        .map(|(k, d)| format!("{}{}", if *d { "-" } else { "" }, rivet_domain::collection::SortKey::name(*k)))
        .collect();
    let sort = Sort::<TodoSort>::parse(&terms.join(",")).unwrap();
    prop_assert_eq!(
        sort.terms().iter().map(|t: &SortTerm<TodoSort>| t.key).collect::<Vec<_>>(),
        c.sort.iter().map(|(k, _)| *k).collect::<Vec<_>>()
    );
    let mut seen: HashMap<TodoId, usize> = HashMap::new();
    let mut start = Start::First;
    let mut finished = false;
    for page_number in 0..200 {
        let query = TodoQuery {
            filter: TodoFilter { today: now().date_naive(), ..Default::default() },
            sort: sort.clone(),
            page: PageRequest { limit: c.limit, start: start.clone(), include_total: false },
        };
        let page = s.todos.list(user.id, &query).await.unwrap();
        for t in &page.items {
            *seen.entry(t.id).or_default() += 1;
        }
        if page_number < 3 {
            for i in 0..c.added_per_page {
                s.todos.insert(todo(user.id, &format!("t{}", i % 6), (i % 4) as i32, None)).await.unwrap();
            }
        }
        match page.next {
            Some(p) => start = Start::After(p),
            None => {
                finished = true;
                break;
            }
        }
    }
    prop_assert!(finished, "the walk reaches the last page");
    for id in &existing {
        prop_assert_eq!(
            seen.get(id).copied(),
            Some(1),
            "todo {} seen {:?} times with sort {:?}",
            id,
            seen.get(id),
            terms
        );
    }
    prop_assert!(seen.values().all(|n| *n == 1), "no todo appears twice");
    Ok(())
}

fn check(backend: &'static str) {
    let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
    let stores = rt.block_on(common::stores(backend));
    let config = ProptestConfig { cases: 24, failure_persistence: None, ..ProptestConfig::default() };
    proptest!(config, |(c in case())| {
        rt.block_on(walk(&stores, &c))?;
    });
}

#[test]
fn a_cursor_walk_sees_every_todo_once_while_todos_are_added_on_sqlite() {
    check("sqlite");
}

#[test]
fn a_cursor_walk_sees_every_todo_once_while_todos_are_added_on_postgres() {
    check("postgres");
}
