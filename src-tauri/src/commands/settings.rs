//! The administrator's commands, granted only to the `settings` window (`capabilities/settings.json`, listed in
//! `names.rs::ADMIN_COMMANDS`). Each calls one checked `Lexica` method — the core refuses a non-administrator — and,
//! when it changed something, tells every window ([`super::SOURCES_CHANGED`]) so an open search window reloads.
//!
//! A password comes in once (`set_source_password`) and goes straight to the OS keychain: no command returns one.

use lexica_core::credentials::Secret;
use lexica_core::provision::ImportReport;
use lexica_core::settings::{AccessRow, SourcesView};
use lexica_core::sources::doctor::DoctorReport;
use lexica_core::{DataSource, ErrorReport, Lexica, PermissionLevel, SourceChanges, SourceEdit, User};
use tauri::{AppHandle, Emitter, State};

use super::{SOURCES_CHANGED, acting, report};
use crate::CoreState;

/// Tells every window that sources, passwords, users or grants changed. A window that is gone misses nothing it
/// needs, so a failed emit only logs.
fn changed(app: &AppHandle) {
    if let Err(error) = app.emit(SOURCES_CHANGED, ()) {
        tracing::debug!("{SOURCES_CHANGED} not delivered: {error}");
    }
}

/// The administrator using the settings window (refused for anyone else).
#[tauri::command]
pub async fn settings_overview(core: State<'_, CoreState>) -> Result<User, ErrorReport> {
    core.lexica()?.acting_admin().await.map_err(report)
}

/// Every source with its password state and last test, and the keychain in use.
#[tauri::command]
pub async fn sources_view(core: State<'_, CoreState>) -> Result<SourcesView, ErrorReport> {
    let lexica = core.lexica()?;
    lexica.sources_view(&acting(lexica).await?).await.map_err(report)
}

#[tauri::command]
pub async fn add_source(
    app: AppHandle,
    core: State<'_, CoreState>,
    name: String,
    changes: SourceChanges,
) -> Result<DataSource, ErrorReport> {
    let lexica = core.lexica()?;
    let added = lexica.add_source(&acting(lexica).await?, &name, changes).await.map_err(report)?;
    changed(&app);
    Ok(added)
}

/// Edits a source; the answer says whether its stored password was removed (host, port or user changed).
#[tauri::command]
pub async fn edit_source(
    app: AppHandle,
    core: State<'_, CoreState>,
    name: String,
    changes: SourceChanges,
) -> Result<SourceEdit, ErrorReport> {
    let lexica = core.lexica()?;
    let edit = lexica.edit_source_reporting(&acting(lexica).await?, &name, changes).await.map_err(report)?;
    changed(&app);
    Ok(edit)
}

#[tauri::command]
pub async fn set_source_active(
    app: AppHandle,
    core: State<'_, CoreState>,
    name: String,
    active: bool,
) -> Result<DataSource, ErrorReport> {
    let lexica = core.lexica()?;
    let source = lexica.set_source_active(&acting(lexica).await?, &name, active).await.map_err(report)?;
    changed(&app);
    Ok(source)
}

/// Removes a source with its grants and its stored password.
#[tauri::command]
pub async fn remove_source(
    app: AppHandle,
    core: State<'_, CoreState>,
    name: String,
) -> Result<DataSource, ErrorReport> {
    let lexica = core.lexica()?;
    let removed = lexica.remove_source(&acting(lexica).await?, &name).await.map_err(report)?;
    changed(&app);
    Ok(removed)
}

/// Stores the source's password in the OS keychain. The answer is the source (never the password).
#[tauri::command]
pub async fn set_source_password(
    app: AppHandle,
    core: State<'_, CoreState>,
    name: String,
    password: String,
) -> Result<DataSource, ErrorReport> {
    let lexica = core.lexica()?;
    let password = Secret::new(password);
    let source = lexica.set_source_password(&acting(lexica).await?, &name, &password).await.map_err(report)?;
    changed(&app);
    Ok(source)
}

/// Removes the source's password from the keychain; false when none was stored.
#[tauri::command]
pub async fn clear_source_password(
    app: AppHandle,
    core: State<'_, CoreState>,
    name: String,
) -> Result<bool, ErrorReport> {
    let lexica = core.lexica()?;
    let existed = lexica.clear_source_password(&acting(lexica).await?, &name).await.map_err(report)?;
    changed(&app);
    Ok(existed)
}

