//! Incremental decoder for client requests: RESP multibulk arrays and inline
//! (telnet-style) commands.
//!
//! The decoder keeps its position across calls so that a command arriving in
//! many small reads is scanned once, not once per read. "Need more bytes" is
//! `Ok(None)`, an ordinary outcome; only malformed input is an error, and its
//! text is exactly the `Protocol error: ...` that clients of Redis expect.

use crate::util::split_args;

/// Longest inline command, or multibulk/bulk header line, we wait for.
pub const INLINE_MAX_BYTES: usize = 64 * 1024;
/// Before authentication, arrays longer than this are refused.
pub const UNAUTH_ARGS_MAX: i64 = 10;
/// Before authentication, bulk strings longer than this are refused.
pub const UNAUTH_BULK_BYTES_MAX: i64 = 16 * 1024;
/// Argument slots reserved up front, whatever count a client announces.
const ARGS_PREALLOC_MAX: usize = 1024;

/// A malformed request; the text follows "Protocol error: " and may hold
/// the raw offending byte.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DecodeError(pub Vec<u8>);

impl DecodeError {
    fn new(msg: &str) -> Self {
        DecodeError(msg.as_bytes().to_vec())
    }

    /// The whole error reply text, without the leading '-'.
    pub fn reply_text(&self) -> Vec<u8> {
        let mut t = b"ERR Protocol error: ".to_vec();
        t.extend_from_slice(&self.0);
        t
    }
}

impl std::fmt::Display for DecodeError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Protocol error: {}", String::from_utf8_lossy(&self.0))
    }
}

/// One complete request. Multibulk arguments are byte ranges into the input
/// buffer (no copy); inline arguments had quoting to undo, so they are owned.
#[derive(Debug)]
pub enum Request {
    Multibulk {
        consumed: usize,
    },
    Inline {
        consumed: usize,
        args: Vec<Vec<u8>>,
    },
    /// An empty line or `*0`/`*-1`: consumed, nothing to run.
    Empty {
        consumed: usize,
    },
}

#[derive(Debug, Default)]
pub struct Decoder {
    /// Arguments still to read in the current multibulk (0: at a new request).
    pending_args: i64,
    /// Scan position inside the current request.
    pos: usize,
    /// Argument ranges of the current multibulk request.
    pub ranges: Vec<(usize, usize)>,
    /// Length of the bulk string being waited for, if its header was read.
    bulk_len: Option<usize>,
}

/// Finds the end of a header line the way Redis does: at the first `\r`
/// (the byte after it is skipped unchecked), searching no further than a
/// NUL byte. `None` until a byte follows the `\r`.
fn find_header_end(buf: &[u8], from: usize) -> Option<usize> {
    let hay = &buf[from..];
    let at = hay.iter().position(|&b| b == b'\r' || b == 0)?;
    if hay[at] == 0 || at + 1 >= hay.len() {
        return None;
    }
    Some(from + at)
}

/// Finds the newline ending an inline request; a NUL byte before it hides
/// it, as Redis searches the buffer as a C string.
fn find_inline_end(buf: &[u8]) -> Option<usize> {
    let at = buf.iter().position(|&b| b == b'\n' || b == 0)?;
    (buf[at] == b'\n').then_some(at)
}

/// Parses a header number the way Redis does (strict: no sign on zero
/// padding, no spaces, fits in i64).
fn parse_len(b: &[u8]) -> Option<i64> {
    crate::util::parse_i64(b)
}

impl Decoder {
    pub fn new() -> Self {
        Self::default()
    }

    /// True while a request has been started but not finished.
    pub fn in_progress(&self) -> bool {
        self.pending_args > 0 || self.pos > 0
    }

    /// Tries to decode one request at the start of `buf`. `authed` selects
    /// the strict limits for connections that have not authenticated yet.
    pub fn decode(&mut self, buf: &[u8], authed: bool, bulk_max: u64) -> Result<Option<Request>, DecodeError> {
        if buf.is_empty() {
            return Ok(None);
        }
        if self.pending_args == 0 && self.pos == 0 && buf[0] != b'*' {
            return self.decode_inline(buf);
        }
        self.decode_multibulk(buf, authed, bulk_max)
    }

    fn decode_inline(&mut self, buf: &[u8]) -> Result<Option<Request>, DecodeError> {
        let nl = match find_inline_end(buf) {
            Some(nl) => nl,
            None if buf.len() > INLINE_MAX_BYTES => return Err(DecodeError::new("too big inline request")),
            None => return Ok(None),
        };
        let mut line = &buf[..nl];
        if line.last() == Some(&b'\r') {
            line = &line[..line.len() - 1];
        }
        let args = split_args(line).ok_or_else(|| DecodeError::new("unbalanced quotes in request"))?;
        if args.is_empty() {
            return Ok(Some(Request::Empty { consumed: nl + 1 }));
        }
        Ok(Some(Request::Inline { consumed: nl + 1, args }))
    }

