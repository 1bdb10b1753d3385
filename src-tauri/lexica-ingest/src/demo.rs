//! The built-in demo source: a few hundred real opinions shipped inside the binary (see
//! `demo/PROVENANCE.md`), built into an offline SQLite bundle on first start.

use std::path::{Path, PathBuf};

use crate::error::IngestError;
use crate::reader::Input;
use crate::report::IngestReport;
use crate::target::Target;

/// The shipped subset (gzip JSON Lines), embedded so the app works wherever it is installed.
pub const SAMPLE_OPINIONS_GZ: &[u8] = include_bytes!("../demo/sample-opinions.jsonl.gz");

/// The source's registered name (matches the app database's `^[a-z][a-z0-9_]{1,99}$`).
pub const DEMO_SOURCE_NAME: &str = "sample_opinions";

/// The name people see.
pub const DEMO_SOURCE_DISPLAY_NAME: &str = "Sample opinions (offline)";

/// The input name recorded in the report and the bundle's `ingest_runs`.
pub const SAMPLE_LABEL: &str = "built-in sample (sample-opinions.jsonl.gz)";

/// Builds the demo bundle at `dest` from the embedded subset, replacing any file there.
///
/// The bundle is built beside `dest` under a `.partial` name and renamed into place only when
/// complete, so an interrupted first start never leaves a half-built bundle at `dest`.
pub async fn build_demo_bundle(dest: &Path) -> Result<IngestReport, IngestError> {
    let partial = partial_path(dest);
    remove_bundle_files(&partial).map_err(|e| open_err(&partial, &e))?;
    let input = Input::from_reader(SAMPLE_LABEL.to_string(), SAMPLE_OPINIONS_GZ, Some(SAMPLE_OPINIONS_GZ.len() as u64))
        .map_err(|e| IngestError::ReadInput { input: SAMPLE_LABEL.to_string(), line: 0, source: e })?;
    let result = crate::run(input, &Target::Sqlite(partial.clone()), crate::IngestOptions::default(), &|_| {}).await;
    let mut report = match result {
        Ok(report) => report,
        Err(e) => {
            let _ = remove_bundle_files(&partial);
            return Err(e);
        }
    };
    remove_bundle_files(dest).map_err(|e| open_err(dest, &e))?;
    std::fs::rename(&partial, dest).map_err(|e| open_err(dest, &e))?;
    report.target = dest.display().to_string();
    Ok(report)
}

fn partial_path(dest: &Path) -> PathBuf {
    let mut name = dest.file_name().map(|n| n.to_os_string()).unwrap_or_else(|| "sample-opinions.sqlite".into());
    name.push(".partial");
    dest.with_file_name(name)
}

fn open_err(path: &Path, e: &std::io::Error) -> IngestError {
    IngestError::OpenBundle { path: path.to_path_buf(), message: e.to_string() }
}

/// Removes an SQLite file and its journal files, if present.
fn remove_bundle_files(path: &Path) -> std::io::Result<()> {
    for suffix in ["", "-wal", "-shm", "-journal"] {
        let mut name = path.as_os_str().to_os_string();
        name.push(suffix);
        match std::fs::remove_file(PathBuf::from(name)) {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => return Err(e),
        }
    }
    Ok(())
}
