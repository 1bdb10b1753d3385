//! The commands the UI invokes, by area. Each is a few-line adapter: take the core from Tauri's state, name the acting
//! (OS) user, call one `Lexica` method, return its typed result. The logic lives in the core.
//!
//! * `search`: the search window's commands (overview, query check, search, cancel, history, reader, CSV export,
//!   opening the settings window).
//! * `settings`: the administrator's commands, granted only to the `settings` window (`capabilities/settings.json`);
//!   after each change they tell every window (`SOURCES_CHANGED`) so an open search window reloads its sources.
//!
//! Errors cross to the UI as `CoreError` (`{ kind, message, fields }`, see `ui/src/lib/bindings/CoreError.ts`): the
//! core's `Error` serializes to exactly that shape; the shell uses the `ErrorReport` form because a start-up failure
//! is reported again on every call and must be cloned.

/// The command names per window (shared with `build.rs`, which declares them).
mod names;
pub mod search;
pub mod settings;

pub use names::{ADMIN_COMMANDS, SEARCH_COMMANDS};

use lexica_core::{ErrorReport, Lexica, User};

/// The event every window receives after an admin command changed something (sources, passwords, users, grants);
/// the search window reloads its overview when it hears it.
pub const SOURCES_CHANGED: &str = "lexica://sources-changed";

/// The core's error as it crosses to the UI.
pub(crate) fn report(error: lexica_core::Error) -> ErrorReport {
    ErrorReport::from(&error)
}

/// The acting user: the OS login (see `Lexica::acting_user`).
pub(crate) async fn acting(lexica: &Lexica) -> Result<User, ErrorReport> {
    lexica.acting_user(None).await.map_err(report)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn granted(capability: &str) -> Vec<String> {
        let path = format!("{}/capabilities/{capability}.json", env!("CARGO_MANIFEST_DIR"));
        let text = std::fs::read_to_string(&path).unwrap();
        let json: serde_json::Value = serde_json::from_str(&text).unwrap();
        json["permissions"].as_array().unwrap().iter().map(|p| p.as_str().unwrap().to_string()).collect()
    }

    /// The dialog plugin's permissions the settings window has: choosing a file to read and one to write.
    const SETTINGS_DIALOG: &[&str] = &["dialog:allow-open", "dialog:allow-save"];

    fn allow(command: &str) -> String {
        format!("allow-{}", command.replace('_', "-"))
    }

    /// The search window is granted every search command and no admin command; the settings window every admin
    /// command and the file dialog, nothing else (no search command, no core plugin permission).
    #[test]
    fn admin_commands_are_granted_to_the_settings_window_only() {
        let main = granted("main");
        let settings = granted("settings");
        for command in ADMIN_COMMANDS {
            assert!(!main.contains(&allow(command)), "main.json grants the admin command {command}");
            assert!(settings.contains(&allow(command)), "settings.json does not grant {command}");
        }
        for command in SEARCH_COMMANDS {
            assert!(main.contains(&allow(command)), "main.json does not grant {command}");
        }
        let mut expected: Vec<String> = ADMIN_COMMANDS.iter().map(|c| allow(c)).collect();
        expected.extend(SETTINGS_DIALOG.iter().map(|p| (*p).to_string()));
        assert_eq!(settings, expected, "settings.json grants exactly the admin commands and the file dialog");
        assert!(main.iter().all(|p| !p.starts_with("dialog:")), "main.json grants the file dialog");
    }

    /// Every name is declared once (a duplicate would hide a missing one in the checks above).
    #[test]
    fn command_names_are_unique() {
        let mut all: Vec<&str> = SEARCH_COMMANDS.iter().chain(ADMIN_COMMANDS).copied().collect();
        let count = all.len();
        all.sort_unstable();
        all.dedup();
        assert_eq!(all.len(), count);
    }
}
