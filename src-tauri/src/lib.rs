//! Lexica's desktop shell: a Tauri 2 app whose commands call `lexica_core`, nothing more.
//!
//! * `state`: the core, opened once at start-up, and the running searches' cancel tokens, both managed by Tauri.
//! * `commands`: the `#[tauri::command]`s the UI invokes, by area (`search`, `settings`); each is named in
//!   `commands/names.rs` (which `build.rs` declares) and granted per window in `capabilities/`.
//! * `menu`: the app menu (Settings…, enabled for administrators; Quit).
//! * `logging`: tracing to a daily-rolling file in the install's `logs/` folder, and to stderr.

mod commands;
mod logging;
mod menu;
mod state;

pub use commands::{ADMIN_COMMANDS, SEARCH_COMMANDS};
pub use lexica_core::settings::AppOverview;
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
        // The OS file dialog; only the settings window's capability grants it (open and save).
        .plugin(tauri_plugin_dialog::init())
        .setup(|app| {
            // Tauri's async runtime is the tokio runtime the core's database pool lives on.
            let opened = tauri::async_runtime::block_on(open_claimed()).map(|(lexica, instance)| {
                // Held (managed) for the app's lifetime; the OS drops the claim when the process ends.
                app.manage(instance);
                lexica
            });
            // Build the demo source's bundle now, in the background, so the first search is instant.
            if let Ok(lexica) = &opened {
                let lexica = lexica.clone();
                tauri::async_runtime::spawn(async move { lexica.warm_up().await });
            }
            // The menu's Settings entry starts enabled for an administrator only (the overview keeps it in step).
            let is_admin = match &opened {
                Ok(lexica) => tauri::async_runtime::block_on(lexica.acting_admin()).is_ok(),
                Err(_) => false,
            };
            if let Some(item) = menu::install(app.handle(), is_admin) {
                app.manage(item);
            }
            let core = CoreState::from(opened);
            app.manage(core);
            app.manage(Searches::default());
            Ok(())
        })
        .invoke_handler(tauri::generate_handler![
            commands::search::app_overview,
            commands::search::check_sources,
            commands::search::check_query,
            commands::search::search,
            commands::search::cancel_search,
            commands::search::search_history,
            commands::search::open_opinion,
            commands::search::sign_in_to_source,
            commands::search::sign_out_of_source,
            commands::search::export_results,
            commands::search::open_settings,
            commands::settings::settings_overview,
            commands::settings::sources_view,
            commands::settings::add_source,
            commands::settings::edit_source,
            commands::settings::set_source_active,
            commands::settings::remove_source,
            commands::settings::set_source_password,
            commands::settings::clear_source_password,
            commands::settings::test_source,
            commands::settings::list_users,
            commands::settings::add_user,
            commands::settings::remove_user,
            commands::settings::set_admin,
            commands::settings::access_grid,
            commands::settings::grant_access,
            commands::settings::revoke_access,
            commands::settings::provision_import_file,
            commands::settings::provision_export_file,
        ])
        .run(tauri::generate_context!())
}

/// How long a starting app waits for the install's previous app to finish closing before it says one is open.
const CLAIM_WAIT: std::time::Duration = std::time::Duration::from_secs(3);

/// The install claimed for this app (one app per install: a second one shows the first's sentence in its window
/// instead of running beside it), then the core opened on it.
async fn open_claimed() -> Result<(lexica_core::Lexica, lexica_core::AppInstance), lexica_core::Error> {
    let home = lexica_core::Home::resolve(None)?;
    // A previous app on this install may still be closing (its window gone, its process not yet): give it a moment.
    let waited = std::time::Instant::now();
    let instance = loop {
        match home.claim_app_instance() {
            Err(lexica_core::Error::Refused(_)) if waited.elapsed() < CLAIM_WAIT => {
                tokio::time::sleep(std::time::Duration::from_millis(100)).await;
            }
            claimed => break claimed?,
        }
    };
    let lexica = lexica_core::Lexica::open(Some(home.root().to_path_buf())).await?;
    Ok((lexica, instance))
}
