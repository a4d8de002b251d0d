//! One database: the key dict, the expiry index, and the bookkeeping that
//! commands leave behind for the write path (keys deleted by expiry, keys
//! touched while watched).
//!
//! Invariants: every key in `expires` is in `dict`; an expired key is never
//! returned by a lookup; every key removed because it expired is pushed to
//! `expired` (for its DEL to be propagated) and its watchers are touched.

use super::dict::{Dict, Keyed};
use super::{CBytes, Value};
use std::cell::Cell;
use std::collections::{HashMap, VecDeque};
use std::rc::Rc;

pub struct Entry {
    pub key: CBytes,
    pub value: Value,
    /// Seconds clock of the last access (OBJECT IDLETIME), 24 bits, wraps.
    pub lru: u32,
    /// The value is a private duplicate (made by COPY): even a small integer
    /// is then not one of the shared integer objects OBJECT REFCOUNT reports.
    /// Cleared whenever the value may change.
    pub unshared: bool,
    /// The snapshot epoch this entry was last saved in (or created during):
    /// equal to its database's `snap_epoch` once the snapshot in progress
    /// has it, or must not have it. A cell, so a walk can mark entries it
    /// reads.
    pub mark: Cell<u16>,
}

impl Entry {
    pub fn new(key: &[u8], value: Value, now: i64) -> Self {
        Entry { key: CBytes::new(key), value, lru: lru_clock(now), unshared: false, mark: Cell::new(0) }
    }

    /// The integer, when the value is one of the shared integer objects
    /// (0 to `SHARED_INTEGERS` - 1, not a private copy).
    #[inline]
    pub fn shared_int(&self) -> Option<usize> {
        match self.value {
            Value::Int(v) if !self.unshared && (0..SHARED_INTEGERS).contains(&v) => Some(v as usize),
            _ => None,
        }
    }
}

/// Integers below this are, in Redis, one shared object each whichever keys
/// hold them: OBJECT REFCOUNT reports them as shared, and OBJECT IDLETIME
/// reports the last access to any key holding the same integer.
pub const SHARED_INTEGERS: i64 = 10_000;

/// Records an access to `e` at `now`: its own clock, and the shared
/// integer's when it holds one.
#[inline]
fn record_access(e: &mut Entry, shared_lru: &mut Option<Box<[u32]>>, now: i64) {
    let clock = lru_clock(now);
    e.lru = clock;
    if let Some(v) = e.shared_int() {
        shared_lru.get_or_insert_with(|| vec![NEVER; SHARED_INTEGERS as usize].into_boxed_slice())[v] = clock;
    }
}

/// `Db::shared_lru` value of an integer no key of the database was accessed
/// holding (outside the 24-bit clock's range).
const NEVER: u32 = u32::MAX;

impl Keyed for Entry {
    #[inline]
    fn key(&self) -> &[u8] {
        &self.key
    }
}

pub struct ExpireEntry {
    pub key: CBytes,
    pub at_ms: i64,
}

impl Keyed for ExpireEntry {
    #[inline]
    fn key(&self) -> &[u8] {
        &self.key
    }
}

/// A point-in-time snapshot being written while commands run. A database
/// with one in progress hands it every key it has not saved yet just before
/// that key changes or goes, so the snapshot holds each key as it was when
/// the snapshot began.
pub trait Snapshot {
    /// `e` (expiring at `expire_ms`), of the database numbered `origin` when
    /// the snapshot began, is about to change: write it now.
    fn save(&self, origin: usize, e: &Entry, expire_ms: Option<i64>);
}

/// A database's part in the snapshot in progress. It travels with the
/// database's contents (SWAPDB moves it along), so `origin` and `cursor`
/// always describe the keys they were taken from.
pub struct SnapPart {
    pub sink: Rc<dyn Snapshot>,
    /// The database number these contents had when the snapshot began.
    pub origin: usize,
    /// Where the snapshot's walk of `dict` goes on.
    pub cursor: u64,
    /// The walk has seen every bucket.
    pub done: bool,
}

