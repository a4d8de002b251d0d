//! Strata: a Redis-compatible key-value server whose core is durability.
pub mod config;
