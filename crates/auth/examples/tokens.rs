//! Rivet's authentication on its own: bcrypt hashing off the async workers,
//! a signed access token issued and verified, and a refresh token rotated on
//! use — presenting the spent one again ends the whole session (RFC 9700).
//! Users and sessions live in SQLite through `rivet-persistence` here; any
//! implementation of the domain's ports would do. Run with
//! `cargo run -p rivet-auth --example tokens`.

use rivet_auth::{AuthError, AuthService, AuthSettings, BcryptHasher, JwtCodec};
use rivet_domain::ports::{PasswordHasher, UserRepository};
use rivet_domain::user::{Email, NewUser, Password, UserId};
use rivet_persistence::{Database, DbOptions, SessionStore, UserStore};
use std::sync::Arc;
use std::time::Duration;

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
    // Hashing: cost 10 keeps the example quick; production uses 12.
    let hasher = Arc::new(BcryptHasher::new(10, BcryptHasher::default_concurrency()));
    let email = Email::parse("ada@example.com").map_err(|e| e.message)?;
    let password = Password::parse("correct horse battery staple", Some(&email)).map_err(|e| e.message)?;
    let hash = hasher.hash(&password).await?;
    assert!(hasher.verify("correct horse battery staple", &hash).await?);
    assert!(!hasher.verify("wrong horse", &hash).await?);
    println!("bcrypt hash verified; a wrong password is refused");

    let dir = std::env::temp_dir().join(format!("rivet-auth-example-{}", std::process::id()));
    let db = Database::connect(&DbOptions {
        max_connections: 4,
        ..DbOptions::new(format!("sqlite://{}/auth.db", dir.display()))
    })?;
    db.migrate().await?;
    let users = Arc::new(UserStore::new(db.clone()));
    let role = rivet_domain::Role::User;
    let new_user = NewUser {
        id: UserId::new(),
        email,
        full_name: None,
        password_hash: hash,
        role,
        created_at: rivet_domain::time::now(),
    };
    users.insert(new_user).await?;

    let jwt = JwtCodec::new(&rivet_auth::JwtSettings::hs256(b"an example secret of at least 32 bytes!!"))?;
    let settings =
        AuthSettings { refresh_ttl: Duration::from_secs(30 * 24 * 3600), status_cache_ttl: Duration::from_secs(4) };
    let auth = AuthService::new(users, Arc::new(SessionStore::new(db.clone())), hasher, jwt, settings).await?;

    let (user, first) = auth.login("ada@example.com", "correct horse battery staple").await?;
    let principal = auth.authenticate(&first.access_token).await?;
    assert_eq!(principal.user_id, user.id);
    println!("logged in; the access token verifies as {}", user.email);

    let second = auth.refresh(&first.refresh_token).await?;
    assert_ne!(second.refresh_token, first.refresh_token);
    println!("refresh rotated the token");

    let reused = auth.refresh(&first.refresh_token).await;
    assert!(matches!(reused, Err(AuthError::RefreshTokenReused)));
    let after = auth.refresh(&second.refresh_token).await;
    assert!(after.is_err(), "reuse ended the whole session");
    println!("presenting the spent token again ended the session: {:?}", reused.err().map(|e| e.to_string()));

    db.close();
    std::fs::remove_dir_all(&dir)?;
    Ok(())
}
