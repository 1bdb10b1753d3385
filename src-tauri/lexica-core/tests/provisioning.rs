//! Provisioning files: idempotent, all-or-nothing, secret-free.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use lexica_core::provision::ImportOutcome::{self, *};
use lexica_core::{Lexica, User};

async fn fresh() -> (tempfile::TempDir, Lexica, User) {
    let dir = tempfile::tempdir().unwrap();
    let lexica = Lexica::open(Some(dir.path().to_path_buf())).await.unwrap();
    let admin = lexica.acting_user(None).await.unwrap();
    (dir, lexica, admin)
}

fn firm_file(admin: &str) -> String {
    format!(
        r#"
[[users]]
username = "{admin}"
admin = true

[[users]]
username = "jdoe"
display_name = "Jane Doe"

[[sources]]
name = "ny_appeals"
database_url = "postgres://lexica_reader@db.firm.local/ny_appeals?sslmode=verify-full"
active = true

[[sources]]
name = "fed_district"
display_name = "Federal district courts"
database_url = "postgresql://lexica_reader@db.firm.local:5433/federal"
source_type = "federal_district"
jurisdiction = "federal"
pool_size = 8
query_timeout_ms = 20000

[[grants]]
user = "jdoe"
source = "ny_appeals"

[[grants]]
user = "jdoe"
source = "fed_district"
level = "admin"
"#
    )
}

fn outcomes(report: &lexica_core::provision::ImportReport) -> Vec<(String, ImportOutcome)> {
    report.items.iter().map(|i| (format!("{} {}", i.kind, i.name), i.outcome)).collect()
}

#[tokio::test]
async fn import_creates_then_reimport_changes_nothing() {
    let (_d, lexica, admin) = fresh().await;
    let file = firm_file(&admin.username);
    let first = lexica.provision_import(&admin, &file, false, false).await.unwrap();
    assert_eq!(
        outcomes(&first),
        [
            (format!("user {}", admin.username), Unchanged),
            ("user jdoe".into(), Created),
            ("source ny_appeals".into(), Updated),
            ("source fed_district".into(), Created),
            ("grant jdoe → ny_appeals".into(), Created),
            ("grant jdoe → fed_district".into(), Created),
        ]
    );
    let fed = lexica.get_source(&admin, "fed_district").await.unwrap();
    assert_eq!((fed.pool_size, fed.query_timeout_ms, fed.acquire_timeout_ms), (8, 20_000, 15_000));
    let ny = lexica.get_source(&admin, "ny_appeals").await.unwrap();
    assert!(ny.is_active);
    assert_eq!(ny.display_name, "NY State Court of Appeals", "omitted fields keep their value");

    let export_before = lexica.provision_export(&admin).await.unwrap();
    let second = lexica.provision_import(&admin, &file, false, false).await.unwrap();
    assert!(second.items.iter().all(|i| i.outcome == Unchanged), "{:?}", outcomes(&second));
    let export_after = lexica.provision_export(&admin).await.unwrap();
    assert_eq!(export_before.lines().skip(1).collect::<Vec<_>>(), export_after.lines().skip(1).collect::<Vec<_>>());
}

#[tokio::test]
async fn export_then_import_elsewhere_reproduces_the_install() {
    let (_d, lexica, admin) = fresh().await;
    lexica.provision_import(&admin, &firm_file(&admin.username), false, false).await.unwrap();
    let exported = lexica.provision_export(&admin).await.unwrap();

    let (_d2, other, admin2) = fresh().await;
    let report = other.provision_import(&admin2, &exported, false, false).await.unwrap();
    // jdoe, fed_district and both grants are new there; ny_appeals (seeded) gets the firm's URL;
    // the admin, the demo source and its grant exist in both installs already.
    assert_eq!(
        (report.count(Created), report.count(Updated), report.count(Unchanged)),
        (4, 1, 3),
        "{:?}",
        outcomes(&report)
    );
    assert_eq!(
        other.provision_export(&admin2).await.unwrap().lines().skip(1).collect::<Vec<_>>(),
        exported.lines().skip(1).collect::<Vec<_>>()
    );
    // And importing the export into the install it came from changes nothing.
    let again = lexica.provision_import(&admin, &exported, false, false).await.unwrap();
    assert!(again.items.iter().all(|i| i.outcome == Unchanged));
}

