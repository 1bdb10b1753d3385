// The shell's command names, per window. Included by `build.rs` (which declares them in the app
// manifest, so Tauri generates an `allow-<command>` permission for each and refuses undeclared
// access) and by `commands/mod.rs` (whose tests check the capabilities grant them as intended).
// Plain comments only: `include!` does not accept inner doc comments.

/// The search window's commands, granted in `capabilities/main.json`.
pub const SEARCH_COMMANDS: &[&str] = &[
    "app_overview",
    "check_sources",
    "check_query",
    "search",
    "cancel_search",
    "search_history",
    "open_opinion",
    "export_results",
    "open_settings",
    "sign_in_to_source",
    "sign_out_of_source",
];

/// The administrator's commands, granted ONLY in `capabilities/settings.json` (the `settings`
/// window). The core re-checks that the acting user is an administrator on each of them.
pub const ADMIN_COMMANDS: &[&str] = &[
    "settings_overview",
    "sources_view",
    "add_source",
    "edit_source",
    "set_source_active",
    "remove_source",
    "set_source_password",
    "clear_source_password",
    "test_source",
    "list_users",
    "add_user",
    "remove_user",
    "set_admin",
    "access_grid",
    "grant_access",
    "revoke_access",
    "provision_import_file",
    "provision_export_file",
];
