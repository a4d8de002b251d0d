//! --stats: what a snapshot holds, in figures. Keys and serialized bytes
//! per database, per type and per stored type; the largest keys; when keys
//! expire, relative to a given time; the RDB version, aux fields,
//! function libraries and checksum.
//!
//! A key's serialized size is its record in the file, from the type byte to
//! the end of its value (`KeyRecord::size`); expiry and LRU/LFU records
//! before it are not counted. Figures cover the keys the filters select.
//!
//! Invariant: memory is bounded by the number of databases and stored
//! types and by `top`, never by the number of keys.

use crate::filter::{type_name, Filter, KeyType};
use crate::quote;
use crate::walk::{Sink, Walked};
use std::cmp::Reverse;
use std::collections::{BTreeMap, BinaryHeap};
use std::io::{self, Write};
use strata::persistence::rdb::format::ty;
use strata::persistence::rdb::{Checksum, KeyRecord};

const MINUTE_MS: i64 = 60_000;
const HOUR_MS: i64 = 60 * MINUTE_MS;
const DAY_MS: i64 = 24 * HOUR_MS;
const WEEK_MS: i64 = 7 * DAY_MS;

/// Expiry histogram buckets: (JSON name, text label).
const BUCKETS: [(&str, &str); 7] = [
    ("none", "no expiry"),
    ("expired", "already expired"),
    ("within_1m", "within a minute"),
    ("within_1h", "within an hour"),
    ("within_1d", "within a day"),
    ("within_1w", "within a week"),
    ("later", "later"),
];

pub fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
        .unwrap_or(0)
}

#[derive(Default, Clone, Copy)]
struct Count {
    keys: u64,
    expires: u64,
    bytes: u64,
}

impl Count {
    fn add(&mut self, size: usize, expires: bool) {
        self.keys += 1;
        self.expires += u64::from(expires);
        self.bytes = self.bytes.saturating_add(size as u64);
    }
}

/// One of the largest keys. Ordered by size, then earlier in the file
/// first, so that equal sizes list in file order.
#[derive(PartialEq, Eq, PartialOrd, Ord)]
struct Large {
    size: usize,
    at: Reverse<usize>,
    db: u64,
    key: Vec<u8>,
    type_code: u8,
}

pub struct Stats {
    filtered: bool,
    top: usize,
    now: i64,
    total: Count,
    empty_keys: u64,
    dbs: BTreeMap<u64, Count>,
    types: BTreeMap<KeyType, Count>,
    stored: BTreeMap<u8, Count>,
    expiry: [u64; 7],
    /// The `top` largest keys so far, smallest on top.
    largest: BinaryHeap<Reverse<Large>>,
}

impl Stats {
    pub fn new(filter: &Filter, top: usize, now: i64) -> Stats {
        Stats {
            filtered: filter.is_active(),
            top,
            now,
            total: Count::default(),
            empty_keys: 0,
            dbs: BTreeMap::new(),
            types: BTreeMap::new(),
            stored: BTreeMap::new(),
            expiry: [0; 7],
            largest: BinaryHeap::new(),
        }
    }

    fn bucket(&self, expire_ms: Option<i64>) -> usize {
        let Some(at) = expire_ms else { return 0 };
        if at <= self.now {
            return 1;
        }
        match at.saturating_sub(self.now) {
            d if d < MINUTE_MS => 2,
            d if d < HOUR_MS => 3,
            d if d < DAY_MS => 4,
            d if d < WEEK_MS => 5,
            _ => 6,
        }
    }

    fn sorted_largest(&self) -> Vec<&Large> {
        let mut v: Vec<&Large> = self.largest.iter().map(|r| &r.0).collect();
        v.sort_by(|a, b| b.cmp(a));
        v
    }

