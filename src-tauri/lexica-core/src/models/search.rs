//! A lawyer's search and its per-source executions.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use sqlx::Row;
use sqlx::sqlite::SqliteRow;
use ts_rs::TS;

use super::{ExecutionId, MatchCount, SearchId, SourceId, UserId};

/// How the query text is read: a terms-and-connectors query, or plain sentences.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, sqlx::Type, TS)]
#[sqlx(type_name = "TEXT", rename_all = "lowercase")]
#[serde(rename_all = "lowercase")]
#[ts(export)]
pub enum SearchMode {
    Boolean,
    Statements,
}

/// A row of `searches`.
#[derive(Debug, Clone, PartialEq, Serialize, sqlx::FromRow, TS)]
#[ts(export)]
pub struct Search {
    pub id: SearchId,
    pub user_id: UserId,
    pub query_text: String,
    pub mode: SearchMode,
    /// The filters, sort and chosen sources, as JSON.
    #[sqlx(json)]
    #[ts(type = "Record<string, unknown>")]
    pub filters: serde_json::Value,
    #[ts(type = "string")]
    pub created_at: DateTime<Utc>,
}

/// Where one source's part of a search stands.
///
/// Legal moves: `pending → running | failed | timed_out | cancelled` (a search can be stopped or
/// run out of time before a source starts) and `running → completed | failed | timed_out |
/// cancelled`. The four final states never change again.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, sqlx::Type, TS)]
#[sqlx(type_name = "TEXT", rename_all = "snake_case")]
#[serde(rename_all = "snake_case")]
#[ts(export)]
pub enum ExecutionStatus {
    Pending,
    Running,
    Completed,
    Failed,
    TimedOut,
    Cancelled,
}

impl ExecutionStatus {
    pub const ALL: [ExecutionStatus; 6] = [
        ExecutionStatus::Pending,
        ExecutionStatus::Running,
        ExecutionStatus::Completed,
        ExecutionStatus::Failed,
        ExecutionStatus::TimedOut,
        ExecutionStatus::Cancelled,
    ];

    pub fn is_final(self) -> bool {
        matches!(self, Self::Completed | Self::Failed | Self::TimedOut | Self::Cancelled)
    }

    /// Whether `self → next` is a legal move.
    pub fn can_become(self, next: ExecutionStatus) -> bool {
        use ExecutionStatus::*;
        matches!(
            (self, next),
            (Pending, Running | Failed | TimedOut | Cancelled) | (Running, Completed | Failed | TimedOut | Cancelled)
        )
    }

    /// The states from which `next` may be reached (used to make the move atomic in SQL).
    pub fn predecessors(next: ExecutionStatus) -> Vec<ExecutionStatus> {
        Self::ALL.into_iter().filter(|s| s.can_become(next)).collect()
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Pending => "pending",
            Self::Running => "running",
            Self::Completed => "completed",
            Self::Failed => "failed",
            Self::TimedOut => "timed_out",
            Self::Cancelled => "cancelled",
        }
    }
}

impl std::fmt::Display for ExecutionStatus {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A row of `search_executions`: one source's part of one search.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS)]
#[ts(export)]
pub struct SearchExecution {
    pub id: ExecutionId,
    pub search_id: SearchId,
    /// The source searched; `None` once that source has been removed (the execution stays in the
    /// history under [`SearchExecution::data_source_name`]: migration 0005).
    pub data_source_id: Option<SourceId>,
    /// The source's name when the search ran, stored with the execution so the history can name
    /// a source that has since been removed.
    pub data_source_name: String,
    pub status: ExecutionStatus,
    /// Exact matches the source returned (at most 100).
    pub results_count: Option<u32>,
    /// How many opinions of the source matched; `None` when it did not say (it did not
    /// complete, or the search ran before Lexica counted matches: rows older than migration 0003).
    pub matches: Option<MatchCount>,
    pub execution_time_ms: Option<u32>,
    /// Already redacted when stored: never a password or a full connection URL.
    pub error_message: Option<String>,
    #[ts(type = "string | null")]
    pub started_at: Option<DateTime<Utc>>,
    #[ts(type = "string | null")]
    pub completed_at: Option<DateTime<Utc>>,
    #[ts(type = "string")]
    pub created_at: DateTime<Utc>,
}

/// How an execution ends (or starts running): what the store writes with the move.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ExecutionOutcome {
    pub results_count: Option<u32>,
    /// The source's match count, stored as `match_count` and `match_count_estimated`.
    pub matches: Option<MatchCount>,
    pub execution_time_ms: Option<u32>,
    pub error_message: Option<String>,
}

// By hand rather than derived: the row keeps the count in two columns (`match_count`,
// `match_count_estimated`) that the model joins into one optional [`MatchCount`], so that
// nobody can read a count without knowing whether it is an estimate.
impl<'r> sqlx::FromRow<'r, SqliteRow> for SearchExecution {
    fn from_row(row: &'r SqliteRow) -> sqlx::Result<Self> {
        let count: Option<u64> = row.try_get("match_count")?;
        // The schema keeps both columns NULL or both set; an estimate flag missing beside a
        // count would be read as "counted".
        let estimated: Option<bool> = row.try_get("match_count_estimated")?;
        Ok(SearchExecution {
            id: row.try_get("id")?,
            search_id: row.try_get("search_id")?,
            data_source_id: row.try_get("data_source_id")?,
            data_source_name: row.try_get("data_source_name")?,
            status: row.try_get("status")?,
            results_count: row.try_get("results_count")?,
            matches: count.map(|count| MatchCount { count, estimated: estimated.unwrap_or(false) }),
            execution_time_ms: row.try_get("execution_time_ms")?,
            error_message: row.try_get("error_message")?,
            started_at: row.try_get("started_at")?,
            completed_at: row.try_get("completed_at")?,
            created_at: row.try_get("created_at")?,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::ExecutionStatus::{self, *};

    #[test]
    fn legal_transitions_exactly() {
        let legal = [
            (Pending, Running),
            (Pending, Failed),
            (Pending, TimedOut),
            (Pending, Cancelled),
            (Running, Completed),
            (Running, Failed),
            (Running, TimedOut),
            (Running, Cancelled),
        ];
        for from in ExecutionStatus::ALL {
            for to in ExecutionStatus::ALL {
                assert_eq!(from.can_become(to), legal.contains(&(from, to)), "{from} -> {to}");
            }
        }
        assert_eq!(ExecutionStatus::predecessors(Completed), [Running]);
        assert_eq!(ExecutionStatus::predecessors(Pending), []);
    }

    #[test]
    fn final_states_are_final() {
        for s in ExecutionStatus::ALL.into_iter().filter(|s| s.is_final()) {
            assert!(ExecutionStatus::ALL.iter().all(|t| !s.can_become(*t)));
        }
    }
}
