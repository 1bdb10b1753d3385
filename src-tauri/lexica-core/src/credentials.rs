//! Source passwords in the OS keychain — and nowhere else.
//!
//! One keychain service name ([`KEYCHAIN_SERVICE`]) holds every Lexica credential, each under the
//! source's id as the account, so renaming a source keeps its password and `secret-tool lookup
//! service lexica username <id>` finds it. A lawyer's own sign-in to a source (issue #12) is under
//! `<source id>/<user id>` ([`personal_account`]): one user's password never answers for another. Stores: Secret Service on Linux (gnome-keyring, KWallet),
//! Keychain on macOS, Credential Manager on Windows. On Linux the kernel keyring (keyutils) is a
//! stated fallback, chosen explicitly with `LEXICA_KEYCHAIN=keyutils`: it keeps passwords only for
//! the login session, so silently falling back would lose them at the next reboot.
//!
//! Keychain calls block (D-Bus round trips, sometimes an unlock prompt), so each runs on the
//! blocking pool under [`KEYCHAIN_TIMEOUT`]: a locked or absent keychain gives an error, never a hang.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use keyring_core::{CredentialStore, Entry};

use crate::models::{SourceId, UserId};
use crate::{Error, Result};

/// The keychain service name under which every source password is stored.
pub const KEYCHAIN_SERVICE: &str = "lexica";
/// Longest a keychain call may take before Lexica gives up on it and says what to do.
pub const KEYCHAIN_TIMEOUT: Duration = Duration::from_secs(10);
/// Environment variable choosing the store on Linux: `secret-service` (default) or `keyutils`.
pub const KEYCHAIN_ENV: &str = "LEXICA_KEYCHAIN";

/// A password in memory. Its `Debug` and `Display` never show it; only [`Secret::expose`] does,
/// at the one place it is handed to a connection.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    pub fn new(password: impl Into<String>) -> Secret {
        Secret(password.into())
    }

    pub fn expose(&self) -> &str {
        &self.0
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(***)")
    }
}

type Store = Arc<CredentialStore>;

/// The OS keychain as Lexica uses it. Cheap to clone. The store is opened on first use (opening
/// the Secret Service is a D-Bus round trip that commands without passwords should not pay), and
/// a failure to open it is not remembered: once the user unlocks or starts the keyring, the next
/// call succeeds without restarting Lexica.
#[derive(Clone)]
pub struct Keychain {
    store: Arc<tokio::sync::OnceCell<Store>>,
    open: fn() -> Result<Store>,
    name: &'static str,
}

impl fmt::Debug for Keychain {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Keychain").field("store", &self.name).field("open", &self.store.initialized()).finish()
    }
}

impl Keychain {
    /// The platform's keychain (see the module docs).
    pub fn platform() -> Keychain {
        let (open, name) = platform_store();
        Keychain { store: Arc::new(tokio::sync::OnceCell::new()), open, name }
    }

    /// A keychain over a given store (tests use keyring-core's mock store).
    pub fn with_store(store: Store, name: &'static str) -> Keychain {
        fn unreachable_open() -> Result<Store> {
            Err(Error::KeychainUnavailable("the store was given at start".into()))
        }
        Keychain { store: Arc::new(tokio::sync::OnceCell::new_with(Some(store))), open: unreachable_open, name }
    }

