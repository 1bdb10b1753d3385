//! The commands the UI invokes. Each one is thin: take the core from Tauri's state, call it, return its typed result.
//!
//! Every command here must also be listed in `build.rs` (`COMMANDS`) and granted to its windows in `capabilities/`.
//! Errors cross to the UI as `CoreError` (`{ kind, message, fields }`, see `ui/src/lib/bindings/CoreError.ts`): the
//! core's `Error` serializes to exactly that shape; the shell uses the `ErrorReport` form because a start-up failure
//! is reported again on every call and must be cloned.

use lexica_core::{DataSource, ErrorReport, Lexica, SourceId, User};
use serde::Serialize;
use ts_rs::TS;

use crate::CoreState;

/// What the main window shows first: who is signed in, the sources they can see and which of those they can search.
#[derive(Debug, Clone, Serialize, TS)]
#[ts(export)]
pub struct AppOverview {
    /// The acting user: the OS login.
    pub user: User,
    /// The sources this user can see (`Lexica::list_sources`: every source for an administrator, the granted ones for
    /// anyone else), active or not. URLs never carry a password.
    pub sources: Vec<DataSource>,
    /// The ids of the sources among `sources` that a search would query now (`Lexica::accessible_sources`: granted ∧
    /// active ∧ search-enabled).
    pub searchable: Vec<SourceId>,
}

/// The acting (OS) user, the sources they can see, and which of those they can search.
#[tauri::command]
pub async fn app_overview(core: tauri::State<'_, CoreState>) -> Result<AppOverview, ErrorReport> {
    let overview = overview(core.lexica()?).await;
    if let Err(error) = &overview {
        tracing::warn!(kind = ?error.kind, "app_overview failed: {}", error.message);
    }
    overview
}

/// [`app_overview`] without Tauri, so it can be tested against a real core.
pub async fn overview(lexica: &Lexica) -> Result<AppOverview, ErrorReport> {
    let report = |error: lexica_core::Error| ErrorReport::from(&error);
    let user = lexica.acting_user(None).await.map_err(report)?;
    let sources = lexica.list_sources(&user).await.map_err(report)?;
    let searchable = lexica.accessible_sources(&user).await.map_err(report)?.into_iter().map(|s| s.id).collect();
    tracing::debug!(user = %user.username, sources = sources.len(), "overview");
    Ok(AppOverview { user, sources, searchable })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A fresh install: the OS user is its administrator and sees the seeded NY source, which is not configured
    /// (no URL) and therefore not searchable.
    #[tokio::test]
    async fn overview_of_a_fresh_install() {
        let home = tempfile::tempdir().unwrap();
        let lexica = Lexica::open(Some(home.path().to_path_buf())).await.unwrap();

        let overview = overview(&lexica).await.unwrap();

        assert_eq!(overview.user.username, lexica_core::db::local_username());
        assert!(overview.user.is_admin);
        let seeded = overview.sources.iter().find(|s| s.name == lexica_core::db::SEED_SOURCE_NAME).unwrap();
        assert_eq!(seeded.database_url, None);
        assert!(overview.searchable.is_empty());
        lexica.close().await;
    }

    /// What crosses to the UI: the field names the generated `AppOverview.ts` promises.
    #[tokio::test]
    async fn overview_serializes_with_the_bound_field_names() {
        let home = tempfile::tempdir().unwrap();
        let lexica = Lexica::open(Some(home.path().to_path_buf())).await.unwrap();

        let json = serde_json::to_value(overview(&lexica).await.unwrap()).unwrap();

        for field in ["user", "sources", "searchable"] {
            assert!(json.get(field).is_some(), "missing `{field}` in {json}");
        }
        lexica.close().await;
    }

    /// A start-up failure is answered on every call, as the core's error report.
    #[test]
    fn a_failed_open_is_reported_by_every_call() {
        let error = lexica_core::Error::Refused("no".into());
        let state = CoreState::from(Err(error));
        for _ in 0..2 {
            let report = state.lexica().unwrap_err();
            assert_eq!(report.kind, lexica_core::ErrorKind::Refused);
            assert_eq!(report.message, "no");
        }
    }
}
