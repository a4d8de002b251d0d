//! Loading a snapshot into the keyspace, in steps, by Redis 7.0's rules:
//! keys of databases the server does not have and keys given twice stop
//! the load; keys already expired are left out; IDLE records set the
//! access clock under an LRU policy; empty collections are skipped and
//! named in the log.
//!
//! Invariant: a load either reads the whole file, checksum included, or
//! fails with an error naming the offset and the key; the caller then
//! discards whatever was loaded (a server stops rather than run on part of
//! its data).

use super::rdb::{format, Checksum, DecodeError, Item, LoadOptions, RdbReader};
use crate::keyspace::db::lru_clock;
use crate::keyspace::{Entry, Keyspace};

/// What a finished load reports.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct LoadStats {
    pub keys_loaded: u64,
    pub keys_expired: u64,
    /// The `redis-ver` and `ctime` aux fields, when present.
    pub version: Option<String>,
    pub ctime_secs: Option<i64>,
    pub used_mem: Option<u64>,
    pub functions: u64,
}

/// Lines for the server log, by level.
pub enum Note {
    Notice(String),
    Warning(String),
}

/// A load in progress over the bytes of one file.
pub struct Loader<'a> {
    reader: RdbReader<'a>,
    stats: LoadStats,
    databases: usize,
    /// The time keys are checked for expiry against (ms).
    now_ms: i64,
    /// Whether IDLE records set access clocks (an LRU policy).
    lru: bool,
    /// Drop keys already expired (a primary does; a replica keeps them).
    pub drop_expired: bool,
    /// A key given twice, or already present, replaces the one before
    /// (DEBUG RELOAD MERGE) instead of stopping the load.
    pub allow_dup: bool,
    /// The database of the last SELECTDB (for RESIZEDB).
    db: usize,
}

impl<'a> Loader<'a> {
    pub fn new(
        bytes: &'a [u8],
        opts: LoadOptions,
        databases: usize,
        now_ms: i64,
        lru: bool,
    ) -> Result<Self, DecodeError> {
        Ok(Loader {
            reader: RdbReader::new(bytes, opts)?,
            stats: LoadStats::default(),
            databases,
            now_ms,
            lru,
            drop_expired: true,
            allow_dup: false,
            db: 0,
        })
    }

    /// Bytes read so far.
    pub fn offset(&self) -> usize {
        self.reader.offset()
    }

    pub fn stats(&self) -> &LoadStats {
        &self.stats
    }

    /// Loads up to `max_items` records into `ks`. `Ok(true)` once the end
    /// record (and checksum) was read; log lines go to `note`.
    pub fn step(&mut self, ks: &mut Keyspace, max_items: usize, note: &mut dyn FnMut(Note)) -> Result<bool, String> {
        for _ in 0..max_items {
            let item = match self.reader.next_item() {
                Ok(Some(item)) => item,
                Ok(None) => return Err("the file ended before its end record".into()),
                Err(e) => return Err(e.to_string()),
            };
            match item {
                Item::Aux { key, value } => self.aux(&key, &value, note),
                Item::SelectDb(db) if db as usize >= self.databases || db > usize::MAX as u64 => {
                    return Err(format!(
                        "FATAL: Data file was created with a Redis server configured to handle more than {} databases. Exiting",
                        self.databases
                    ));
                }
                Item::SelectDb(db) => self.db = db as usize,
                Item::ResizeDb { keys, expires } => {
                    // A hint only; never more than the bytes left could hold
                    // (a key takes at least 3 bytes).
                    let bound = (self.reader.remaining() / 3) as u64;
                    if let Some(d) = ks.dbs.get_mut(self.db) {
                        d.reserve_for_load(keys.min(bound) as usize, expires.min(bound) as usize);
                    }
                }
                Item::Function { .. } => {
                    self.stats.functions += 1;
                    note(Note::Warning(
                        "The snapshot holds a function library; functions are not supported, so it is skipped".into(),
                    ));
                }
                Item::ModuleAux { module, .. } => {
                    return Err(format!(
                        "The RDB file contains AUX module data I can't load: no matching module '{module}'"
                    ));
                }
                Item::EmptyKey { db, key, type_code, .. } => note(Note::Warning(format!(
                    "rdbLoadObject skipping empty key: {} (type {}, db {db})",
                    String::from_utf8_lossy(&key),
                    format::ty::name(type_code)
                ))),
                Item::Key(k) => {
                    let db = k.db as usize;
                    if db >= ks.dbs.len() {
                        return Err(format!("key in database {db}, which this server does not have"));
                    }
                    if self.drop_expired && k.expire_ms.is_some_and(|at| at < self.now_ms) {
                        self.stats.keys_expired += 1;
                        continue;
                    }
                    let Some(value) = k.value else {
                        return Err("internal error: a key was read without its value".into());
                    };
                    if self.allow_dup {
                        if let Some(old) = ks.dbs[db].remove(&k.key) {
                            ks.lazyfree.drop_entry(old);
                        }
                    }
                    let mut e = Entry::new(&k.key, value, self.now_ms);
                    if let (true, Some(idle)) = (self.lru, k.idle_secs) {
                        let ms = (idle.min(i64::MAX as u64 / 2000) as i64) * 1000;
                        e.lru = lru_clock(self.now_ms.saturating_sub(ms));
                    }
                    if let Err(e) = ks.dbs[db].add_loaded(e, k.expire_ms) {
                        return Err(format!(
                            "RDB has duplicated key '{}' in DB {db}",
                            String::from_utf8_lossy(e.key.as_bytes())
                        ));
                    }
                    self.stats.keys_loaded += 1;
                }
                Item::End { checksum } => {
                    if let Checksum::Disabled = checksum {
                        note(Note::Notice("RDB file was saved with checksum disabled: no check performed.".into()));
                    }
                    return Ok(true);
                }
            }
        }
        Ok(false)
    }

