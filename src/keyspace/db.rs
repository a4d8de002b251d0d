//! One database: the key dict, the expiry index, and the bookkeeping that
//! commands leave behind for the write path (keys deleted by expiry, keys
//! touched while watched).
//!
//! Invariant: every key in `expires` is in `dict`; an expired key is never
//! returned by a lookup.

use super::dict::{Dict, Keyed};
use super::{CBytes, Value};
use std::collections::HashMap;

pub struct Entry {
    pub key: CBytes,
    pub value: Value,
    /// Seconds clock of the last access (OBJECT IDLETIME), wraps.
    pub lru: u32,
}

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
    /// Active-expiry scan position in `expires`.
    pub expire_cursor: u64,
    /// Lazy expiry switched off (while loading, on replicas later).
    pub no_lazy_expire: bool,
}

/// The seconds clock used for `Entry::lru`.
#[inline]
pub fn lru_clock(now_ms: i64) -> u32 {
    ((now_ms / 1000) as u64 & 0xFF_FFFF) as u32
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
            expire_cursor: 0,
            no_lazy_expire: false,
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
        matches!(self.expire_of(key), Some(at) if at <= now)
    }

    /// Deletes `key` if it has expired; returns true when it did.
    pub fn expire_if_needed(&mut self, key: &[u8], now: i64) -> bool {
        if !self.is_expired(key, now) {
            return false;
        }
        if self.no_lazy_expire {
            return true;
        }
        self.remove(key);
        self.expired.push(CBytes::new(key));
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
        e.lru = lru_clock(now);
        Some(e)
    }

    /// Looks a key up for modifying its value in place.
    #[inline]
    pub fn get_mut(&mut self, key: &[u8], now: i64) -> Option<&mut Entry> {
        if self.expire_if_needed(key, now) {
            return None;
        }
        let e = self.dict.get_mut(key)?;
        e.lru = lru_clock(now);
        Some(e)
    }

    /// Looks a key up without touching its access time or expiring it.
    pub fn peek(&self, key: &[u8]) -> Option<&Entry> {
        self.dict.get(key)
    }

    pub fn exists(&mut self, key: &[u8], now: i64) -> bool {
        !self.expire_if_needed(key, now) && self.dict.contains(key)
    }

    /// Sets `key` to `value`. `keep_ttl` keeps an existing expiry; otherwise
    /// any expiry is removed.
    pub fn set(&mut self, key: &[u8], value: Value, keep_ttl: bool, now: i64) {
        if !keep_ttl && !self.expires.is_empty() {
            self.expires.remove(key);
        }
        match self.dict.get_mut(key) {
            Some(e) => {
                e.value = value;
                e.lru = lru_clock(now);
            }
            None => self.dict.insert_new(Entry {
                key: CBytes::new(key),
                value,
                lru: lru_clock(now),
            }),
        }
    }

    /// Adds a key that the caller knows is absent.
    pub fn add(&mut self, key: &[u8], value: Value, now: i64) {
        self.dict.insert_new(Entry {
            key: CBytes::new(key),
            value,
            lru: lru_clock(now),
        });
    }

    pub fn set_expire(&mut self, key: &[u8], at_ms: i64) {
        match self.expires.get_mut(key) {
            Some(e) => e.at_ms = at_ms,
            None => self.expires.insert_new(ExpireEntry {
                key: CBytes::new(key),
                at_ms,
            }),
        }
    }

    /// Removes the expiry of `key`; true if it had one.
    pub fn persist(&mut self, key: &[u8]) -> bool {
        self.expires.remove(key).is_some()
    }

    /// Removes a key and its expiry; returns the entry.
    pub fn remove(&mut self, key: &[u8]) -> Option<Entry> {
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
        }
    }

    /// Marks every watcher of every key that exists dirty (FLUSHDB, SWAPDB).
    pub fn touch_all_watched(&mut self, only_existing: bool) {
        let keys: Vec<Vec<u8>> = self.watched.keys().cloned().collect();
        for k in keys {
            if !only_existing || self.dict.contains(&k) {
                if let Some(ids) = self.watched.get(&k) {
                    self.touched_watchers.extend_from_slice(ids);
                }
            }
        }
    }

    /// Empties the database, returning the old contents for freeing.
    pub fn flush(&mut self) -> (Dict<Entry>, Dict<ExpireEntry>) {
        self.expire_cursor = 0;
        (self.dict.take(), self.expires.take())
    }

    /// One bounded step of active expiry: samples up to `samples` keys with
    /// an expiry and deletes those that have expired. Returns (sampled,
    /// expired).
    pub fn active_expire_step(&mut self, now: i64, samples: usize) -> (usize, usize) {
        if self.expires.is_empty() {
            return (0, 0);
        }
        let mut due = Vec::new();
        let mut sampled = 0;
        let mut cursor = self.expire_cursor;
        let mut buckets = 0;
        while sampled < samples && buckets < samples * 20 {
            cursor = self.expires.scan(cursor, |e| {
                sampled += 1;
                if e.at_ms <= now {
                    due.push(e.key.clone());
                }
            });
            buckets += 1;
            if cursor == 0 {
                break;
            }
        }
        self.expire_cursor = cursor;
        let n = due.len();
        for k in due {
            self.remove(&k);
            self.touch(&k);
            self.expired.push(k);
        }
        (sampled, n)
    }
}
