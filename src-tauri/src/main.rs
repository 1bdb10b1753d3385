//! The Lexica desktop app. All the work is in the library (`lib.rs`), which tests and e2e share.

// No console window next to the app in Windows release builds.
#![cfg_attr(not(debug_assertions), windows_subsystem = "windows")]

use std::process::ExitCode;

fn main() -> ExitCode {
    match lexica_app_lib::run() {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            // Logging may not be up (or may be what failed), so say it plainly too.
            eprintln!("lexica: the desktop app could not start: {error}");
            ExitCode::FAILURE
        }
    }
}
