//! Where an install keeps its files: the app database, offline bundles, logs.

use std::path::{Path, PathBuf};

use crate::{Error, Result};

/// Environment variable that moves the whole install (tests and firm installs use it).
pub const HOME_ENV: &str = "LEXICA_HOME";
/// The app database's file name inside the home folder.
pub const DATABASE_FILE: &str = "lexica.sqlite";

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
}