pub struct Db {
    pub id: usize,
    pub dict: Dict<Entry>,
    pub expires: Dict<ExpireEntry>,
    /// Keys removed because they had expired, not yet propagated.
    pub expired: Vec<CBytes>,
    /// Keys some client WATCHes, with the watching client ids.
    pub watched: HashMap<Vec<u8>, Vec<u64>>,
    /// Clients whose watched key was touched, not yet flagged.
    pub touched_watchers: Vec<u64>,
    /// Raised whenever `expired` or `touched_watchers` gains an entry; shared
    /// by all databases of a keyspace so the call pipeline checks one flag
    /// instead of every database after each command.
    pub effects: Rc<Cell<bool>>,
    /// Active-expiry scan position in `expires`.
    pub expire_cursor: u64,
    /// Running estimate of the time to live of keys with an expiry, ms
    /// (INFO keyspace `avg_ttl`), kept by active expiry.
    pub avg_ttl: i64,
    /// Lazy expiry switched off (on replicas later): expired keys are
    /// missing but not deleted.
    pub no_lazy_expire: bool,
    /// Loading: no key counts as expired (the commands of a file being
    /// replayed saw them alive when they first ran).
    pub loading: bool,
    /// Until this time (ms) no key is deleted because it expired (CLIENT
    /// PAUSE): lookups still find expired keys missing.
    pub expiry_paused_until: i64,
    /// Per shared integer, the clock of the last access to a key of this
    /// database holding it (allocated on first such access).
    pub shared_lru: Option<Box<[u32]>>,
    /// Keys clients wait on in blocking commands, with the waiting client
    /// ids, first come first.
    pub waiters: HashMap<Vec<u8>, VecDeque<u64>>,
    /// Waited-on keys that were created since the blocked clients were last
    /// looked at.
    pub ready: Vec<CBytes>,
    /// The snapshot in progress, if any.
    pub snap: Option<SnapPart>,
    /// The current snapshot epoch: entries created now get it, so a
    /// snapshot in progress leaves them out.
    pub snap_epoch: u16,
}

/// Mask of the 24-bit seconds clock kept in `Entry::lru`.
pub const LRU_CLOCK_MAX: u32 = 0xFF_FFFF;

/// The seconds clock used for `Entry::lru`.
#[inline]
pub fn lru_clock(now_ms: i64) -> u32 {
    ((now_ms / 1000) as u64 & LRU_CLOCK_MAX as u64) as u32
}

/// Milliseconds since `lru` by the clock at `now_ms`, allowing for one wrap
/// of the 24-bit clock (OBJECT IDLETIME).
pub fn idle_ms(lru: u32, now_ms: i64) -> i64 {
    let clock = lru_clock(now_ms);
    let secs = if clock >= lru { clock - lru } else { clock + (LRU_CLOCK_MAX - lru) };
    secs as i64 * 1000
}

/// What one active-expiry step did.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct ExpireStep {
    /// Keys with an expiry looked at.
    pub sampled: usize,
    /// Of those, keys deleted because they had expired.
    pub expired: usize,
    /// Scan positions of the expiry index visited.
    pub buckets: usize,
}

impl Db {
    pub fn new(id: usize) -> Self {
        Db {
            id,
            dict: Dict::new(),
            expires: Dict::new(),
            expired: Vec::new(),
            watched: HashMap::new(),
            touched_watchers: Vec::new(),
            effects: Rc::new(Cell::new(false)),
            expire_cursor: 0,
            avg_ttl: 0,
            no_lazy_expire: false,
            loading: false,
            expiry_paused_until: i64::MIN,
            shared_lru: None,
            waiters: HashMap::new(),
            ready: Vec::new(),
            snap: None,
            snap_epoch: 0,
        }
    }

    /// Hands `key` to the snapshot in progress if it has not saved it yet:
    /// called before every change to a key or its expiry, and before it
    /// goes.
    #[inline]
    fn before_change(&self, key: &[u8]) {
        if let Some(p) = &self.snap {
            self.save_unsaved(p, key);
        }
    }

    #[cold]
    fn save_unsaved(&self, p: &SnapPart, key: &[u8]) {
        if let Some(e) = self.dict.get(key) {
            if e.mark.get() != self.snap_epoch {
                e.mark.set(self.snap_epoch);
                p.sink.save(p.origin, e, self.expire_of(key));
            }
        }
    }

