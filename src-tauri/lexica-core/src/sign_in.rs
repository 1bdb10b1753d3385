//! Lawyers sign in to a source themselves (issue #12, item 8).
//!
//! Many firms give each lawyer their own database account. When a source has no shared password
//! and its server asks for one, or when an admin marked it "each user signs in"
//! ([`DataSource::each_user_signs_in`]), a search of it ends `failed` with a [`SignInRequest`]
//! instead of only an error, and the search window asks that user for their password (and user
//! name). [`Lexica::sign_in`] tries the sign-in on the server before keeping it, then keeps it
//! in the user's OS keychain (`remember`, the default) or for this session only, in memory.
//!
//! Which credentials a connection uses, for one user ([`Login`]): the user's own sign-in when
//! they have one; otherwise, for a source where each user signs in, none (they are asked, and
//! nothing connects); otherwise the source's shared credentials (its stored password, or none:
//! trust, peer, `.pgpass`). A user may keep a sign-in only for a source granted to them.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use serde::Serialize;
use ts_rs::TS;

use crate::credentials::Secret;
use crate::lexica::find_source;
use crate::models::{DataSource, SourceId, SourceUrl, User, UserId, ValidationErrors};
use crate::{Error, Lexica, Result, queries};

/// Longest database user name accepted (PostgreSQL's identifier limit, NAMEDATALEN − 1).
pub const MAX_DB_USERNAME_LEN: usize = 63;

/// What the search window asks a user for before it can search a source.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, TS)]
#[ts(export)]
pub struct SignInRequest {
    /// Ask for the database user name too (the source is "each user signs in").
    pub user_name: bool,
    /// The server refused the user's own sign-in: ask again, and say so.
    pub refused: bool,
}

/// How one user's connections to one source authenticate. No password in it: the registry reads
/// it (from the session or the keychain) only when it builds a pool.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Login {
    /// The source's own: its stored password, or none.
    Shared,
    /// The user's own sign-in.
    Personal(Personal),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Personal {
    pub user: UserId,
    /// Replaces the URL's user (`None`: the URL's).
    pub user_name: Option<String>,
    /// When it last changed: a new sign-in means a new pool.
    pub stamp: DateTime<Utc>,
    /// In the keychain (else in this session's memory).
    pub remembered: bool,
}

impl Login {
    pub(crate) fn user(&self) -> Option<UserId> {
        match self {
            Login::Shared => None,
            Login::Personal(p) => Some(p.user),
        }
    }
}

/// Sign-ins kept for this session only ("remember" off): in memory, never written anywhere, gone
/// when the app quits.
#[derive(Debug, Default)]
pub(crate) struct SessionSignIns(std::sync::Mutex<HashMap<(UserId, SourceId), SessionSignIn>>);

#[derive(Debug, Clone)]
pub(crate) struct SessionSignIn {
    pub user_name: Option<String>,
    pub password: Secret,
    pub at: DateTime<Utc>,
}

impl SessionSignIns {
    pub(crate) fn get(&self, user: UserId, source: SourceId) -> Option<SessionSignIn> {
        self.0.lock().ok().and_then(|m| m.get(&(user, source)).cloned())
    }

    fn put(&self, user: UserId, source: SourceId, sign_in: SessionSignIn) {
        if let Ok(mut m) = self.0.lock() {
            m.insert((user, source), sign_in);
        }
    }

    /// The sources `user` has a session sign-in to.
    fn sources_of(&self, user: UserId) -> Vec<SourceId> {
        self.0.lock().map(|m| m.keys().filter(|(u, _)| *u == user).map(|(_, s)| *s).collect()).unwrap_or_default()
    }

    fn remove(&self, user: UserId, source: SourceId) -> bool {
        self.0.lock().ok().and_then(|mut m| m.remove(&(user, source))).is_some()
    }
}

