//! Builds opinion sources.
