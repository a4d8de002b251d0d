//! The RDB encoder: writes version 10 exactly as Redis 7.0 lays it out
//! (docs/formats/rdb.md, "What Strata writes"), streaming through a
//! checksumming writer so a snapshot never sits in memory whole.
//!
//! Invariant: every byte handed to the underlying writer has gone through
//! the CRC, and `finish` appends the CRC of exactly those bytes (or zeros
//! when checksums are off).

use super::crc64::{crc64, CrcWriter};
use super::format::{self, aux, container, enc, len, op, ty};
use super::lzf;
use crate::keyspace::db::{idle_ms, Db};
use crate::keyspace::hash::Hash;
use crate::keyspace::set::Set;
use crate::keyspace::zset::ZSet;
use crate::keyspace::Value;
use crate::util::{itoa, parse_i64};
use std::io::{self, Write};

/// The two settings of Redis that change what a snapshot holds.
#[derive(Clone, Copy, Debug)]
pub struct SaveOptions {
    /// `rdbcompression`: LZF-compress strings longer than 20 bytes when it
    /// saves at least 4 bytes.
    pub compression: bool,
    /// `rdbchecksum`: write the CRC-64 trailer (else eight zero bytes).
    pub checksum: bool,
}

impl Default for SaveOptions {
    fn default() -> Self {
        SaveOptions { compression: true, checksum: true }
    }
}

/// What the eviction policy wants recorded about a key's use.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum Recency {
    /// No LRU/LFU policy: nothing written.
    #[default]
    None,
    /// An LRU policy: seconds since the last access (IDLE).
    IdleSecs(u64),
    /// An LFU policy: the logarithmic access counter (FREQ).
    Freq(u8),
}

/// Replication state recorded in the aux fields.
#[derive(Clone, Copy, Debug)]
pub struct ReplInfo<'a> {
    pub stream_db: i64,
    /// The 40-character replication id.
    pub id: &'a str,
    pub offset: i64,
}

/// The aux fields Redis 7.0 writes at the head of every snapshot.
#[derive(Clone, Copy, Debug)]
pub struct SnapshotInfo<'a> {
    pub redis_ver: &'a str,
    /// Save time, Unix seconds.
    pub ctime_secs: i64,
    pub used_mem: u64,
    pub repl: Option<ReplInfo<'a>>,
    /// True for an AOF base file.
    pub aof_base: bool,
}

/// Where encoded bytes go: a growing buffer (DUMP) or a snapshot stream.
pub(crate) trait Sink {
    fn put(&mut self, b: &[u8]) -> io::Result<()>;

    #[inline]
    fn byte(&mut self, b: u8) -> io::Result<()> {
        self.put(&[b])
    }
}

impl Sink for Vec<u8> {
    #[inline]
    fn put(&mut self, b: &[u8]) -> io::Result<()> {
        self.extend_from_slice(b);
        Ok(())
    }
}

/// Bytes gathered before they go to the writer in one call; pieces larger
/// than this bypass the buffer.
const BUF_BYTES: usize = 64 * 1024;

struct Buffered<W: Write> {
    buf: Vec<u8>,
    sink: CrcWriter<W>,
}

impl<W: Write> Buffered<W> {
    fn drain(&mut self) -> io::Result<()> {
        if !self.buf.is_empty() {
            self.sink.write_all(&self.buf)?;
            self.buf.clear();
        }
        Ok(())
    }
}

impl<W: Write> Sink for Buffered<W> {
    #[inline]
    fn put(&mut self, b: &[u8]) -> io::Result<()> {
        if self.buf.len() + b.len() > BUF_BYTES {
            self.drain()?;
            if b.len() > BUF_BYTES {
                return self.sink.write_all(b);
            }
        }
        self.buf.extend_from_slice(b);
        Ok(())
    }
}

/// Writes a length in its shortest form.
pub(crate) fn put_len(s: &mut impl Sink, n: u64) -> io::Result<()> {
    if n <= len::MAX_6 {
        s.byte(n as u8)
    } else if n <= len::MAX_14 {
        s.put(&[(len::BITS_14 << 6) | (n >> 8) as u8, n as u8])
    } else if n <= u32::MAX as u64 {
        s.byte(len::FIRST_32)?;
        s.put(&(n as u32).to_be_bytes())
    } else {
        s.byte(len::FIRST_64)?;
        s.put(&n.to_be_bytes())
    }
}

