//! What the server remembers about saving and loading: the background save
//! in progress, the outcome of the last ones, the load in progress. INFO
//! persistence, LASTSAVE, the save rules and the MISCONF refusal read it.

use super::load::LoadStats;
use super::snapshot::Background;

/// A load in progress (INFO's `loading_*` fields).
#[derive(Debug, Clone, Copy, Default)]
pub struct LoadProgress {
    pub start_secs: i64,
    pub total_bytes: u64,
    pub loaded_bytes: u64,
    /// `used-mem` of the file being loaded.
    pub rdb_used_mem: u64,
    pub start_ms: i64,
}

pub struct Persist {
    pub bg: Option<Background>,
    /// The keyspace's turn, when the command thread gives it up while idle
    /// (the server's runtime does; tests driving the keyspace directly do
    /// not): a background save's encoder then walks the snapshot itself.
    pub turn: Option<std::sync::Arc<crate::keyspace::Turn>>,
    /// BGSAVE asked for while one could not start (inside MULTI/EXEC):
    /// the periodic task starts it.
    pub bg_scheduled: bool,
    /// The last background save (or SAVE) succeeded (`rdb_last_bgsave_status`).
    pub last_bgsave_ok: bool,
    /// Unix seconds of the last background save attempt (failed ones are
    /// retried by the save rules only after a delay).
    pub last_bgsave_try_secs: i64,
    /// Duration of the last background save, seconds (-1: none yet).
    pub last_bgsave_secs: i64,
    /// Successful saves, foreground and background (`rdb_saves`).
    pub saves: u64,
    /// Extra memory the last background save took: the most encoded bytes
    /// waiting for the disk at once (`rdb_last_cow_size`).
    pub last_extra_bytes: u64,
    /// Extra memory the last AOF rewrite took (`aof_last_cow_size`).
    pub last_aof_extra_bytes: u64,
    /// `dirty` when the background save in progress began.
    pub dirty_at_bg_start: u64,
    pub last_load: LoadStats,
    pub loading: Option<LoadProgress>,
}

impl Persist {
    /// Whether a snapshot (not an AOF rewrite) is being saved.
    pub fn snapshot_running(&self) -> bool {
        self.bg.as_ref().is_some_and(|b| b.purpose == super::snapshot::Purpose::Snapshot)
    }
}

impl Default for Persist {
    fn default() -> Self {
        Persist {
            bg: None,
            turn: None,
            bg_scheduled: false,
            last_bgsave_ok: true,
            last_bgsave_try_secs: 0,
            last_bgsave_secs: -1,
            saves: 0,
            last_extra_bytes: 0,
            last_aof_extra_bytes: 0,
            dirty_at_bg_start: 0,
            last_load: LoadStats::default(),
            loading: None,
        }
    }
}
