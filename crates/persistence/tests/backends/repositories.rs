//! Repository tests: every test body runs against SQLite and PostgreSQL.
//! PostgreSQL comes from `RIVET_TEST_DATABASE_URL` (default
//! `postgres://postgres@127.0.0.1:5432/postgres`); each test gets a fresh
//! database, dropped afterwards.

use chrono::Duration;
use rivet_domain::ports::{SessionRepository, Updated, UserRepository};
use rivet_domain::session::{Consumed, RevokeReason};
use rivet_domain::time::now;
use rivet_domain::version::IfVersion;
use rivet_domain::{Conflict, NewSession, RefreshTokenHash, RepoError, Role, SessionId, UserChanges};

use crate::common;
use common::{Stores, new_user};

async fn expired_sessions_are_purged_with_their_refresh_tokens(s: Stores) {
    let user = s.users.insert(new_user("ada@example.com", Role::User)).await.unwrap();
    let t = now();
    let (old, live) = (SessionId::new(), SessionId::new());
    let (old_token, live_token) = (RefreshTokenHash("d".repeat(64)), RefreshTokenHash("e".repeat(64)));
    s.sessions
        .create(NewSession {
            id: old,
            user_id: user.id,
            created_at: t,
            expires_at: t + Duration::days(1),
            refresh_token: old_token.clone(),
        })
        .await
        .unwrap();
    s.sessions
        .create(NewSession {
            id: live,
            user_id: user.id,
            created_at: t,
            expires_at: t + Duration::days(30),
            refresh_token: live_token.clone(),
        })
        .await
        .unwrap();
    assert_eq!(s.sessions.purge_expired(t + Duration::days(2)).await.unwrap(), 1);
    assert_eq!(s.sessions.session_of_refresh_token(&old_token).await.unwrap(), None, "its refresh tokens went with it");
    assert_eq!(s.sessions.session_of_refresh_token(&live_token).await.unwrap(), Some(live));
}

async fn a_user_reads_back_exactly_as_written(s: Stores) {
    let new = new_user("ada@example.com", Role::User);
    let inserted = s.users.insert(new.clone()).await.unwrap();
    assert_eq!(inserted.created_at, new.created_at, "timestamps round-trip at microsecond precision");
    let found = s.users.find(new.id).await.unwrap().expect("user is found by id");
    assert_eq!(found, inserted);
    let creds = s.users.find_credentials_by_email(&new.email).await.unwrap().expect("found by email");
    assert_eq!(creds.password_hash, new.password_hash);
    assert_eq!(found.version, 1);
}

async fn a_second_account_with_the_same_email_is_a_conflict(s: Stores) {
    s.users.insert(new_user("ada@example.com", Role::User)).await.unwrap();
    let err = s.users.insert(new_user("ada@example.com", Role::User)).await.unwrap_err();
    assert!(matches!(err, RepoError::Conflict(Conflict::EmailTaken)), "got {err:?}");
}

async fn an_update_bumps_the_version_and_clears_a_nullable_field(s: Stores) {
    let mut new = new_user("ada@example.com", Role::User);
    new.full_name = Some(rivet_domain::FullName::parse("Ada").unwrap());
    s.users.insert(new.clone()).await.unwrap();
    let changes = UserChanges { full_name: Some(None), ..Default::default() };
    let Updated::Done(user) = s.users.update(new.id, &changes, &IfVersion::Any, now()).await.unwrap() else {
        panic!("update failed")
    };
    assert_eq!(user.full_name, None);
    assert_eq!(user.version, 2);
    assert!(user.updated_at >= user.created_at);
}

