//! The one error type of the RDB decoder: where (byte offset, key), what
//! was being read, and what is wrong, in words a user can act on.
//! The encoder fails only through its `Write`, so it returns `io::Error`.

use std::fmt;

#[derive(Debug, Clone, PartialEq)]
pub enum ErrorKind {
    /// The input ends inside a record.
    Truncated {
        needed: usize,
        available: usize,
    },
    /// Not an RDB file (or payload).
    BadMagic,
    UnsupportedVersion(u16),
    /// A length whose first byte is no valid form.
    BadLength(u8),
    /// A string whose special encoding is unknown.
    BadStringEncoding(u8),
    /// An LZF stream that does not decompress to its announced length.
    Lzf(&'static str),
    /// A record byte that is neither an opcode nor a known object type.
    UnknownType(u8),
    /// Valid data this reader does not load (streams, modules, ...).
    Unsupported(String),
    /// An embedded encoding (listpack, intset, ziplist, zipmap, quicklist)
    /// or a value that is malformed.
    Corrupt(String),
    /// A member or field present twice.
    Duplicate {
        what: &'static str,
        item: Vec<u8>,
    },
    ChecksumMismatch {
        stored: u64,
        computed: u64,
    },
    /// A number outside what it may be (a database index, a count).
    OutOfRange(String),
    /// Bytes after the end of a DUMP payload's value.
    TrailingBytes(usize),
}

#[derive(Debug, Clone, PartialEq)]
pub struct DecodeError {
    /// Byte offset in the input where the problem was found.
    pub offset: usize,
    /// The key whose value was being read, when there was one.
    pub key: Option<Vec<u8>>,
    /// What was being read ("hash listpack", "aux field", ...).
    pub reading: &'static str,
    pub kind: ErrorKind,
}

impl DecodeError {
    pub fn new(offset: usize, reading: &'static str, kind: ErrorKind) -> Self {
        DecodeError { offset, key: None, reading, kind }
    }

    pub(crate) fn with_key(mut self, key: &[u8]) -> Self {
        if self.key.is_none() {
            self.key = Some(key.to_vec());
        }
        self
    }
}

/// A byte string for a message: printable ASCII as is, the rest escaped,
/// long ones cut.
pub(crate) fn show(b: &[u8]) -> String {
    const MAX: usize = 64;
    let mut s = String::new();
    for &c in b.iter().take(MAX) {
        match c {
            b'"' | b'\\' => {
                s.push('\\');
                s.push(c as char)
            }
            0x20..=0x7e => s.push(c as char),
            _ => s.push_str(&format!("\\x{c:02x}")),
        }
    }
    if b.len() > MAX {
        s.push_str(&format!("... ({} bytes)", b.len()));
    }
    s
}

impl fmt::Display for ErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ErrorKind::Truncated { needed, available } => write!(
                f,
                "the data ends too early: {needed} more bytes needed, {available} left (the file is cut short or was still being written)"
            ),
            ErrorKind::BadMagic => write!(f, "this is not an RDB file: it does not start with \"REDIS\" and a four-digit version"),
            ErrorKind::UnsupportedVersion(v) => {
                write!(f, "RDB version {v} is not supported (this reader reads versions 1 to 11)")
            }
            ErrorKind::BadLength(b) => write!(f, "byte 0x{b:02x} does not start a valid length"),
            ErrorKind::BadStringEncoding(b) => write!(f, "string encoding {b} is unknown (0 to 3 are valid)"),
            ErrorKind::Lzf(m) => write!(f, "compressed string is damaged: {m}"),
            ErrorKind::UnknownType(t) => write!(f, "record type {t} is neither an object type nor an opcode"),
            ErrorKind::Unsupported(m) => write!(f, "{m}"),
            ErrorKind::Corrupt(m) => write!(f, "{m}"),
            ErrorKind::Duplicate { what, item } => write!(f, "{what} \"{}\" appears twice", show(item)),
            ErrorKind::ChecksumMismatch { stored, computed } => write!(
                f,
                "checksum mismatch: the file says {stored:#018x}, its bytes give {computed:#018x}; the file is damaged: restore it from another copy"
            ),
            ErrorKind::OutOfRange(m) => write!(f, "{m}"),
            ErrorKind::TrailingBytes(n) => write!(f, "{n} unexpected bytes follow the value"),
        }
    }
}

impl fmt::Display for DecodeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "RDB error at byte {} while reading {}", self.offset, self.reading)?;
        if let Some(k) = &self.key {
            write!(f, " of key \"{}\"", show(k))?;
        }
        write!(f, ": {}", self.kind)
    }
}

impl std::error::Error for DecodeError {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn message_names_offset_key_and_what() {
        let e = DecodeError::new(
            42,
            "hash ziplist",
            ErrorKind::Corrupt("ziplist of 5 bytes is shorter than its header".into()),
        )
        .with_key(b"key:\x0091");
        assert_eq!(
            e.to_string(),
            "RDB error at byte 42 while reading hash ziplist of key \"key:\\x0091\": ziplist of 5 bytes is shorter than its header"
        );
    }
}