impl Lexica {
    /// Which credentials `user`'s connections to `source` use now, or the sign-in they must give
    /// first (as [`Error::SignInNeeded`]).
    pub(crate) async fn login_for(&self, user: UserId, source: &DataSource) -> Result<Login> {
        if !matches!(source.effective_url(), Ok(Some(SourceUrl::Postgres(_)))) {
            return Ok(Login::Shared);
        }
        if let Some(s) = self.sources.session().get(user, source.id) {
            return Ok(Login::Personal(Personal { user, user_name: s.user_name, stamp: s.at, remembered: false }));
        }
        if let Some(row) = queries::source_sign_ins::get(self.db(), user, source.id).await? {
            return Ok(Login::Personal(Personal {
                user,
                user_name: row.db_username,
                stamp: row.updated_at,
                remembered: true,
            }));
        }
        if source.each_user_signs_in {
            return Err(Error::SignInNeeded {
                name: source.name.clone(),
                request: SignInRequest { user_name: true, refused: false },
            });
        }
        Ok(Login::Shared)
    }

    /// Signs `actor` in to a source granted to them with their own database account: tried on
    /// the server first (a mistyped password is refused here, in the dialog, and nothing is
    /// kept), then kept in their keychain when `remember`, else for this session only. The user
    /// name is asked for (and required) only where each user signs in; elsewhere the URL's user
    /// is used.
    pub async fn sign_in(
        &self,
        actor: &User,
        name: &str,
        user_name: Option<&str>,
        password: &Secret,
        remember: bool,
    ) -> Result<()> {
        let source = self.granted_source(actor, name).await?;
        let url = crate::sources::configured_url(&source)?;
        if !matches!(url, SourceUrl::Postgres(_)) {
            return Err(Error::Refused(format!(
                "`{name}` is a bundle on this machine: it has no database account to sign in to"
            )));
        }
        let user_name = check_sign_in(&source, user_name, password)?;
        self.sources.try_sign_in(&source, &url, user_name.as_deref(), password).await?;
        if remember {
            self.keychain().set_personal_password(source.id, actor.id, password).await?;
            queries::source_sign_ins::upsert(self.db(), actor.id, source.id, user_name.as_deref()).await?;
            self.sources.session().remove(actor.id, source.id);
        } else {
            // Not remembered: nothing of it stays on disk, including an earlier remembered one.
            self.forget_remembered(actor.id, source.id).await?;
            self.sources.session().put(
                actor.id,
                source.id,
                SessionSignIn { user_name: user_name.clone(), password: password.clone(), at: Utc::now() },
            );
        }
        self.sources.evict_login(source.id, actor.id).await;
        tracing::info!(user = %actor.username, source = %name, remember, "signed in to the source");
        Ok(())
    }

    /// Forgets `actor`'s own sign-in to a source (keychain and session). Returns whether there was one.
    pub async fn sign_out(&self, actor: &User, name: &str) -> Result<bool> {
        let source = find_source(self.db(), name).await?;
        let in_session = self.sources.session().remove(actor.id, source.id);
        let remembered = self.forget_remembered(actor.id, source.id).await?;
        self.sources.evict_login(source.id, actor.id).await;
        tracing::info!(user = %actor.username, source = %name, "signed out of the source");
        Ok(in_session || remembered)
    }

    /// The ids of the sources `actor` has their own sign-in to (session or remembered).
    pub(crate) async fn signed_in_sources(&self, actor: UserId, sources: &[DataSource]) -> Result<Vec<SourceId>> {
        let mut out = Vec::new();
        for s in sources {
            if self.sources.session().get(actor, s.id).is_some()
                || queries::source_sign_ins::get(self.db(), actor, s.id).await?.is_some()
            {
                out.push(s.id);
            }
        }
        Ok(out)
    }

