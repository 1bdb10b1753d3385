//! Issue 13, item 9: no query text in the app log. A query is what a lawyer researches (a
//! client's matter, in their words); it is kept in the search history, whose readers are
//! checked, and never in a log, which anyone with the machine's log files reads. Every line
//! the core and its drivers write while searching — at every level, spans and their fields
//! included, as JSON the app log uses — is captured here and searched for distinctive words.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use std::io::Write;
use std::sync::{Arc, Mutex};

use lexica_core::credentials::{Keychain, Secret};
use lexica_core::models::{PermissionLevel, SourceChanges};
use lexica_core::search::{EventSink, SearchModeInput, SearchRequest};
use lexica_core::{Error, ErrorReport, Lexica};
use tokio_util::sync::CancellationToken;

/// Words no opinion holds and no log line has a reason to: if one appears, a query leaked.
const DISTINCTIVE: &[&str] = &["quorvexium", "zyxwvutine"];

#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl Captured {
    fn text(&self) -> String {
        String::from_utf8_lossy(&self.0.lock().unwrap()).into_owned().to_lowercase()
    }
}

/// A global subscriber (searches run on several runtime and blocking threads), everything at
/// TRACE, JSON with the current span and its parents, as the app's log file is written.
fn capture_logs() -> Captured {
    let captured = Captured::default();
    let writer = captured.clone();
    let subscriber = tracing_subscriber::fmt()
        .json()
        .with_current_span(true)
        .with_span_list(true)
        .with_max_level(tracing::Level::TRACE)
        .with_writer(move || writer.clone())
        .with_ansi(false)
        .finish();
    tracing::subscriber::set_global_default(subscriber).unwrap();
    captured
}

fn sink() -> EventSink {
    Arc::new(|_| {})
}

fn request(query: &str, mode: SearchModeInput) -> SearchRequest {
    SearchRequest { query: query.into(), mode, ..SearchRequest::default() }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn searching_logs_no_query_text() {
    let logs = capture_logs();
    let dir = tempfile::tempdir().unwrap();
    let keychain = Keychain::with_store(keyring_core::mock::Store::new().unwrap(), "mock keychain");
    let lexica = Lexica::open_with_keychain(Some(dir.path().to_path_buf()), keychain).await.unwrap();
    let admin = lexica.acting_user(None).await.unwrap();
    // A real PostgreSQL source beside the demo bundle, when the test cluster is there.
    if let Some(admin_url) = support::pg_admin_url() {
        let db = support::opinion_database(&admin_url, 20).await;
        let url = support::url_for(&admin_url, "postgres", &db);
        let changes = SourceChanges {
            display_name: Some("PG".into()),
            database_url: Some(Some(url)),
            ..SourceChanges::default()
        };
        lexica.add_source(&admin, "pg_logs", changes).await.unwrap();
        let password = url::Url::parse(&admin_url).unwrap().password().unwrap().to_string();
        lexica.set_source_password(&admin, "pg_logs", &Secret::new(password)).await.unwrap();
        lexica.grant(&admin, &admin.username, "pg_logs", PermissionLevel::Read).await.unwrap();
    }
    let searched = lexica.accessible_sources(&admin).await.unwrap().len();

    let mut completed = 0;
    let mut errors = Vec::new();
    for (query, mode) in [
        ("quorvexium & duty & care", SearchModeInput::Boolean), // near misses name what they lack
        ("quorvexium /p duty", SearchModeInput::Boolean),
        ("\"zyxwvutine care\" duty", SearchModeInput::Boolean),
        ("ti(quorvexium) co(zyxwvutine) hearsay", SearchModeInput::Boolean),
        ("the quorvexium doctrine of the duty of care", SearchModeInput::Statements),
    ] {
        let outcome = lexica.search(&admin, &request(query, mode), CancellationToken::new(), sink()).await.unwrap();
        completed += outcome.summary.completed;
        errors.extend(outcome.sources.iter().filter_map(|o| o.error.clone()));
    }
    // Every source answered every search: the logs cover real executions, not refusals.
    assert_eq!(completed as usize, 5 * searched, "searched {searched} source(s): {errors:?}");

    // A malformed query is refused with its position; the refusal is not logged with its text,
    // and what a face logs of it (`log_summary`) has the kind and position only.
    let malformed = "duty /p (quorvexium zyxwvutine";
    let err =
        lexica.search(&admin, &request(malformed, SearchModeInput::Boolean), CancellationToken::new(), sink()).await;
    let err = err.unwrap_err();
    assert!(matches!(err, Error::Query(_)), "{err}");
    assert!(err.to_string().contains("quorvexium"), "the user is shown their query: {err}");
    for summary in [err.log_summary(), ErrorReport::from(&err).log_summary()] {
        assert!(summary.contains("malformed query") && summary.contains("8..9"), "{summary}");
        assert!(DISTINCTIVE.iter().all(|w| !summary.contains(w)), "{summary}");
    }

    let logged = logs.text();
    assert!(logged.contains("source execution finished"), "the capture saw the searches: {logged}");
    for word in DISTINCTIVE {
        assert!(!logged.contains(word), "`{word}` reached the log:\n{logged}");
    }
    lexica.close().await;
}
