//! The search window's commands: the overview, whether its sources answer, the query check, searching and cancelling, the user's history, the
//! reader, the CSV export, the user's own sign-in to a source, and opening the settings window (administrators only). Each is listed in
//! `names.rs::SEARCH_COMMANDS` and granted in `capabilities/main.json`.

use std::path::PathBuf;
use std::sync::{Arc, Mutex, PoisonError};

use lexica_core::reach::SourceReach;
use lexica_core::search::reader::OpinionDocument;
use lexica_core::search::{Hit, SearchEvent, SearchModeInput, SearchOutcome, SearchRequest};
use lexica_core::settings::AppOverview;
use lexica_core::{ErrorKind, ErrorReport, Lexica, SearchId, SearchRecord, SourceId};
use tauri::ipc::Channel;
use tauri::{AppHandle, Manager, WebviewUrl, WebviewWindowBuilder};
use tokio_util::sync::CancellationToken;

use super::{acting, report};
use crate::{CoreState, Searches};

/// The settings window's label: `capabilities/settings.json` grants the admin commands to this window only.
pub const SETTINGS_WINDOW: &str = "settings";
/// The page the settings window loads: the same UI, which shows the settings screen for this query.
pub const SETTINGS_PAGE: &str = "index.html?window=settings";
/// The settings window's size in logical pixels (the table of sources needs the width).
const SETTINGS_SIZE: (f64, f64) = (1000.0, 700.0);

/// Most past searches one `search_history` call returns.
pub const MAX_HISTORY: u32 = 500;

/// The acting (OS) user, the sources they can see, and which of those they can search.
#[tauri::command]
pub async fn app_overview(app: AppHandle, core: tauri::State<'_, CoreState>) -> Result<AppOverview, ErrorReport> {
    let overview = overview(core.lexica()?).await;
    match &overview {
        // The app menu's Settings entry follows the admin flag as the window does.
        Ok(overview) => crate::menu::sync_admin(&app, overview.user.is_admin),
        Err(error) => tracing::warn!(kind = ?error.kind, "app_overview failed: {}", error.log_summary()),
    }
    overview
}

/// [`app_overview`] without Tauri, so it can be tested against a real core.
pub async fn overview(lexica: &Lexica) -> Result<AppOverview, ErrorReport> {
    lexica.overview().await.map_err(report)
}

/// Whether each source the acting user can search answers now: ready, the sign-in it needs, or why it cannot be
/// reached (the search window's badges; each source's check ends within `lexica_core::reach::CHECK_LIMIT`).
#[tauri::command]
pub async fn check_sources(core: tauri::State<'_, CoreState>) -> Result<Vec<SourceReach>, ErrorReport> {
    let lexica = core.lexica()?;
    let user = acting(lexica).await?;
    lexica.check_sources(&user).await.map_err(report)
}

/// Checks a query as the user types, before anything is sent: `Ok` when it would parse, else the core's `query` error
/// with the offending span in characters (`query.char_start..char_end`) and a suggested fix. Needs no database.
#[tauri::command]
pub async fn check_query(query: String, mode: SearchModeInput) -> Result<(), ErrorReport> {
    check(&query, mode)
}

/// [`check_query`] without Tauri.
pub fn check(query: &str, mode: SearchModeInput) -> Result<(), ErrorReport> {
    Lexica::check_query(query, mode).map_err(report)
}

/// Runs a search as the acting (OS) user. Its progress (`started`, per source `source_running` and `source_finished`,
/// then `finished`) goes to `on_event`, this search's own channel; the answer is the finished search.
/// `cancel_search` with the id from `started` stops it.
#[tauri::command]
pub async fn search(
    core: tauri::State<'_, CoreState>,
    searches: tauri::State<'_, Searches>,
    request: SearchRequest,
    on_event: Channel<SearchEvent>,
) -> Result<SearchOutcome, ErrorReport> {
    let sink = move |event: SearchEvent| {
        if let Err(error) = on_event.send(event) {
            // The window went away or reloaded: the search still ends (and is recorded) normally.
            tracing::debug!("search event not delivered: {error}");
        }
    };
    let outcome = run_search(core.lexica()?, &searches, &request, sink).await;
    if let Err(error) = &outcome {
        tracing::info!(kind = ?error.kind, "search refused: {}", error.log_summary());
    }
    outcome
}

