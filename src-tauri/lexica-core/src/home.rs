//! Where an install keeps its files: the app database, offline bundles, logs.

use std::path::{Path, PathBuf};

use crate::{Error, Result};

/// Environment variable that moves the whole install (tests and firm installs use it).
pub const HOME_ENV: &str = "LEXICA_HOME";
/// The app database's file name inside the home folder.
pub const DATABASE_FILE: &str = "lexica.sqlite";
/// The file the desktop app holds locked while it runs (see [`Home::claim_app_instance`]).
pub const APP_LOCK_FILE: &str = "lexica-app.lock";

/// The desktop app's claim on an install, held for as long as the value lives. The OS releases
/// the lock when the process ends, however it ends (a killed app leaves no stale claim).
#[derive(Debug)]
pub struct AppInstance {
    _file: std::fs::File,
}

/// The resolved home folder and the paths inside it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Home {
    root: PathBuf,
}

impl Home {
    /// `explicit` (the `--home` flag) wins, then `LEXICA_HOME`, then the OS app-data folder
    /// (`~/.local/share/lexica` on Linux, `~/Library/Application Support/com.lexica.Lexica` on
    /// macOS, `%APPDATA%\Lexica\Lexica\data` on Windows). The folder is created if missing.
    pub fn resolve(explicit: Option<PathBuf>) -> Result<Home> {
        let root = match explicit.or_else(|| std::env::var_os(HOME_ENV).filter(|v| !v.is_empty()).map(PathBuf::from)) {
            Some(root) => root,
            None => directories::ProjectDirs::from("com", "Lexica", "Lexica")
                .map(|dirs| dirs.data_dir().to_path_buf())
                .ok_or_else(|| Error::Home {
                    path: "(no home directory)".into(),
                    source: std::io::Error::new(std::io::ErrorKind::NotFound, "the OS reports no home directory"),
                })?,
        };
        let home = Home { root };
        for dir in [home.root.clone(), home.sources_dir(), home.logs_dir()] {
            std::fs::create_dir_all(&dir).map_err(|source| Error::Home { path: dir.display().to_string(), source })?;
        }
        Ok(home)
    }

    pub fn root(&self) -> &Path {
        &self.root
    }

    pub fn database_path(&self) -> PathBuf {
        self.root.join(DATABASE_FILE)
    }

    /// Offline source bundles that Lexica builds itself (the demo source).
    pub fn sources_dir(&self) -> PathBuf {
        self.root.join("sources")
    }

    pub fn logs_dir(&self) -> PathBuf {
        self.root.join("logs")
    }

    /// Claims the install for one desktop app: a second app started on the same install is
    /// refused with a sentence to show, instead of running beside the first (two windows of one
    /// lawyer's install would race on the same searches and settings). Per install rather than
    /// per OS session, so separate installs (`LEXICA_HOME`) run side by side; the CLI does not
    /// claim, as scripts and the app legitimately work on one install together (the app
    /// database is built for several processes).
    pub fn claim_app_instance(&self) -> Result<AppInstance> {
        let path = self.root.join(APP_LOCK_FILE);
        let file = std::fs::OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&path)
            .map_err(|source| Error::Home { path: path.display().to_string(), source })?;
        match file.try_lock() {
            Ok(()) => Ok(AppInstance { _file: file }),
            Err(std::fs::TryLockError::WouldBlock) => Err(Error::Refused(format!(
                "Lexica is already open for this install ({}); switch to its window, or close it and start Lexica again",
                self.root.display()
            ))),
            Err(std::fs::TryLockError::Error(source)) => Err(Error::Home { path: path.display().to_string(), source }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_app_at_a_time_per_install() {
        let dir = tempfile::tempdir().unwrap();
        let home = Home::resolve(Some(dir.path().to_path_buf())).unwrap();
        let first = home.claim_app_instance().unwrap();
        let second = home.claim_app_instance().unwrap_err();
        assert!(second.to_string().contains("already open for this install"), "{second}");
        // Another install is not affected.
        let other_dir = tempfile::tempdir().unwrap();
        let other = Home::resolve(Some(other_dir.path().to_path_buf())).unwrap();
        let _other = other.claim_app_instance().unwrap();
        // The claim ends with its holder.
        drop(first);
        let _again = home.claim_app_instance().unwrap();
    }
}
