pub mod bench;
pub mod grants;
pub mod history;
pub mod provision;
pub mod query;
pub mod search;
pub mod sources;
pub mod users;
