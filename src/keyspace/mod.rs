//! The keyspace: numbered databases of keys, their values and expiry times,
//! and the background freeing of what they no longer hold.
//!
//! Pure data: no I/O, no sockets, no clock of its own (callers pass `now`);
//! the one thread, lazy free's, only drops what it is handed.
//! Invariants: a key has an entry in a database's `expires` only if it is in
//! its `dict`; data handed to `lazyfree` is reachable from no database.

pub mod cbytes;
pub mod db;
pub mod dict;
pub mod hash;
pub mod intset;
pub mod lazyfree;
pub mod listpack;
pub mod quicklist;
pub mod set;
pub mod skiplist;
pub mod value;
pub mod zset;

pub use cbytes::CBytes;
pub use db::{Db, Entry, ExpireStep};
pub use dict::Dict;
pub use lazyfree::LazyFree;
pub use value::Value;

pub struct Keyspace {
    pub dbs: Vec<Db>,
    /// Background freeing of unlinked values and flushed databases.
    pub lazyfree: LazyFree,
    /// Database where the next active-expiry cycle starts.
    pub expire_next_db: usize,
}

impl Keyspace {
    pub fn new(databases: usize) -> Self {
        let effects = std::rc::Rc::new(std::cell::Cell::new(false));
        let dbs = (0..databases)
            .map(|i| {
                let mut db = Db::new(i);
                db.effects = effects.clone();
                db
            })
            .collect();
        Keyspace { dbs, lazyfree: LazyFree::default(), expire_next_db: 0 }
    }

    pub fn total_keys(&self) -> usize {
        self.dbs.iter().map(|d| d.len()).sum()
    }

    /// The access clock OBJECT IDLETIME goes by for entry `e`: for a shared
    /// integer, the latest access to any key holding it (`start` when there
    /// was none since the server started), else the entry's own.
    pub fn access_clock(&self, e: &Entry, now: i64, start: i64) -> u32 {
        let Some(v) = e.shared_int() else {
            return e.lru;
        };
        self.dbs
            .iter()
            .filter_map(|d| d.shared_int_lru(v))
            .min_by_key(|&lru| db::idle_ms(lru, now))
            .unwrap_or_else(|| db::lru_clock(start))
    }

    /// Pauses deletion of expired keys until `until` ms (CLIENT PAUSE), or
    /// resumes it with `None`.
    pub fn pause_expiry(&mut self, until: Option<i64>) {
        let until = until.unwrap_or(i64::MIN);
        if self.dbs.first().is_some_and(|d| d.expiry_paused_until != until) {
            for d in self.dbs.iter_mut() {
                d.expiry_paused_until = until;
            }
        }
    }

    /// Exchanges the contents of databases `a` and `b` (SWAPDB); watched
    /// keys stay with their database number.
    pub fn swap(&mut self, a: usize, b: usize) {
        if a == b {
            return;
        }
        let (lo, hi) = (a.min(b), a.max(b));
        let (left, right) = self.dbs.split_at_mut(hi);
        Db::swap_contents(&mut left[lo], &mut right[0]);
        left[lo].signal_existing_waited();
        right[0].signal_existing_waited();
    }

    /// Empties database `i` (every database when `None`); `lazy` frees the
    /// contents in the background. Returns the number of keys removed.
    pub fn flush(&mut self, which: Option<usize>, lazy: bool) -> u64 {
        let range = match which {
            Some(i) => i..i + 1,
            None => 0..self.dbs.len(),
        };
        let mut removed = 0;
        for i in range {
            let db = &mut self.dbs[i];
            removed += db.len() as u64;
            let (d, e) = db.flush();
            if lazy {
                self.lazyfree.free_db(d, e);
            } else {
                self.lazyfree.drop_db(d, e);
            }
        }
        removed
    }
}
