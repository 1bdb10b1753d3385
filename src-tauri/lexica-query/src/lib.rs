//! Lexica's search language.
//!
//! # Layout
//! - [`text`]: how opinions are cut into paragraphs, sentences and words; every backend indexes
//!   this normalized form, so positions agree everywhere.
pub mod text;