#[tokio::test]
async fn one_bad_entry_writes_nothing_and_every_problem_has_its_line() {
    let (_d, lexica, admin) = fresh().await;
    let before = lexica.provision_export(&admin).await.unwrap();
    let bad = format!(
        r#"[[users]]
username = "{admin}"
admin = true

[[users]]
username = "ok_user"

[[sources]]
name = "Bad-Name"
display_name = "x"
database_url = "postgres://reader@db/x"

[[sources]]
name = "leaky"
display_name = "Leaky"
database_url = "postgres://reader:hunter2@db/x"

[[grants]]
user = "ghost"
source = "leaky"
"#,
        admin = admin.username
    );
    let err = lexica.provision_import(&admin, &bad, false, false).await.unwrap_err();
    let message = err.to_string();
    assert!(message.starts_with("the provisioning file has 3 problem(s); nothing was changed"), "{message}");
    assert!(message.contains("line 8: source `Bad-Name`: name must be"), "{message}");
    assert!(message.contains("line 13: source `leaky`: database_url contains a password"), "{message}");
    assert!(message.contains("line 18: grant names user `ghost`"), "{message}");
    assert!(!message.contains("hunter2"));
    assert_eq!(
        lexica.provision_export(&admin).await.unwrap().lines().skip(1).collect::<Vec<_>>(),
        before.lines().skip(1).collect::<Vec<_>>()
    );
    assert!(lexica.acting_user(Some("ok_user")).await.is_err(), "the good user was not written either");
}

#[tokio::test]
async fn syntax_errors_and_password_fields_are_refused_with_their_line() {
    let (_d, lexica, admin) = fresh().await;
    let err = lexica.provision_import(&admin, "[[users]]\nusername = \n", false, false).await.unwrap_err();
    assert!(err.to_string().contains("line 2:"), "{err}");
    let err = lexica
        .provision_import(&admin, "[[sources]]\nname = \"x1\"\n\npassword = \"hunter2\"\n", false, false)
        .await
        .unwrap_err();
    let text = err.to_string();
    assert!(text.contains("never holds passwords"), "{text}");
    assert!(text.contains("line 4:"), "{text}");
    assert!(!text.contains("hunter2"));
    let err = lexica
        .provision_import(&admin, "[[users]]\nusername = \"a\"\nshoe_size = 9\n", false, false)
        .await
        .unwrap_err();
    assert!(err.to_string().contains("line 3:") && err.to_string().contains("shoe_size"), "{err}");
}

#[tokio::test]
async fn nothing_is_deleted_without_prune_and_prune_deletes_the_unlisted() {
    let (_d, lexica, admin) = fresh().await;
    lexica.provision_import(&admin, &firm_file(&admin.username), false, false).await.unwrap();
    let small =
        format!("[[users]]\nusername = \"{}\"\nadmin = true\n\n[[sources]]\nname = \"fed_district\"\n", admin.username);
    let kept = lexica.provision_import(&admin, &small, false, false).await.unwrap();
    assert_eq!(kept.count(Removed), 0);
    assert_eq!(lexica.list_sources(&admin).await.unwrap().len(), 3);

    let dry = lexica.provision_import(&admin, &small, true, true).await.unwrap();
    assert!(dry.dry_run);
    // jdoe's 2 grants, the demo grant, ny_appeals, the demo source, jdoe
    assert_eq!(dry.count(Removed), 6, "{:?}", outcomes(&dry));
    assert_eq!(lexica.list_sources(&admin).await.unwrap().len(), 3, "a dry run writes nothing");

    let pruned = lexica.provision_import(&admin, &small, true, false).await.unwrap();
    assert_eq!(pruned.count(Removed), 6);
    assert_eq!(lexica.list_sources(&admin).await.unwrap().len(), 1);
    assert!(lexica.acting_user(Some("jdoe")).await.is_err());
}

#[tokio::test]
async fn prune_never_removes_the_importer_or_the_last_admin() {
    let (_d, lexica, admin) = fresh().await;
    let err = lexica.provision_import(&admin, "[[users]]\nusername = \"someone\"\n", true, false).await.unwrap_err();
    assert!(err.to_string().contains("would remove you"), "{err}");
    let demote = format!("[[users]]\nusername = \"{}\"\nadmin = false\n", admin.username);
    let err = lexica.provision_import(&admin, &demote, false, false).await.unwrap_err();
    assert!(err.to_string().contains("no administrator would remain"), "{err}");
}

#[tokio::test]
async fn export_holds_no_secret() {
    let (d, lexica, admin) = fresh().await;
    lexica.provision_import(&admin, &firm_file(&admin.username), false, false).await.unwrap();
    let exported = lexica.provision_export(&admin).await.unwrap();
    assert!(!exported.to_lowercase().contains("password ="), "{exported}");
    for line in exported.lines().filter(|l| l.starts_with("database_url")) {
        let url = line.split('"').nth(1).unwrap();
        assert!(lexica_core::SourceUrl::parse(url).is_ok(), "exported URL must import again: {url}");
    }
    // The app database file itself holds no password column anywhere.
    let columns: Vec<String> = sqlx::query_scalar(
        "SELECT name FROM pragma_table_info('data_sources') UNION ALL SELECT name FROM pragma_table_info('users')",
    )
    .fetch_all(lexica_core::testing::db(&lexica))
    .await
    .unwrap();
    assert!(columns.iter().all(|c| !c.contains("pass") && !c.contains("secret")), "{columns:?}");
    drop(d);
}