    pub fn write_text(&self, out: &mut impl Write, name: &str, w: &Walked) -> io::Result<()> {
        let mut b = Vec::new();
        writeln!(b, "file              {name} ({} bytes)", w.file_bytes)?;
        writeln!(b, "rdb version       {}", w.version)?;
        for (k, v) in &w.aux {
            b.extend_from_slice(b"aux               ");
            quote::text(&mut b, k);
            b.extend_from_slice(b" = ");
            quote::text(&mut b, v);
            if k == b"ctime" {
                if let Some(secs) = std::str::from_utf8(v).ok().and_then(|s| s.parse::<i64>().ok()) {
                    write!(b, " ({})", quote::iso_utc(secs.saturating_mul(1000)))?;
                }
            }
            b.push(b'\n');
        }
        writeln!(b, "functions         {}", w.functions)?;
        for m in &w.modules {
            writeln!(b, "module aux data   {m}")?;
        }
        let checksum = w.checksum.map_or_else(|| "none".into(), crate::checksum_text);
        writeln!(b, "checksum          {}", checksum.strip_prefix("checksum ").unwrap_or(&checksum))?;
        if w.trailing > 0 {
            writeln!(b, "after the end     {} bytes (AOF commands; not read)", w.trailing)?;
        }
        if self.filtered {
            writeln!(
                b,
                "keys in the file  {} (figures below: the {} keys the filters select)",
                w.keys_total, self.total.keys
            )?;
        }
        writeln!(b, "keys              {}", self.total.keys)?;
        writeln!(b, "keys with expiry  {}", self.total.expires)?;
        writeln!(b, "serialized bytes  {} ({})", self.total.bytes, human(self.total.bytes))?;
        if self.empty_keys > 0 {
            writeln!(b, "empty collections {} (skipped when loading)", self.empty_keys)?;
        }

        writeln!(b, "\nper database      {:>12} {:>12} {:>16}", "keys", "expiring", "bytes")?;
        for (db, c) in &self.dbs {
            writeln!(b, "  db {db:<13} {:>12} {:>12} {:>16}", c.keys, c.expires, c.bytes)?;
        }
        writeln!(b, "\nper type          {:>12} {:>12} {:>16}", "keys", "expiring", "bytes")?;
        for (t, c) in &self.types {
            writeln!(b, "  {:<16} {:>12} {:>12} {:>16}", t.name(), c.keys, c.expires, c.bytes)?;
        }
        writeln!(b, "\nper stored type   {:>12} {:>12} {:>16}", "keys", "expiring", "bytes")?;
        for (t, c) in &self.stored {
            writeln!(b, "  {:<16} {:>12} {:>12} {:>16}", ty::name(*t), c.keys, c.expires, c.bytes)?;
        }
        writeln!(b, "\nexpiry (relative to {})", quote::iso_utc(self.now))?;
        for (i, (_, label)) in BUCKETS.iter().enumerate() {
            writeln!(b, "  {label:<16} {:>12}", self.expiry[i])?;
        }
        writeln!(b, "\nlargest keys (serialized bytes)")?;
        for (i, l) in self.sorted_largest().iter().enumerate() {
            write!(b, "  {:>2}. {:>12}  db {} ", i + 1, l.size, l.db)?;
            quote::text(&mut b, &l.key);
            writeln!(b, " {} ({}) at byte {}", type_name(l.type_code), ty::name(l.type_code), l.at.0)?;
        }
        out.write_all(&b)
    }

