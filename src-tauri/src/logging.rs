//! Logs: a daily-rolling file of JSON lines in the install's `logs/` folder
//! (`$LEXICA_HOME/logs/lexica-app.log.YYYY-MM-DD`, the last 14 days kept), and stderr for development. `RUST_LOG` filters both, e.g. `RUST_LOG=debug`.
//! Nothing logged may contain a password or an unredacted source URL: the core logs names and ids only,
//! and its error messages are already redacted (a leak-scan test checks the CLI's log; this file gets the
//! same core messages).

use tracing_appender::non_blocking::WorkerGuard;
use tracing_appender::rolling::{Builder, Rotation};
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;
use tracing_subscriber::{EnvFilter, Layer, fmt};

/// Default filter when `RUST_LOG` is unset: our crates at info, everything else at warn.
const DEFAULT_FILTER: &str = "warn,lexica_app=info,lexica_app_lib=info,lexica_core=info";
/// Daily log files kept.
const KEPT_LOG_FILES: usize = 14;

fn filter() -> EnvFilter {
    EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(DEFAULT_FILTER))
}

/// Installs the logger. Keep the returned guard alive for the app's lifetime: dropping it flushes the file.
/// The file is best effort: an unwritable home folder leaves stderr only (the window then shows the
/// core's own error about the folder).
pub fn init() -> Option<WorkerGuard> {
    let stderr = fmt::layer().with_writer(std::io::stderr).with_filter(filter());
    let appender = lexica_core::Home::resolve(None).ok().and_then(|home| {
        Builder::new()
            .rotation(Rotation::DAILY)
            .filename_prefix("lexica-app.log")
            .max_log_files(KEPT_LOG_FILES)
            .build(home.logs_dir())
            .ok()
    });
    let (file, guard) = match appender {
        Some(appender) => {
            let (writer, guard) = tracing_appender::non_blocking(appender);
            // JSON lines: machine-readable for support, and formatted apart from the coloured stderr output
            // (layers of the same text format would share one ANSI-coloured rendering of span fields).
            (Some(fmt::layer().json().with_writer(writer).with_filter(filter())), Some(guard))
        }
        None => (None, None),
    };
    // `try_init` fails only when a subscriber is already installed (tests); keeping that one is right.
    let _ = tracing_subscriber::registry().with(stderr).with(file).try_init();
    guard
}
