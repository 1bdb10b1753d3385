//! The app menu: "Lexica › Settings…" (administrators) and "Quit".
//!
//! The Settings entry opens the same window as the header's button, through the same core check
//! (`commands::search::show_settings`). It is enabled only for an administrator: set at start-up
//! and again each time the search window loads its overview (after every settings change, so an
//! admin flag granted or revoked in the settings window shows at once). A click the core refuses
//! anyway (the flag changed in another process) says why in a message box.

use tauri::menu::{Menu, MenuEvent, MenuItem, PredefinedMenuItem, Submenu};
use tauri::{AppHandle, Manager, Wry};
use tauri_plugin_dialog::{DialogExt, MessageDialogKind};

/// The menu item ids.
const SETTINGS_ID: &str = "settings";
const QUIT_ID: &str = "quit";

/// The Settings entry, kept so its enabled state can follow the user's admin flag.
pub struct SettingsMenuItem(MenuItem<Wry>);

/// Builds the menu, attaches it to the search window (the app's menu bar on macOS) and answers
/// the Settings entry to keep. A menu that cannot be built is logged, not fatal: the header's
/// button still opens the settings.
pub fn install(app: &AppHandle, is_admin: bool) -> Option<SettingsMenuItem> {
    match build(app, is_admin) {
        Ok((menu, settings)) => {
            #[cfg(target_os = "macos")]
            let attached = app.set_menu(menu).map(drop);
            #[cfg(not(target_os = "macos"))]
            let attached = match app.get_webview_window("main") {
                Some(window) => window.set_menu(menu).map(drop),
                None => Ok(()),
            };
            if let Err(error) = attached {
                tracing::warn!("the app menu could not be attached: {error}");
            }
            app.on_menu_event(on_event);
            Some(SettingsMenuItem(settings))
        }
        Err(error) => {
            tracing::warn!("the app menu could not be built: {error}");
            None
        }
    }
}

fn build(app: &AppHandle, is_admin: bool) -> tauri::Result<(Menu<Wry>, MenuItem<Wry>)> {
    let settings = MenuItem::with_id(app, SETTINGS_ID, "&Settings…", is_admin, Some("CmdOrCtrl+Comma"))?;
    // GTK has no predefined Quit item, so Quit is Lexica's own on every platform.
    let quit = MenuItem::with_id(app, QUIT_ID, "&Quit", true, Some("CmdOrCtrl+Q"))?;
    let separator = PredefinedMenuItem::separator(app)?;
    let lexica = Submenu::with_items(app, "&Lexica", true, &[&settings, &separator, &quit])?;
    let menu = Menu::with_items(app, &[&lexica])?;
    Ok((menu, settings))
}

/// Enables the Settings entry for an administrator only (the overview says who is acting now).
pub fn sync_admin(app: &AppHandle, is_admin: bool) {
    if let Some(item) = app.try_state::<SettingsMenuItem>()
        && let Err(error) = item.0.set_enabled(is_admin)
    {
        tracing::debug!("the Settings menu entry could not be updated: {error}");
    }
}

fn on_event(app: &AppHandle, event: MenuEvent) {
    match event.id().as_ref() {
        SETTINGS_ID => {
            let app = app.clone();
            tauri::async_runtime::spawn(async move {
                if let Err(error) = crate::commands::search::show_settings(&app).await {
                    app.dialog()
                        .message(error.message)
                        .title("Lexica settings")
                        .kind(MessageDialogKind::Warning)
                        .show(|_| {});
                }
            });
        }
        QUIT_ID => app.exit(0),
        _ => {}
    }
}
