//! Strata: a Redis-compatible key-value server whose core is durability.
//!
//! Layers, top to bottom (arrows point down only): `server` (network,
//! periodic task) -> `commands` (table, call pipeline) -> `state`,
//! `clients`, `pubsub`, `propagate` -> `persistence` (byte codecs of
//! snapshots) -> `keyspace` -> `protocol`, `util`, `config`. See
//! ARCHITECTURE.md.

pub mod clients;
pub mod commands;
pub mod config;
pub mod keyspace;
pub mod persistence;
pub mod propagate;
pub mod protocol;
pub mod pubsub;
pub mod server;
pub mod state;
pub mod util;
pub mod wakeup;

/// The Redis version whose behaviour this server reproduces, reported where
/// clients and tools look for a Redis version.
pub const REDIS_VERSION: &str = "7.0.15";
/// This server's own version.
pub const VERSION: &str = env!("CARGO_PKG_VERSION");