/// [`search`] without Tauri: `on_event` receives the core's events. The search is cancellable through `searches` from
/// its `started` event until it returns.
pub async fn run_search(
    lexica: &Lexica,
    searches: &Searches,
    request: &SearchRequest,
    on_event: impl Fn(SearchEvent) + Send + Sync + 'static,
) -> Result<SearchOutcome, ErrorReport> {
    let user = acting(lexica).await?;
    let token = CancellationToken::new();
    let registration = Registration { searches: searches.clone(), id: Arc::default() };
    let sink = {
        let searches = searches.clone();
        let token = token.clone();
        let registered = registration.id.clone();
        move |event: SearchEvent| {
            if let SearchEvent::Started { search_id, .. } = &event {
                // Registered before the UI can know the id: a cancel always finds its search.
                searches.register(*search_id, token.clone());
                *registered.lock().unwrap_or_else(PoisonError::into_inner) = Some(*search_id);
            }
            on_event(event);
        }
    };
    let outcome = lexica.search(&user, request, token, Arc::new(sink)).await.map_err(report);
    drop(registration);
    outcome
}

/// Takes a search out of [`Searches`] when it ends, also if the search's future is dropped midway.
struct Registration {
    searches: Searches,
    id: Arc<Mutex<Option<SearchId>>>,
}

impl Drop for Registration {
    fn drop(&mut self) {
        if let Some(id) = self.id.lock().unwrap_or_else(PoisonError::into_inner).take() {
            self.searches.remove(id);
        }
    }
}

/// Cancels a running search (the id is the `started` event's). Its sources still running end `cancelled` and the
/// `search` call returns the partial result. False when the search is not running (already over, or unknown).
#[tauri::command]
pub async fn cancel_search(searches: tauri::State<'_, Searches>, search_id: SearchId) -> Result<bool, ErrorReport> {
    let cancelled = searches.cancel(search_id);
    tracing::info!(%search_id, cancelled, "cancel requested");
    Ok(cancelled)
}

/// The acting user's past searches, newest first (at most `limit`, capped at [`MAX_HISTORY`]), each with what every
/// source did.
#[tauri::command]
pub async fn search_history(core: tauri::State<'_, CoreState>, limit: u32) -> Result<Vec<SearchRecord>, ErrorReport> {
    history(core.lexica()?, limit).await
}

/// [`search_history`] without Tauri.
pub async fn history(lexica: &Lexica, limit: u32) -> Result<Vec<SearchRecord>, ErrorReport> {
    let user = acting(lexica).await?;
    lexica.history(&user, limit.min(MAX_HISTORY), false).await.map_err(report)
}

/// One opinion of a hit, for the reader: its fields and paragraphs, with the terms of `query` (read in `mode`) marked
/// when a query is given. Only a source the acting user may search can be read (`refused` otherwise).
#[tauri::command]
pub async fn open_opinion(
    core: tauri::State<'_, CoreState>,
    source_id: SourceId,
    opinion_id: i64,
    query: Option<String>,
    mode: SearchModeInput,
) -> Result<OpinionDocument, ErrorReport> {
    let opened = read_opinion(core.lexica()?, source_id, opinion_id, query.as_deref(), mode).await;
    if let Err(error) = &opened {
        tracing::info!(kind = ?error.kind, %source_id, opinion_id, "open_opinion failed: {}", error.log_summary());
    }
    opened
}

/// Signs the acting user in to a source granted to them with their own database account (see
/// `lexica_core::sign_in`): tried on the server, then kept in their keychain when `remember`, else
/// for this session only. The password crosses once and is never returned.
#[tauri::command]
pub async fn sign_in_to_source(
    core: tauri::State<'_, CoreState>,
    source: String,
    user_name: Option<String>,
    password: String,
    remember: bool,
) -> Result<(), ErrorReport> {
    let lexica = core.lexica()?;
    let user = acting(lexica).await?;
    let password = lexica_core::credentials::Secret::new(password);
    lexica.sign_in(&user, &source, user_name.as_deref(), &password, remember).await.map_err(report)
}

/// Forgets the acting user's own sign-in to a source; `true` when there was one.
#[tauri::command]
pub async fn sign_out_of_source(core: tauri::State<'_, CoreState>, source: String) -> Result<bool, ErrorReport> {
    let lexica = core.lexica()?;
    let user = acting(lexica).await?;
    lexica.sign_out(&user, &source).await.map_err(report)
}