    fn decode_multibulk(&mut self, buf: &[u8], authed: bool, bulk_max: u64) -> Result<Option<Request>, DecodeError> {
        if self.pending_args == 0 {
            // At '*': read the argument count.
            let Some(end) = find_header_end(buf, 1) else {
                if buf.len() > INLINE_MAX_BYTES {
                    return Err(DecodeError::new("too big mbulk count string"));
                }
                return Ok(None);
            };
            let n = match parse_len(&buf[1..end]) {
                Some(n) if n <= i32::MAX as i64 => n,
                _ => return Err(DecodeError::new("invalid multibulk length")),
            };
            if n > UNAUTH_ARGS_MAX && !authed {
                return Err(DecodeError::new("unauthenticated multibulk length"));
            }
            if n <= 0 {
                return Ok(Some(Request::Empty { consumed: end + 2 }));
            }
            self.pending_args = n;
            self.pos = end + 2;
            self.ranges.clear();
            self.ranges.reserve((n as usize).min(ARGS_PREALLOC_MAX));
        }
        while self.pending_args > 0 {
            let len = match self.bulk_len {
                Some(len) => len,
                None => {
                    if self.pos >= buf.len() {
                        return Ok(None);
                    }
                    let Some(end) = find_header_end(buf, self.pos) else {
                        if buf.len() - self.pos > INLINE_MAX_BYTES {
                            return Err(DecodeError::new("too big bulk count string"));
                        }
                        return Ok(None);
                    };
                    if buf[self.pos] != b'$' {
                        return Err(expected_dollar(buf[self.pos]));
                    }
                    let len = match parse_len(&buf[self.pos + 1..end]) {
                        Some(l) if l >= 0 && (l as u64) <= bulk_max => l,
                        _ => return Err(DecodeError::new("invalid bulk length")),
                    };
                    if len > UNAUTH_BULK_BYTES_MAX && !authed {
                        return Err(DecodeError::new("unauthenticated bulk length"));
                    }
                    self.pos = end + 2;
                    self.bulk_len = Some(len as usize);
                    len as usize
                }
            };
            if buf.len() < self.pos + len + 2 {
                return Ok(None);
            }
            // Redis does not check the two bytes after a bulk; neither do we.
            self.ranges.push((self.pos, self.pos + len));
            self.pos += len + 2;
            self.bulk_len = None;
            self.pending_args -= 1;
        }
        let consumed = self.pos;
        self.pos = 0;
        Ok(Some(Request::Multibulk { consumed }))
    }

    /// Bytes the current partial request still needs at least, so the reader
    /// can reserve room for a large bulk in one step.
    pub fn wanted(&self, buffered: usize) -> usize {
        match self.bulk_len {
            Some(len) => (self.pos + len + 2).saturating_sub(buffered),
            None => 0,
        }
    }
}

/// Redis names the unexpected byte, raw, in this error.
fn expected_dollar(got: u8) -> DecodeError {
    let mut m = b"expected '$', got '".to_vec();
    m.push(got);
    m.push(b'\'');
    DecodeError(m)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(d: &Decoder, buf: &[u8]) -> Vec<Vec<u8>> {
        d.ranges.iter().map(|&(a, b)| buf[a..b].to_vec()).collect()
    }

    #[test]
    fn multibulk_in_pieces() {
        let full = b"*2\r\n$3\r\nGET\r\n$3\r\nkey\r\n";
        let mut d = Decoder::new();
        for cut in 1..full.len() {
            assert!(d.decode(&full[..cut], true, 512 << 20).unwrap().is_none());
        }
        match d.decode(full, true, 512 << 20).unwrap() {
            Some(Request::Multibulk { consumed }) => assert_eq!(consumed, full.len()),
            other => panic!("{other:?}"),
        }
        assert_eq!(args(&d, full), vec![b"GET".to_vec(), b"key".to_vec()]);
    }

    #[test]
    fn inline_and_errors() {
        let mut d = Decoder::new();
        match d.decode(b"set a \"b c\"\r\n", true, 100).unwrap() {
            Some(Request::Inline { args, consumed }) => {
                assert_eq!(consumed, 13);
                assert_eq!(args[2], b"b c");
            }
            other => panic!("{other:?}"),
        }
        let e = Decoder::new().decode(b"set \"a\r\n", true, 100).unwrap_err();
        assert_eq!(e.to_string(), "Protocol error: unbalanced quotes in request");
        let e = Decoder::new().decode(b"*1\r\nx3\r\n", true, 100).unwrap_err();
        assert_eq!(e.to_string(), "Protocol error: expected '$', got 'x'");
        let e = Decoder::new().decode(b"*1\r\n$101\r\n", true, 100).unwrap_err();
        assert_eq!(e.to_string(), "Protocol error: invalid bulk length");
        let e = Decoder::new().decode(b"*11\r\n", false, 100).unwrap_err();
        assert_eq!(e.to_string(), "Protocol error: unauthenticated multibulk length");
        assert!(Decoder::new().decode(b"*2147483647\r\n", true, 100).unwrap().is_none());
        let e = Decoder::new().decode(b"*2147483648\r\n", true, 100).unwrap_err();
        assert_eq!(e.to_string(), "Protocol error: invalid multibulk length");
    }
}
