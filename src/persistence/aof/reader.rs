//! Reading the RESP commands of an AOF file (an incremental file, or a base
//! written without the RDB preamble): each command as its arguments, each
//! `#` annotation line (`#TS:<unix seconds>`) as it is, and the exact byte
//! offset where a command starts and ends.
//!
//! Invariant: the reader allocates only for arguments it has actually read,
//! never for a count or length a file merely announces; an error names the
//! offset of the first byte of the item it could not read, which is also
//! the end of the last complete one.

use std::fmt;

/// Longest `*<count>` or `$<len>` line read (bytes, CRLF included).
const HEADER_BYTES_MAX: usize = 128;
/// Longest annotation line (bytes, CRLF included).
pub const ANNOTATION_BYTES_MAX: usize = 1024;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Item {
    /// A command; its arguments are in `CommandReader::args`.
    Command,
    /// A `#...` line (without the `#` and the line end).
    Annotation,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ReadError {
    /// The file ends inside the item that starts at `offset`.
    Truncated { offset: usize },
    /// The bytes at `at` cannot be a command (the item starts at `offset`).
    Format { offset: usize, at: usize, what: &'static str },
}

impl ReadError {
    /// Start of the item that could not be read: everything before it is
    /// made of complete items.
    pub fn offset(&self) -> usize {
        match self {
            ReadError::Truncated { offset } | ReadError::Format { offset, .. } => *offset,
        }
    }
}

impl fmt::Display for ReadError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ReadError::Truncated { offset } => write!(f, "the file ends inside the command at offset {offset}"),
            ReadError::Format { at, what, .. } => write!(f, "{what} at offset {at}"),
        }
    }
}

pub struct CommandReader<'a> {
    bytes: &'a [u8],
    pos: usize,
    /// Start of the item last returned.
    start: usize,
    args: Vec<&'a [u8]>,
    annotation: &'a [u8],
}

impl<'a> CommandReader<'a> {
    pub fn new(bytes: &'a [u8]) -> Self {
        Self::at(bytes, 0)
    }

    /// A reader starting at `offset` (after an RDB preamble, say).
    pub fn at(bytes: &'a [u8], offset: usize) -> Self {
        CommandReader { bytes, pos: offset, start: offset, args: Vec::new(), annotation: &[] }
    }

    /// Offset just after the last complete item.
    pub fn offset(&self) -> usize {
        self.pos
    }

    /// Offset where the item last returned starts.
    pub fn item_start(&self) -> usize {
        self.start
    }

    /// Arguments of the command last returned.
    pub fn args(&self) -> &[&'a [u8]] {
        &self.args
    }