/// [`open_opinion`] without Tauri.
pub async fn read_opinion(
    lexica: &Lexica,
    source_id: SourceId,
    opinion_id: i64,
    query: Option<&str>,
    mode: SearchModeInput,
) -> Result<OpinionDocument, ErrorReport> {
    let user = acting(lexica).await?;
    let query = query.filter(|text| !text.trim().is_empty()).map(|text| (text, mode));
    lexica.open_opinion(&user, source_id, opinion_id, query).await.map_err(report)
}

/// Writes `hits` (the results the UI shows; the shell keeps no search state) as CSV to the user's Downloads folder (the
/// home folder when there is none), in a new file `lexica-results-YYYY-MM-DD-HHMMSS.csv` (never overwriting one), and
/// answers the path written.
#[tauri::command]
pub async fn export_results(hits: Vec<Hit>) -> Result<String, ErrorReport> {
    let dir =
        download_dir().ok_or_else(|| storage_error("there is no Downloads or home folder to export to".into()))?;
    let written = write_export(&hits, &dir, chrono::Local::now().naive_local());
    match &written {
        Ok(path) => tracing::info!(results = hits.len(), path = %path.display(), "results exported"),
        Err(error) => tracing::warn!("export failed: {}", error.log_summary()),
    }
    written.map(|path| path.display().to_string())
}

/// The user's Downloads folder, else their home folder.
fn download_dir() -> Option<PathBuf> {
    let dirs = directories::UserDirs::new()?;
    Some(dirs.download_dir().unwrap_or(dirs.home_dir()).to_path_buf())
}

/// [`export_results`] into `dir` at time `now` (see `Lexica::write_results_csv`).
pub fn write_export(hits: &[Hit], dir: &std::path::Path, now: chrono::NaiveDateTime) -> Result<PathBuf, ErrorReport> {
    Lexica::write_results_csv(hits, dir, now).map_err(report)
}

fn storage_error(message: String) -> ErrorReport {
    ErrorReport { kind: ErrorKind::Storage, message, fields: Vec::new(), query: None }
}

/// Opens the settings window, or brings it forward when it is open. Only for an administrator (the core re-reads the
/// acting user; the window's commands are re-checked again one by one).
#[tauri::command]
pub async fn open_settings(app: AppHandle) -> Result<(), ErrorReport> {
    show_settings(&app).await
}

/// [`open_settings`], also for the app menu's Settings entry.
pub async fn show_settings(app: &AppHandle) -> Result<(), ErrorReport> {
    let core = app.state::<CoreState>();
    core.lexica()?.acting_admin().await.map_err(report)?;
    if let Some(window) = app.get_webview_window(SETTINGS_WINDOW) {
        return window.set_focus().map_err(window_error);
    }
    // Built from an async task: a synchronous command would deadlock creating a window on Windows.
    WebviewWindowBuilder::new(app, SETTINGS_WINDOW, WebviewUrl::App(SETTINGS_PAGE.into()))
        .title("Lexica settings")
        .inner_size(SETTINGS_SIZE.0, SETTINGS_SIZE.1)
        .min_inner_size(720.0, 480.0)
        .build()
        .map(drop)
        .map_err(window_error)
}