/// The integer encoding of `v` when it fits 32 bits: (bytes, count).
fn int_encoding(v: i64) -> Option<([u8; 5], usize)> {
    let mut b = [0u8; 5];
    let first = |e: u8| (len::ENCODED << 6) | e;
    if (i8::MIN as i64..=i8::MAX as i64).contains(&v) {
        b[0] = first(enc::INT8);
        b[1] = v as i8 as u8;
        Some((b, 2))
    } else if (i16::MIN as i64..=i16::MAX as i64).contains(&v) {
        b[0] = first(enc::INT16);
        b[1..3].copy_from_slice(&(v as i16).to_le_bytes());
        Some((b, 3))
    } else if (i32::MIN as i64..=i32::MAX as i64).contains(&v) {
        b[0] = first(enc::INT32);
        b[1..5].copy_from_slice(&(v as i32).to_le_bytes());
        Some((b, 5))
    } else {
        None
    }
}

/// Writes a string by Redis's rules: int-encoded when it is a short
/// canonical integer in 32 bits, LZF when compression is on, it is longer
/// than 20 bytes and compressing saves at least 4 bytes, else raw.
pub(crate) fn put_string(s: &mut impl Sink, b: &[u8], compression: bool) -> io::Result<()> {
    if b.len() <= enc::INT_TRY_MAX_LEN {
        if let Some((e, n)) = parse_i64(b).and_then(int_encoding) {
            return s.put(&e[..n]);
        }
    }
    if compression && b.len() > enc::LZF_MIN_LEN {
        if let Some(c) = lzf::compress(b, b.len() - enc::LZF_MIN_SAVING) {
            s.byte((len::ENCODED << 6) | enc::LZF)?;
            put_len(s, c.len() as u64)?;
            put_len(s, b.len() as u64)?;
            return s.put(&c);
        }
    }
    put_len(s, b.len() as u64)?;
    s.put(b)
}

/// Writes an integer-encoded string value: int-encoded in 32 bits, else
/// its digits (too short to compress).
fn put_int_value(s: &mut impl Sink, v: i64) -> io::Result<()> {
    match int_encoding(v) {
        Some((e, n)) => s.put(&e[..n]),
        None => {
            let digits = itoa(v);
            put_len(s, digits.as_bytes().len() as u64)?;
            s.put(digits.as_bytes())
        }
    }
}

/// The object type Redis 7.0 writes for this value's encoding.
pub fn type_code(v: &Value) -> u8 {
    match v {
        Value::Int(_) | Value::Emb(_) | Value::Raw(_) => ty::STRING,
        Value::List(_) => ty::LIST_QUICKLIST_2,
        Value::Hash(Hash::Lp(_)) => ty::HASH_LISTPACK,
        Value::Hash(Hash::Table(_)) => ty::HASH,
        Value::Set(Set::Int(_)) => ty::SET_INTSET,
        Value::Set(Set::Table(_)) => ty::SET,
        Value::ZSet(ZSet::Lp(_)) => ty::ZSET_LISTPACK,
        Value::ZSet(ZSet::Skip(_)) => ty::ZSET_2,
    }
}

/// Writes the value's body (what follows the type byte and key).
pub(crate) fn put_value(s: &mut impl Sink, v: &Value, compression: bool) -> io::Result<()> {
    debug_assert!(v.is_string() || v.elements() > 0, "no collection is ever empty");
    let c = compression;
    match v {
        Value::Int(n) => put_int_value(s, *n),
        Value::Emb(b) => put_string(s, b, c),
        Value::Raw(b) => put_string(s, b, c),
        Value::List(ql) => {
            put_len(s, ql.node_count() as u64)?;
            for lp in ql.node_listpacks() {
                put_len(s, container::PACKED)?;
                put_string(s, lp.as_bytes(), c)?;
            }
            Ok(())
        }
        Value::Hash(Hash::Lp(lp)) | Value::ZSet(ZSet::Lp(lp)) => put_string(s, lp.as_bytes(), c),
        Value::Hash(Hash::Table(d)) => {
            put_len(s, d.len() as u64)?;
            d.iter().try_for_each(|fv| {
                put_string(s, &fv.field, c)?;
                put_string(s, &fv.value, c)
            })
        }
        Value::Set(Set::Int(is)) => put_string(s, is.as_bytes(), c),
        Value::Set(Set::Table(d)) => {
            put_len(s, d.len() as u64)?;
            d.iter().try_for_each(|m| put_string(s, &m.0, c))
        }
        Value::ZSet(z @ ZSet::Skip(_)) => {
            put_len(s, z.len() as u64)?;
            // Highest first, as Redis walks its skip list from the tail.
            z.iter_from(0, true).try_for_each(|(score, member)| {
                put_string(s, &member, c)?;
                s.put(&score.to_le_bytes())
            })
        }
    }
}

