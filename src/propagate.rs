//! The one write path: every change to the keyspace leaves the server here,
//! encoded once as RESP, for the AOF and replicas to consume.
//!
//! Invariants: a `SELECT` precedes any write whose database differs from the
//! previous write's; relative expiries never reach this point (commands
//! rewrite them to absolute `PXAT`/`PEXPIREAT` first); `offset` equals the
//! total number of bytes ever appended.

use crate::util::itoa;

/// One command to propagate: database and arguments.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Op {
    pub db: usize,
    pub args: Vec<Vec<u8>>,
}

#[derive(Debug, Default)]
pub struct Propagator {
    /// Encoded writes not yet taken by the consumers.
    pub buf: Vec<u8>,
    /// Database of the last write encoded (None: next write selects).
    last_db: Option<usize>,
    /// Total bytes ever encoded (the replication offset to be).
    pub offset: u64,
    /// Whether any consumer wants the bytes; with none, nothing is kept.
    pub enabled: bool,
}

pub fn encode_command(out: &mut Vec<u8>, args: &[impl AsRef<[u8]>]) {
    out.push(b'*');
    out.extend_from_slice(itoa(args.len() as i64).as_bytes());
    out.extend_from_slice(b"\r\n");
    for a in args {
        let a = a.as_ref();
        out.push(b'$');
        out.extend_from_slice(itoa(a.len() as i64).as_bytes());
        out.extend_from_slice(b"\r\n");
        out.extend_from_slice(a);
        out.extend_from_slice(b"\r\n");
    }
}

impl Propagator {
    /// Appends the ops of one top-level call; more than one is wrapped in
    /// MULTI/EXEC so consumers apply them atomically.
    pub fn emit(&mut self, ops: &[Op]) {
        if ops.is_empty() || !self.enabled {
            return;
        }
        let start = self.buf.len();
        let wrap = ops.len() > 1;
        if wrap {
            self.select(ops[0].db);
            encode_command(&mut self.buf, &[b"MULTI"]);
        }
        for op in ops {
            self.select(op.db);
            encode_command(&mut self.buf, &op.args);
        }
        if wrap {
            encode_command(&mut self.buf, &[b"EXEC"]);
        }
        self.offset += (self.buf.len() - start) as u64;
    }

    fn select(&mut self, db: usize) {
        if self.last_db != Some(db) {
            encode_command(&mut self.buf, &[b"SELECT".as_ref(), itoa(db as i64).as_bytes()]);
            self.last_db = Some(db);
        }
    }

    /// Forgets the selected database (a new consumer starts from scratch).
    pub fn reset_db(&mut self) {
        self.last_db = None;
    }

    /// Takes the encoded bytes.
    pub fn take(&mut self) -> Vec<u8> {
        std::mem::take(&mut self.buf)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn select_once_and_wrap() {
        let mut p = Propagator { enabled: true, ..Default::default() };
        let op = |db, a: &[&str]| Op { db, args: a.iter().map(|s| s.as_bytes().to_vec()).collect() };
        p.emit(&[op(0, &["SET", "a", "1"])]);
        p.emit(&[op(0, &["DEL", "a"])]);
        p.emit(&[op(1, &["DEL", "x"]), op(1, &["SET", "b", "2"])]);
        let s = String::from_utf8(p.take()).unwrap();
        assert_eq!(s.matches("SELECT").count(), 2);
        assert!(s.contains("*1\r\n$5\r\nMULTI\r\n"));
        assert_eq!(p.offset as usize, s.len());
    }
}