    /// Deletes every user's remembered sign-in to a source from the keychain (the source is going,
    /// or now points at another server their passwords were not given for). Rows go with them.
    pub(crate) async fn forget_all_sign_ins(&self, source: SourceId) -> Result<()> {
        for row in queries::source_sign_ins::list_for_source(self.db(), source).await? {
            self.forget_remembered(row.user_id, source).await?;
        }
        Ok(())
    }

    /// Deletes a user's own sign-ins to every source, remembered (keychain) and for the session,
    /// and closes their pools (the user is being removed). Rows go with them.
    pub(crate) async fn forget_user_sign_ins(&self, user: UserId) -> Result<()> {
        for row in queries::source_sign_ins::list_for_user(self.db(), user).await? {
            self.forget_remembered(user, row.data_source_id).await?;
            self.sources.evict_login(row.data_source_id, user).await;
        }
        for source in self.sources.session().sources_of(user) {
            self.sources.session().remove(user, source);
            self.sources.evict_login(source, user).await;
        }
        Ok(())
    }

    async fn forget_remembered(&self, user: UserId, source: SourceId) -> Result<bool> {
        if queries::source_sign_ins::get(self.db(), user, source).await?.is_none() {
            return Ok(false);
        }
        self.keychain().delete_personal_password(source, user).await?;
        queries::source_sign_ins::delete(self.db(), user, source).await
    }

    async fn granted_source(&self, actor: &User, name: &str) -> Result<DataSource> {
        let refused = || {
            Error::Refused(format!(
                "`{name}` is not shared with you, so Lexica keeps no sign-in for it; ask an administrator to grant it"
            ))
        };
        // A source that does not exist gets the same answer as one not shared: nothing is learnt of it.
        let source = match find_source(self.db(), name).await {
            Err(Error::NotFound { .. }) => return Err(refused()),
            other => other?,
        };
        if queries::permissions::get(self.db(), actor.id, source.id).await?.is_none() {
            return Err(refused());
        }
        Ok(source)
    }
}

/// The sign-in's fields checked, each problem under its field: the user name to use (`None`: the
/// URL's) or every problem at once.
fn check_sign_in(source: &DataSource, user_name: Option<&str>, password: &Secret) -> Result<Option<String>> {
    let mut errors = ValidationErrors::default();
    if password.is_empty() {
        errors.push("password", "is required");
    }
    let user_name = if source.each_user_signs_in {
        let name = user_name.map(str::trim).unwrap_or_default();
        if name.is_empty() {
            errors.push("user_name", "is required: this source signs each user in with their own database account");
        } else if name.chars().count() > MAX_DB_USERNAME_LEN {
            errors.push("user_name", format!("must be at most {MAX_DB_USERNAME_LEN} characters"));
        } else if name.chars().any(char::is_control) {
            errors.push("user_name", "must not contain control characters");
        }
        Some(name.to_string())
    } else {
        None
    };
    errors.into_result()?;
    Ok(user_name)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn source(each: bool) -> DataSource {
        let mut s = DataSource::new("ny", "NY");
        s.database_url = Some("postgres://reader@db.firm/ny".into());
        s.each_user_signs_in = each;
        s
    }

    fn fields(r: Result<Option<String>>) -> Vec<String> {
        match r {
            Err(Error::Invalid(e)) => e.0.into_iter().map(|e| e.field).collect(),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn the_user_name_is_asked_only_where_each_user_signs_in() {
        let pw = Secret::new("pw");
        assert_eq!(check_sign_in(&source(false), Some("someone"), &pw).unwrap(), None);
        assert_eq!(check_sign_in(&source(true), Some(" jdoe "), &pw).unwrap(), Some("jdoe".into()));
        assert_eq!(fields(check_sign_in(&source(true), None, &pw)), ["user_name"]);
        assert_eq!(fields(check_sign_in(&source(true), Some(&"x".repeat(64)), &pw)), ["user_name"]);
        assert_eq!(fields(check_sign_in(&source(true), Some("a\u{7}b"), &Secret::new(""))), ["password", "user_name"]);
    }
}
