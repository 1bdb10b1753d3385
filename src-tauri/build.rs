//! Build script of the desktop shell.
//!
//! Declaring the app's commands in the app manifest makes Tauri generate one permission per command
//! (`allow-<command>` / `deny-<command>`) and stop allowing undeclared access: a window may call a command only when a
//! capability in `capabilities/` grants it. The settings window (a later issue) relies on this to keep admin commands
//! out of the search window. Every `#[tauri::command]` registered in `src/lib.rs` must be listed here.

/// The commands the shell exposes, each granted per window in `capabilities/*.json`.
const COMMANDS: &[&str] =
    &["app_overview", "check_query", "search", "cancel_search", "search_history", "open_opinion", "export_results"];

fn main() {
    let attributes = tauri_build::Attributes::new().app_manifest(tauri_build::AppManifest::new().commands(COMMANDS));
    if let Err(error) = tauri_build::try_build(attributes) {
        // A build script reports failure by panicking; the message is what cargo prints.
        panic!("tauri-build failed: {error:#}");
    }
}
