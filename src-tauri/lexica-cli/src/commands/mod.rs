pub mod grants;
pub mod history;
pub mod provision;
pub mod sources;
pub mod users;