    fn aux(&mut self, key: &[u8], value: &[u8], note: &mut dyn FnMut(Note)) {
        let text = String::from_utf8_lossy(value).into_owned();
        match key {
            b"redis-ver" => {
                note(Note::Notice(format!("Loading RDB produced by version {text}")));
                self.stats.version = Some(text);
            }
            b"ctime" => {
                if let Ok(t) = text.parse::<i64>() {
                    let age = (self.now_ms / 1000 - t).max(0);
                    note(Note::Notice(format!("RDB age {age} seconds")));
                    self.stats.ctime_secs = Some(t);
                }
            }
            b"used-mem" => {
                if let Ok(m) = text.parse::<u64>() {
                    note(Note::Notice(format!("RDB memory usage when created {:.2} Mb", m as f64 / (1024.0 * 1024.0))));
                    self.stats.used_mem = Some(m);
                }
            }
            _ => {}
        }
    }
}

/// Loads a whole file in one go (DEBUG RELOAD, tests).
pub fn load_all(
    ks: &mut Keyspace,
    bytes: &[u8],
    opts: LoadOptions,
    now_ms: i64,
    lru: bool,
    allow_dup: bool,
    note: &mut dyn FnMut(Note),
) -> Result<LoadStats, String> {
    let databases = ks.dbs.len();
    let mut l = Loader::new(bytes, opts, databases, now_ms, lru).map_err(|e| e.to_string())?;
    l.allow_dup = allow_dup;
    while !l.step(ks, usize::MAX, note)? {}
    Ok(l.stats)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::keyspace::Value;
    use crate::persistence::rdb::{RdbWriter, Recency, SaveOptions};

    fn file(keys: &[(u64, &[u8], Option<i64>)]) -> Vec<u8> {
        let mut w = RdbWriter::new(Vec::new(), SaveOptions::default()).unwrap();
        for (db, k, at) in keys {
            w.select_db(*db, 1, 0).unwrap();
            w.key(k, &Value::string(b"v"), *at, Recency::IdleSecs(10)).unwrap();
        }
        w.finish().unwrap()
    }

    fn load(bytes: &[u8], dbs: usize) -> Result<(Keyspace, LoadStats), String> {
        let mut ks = Keyspace::new(dbs);
        let stats = load_all(&mut ks, bytes, LoadOptions::default(), 1_000_000, true, false, &mut |_| {})?;
        Ok((ks, stats))
    }

    #[test]
    fn expired_keys_are_dropped_and_counted() {
        let (ks, st) = load(&file(&[(0, b"a", None), (1, b"b", Some(5)), (1, b"c", Some(9_000_000))]), 2).unwrap();
        assert_eq!((st.keys_loaded, st.keys_expired), (2, 1));
        assert_eq!(ks.dbs[1].expire_of(b"c"), Some(9_000_000));
        assert!(ks.dbs[0].peek(b"a").is_some_and(|e| e.lru == lru_clock(990_000)));
    }

    #[test]
    fn duplicate_keys_and_missing_databases_stop_the_load() {
        let e = load(&file(&[(0, b"a", None), (0, b"a", None)]), 1).err().unwrap();
        assert!(e.contains("duplicated key 'a' in DB 0"), "{e}");
        let e = load(&file(&[(3, b"a", None)]), 2).err().unwrap();
        assert!(e.contains("more than 2 databases"), "{e}");
        let mut truncated = file(&[(0, b"a", None)]);
        truncated.truncate(truncated.len() - 12);
        assert!(load(&truncated, 1).is_err());
    }
}
