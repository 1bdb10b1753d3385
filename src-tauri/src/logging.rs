//! Logs go to stderr for now (a later issue adds a rolling file). `RUST_LOG` filters, e.g. `RUST_LOG=debug`.
//! Nothing logged may contain a password or an unredacted source URL; the core's messages are already safe.

use tracing_subscriber::EnvFilter;

/// Default filter when `RUST_LOG` is unset: our crates at info, everything else at warn.
const DEFAULT_FILTER: &str = "warn,lexica_app=info,lexica_app_lib=info,lexica_core=info";

pub fn init() {
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(DEFAULT_FILTER));
    // `try_init` fails only when a subscriber is already installed (tests); keeping that one is right.
    let _ = tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr).try_init();
}
