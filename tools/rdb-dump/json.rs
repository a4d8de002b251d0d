//! The JSON lines format: one object per key, for programs.
//!
//! `{"db":0,"key":K,"type":"hash","encoding":"listpack","rdb_type":"HASH_LISTPACK","ttl":null,"value":V}`
//!
//! Byte strings (K, and every string inside V) are JSON strings when they
//! are UTF-8, else `{"base64":"..."}` (with `--base64`: always base64
//! strings). V is a string for strings, an array of strings for lists and
//! sets, an array of [field, value] pairs for hashes and of [member,
//! score] pairs for sorted sets, scores being numbers or "inf"/"-inf".
//! `ttl` is the absolute expiry in ms since the Unix epoch, or null.
//! The exact schema is in docs/tools/rdb-dump.md.
//!
//! Invariant: each line is one complete JSON object, whatever the bytes.

use crate::quote;
use crate::values::{self, Visit};
use std::io::{self, Write};
use strata::keyspace::Value;
use strata::persistence::rdb::format::ty;
use strata::persistence::rdb::{Item, KeyRecord};

/// Bytes gathered before they are handed to the output.
const CHUNK_BYTES: usize = 64 * 1024;

pub struct Json<'a, W: Write> {
    out: &'a mut W,
    base64: bool,
    buf: Vec<u8>,
    /// No element of the current array written yet.
    first: bool,
}

impl<'a, W: Write> Json<'a, W> {
    pub fn new(out: &'a mut W, base64: bool) -> Self {
        Json { out, base64, buf: Vec::with_capacity(CHUNK_BYTES * 2), first: true }
    }

    /// Starts an array element: a comma unless it is the first.
    fn next(&mut self) -> io::Result<()> {
        if !std::mem::take(&mut self.first) {
            self.buf.push(b',');
        }
        if self.buf.len() >= CHUNK_BYTES {
            self.out.write_all(&self.buf)?;
            self.buf.clear();
        }
        Ok(())
    }

    fn bytes(&mut self, b: &[u8]) {
        quote::json(&mut self.buf, b, self.base64);
    }
}

impl<W: Write> Visit for Json<'_, W> {
    fn string(&mut self, b: &[u8]) -> io::Result<()> {
        self.bytes(b);
        Ok(())
    }

    fn element(&mut self, b: &[u8]) -> io::Result<()> {
        self.next()?;
        self.bytes(b);
        Ok(())
    }

    fn pair(&mut self, field: &[u8], value: &[u8]) -> io::Result<()> {
        self.next()?;
        self.buf.push(b'[');
        self.bytes(field);
        self.buf.push(b',');
        self.bytes(value);
        self.buf.push(b']');
        Ok(())
    }

    fn scored(&mut self, member: &[u8], score: f64) -> io::Result<()> {
        self.next()?;
        self.buf.push(b'[');
        self.bytes(member);
        self.buf.push(b',');
        let s = quote::score(score);
        if score.is_infinite() {
            quote::json_str(&mut self.buf, &s);
        } else {
            self.buf.extend_from_slice(s.as_bytes());
        }
        self.buf.push(b']');
        Ok(())
    }
}

impl<W: Write> crate::walk::Sink for Json<'_, W> {
    fn record(&mut self, item: &Item) -> io::Result<()> {
        if matches!(item, Item::End { .. }) {
            // Written here, not on drop, so that a failed write is reported.
            self.out.write_all(&self.buf)?;
            self.buf.clear();
        }
        Ok(())
    }

    fn key(&mut self, k: &KeyRecord) -> io::Result<()> {
        self.buf.extend_from_slice(b"{\"db\":");
        quote::push_u64(&mut self.buf, k.db);
        self.buf.extend_from_slice(b",\"key\":");
        self.bytes(&k.key);
        let (type_name, encoding) = match &k.value {
            Some(v) => (v.type_name(), v.encoding()),
            None => (crate::filter::type_name(k.type_code), "unknown"),
        };
        for part in [
            ",\"type\":\"",
            type_name,
            "\",\"encoding\":\"",
            encoding,
            "\",\"rdb_type\":\"",
            ty::name(k.type_code),
            "\",\"ttl\":",
        ] {
            self.buf.extend_from_slice(part.as_bytes());
        }
        match k.expire_ms {
            Some(ms) => self.buf.extend_from_slice(strata::util::itoa(ms).as_bytes()),
            None => self.buf.extend_from_slice(b"null"),
        }
        self.buf.extend_from_slice(b",\"value\":");
        match &k.value {
            None => self.buf.extend_from_slice(b"null"),
            Some(v) => {
                let array = !matches!(v, Value::Int(_) | Value::Emb(_) | Value::Raw(_));
                if array {
                    self.buf.push(b'[');
                }
                self.first = true;
                values::visit(v, self)?;
                if array {
                    self.buf.push(b']');
                }
            }
        }
        self.buf.extend_from_slice(b"}\n");
        if self.buf.len() >= CHUNK_BYTES {
            self.out.write_all(&self.buf)?;
            self.buf.clear();
        }
        Ok(())
    }
}

impl<W: Write> Drop for Json<'_, W> {
    fn drop(&mut self) {
        // After a decoding error: the complete lines gathered before it
        // still go out (the buffer holds whole lines between keys).
        if let Some(end) = self.buf.iter().rposition(|&b| b == b'\n') {
            let _ = self.out.write_all(&self.buf[..=end]);
        }
    }
}
