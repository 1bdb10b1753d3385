//! The naive ranked statement the scale issue measures Lexica against: every match of the
//! query's compiled PostgreSQL plan, ranked by `ts_rank_cd` over the whole opinion vector,
//! top [`BASELINE_TOP`]. Its cost grows with the number of matches (each matching
//! `search_vector` is detoasted and ranked), which is what a fast path must avoid.
//!
//! It runs through a pool of its own, built from the source's own connection options (the
//! same role, password, TLS, read-only setting and statement timeout Lexica uses), so it is
//! timed on the same data with the same server-side limits but never competes with, or warms,
//! Lexica's pool.

use std::time::{Duration, Instant};

use lexica_query::{BindValue, Filters, Plan, Query};
use sqlx::ConnectOptions;
use sqlx::postgres::{PgConnectOptions, PgPool, PgPoolOptions};

use crate::BenchError;

/// Rows the naive statement returns, as Lexica's merged list.
pub const BASELINE_TOP: i64 = 100;
/// The plan's candidate cap for the baseline: no cap at all, every match is ranked.
pub const UNCAPPED: u32 = u32::MAX;
/// One connection: the baseline is timed one statement at a time.
pub const BASELINE_POOL_SIZE: u32 = 1;

/// The statement for `plan` (whose first bind is the tsquery of all its positive terms, see
/// `lexica_query::postgres::compile`).
pub fn naive_sql(plan: &Plan) -> String {
    format!(
        "SELECT c.id FROM ({}) c JOIN opinions o ON o.id = c.id \
         ORDER BY ts_rank_cd(o.search_vector, $1::tsquery) DESC LIMIT {BASELINE_TOP}",
        plan.sql
    )
}

/// `query` compiled for PostgreSQL as the baseline runs it: no filters, no candidate cap, no
/// near misses (the statement).
pub fn plan_for(query: &Query) -> Plan {
    let filters = Filters { limit: UNCAPPED, near_misses: 0, ..Filters::default() };
    lexica_query::postgres::compile(query, &filters)
}

/// A pool of its own to one PostgreSQL source.
#[derive(Debug, Clone)]
pub struct Baseline {
    pool: PgPool,
}

impl Baseline {
    /// A lazily connecting pool with `options` (take them from the source's own pool).
    /// The naive statement is slow by design (seconds at 200,000 opinions): the driver's
    /// "slow statement" warning would print on the terminal for every run, so it goes to `info`.
    pub fn new(options: &PgConnectOptions) -> Baseline {
        let options = options.clone().log_slow_statements(log::LevelFilter::Info, Duration::from_secs(1));
        let pool = PgPoolOptions::new().max_connections(BASELINE_POOL_SIZE).connect_lazy_with(options);
        Baseline { pool }
    }

    /// Runs the naive statement of `plan` once: its wall time and the rows returned.
    pub async fn run(&self, plan: &Plan) -> Result<(Duration, usize), BenchError> {
        let sql = naive_sql(plan);
        let started = Instant::now();
        // The statement is built from the compiler's output only; every user word is a bind.
        let mut q = sqlx::query_scalar::<_, i64>(sqlx::AssertSqlSafe(sql));
        for b in &plan.binds {
            q = match b {
                BindValue::Text(t) => q.bind(t.clone()),
                BindValue::Int(n) => q.bind(*n),
            };
        }
        let rows = q.fetch_all(&self.pool).await?;
        Ok((started.elapsed(), rows.len()))
    }

    pub async fn close(&self) {
        self.pool.close().await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_statement_ranks_every_match_of_the_plan() {
        let query = lexica_query::parse("jurisdiction & state", lexica_query::Mode::Boolean).expect("parses");
        let plan = plan_for(&query);
        let sql = naive_sql(&plan);
        assert!(sql.starts_with("SELECT c.id FROM (SELECT "), "{sql}");
        assert!(sql.ends_with("ORDER BY ts_rank_cd(o.search_vector, $1::tsquery) DESC LIMIT 100"), "{sql}");
        // The first bind is the tsquery of every positive term; the cap is off.
        let BindValue::Text(any) = &plan.binds[0] else { panic!("first bind is the tsquery: {:?}", plan.binds) };
        assert!(any.contains("jurisdiction") && any.contains("state"), "{any}");
        assert!(plan.binds.contains(&BindValue::Int(i64::from(UNCAPPED))), "{:?}", plan.binds);
    }
}
