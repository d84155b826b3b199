//! Idempotency records, one body per backend.

use crate::common;

use chrono::Duration;
use common::Stores;
use rivet_domain::idempotency::{Claim, ClaimRequest, StoredResponse};
use rivet_domain::ports::IdempotencyStore;
use rivet_domain::time::now;

fn answer() -> StoredResponse {
    StoredResponse {
        status: 201,
        content_type: "application/json".into(),
        location: Some("/x/1".into()),
        etag: Some("\"v1\"".into()),
        body: "{\"id\":1}".into(),
    }
}

async fn a_key_is_claimed_once_then_replayed_and_guarded(s: Stores) {
    let t = now();
    let req = ClaimRequest { principal: "user:a", key: "k1", fingerprint: "f1", now: t };
    let (x, y) = tokio::join!(s.idempotency.claim(&req), s.idempotency.claim(&req));
    let mut got = [x.unwrap(), y.unwrap()];
    got.sort_by_key(|c| matches!(c, Claim::InProgress));
    assert_eq!(got, [Claim::Started, Claim::InProgress], "one concurrent claim wins");
    s.idempotency.complete("user:a", "k1", &answer()).await.unwrap();
    assert_eq!(s.idempotency.claim(&req).await.unwrap(), Claim::Done(answer()));
    let other_body = ClaimRequest { fingerprint: "f2", ..req.clone() };
    assert_eq!(s.idempotency.claim(&other_body).await.unwrap(), Claim::Mismatch);
    let other_principal = ClaimRequest { principal: "user:b", ..req.clone() };
    assert_eq!(s.idempotency.claim(&other_principal).await.unwrap(), Claim::Started, "keys are per principal");
}

async fn a_released_or_abandoned_claim_can_be_taken_again(s: Stores) {
    let t = now();
    let req = ClaimRequest { principal: "user:a", key: "k", fingerprint: "f", now: t };
    assert_eq!(s.idempotency.claim(&req).await.unwrap(), Claim::Started);
    s.idempotency.release("user:a", "k").await.unwrap();
    assert_eq!(s.idempotency.claim(&req).await.unwrap(), Claim::Started, "released after a server error");
    let later = ClaimRequest { now: t + Duration::seconds(61), ..req.clone() };
    assert_eq!(s.idempotency.claim(&later).await.unwrap(), Claim::Started, "a lease that ran out is taken over");
}

async fn records_expire_after_a_day(s: Stores) {
    let t = now();
    let req = ClaimRequest { principal: "user:a", key: "old", fingerprint: "f", now: t };
    s.idempotency.claim(&req).await.unwrap();
    s.idempotency.complete("user:a", "old", &answer()).await.unwrap();
    assert_eq!(s.idempotency.purge_expired(t + Duration::hours(23)).await.unwrap(), 0);
    assert_eq!(s.idempotency.purge_expired(t + Duration::hours(25)).await.unwrap(), 1);
    assert_eq!(s.idempotency.claim(&req).await.unwrap(), Claim::Started, "a purged key is new again");
}

on_both_backends!(
    a_key_is_claimed_once_then_replayed_and_guarded,
    a_released_or_abandoned_claim_can_be_taken_again,
    records_expire_after_a_day
);
