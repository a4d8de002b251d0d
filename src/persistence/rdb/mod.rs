//! The RDB snapshot codec: format constants, a streaming encoder, a
//! slice-based decoder yielding one item per record, and DUMP/RESTORE
//! payloads. Pure: no files, no clock, no server state.
//!
//! Saving: `RdbWriter::new(file, SaveOptions)`, `standard_aux`, `function`
//! per library, `db` per database (or `select_db` + `key`), `finish`.
//! Loading: `RdbReader::new(bytes, LoadOptions)` and iterate `Item`s.
//! DUMP: `dump_payload`; RESTORE: `restore_value`.
//! Invariant: what `RdbWriter` writes, `RdbReader` reads back as the same
//! values, and Redis 7.0 loads it (tests/rdb_interop.rs).

mod crc64;
mod decode;
mod dump;
mod encode;
mod error;
pub mod format;
mod input;
mod lzf;
mod objects;
mod ziplist;
mod zipmap;

pub use crc64::{crc64, Crc64, CrcWriter};
pub use decode::{Checksum, Item, KeyRecord, LoadOptions, RdbReader};
pub use dump::{restore_value, verify_payload, RestoreOptions, BAD_PAYLOAD};
pub use encode::{dump_payload, type_code, AccessInfo, RdbWriter, Recency, ReplInfo, SaveOptions, SnapshotInfo};
pub use error::{DecodeError, ErrorKind};
pub use objects::Limits;

/// LZF, exposed for tools and tests.
pub mod lzf_codec {
    pub use super::lzf::{compress, decompress};
}
