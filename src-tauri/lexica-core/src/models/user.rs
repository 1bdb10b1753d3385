//! The people using this install.

use chrono::{DateTime, Utc};
use serde::Serialize;
use ts_rs::TS;

use super::{UserId, ValidationErrors};

/// Longest accepted username and display name.
pub const MAX_USERNAME_LEN: usize = 100;
pub const MAX_USER_DISPLAY_NAME_LEN: usize = 200;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, sqlx::FromRow, TS)]
#[ts(export)]
pub struct User {
    pub id: UserId,
    /// The OS login name on desktops; unique.
    pub username: String,
    pub display_name: Option<String>,
    pub is_admin: bool,
    #[ts(type = "string")]
    pub created_at: DateTime<Utc>,
}

impl User {
    /// A new, not yet stored user.
    pub fn new(username: &str, display_name: Option<&str>, is_admin: bool) -> Self {
        User {
            id: UserId::new(),
            username: username.trim().to_string(),
            display_name: display_name.map(str::trim).filter(|d| !d.is_empty()).map(str::to_string),
            is_admin,
            created_at: Utc::now(),
        }
    }

    pub fn validate(&self) -> Result<(), ValidationErrors> {
        let mut errors = ValidationErrors::default();
        validate_username(&self.username, &mut errors);
        if self.display_name.as_ref().is_some_and(|d| d.chars().count() > MAX_USER_DISPLAY_NAME_LEN) {
            errors.push("display_name", format!("must be at most {MAX_USER_DISPLAY_NAME_LEN} characters"));
        }
        errors.into_result()
    }
}

/// Usernames are OS login names, which vary by platform (`jdoe`, `j.doe`, `FIRM\jdoe`), so the
/// rule is only what keeps them printable and unambiguous on one line.
pub(crate) fn validate_username(username: &str, errors: &mut ValidationErrors) {
    if username.is_empty() {
        errors.push("username", "is required");
    } else if username.chars().count() > MAX_USERNAME_LEN {
        errors.push("username", format!("must be at most {MAX_USERNAME_LEN} characters"));
    } else if username.chars().any(|c| c.is_whitespace() || c.is_control()) {
        errors.push("username", "must not contain spaces or control characters");
    }
}