async fn the_last_active_admin_cannot_be_demoted_deactivated_or_deleted(s: Stores) {
    let admin = new_user("root@example.com", Role::Admin);
    s.users.insert(admin.clone()).await.unwrap();
    let demote = UserChanges { role: Some(Role::User), ..Default::default() };
    let deactivate = UserChanges { is_active: Some(false), ..Default::default() };
    assert_eq!(s.users.update(admin.id, &demote, &IfVersion::Any, now()).await.unwrap(), Updated::LastAdmin);
    assert_eq!(s.users.update(admin.id, &deactivate, &IfVersion::Any, now()).await.unwrap(), Updated::LastAdmin);
    assert_eq!(s.users.delete(admin.id, &IfVersion::Any).await.unwrap(), Updated::LastAdmin);
    let second = new_user("second@example.com", Role::Admin);
    s.users.insert(second.clone()).await.unwrap();
    assert!(matches!(s.users.update(admin.id, &demote, &IfVersion::Any, now()).await.unwrap(), Updated::Done(_)));
    assert_eq!(s.users.delete(second.id, &IfVersion::Any).await.unwrap(), Updated::LastAdmin);
}

async fn concurrent_demotions_of_two_admins_leave_one_admin(s: Stores) {
    let a = new_user("a@example.com", Role::Admin);
    let b = new_user("b@example.com", Role::Admin);
    s.users.insert(a.clone()).await.unwrap();
    s.users.insert(b.clone()).await.unwrap();
    let demote = UserChanges { role: Some(Role::User), ..Default::default() };
    let (ra, rb) = tokio::join!(
        s.users.update(a.id, &demote, &IfVersion::Any, now()),
        s.users.update(b.id, &demote, &IfVersion::Any, now())
    );
    let outcomes = [ra.unwrap(), rb.unwrap()];
    let done = outcomes.iter().filter(|o| matches!(o, Updated::Done(_))).count();
    let refused = outcomes.iter().filter(|o| **o == Updated::LastAdmin).count();
    assert_eq!((done, refused), (1, 1), "exactly one demotion must win: {outcomes:?}");
}

async fn a_refresh_token_is_consumed_once_and_then_recognised_as_reused(s: Stores) {
    let user = new_user("ada@example.com", Role::User);
    s.users.insert(user.clone()).await.unwrap();
    let sid = SessionId::new();
    let first = RefreshTokenHash("a".repeat(64));
    let t = now();
    s.sessions
        .create(NewSession {
            id: sid,
            user_id: user.id,
            created_at: t,
            expires_at: t + Duration::days(30),
            refresh_token: first.clone(),
        })
        .await
        .unwrap();
    let (x, y) =
        tokio::join!(s.sessions.consume_refresh_token(&first, now()), s.sessions.consume_refresh_token(&first, now()));
    let fresh = [&x, &y].iter().filter(|r| matches!(r, Ok(Consumed::Fresh(_)))).count();
    let reused = [&x, &y].iter().filter(|r| matches!(r, Ok(Consumed::AlreadyUsed(_)))).count();
    assert_eq!((fresh, reused), (1, 1), "one concurrent use wins, the other is a reuse: {x:?} {y:?}");
    let unknown = s.sessions.consume_refresh_token(&RefreshTokenHash("b".repeat(64)), now()).await.unwrap();
    assert_eq!(unknown, Consumed::Unknown);
    let second = RefreshTokenHash("c".repeat(64));
    s.sessions.add_refresh_token(sid, &second, now(), now() + Duration::days(30)).await.unwrap();
    assert_eq!(s.sessions.session_of_refresh_token(&second).await.unwrap(), Some(sid));
}

async fn revoking_sessions_shows_in_their_status(s: Stores) {
    let user = new_user("ada@example.com", Role::Manager);
    s.users.insert(user.clone()).await.unwrap();
    let t = now();
    let mut ids = Vec::new();
    for i in 0..3 {
        let id = SessionId::new();
        let token = RefreshTokenHash(format!("{i:064}"));
        s.sessions
            .create(NewSession {
                id,
                user_id: user.id,
                created_at: t,
                expires_at: t + Duration::days(1),
                refresh_token: token,
            })
            .await
            .unwrap();
        ids.push(id);
    }
    let status = s.sessions.status(ids[0]).await.unwrap().expect("status of a live session");
    assert!(!status.session_revoked && status.user_active && status.role == Role::Manager);
    assert!(s.sessions.revoke(ids[0], RevokeReason::Logout, now()).await.unwrap());
    assert!(!s.sessions.revoke(ids[0], RevokeReason::Logout, now()).await.unwrap(), "a second revoke changes nothing");
    assert_eq!(s.sessions.revoke_all(user.id, Some(ids[1]), RevokeReason::LogoutAll, now()).await.unwrap(), 1);
    assert!(s.sessions.status(ids[2]).await.unwrap().unwrap().session_revoked);
    assert!(!s.sessions.status(ids[1]).await.unwrap().unwrap().session_revoked, "the kept session stays live");
    assert_eq!(s.sessions.status(SessionId::new()).await.unwrap(), None);
}

