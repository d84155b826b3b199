//! Stream tickets: a browser's `EventSource` cannot send an `Authorization`
//! header, and tokens do not belong in URLs (they end up in logs), so a
//! signed-in client trades its access token for a ticket — 256 random bits,
//! valid [`TICKET_TTL`], good for one stream — and opens the stream with
//! `?ticket=`. Only the ticket's hash is stored; redeeming deletes it, so a
//! ticket that leaked through a log has already been spent.

use crate::error::{AuthError, Result};
use crate::principal::Principal;
use crate::refresh;
use crate::service::AuthService;
use rivet_domain::events::{NewTicket, TicketRepository};
use rivet_domain::time::now;
use std::sync::Arc;
use std::time::Duration;

/// How long a ticket may wait to be used.
pub const TICKET_TTL: Duration = Duration::from_secs(30);

/// Issues and redeems stream tickets.
#[derive(Clone)]
pub struct StreamTickets {
    repo: Arc<dyn TicketRepository>,
    auth: Arc<AuthService>,
}

impl std::fmt::Debug for StreamTickets {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StreamTickets").finish_non_exhaustive()
    }
}

impl StreamTickets {
    pub fn new(repo: Arc<dyn TicketRepository>, auth: Arc<AuthService>) -> Self {
        Self { repo, auth }
    }

    /// A ticket for the caller's session, and its lifetime in seconds.
    ///
    /// # Errors
    /// [`AuthError::Forbidden`] for an API key (a key is sent as a header by
    /// the programs that hold one); storage failures.
    pub async fn issue(&self, who: &Principal) -> Result<(String, u64)> {
        let session = who.require_session("get a stream ticket")?;
        let (ticket, hash) = refresh::generate();
        let expires_at = now() + chrono::Duration::from_std(TICKET_TTL).unwrap_or(chrono::Duration::seconds(30));
        self.repo.issue(NewTicket { hash: hash.0, user_id: who.user_id, session_id: session, expires_at }).await?;
        Ok((ticket, TICKET_TTL.as_secs()))
    }

    /// The caller a ticket stands for, spending it.
    ///
    /// # Errors
    /// [`AuthError::InvalidToken`] for an unknown, used or expired ticket or
    /// an ended session; [`AuthError::AccountDisabled`].
    pub async fn redeem(&self, ticket: &str) -> Result<Principal> {
        const INVALID: AuthError = AuthError::InvalidToken("the ticket is not valid, has expired or was used");
        if ticket.is_empty() || ticket.len() > refresh::MAX_TOKEN_LEN {
            return Err(INVALID);
        }
        let (user, session) = self.repo.redeem(&refresh::hash(ticket).0, now()).await?.ok_or(INVALID)?;
        self.auth.session_principal(user, session, true).await
    }
}
