//! A file seeded with bad lines: each is reported with its line number and kind, the good
//! ones load, into both targets; broken input and unreachable targets give clear errors.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::io::Write;
use std::path::Path;

use common::*;
use lexica_ingest::{IngestError, IngestReport, RejectKind, Target, ingest};
use sqlx::Connection;

/// The seeded file: (line text, expected rejection kind or None for good lines).
fn seeded_lines() -> Vec<(String, Option<RejectKind>)> {
    let good = |i: u32| {
        record(
            &format!("test:good-{i}"),
            &format!("Good v. Record {i}"),
            Some("1999-12-31"),
            "Fine text about estoppel.",
        )
        .to_string()
    };
    let mut unknown = record("test:unknown", "Unknown v. Field", None, "Body.");
    unknown["decided"] = "2001-01-01".into();
    vec![
        (good(1), None),
        ("{\"source_id\": \"test:broken\", \"case_name\": ".into(), Some(RejectKind::MalformedJson)),
        (unknown.to_string(), Some(RejectKind::UnknownField)),
        (
            record("test:bad-date", "Bad v. Date", Some("1999-02-30"), "Body.").to_string(),
            Some(RejectKind::InvalidDate),
        ),
        (
            record("test:not-a-date", "Not v. Date", Some("March 3, 1999"), "Body.").to_string(),
            Some(RejectKind::InvalidDate),
        ),
        (good(2), None),
        (record("test:empty", "Empty v. Body", None, "").to_string(), Some(RejectKind::EmptyBody)),
        (record("test:wordless", "Wordless v. Body", None, " -- ... -- ").to_string(), Some(RejectKind::EmptyBody)),
        (String::new(), None), // blank line: not a record
        (
            serde_json::json!({"source_id": "test:no-name", "court": "C", "body": "B"}).to_string(),
            Some(RejectKind::InvalidField),
        ),
        (good(1), Some(RejectKind::DuplicateSourceId)),
        ("[\"not\", \"an\", \"object\"]".into(), Some(RejectKind::MalformedJson)),
        (good(3), None),
    ]
}

fn check_report(report: &IngestReport, lines: &[(String, Option<RejectKind>)]) {
    println!("{report}");
    let expected: Vec<(u64, RejectKind)> =
        lines.iter().enumerate().filter_map(|(i, (_, kind))| kind.map(|k| (i as u64 + 1, k))).collect();
    let got: Vec<(u64, RejectKind)> = report.rejected_records.iter().map(|r| (r.line, r.kind)).collect();
    assert_eq!(got, expected);
    assert_eq!(report.rejected, expected.len() as u64);
    assert_eq!(report.inserted, 3);
    assert_eq!(report.records, lines.iter().filter(|(l, _)| !l.is_empty()).count() as u64);
    let text = report.to_string();
    assert!(text.contains("line 3 (test:unknown): unknown field `decided`"), "{text}");
    assert!(text.contains("line 4 (test:bad-date): `decided_on` is \"1999-02-30\""), "{text}");
    assert!(text.contains("opinions/s") && text.contains("MB/s"), "{text}");
    let json = serde_json::to_value(report).unwrap();
    assert_eq!(json["rejected_records"][0]["kind"], "malformed_json");
    assert_eq!(json["rejected_records"][0]["line"], 2);
}

fn seeded_file(dir: &Path, name: &str) -> (std::path::PathBuf, Vec<(String, Option<RejectKind>)>) {
    let lines = seeded_lines();
    let text: Vec<String> = lines.iter().map(|(l, _)| l.clone()).collect();
    (write_lines(dir, name, &text), lines)
}

#[tokio::test]
async fn bad_lines_reported_and_good_ones_loaded_sqlite() {
    let dir = tempfile::tempdir().unwrap();
    let (file, lines) = seeded_file(dir.path(), "seeded.jsonl");
    let bundle = dir.path().join("b.sqlite");
    let report = ingest(&file, Target::Sqlite(bundle.clone()), &check_progress).await.unwrap();
    check_report(&report, &lines);
    let mut conn = sqlx::SqliteConnection::connect_with(&sqlx::sqlite::SqliteConnectOptions::new().filename(&bundle))
        .await
        .unwrap();
    let ids: Vec<String> =
        sqlx::query_scalar("SELECT source_id FROM opinions ORDER BY id").fetch_all(&mut conn).await.unwrap();
    assert_eq!(ids, ["test:good-1", "test:good-2", "test:good-3"]);
    conn.close().await.unwrap();
    // Same file gzip-compressed: same result (re-run is idempotent).
    let (gz, _) = seeded_file(dir.path(), "seeded.jsonl.gz");
    let again = ingest(&gz, Target::Sqlite(bundle), &check_progress).await.unwrap();
    assert_eq!((again.inserted, again.unchanged, again.rejected), (0, 3, report.rejected));
}

