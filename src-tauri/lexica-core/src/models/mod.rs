//! The domain model: what Lexica's app database holds, with the validation rules for each.

mod data_source;
mod ids;
mod match_count;
mod permission;
mod search;
mod source_url;
mod user;
mod validation;

pub use data_source::*;
pub use ids::*;
pub use match_count::*;
pub use permission::*;
pub use search::*;
pub use source_url::*;
pub use user::*;
pub use validation::*;
