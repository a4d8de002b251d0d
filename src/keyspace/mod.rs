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
pub mod turn;
pub mod value;
pub mod zset;

pub use cbytes::CBytes;
pub use db::{Db, Entry, ExpireStep, SnapPart, Snapshot};
pub use dict::Dict;
pub use lazyfree::LazyFree;
pub use turn::Turn;
pub use value::Value;

/// Contents flushed while a snapshot was walking them: the snapshot still
/// owes their unsaved keys, so it walks them to the end before they are
/// freed.
pub struct Detached {
    pub part: SnapPart,
    pub dict: Dict<db::Entry>,
    pub expires: Dict<db::ExpireEntry>,
}

/// Saves the unsaved entries of one part of a snapshot, whole buckets at a
/// time, while `budget` lasts; true when the part is walked to its end.
fn walk_part(
    p: &mut SnapPart,
    dict: &Dict<db::Entry>,
    expires: &Dict<db::ExpireEntry>,
    epoch: u16,
    budget: &mut usize,
) -> bool {
    while !p.done {
        if *budget == 0 {
            return false;
        }
        p.cursor = dict.scan(p.cursor, |e| {
            if e.mark.get() != epoch {
                e.mark.set(epoch);
                let at = if expires.is_empty() { None } else { expires.get(&e.key).map(|x| x.at_ms) };
                p.sink.save(p.origin, e, at);
                *budget = budget.saturating_sub(1);
            }
        });
        p.done = p.cursor == 0;
    }
    true
}

pub struct Keyspace {
    pub dbs: Vec<Db>,
    /// Flushed contents the snapshot in progress has still to walk.
    pub detached: Vec<Detached>,
    /// Epoch of the latest snapshot (`Db::snap_epoch` of every database).
    pub snap_epoch: u16,
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
        Keyspace { dbs, detached: Vec::new(), snap_epoch: 0, lazyfree: LazyFree::default(), expire_next_db: 0 }
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

    /// Starts a snapshot: from now on every database hands `sink` each key
    /// it has not saved before changing it, and `snapshot_step` walks the
    /// rest. Entries are all unsaved for the new epoch (on the rare wrap of
    /// the epoch counter, every mark is first reset, once).
    pub fn begin_snapshot(&mut self, sink: std::rc::Rc<dyn Snapshot>) {
        if self.snap_epoch == u16::MAX {
            for db in &self.dbs {
                db.dict.iter().for_each(|e| e.mark.set(0));
            }
            self.snap_epoch = 0;
        }
        self.snap_epoch += 1;
        for db in self.dbs.iter_mut() {
            db.snap_epoch = self.snap_epoch;
            db.snap = Some(SnapPart { sink: sink.clone(), origin: db.id, cursor: 0, done: db.is_empty() });
        }
    }

    /// Walks the snapshot in progress on: saves unsaved keys, database by
    /// database and then the flushed contents, until about `max_keys` were
    /// saved. Returns true when everything was walked.
    pub fn snapshot_step(&mut self, max_keys: usize) -> bool {
        let epoch = self.snap_epoch;
        let mut budget = max_keys;
        for db in self.dbs.iter_mut() {
            if let Some(p) = db.snap.as_mut() {
                if !walk_part(p, &db.dict, &db.expires, epoch, &mut budget) {
                    return false;
                }
            }
        }
        self.detached.iter_mut().all(|d| walk_part(&mut d.part, &d.dict, &d.expires, epoch, &mut budget))
    }

    /// Ends the snapshot in progress (finished or abandoned): databases stop
    /// reporting changes, and flushed contents it kept are freed.
    pub fn end_snapshot(&mut self) {
        for db in self.dbs.iter_mut() {
            db.snap = None;
        }
        for d in std::mem::take(&mut self.detached) {
            self.lazyfree.drop_db(d.dict, d.expires);
        }
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
            if let Some(p) = db.snap.as_mut().filter(|p| !p.done) {
                // The snapshot keeps walking the old contents; the database
                // starts afresh with nothing left to save.
                let part = SnapPart { sink: p.sink.clone(), origin: p.origin, cursor: p.cursor, done: false };
                p.done = true;
                self.detached.push(Detached { part, dict: d, expires: e });
                continue;
            }
            if lazy {
                self.lazyfree.free_db(d, e);
            } else {
                self.lazyfree.drop_db(d, e);
            }
        }
        removed
    }
}
