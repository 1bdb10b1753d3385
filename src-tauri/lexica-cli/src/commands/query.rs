use clap::Subcommand;
use lexica_core::ErrorKind;

use crate::Failure;
use crate::output::{Output, clean};

#[derive(Debug, Subcommand)]
pub enum QueryCommand {
    /// Parse a query: print its syntax tree and each backend's compiled SQL, or where it is wrong.
    Check {
        query: String,
        /// Read it as plain sentences instead of terms and connectors.
        #[arg(long)]
        statements: bool,
    },
}

pub fn run(command: QueryCommand, out: &Output) -> Result<(), Failure> {
    match command {
        QueryCommand::Check { query, statements } => {
            let mode = if statements { lexica_query::Mode::Statements } else { lexica_query::Mode::Boolean };
            match lexica_query::check_report(&query, mode) {
                Ok(report) => out.show(&report, |r| print!("{}", clean(&r.to_string()))),
                Err(e) => {
                    let error = lexica_core::Error::Query(Box::new(e));
                    if !out.json {
                        // The caret drawing spans lines; print it whole, then fail with one line.
                        eprintln!("{}", clean(&error.to_string()));
                        return Err(Failure::message(ErrorKind::Query, "the query is malformed (see above)"));
                    }
                    return Err(error.into());
                }
            }
        }
    }
    Ok(())
}
