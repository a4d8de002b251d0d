//! Reply writer: encodes replies straight into a client's output buffer in
//! RESP2 or RESP3, whichever the client negotiated.
//!
//! Invariant: every aggregate header written here is followed by exactly the
//! announced number of elements (maps count pairs); `Deferred` headers are
//! patched before the buffer is flushed.

use crate::util::{itoa, write_double};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Proto {
    #[default]
    Resp2,
    Resp3,
}

/// A header whose element count is only known after the elements.
pub struct Deferred {
    at: usize,
    kind: u8,
}

#[derive(Debug, Default)]
pub struct ReplyBuf {
    pub buf: Vec<u8>,
    pub proto: Proto,
    /// Error codes (first word of each error reply) written since the last
    /// `take_errors`, for errorstats.
    pub errors: Vec<String>,
}

impl ReplyBuf {
    pub fn new(proto: Proto) -> Self {
        ReplyBuf { buf: Vec::with_capacity(256), proto, errors: Vec::new() }
    }

    #[inline]
    pub fn resp3(&self) -> bool {
        self.proto == Proto::Resp3
    }

    #[inline]
    fn header(&mut self, kind: u8, n: i64) {
        self.buf.push(kind);
        self.buf.extend_from_slice(itoa(n).as_bytes());
        self.buf.extend_from_slice(b"\r\n");
    }

    pub fn raw(&mut self, bytes: &[u8]) {
        self.buf.extend_from_slice(bytes);
    }

    #[inline]
    pub fn ok(&mut self) {
        self.buf.extend_from_slice(b"+OK\r\n");
    }

    pub fn simple(&mut self, s: &str) {
        self.buf.push(b'+');
        self.buf.extend_from_slice(s.as_bytes());
        self.buf.extend_from_slice(b"\r\n");
    }

    /// An error reply; `msg` carries its code ("ERR ...", "WRONGTYPE ...").
    /// Line breaks inside would break the protocol, so they become spaces.
    pub fn error(&mut self, msg: &str) {
        self.error_bytes(msg.as_bytes());
    }

    pub fn error_bytes(&mut self, msg: &[u8]) {
        self.buf.push(b'-');
        self.buf.extend(msg.iter().map(|&c| if c == b'\r' || c == b'\n' { b' ' } else { c }));
        self.buf.extend_from_slice(b"\r\n");
        let code = msg.split(|&c| c == b' ').next().unwrap_or(b"ERR");
        self.errors.push(String::from_utf8_lossy(code).into_owned());
    }

    #[inline]
    pub fn int(&mut self, n: i64) {
        self.header(b':', n);
    }

    #[inline]
    pub fn bulk(&mut self, b: &[u8]) {
        let n = b.len();
        self.buf.reserve(n + 16);
        if n < 10 {
            // The common short element: its header is four fixed bytes.
            self.buf.extend_from_slice(&[b'$', b'0' + n as u8, b'\r', b'\n']);
        } else {
            self.header(b'$', n as i64);
        }
        self.buf.extend_from_slice(b);
        self.buf.extend_from_slice(b"\r\n");
    }

    /// An integer as a bulk string (its decimal text), formatted on the
    /// stack: for values stored as integers (listpack entries).
    #[inline]
    pub fn bulk_int(&mut self, n: i64) {
        let s = itoa(n);
        self.bulk(s.as_bytes());
    }

    pub fn bulk_str(&mut self, s: &str) {
        self.bulk(s.as_bytes());
    }

    /// A missing value: `$-1` in RESP2, `_` in RESP3.
    #[inline]
    pub fn null(&mut self) {
        if self.resp3() {
            self.buf.extend_from_slice(b"_\r\n");
        } else {
            self.buf.extend_from_slice(b"$-1\r\n");
        }
    }

    /// A missing aggregate: `*-1` in RESP2, `_` in RESP3.
    pub fn null_array(&mut self) {
        if self.resp3() {
            self.buf.extend_from_slice(b"_\r\n");
        } else {
            self.buf.extend_from_slice(b"*-1\r\n");
        }
    }

    #[inline]
    pub fn array(&mut self, n: usize) {
        self.header(b'*', n as i64);
    }

    /// A map of `n` pairs: `%n` in RESP3, a flat array of 2n in RESP2.
    pub fn map(&mut self, n: usize) {
        if self.resp3() {
            self.header(b'%', n as i64);
        } else {
            self.header(b'*', 2 * n as i64);
        }
    }