/// The DUMP payload of a value: type, body, RDB version (2 bytes LE) and
/// the CRC-64 of all of it (8 bytes LE).
pub fn dump_payload(v: &Value, compression: bool) -> Vec<u8> {
    let mut out = vec![type_code(v)];
    // Writing to a Vec cannot fail.
    let _ = put_value(&mut out, v, compression);
    out.extend_from_slice(&format::VERSION_WRITTEN.to_le_bytes());
    let crc = crc64(&out);
    out.extend_from_slice(&crc.to_le_bytes());
    out
}

/// How `RdbWriter::db` fills in IDLE for each key.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AccessInfo {
    /// No LRU policy: no IDLE records.
    None,
    /// An LRU policy: IDLE from each key's access clock, at this time (ms).
    LruAt(i64),
}

/// A snapshot being written: header on creation, then aux fields,
/// functions, databases and keys in the order Redis writes them, then
/// `finish`. After an I/O error the writer must be dropped (the output is
/// incomplete).
pub struct RdbWriter<W: Write> {
    out: Buffered<W>,
    opts: SaveOptions,
    keys: u64,
}

impl<W: Write> RdbWriter<W> {
    /// Starts a snapshot: writes `REDIS0010`.
    pub fn new(w: W, opts: SaveOptions) -> io::Result<Self> {
        let mut out = Buffered { buf: Vec::with_capacity(BUF_BYTES), sink: CrcWriter::new(w) };
        out.put(format::MAGIC)?;
        out.put(format!("{:04}", format::VERSION_WRITTEN).as_bytes())?;
        Ok(RdbWriter { out, opts, keys: 0 })
    }

    /// An AUX record.
    pub fn aux(&mut self, key: &[u8], value: &[u8]) -> io::Result<()> {
        self.out.byte(op::AUX)?;
        put_string(&mut self.out, key, self.opts.compression)?;
        put_string(&mut self.out, value, self.opts.compression)
    }

    /// An AUX record with a number, written as its decimal string (so
    /// int-encoded when it fits), as Redis does.
    pub fn aux_int(&mut self, key: &[u8], value: i64) -> io::Result<()> {
        self.aux(key, itoa(value).as_bytes())
    }

    /// The aux fields Redis 7.0 writes, in its order.
    pub fn standard_aux(&mut self, info: &SnapshotInfo) -> io::Result<()> {
        self.aux(aux::REDIS_VER, info.redis_ver.as_bytes())?;
        self.aux_int(aux::REDIS_BITS, usize::BITS as i64)?;
        self.aux_int(aux::CTIME, info.ctime_secs)?;
        self.aux_int(aux::USED_MEM, info.used_mem as i64)?;
        if let Some(r) = info.repl {
            self.aux_int(aux::REPL_STREAM_DB, r.stream_db)?;
            self.aux(aux::REPL_ID, r.id.as_bytes())?;
            self.aux_int(aux::REPL_OFFSET, r.offset)?;
        }
        self.aux_int(aux::AOF_BASE, info.aof_base as i64)
    }

    /// A function library (FUNCTION2): its whole source.
    pub fn function(&mut self, code: &[u8]) -> io::Result<()> {
        self.out.byte(op::FUNCTION2)?;
        put_string(&mut self.out, code, self.opts.compression)
    }

    /// SELECTDB and RESIZEDB: the keys that follow go to database `db`,
    /// which holds `keys` keys, `expires` of them with a time to live.
    pub fn select_db(&mut self, db: u64, keys: u64, expires: u64) -> io::Result<()> {
        self.out.byte(op::SELECTDB)?;
        put_len(&mut self.out, db)?;
        self.out.byte(op::RESIZEDB)?;
        put_len(&mut self.out, keys)?;
        put_len(&mut self.out, expires)
    }

    /// One key: its expiry (absolute ms), its recency record, type, key and
    /// value.
    pub fn key(&mut self, key: &[u8], value: &Value, expire_ms: Option<i64>, recency: Recency) -> io::Result<()> {
        if let Some(at) = expire_ms {
            self.out.byte(op::EXPIRETIME_MS)?;
            self.out.put(&at.to_le_bytes())?;
        }
        match recency {
            Recency::None => {}
            Recency::IdleSecs(s) => {
                self.out.byte(op::IDLE)?;
                put_len(&mut self.out, s)?;
            }
            Recency::Freq(f) => self.out.put(&[op::FREQ, f])?,
        }
        self.out.byte(type_code(value))?;
        put_string(&mut self.out, key, self.opts.compression)?;
        put_value(&mut self.out, value, self.opts.compression)?;
        self.keys += 1;
        if self.out.buf.len() >= BUF_BYTES / 2 {
            self.out.drain()?;
        }
        Ok(())
    }