    /// Which store this is, for diagnostics ("Secret Service", "keyutils", …).
    pub fn store_name(&self) -> &'static str {
        self.name
    }

    pub async fn set_password(&self, source: SourceId, password: &Secret) -> Result<()> {
        self.set_in(source.to_string(), password).await
    }

    /// The stored password, or `None` when the source has none.
    pub async fn password(&self, source: SourceId) -> Result<Option<Secret>> {
        self.get_in(source.to_string()).await
    }

    /// Deletes the stored password; `false` when there was none.
    pub async fn delete_password(&self, source: SourceId) -> Result<bool> {
        self.delete_in(source.to_string()).await
    }

    /// Stores `user`'s own password for `source` (their personal sign-in).
    pub async fn set_personal_password(&self, source: SourceId, user: UserId, password: &Secret) -> Result<()> {
        self.set_in(personal_account(source, user), password).await
    }

    /// `user`'s own password for `source`, or `None`.
    pub async fn personal_password(&self, source: SourceId, user: UserId) -> Result<Option<Secret>> {
        self.get_in(personal_account(source, user)).await
    }

    /// Deletes `user`'s own password for `source`; `false` when there was none.
    pub async fn delete_personal_password(&self, source: SourceId, user: UserId) -> Result<bool> {
        self.delete_in(personal_account(source, user)).await
    }

    async fn set_in(&self, account: String, password: &Secret) -> Result<()> {
        let password = password.clone();
        self.call(account, move |entry| entry.set_password(password.expose())).await
    }

    async fn get_in(&self, account: String) -> Result<Option<Secret>> {
        match self.call(account, |entry| entry.get_password()).await {
            Ok(p) => Ok(Some(Secret(p))),
            Err(Error::KeychainFailed(m)) if m == NO_ENTRY => Ok(None),
            Err(e) => Err(e),
        }
    }

    async fn delete_in(&self, account: String) -> Result<bool> {
        match self.call(account, |entry| entry.delete_credential()).await {
            Ok(()) => Ok(true),
            Err(Error::KeychainFailed(m)) if m == NO_ENTRY => Ok(false),
            Err(e) => Err(e),
        }
    }

    async fn store(&self) -> Result<Store> {
        let open = self.open;
        self.store.get_or_try_init(|| async move { bounded(open).await? }).await.cloned()
    }

    async fn call<T: Send + 'static>(
        &self,
        account: String,
        op: impl FnOnce(&Entry) -> keyring_core::Result<T> + Send + 'static,
    ) -> Result<T> {
        let store = self.store().await?;
        bounded(move || {
            let entry = Entry::new_in_store(&store, KEYCHAIN_SERVICE, &account).map_err(map_error)?;
            op(&entry).map_err(map_error)
        })
        .await?
    }
}

/// The keychain account of `user`'s own sign-in to `source`. Ids, not names: renaming either
/// keeps the sign-in, and a new user who takes a removed user's name does not inherit it.
pub fn personal_account(source: SourceId, user: UserId) -> String {
    format!("{source}/{user}")
}

/// Runs a blocking keychain call on the blocking pool, giving up after [`KEYCHAIN_TIMEOUT`].
async fn bounded<T: Send + 'static>(f: impl FnOnce() -> T + Send + 'static) -> Result<T> {
    match tokio::time::timeout(KEYCHAIN_TIMEOUT, tokio::task::spawn_blocking(f)).await {
        Ok(Ok(value)) => Ok(value),
        Ok(Err(join)) => Err(Error::KeychainFailed(format!("the keychain call stopped unexpectedly ({join})"))),
        // The blocking call may still be waiting on the keychain; it is left to finish on its own.
        Err(_) => Err(Error::KeychainTimedOut(KEYCHAIN_TIMEOUT.as_secs())),
    }
}

/// Marker for "no such credential", turned into `None`/`false` by the callers above.
const NO_ENTRY: &str = "no entry";

fn map_error(error: keyring_core::Error) -> Error {
    use keyring_core::Error as K;
    match error {
        K::NoEntry => Error::KeychainFailed(NO_ENTRY.into()),
        K::NoStorageAccess(e) => {
            let text = e.to_string();
            if text.to_lowercase().contains("lock") || text.to_lowercase().contains("prompt") {
                Error::KeychainLocked
            } else {
                Error::KeychainUnavailable(text)
            }
        }
        K::PlatformFailure(e) => Error::KeychainUnavailable(e.to_string()),
        // Other variants (bad encoding, ambiguity, …) carry store details, never our secret text.
        other => Error::KeychainFailed(other.to_string()),
    }
}

