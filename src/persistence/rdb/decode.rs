//! The RDB decoder: reads versions 1 to 11 from a byte slice and yields one
//! item per record (docs/formats/rdb.md, "What Strata reads"), so the
//! loader, the `rdb-dump` tool and RESTORE share one parser.
//!
//! Invariants: every call makes progress or ends the stream; after an error
//! or the end record the iterator yields nothing more; an expiry, IDLE or
//! FREQ record applies to the next key only.

use super::crc64::crc64;
use super::error::{DecodeError, ErrorKind};
use super::format::{self, module, op, ty};
use super::input::{Input, Result};
use super::objects::{self, Ctx, Limits, Loaded};
use crate::keyspace::{CBytes, Value};

/// How to read a file.
#[derive(Clone, Copy, Debug)]
pub struct LoadOptions {
    pub limits: Limits,
    /// Also refuse duplicates inside listpacks, ziplists and zipmaps, and
    /// sorted-set listpacks out of order (`sanitize-dump-payload yes`).
    pub deep: bool,
    /// Check the CRC-64 at the end (`rdbchecksum` on the loading side;
    /// a stored zero is never checked).
    pub verify_checksum: bool,
    /// Build values; off, keys are reported with `value: None` and values
    /// are only walked past (for scanning and statistics).
    pub build_values: bool,
}

impl Default for LoadOptions {
    fn default() -> Self {
        LoadOptions { limits: Limits::default(), deep: false, verify_checksum: true, build_values: true }
    }
}

/// What the end record said about the checksum.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Checksum {
    /// Stored and equal to the file's CRC.
    Verified(u64),
    /// Stored as zero: written with `rdbchecksum no`.
    Disabled,
    /// Files before version 5 have none.
    Absent,
    /// Stored but not checked (`verify_checksum` off).
    NotChecked(u64),
}

/// One key read from the file.
#[derive(Debug)]
pub struct KeyRecord {
    pub db: u64,
    pub key: CBytes,
    /// `None` when values are not built.
    pub value: Option<Value>,
    /// The object type code as stored.
    pub type_code: u8,
    /// Absolute expiry, ms since the epoch.
    pub expire_ms: Option<i64>,
    /// Seconds idle (IDLE record; written under LRU policies).
    pub idle_secs: Option<u64>,
    /// LFU counter (FREQ record; written under LFU policies).
    pub freq: Option<u8>,
    /// Offset of the type byte, and bytes from there to the record's end.
    pub offset: usize,
    pub size: usize,
}

#[derive(Debug)]
pub enum Item {
    Aux {
        key: Vec<u8>,
        value: Vec<u8>,
    },
    SelectDb(u64),
    ResizeDb {
        keys: u64,
        expires: u64,
    },
    /// A function library (FUNCTION2): its whole source.
    Function {
        code: Vec<u8>,
    },
    /// Module aux data, skipped: the loader decides whether a file needing
    /// a module it lacks may load (Redis refuses it).
    ModuleAux {
        module: String,
        when: u64,
    },
    Key(KeyRecord),
    /// A collection with no elements: not loaded (Redis logs and skips it).
    EmptyKey {
        db: u64,
        key: Vec<u8>,
        type_code: u8,
        offset: usize,
    },
    /// The end record; `RdbReader::offset` is then just past the checksum.
    End {
        checksum: Checksum,
    },
}

pub struct RdbReader<'a> {
    inp: Input<'a>,
    version: u16,
    opts: LoadOptions,
    db: u64,
    expire_ms: Option<i64>,
    idle_secs: Option<u64>,
    freq: Option<u8>,
    done: bool,
}

/// Reads `REDIS` and the four-digit version.
fn header(inp: &mut Input) -> Result<u16> {
    inp.what = "header";
    let magic = inp.take(9).map_err(|e| DecodeError { kind: ErrorKind::BadMagic, ..e })?;
    let digits = &magic[5..];
    if &magic[..5] != format::MAGIC || !digits.iter().all(u8::is_ascii_digit) {
        return Err(inp.err(0, ErrorKind::BadMagic));
    }
    let v = digits.iter().fold(0u16, |a, d| a * 10 + (d - b'0') as u16);
    if !(format::VERSION_MIN..=format::VERSION_MAX).contains(&v) {
        return Err(inp.err(5, ErrorKind::UnsupportedVersion(v)));
    }
    Ok(v)
}

impl<'a> RdbReader<'a> {
    /// Checks the header; records follow through `next_item` or iteration.
    pub fn new(bytes: &'a [u8], opts: LoadOptions) -> std::result::Result<Self, DecodeError> {
        let mut inp = Input::new(bytes);
        let version = header(&mut inp)?;
        Ok(RdbReader { inp, version, opts, db: 0, expire_ms: None, idle_secs: None, freq: None, done: false })
    }

    pub fn version(&self) -> u16 {
        self.version
    }

    /// Bytes not read yet.
    pub fn remaining(&self) -> usize {
        self.inp.remaining()
    }

    /// Offset of the next record (after `End`: of the first byte past the
    /// snapshot, where an AOF preamble's commands start).
    pub fn offset(&self) -> usize {
        self.inp.pos
    }

    /// The next item; `Ok(None)` after the end record or an error.
    pub fn next_item(&mut self) -> std::result::Result<Option<Item>, DecodeError> {
        if self.done {
            return Ok(None);
        }
        let r = self.record();
        if !matches!(r, Ok(Some(ref i)) if !matches!(i, Item::End { .. })) {
            self.done = true;
        }
        r
    }

