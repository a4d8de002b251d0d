//! CRC-64 "Jones" as RDB files and DUMP payloads use it (docs/formats/rdb.md,
//! "Checksum"), and a writer that checksums what passes through it so a
//! snapshot is checksummed as it streams out.
//!
//! Invariant: `CrcWriter::crc()` is the CRC of exactly the bytes accepted by
//! the inner writer so far.

use crc::{Crc, Table, CRC_64_REDIS};
use std::io::{self, Write};

/// Slice-by-16 tables: several GB/s, far above what decoding needs.
static CRC64: Crc<u64, Table<16>> = Crc::<u64, Table<16>>::new(&CRC_64_REDIS);

/// The CRC-64 of `bytes`.
pub fn crc64(bytes: &[u8]) -> u64 {
    CRC64.checksum(bytes)
}

/// A running CRC-64.
pub struct Crc64 {
    digest: crc::Digest<'static, u64, Table<16>>,
}

impl Default for Crc64 {
    fn default() -> Self {
        Crc64 { digest: CRC64.digest() }
    }
}

impl Crc64 {
    pub fn update(&mut self, bytes: &[u8]) {
        self.digest.update(bytes);
    }

    /// The CRC of everything given so far (the running state is kept).
    pub fn value(&self) -> u64 {
        self.digest.clone().finalize()
    }
}

/// Passes writes to `inner`, checksumming every byte it accepted.
pub struct CrcWriter<W: Write> {
    inner: W,
    crc: Crc64,
    written: u64,
}

impl<W: Write> CrcWriter<W> {
    pub fn new(inner: W) -> Self {
        CrcWriter { inner, crc: Crc64::default(), written: 0 }
    }

    pub fn crc(&self) -> u64 {
        self.crc.value()
    }

    /// Bytes written so far.
    pub fn written(&self) -> u64 {
        self.written
    }

    pub fn get_ref(&self) -> &W {
        &self.inner
    }

    pub fn into_inner(self) -> W {
        self.inner
    }
}

impl<W: Write> Write for CrcWriter<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let n = self.inner.write(buf)?;
        self.crc.update(&buf[..n]);
        self.written += n as u64;
        Ok(n)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.inner.flush()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn check_value_of_the_jones_variant() {
        assert_eq!(crc64(b"123456789"), 0xe9c6d914c4b8d9ca);
        assert_eq!(crc64(b""), 0);
    }

    #[test]
    fn writer_matches_one_shot_over_any_split() {
        let data: Vec<u8> = (0..5000u32).map(|i| (i * 31 % 251) as u8).collect();
        for split in [0, 1, 7, 4096, 4999, 5000] {
            let mut w = CrcWriter::new(Vec::new());
            w.write_all(&data[..split]).unwrap();
            w.write_all(&data[split..]).unwrap();
            assert_eq!(w.crc(), crc64(&data));
            assert_eq!(w.written(), 5000);
            assert_eq!(w.into_inner(), data);
        }
    }
}
