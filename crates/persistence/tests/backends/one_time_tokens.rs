//! One-time tokens and the outbox on both databases: tokens expire and work
//! once, and a change's outbox is written with it or not at all.

use crate::common;

use chrono::Duration;
use common::{Stores, new_user};
use rivet_domain::jobs::{JobQueue, JobState, NewJob, Outbox, PurgeTarget, Task};
use rivet_domain::one_time_token::{NewOneTimeToken, OneTimeTokenRepository, TokenPurpose};
use rivet_domain::ports::UserRepository;
use rivet_domain::time::now;
use rivet_domain::{Role, UserId};
use rivet_persistence::{JobStore, OneTimeTokenStore};

fn token(hash: &str, user: UserId, email: &str, purpose: TokenPurpose) -> NewOneTimeToken {
    let at = now();
    NewOneTimeToken {
        hash: hash.into(),
        user_id: user,
        purpose,
        email: rivet_domain::Email::parse(email).unwrap(),
        created_at: at,
        expires_at: at + purpose.ttl(),
    }
}

fn queued(depth: &[(JobState, u64)]) -> u64 {
    depth.iter().find(|(s, _)| *s == JobState::Queued).map_or(0, |(_, n)| *n)
}

async fn a_token_works_once_and_uses_up_its_siblings(s: Stores) {
    let tokens = OneTimeTokenStore::new(s.db.clone());
    let user = s.users.insert(new_user("ada@example.com", Role::User)).await.unwrap();
    let reset = TokenPurpose::ResetPassword;
    let outbox = Outbox {
        tokens: vec![token("a", user.id, "ada@example.com", reset), token("b", user.id, "ada@example.com", reset)],
        jobs: vec![],
    };
    tokens.issue(&outbox).await.unwrap();
    assert!(tokens.find("a", TokenPurpose::VerifyEmail, now()).await.unwrap().is_none(), "purpose is part of the key");
    let holder = tokens.consume("a", reset, now()).await.unwrap().expect("a fresh token is usable");
    assert_eq!(holder.user_id, user.id);
    assert!(tokens.consume("a", reset, now()).await.unwrap().is_none(), "used once");
    assert!(tokens.find("b", reset, now()).await.unwrap().is_none(), "the sibling was used up with it");
}

async fn an_expired_token_is_refused_and_purged(s: Stores) {
    let tokens = OneTimeTokenStore::new(s.db.clone());
    let user = s.users.insert(new_user("ada@example.com", Role::User)).await.unwrap();
    let reset = TokenPurpose::ResetPassword;
    tokens.issue(&Outbox { tokens: vec![token("t", user.id, "ada@example.com", reset)], jobs: vec![] }).await.unwrap();
    let after = now() + Duration::minutes(31);
    assert!(tokens.find("t", reset, after).await.unwrap().is_none());
    assert!(tokens.consume("t", reset, after).await.unwrap().is_none());
    assert_eq!(tokens.purge_expired(after).await.unwrap(), 1);
}

async fn concurrent_uses_of_one_token_succeed_once(s: Stores) {
    let tokens = OneTimeTokenStore::new(s.db.clone());
    let user = s.users.insert(new_user("ada@example.com", Role::User)).await.unwrap();
    let verify = TokenPurpose::VerifyEmail;
    tokens.issue(&Outbox { tokens: vec![token("t", user.id, "ada@example.com", verify)], jobs: vec![] }).await.unwrap();
    let tries: Vec<_> = (0..8)
        .map(|_| {
            let t = tokens.clone();
            tokio::spawn(async move { t.consume("t", verify, now()).await })
        })
        .collect();
    let mut wins = 0;
    for t in tries {
        // SQLite may report a busy database to a loser; that is a refusal too.
        if matches!(t.await.unwrap(), Ok(Some(_))) {
            wins += 1;
        }
    }
    assert_eq!(wins, 1);
}

async fn the_outbox_is_written_with_the_change_or_not_at_all(s: Stores) {
    let jobs = JobStore::new(s.db.clone());
    let first = new_user("ada@example.com", Role::User);
    let job = || NewJob::new(&Task::Purge { target: PurgeTarget::OneTimeTokens }, now());
    let outbox =
        Outbox { tokens: vec![token("t1", first.id, "ada@example.com", TokenPurpose::VerifyEmail)], jobs: vec![job()] };
    s.users.insert_with(first, &outbox).await.unwrap();
    assert_eq!(queued(&jobs.depth().await.unwrap()), 1);

    let clash = new_user("ada@example.com", Role::User);
    let outbox =
        Outbox { tokens: vec![token("t2", clash.id, "ada@example.com", TokenPurpose::VerifyEmail)], jobs: vec![job()] };
    assert!(s.users.insert_with(clash, &outbox).await.is_err(), "the email is taken");
    assert_eq!(queued(&jobs.depth().await.unwrap()), 1, "the failed registration left no job behind");
    assert!(OneTimeTokenStore::new(s.db.clone()).find("t2", TokenPurpose::VerifyEmail, now()).await.unwrap().is_none());
}

on_both_backends!(
    a_token_works_once_and_uses_up_its_siblings,
    an_expired_token_is_refused_and_purged,
    concurrent_uses_of_one_token_succeed_once,
    the_outbox_is_written_with_the_change_or_not_at_all
);
