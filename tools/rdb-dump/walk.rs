//! The one pass over the file that every mode shares: decode record after
//! record, keep the facts every mode reports (version, key counts, aux
//! fields, checksum), hand selected keys to the output, and turn a decoder
//! error into a report that says where and what to do.
//!
//! Invariant: the walk ends at the end record or at the first error; the
//! sink sees records in file order and only keys the filter selects.

use crate::check::KeysSeen;
use crate::filter::{type_name, Filter};
use crate::progress::Progress;
use std::collections::BTreeSet;
use std::io;
use strata::persistence::rdb::{Checksum, DecodeError, ErrorKind, Item, KeyRecord, Limits, LoadOptions, RdbReader};

/// Databases a default server has; keys beyond them load only with a
/// larger `databases` setting.
const DEFAULT_DATABASES: u64 = 16;
/// Empty collections named one by one before they are only counted.
const EMPTY_KEYS_NAMED_MAX: u64 = 10;

#[derive(Clone, Copy, Debug)]
pub struct Options {
    /// Check listpack and ziplist contents for duplicates and order.
    pub deep: bool,
    /// Build the values (needed to print them, and to check them).
    pub build_values: bool,
    /// Refuse a key stored twice in one database.
    pub duplicate_keys: bool,
}

/// Where the walk sends what it reads.
pub trait Sink {
    /// Before the first record, with the file's RDB version.
    fn start(&mut self, _version: u16) -> io::Result<()> {
        Ok(())
    }
    /// A key the filter selected.
    fn key(&mut self, k: &KeyRecord) -> io::Result<()>;
    /// A record that is not a key (aux field, function, database switch,
    /// end record...).
    fn record(&mut self, _item: &Item) -> io::Result<()> {
        Ok(())
    }
    /// An empty collection the filter selected (not loadable: Redis skips it).
    fn empty_key(&mut self, _db: u64, _key: &[u8], _type_code: u8) -> io::Result<()> {
        Ok(())
    }
}

/// For --check alone: nothing is printed per key.
pub struct NoOutput;

impl Sink for NoOutput {
    fn key(&mut self, _k: &KeyRecord) -> io::Result<()> {
        Ok(())
    }
}

/// What the walk learnt about the whole file.
#[derive(Debug, Default)]
pub struct Walked {
    pub version: u16,
    pub file_bytes: usize,
    /// Every key in the file, selected or not (empty collections aside).
    pub keys_total: u64,
    /// Empty collections (not loadable; Redis skips them).
    pub empty_keys: u64,
    pub functions: u64,
    /// Databases holding at least one key.
    pub dbs: BTreeSet<u64>,
    pub aux: Vec<(Vec<u8>, Vec<u8>)>,
    /// Modules whose aux data the file holds.
    pub modules: Vec<String>,
    pub checksum: Option<Checksum>,
    /// Bytes after the snapshot: the commands of an AOF with a preamble.
    pub trailing: usize,
}

/// Why the walk stopped early.
#[derive(Debug)]
pub enum WalkError {
    Decode {
        err: DecodeError,
        db: u64,
        keys_read: u64,
    },
    Duplicate {
        db: u64,
        key: Vec<u8>,
        first: usize,
        again: usize,
    },
    /// Writing the output failed.
    Output(io::Error),
}

impl WalkError {
    pub fn is_broken_pipe(&self) -> bool {
        matches!(self, WalkError::Output(e) if e.kind() == io::ErrorKind::BrokenPipe)
    }

    pub fn is_io(&self) -> bool {
        matches!(self, WalkError::Output(_))
    }

    pub fn decode_kind(&self) -> Option<&ErrorKind> {
        match self {
            WalkError::Decode { err, .. } => Some(&err.kind),
            _ => None,
        }
    }

    /// The message for the user: what, where, and what to do next.
    pub fn report(&self, name: &str) -> String {
        match self {
            WalkError::Output(e) => format!("cannot write the output: {e}"),
            WalkError::Duplicate { db, key, first, again } => {
                format!(
                    "{name}: key {} is stored twice in database {db}, at byte {first} and again at byte {again}: \
                     every record is sound, but Redis refuses to load the file (\"duplicated key\"); \
                     to keep the last record of each key, rebuild the data with \
                     `rdb-dump --format resp --replace FILE | redis-cli --pipe` and save it again",
                    crate::quote::text_string(key)
                )
            }
            WalkError::Decode { err, db, keys_read } => {
                let next = match &err.kind {
                    ErrorKind::Unsupported(_) | ErrorKind::UnsupportedVersion(_) => {
                        "this tool cannot read past it; the keys before it can still be printed"
                    }
                    ErrorKind::BadMagic => "is this the right file? Snapshots are usually named dump.rdb",
                    ErrorKind::ChecksumMismatch { .. } => {
                        "every record decoded, so the damage is in bytes the records do not check \
                         (or in the checksum itself)"
                    }
                    _ => {
                        "the file is damaged from this byte on: restore it from another copy; the keys \
                         before it can still be printed with --format"
                    }
                };
                let at = if matches!(err.kind, ErrorKind::BadMagic) {
                    String::new()
                } else {
                    format!(" [database {db}, after {keys_read} keys]")
                };
                format!("{name}: {err}{at}\n  {next}")
            }
        }
    }
}

