//! Whether each source a user can search answers now, before they search (issue #12, item 7).
//!
//! The search window shows a badge per source; "Active" for a source whose server is down, or
//! whose password is missing, is a promise the first search breaks. [`Lexica::check_sources`]
//! connects to every source the user may search, in parallel, as their search would (their own
//! sign-in, else the source's shared credentials), and says per source: ready, the sign-in it
//! needs, or why it cannot be reached — the same sentence the search would end with.
//!
//! Design: the check *is* the pool a search would use. A ready source's pool stays built (so the
//! first search skips the connection set-up, and a second check costs nothing); a failing one is
//! forgotten by the registry, so each check tries again and a server brought back shows ready.

use std::time::Duration;

use serde::Serialize;
use tracing::Instrument;
use ts_rs::TS;

use crate::error::truncate_message;
use crate::models::{DataSource, SourceId, SourceUrl, User};
use crate::sign_in::SignInRequest;
use crate::{Error, Lexica, Result};

/// Longest one source's check may take, whatever its own connect timeout says: the badge is a
/// hint, and a window must not wait on a black-holed server for a source's full timeout.
pub const CHECK_LIMIT: Duration = Duration::from_secs(5);

/// The same for an SQLite bundle: a local file answers at once, but the demo's bundle is built the first time it is
/// used, which the check waits for (a bundle on a stalled network drive is still cut off).
pub const BUNDLE_CHECK_LIMIT: Duration = Duration::from_secs(120);

/// How one source stands for one user right now.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS)]
#[ts(export)]
#[serde(tag = "state", rename_all = "snake_case")]
pub enum Reach {
    /// It connected (or its bundle opened): a search would run.
    Ready,
    /// The server wants a password this user can give: searching it asks for their sign-in.
    SignIn { request: SignInRequest },
    /// It could not be reached or opened: why, in the words a failed search would use.
    Unreachable { message: String },
}

/// One source's [`Reach`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS)]
#[ts(export)]
pub struct SourceReach {
    pub source_id: SourceId,
    pub reach: Reach,
}

impl Lexica {
    /// Checks every source `user` may search (granted, active, search enabled), all at once; each
    /// check ends within [`CHECK_LIMIT`] ([`BUNDLE_CHECK_LIMIT`] for a bundle). Sources the user cannot search are not contacted.
    pub async fn check_sources(&self, user: &User) -> Result<Vec<SourceReach>> {
        let sources = self.accessible_sources(user).await?;
        let mut checks = tokio::task::JoinSet::new();
        for (index, source) in sources.into_iter().enumerate() {
            let (lexica, user) = (self.clone(), user.clone());
            let span = tracing::debug_span!("check_source", source = %source.name);
            checks.spawn(
                async move { (index, SourceReach { source_id: source.id, reach: lexica.reach(&user, &source).await }) }
                    .instrument(span),
            );
        }
        let mut checked = Vec::with_capacity(checks.len());
        while let Some(done) = checks.join_next().await {
            // A check cannot panic short of a bug; such a source is simply left without a badge.
            if let Ok(found) = done {
                checked.push(found);
            }
        }
        // In the order of `accessible_sources` (by name), not of who answered first.
        checked.sort_by_key(|(index, _)| *index);
        let checked: Vec<SourceReach> = checked.into_iter().map(|(_, reach)| reach).collect();
        let unreachable = checked.iter().filter(|c| matches!(c.reach, Reach::Unreachable { .. })).count();
        tracing::debug!(user = %user.username, sources = checked.len(), unreachable, "sources checked");
        Ok(checked)
    }

    async fn reach(&self, user: &User, source: &DataSource) -> Reach {
        // Only a server can leave the check hanging. A bundle is a local file, and the demo's is built on first use
        // (seconds on a slow machine): cutting that short would call a source that is being made "unreachable".
        let limit = match source.effective_url() {
            Ok(Some(SourceUrl::Sqlite(_))) => BUNDLE_CHECK_LIMIT,
            _ => CHECK_LIMIT,
        };
        match tokio::time::timeout(limit, self.source_pool_as(user.id, source)).await {
            Ok(Ok(_pool)) => Reach::Ready,
            Ok(Err(Error::SignInNeeded { request, .. })) => Reach::SignIn { request },
            // The registry's sentence already names the server and says what to do.
            Ok(Err(Error::Source { message, .. })) => Reach::Unreachable { message: truncate_message(&message) },
            Ok(Err(error)) => Reach::Unreachable { message: truncate_message(&error.to_string()) },
            Err(_) => Reach::Unreachable {
                message: format!(
                    "no answer within {} s: the server may be down or blocked; try again later, or ask your administrator",
                    limit.as_secs()
                ),
            },
        }
    }
}