    fn record(&mut self) -> Result<Option<Item>> {
        loop {
            let at = self.inp.pos;
            self.inp.what = "record type";
            let t = self.inp.u8()?;
            let item = match t {
                op::EXPIRETIME_MS => {
                    self.inp.what = "expiry (ms)";
                    self.expire_ms = Some(self.inp.u64_le()? as i64);
                    continue;
                }
                op::EXPIRETIME => {
                    self.inp.what = "expiry (s)";
                    let secs = i32::from_le_bytes(self.inp.array()?);
                    self.expire_ms = Some(secs as i64 * 1000);
                    continue;
                }
                op::IDLE => {
                    self.inp.what = "idle time";
                    self.idle_secs = Some(self.inp.len()?);
                    continue;
                }
                op::FREQ => {
                    self.inp.what = "access frequency";
                    self.freq = Some(self.inp.u8()?);
                    continue;
                }
                op::SELECTDB => {
                    self.inp.what = "database number";
                    self.db = self.inp.len()?;
                    Item::SelectDb(self.db)
                }
                op::RESIZEDB => {
                    self.inp.what = "database sizes";
                    Item::ResizeDb { keys: self.inp.len()?, expires: self.inp.len()? }
                }
                op::AUX => {
                    self.inp.what = "aux field";
                    let key = self.inp.string()?.into_vec();
                    let value = self.inp.string()?.into_vec();
                    Item::Aux { key, value }
                }
                op::MODULE_AUX => self.module_aux()?,
                op::FUNCTION2 => {
                    self.inp.what = "function library";
                    Item::Function { code: self.inp.string()?.into_vec() }
                }
                op::FUNCTION_PRE_GA => {
                    self.inp.what = "function";
                    return Err(self.inp.err(
                        at,
                        ErrorKind::Unsupported(
                            "functions in the 7.0 release candidates' format (opcode 246) are not supported, as in Redis 7.0: save the file again with Redis 7.0 or later".into(),
                        ),
                    ));
                }
                op::EOF => Item::End { checksum: self.checksum(at)? },
                t if t <= ty::STREAM_LISTPACKS_3 && t != 8 => self.key(at, t)?,
                t => return Err(self.inp.err(at, ErrorKind::UnknownType(t))),
            };
            return Ok(Some(item));
        }
    }

    fn checksum(&mut self, eof_at: usize) -> Result<Checksum> {
        if self.version < format::VERSION_CHECKSUM {
            return Ok(Checksum::Absent);
        }
        self.inp.what = "checksum";
        let stored = self.inp.u64_le()?;
        if stored == 0 {
            return Ok(Checksum::Disabled);
        }
        if !self.opts.verify_checksum {
            return Ok(Checksum::NotChecked(stored));
        }
        let computed = crc64(&self.inp.bytes_from(0)[..eof_at + 1]);
        if computed != stored {
            return Err(self.inp.err(eof_at + 1, ErrorKind::ChecksumMismatch { stored, computed }));
        }
        Ok(Checksum::Verified(stored))
    }

    /// MODULE_AUX: module id, when-opcode, when, then self-describing
    /// module data up to its EOF opcode, skipped.
    fn module_aux(&mut self) -> Result<Item> {
        self.inp.what = "module aux data";
        let id = self.inp.len()?;
        let when_at = self.inp.pos;
        if self.inp.len()? != module::UINT {
            return Err(self
                .inp
                .corrupt(when_at, "module aux data does not start with its phase as an unsigned number"));
        }
        let when = self.inp.len()?;
        skip_module_data(&mut self.inp)?;
        Ok(Item::ModuleAux { module: objects::module_name(id), when })
    }

    fn key(&mut self, at: usize, t: u8) -> Result<Item> {
        self.inp.what = "key";
        let key = CBytes::new(self.inp.string()?.bytes());
        let cx = Ctx { limits: &self.opts.limits, deep: self.opts.deep, build: self.opts.build_values };
        let loaded = objects::read(&mut self.inp, t, &cx).map_err(|e| e.with_key(&key))?;
        let (expire_ms, idle_secs, freq) = (self.expire_ms.take(), self.idle_secs.take(), self.freq.take());
        let db = self.db;
        let value = match loaded {
            Loaded::Empty => return Ok(Item::EmptyKey { db, key: key.to_vec(), type_code: t, offset: at }),
            Loaded::Value(v) => Some(v),
            Loaded::Skipped => None,
        };
        let size = self.inp.pos - at;
        Ok(Item::Key(KeyRecord { db, key, value, type_code: t, expire_ms, idle_secs, freq, offset: at, size }))
    }
}

/// Skips module data in its typed-opcode form, up to its EOF opcode.
fn skip_module_data(inp: &mut Input) -> Result<()> {
    loop {
        let at = inp.pos;
        match inp.len()? {
            module::EOF => return Ok(()),
            module::SINT | module::UINT => {
                inp.len()?;
            }
            module::FLOAT => {
                inp.take(4)?;
            }
            module::DOUBLE => {
                inp.take(8)?;
            }
            module::STRING => inp.skip_string()?,
            other => return Err(inp.corrupt(at, format!("module data opcode {other} is unknown"))),
        }
    }
}

impl Iterator for RdbReader<'_> {
    type Item = std::result::Result<Item, DecodeError>;

    fn next(&mut self) -> Option<Self::Item> {
        self.next_item().transpose()
    }
}