fn window_error(error: tauri::Error) -> ErrorReport {
    tracing::warn!("settings window: {error}");
    storage_error(format!("the settings window could not be opened ({error}); restart Lexica and try again"))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A fresh install: the OS user is its administrator and sees the seeded NY source, which is not configured
    /// (no URL) and therefore not searchable, and the built-in demo source, which is searchable at once.
    #[tokio::test]
    async fn overview_of_a_fresh_install() {
        let home = tempfile::tempdir().unwrap();
        let lexica = Lexica::open(Some(home.path().to_path_buf())).await.unwrap();

        let overview = overview(&lexica).await.unwrap();

        assert_eq!(overview.user.username, lexica_core::db::local_username());
        assert!(overview.user.is_admin);
        let seeded = overview.sources.iter().find(|s| s.name == lexica_core::db::SEED_SOURCE_NAME).unwrap();
        assert_eq!(seeded.database_url, None);
        assert!(!overview.searchable.contains(&seeded.id));
        let demo = overview.sources.iter().find(|s| s.name == lexica_core::db::DEMO_SOURCE_NAME).unwrap();
        assert_eq!(overview.searchable, [demo.id]);
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

    fn request(query: &str) -> SearchRequest {
        SearchRequest { query: query.into(), ..SearchRequest::default() }
    }

    /// Collects what a search sends to its channel, and what the registry held when each event arrived.
    #[derive(Clone, Default)]
    struct Recorder(Arc<Mutex<Vec<(SearchEvent, usize)>>>);

    impl Recorder {
        fn sink(&self, searches: &Searches) -> impl Fn(SearchEvent) + Send + Sync + 'static {
            let (events, searches) = (self.0.clone(), searches.clone());
            move |event| events.lock().unwrap().push((event, searches.len()))
        }

        fn events(&self) -> Vec<(SearchEvent, usize)> {
            self.0.lock().unwrap().clone()
        }
    }

    #[test]
    fn check_query_accepts_good_queries_in_both_modes() {
        check("hearsay /p object!", SearchModeInput::Boolean).unwrap();
        check("ti(miranda) & da(aft 1960)", SearchModeInput::Boolean).unwrap();
        check("Was the hearsay properly admitted over the objection?", SearchModeInput::Statements).unwrap();
    }

    /// The error points at the offending text in characters (not bytes: `é` is two bytes) and says how to fix it.
    #[test]
    fn check_query_points_at_the_problem_in_characters() {
        let report = check("café AND (hearsay", SearchModeInput::Boolean).unwrap_err();
        assert_eq!(report.kind, lexica_core::ErrorKind::Query);
        let problem = report.query.unwrap();
        assert_eq!((problem.char_start, problem.char_end), (9, 10), "{problem:?}");
        assert!(!problem.fix.is_empty());

        let report = check("hearsay AND", SearchModeInput::Boolean).unwrap_err();
        assert_eq!(report.query.unwrap().char_start, 8);

        let report = check("   ", SearchModeInput::Statements).unwrap_err();
        assert_eq!(report.kind, lexica_core::ErrorKind::Query);
    }

    /// A search of the built-in demo source: events in the documented order on the channel, the search registered
    /// (cancellable) from `started` on and forgotten when it returns, and the same merged list in `finished` and in the
    /// answer.
    #[tokio::test]
    async fn a_search_streams_its_events_and_is_registered_while_it_runs() {
        let home = tempfile::tempdir().unwrap();
        let lexica = Lexica::open(Some(home.path().to_path_buf())).await.unwrap();
        let searches = Searches::default();
        let recorder = Recorder::default();

        let outcome =
            run_search(&lexica, &searches, &request("hearsay /p object!"), recorder.sink(&searches)).await.unwrap();

        let events = recorder.events();
        let types: Vec<&str> = events
            .iter()
            .map(|(e, _)| match e {
                SearchEvent::Started { .. } => "started",
                SearchEvent::SourceRunning { .. } => "source_running",
                SearchEvent::SourceFinished { .. } => "source_finished",
                SearchEvent::Finished { .. } => "finished",
            })
            .collect();
        assert_eq!(types, ["started", "source_running", "source_finished", "finished"]);
        let (SearchEvent::Started { search_id, sources }, registered) = &events[0] else { unreachable!() };
        assert_eq!(*search_id, outcome.search_id);
        assert_eq!(sources.iter().map(|s| s.name.as_str()).collect::<Vec<_>>(), [lexica_core::db::DEMO_SOURCE_NAME]);
        assert!(events.iter().all(|(_, n)| *n == 1), "registered from `started` until the end: {registered}");
        let (SearchEvent::Finished { summary, hits }, _) = &events[3] else { unreachable!() };
        assert_eq!(hits, &outcome.hits);
        assert_eq!(summary, &outcome.summary);
        assert!(!outcome.hits.is_empty());
        assert!(outcome.hits.iter().any(|h| h.snippet.iter().any(|p| p.highlight)));
        assert_eq!((outcome.summary.completed, outcome.summary.partial), (1, false));

        assert!(searches.is_empty());
        assert!(!searches.cancel(outcome.search_id), "an ended search cannot be cancelled");
        lexica.close().await;
    }

    /// `cancel_search` with the id from `started` stops the search: its source ends `cancelled`, the result is
    /// partial, and the answer still comes back.
    #[tokio::test]
    async fn a_search_cancelled_by_its_id_ends_cancelled_and_partial() {
        let home = tempfile::tempdir().unwrap();
        let lexica = Lexica::open(Some(home.path().to_path_buf())).await.unwrap();
        let searches = Searches::default();
        let answered = Arc::new(Mutex::new(None));
        let sink = {
            let (searches, answered) = (searches.clone(), answered.clone());
            move |event: SearchEvent| {
                if let SearchEvent::Started { search_id, .. } = event {
                    *answered.lock().unwrap() = Some(searches.cancel(search_id));
                }
            }
        };

        let outcome = run_search(&lexica, &searches, &request("hearsay"), sink).await.unwrap();

        assert_eq!(*answered.lock().unwrap(), Some(true));
        assert_eq!(outcome.sources.len(), 1);
        assert_eq!(outcome.sources[0].status, lexica_core::ExecutionStatus::Cancelled);
        assert_eq!((outcome.summary.cancelled, outcome.summary.partial), (1, true));
        assert!(searches.is_empty());
        lexica.close().await;
    }

    /// A malformed query is refused with its position before anything is recorded, registered or sent.
    #[tokio::test]
    async fn a_malformed_query_is_refused_before_anything_is_sent() {
        let home = tempfile::tempdir().unwrap();
        let lexica = Lexica::open(Some(home.path().to_path_buf())).await.unwrap();
        let searches = Searches::default();
        let recorder = Recorder::default();

        let report =
            run_search(&lexica, &searches, &request("hearsay /p (object"), recorder.sink(&searches)).await.unwrap_err();

        assert_eq!(report.kind, lexica_core::ErrorKind::Query);
        assert_eq!(report.query.unwrap().char_start, 11);
        assert!(recorder.events().is_empty());
        assert!(searches.is_empty());
        assert!(history(&lexica, 10).await.unwrap().is_empty());
        lexica.close().await;
    }

    #[test]
    fn cancelling_an_unknown_search_says_so() {
        assert!(!Searches::default().cancel(SearchId::new()));
    }

    /// The user's searches come back newest first with each source's execution; the limit is honoured.
    #[tokio::test]
    async fn history_lists_the_users_searches_newest_first() {
        let home = tempfile::tempdir().unwrap();
        let lexica = Lexica::open(Some(home.path().to_path_buf())).await.unwrap();
        let searches = Searches::default();
        for query in ["hearsay", "miranda"] {
            run_search(&lexica, &searches, &request(query), |_| {}).await.unwrap();
        }

        let records = history(&lexica, 10).await.unwrap();
        let queries: Vec<&str> = records.iter().map(|r| r.search.query_text.as_str()).collect();
        assert_eq!(queries, ["miranda", "hearsay"]);
        assert_eq!(records[0].executions.len(), 1);
        assert_eq!(records[0].executions[0].execution.status, lexica_core::ExecutionStatus::Completed);
        assert_eq!(history(&lexica, 1).await.unwrap().len(), 1);
        lexica.close().await;
    }

    /// A search of the demo source, then its first hit opened with the search's terms: the document is that hit's
    /// opinion, with marks counted.
    #[tokio::test]
    async fn an_opinion_from_a_real_search_opens_with_its_terms_marked() {
        let home = tempfile::tempdir().unwrap();
        let lexica = Lexica::open(Some(home.path().to_path_buf())).await.unwrap();
        let searches = Searches::default();
        let outcome = run_search(&lexica, &searches, &request("hearsay /p object!"), |_| {}).await.unwrap();
        let first = &outcome.hits[0];
        let from = &first.sources[0];

        let document = read_opinion(
            &lexica,
            from.source_id,
            from.opinion_id,
            Some("hearsay /p object!"),
            SearchModeInput::Boolean,
        )
        .await
        .unwrap();

        assert_eq!(document.case_name, first.case_name);
        assert_eq!(document.citation, first.citation);
        assert_eq!(document.source_name, lexica_core::db::DEMO_SOURCE_NAME);
        assert!(!document.paragraphs.is_empty());
        let marked: Vec<&str> =
            document.paragraphs.iter().flatten().filter(|p| p.highlight).map(|p| p.text.as_str()).collect();
        assert!(marked.len() >= 2, "{marked:?}");
        assert_eq!(document.highlights as usize, marked.len());
        assert!(marked.iter().any(|w| w.eq_ignore_ascii_case("hearsay")), "{marked:?}");
        assert!(marked.iter().any(|w| w.to_lowercase().starts_with("object")), "{marked:?}");

        // Without a query nothing is marked.
        let plain =
            read_opinion(&lexica, from.source_id, from.opinion_id, None, SearchModeInput::Boolean).await.unwrap();
        assert_eq!(plain.highlights, 0);
        lexica.close().await;
    }

    /// The seeded NY source is visible to the (admin) user but not searchable (no URL): reading from it is refused.
    #[tokio::test]
    async fn opening_an_opinion_of_a_source_the_user_cannot_search_is_refused() {
        let home = tempfile::tempdir().unwrap();
        let lexica = Lexica::open(Some(home.path().to_path_buf())).await.unwrap();
        let overview = overview(&lexica).await.unwrap();
        let seeded = overview.sources.iter().find(|s| s.name == lexica_core::db::SEED_SOURCE_NAME).unwrap();

        let report = read_opinion(&lexica, seeded.id, 1, Some("hearsay"), SearchModeInput::Boolean).await.unwrap_err();

        assert_eq!(report.kind, lexica_core::ErrorKind::Refused);
        let unknown = read_opinion(&lexica, SourceId::new(), 1, None, SearchModeInput::Boolean).await.unwrap_err();
        assert_eq!(unknown.kind, lexica_core::ErrorKind::Refused);
        lexica.close().await;
    }

    /// Real hits exported into a (temporary) download folder: the CSV header and one row per hit; a second export in
    /// the same second gets a new name instead of overwriting the first.
    #[tokio::test]
    async fn export_writes_a_header_and_one_row_per_hit_and_never_overwrites() {
        let home = tempfile::tempdir().unwrap();
        let downloads = tempfile::tempdir().unwrap();
        let lexica = Lexica::open(Some(home.path().to_path_buf())).await.unwrap();
        let outcome = run_search(&lexica, &Searches::default(), &request("hearsay"), |_| {}).await.unwrap();
        assert!(outcome.hits.len() >= 2);
        let now = chrono::NaiveDate::from_ymd_opt(2026, 11, 26).unwrap().and_hms_opt(15, 4, 5).unwrap();

        let path = write_export(&outcome.hits, downloads.path(), now).unwrap();

        assert_eq!(path, downloads.path().join("lexica-results-2026-11-26-150405.csv"));
        let csv = std::fs::read_to_string(&path).unwrap();
        let lines: Vec<&str> = csv.split_terminator("\r\n").collect();
        assert_eq!(lines[0], "case_name,citation,court,decided_on,docket_number,sources,score,match,snippet");
        assert_eq!(csv, lexica_core::search::export::to_csv(&outcome.hits));
        for hit in &outcome.hits {
            assert!(csv.contains(&hit.case_name), "{} missing", hit.case_name);
        }

        let again = write_export(&outcome.hits[..1], downloads.path(), now).unwrap();
        assert_eq!(again, downloads.path().join("lexica-results-2026-11-26-150405-2.csv"));
        assert_eq!(std::fs::read_to_string(&path).unwrap(), csv, "the first export is untouched");
        assert_eq!(std::fs::read_to_string(&again).unwrap().split_terminator("\r\n").count(), 2);
        lexica.close().await;
    }

    /// What the UI sends back is the serialized `Hit`: it reads into the same hit.
    #[test]
    fn a_serialized_hit_reads_back_for_export() {
        let hit = Hit {
            sources: vec![lexica_core::search::HitSource {
                source_id: SourceId::new(),
                source_name: "ny".into(),
                opinion_id: 7,
            }],
            case_name: "People v. Ortiz".into(),
            citation: Some("1 N.Y.2d 3".into()),
            court: "Court of Appeals".into(),
            jurisdiction: None,
            decided_on: Some("1998-05-12".into()),
            docket_number: None,
            snippet: vec![lexica_core::search::SnippetPart { text: "hearsay".into(), highlight: true }],
            score: 0.5,
            tier: 1,
            missing: vec!["\"at home\"".into()],
        };
        let json = serde_json::to_value(vec![hit.clone()]).unwrap();
        let back: Vec<Hit> = serde_json::from_value(json).unwrap();
        assert_eq!(back, [hit]);
    }
}
