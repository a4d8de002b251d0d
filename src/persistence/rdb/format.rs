//! Frozen on-disk constants of the RDB format (docs/formats/rdb.md). These
//! numbers are a namespace of their own: they never change when in-memory
//! enums do, and nothing here may be renumbered.

/// File magic, followed by four ASCII digits of version.
pub const MAGIC: &[u8; 5] = b"REDIS";
/// The version Redis 7.0 writes, and so do we (files and DUMP payloads).
pub const VERSION_WRITTEN: u16 = 10;
/// Oldest and newest versions the reader accepts.
pub const VERSION_MIN: u16 = 1;
pub const VERSION_MAX: u16 = 11;
/// Newest DUMP payload version RESTORE accepts (Redis 7.0's own).
pub const DUMP_VERSION_MAX: u16 = 10;
/// First version with the CRC-64 trailer.
pub const VERSION_CHECKSUM: u16 = 5;

/// Opcodes: record bytes that are not object types.
pub mod op {
    pub const FUNCTION2: u8 = 0xF5;
    pub const FUNCTION_PRE_GA: u8 = 0xF6;
    pub const MODULE_AUX: u8 = 0xF7;
    pub const IDLE: u8 = 0xF8;
    pub const FREQ: u8 = 0xF9;
    pub const AUX: u8 = 0xFA;
    pub const RESIZEDB: u8 = 0xFB;
    pub const EXPIRETIME_MS: u8 = 0xFC;
    pub const EXPIRETIME: u8 = 0xFD;
    pub const SELECTDB: u8 = 0xFE;
    pub const EOF: u8 = 0xFF;
}

/// Object type codes.
pub mod ty {
    pub const STRING: u8 = 0;
    pub const LIST: u8 = 1;
    pub const SET: u8 = 2;
    pub const ZSET: u8 = 3;
    pub const HASH: u8 = 4;
    pub const ZSET_2: u8 = 5;
    pub const MODULE_PRE_GA: u8 = 6;
    pub const MODULE_2: u8 = 7;
    pub const HASH_ZIPMAP: u8 = 9;
    pub const LIST_ZIPLIST: u8 = 10;
    pub const SET_INTSET: u8 = 11;
    pub const ZSET_ZIPLIST: u8 = 12;
    pub const HASH_ZIPLIST: u8 = 13;
    pub const LIST_QUICKLIST: u8 = 14;
    pub const STREAM_LISTPACKS: u8 = 15;
    pub const HASH_LISTPACK: u8 = 16;
    pub const ZSET_LISTPACK: u8 = 17;
    pub const LIST_QUICKLIST_2: u8 = 18;
    pub const STREAM_LISTPACKS_2: u8 = 19;
    pub const SET_LISTPACK: u8 = 20;
    pub const STREAM_LISTPACKS_3: u8 = 21;

    /// The name of a type code as the format doc spells it.
    pub fn name(t: u8) -> &'static str {
        match t {
            STRING => "STRING",
            LIST => "LIST",
            SET => "SET",
            ZSET => "ZSET",
            HASH => "HASH",
            ZSET_2 => "ZSET_2",
            MODULE_PRE_GA => "MODULE",
            MODULE_2 => "MODULE_2",
            HASH_ZIPMAP => "HASH_ZIPMAP",
            LIST_ZIPLIST => "LIST_ZIPLIST",
            SET_INTSET => "SET_INTSET",
            ZSET_ZIPLIST => "ZSET_ZIPLIST",
            HASH_ZIPLIST => "HASH_ZIPLIST",
            LIST_QUICKLIST => "LIST_QUICKLIST",
            STREAM_LISTPACKS => "STREAM_LISTPACKS",
            HASH_LISTPACK => "HASH_LISTPACK",
            ZSET_LISTPACK => "ZSET_LISTPACK",
            LIST_QUICKLIST_2 => "LIST_QUICKLIST_2",
            STREAM_LISTPACKS_2 => "STREAM_LISTPACKS_2",
            SET_LISTPACK => "SET_LISTPACK",
            STREAM_LISTPACKS_3 => "STREAM_LISTPACKS_3",
            _ => "unknown",
        }
    }
}

