//! Who owns a running execution, and whether that owner is still alive: the half of
//! `search_executions` that lives beside the app database rather than in it.
//!
//! Every execution is stamped at insert with this process's owner id ([`process_owner_id`]), a
//! random id drawn once per process (a pid alone is reused by the OS). Each open [`crate::Lexica`]
//! handle holds an exclusive lock on its own file `run/<owner_id>.<handle_id>.lock` beside the
//! database ([`LivenessLock`]) until it is closed or dropped. An owner is alive while any of its
//! lock files is locked; crash recovery closes the unfinished executions of owners that are not.
//!
//! Why a lock rather than a heartbeat column: the OS releases a lock the instant its process
//! dies, SIGKILL and crashes included, so the very next start closes a dead search's executions,
//! and a live one is never closed however long it runs or however long the machine slept. A
//! heartbeat needs a staleness window that is wrong both ways (a killed app's executions stay
//! `running` at the next start; a suspended laptop's live search is closed), and it writes to the
//! database all through every search.

use std::fs::{File, OpenOptions, TryLockError};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::LazyLock;

use crate::{Error, Result};

/// The folder, beside the app database, that holds one lock file per open handle.
pub const RUN_DIR: &str = "run";
/// How lock files end; anything else in [`RUN_DIR`] is ignored.
const LOCK_SUFFIX: &str = ".lock";

/// This process's owner id, drawn once. Random rather than the pid: a pid is reused by the OS, so
/// a new process could look like the owner of a dead one's executions.
static PROCESS_OWNER: LazyLock<String> = LazyLock::new(|| uuid::Uuid::new_v4().to_string());

/// The owner id stamped on the executions this process starts.
pub fn process_owner_id() -> &'static str {
    &PROCESS_OWNER
}

/// The lock folder of the app database at `database`.
pub fn run_dir(database: &Path) -> PathBuf {
    database.parent().unwrap_or_else(|| Path::new(".")).join(RUN_DIR)
}

/// Proof that this process is alive for one open handle: an exclusive lock on its lock file,
/// held until this value is dropped (then the file is removed; the OS drops the lock at exit
/// however the process ends).
#[derive(Debug)]
pub struct LivenessLock {
    file: Option<File>,
    path: PathBuf,
}

impl LivenessLock {
    /// Creates and locks this handle's lock file beside the database at `database`.
    pub fn acquire(database: &Path) -> Result<LivenessLock> {
        let dir = run_dir(database);
        let home_error = |source: std::io::Error| Error::Home { path: dir.display().to_string(), source };
        std::fs::create_dir_all(&dir).map_err(home_error)?;
        let name = format!("{}.{}", process_owner_id(), uuid::Uuid::new_v4());
        // Locked under a staging name, then renamed: a prober never sees the final name unlocked,
        // so it never takes a starting handle for a dead one.
        let staging = dir.join(format!(".{name}.tmp"));
        let path = dir.join(format!("{name}{LOCK_SUFFIX}"));
        let mut file = OpenOptions::new().create_new(true).write(true).open(&staging).map_err(home_error)?;
        file.try_lock().map_err(|e| match e {
            TryLockError::Error(e) => home_error(e),
            TryLockError::WouldBlock => home_error(std::io::Error::other("a fresh lock file was already locked")),
        })?;
        // For people looking at the folder; nothing reads it back.
        let _ = writeln!(file, "pid {}", std::process::id());
        std::fs::rename(&staging, &path).map_err(home_error)?;
        Ok(LivenessLock { file: Some(file), path })
    }
}

impl Drop for LivenessLock {
    fn drop(&mut self) {
        // The name goes first, then the lock (closing the file releases it). Best effort: a file
        // left behind is unlocked, so the next crash recovery treats it as dead and removes it.
        let _ = std::fs::remove_file(&self.path);
        drop(self.file.take());
    }
}

/// The owners with at least one locked lock file beside the database at `database` (blocking
/// file I/O: call it off the async workers). Unlocked lock files, left by processes that died,
/// are removed on the way.
///
/// A file whose lock state cannot be read counts as alive: leaving an execution `running` is
/// visible and harmless, closing a live one loses its results.
pub fn live_owners(database: &Path) -> std::collections::HashSet<String> {
    let mut alive = std::collections::HashSet::new();
    let Ok(entries) = std::fs::read_dir(run_dir(database)) else { return alive };
    for entry in entries.flatten() {
        let name = entry.file_name();
        let Some(stem) = name.to_str().and_then(|n| n.strip_suffix(LOCK_SUFFIX)) else { continue };
        let Some((owner, _handle)) = stem.split_once('.') else { continue };
        // Read-only is enough to take (and so test) an exclusive lock.
        let Ok(file) = File::open(entry.path()) else { continue }; // gone meanwhile: released
        match file.try_lock() {
            Ok(()) => {
                drop(file);
                let _ = std::fs::remove_file(entry.path());
            }
            Err(TryLockError::WouldBlock) | Err(TryLockError::Error(_)) => {
                alive.insert(owner.to_string());
            }
        }
    }
    alive
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_held_lock_is_alive_and_a_released_one_is_swept() {
        let dir = tempfile::tempdir().unwrap();
        let database = dir.path().join("lexica.sqlite");
        let lock = LivenessLock::acquire(&database).unwrap();
        assert!(live_owners(&database).contains(process_owner_id()));
        let path = lock.path.clone();
        drop(lock);
        assert!(!path.exists());
        // A dead process's file: present, unlocked.
        let stale = run_dir(&database).join("00000000-0000-4000-8000-000000000000.1.lock");
        std::fs::write(&stale, "pid 1").unwrap();
        assert!(live_owners(&database).is_empty());
        assert!(!stale.exists(), "swept");
    }
}