    /// A whole database (nothing when it is empty), keys in table order.
    pub fn db(&mut self, db: &Db, access: AccessInfo) -> io::Result<()> {
        if db.is_empty() {
            return Ok(());
        }
        self.select_db(db.id as u64, db.len() as u64, db.expires.len() as u64)?;
        for e in db.dict.iter() {
            let recency = match access {
                AccessInfo::None => Recency::None,
                AccessInfo::LruAt(now) => Recency::IdleSecs((idle_ms(e.lru, now) / 1000) as u64),
            };
            self.key(&e.key, &e.value, db.expire_of(&e.key), recency)?;
        }
        Ok(())
    }

    /// Keys written so far.
    pub fn keys_written(&self) -> u64 {
        self.keys
    }

    /// Bytes produced so far (handed to the writer or buffered).
    pub fn bytes_written(&self) -> u64 {
        self.out.sink.written() + self.out.buf.len() as u64
    }

    /// Writes EOF and the checksum, flushes, and returns the writer.
    pub fn finish(mut self) -> io::Result<W> {
        self.out.byte(op::EOF)?;
        self.out.drain()?;
        let crc = if self.opts.checksum { self.out.sink.crc() } else { 0 };
        self.out.sink.write_all(&crc.to_le_bytes())?;
        self.out.sink.flush()?;
        Ok(self.out.sink.into_inner())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn string_bytes(b: &[u8], compression: bool) -> Vec<u8> {
        let mut v = Vec::new();
        put_string(&mut v, b, compression).unwrap();
        v
    }

    #[test]
    fn lengths_take_the_shortest_form() {
        for (n, want) in [
            (0u64, vec![0x00]),
            (63, vec![0x3F]),
            (64, vec![0x40, 0x40]),
            (16383, vec![0x7F, 0xFF]),
            (16384, vec![0x80, 0, 0, 0x40, 0]),
            (u32::MAX as u64, vec![0x80, 0xFF, 0xFF, 0xFF, 0xFF]),
            (u32::MAX as u64 + 1, vec![0x81, 0, 0, 0, 1, 0, 0, 0, 0]),
        ] {
            let mut v = Vec::new();
            put_len(&mut v, n).unwrap();
            assert_eq!(v, want, "{n}");
        }
    }

    #[test]
    fn strings_as_redis_writes_them() {
        // Bytes seen in files written by Redis 7.0.15.
        assert_eq!(string_bytes(b"123", true), [0xC0, 123]);
        assert_eq!(string_bytes(b"777", true), [0xC1, 0x09, 0x03]);
        assert_eq!(string_bytes(b"-2147483648", true), [0xC2, 0, 0, 0, 0x80]);
        assert_eq!(string_bytes(b"2147483648", true)[0], 10, "beyond 32 bits: digits");
        assert_eq!(string_bytes(b"0123", true), [4, b'0', b'1', b'2', b'3'], "not canonical");
        let x100 = vec![b'x'; 100];
        let c = string_bytes(&x100, true);
        assert_eq!(&c[..4], &[0xC3, c[1], 0x40, 0x64]);
        assert_eq!(string_bytes(&x100, false)[..2], [0x40, 100]);
        assert_eq!(string_bytes(&[b'y'; 20], true)[0], 20, "20 bytes are never compressed");
        let mut v = Vec::new();
        put_int_value(&mut v, 12345678901).unwrap();
        assert_eq!(v, b"\x0b12345678901");
    }

    #[test]
    fn checksum_off_writes_zeros_and_on_writes_the_crc() {
        for checksum in [false, true] {
            let mut w = RdbWriter::new(Vec::new(), SaveOptions { compression: true, checksum }).unwrap();
            w.key(b"a", &Value::Int(1), None, Recency::None).unwrap();
            let out = w.finish().unwrap();
            assert_eq!(&out[..9], b"REDIS0010");
            let (body, tail) = out.split_at(out.len() - 8);
            let want = if checksum { crc64(body) } else { 0 };
            assert_eq!(tail, want.to_le_bytes());
            assert_eq!(body, b"REDIS0010\x00\x01a\xC0\x01\xFF");
        }
    }
}