#[tokio::test]
async fn bad_lines_reported_and_good_ones_loaded_postgres() {
    let Some(db) = TestDb::create("bad_lines").await else { return };
    let dir = tempfile::tempdir().unwrap();
    let (file, lines) = seeded_file(dir.path(), "seeded.jsonl.gz");
    let report = ingest(&file, Target::Postgres(db.url.clone()), &check_progress).await.unwrap();
    check_report(&report, &lines);
    let mut conn = db.connect().await;
    let ids: Vec<String> =
        sqlx::query_scalar("SELECT source_id FROM opinions ORDER BY id").fetch_all(&mut conn).await.unwrap();
    assert_eq!(ids, ["test:good-1", "test:good-2", "test:good-3"]);
    conn.close().await.unwrap();
    db.drop_db().await;
}

#[tokio::test]
async fn truncated_gzip_stops_with_a_clear_error_after_loading_what_it_could() {
    let dir = tempfile::tempdir().unwrap();
    let lines: Vec<String> = (0..400)
        .map(|i| {
            record(&format!("test:t{i}"), "T v. U", None, &format!("Body number {i} with some words. ").repeat(40))
                .to_string()
        })
        .collect();
    let full = write_lines(dir.path(), "full.jsonl.gz", &lines);
    let bytes = std::fs::read(&full).unwrap();
    let cut = dir.path().join("cut.jsonl.gz");
    std::fs::File::create(&cut).unwrap().write_all(&bytes[..bytes.len() * 2 / 3]).unwrap();
    let err = ingest(&cut, Target::Sqlite(dir.path().join("t.sqlite")), &check_progress).await.unwrap_err();
    assert!(matches!(err, IngestError::ReadInput { .. }), "{err:?}");
    assert!(err.to_string().contains("run the same command again"), "{err}");
}

#[tokio::test]
async fn missing_input_and_bad_targets_are_explained() {
    let dir = tempfile::tempdir().unwrap();
    let err = ingest(&dir.path().join("nope.jsonl"), Target::Sqlite(dir.path().join("x.sqlite")), &check_progress)
        .await
        .unwrap_err();
    assert!(matches!(err, IngestError::OpenInput { .. }), "{err:?}");
    let err = Target::parse("mysql://user:hunter2@host/db").unwrap_err();
    assert!(!err.to_string().contains("hunter2"), "{err}");

    // A foreign `opinions` table is refused, not written into.
    let bundle = dir.path().join("foreign.sqlite");
    let mut conn = sqlx::SqliteConnection::connect_with(
        &sqlx::sqlite::SqliteConnectOptions::new().filename(&bundle).create_if_missing(true),
    )
    .await
    .unwrap();
    sqlx::query("CREATE TABLE opinions (id INTEGER PRIMARY KEY, title TEXT)").execute(&mut conn).await.unwrap();
    conn.close().await.unwrap();
    let file = write_lines(dir.path(), "one.jsonl", &[record("test:1", "A v. B", None, "Body.").to_string()]);
    let err = ingest(&file, Target::Sqlite(bundle), &check_progress).await.unwrap_err();
    assert!(matches!(err, IngestError::ForeignSchema { .. }), "{err:?}");
}

#[tokio::test]
async fn wrong_postgres_password_is_never_shown() {
    let Ok(admin) = std::env::var("LEXICA_TEST_PG_URL") else {
        assert!(std::env::var_os("CI").is_none(), "LEXICA_TEST_PG_URL must be set in CI");
        eprintln!("SKIPPED wrong_postgres_password_is_never_shown: LEXICA_TEST_PG_URL not set");
        return;
    };
    let mut url = url::Url::parse(&admin).unwrap();
    url.set_password(Some("Wrong-Secret-4711")).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let file = write_lines(dir.path(), "one.jsonl", &[record("test:1", "A v. B", None, "Body.").to_string()]);
    let target = Target::Postgres(url.to_string());
    assert!(!format!("{target:?} {target}").contains("Wrong-Secret-4711"));
    let err = ingest(&file, target, &check_progress).await.unwrap_err();
    assert!(matches!(err, IngestError::Connect { .. }), "{err:?}");
    for shown in [err.to_string(), format!("{err:?}")] {
        assert!(!shown.contains("Wrong-Secret-4711"), "{shown}");
    }
    assert!(err.to_string().contains("***"), "{err}");
}
