//! Issue 13, item 3: a password slipped in through URL parameters (`?PASSWORD=`, `?sslpassword=`),
//! the driver logged the value of every parameter it did not know, and `host=`/`dbname=`/`options=`
//! silently overrode what was validated and shown. Now only the TLS parameters are accepted, and
//! they reach the driver through its option builder: the raw URL text never does.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::io::Write;
use std::path::Path;
use std::sync::{Arc, Mutex};

use lexica_core::DataSource;
use lexica_core::models::SourceUrl;
use lexica_core::sources::SourceTarget;
use lexica_core::sources::connect;
use sqlx::postgres::PgSslMode;

/// Every log line written while a test runs, at every level.
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
        String::from_utf8_lossy(&self.0.lock().unwrap()).into_owned()
    }
}

fn capture_logs() -> (Captured, tracing::subscriber::DefaultGuard) {
    let captured = Captured::default();
    let writer = captured.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::TRACE)
        .with_writer(move || writer.clone())
        .with_ansi(false)
        .finish();
    (captured, tracing::subscriber::set_default(subscriber))
}

/// URLs as they may sit in an app database from before the allow-list (or be built without
/// `SourceUrl::parse`): connecting with any of them must be refused, naming no value.
#[test]
fn a_stored_url_with_a_forbidden_parameter_never_reaches_the_driver_or_a_log() {
    let (logs, _guard) = capture_logs();
    let source = DataSource::new("legacy", "Legacy");
    for raw in [
        "postgres://reader@127.0.0.1/ny?sslpassword=hunter2",
        "postgres://reader@127.0.0.1/ny?PASSWORD=hunter2",
        "postgres://reader@127.0.0.1/ny?application_name=hunter2",
        "postgres://reader@127.0.0.1/ny?connect_timeout=hunter2",
        "postgres://reader@127.0.0.1/ny?host=hunter2.evil.example",
        "postgres://reader@127.0.0.1/ny?dbname=hunter2",
        "postgres://reader@127.0.0.1/ny?options=-c%20default_transaction_read_only%3Dhunter2",
    ] {
        let url = SourceUrl::Postgres(url::Url::parse(raw).unwrap());
        let error = connect::target(&source, &url, None, Path::new("/tmp")).map(|_| ()).unwrap_err().to_string();
        assert!(!error.contains("hunter2"), "{raw}: {error}");
        assert!(error.contains("lexica sources edit legacy --url"), "{raw}: {error}");
    }
    let logged = logs.text();
    assert!(!logged.contains("hunter2"), "a parameter's value reached the log: {logged}");
}

#[test]
fn new_urls_with_secret_or_overriding_parameters_are_refused_without_echo() {
    for raw in [
        "postgres://reader@db/ny?PASSWORD=hunter2",
        "postgres://reader@db/ny?SslPassword=hunter2",
        "postgres://reader@db/ny?auth_token=hunter2",
        "postgres://reader@db/ny?host=hunter2",
        "postgres://reader@db/ny?user=hunter2",
        "postgres://reader@db/ny?options=hunter2",
    ] {
        let error = SourceUrl::parse(raw).unwrap_err();
        assert!(!error.contains("hunter2"), "{raw}: {error}");
    }
}

#[test]
fn the_tls_parameters_are_applied_through_the_builder() {
    let (logs, _guard) = capture_logs();
    let source = DataSource::new("firm_ny", "Firm NY");
    let url = SourceUrl::parse(
        "postgres://reader@db.firm.example:6543/ny?sslmode=verify-full&sslrootcert=/etc/lexica/ca.pem&sslcert=/c.pem&sslkey=/k.pem",
    )
    .unwrap();
    let Ok(SourceTarget::Postgres(options)) = connect::target(&source, &url, None, Path::new("/tmp")) else {
        panic!("a valid URL was refused");
    };
    assert_eq!(options.get_host(), "db.firm.example");
    assert_eq!(options.get_port(), 6543);
    assert_eq!(options.get_username(), "reader");
    assert_eq!(options.get_database(), Some("ny"));
    assert!(matches!(options.get_ssl_mode(), PgSslMode::VerifyFull));
    assert_eq!(options.get_application_name(), Some(connect::APPLICATION_NAME));
    let session = options.get_options().unwrap_or_default();
    assert!(session.contains("default_transaction_read_only"), "{session}");
    // Custom plans: a generic plan would parse each `$n::tsquery` again for every row.
    assert!(session.contains("plan_cache_mode") && session.contains("force_custom_plan"), "{session}");
    assert!(!logs.text().contains("unrecognized"), "{}", logs.text());
}
