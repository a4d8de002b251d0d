//! DUMP/RESTORE payloads: one value without its key, then the RDB version
//! (2 bytes LE) and a CRC-64 (8 bytes LE) of everything before it
//! (docs/formats/rdb.md, "DUMP payloads"). Creation is `encode::dump_payload`.
//!
//! Invariant: `restore_value` builds a value only from a payload whose
//! version and checksum were accepted and whose bytes were all consumed.

use super::crc64::crc64;
use super::error::{DecodeError, ErrorKind};
use super::format;
use super::input::Input;
use super::objects::{self, Ctx, Limits, Loaded};
use crate::keyspace::Value;

/// How RESTORE reads a payload.
#[derive(Clone, Copy, Debug)]
pub struct RestoreOptions {
    pub limits: Limits,
    /// `sanitize-dump-payload yes`: check embedded encodings in full.
    pub deep: bool,
    /// `skip-checksum-validation`: accept a wrong CRC.
    pub skip_checksum: bool,
}

impl Default for RestoreOptions {
    fn default() -> Self {
        RestoreOptions { limits: Limits::default(), deep: true, skip_checksum: false }
    }
}

/// The payload's trailer problems, in the words RESTORE answers with.
pub const BAD_PAYLOAD: &str = "DUMP payload version or checksum are wrong";

/// Checks version and checksum; returns the body (type byte and value).
pub fn verify_payload(payload: &[u8], skip_checksum: bool) -> Result<&[u8], DecodeError> {
    let bad = |at: usize, why: String| {
        DecodeError::new(at, "DUMP payload", ErrorKind::Corrupt(format!("{BAD_PAYLOAD}: {why}")))
    };
    if payload.len() < 10 {
        return Err(bad(0, format!("{} bytes is shorter than the 10-byte trailer", payload.len())));
    }
    let (body, trailer) = payload.split_at(payload.len() - 10);
    let version = u16::from_le_bytes([trailer[0], trailer[1]]);
    if version > format::DUMP_VERSION_MAX {
        return Err(bad(body.len(), format!("RDB version {version} is newer than {}", format::DUMP_VERSION_MAX)));
    }
    if !skip_checksum {
        let stored = u64::from_le_bytes(trailer[2..].try_into().expect("8 bytes"));
        let computed = crc64(&payload[..payload.len() - 8]);
        if stored != computed {
            return Err(bad(body.len() + 2, format!("stored CRC {stored:#018x}, computed {computed:#018x}")));
        }
    }
    Ok(body)
}

/// The value a RESTORE of `payload` creates. Empty collections are refused
/// (Redis answers "Bad data format").
pub fn restore_value(payload: &[u8], opts: &RestoreOptions) -> Result<Value, DecodeError> {
    let body = verify_payload(payload, opts.skip_checksum)?;
    let mut inp = Input::new(body);
    inp.what = "DUMP payload type";
    let t = inp.u8()?;
    let cx = Ctx { limits: &opts.limits, deep: opts.deep, build: true };
    let v = match objects::read(&mut inp, t, &cx)? {
        Loaded::Value(v) => v,
        _ => return Err(inp.corrupt(inp.pos, "the payload holds an empty collection")),
    };
    if inp.remaining() != 0 {
        return Err(inp.err(inp.pos, ErrorKind::TrailingBytes(inp.remaining())));
    }
    Ok(v)
}