async fn deleting_a_user_removes_their_sessions(s: Stores) {
    let user = new_user("ada@example.com", Role::User);
    s.users.insert(user.clone()).await.unwrap();
    let sid = SessionId::new();
    let t = now();
    s.sessions
        .create(NewSession {
            id: sid,
            user_id: user.id,
            created_at: t,
            expires_at: t,
            refresh_token: RefreshTokenHash("d".repeat(64)),
        })
        .await
        .unwrap();
    assert_eq!(s.users.delete(user.id, &IfVersion::Any).await.unwrap(), Updated::Done(()));
    assert_eq!(s.sessions.status(sid).await.unwrap(), None, "foreign keys cascade on both backends");
}

async fn migrations_are_idempotent_and_the_database_answers(s: Stores) {
    assert!(s.db.migrate().await.unwrap().is_empty(), "a second run applies nothing");
    s.db.ping().await.unwrap();
}

on_both_backends!(
    expired_sessions_are_purged_with_their_refresh_tokens,
    a_user_reads_back_exactly_as_written,
    a_second_account_with_the_same_email_is_a_conflict,
    an_update_bumps_the_version_and_clears_a_nullable_field,
    the_last_active_admin_cannot_be_demoted_deactivated_or_deleted,
    concurrent_demotions_of_two_admins_leave_one_admin,
    a_refresh_token_is_consumed_once_and_then_recognised_as_reused,
    revoking_sessions_shows_in_their_status,
    deleting_a_user_removes_their_sessions,
    migrations_are_idempotent_and_the_database_answers
);

mod api_keys {
    use super::*;
    use rivet_domain::api_key::{ApiKeyId, NewApiKey, Scope, Scopes};
    use rivet_domain::ports::ApiKeyRepository;
    use rivet_persistence::ApiKeyStore;

    async fn a_key_is_found_by_its_hash_only_and_goes_with_its_owner(s: Stores) {
        let owner = new_user("ada@example.com", Role::Manager);
        s.users.insert(owner.clone()).await.unwrap();
        let keys = ApiKeyStore::new(s.db.clone());
        let scopes: Scopes = [Scope::TodosRead, Scope::ProductsWrite].into_iter().collect();
        let key = NewApiKey {
            id: ApiKeyId(uuid::Uuid::now_v7()),
            user_id: owner.id,
            name: "k".into(),
            prefix: "rvt_abcdefgh".into(),
            secret_hash: "f".repeat(64),
            scopes,
            expires_at: None,
            created_at: now(),
        };
        keys.insert(key.clone()).await.unwrap();
        assert_eq!(keys.find_by_hash("rvt_abcdefgh-the-secret-itself").await.unwrap(), None, "only the hash finds it");
        let found = keys.find_by_hash(&"f".repeat(64)).await.unwrap().expect("found by hash");
        assert_eq!((found.key.scopes, found.role, found.user_active), (scopes, Role::Manager, true));
        keys.touch(key.id, now()).await.unwrap();
        assert!(keys.list(owner.id).await.unwrap()[0].last_used_at.is_some());
        assert_eq!(s.users.delete(owner.id, &IfVersion::Any).await.unwrap(), Updated::Done(()));
        assert_eq!(keys.find_by_hash(&"f".repeat(64)).await.unwrap(), None, "keys go with their owner");
    }

    on_both_backends!(a_key_is_found_by_its_hash_only_and_goes_with_its_owner);
}