/// Runs the source doctor and keeps its verdict as the source's last test.
#[tauri::command]
pub async fn test_source(
    app: AppHandle,
    core: State<'_, CoreState>,
    name: String,
) -> Result<DoctorReport, ErrorReport> {
    let lexica = core.lexica()?;
    let tested = lexica.test_source(&acting(lexica).await?, &name).await.map_err(report)?;
    changed(&app);
    Ok(tested)
}

#[tauri::command]
pub async fn list_users(core: State<'_, CoreState>) -> Result<Vec<User>, ErrorReport> {
    let lexica = core.lexica()?;
    lexica.list_users(&acting(lexica).await?).await.map_err(report)
}

#[tauri::command]
pub async fn add_user(
    app: AppHandle,
    core: State<'_, CoreState>,
    username: String,
    display_name: Option<String>,
    is_admin: bool,
) -> Result<User, ErrorReport> {
    let lexica = core.lexica()?;
    let actor = acting(lexica).await?;
    let added = lexica.add_user(&actor, &username, display_name.as_deref(), is_admin).await.map_err(report)?;
    changed(&app);
    Ok(added)
}

/// Removes a user (refused for yourself and for the last administrator, with the core's sentence).
#[tauri::command]
pub async fn remove_user(app: AppHandle, core: State<'_, CoreState>, username: String) -> Result<(), ErrorReport> {
    let lexica = core.lexica()?;
    lexica.remove_user(&acting(lexica).await?, &username).await.map_err(report)?;
    changed(&app);
    Ok(())
}

#[tauri::command]
pub async fn set_admin(
    app: AppHandle,
    core: State<'_, CoreState>,
    username: String,
    is_admin: bool,
) -> Result<User, ErrorReport> {
    let lexica = core.lexica()?;
    let user = lexica.set_admin(&acting(lexica).await?, &username, is_admin).await.map_err(report)?;
    changed(&app);
    Ok(user)
}

/// The users × sources grid: grants, who granted them and when, and each user's effective access with the reason.
#[tauri::command]
pub async fn access_grid(core: State<'_, CoreState>) -> Result<Vec<AccessRow>, ErrorReport> {
    let lexica = core.lexica()?;
    lexica.access_grid(&acting(lexica).await?).await.map_err(report)
}

#[tauri::command]
pub async fn grant_access(
    app: AppHandle,
    core: State<'_, CoreState>,
    username: String,
    source: String,
    level: PermissionLevel,
) -> Result<bool, ErrorReport> {
    let lexica = core.lexica()?;
    let changed_now = lexica.grant(&acting(lexica).await?, &username, &source, level).await.map_err(report)?;
    changed(&app);
    Ok(changed_now)
}

#[tauri::command]
pub async fn revoke_access(
    app: AppHandle,
    core: State<'_, CoreState>,
    username: String,
    source: String,
) -> Result<bool, ErrorReport> {
    let lexica = core.lexica()?;
    let existed = lexica.revoke(&acting(lexica).await?, &username, &source).await.map_err(report)?;
    changed(&app);
    Ok(existed)
}

/// Imports the provisioning file at `path` (dry run: the preview, nothing written).
#[tauri::command]
pub async fn provision_import_file(
    app: AppHandle,
    core: State<'_, CoreState>,
    path: String,
    prune: bool,
    dry_run: bool,
) -> Result<ImportReport, ErrorReport> {
    let lexica = core.lexica()?;
    let actor = acting(lexica).await?;
    let text = Lexica::read_provisioning_file(std::path::Path::new(&path)).map_err(report)?;
    let imported = lexica.provision_import(&actor, &text, prune, dry_run).await.map_err(report)?;
    if !dry_run {
        changed(&app);
    }
    Ok(imported)
}

/// Writes the install's provisioning file (never a password) to `path`, a new file; answers the path written.
#[tauri::command]
pub async fn provision_export_file(core: State<'_, CoreState>, path: String) -> Result<String, ErrorReport> {
    let lexica = core.lexica()?;
    let text = lexica.provision_export(&acting(lexica).await?).await.map_err(report)?;
    Lexica::write_provisioning_file(std::path::Path::new(&path), &text).map_err(report)?;
    Ok(path)
}