    /// An entry about to be inserted: a snapshot in progress leaves it out.
    #[inline]
    fn created(&self, e: &Entry) {
        e.mark.set(self.snap_epoch);
    }

    /// Notes that `key` was just created, for clients blocked on it.
    #[inline]
    fn signal_created(&mut self, key: &[u8]) {
        if !self.waiters.is_empty() && self.waiters.contains_key(key) && !self.ready.iter().any(|k| k.as_bytes() == key)
        {
            self.ready.push(CBytes::new(key));
            self.effects.set(true);
        }
    }

    /// Marks every waited-on key that exists as ready (after SWAPDB).
    pub fn signal_existing_waited(&mut self) {
        let keys: Vec<Vec<u8>> = self.waiters.keys().filter(|k| self.dict.contains(k)).cloned().collect();
        for k in keys {
            self.signal_created(&k);
        }
    }

    #[inline]
    pub fn len(&self) -> usize {
        self.dict.len()
    }

    #[inline]
    pub fn is_empty(&self) -> bool {
        self.dict.is_empty()
    }

    /// Expiry time of `key` in ms, if it has one.
    #[inline]
    pub fn expire_of(&self, key: &[u8]) -> Option<i64> {
        if self.expires.is_empty() {
            return None;
        }
        self.expires.get(key).map(|e| e.at_ms)
    }

    /// Whether `key` is logically expired at `now` (present or not).
    pub fn is_expired(&self, key: &[u8], now: i64) -> bool {
        !self.loading && matches!(self.expire_of(key), Some(at) if at <= now)
    }

    /// Whether expired keys may be deleted at `now` (else they are only
    /// treated as missing).
    #[inline]
    pub fn deletes_expired(&self, now: i64) -> bool {
        !self.no_lazy_expire && now >= self.expiry_paused_until
    }

    /// Deletes `key` if it has expired; returns true when it did (or when it
    /// has expired but may not be deleted now).
    pub fn expire_if_needed(&mut self, key: &[u8], now: i64) -> bool {
        if !self.is_expired(key, now) {
            return false;
        }
        if !self.deletes_expired(now) {
            return true;
        }
        self.remove(key);
        self.expired.push(CBytes::new(key));
        self.effects.set(true);
        self.touch(key);
        true
    }

    /// Looks a key up for reading; expired keys are deleted and not found.
    #[inline]
    pub fn get(&mut self, key: &[u8], now: i64) -> Option<&Entry> {
        if self.expire_if_needed(key, now) {
            return None;
        }
        let e = self.dict.get_mut(key)?;
        record_access(e, &mut self.shared_lru, now);
        Some(e)
    }

    /// Looks a key up for modifying its value in place.
    #[inline]
    pub fn get_mut(&mut self, key: &[u8], now: i64) -> Option<&mut Entry> {
        if self.expire_if_needed(key, now) {
            return None;
        }
        self.before_change(key);
        let e = self.dict.get_mut(key)?;
        record_access(e, &mut self.shared_lru, now);
        e.unshared = false;
        Some(e)
    }

    /// Looks a key up on behalf of a write that does not change the value
    /// (RENAME, MOVE, EXPIRE): expires it if due, records the access.
    /// Returns whether the key exists.
    pub fn lookup_write(&mut self, key: &[u8], now: i64) -> bool {
        if self.expire_if_needed(key, now) {
            return false;
        }
        match self.dict.get_mut(key) {
            Some(e) => {
                record_access(e, &mut self.shared_lru, now);
                true
            }
            None => false,
        }
    }

    /// Looks a key up without touching its access time or expiring it.
    pub fn peek(&self, key: &[u8]) -> Option<&Entry> {
        self.dict.get(key)
    }

    /// The clock of the last access to a key of this database holding the
    /// shared integer `v`, if any.
    pub fn shared_int_lru(&self, v: usize) -> Option<u32> {
        let clock = *self.shared_lru.as_ref()?.get(v)?;
        (clock != NEVER).then_some(clock)
    }

    pub fn exists(&mut self, key: &[u8], now: i64) -> bool {
        !self.expire_if_needed(key, now) && self.dict.contains(key)
    }