/// Warnings about a file that is sound but will not load as it is
/// everywhere (printed to standard error unless quiet).
pub struct Warnings {
    enabled: bool,
    empty_named: u64,
    dbs_warned: BTreeSet<u64>,
}

impl Warnings {
    pub fn new(enabled: bool) -> Warnings {
        Warnings { enabled, empty_named: 0, dbs_warned: BTreeSet::new() }
    }

    fn say(&self, progress: &mut Progress, msg: &str) {
        if self.enabled {
            progress.clear();
            eprintln!("rdb-dump: warning: {msg}");
        }
    }
}

pub fn walk(
    bytes: &[u8],
    opts: Options,
    filter: &Filter,
    sink: &mut dyn Sink,
    mut progress: Progress,
    warn: &mut Warnings,
) -> Result<Walked, WalkError> {
    let lo = LoadOptions {
        limits: Limits::default(),
        deep: opts.deep,
        verify_checksum: true,
        build_values: opts.build_values,
    };
    let mut r = RdbReader::new(bytes, lo).map_err(|err| WalkError::Decode { err, db: 0, keys_read: 0 })?;
    let mut w = Walked { version: r.version(), file_bytes: bytes.len(), ..Walked::default() };
    sink.start(w.version).map_err(WalkError::Output)?;
    let mut seen = opts.duplicate_keys.then(KeysSeen::new);
    let mut db = 0u64;
    loop {
        let item = match r.next_item() {
            Ok(Some(item)) => item,
            Ok(None) => {
                // The reader stops only at the end record or an error; this
                // is for completeness.
                let err = DecodeError::new(
                    r.offset(),
                    "record type",
                    ErrorKind::Truncated { needed: 1, available: r.remaining() },
                );
                return Err(WalkError::Decode { err, db, keys_read: w.keys_total });
            }
            Err(err) => {
                progress.clear();
                return Err(WalkError::Decode { err, db, keys_read: w.keys_total });
            }
        };
        progress.tick(r.offset());
        let out = match &item {
            Item::Key(k) => {
                w.keys_total += 1;
                if w.dbs.insert(k.db) && k.db >= DEFAULT_DATABASES && warn.dbs_warned.insert(k.db) {
                    warn.say(
                        &mut progress,
                        &format!(
                            "database {} holds keys: a server loads them only with `databases {}` or more",
                            k.db,
                            k.db.saturating_add(1)
                        ),
                    );
                }
                if let Some(seen) = seen.as_mut() {
                    seen.add(k.db, &k.key);
                }
                if filter.matches(k.db, &k.key, k.type_code) {
                    sink.key(k)
                } else {
                    Ok(())
                }
            }
            Item::EmptyKey { db, key, type_code, offset } => {
                w.empty_keys += 1;
                if w.empty_keys <= EMPTY_KEYS_NAMED_MAX {
                    warn.empty_named += 1;
                    warn.say(
                        &mut progress,
                        &format!(
                            "byte {offset}: key {} in database {db} is an empty {} ({}): skipped, as Redis skips it when loading",
                            crate::quote::text_string(key),
                            type_name(*type_code),
                            strata::persistence::rdb::format::ty::name(*type_code),
                        ),
                    );
                }
                if filter.matches(*db, key, *type_code) {
                    sink.empty_key(*db, key, *type_code)
                } else {
                    Ok(())
                }
            }
            Item::SelectDb(n) => {
                db = *n;
                sink.record(&item)
            }
            Item::ResizeDb { .. } => sink.record(&item),
            Item::Aux { key, value } => {
                w.aux.push((key.clone(), value.clone()));
                sink.record(&item)
            }
            Item::Function { .. } => {
                w.functions += 1;
                sink.record(&item)
            }
            Item::ModuleAux { module, .. } => {
                if !w.modules.contains(module) {
                    warn.say(
                        &mut progress,
                        &format!(
                            "the file holds data of module '{module}': Redis refuses to load it without that module loaded"
                        ),
                    );
                    w.modules.push(module.clone());
                }
                sink.record(&item)
            }
            Item::End { checksum } => {
                w.checksum = Some(*checksum);
                w.trailing = bytes.len().saturating_sub(r.offset());
                sink.record(&item).map_err(WalkError::Output)?;
                break;
            }
        };
        out.map_err(WalkError::Output)?;
    }
    progress.clear();
    if let Some((db, key, first, again)) = seen.and_then(|s| s.find_duplicate(bytes)) {
        return Err(WalkError::Duplicate { db, key, first, again });
    }
    if w.empty_keys > warn.empty_named {
        warn.say(&mut progress, &format!("{} more empty collections skipped", w.empty_keys - warn.empty_named));
    }
    Ok(w)
}
