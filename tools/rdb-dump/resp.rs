//! The RESP format: the commands that rebuild the snapshot's data on a
//! server, as `redis-cli --pipe` sends them. `SELECT` whenever the database
//! changes (and before the first key); per key `SET`, `RPUSH`, `SADD`,
//! `HSET` or `ZADD`, then `PEXPIREAT` with the absolute expiry; with
//! `--replace` a `DEL` first. Without filters, each function library
//! becomes `FUNCTION LOAD REPLACE`.
//!
//! Invariant: no command carries more than `batch` elements, nor (unless a
//! single element is larger) more than `COMMAND_BYTES_MAX` bytes of
//! arguments; a large collection takes several commands. Scores are
//! written as `%.17g` (`inf`, `-inf`), which reads back as the same double.

use crate::values::{self, Visit};
use std::io::{self, Write};
use strata::keyspace::Value;
use strata::persistence::rdb::{Item, KeyRecord};
use strata::util::write_double;

/// A command is ended once its arguments pass this many bytes.
const COMMAND_BYTES_MAX: usize = 4 * 1024 * 1024;

pub struct Resp<'a, W: Write> {
    out: &'a mut W,
    batch: usize,
    replace: bool,
    filtered: bool,
    db: Option<u64>,
    /// The command being gathered: its name and key, and its elements'
    /// arguments already encoded.
    name: &'static [u8],
    key: Vec<u8>,
    args: Vec<u8>,
    /// Arguments in `args`, and elements they make.
    arg_count: usize,
    elements: usize,
    scratch: Vec<u8>,
    /// A score being formatted.
    score: Vec<u8>,
}

/// Appends the decimal digits of `n` (most lengths are one or two digits).
#[inline]
fn push_len(out: &mut Vec<u8>, n: usize) {
    if n < 10 {
        out.push(b'0' + n as u8);
    } else if n < 100 {
        out.extend_from_slice(&[b'0' + (n / 10) as u8, b'0' + (n % 10) as u8]);
    } else {
        crate::quote::push_u64(out, n as u64);
    }
}

/// Appends one bulk string.
#[inline]
fn bulk(out: &mut Vec<u8>, b: &[u8]) {
    out.reserve(b.len() + 16);
    out.push(b'$');
    push_len(out, b.len());
    out.extend_from_slice(b"\r\n");
    out.extend_from_slice(b);
    out.extend_from_slice(b"\r\n");
}

impl<'a, W: Write> Resp<'a, W> {
    pub fn new(out: &'a mut W, batch: usize, replace: bool, filtered: bool) -> Self {
        Resp {
            out,
            batch: batch.max(1),
            replace,
            filtered,
            db: None,
            name: b"",
            key: Vec::new(),
            args: Vec::new(),
            arg_count: 0,
            elements: 0,
            scratch: Vec::new(),
            score: Vec::with_capacity(32),
        }
    }

    /// Writes one whole command.
    fn command(&mut self, args: &[&[u8]]) -> io::Result<()> {
        self.scratch.clear();
        self.scratch.push(b'*');
        push_len(&mut self.scratch, args.len());
        self.scratch.extend_from_slice(b"\r\n");
        for a in args {
            bulk(&mut self.scratch, a);
        }
        self.out.write_all(&self.scratch)
    }

    /// Writes the gathered elements as one `name key args...` command.
    fn flush_elements(&mut self) -> io::Result<()> {
        if self.arg_count == 0 {
            return Ok(());
        }
        self.scratch.clear();
        self.scratch.push(b'*');
        push_len(&mut self.scratch, self.arg_count + 2);
        self.scratch.extend_from_slice(b"\r\n");
        bulk(&mut self.scratch, self.name);
        bulk(&mut self.scratch, &self.key);
        self.out.write_all(&self.scratch)?;
        self.out.write_all(&self.args)?;
        self.args.clear();
        self.arg_count = 0;
        self.elements = 0;
        Ok(())
    }

    /// Counts one element of `args` arguments just appended, and ends the
    /// command when it is full.
    fn added(&mut self, args: usize) -> io::Result<()> {
        self.arg_count += args;
        self.elements += 1;
        if self.elements >= self.batch || self.args.len() >= COMMAND_BYTES_MAX {
            self.flush_elements()?;
        }
        Ok(())
    }
}

impl<W: Write> Visit for Resp<'_, W> {
    fn string(&mut self, b: &[u8]) -> io::Result<()> {
        let key = std::mem::take(&mut self.key);
        let r = self.command(&[b"SET", &key, b]);
        self.key = key;
        r
    }

    fn element(&mut self, b: &[u8]) -> io::Result<()> {
        bulk(&mut self.args, b);
        self.added(1)
    }

    fn pair(&mut self, field: &[u8], value: &[u8]) -> io::Result<()> {
        bulk(&mut self.args, field);
        bulk(&mut self.args, value);
        self.added(2)
    }

    fn scored(&mut self, member: &[u8], score: f64) -> io::Result<()> {
        let mut s = std::mem::take(&mut self.score);
        s.clear();
        write_double(score, &mut s);
        bulk(&mut self.args, &s);
        self.score = s;
        bulk(&mut self.args, member);
        self.added(2)
    }
}

impl<W: Write> crate::walk::Sink for Resp<'_, W> {
    fn record(&mut self, item: &Item) -> io::Result<()> {
        if let Item::Function { code } = item {
            if !self.filtered {
                self.command(&[b"FUNCTION", b"LOAD", b"REPLACE", code])?;
            }
        }
        Ok(())
    }

    fn key(&mut self, k: &KeyRecord) -> io::Result<()> {
        let Some(v) = &k.value else { return Ok(()) };
        if self.db != Some(k.db) {
            self.command(&[b"SELECT", k.db.to_string().as_bytes()])?;
            self.db = Some(k.db);
        }
        self.key.clear();
        self.key.extend_from_slice(&k.key);
        if self.replace {
            self.command(&[b"DEL", &k.key])?;
        }
        self.name = match v {
            Value::List(_) => b"RPUSH",
            Value::Set(_) => b"SADD",
            Value::Hash(_) => b"HSET",
            Value::ZSet(_) => b"ZADD",
            _ => b"SET",
        };
        values::visit(v, self)?;
        self.flush_elements()?;
        if let Some(ms) = k.expire_ms {
            self.command(&[b"PEXPIREAT", &k.key, strata::util::itoa(ms).as_bytes()])?;
        }
        Ok(())
    }
}