    pub fn write_json(&self, out: &mut impl Write, name: &str, w: &Walked) -> io::Result<()> {
        let mut b = Vec::new();
        b.extend_from_slice(b"{\"file\":");
        quote::json_str(&mut b, name);
        write!(b, ",\"file_bytes\":{},\"rdb_version\":{},\"aux\":[", w.file_bytes, w.version)?;
        for (i, (k, v)) in w.aux.iter().enumerate() {
            b.extend_from_slice(if i == 0 { b"[" } else { b",[" });
            quote::json(&mut b, k, false);
            b.push(b',');
            quote::json(&mut b, v, false);
            b.push(b']');
        }
        write!(b, "],\"functions\":{},\"modules\":[", w.functions)?;
        for (i, m) in w.modules.iter().enumerate() {
            if i > 0 {
                b.push(b',');
            }
            quote::json_str(&mut b, m);
        }
        let (status, crc) = match w.checksum {
            Some(Checksum::Verified(v)) => ("verified", Some(v)),
            Some(Checksum::Disabled) => ("disabled", None),
            Some(Checksum::Absent) | None => ("absent", None),
            Some(Checksum::NotChecked(v)) => ("not_checked", Some(v)),
        };
        write!(b, "],\"checksum\":\"{status}\",\"crc64\":")?;
        match crc {
            Some(v) => write!(b, "\"{v:#018x}\"")?,
            None => b.extend_from_slice(b"null"),
        }
        write!(
            b,
            ",\"trailing_bytes\":{},\"filtered\":{},\"keys_in_file\":{},\"keys\":{},\"keys_with_expiry\":{},\"serialized_bytes\":{},\"empty_keys\":{}",
            w.trailing, self.filtered, w.keys_total, self.total.keys, self.total.expires, self.total.bytes, self.empty_keys
        )?;
        b.extend_from_slice(b",\"dbs\":[");
        for (i, (db, c)) in self.dbs.iter().enumerate() {
            if i > 0 {
                b.push(b',');
            }
            write!(b, "{{\"db\":{db},\"keys\":{},\"keys_with_expiry\":{},\"bytes\":{}}}", c.keys, c.expires, c.bytes)?;
        }
        b.extend_from_slice(b"],\"types\":{");
        for (i, (t, c)) in self.types.iter().enumerate() {
            if i > 0 {
                b.push(b',');
            }
            write!(
                b,
                "\"{}\":{{\"keys\":{},\"keys_with_expiry\":{},\"bytes\":{}}}",
                t.name(),
                c.keys,
                c.expires,
                c.bytes
            )?;
        }
        b.extend_from_slice(b"},\"rdb_types\":{");
        for (i, (t, c)) in self.stored.iter().enumerate() {
            if i > 0 {
                b.push(b',');
            }
            write!(b, "\"{}\":{{\"keys\":{},\"bytes\":{}}}", ty::name(*t), c.keys, c.bytes)?;
        }
        write!(b, "}},\"now_ms\":{},\"expiry\":{{", self.now)?;
        for (i, (name, _)) in BUCKETS.iter().enumerate() {
            if i > 0 {
                b.push(b',');
            }
            write!(b, "\"{name}\":{}", self.expiry[i])?;
        }
        b.extend_from_slice(b"},\"largest\":[");
        for (i, l) in self.sorted_largest().iter().enumerate() {
            if i > 0 {
                b.push(b',');
            }
            write!(b, "{{\"db\":{},\"key\":", l.db)?;
            quote::json(&mut b, &l.key, false);
            write!(
                b,
                ",\"type\":\"{}\",\"rdb_type\":\"{}\",\"bytes\":{},\"offset\":{}}}",
                type_name(l.type_code),
                ty::name(l.type_code),
                l.size,
                l.at.0
            )?;
        }
        b.extend_from_slice(b"]}\n");
        out.write_all(&b)
    }
}

/// A byte count in the largest unit that keeps it at or above one.
fn human(n: u64) -> String {
    const UNITS: [&str; 5] = ["bytes", "KiB", "MiB", "GiB", "TiB"];
    let mut v = n as f64;
    let mut u = 0;
    while v >= 1024.0 && u + 1 < UNITS.len() {
        v /= 1024.0;
        u += 1;
    }
    if u == 0 {
        format!("{n} bytes")
    } else {
        format!("{v:.1} {}", UNITS[u])
    }
}

impl Sink for Stats {
    fn key(&mut self, k: &KeyRecord) -> io::Result<()> {
        let expires = k.expire_ms.is_some();
        self.total.add(k.size, expires);
        self.dbs.entry(k.db).or_default().add(k.size, expires);
        if let Some(t) = KeyType::of_code(k.type_code) {
            self.types.entry(t).or_default().add(k.size, expires);
        }
        self.stored.entry(k.type_code).or_default().add(k.size, expires);
        let b = self.bucket(k.expire_ms);
        self.expiry[b] += 1;
        if self.top > 0 {
            let beats_smallest = self.largest.peek().is_none_or(|s| (k.size, Reverse(k.offset)) > (s.0.size, s.0.at));
            if self.largest.len() < self.top || beats_smallest {
                self.largest.push(Reverse(Large {
                    size: k.size,
                    at: Reverse(k.offset),
                    db: k.db,
                    key: k.key.to_vec(),
                    type_code: k.type_code,
                }));
                if self.largest.len() > self.top {
                    self.largest.pop();
                }
            }
        }
        Ok(())
    }

    fn empty_key(&mut self, _db: u64, _key: &[u8], _type_code: u8) -> io::Result<()> {
        self.empty_keys += 1;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn byte_counts_read_well() {
        assert_eq!(human(12), "12 bytes");
        assert_eq!(human(1536), "1.5 KiB");
        assert_eq!(human(3 * 1024 * 1024 * 1024), "3.0 GiB");
    }
}