/// Length encoding: the two high bits of the first byte.
pub mod len {
    pub const BITS_6: u8 = 0b00;
    pub const BITS_14: u8 = 0b01;
    pub const BITS_32_OR_64: u8 = 0b10;
    pub const ENCODED: u8 = 0b11;
    /// Full first bytes of the two long forms.
    pub const FIRST_32: u8 = 0x80;
    pub const FIRST_64: u8 = 0x81;
    /// Largest values of the 6- and 14-bit forms.
    pub const MAX_6: u64 = 63;
    pub const MAX_14: u64 = 16383;
}

/// Special string encodings (low six bits after `len::ENCODED`).
pub mod enc {
    pub const INT8: u8 = 0;
    pub const INT16: u8 = 1;
    pub const INT32: u8 = 2;
    pub const LZF: u8 = 3;
    /// Strings at most this long are tried as integers.
    pub const INT_TRY_MAX_LEN: usize = 11;
    /// Strings longer than this are tried compressed (with compression on).
    pub const LZF_MIN_LEN: usize = 20;
    /// A compressed form is kept only if it saves at least this many bytes.
    pub const LZF_MIN_SAVING: usize = 4;
}

/// LIST_QUICKLIST_2 node containers.
pub mod container {
    pub const PLAIN: u64 = 1;
    pub const PACKED: u64 = 2;
}

/// ZSET (type 3) score length bytes that stand for special values.
pub mod score {
    pub const NAN: u8 = 253;
    pub const POS_INF: u8 = 254;
    pub const NEG_INF: u8 = 255;
}

/// MODULE_AUX and MODULE_2 data opcodes.
pub mod module {
    pub const EOF: u64 = 0;
    pub const SINT: u64 = 1;
    pub const UINT: u64 = 2;
    pub const FLOAT: u64 = 3;
    pub const DOUBLE: u64 = 4;
    pub const STRING: u64 = 5;
    /// Characters of a module type name, six bits each.
    pub const NAME_CHARSET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
}

/// Ziplist layout.
pub mod ziplist {
    pub const HEADER: usize = 10;
    pub const END: u8 = 0xFF;
    pub const COUNT_UNKNOWN: u16 = u16::MAX;
    /// A previous-entry length at or above this takes 5 bytes.
    pub const PREVLEN_BIG: u8 = 254;
    pub const STR_6: u8 = 0b00;
    pub const STR_14: u8 = 0b01;
    pub const STR_32: u8 = 0b10;
    pub const INT16: u8 = 0xC0;
    pub const INT32: u8 = 0xD0;
    pub const INT64: u8 = 0xE0;
    pub const INT24: u8 = 0xF0;
    pub const INT8: u8 = 0xFE;
    pub const IMM_MIN: u8 = 0xF1;
    pub const IMM_MAX: u8 = 0xFD;
}

/// Zipmap layout.
pub mod zipmap {
    pub const END: u8 = 0xFF;
    /// A length byte of this value is followed by a 4-byte length.
    pub const BIGLEN: u8 = 254;
}

/// Aux field names Redis 7.0 writes.
pub mod aux {
    pub const REDIS_VER: &[u8] = b"redis-ver";
    pub const REDIS_BITS: &[u8] = b"redis-bits";
    pub const CTIME: &[u8] = b"ctime";
    pub const USED_MEM: &[u8] = b"used-mem";
    pub const REPL_STREAM_DB: &[u8] = b"repl-stream-db";
    pub const REPL_ID: &[u8] = b"repl-id";
    pub const REPL_OFFSET: &[u8] = b"repl-offset";
    pub const AOF_BASE: &[u8] = b"aof-base";
}
