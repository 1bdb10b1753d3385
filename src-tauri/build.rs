//! Build script of the desktop shell.
//!
//! Declaring the app's commands in the app manifest makes Tauri generate one permission per command
//! (`allow-<command>` / `deny-<command>`) and stop allowing undeclared access: a window may call a command only when a
//! capability in `capabilities/` grants it. The search window (`main.json`) is granted the search commands, the
//! settings window (`settings.json`) the admin commands, and neither the other's. Every `#[tauri::command]` registered
//! in `src/lib.rs` must be listed in `src/commands/names.rs`.

// The same lists the shell's tests check the capabilities against.
include!("src/commands/names.rs");

fn main() {
    println!("cargo:rerun-if-changed=src/commands/names.rs");
    // The manifest wants one `'static` list; a build script runs once, so leaking it is free.
    let commands: &'static [&'static str] =
        SEARCH_COMMANDS.iter().chain(ADMIN_COMMANDS).copied().collect::<Vec<_>>().leak();
    let attributes = tauri_build::Attributes::new().app_manifest(tauri_build::AppManifest::new().commands(commands));
    if let Err(error) = tauri_build::try_build(attributes) {
        // A build script reports failure by panicking; the message is what cargo prints.
        panic!("tauri-build failed: {error:#}");
    }
}
