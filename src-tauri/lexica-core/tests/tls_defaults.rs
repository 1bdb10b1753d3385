//! Issue 13, item 5: a source URL without `sslmode` meant `prefer` (no certificate check,
//! plaintext fallback), and the driver answers a server's cleartext-password request, so a
//! spoofed server received the keychain password. Now a host off this machine defaults to
//! `verify-full`; loopback and Unix-socket hosts keep the driver's default; the doctor warns
//! below `verify-ca`. Checked against the real test cluster (TLS on, its own CA).
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use std::path::Path;

use lexica_core::credentials::{Keychain, Secret};
use lexica_core::models::{SourceChanges, SourceUrl};
use lexica_core::sources::doctor::CheckStatus;
use lexica_core::sources::{SourceTarget, connect};
use lexica_core::{DataSource, Lexica};
use sqlx::{ConnectOptions, Row};

/// A TCP forwarder listening on every interface, to the cluster's loopback port: lets the test
/// reach the cluster under this machine's host name, a name that is not `localhost` and so is
/// treated as another machine (the cluster itself listens on 127.0.0.1 only).
async fn forwarder(to_port: u16) -> u16 {
    let listener = tokio::net::TcpListener::bind("0.0.0.0:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    tokio::spawn(async move {
        while let Ok((mut inbound, _)) = listener.accept().await {
            tokio::spawn(async move {
                if let Ok(mut outbound) = tokio::net::TcpStream::connect(("127.0.0.1", to_port)).await {
                    let _ = tokio::io::copy_bidirectional(&mut inbound, &mut outbound).await;
                }
            });
        }
    });
    port
}

/// This machine's host name, when it resolves and is not `localhost` (else the test is skipped).
fn host_name() -> Option<String> {
    let name = std::fs::read_to_string("/etc/hostname").ok()?.trim().to_lowercase();
    let resolves =
        std::net::ToSocketAddrs::to_socket_addrs(&(name.as_str(), 5432)).is_ok_and(|mut a| a.next().is_some());
    (resolves && !name.is_empty() && name != "localhost").then_some(name)
}

/// Connects as the cluster's superuser through `url` the way a source pool does; the connection
/// reports whether it is encrypted, or the failure in Lexica's words.
async fn connect_as_source(url: &str, password: &str) -> Result<bool, String> {
    let parsed = SourceUrl::parse(url).unwrap();
    let source = DataSource::new("tls_probe", "TLS probe");
    let SourceTarget::Postgres(options) =
        connect::target(&source, &parsed, Some(&Secret::new(password)), Path::new("/tmp")).unwrap()
    else {
        unreachable!()
    };
    match options.connect().await {
        Ok(mut conn) => {
            let row = sqlx::query("SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()")
                .fetch_one(&mut conn)
                .await
                .unwrap();
            Ok(row.get::<bool, _>(0))
        }
        Err(e) => Err(connect::describe_connect_error(&e, &parsed, "tls_probe", true)),
    }
}

