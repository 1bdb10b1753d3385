//! Who may search which source.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use ts_rs::TS;

use super::{GrantId, SourceId, UserId};

/// `read` lets a user search a source; `admin` also lets them manage it (settings window).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, sqlx::Type, TS)]
#[sqlx(type_name = "TEXT", rename_all = "lowercase")]
#[serde(rename_all = "lowercase")]
#[ts(export)]
pub enum PermissionLevel {
    Read,
    Admin,
}

impl PermissionLevel {
    pub fn as_str(self) -> &'static str {
        match self {
            PermissionLevel::Read => "read",
            PermissionLevel::Admin => "admin",
        }
    }
}

impl std::str::FromStr for PermissionLevel {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "read" => Ok(PermissionLevel::Read),
            "admin" => Ok(PermissionLevel::Admin),
            other => Err(format!("`{other}` is not a permission level; use read or admin")),
        }
    }
}

/// A row of `user_data_source_permissions`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, sqlx::FromRow, TS)]
#[ts(export)]
pub struct Grant {
    pub id: GrantId,
    pub user_id: UserId,
    pub data_source_id: SourceId,
    pub permission_level: PermissionLevel,
    #[ts(type = "string")]
    pub granted_at: DateTime<Utc>,
    pub granted_by: Option<UserId>,
}

/// A grant as people read it: by names rather than ids.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, sqlx::FromRow, TS)]
#[ts(export)]
pub struct GrantView {
    pub username: String,
    pub source_name: String,
    pub permission_level: PermissionLevel,
    #[ts(type = "string")]
    pub granted_at: DateTime<Utc>,
    pub granted_by: Option<String>,
}
