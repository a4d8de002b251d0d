//! A cursor over the input bytes that reads the RDB primitives (lengths,
//! strings in their four encodings, fixed-width numbers) with every bound
//! checked, and makes errors that carry the offset and what was being read.
//!
//! Invariant: no read allocates more than the input that remains can
//! justify (a string's length is checked against the bytes left, an LZF
//! string's against 88 times its compressed size).

use super::error::{DecodeError, ErrorKind};
use super::format::{enc, len};
use super::lzf;
use crate::util::{itoa, Itoa};

pub(crate) type Result<T> = std::result::Result<T, DecodeError>;

/// A string as read: borrowed from the input, decompressed, or an integer
/// encoding formatted on the stack.
pub(crate) enum Str<'a> {
    Slice(&'a [u8]),
    Owned(Vec<u8>),
    Int(i64, Itoa),
}

impl Str<'_> {
    #[inline]
    pub fn bytes(&self) -> &[u8] {
        match self {
            Str::Slice(s) => s,
            Str::Owned(v) => v,
            Str::Int(_, i) => i.as_bytes(),
        }
    }

    pub fn into_vec(self) -> Vec<u8> {
        match self {
            Str::Owned(v) => v,
            other => other.bytes().to_vec(),
        }
    }
}

/// A length or, for strings, a special encoding.
enum LenOrEnc {
    Len(u64),
    Enc(u8),
}

pub(crate) struct Input<'a> {
    buf: &'a [u8],
    pub pos: usize,
    /// What is being read, for error messages.
    pub what: &'static str,
}

impl<'a> Input<'a> {
    pub fn new(buf: &'a [u8]) -> Self {
        Input { buf, pos: 0, what: "header" }
    }

    pub fn remaining(&self) -> usize {
        self.buf.len() - self.pos
    }

