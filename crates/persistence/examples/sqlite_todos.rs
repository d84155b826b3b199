//! Rivet's persistence on its own: open an SQLite file, apply the embedded
//! migrations, store a user, and add and list their todos through the
//! domain's use cases. Run with
//! `cargo run -p rivet-persistence --example sqlite_todos`.

use rivet_domain::collection::{PageRequest, Sort};
use rivet_domain::ports::UserRepository;
use rivet_domain::time::now;
use rivet_domain::todo::{NewTodoInput, TodoFilter, TodoQuery, TodoSort, Todos};
use rivet_domain::user::{Email, NewUser, UserId};
use rivet_persistence::{Database, DbOptions, TodoStore, UserStore};
use std::sync::Arc;

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let dir = std::env::temp_dir().join(format!("rivet-example-{}", std::process::id()));
    let db = Database::connect(&DbOptions {
        max_connections: 4,
        ..DbOptions::new(format!("sqlite://{}/todos.db", dir.display()))
    })?;
    let applied = db.migrate().await?;
    println!("applied {} migrations to {}", applied.len(), dir.display());

    // A real service hashes the password with rivet-auth's BcryptHasher.
    let users = UserStore::new(db.clone());
    let ada = users
        .insert(NewUser {
            id: UserId::new(),
            email: Email::parse("ada@example.com").map_err(|e| e.message)?,
            full_name: None,
            password_hash: "$2b$12$not-a-real-hash-for-this-example".into(),
            role: rivet_domain::Role::User,
            created_at: now(),
        })
        .await?;

    let todos = Todos::new(Arc::new(TodoStore::new(db.clone())));
    for (title, tags) in [("Write the report", vec!["work"]), ("Buy milk", vec!["home", "errand"])] {
        let input = NewTodoInput {
            title: title.into(),
            tags: Some(tags.into_iter().map(str::to_owned).collect()),
            ..NewTodoInput::default()
        };
        todos.create(ada.id, input).await?;
    }
    let filter = TodoFilter { tag: Some("home".into()), today: now().date_naive(), ..TodoFilter::default() };
    let page = PageRequest::new(None, None, None, true)?;
    let query = TodoQuery { filter, sort: Sort::by(TodoSort::CreatedAt, true), page };
    let found = todos.list(ada.id, &query).await?;
    for todo in &found.items {
        let tags: Vec<&str> = todo.tags.iter().map(|t| t.as_str()).collect();
        println!("{}: {} {tags:?}", ada.email, todo.title.as_str());
    }
    assert_eq!(found.total, Some(1));
    db.close();
    std::fs::remove_dir_all(&dir)?;
    Ok(())
}
