//! Lexica's desktop shell: a Tauri 2 app whose commands call `lexica_core`, nothing more.
//!
//! * `state`: the core, opened once at start-up, and the running searches' cancel tokens, both managed by Tauri.
//! * `commands`: the `#[tauri::command]`s the UI invokes; each is declared in `build.rs` and granted per window in
//!   `capabilities/`.
//! * `logging`: tracing to a daily-rolling file in the install's `logs/` folder, and to stderr.

mod commands;
mod logging;
mod state;

pub use commands::AppOverview;
pub use state::{CoreState, Searches};

use tauri::Manager;

/// Builds and runs the app until its last window closes.
///
/// # Errors
/// When Tauri cannot start (no display, webview failure, broken configuration).
pub fn run() -> Result<(), tauri::Error> {
    // Flushes the log file when `run` returns.
    let _log_guard = logging::init();
    tracing::info!(version = env!("CARGO_PKG_VERSION"), "Lexica starting");

    tauri::Builder::default()
        .setup(|app| {
            // Tauri's async runtime is the tokio runtime the core's database pool lives on.
            let opened = tauri::async_runtime::block_on(lexica_core::Lexica::open(None));
            // Build the demo source's bundle now, in the background, so the first search is instant.
            if let Ok(lexica) = &opened {
                let lexica = lexica.clone();
                tauri::async_runtime::spawn(async move { lexica.warm_up().await });
            }
            let core = CoreState::from(opened);
            app.manage(core);
            app.manage(Searches::default());
            Ok(())
        })
        .invoke_handler(tauri::generate_handler![
            commands::app_overview,
            commands::check_query,
            commands::search,
            commands::cancel_search,
            commands::search_history,
            commands::open_opinion,
            commands::export_results,
        ])
        .run(tauri::generate_context!())
}
