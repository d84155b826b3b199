//! Writing an [`Outbox`](rivet_domain::jobs::Outbox) — one-time tokens and
//! jobs — inside the transaction of the change that causes it.

use crate::schema::{jobs, one_time_tokens};
use crate::types::{DbTime, DbUuid};
use diesel::prelude::*;
use rivet_domain::jobs::{JobState, NewJob};
use rivet_domain::one_time_token::NewOneTimeToken;

/// A job to insert.
#[derive(Debug, Insertable)]
#[diesel(table_name = jobs)]
pub(crate) struct NewJobRow<'a> {
    id: DbUuid,
    kind: &'a str,
    payload: &'a str,
    state: &'static str,
    max_attempts: i32,
    run_at: DbTime,
    unique_key: Option<&'a str>,
    created_at: DbTime,
    updated_at: DbTime,
}

impl<'a> From<&'a NewJob> for NewJobRow<'a> {
    fn from(j: &'a NewJob) -> Self {
        Self {
            id: DbUuid(j.id.0),
            kind: j.kind,
            payload: &j.payload,
            state: JobState::Queued.as_str(),
            max_attempts: i32::try_from(j.max_attempts).unwrap_or(i32::MAX),
            run_at: DbTime(j.run_at),
            unique_key: j.unique_key.as_deref(),
            created_at: DbTime(j.created_at),
            updated_at: DbTime(j.created_at),
        }
    }
}

/// A one-time token to insert.
#[derive(Debug, Insertable)]
#[diesel(table_name = one_time_tokens)]
pub(crate) struct NewTokenRow<'a> {
    token_hash: &'a str,
    user_id: DbUuid,
    purpose: &'static str,
    email: &'a str,
    created_at: DbTime,
    expires_at: DbTime,
}

impl<'a> From<&'a NewOneTimeToken> for NewTokenRow<'a> {
    fn from(t: &'a NewOneTimeToken) -> Self {
        Self {
            token_hash: &t.hash,
            user_id: DbUuid(t.user_id.0),
            purpose: t.purpose.as_str(),
            email: t.email.as_str(),
            created_at: DbTime(t.created_at),
            expires_at: DbTime(t.expires_at),
        }
    }
}