#[cfg(target_os = "linux")]
fn platform_store() -> (fn() -> Result<Store>, &'static str) {
    fn secret_service() -> Result<Store> {
        let store = zbus_secret_service_keyring_store::Store::new().map_err(map_error)?;
        Ok(store)
    }
    fn keyutils() -> Result<Store> {
        let store = linux_keyutils_keyring_store::Store::new().map_err(map_error)?;
        Ok(store)
    }
    if std::env::var(KEYCHAIN_ENV).is_ok_and(|v| v == "keyutils") {
        (keyutils, "kernel keyring (keyutils; this login session only)")
    } else {
        (secret_service, "Secret Service keychain")
    }
}

#[cfg(target_os = "macos")]
fn platform_store() -> (fn() -> Result<Store>, &'static str) {
    fn open() -> Result<Store> {
        let store = apple_native_keyring_store::keychain::Store::new().map_err(map_error)?;
        Ok(store)
    }
    (open, "macOS Keychain")
}

#[cfg(target_os = "windows")]
fn platform_store() -> (fn() -> Result<Store>, &'static str) {
    fn open() -> Result<Store> {
        let store = windows_native_keyring_store::Store::new().map_err(map_error)?;
        Ok(store)
    }
    (open, "Windows Credential Manager")
}

#[cfg(not(any(target_os = "linux", target_os = "macos", target_os = "windows")))]
fn platform_store() -> (fn() -> Result<Store>, &'static str) {
    fn open() -> Result<Store> {
        Err(Error::KeychainUnavailable("Lexica has no keychain support on this platform".into()))
    }
    (open, "none")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn mock() -> Keychain {
        Keychain::with_store(keyring_core::mock::Store::new().unwrap(), "mock")
    }

    #[tokio::test]
    async fn set_get_delete_round_trip() {
        let k = mock();
        let id = SourceId::new();
        assert_eq!(k.password(id).await.unwrap(), None);
        k.set_password(id, &Secret::new("pw-1")).await.unwrap();
        assert_eq!(k.password(id).await.unwrap(), Some(Secret::new("pw-1")));
        assert!(k.delete_password(id).await.unwrap());
        assert!(!k.delete_password(id).await.unwrap());
        assert_eq!(k.password(id).await.unwrap(), None);
    }

    #[tokio::test]
    async fn a_personal_sign_in_is_its_users_alone() {
        let k = mock();
        let (source, alice, bob) = (SourceId::new(), UserId::new(), UserId::new());
        k.set_personal_password(source, alice, &Secret::new("alice-pw")).await.unwrap();
        assert_eq!(k.personal_password(source, alice).await.unwrap(), Some(Secret::new("alice-pw")));
        assert_eq!(k.personal_password(source, bob).await.unwrap(), None);
        // Neither the source's shared password nor another source's entry.
        assert_eq!(k.password(source).await.unwrap(), None);
        assert_eq!(k.personal_password(SourceId::new(), alice).await.unwrap(), None);
        assert!(k.delete_personal_password(source, alice).await.unwrap());
        assert_eq!(k.personal_password(source, alice).await.unwrap(), None);
    }

    #[test]
    fn secrets_never_print() {
        let s = Secret::new("hunter2");
        assert_eq!(format!("{s:?}"), "Secret(***)");
    }

    #[tokio::test]
    async fn an_unavailable_store_explains_itself() {
        fn down() -> Result<Store> {
            Err(Error::KeychainUnavailable("no D-Bus session".into()))
        }
        let k = Keychain { store: Arc::new(tokio::sync::OnceCell::new()), open: down, name: "x" };
        let err = k.password(SourceId::new()).await.unwrap_err().to_string();
        assert!(err.contains("start and unlock your desktop keyring"), "{err}");
    }
}