    /// Sets `key` to `value`. `keep_ttl` keeps an existing expiry; otherwise
    /// any expiry is removed.
    pub fn set(&mut self, key: &[u8], value: Value, keep_ttl: bool, now: i64) {
        self.before_change(key);
        if !keep_ttl && !self.expires.is_empty() {
            self.expires.remove(key);
        }
        match self.dict.get_mut(key) {
            Some(e) => {
                e.value = value;
                e.lru = lru_clock(now);
                e.unshared = false;
            }
            None => self.add(key, value, now),
        }
    }

    /// Adds a key that the caller knows is absent.
    pub fn add(&mut self, key: &[u8], value: Value, now: i64) {
        let e = Entry::new(key, value, now);
        self.created(&e);
        self.dict.insert_new(e);
        self.signal_created(key);
    }

    /// Adds an entry whose key the caller knows is absent, with its expiry.
    pub fn add_entry(&mut self, e: Entry, expire: Option<i64>) {
        if let Some(at) = expire {
            self.expires.insert_new(ExpireEntry { key: e.key.clone(), at_ms: at });
        }
        let key = e.key.clone();
        self.created(&e);
        self.dict.insert_new(e);
        self.signal_created(&key);
    }

    /// Adds an entry read from a snapshot, with one hash of its key: hands
    /// it back when the key is already present.
    pub fn add_loaded(&mut self, e: Entry, expire: Option<i64>) -> Result<(), Entry> {
        self.created(&e);
        let key = expire.map(|at| (e.key.clone(), at));
        self.dict.insert_unique(e)?;
        if let Some((key, at_ms)) = key {
            self.expires.insert_new(ExpireEntry { key, at_ms });
        }
        Ok(())
    }

    /// Sizes the empty tables for what a snapshot announces (RESIZEDB), so
    /// loading does not rehash; the caller bounds the counts by the input.
    pub fn reserve_for_load(&mut self, keys: usize, expires: usize) {
        self.dict.reserve_empty(keys);
        self.expires.reserve_empty(expires);
    }

    /// Removes a key with its expiry and returns both (RENAME, MOVE).
    pub fn take(&mut self, key: &[u8]) -> Option<(Entry, Option<i64>)> {
        self.before_change(key);
        let e = self.dict.remove(key)?;
        let at = if self.expires.is_empty() { None } else { self.expires.remove(key).map(|x| x.at_ms) };
        Some((e, at))
    }

    pub fn set_expire(&mut self, key: &[u8], at_ms: i64) {
        debug_assert!(self.dict.contains(key));
        self.before_change(key);
        match self.expires.get_mut(key) {
            Some(e) => e.at_ms = at_ms,
            None => self.expires.insert_new(ExpireEntry { key: CBytes::new(key), at_ms }),
        }
    }

    /// Removes the expiry of `key`; true if it had one.
    pub fn persist(&mut self, key: &[u8]) -> bool {
        if self.expires.is_empty() {
            return false;
        }
        self.before_change(key);
        !self.expires.is_empty() && self.expires.remove(key).is_some()
    }

    /// Removes a key and its expiry; returns the entry.
    pub fn remove(&mut self, key: &[u8]) -> Option<Entry> {
        self.before_change(key);
        let e = self.dict.remove(key)?;
        if !self.expires.is_empty() {
            self.expires.remove(key);
        }
        Some(e)
    }

    /// Marks watchers of `key` dirty (Redis's signalModifiedKey).
    #[inline]
    pub fn touch(&mut self, key: &[u8]) {
        if self.watched.is_empty() {
            return;
        }
        if let Some(ids) = self.watched.get(key) {
            self.touched_watchers.extend_from_slice(ids);
            self.effects.set(true);
        }
    }

    /// Empties the database, returning the old contents for freeing.
    pub fn flush(&mut self) -> (Dict<Entry>, Dict<ExpireEntry>) {
        self.expire_cursor = 0;
        self.avg_ttl = 0;
        (self.dict.take(), self.expires.take())
    }

    /// Exchanges the contents (keys, expiries, expiry statistics) of two
    /// databases; ids, watched keys and pending bookkeeping stay (SWAPDB).
    pub fn swap_contents(a: &mut Db, b: &mut Db) {
        std::mem::swap(&mut a.dict, &mut b.dict);
        std::mem::swap(&mut a.expires, &mut b.expires);
        std::mem::swap(&mut a.expire_cursor, &mut b.expire_cursor);
        std::mem::swap(&mut a.avg_ttl, &mut b.avg_ttl);
        std::mem::swap(&mut a.snap, &mut b.snap);
    }