    /// The annotation last returned (without `#` and line end).
    pub fn annotation(&self) -> &'a [u8] {
        self.annotation
    }

    /// The next item, `None` at the clean end of the bytes.
    #[allow(clippy::should_implement_trait)]
    pub fn next(&mut self) -> Result<Option<Item>, ReadError> {
        let start = self.pos;
        self.start = start;
        let Some(&first) = self.bytes.get(start) else { return Ok(None) };
        match first {
            b'#' => {
                let (line, next) = self.line(start, ANNOTATION_BYTES_MAX)?;
                self.annotation = &line[1..];
                self.pos = next;
                Ok(Some(Item::Annotation))
            }
            b'*' => {
                let (line, mut pos) = self.line(start, HEADER_BYTES_MAX)?;
                let count = number(&line[1..]).filter(|&n| n >= 1).ok_or(ReadError::Format {
                    offset: start,
                    at: start,
                    what: "invalid argument count",
                })?;
                self.args.clear();
                for _ in 0..count {
                    if pos >= self.bytes.len() {
                        return Err(ReadError::Truncated { offset: start });
                    }
                    if self.bytes[pos] != b'$' {
                        return Err(ReadError::Format { offset: start, at: pos, what: "expected '$' (a bulk string)" });
                    }
                    let (line, data) = self.line(pos, HEADER_BYTES_MAX)?;
                    let len = number(&line[1..]).filter(|&n| n >= 0).ok_or(ReadError::Format {
                        offset: start,
                        at: pos,
                        what: "invalid bulk length",
                    })? as u64;
                    let end = (data as u64).saturating_add(len);
                    if end.saturating_add(2) > self.bytes.len() as u64 {
                        return Err(ReadError::Truncated { offset: start });
                    }
                    let end = end as usize;
                    if &self.bytes[end..end + 2] != b"\r\n" {
                        return Err(ReadError::Format {
                            offset: start,
                            at: end,
                            what: "expected CRLF after a bulk string",
                        });
                    }
                    self.args.push(&self.bytes[data..end]);
                    pos = end + 2;
                }
                self.pos = pos;
                Ok(Some(Item::Command))
            }
            _ => Err(ReadError::Format { offset: start, at: start, what: "expected '*' (a command) or '#'" }),
        }
    }

    /// The line starting at `at` (without its CRLF) and the offset after it.
    fn line(&self, at: usize, max: usize) -> Result<(&'a [u8], usize), ReadError> {
        let rest = &self.bytes[at..];
        let window = &rest[..rest.len().min(max)];
        match window.iter().position(|&b| b == b'\n') {
            Some(nl) if nl >= 1 && window[nl - 1] == b'\r' => Ok((&rest[..nl - 1], at + nl + 1)),
            Some(nl) => Err(ReadError::Format { offset: self.start, at: at + nl, what: "line not ended by CRLF" }),
            None if rest.len() < max => Err(ReadError::Truncated { offset: self.start }),
            None => Err(ReadError::Format { offset: self.start, at, what: "line too long" }),
        }
    }
}

fn number(b: &[u8]) -> Option<i64> {
    crate::util::parse_i64(b)
}

/// The unix time of a `#TS:<seconds>` annotation.
pub fn timestamp(annotation: &[u8]) -> Option<i64> {
    annotation.strip_prefix(b"TS:").and_then(number)
}

#[cfg(test)]
mod tests {
    use super::*;

    const SET: &[u8] = b"*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$2\r\nv1\r\n";

    #[test]
    fn reads_commands_and_annotations() {
        let mut bytes = b"#TS:1700000000\r\n".to_vec();
        bytes.extend_from_slice(SET);
        bytes.extend_from_slice(b"*1\r\n$4\r\nPING\r\n");
        let mut r = CommandReader::new(&bytes);
        assert_eq!(r.next().unwrap(), Some(Item::Annotation));
        assert_eq!(timestamp(r.annotation()), Some(1_700_000_000));
        assert_eq!(r.next().unwrap(), Some(Item::Command));
        assert_eq!(r.args(), [b"SET".as_ref(), b"k", b"v1"]);
        assert_eq!(r.next().unwrap(), Some(Item::Command));
        assert_eq!(r.next().unwrap(), None);
        assert_eq!(r.offset(), bytes.len());
    }

    #[test]
    fn every_cut_inside_a_command_is_a_truncation_at_its_start() {
        let mut bytes = SET.to_vec();
        bytes.extend_from_slice(SET);
        for cut in SET.len() + 1..bytes.len() {
            let mut r = CommandReader::new(&bytes[..cut]);
            assert_eq!(r.next().unwrap(), Some(Item::Command));
            assert_eq!(r.next(), Err(ReadError::Truncated { offset: SET.len() }), "cut at {cut}");
        }
    }

    #[test]
    fn damage_is_a_format_error_with_its_place() {
        let mut bad = SET.to_vec();
        bad[4] = b'x';
        assert!(matches!(CommandReader::new(&bad).next(), Err(ReadError::Format { at: 4, .. })));
        let mut bad = SET.to_vec();
        bad[12] = b'!';
        assert!(matches!(CommandReader::new(&bad).next(), Err(ReadError::Format { at: 11, .. })));
        assert!(matches!(CommandReader::new(b"*0\r\n").next(), Err(ReadError::Format { .. })));
        assert!(matches!(CommandReader::new(b"hello").next(), Err(ReadError::Format { .. })));
        // A huge announced length in a short file is only a truncation.
        assert_eq!(CommandReader::new(b"*1\r\n$99999999999\r\nab").next(), Err(ReadError::Truncated { offset: 0 }));
    }
}