    pub fn bytes_from(&self, start: usize) -> &'a [u8] {
        &self.buf[start..self.pos]
    }

    pub fn err(&self, at: usize, kind: ErrorKind) -> DecodeError {
        DecodeError::new(at, self.what, kind)
    }

    pub fn corrupt(&self, at: usize, msg: impl Into<String>) -> DecodeError {
        self.err(at, ErrorKind::Corrupt(msg.into()))
    }

    #[inline]
    pub fn take(&mut self, n: usize) -> Result<&'a [u8]> {
        if n > self.remaining() {
            return Err(self.err(self.pos, ErrorKind::Truncated { needed: n, available: self.remaining() }));
        }
        let s = &self.buf[self.pos..self.pos + n];
        self.pos += n;
        Ok(s)
    }

    #[inline]
    pub fn u8(&mut self) -> Result<u8> {
        match self.buf.get(self.pos) {
            Some(&b) => {
                self.pos += 1;
                Ok(b)
            }
            None => Err(self.err(self.pos, ErrorKind::Truncated { needed: 1, available: 0 })),
        }
    }

    #[inline]
    pub fn array<const N: usize>(&mut self) -> Result<[u8; N]> {
        let s = self.take(N)?;
        let mut a = [0u8; N];
        a.copy_from_slice(s);
        Ok(a)
    }

    fn len_or_enc(&mut self) -> Result<LenOrEnc> {
        let at = self.pos;
        let first = self.u8()?;
        Ok(match first >> 6 {
            len::BITS_6 => LenOrEnc::Len((first & 0x3F) as u64),
            len::BITS_14 => LenOrEnc::Len((((first & 0x3F) as u64) << 8) | self.u8()? as u64),
            len::ENCODED => LenOrEnc::Enc(first & 0x3F),
            _ => match first {
                len::FIRST_32 => LenOrEnc::Len(u32::from_be_bytes(self.array()?) as u64),
                len::FIRST_64 => LenOrEnc::Len(u64::from_be_bytes(self.array()?)),
                _ => return Err(self.err(at, ErrorKind::BadLength(first))),
            },
        })
    }

    /// A length (no special encodings allowed).
    #[inline]
    pub fn len(&mut self) -> Result<u64> {
        let at = self.pos;
        match self.len_or_enc()? {
            LenOrEnc::Len(n) => Ok(n),
            LenOrEnc::Enc(_) => Err(self.err(at, ErrorKind::BadLength(self.buf[at]))),
        }
    }

    /// Reads a string in any of its encodings.
    #[inline]
    pub fn string(&mut self) -> Result<Str<'a>> {
        let at = self.pos;
        match self.len_or_enc()? {
            LenOrEnc::Len(n) => {
                let n = self.checked_len(at, n)?;
                Ok(Str::Slice(self.take(n)?))
            }
            LenOrEnc::Enc(e) => self.encoded(at, e),
        }
    }

    fn checked_len(&self, at: usize, n: u64) -> Result<usize> {
        if n > self.remaining() as u64 {
            return Err(self.err(
                at,
                ErrorKind::Truncated { needed: usize::try_from(n).unwrap_or(usize::MAX), available: self.remaining() },
            ));
        }
        Ok(n as usize)
    }

    fn encoded(&mut self, at: usize, e: u8) -> Result<Str<'a>> {
        let v = match e {
            enc::INT8 => self.u8()? as i8 as i64,
            enc::INT16 => i16::from_le_bytes(self.array()?) as i64,
            enc::INT32 => i32::from_le_bytes(self.array()?) as i64,
            enc::LZF => return self.lzf().map(Str::Owned),
            _ => return Err(self.err(at, ErrorKind::BadStringEncoding(e))),
        };
        Ok(Str::Int(v, itoa(v)))
    }

    fn lzf(&mut self) -> Result<Vec<u8>> {
        let at = self.pos;
        let clen = self.len()?;
        let ulen = self.len()?;
        let clen = self.checked_len(at, clen)?;
        if ulen > (clen as u64).saturating_mul(lzf::MAX_EXPANSION as u64) {
            return Err(self.err(at, ErrorKind::Lzf("announced length is more than the compressed data can hold")));
        }
        let data = self.take(clen)?;
        lzf::decompress(data, ulen as usize).map_err(|m| self.err(at, ErrorKind::Lzf(m)))
    }

    /// Skips a string without building it.
    pub fn skip_string(&mut self) -> Result<()> {
        let at = self.pos;
        match self.len_or_enc()? {
            LenOrEnc::Len(n) => {
                let n = self.checked_len(at, n)?;
                self.take(n).map(|_| ())
            }
            LenOrEnc::Enc(enc::LZF) => {
                let clen = self.len()?;
                self.len()?;
                let clen = self.checked_len(at, clen)?;
                self.take(clen).map(|_| ())
            }
            LenOrEnc::Enc(e) => self.encoded(at, e).map(|_| ()),
        }
    }

    /// A fixed 8-byte little-endian number (millisecond expiry).
    pub fn u64_le(&mut self) -> Result<u64> {
        Ok(u64::from_le_bytes(self.array()?))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lengths_in_every_form() {
        let cases: &[(&[u8], u64)] = &[
            (&[0x00], 0),
            (&[0x3F], 63),
            (&[0x40, 0x40], 64),
            (&[0x7F, 0xFF], 16383),
            (&[0x80, 0, 0, 0x40, 0], 16384),
            (&[0x81, 1, 0, 0, 0, 0, 0, 0, 0], 1 << 56),
        ];
        for (b, v) in cases {
            let mut i = Input::new(b);
            assert_eq!(i.len().unwrap(), *v);
            assert_eq!(i.remaining(), 0);
        }
        assert!(matches!(Input::new(&[0x82]).len().unwrap_err().kind, ErrorKind::BadLength(0x82)));
        assert!(matches!(Input::new(&[0x80, 0]).len().unwrap_err().kind, ErrorKind::Truncated { .. }));
    }

    #[test]
    fn strings_announcing_more_than_is_there_allocate_nothing() {
        let mut i = Input::new(&[0x81, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, b'x']);
        assert!(matches!(i.string().err().unwrap().kind, ErrorKind::Truncated { .. }));
        // LZF: 1 compressed byte cannot make 4 GB.
        let mut i = Input::new(&[0xC3, 0x01, 0x80, 0xFF, 0xFF, 0xFF, 0xFF, 0x00]);
        assert!(matches!(i.string().err().unwrap().kind, ErrorKind::Lzf(_)));
    }

    #[test]
    fn integer_encodings() {
        let mut i = Input::new(&[0xC0, 0x80, 0xC1, 0x09, 0x03, 0xC2, 0xFF, 0xFF, 0xFF, 0x7F]);
        assert_eq!(i.string().unwrap().bytes(), b"-128");
        assert_eq!(i.string().unwrap().bytes(), b"777");
        assert_eq!(i.string().unwrap().bytes(), b"2147483647");
        assert!(matches!(Input::new(&[0xC5]).string().err().unwrap().kind, ErrorKind::BadStringEncoding(5)));
    }
}