    /// A set: `~n` in RESP3, an array in RESP2.
    pub fn set(&mut self, n: usize) {
        let kind = if self.resp3() { b'~' } else { b'*' };
        self.header(kind, n as i64);
    }

    /// Out-of-band data: `>n` in RESP3, an array in RESP2.
    pub fn push(&mut self, n: usize) {
        let kind = if self.resp3() { b'>' } else { b'*' };
        self.header(kind, n as i64);
    }

    /// A double: `,` in RESP3, a bulk string in RESP2 (Redis 7.0 formats
    /// with `%.17g`).
    pub fn double(&mut self, d: f64) {
        if self.resp3() {
            self.buf.push(b',');
            write_double(d, &mut self.buf);
            self.buf.extend_from_slice(b"\r\n");
        } else {
            // Format in place, then put the length header in front of the
            // few bytes written.
            let start = self.buf.len();
            write_double(d, &mut self.buf);
            let len = self.buf.len() - start;
            let mut head = [0u8; 8];
            head[0] = b'$';
            let digits = itoa(len as i64);
            let n = 1 + digits.as_bytes().len();
            head[1..n].copy_from_slice(digits.as_bytes());
            head[n..n + 2].copy_from_slice(b"\r\n");
            self.buf.splice(start..start, head[..n + 2].iter().copied());
            self.buf.extend_from_slice(b"\r\n");
        }
    }

    pub fn boolean(&mut self, b: bool) {
        if self.resp3() {
            self.buf.extend_from_slice(if b { b"#t\r\n" } else { b"#f\r\n" });
        } else {
            self.int(b as i64);
        }
    }

    /// Verbatim text (`=` with a 3-letter format) in RESP3, bulk in RESP2.
    pub fn verbatim(&mut self, text: &[u8], format: &str) {
        if self.resp3() {
            self.header(b'=', (text.len() + 4) as i64);
            self.buf.extend_from_slice(format.as_bytes());
            self.buf.push(b':');
            self.buf.extend_from_slice(text);
            self.buf.extend_from_slice(b"\r\n");
        } else {
            self.bulk(text);
        }
    }

    pub fn bulks<I, B>(&mut self, items: I)
    where
        I: ExactSizeIterator<Item = B>,
        B: AsRef<[u8]>,
    {
        self.array(items.len());
        for b in items {
            self.bulk(b.as_ref());
        }
    }

    /// Starts an aggregate whose length is not known yet (`kind` is `*`,
    /// `%`, `~`); finish it with `end_deferred`.
    pub fn begin_deferred(&mut self, kind: u8) -> Deferred {
        let kind = match (kind, self.resp3()) {
            (b'%', false) | (b'~', false) => kind | 0x80,
            _ => kind,
        };
        Deferred { at: self.buf.len(), kind }
    }

    pub fn end_deferred(&mut self, d: Deferred, n: usize) {
        let (kind, count) = match d.kind {
            k if k == (b'%' | 0x80) => (b'*', 2 * n),
            k if k == (b'~' | 0x80) => (b'*', n),
            k => (k, n),
        };
        let mut h = vec![kind];
        h.extend_from_slice(itoa(count as i64).as_bytes());
        h.extend_from_slice(b"\r\n");
        self.buf.splice(d.at..d.at, h);
    }

    pub fn take_errors(&mut self) -> Vec<String> {
        std::mem::take(&mut self.errors)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn resp2_and_resp3_forms() {
        let mut r = ReplyBuf::new(Proto::Resp2);
        r.map(1);
        r.bulk(b"a");
        r.double(1.5);
        r.null();
        assert_eq!(r.buf, b"*2\r\n$1\r\na\r\n$3\r\n1.5\r\n$-1\r\n");
        let mut r = ReplyBuf::new(Proto::Resp3);
        r.map(1);
        r.bulk(b"a");
        r.double(1.5);
        r.null();
        assert_eq!(r.buf, b"%1\r\n$1\r\na\r\n,1.5\r\n_\r\n");
    }

    #[test]
    fn deferred_headers() {
        let mut r = ReplyBuf::new(Proto::Resp2);
        r.int(7);
        let d = r.begin_deferred(b'%');
        r.bulk(b"k");
        r.bulk(b"v");
        r.end_deferred(d, 1);
        assert_eq!(r.buf, b":7\r\n*2\r\n$1\r\nk\r\n$1\r\nv\r\n");
    }
}