    /// A random key (fair enough: a random bucket, then a random chain
    /// element), expired or not; `rand` supplies random numbers.
    pub fn random_key(&self, rand: impl FnMut() -> u64) -> Option<CBytes> {
        self.dict.random(rand).map(|e| e.key.clone())
    }

    /// One bounded step of active expiry: looks at up to `samples` keys
    /// with an expiry, continuing the scan of `expires` where the previous
    /// step stopped and visiting at most `samples * 20` scan positions, and
    /// deletes those that have expired at `now`.
    pub fn active_expire_step(&mut self, now: i64, samples: usize) -> ExpireStep {
        let mut step = ExpireStep::default();
        if !self.deletes_expired(now) {
            return step;
        }
        if self.expires.is_empty() {
            self.avg_ttl = 0;
            return step;
        }
        let mut due = Vec::new();
        let (mut ttl_sum, mut ttl_n) = (0i64, 0i64);
        let mut cursor = self.expire_cursor;
        while step.sampled < samples && step.buckets < samples * 20 {
            cursor = self.expires.scan(cursor, |e| {
                step.sampled += 1;
                if e.at_ms <= now {
                    due.push(e.key.clone());
                } else {
                    ttl_sum = ttl_sum.saturating_add(e.at_ms - now);
                    ttl_n += 1;
                }
            });
            step.buckets += 1;
            if cursor == 0 {
                break;
            }
        }
        self.expire_cursor = cursor;
        if ttl_n > 0 {
            // A running average that weighs older samples more, as Redis's.
            let avg = ttl_sum / ttl_n;
            self.avg_ttl = if self.avg_ttl == 0 { avg } else { (self.avg_ttl / 50) * 49 + avg / 50 };
        }
        step.expired = due.len();
        for k in due {
            self.remove(&k);
            self.touch(&k);
            self.expired.push(k);
            self.effects.set(true);
        }
        step
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entry_stays_small() {
        // 1M-key memory is benchmarked: an entry must fit one 64-byte slot.
        assert!(std::mem::size_of::<Entry>() <= 64, "Entry is {} bytes", std::mem::size_of::<Entry>());
    }

    #[test]
    fn expiry_index_follows_the_dict() {
        let mut db = Db::new(0);
        db.set(b"a", Value::string(b"1"), false, 0);
        db.set_expire(b"a", 100);
        let (e, at) = db.take(b"a").expect("present");
        assert_eq!(at, Some(100));
        assert!(db.expires.is_empty() && db.dict.is_empty());
        db.add_entry(e, at);
        assert_eq!(db.expire_of(b"a"), Some(100));
        assert!(db.get(b"a", 50).is_some());
        assert!(db.get(b"a", 100).is_none());
        assert!(db.expires.is_empty() && db.dict.is_empty());
        assert_eq!(db.expired.len(), 1);
    }

    #[test]
    fn idle_time_survives_clock_wrap() {
        assert_eq!(idle_ms(lru_clock(5_000), 9_000), 4_000);
        let wrap_ms = (LRU_CLOCK_MAX as i64 + 1) * 1000;
        assert_eq!(idle_ms(LRU_CLOCK_MAX - 1, wrap_ms + 2_000), 3_000);
    }

    #[test]
    fn active_expire_step_is_bounded() {
        let mut db = Db::new(0);
        for i in 0..1000u32 {
            let k = i.to_string();
            db.set(k.as_bytes(), Value::string(b"v"), false, 0);
            db.set_expire(k.as_bytes(), if i % 2 == 0 { 10 } else { 1_000_000 });
        }
        let mut steps = 0;
        while db.len() > 500 {
            let s = db.active_expire_step(100, 20);
            assert!(s.buckets <= 400);
            assert!(s.sampled < 20 + 16, "a step looks at about `samples` keys");
            steps += 1;
            assert!(steps < 10_000);
        }
        assert_eq!(db.len(), 500);
        assert_eq!(db.expired.len(), 500);
        assert!(db.avg_ttl > 0);
    }
}
