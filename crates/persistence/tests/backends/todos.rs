//! Todo repository tests, one body per backend.

use crate::common;

use common::{Stores, new_user};
use rivet_domain::collection::{PageRequest, Sort, Start};
use rivet_domain::ports::{TodoRepository, Updated, UserRepository};
use rivet_domain::time::now;
use rivet_domain::todo::*;
use rivet_domain::version::IfVersion;
use rivet_domain::{Role, UserId};

async fn owner(s: &Stores, email: &str) -> UserId {
    let u = new_user(email, Role::User);
    s.users.insert(u.clone()).await.unwrap();
    u.id
}

fn new_todo(owner: UserId, title: &str, tags: &[&str]) -> NewTodo {
    NewTodo {
        id: TodoId::new(),
        owner_id: owner,
        title: TodoTitle::parse(title).unwrap(),
        description: None,
        status: Status::Pending,
        priority: Priority::Medium,
        due_date: None,
        tags: tags.iter().map(|t| Tag::parse(t).unwrap()).collect(),
        created_at: now(),
    }
}

fn query(sort: Sort<TodoSort>, limit: u32) -> TodoQuery {
    TodoQuery {
        filter: TodoFilter { today: now().date_naive(), ..Default::default() },
        sort,
        page: PageRequest { limit, start: Start::First, include_total: true },
    }
}

async fn completed_at_follows_the_status_and_keeps_its_first_value(s: Stores) {
    let me = owner(&s, "ada@example.com").await;
    let todo = s.todos.insert(new_todo(me, "Write tests", &["b", "a"])).await.unwrap();
    assert_eq!(todo.completed_at, None);
    let done = TodoChanges { status: Some(Status::Done), ..Default::default() };
    let Updated::Done(first) = s.todos.update(me, todo.id, &done, &IfVersion::Any, now()).await.unwrap() else {
        panic!()
    };
    let stamped = first.completed_at.expect("done sets completed_at");
    let Updated::Done(again) = s.todos.update(me, todo.id, &done, &IfVersion::Any, now()).await.unwrap() else {
        panic!()
    };
    assert_eq!(again.completed_at, Some(stamped), "staying done keeps the first completion time");
    assert_eq!(again.version, 3);
    let back = TodoChanges { status: Some(Status::InProgress), ..Default::default() };
    let Updated::Done(reopened) = s.todos.update(me, todo.id, &back, &IfVersion::Any, now()).await.unwrap() else {
        panic!()
    };
    assert_eq!(reopened.completed_at, None, "leaving done clears it");
    let stored = s.todos.find(me, todo.id).await.unwrap().unwrap();
    assert_eq!(stored, reopened, "what the update returned is what is stored");
}

async fn a_stale_version_is_refused_and_another_owner_sees_nothing(s: Stores) {
    let me = owner(&s, "ada@example.com").await;
    let other = owner(&s, "eve@example.com").await;
    let todo = s.todos.insert(new_todo(me, "Mine", &[])).await.unwrap();
    let rename = TodoChanges { title: Some(TodoTitle::parse("Renamed").unwrap()), ..Default::default() };
    assert_eq!(s.todos.update(me, todo.id, &rename, &IfVersion::OneOf(vec![7]), now()).await.unwrap(), Updated::Stale);
    assert!(matches!(
        s.todos.update(me, todo.id, &rename, &IfVersion::OneOf(vec![1]), now()).await.unwrap(),
        Updated::Done(_)
    ));
    assert_eq!(
        s.todos.delete(me, todo.id, &IfVersion::OneOf(vec![1])).await.unwrap(),
        Updated::Stale,
        "version is 2 now"
    );
    assert_eq!(s.todos.find(other, todo.id).await.unwrap(), None);
    assert_eq!(s.todos.update(other, todo.id, &rename, &IfVersion::Any, now()).await.unwrap(), Updated::NotFound);
    assert_eq!(s.todos.delete(other, todo.id, &IfVersion::Any).await.unwrap(), Updated::NotFound);
    assert_eq!(s.todos.delete(me, todo.id, &IfVersion::OneOf(vec![2])).await.unwrap(), Updated::Done(()));
}

async fn tags_are_replaced_as_a_set_and_filtered_on(s: Stores) {
    let me = owner(&s, "ada@example.com").await;
    let a = s.todos.insert(new_todo(me, "A", &["home", "urgent-ish"])).await.unwrap();
    s.todos.insert(new_todo(me, "B", &["work"])).await.unwrap();
    assert_eq!(a.tags.iter().map(Tag::as_str).collect::<Vec<_>>(), ["home", "urgent-ish"]);
    let retag = TodoChanges { tags: Some(vec![Tag::parse("work").unwrap()]), ..Default::default() };
    let Updated::Done(a) = s.todos.update(me, a.id, &retag, &IfVersion::Any, now()).await.unwrap() else { panic!() };
    assert_eq!(a.tags, vec![Tag::parse("work").unwrap()]);
    let mut q = query(Sort::by(TodoSort::Title, false), 10);
    q.filter.tag = Some("work".into());
    let page = s.todos.list(me, &q).await.unwrap();
    assert_eq!(page.items.iter().map(|t| t.title.as_str()).collect::<Vec<_>>(), ["A", "B"]);
    q.filter.tag = Some("home".into());
    assert_eq!(s.todos.list(me, &q).await.unwrap().total, Some(0));
}

async fn deleting_the_owner_deletes_the_todos(s: Stores) {
    let me = owner(&s, "ada@example.com").await;
    let todo = s.todos.insert(new_todo(me, "A", &["x"])).await.unwrap();
    assert_eq!(s.users.delete(me, &IfVersion::Any).await.unwrap(), Updated::Done(()));
    assert_eq!(s.todos.find(me, todo.id).await.unwrap(), None);
}

async fn statistics_count_in_the_database(s: Stores) {
    let me = owner(&s, "ada@example.com").await;
    let today = now().date_naive();
    let mut t = new_todo(me, "late", &[]);
    t.due_date = today.pred_opt();
    s.todos.insert(t).await.unwrap();
    let mut t = new_todo(me, "today", &[]);
    t.due_date = Some(today);
    t.priority = Priority::Urgent;
    s.todos.insert(t).await.unwrap();
    let mut t = new_todo(me, "finished late", &[]);
    t.due_date = today.pred_opt();
    t.status = Status::Done;
    s.todos.insert(t).await.unwrap();
    let stats = s.todos.stats(me, today, now()).await.unwrap();
    assert_eq!((stats.total, stats.overdue, stats.due_today, stats.completed_last_7_days), (3, 1, 1, 1));
    assert_eq!(stats.by_status, vec![(Status::Pending, 2), (Status::InProgress, 0), (Status::Done, 1)]);
    assert_eq!(
        stats.by_priority,
        vec![(Priority::Low, 0), (Priority::Medium, 2), (Priority::High, 0), (Priority::Urgent, 1)]
    );
    assert!((stats.completion_rate - 1.0 / 3.0).abs() < 1e-9);
    let nobody = owner(&s, "new@example.com").await;
    assert_eq!(s.todos.stats(nobody, today, now()).await.unwrap().completion_rate, 0.0);
}

on_both_backends!(
    completed_at_follows_the_status_and_keeps_its_first_value,
    a_stale_version_is_refused_and_another_owner_sees_nothing,
    tags_are_replaced_as_a_set_and_filtered_on,
    deleting_the_owner_deletes_the_todos,
    statistics_count_in_the_database
);