#[tokio::test]
async fn a_remote_source_without_sslmode_verifies_the_server_certificate_and_host() {
    let Some(admin_url) = support::pg_admin_url() else { return };
    let Some(host) = host_name() else {
        eprintln!("skipped: this machine's host name does not resolve (or is localhost)");
        return;
    };
    let password = url::Url::parse(&admin_url).unwrap().password().unwrap().to_string();
    let ca = std::env::var("LEXICA_TEST_PG_CA").expect("LEXICA_TEST_PG_CA: the test cluster's CA certificate");
    let port = forwarder(support::port(&admin_url)).await;
    let remote = format!("postgres://postgres@{host}:{port}/postgres");

    // No sslmode: verify-full against the system's CAs, which do not know the cluster's CA.
    // (Under `prefer` this connected, TLS unchecked, and the password went to whoever answered.)
    let err = connect_as_source(&remote, &password).await.unwrap_err();
    assert!(err.contains("TLS") && err.contains("verify-full") && err.contains("sslrootcert"), "{err}");

    // The right CA is not enough: verify-full also checks the certificate names the host (the
    // cluster's names 127.0.0.1 and localhost only), so this is verify-full, not verify-ca.
    let err = connect_as_source(&format!("{remote}?sslrootcert={ca}"), &password).await.unwrap_err();
    assert!(err.contains("TLS"), "{err}");

    // An explicit sslmode is the administrator's choice and is applied as given.
    let explicit = format!("{remote}?sslmode=verify-ca&sslrootcert={ca}");
    assert_eq!(connect_as_source(&explicit, &password).await, Ok(true));
    assert_eq!(connect_as_source(&format!("{remote}?sslmode=require"), &password).await, Ok(true));

    // Loopback keeps the driver's default (prefer): connects, encrypted, no certificate check.
    let local = format!("postgres://postgres@127.0.0.1:{}/postgres", support::port(&admin_url));
    assert_eq!(connect_as_source(&local, &password).await, Ok(true));
    let local_name = format!("postgres://postgres@localhost:{}/postgres", support::port(&admin_url));
    assert_eq!(connect_as_source(&local_name, &password).await, Ok(true));
    // And verify-full by hand against the name the certificate carries works: the default is usable.
    let verified = format!("{local_name}?sslmode=verify-full&sslrootcert={ca}");
    assert_eq!(connect_as_source(&verified, &password).await, Ok(true));
}

#[tokio::test]
async fn the_doctor_warns_when_a_remote_source_runs_below_verify_ca() {
    let dir = tempfile::tempdir().unwrap();
    let keychain = Keychain::with_store(keyring_core::mock::Store::new().unwrap(), "mock keychain");
    let lexica = Lexica::open_with_keychain(Some(dir.path().to_path_buf()), keychain).await.unwrap();
    let admin = lexica.acting_user(None).await.unwrap();
    let cases = [
        ("remote_require", "postgres://reader@db.firm.invalid/ny?sslmode=require", CheckStatus::Warning),
        ("remote_prefer", "postgres://reader@db.firm.invalid/ny?sslmode=prefer", CheckStatus::Warning),
        ("remote_disable", "postgres://reader@10.20.30.40/ny?sslmode=disable", CheckStatus::Warning),
        ("remote_verify_ca", "postgres://reader@db.firm.invalid/ny?sslmode=verify-ca", CheckStatus::Ok),
        ("remote_default", "postgres://reader@db.firm.invalid/ny", CheckStatus::Ok),
        ("local_disable", "postgres://reader@127.0.0.1:1/ny?sslmode=disable", CheckStatus::Ok),
        ("socket_default", "postgres://reader@%2Fvar%2Frun%2Fpostgresql/ny", CheckStatus::Ok),
    ];
    for (name, url, expected) in cases {
        let changes = SourceChanges {
            display_name: Some(name.into()),
            database_url: Some(Some(url.into())),
            ..SourceChanges::default()
        };
        lexica.add_source(&admin, name, changes).await.unwrap();
        let report = lexica.test_source(&admin, name).await.unwrap();
        let tls = report.checks.iter().find(|c| c.name == "tls").unwrap_or_else(|| panic!("{name}: {report:?}"));
        assert_eq!(tls.status, expected, "{name}: {}", tls.message);
        if expected == CheckStatus::Warning {
            // A sentence saying what is at stake, and the fix with the command.
            assert!(tls.message.contains("does not check the server's certificate"), "{}", tls.message);
            assert!(tls.message.contains("sslmode=verify-full"), "{}", tls.message);
            assert!(tls.message.contains(&format!("lexica sources edit {name} --url")), "{}", tls.message);
        }
        let configuration = report.checks.iter().find(|c| c.name == "configuration").unwrap();
        if name == "remote_default" {
            assert!(configuration.message.contains("sslmode=verify-full (the default"), "{}", configuration.message);
        }
    }
    lexica.close().await;
}
