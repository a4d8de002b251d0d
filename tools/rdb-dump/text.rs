//! The text format: for people reading a snapshot. One header line per key
//! (database, quoted name, type, encoding once loaded, stored type, size,
//! expiry), then its contents indented, one element per line. Without
//! filters the file's own records come too: `# RDB version`, `aux` fields,
//! `function` libraries and the end record.
//!
//! Invariant: every byte string is quoted by `quote::text`, so one output
//! line is one item whatever the bytes.

use crate::filter::type_name;
use crate::quote;
use crate::values::{self, Visit};
use std::io::{self, Write};
use strata::persistence::rdb::format::ty;
use strata::persistence::rdb::{Item, KeyRecord};

/// Bytes gathered before they are handed to the output.
const CHUNK_BYTES: usize = 64 * 1024;

pub struct Text<'a, W: Write> {
    out: &'a mut W,
    /// Keys only: the file's other records are left out.
    filtered: bool,
    buf: Vec<u8>,
}

impl<'a, W: Write> Text<'a, W> {
    pub fn new(out: &'a mut W, filtered: bool) -> Self {
        Text { out, filtered, buf: Vec::with_capacity(CHUNK_BYTES * 2) }
    }

    fn flush_if_full(&mut self) -> io::Result<()> {
        if self.buf.len() >= CHUNK_BYTES {
            self.out.write_all(&self.buf)?;
            self.buf.clear();
        }
        Ok(())
    }

    fn end_line(&mut self) -> io::Result<()> {
        self.buf.push(b'\n');
        self.flush_if_full()
    }
}

impl<W: Write> Visit for Text<'_, W> {
    fn string(&mut self, b: &[u8]) -> io::Result<()> {
        self.buf.extend_from_slice(b"  ");
        quote::text(&mut self.buf, b);
        self.end_line()
    }

    fn element(&mut self, b: &[u8]) -> io::Result<()> {
        self.string(b)
    }

    fn pair(&mut self, field: &[u8], value: &[u8]) -> io::Result<()> {
        self.buf.extend_from_slice(b"  ");
        quote::text(&mut self.buf, field);
        self.buf.extend_from_slice(b" => ");
        quote::text(&mut self.buf, value);
        self.end_line()
    }

    fn scored(&mut self, member: &[u8], score: f64) -> io::Result<()> {
        self.buf.extend_from_slice(b"  ");
        quote::text(&mut self.buf, member);
        self.buf.push(b' ');
        self.buf.extend_from_slice(quote::score(score).as_bytes());
        self.end_line()
    }
}

impl<W: Write> crate::walk::Sink for Text<'_, W> {
    fn start(&mut self, version: u16) -> io::Result<()> {
        if !self.filtered {
            writeln!(self.buf, "# RDB version {version}")?;
        }
        Ok(())
    }

    fn record(&mut self, item: &Item) -> io::Result<()> {
        if self.filtered {
            if matches!(item, Item::End { .. }) {
                self.out.write_all(&self.buf)?;
                self.buf.clear();
            }
            return Ok(());
        }
        match item {
            Item::Aux { key, value } => {
                self.buf.extend_from_slice(b"aux ");
                quote::text(&mut self.buf, key);
                self.buf.push(b' ');
                quote::text(&mut self.buf, value);
                self.end_line()?;
            }
            Item::Function { code } => {
                self.buf.extend_from_slice(b"function ");
                quote::text(&mut self.buf, code);
                self.end_line()?;
            }
            Item::ModuleAux { module, when } => {
                let phase = if *when == 1 { "before the keys" } else { "after the keys" };
                writeln!(self.buf, "module-aux {module} ({phase}; its data is not shown)")?;
            }
            Item::End { checksum } => {
                writeln!(self.buf, "# end of snapshot: {}", crate::checksum_text(*checksum))?;
                self.out.write_all(&self.buf)?;
                self.buf.clear();
            }
            // Every key line names its database.
            Item::SelectDb(_) | Item::ResizeDb { .. } | Item::Key(_) | Item::EmptyKey { .. } => {}
        }
        Ok(())
    }

    fn key(&mut self, k: &KeyRecord) -> io::Result<()> {
        write!(self.buf, "db {} ", k.db)?;
        quote::text(&mut self.buf, &k.key);
        let Some(v) = &k.value else {
            writeln!(self.buf, " {} ({})", type_name(k.type_code), ty::name(k.type_code))?;
            return self.flush_if_full();
        };
        write!(self.buf, " {} {} ({})", v.type_name(), v.encoding(), ty::name(k.type_code))?;
        let n = values::size(v);
        let (one, many) = values::unit(v);
        write!(self.buf, ", {n} {}", if n == 1 { one } else { many })?;
        if let Some(ms) = k.expire_ms {
            write!(self.buf, ", expires {} ({ms})", quote::iso_utc(ms))?;
        }
        self.end_line()?;
        values::visit(v, self)
    }

    fn empty_key(&mut self, db: u64, key: &[u8], type_code: u8) -> io::Result<()> {
        write!(self.buf, "db {db} ")?;
        quote::text(&mut self.buf, key);
        write!(
            self.buf,
            " empty {} ({}): skipped, as Redis does not load empty collections",
            type_name(type_code),
            ty::name(type_code)
        )?;
        self.end_line()
    }
}

impl<W: Write> Drop for Text<'_, W> {
    fn drop(&mut self) {
        // After a decoding error, what was gathered before it still goes
        // out, so the keys read before the damage are all printed (on
        // success the end record has written everything).
        let _ = self.out.write_all(&self.buf);
    }
}
