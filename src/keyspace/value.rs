//! In-memory values and their encodings. These are memory representations
//! only; on-disk type codes live with the persistence formats.

use super::cbytes::CBytes;
use super::hash::Hash;
use super::quicklist::Quicklist;
use super::set::Set;
use super::zset::ZSet;
use crate::util::{itoa, parse_i64};
use std::borrow::Cow;

/// Strings up to this length are created "embstr", as Redis reports them.
pub const EMBSTR_MAX: usize = 44;

#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    /// A string that is a canonical 64-bit integer ("int").
    Int(i64),
    /// A short string created in one piece ("embstr").
    Emb(CBytes),
    /// A string that was grown or is long ("raw").
    Raw(Vec<u8>),
    /// A list ("quicklist": Redis 7.0 has no other list encoding).
    List(Box<Quicklist>),
    Hash(Hash),
    Set(Set),
    ZSet(ZSet),
}

impl Value {
    /// A string value encoded as Redis's tryObjectEncoding would: `int` for
    /// canonical integers of up to 20 bytes, `embstr` up to 44, else `raw`.
    pub fn string(b: &[u8]) -> Value {
        if b.len() <= 20 {
            if let Some(n) = parse_i64(b) {
                return Value::Int(n);
            }
        }
        if b.len() <= EMBSTR_MAX {
            Value::Emb(CBytes::new(b))
        } else {
            Value::Raw(b.to_vec())
        }
    }

    /// Like `string` but taking ownership of a buffer.
    pub fn string_owned(v: Vec<u8>) -> Value {
        if v.len() <= EMBSTR_MAX {
            Value::string(&v)
        } else {
            Value::Raw(v)
        }
    }

    pub fn is_string(&self) -> bool {
        matches!(self, Value::Int(_) | Value::Emb(_) | Value::Raw(_))
    }

    /// The bytes of a string value (integers formatted); `None` for other
    /// types.
    pub fn as_bytes(&self) -> Option<Cow<'_, [u8]>> {
        match self {
            Value::Int(n) => Some(Cow::Owned(itoa(*n).as_bytes().to_vec())),
            Value::Emb(b) => Some(Cow::Borrowed(b.as_bytes())),
            Value::Raw(v) => Some(Cow::Borrowed(v)),
            _ => None,
        }
    }

    /// Converts a string value into its growable "raw" form and returns it
    /// (what APPEND and SETRANGE work on).
    pub fn make_raw(&mut self) -> Option<&mut Vec<u8>> {
        let v = match self {
            Value::Raw(v) => return Some(v),
            Value::Int(n) => itoa(*n).as_bytes().to_vec(),
            Value::Emb(b) => b.as_bytes().to_vec(),
            _ => return None,
        };
        *self = Value::Raw(v);
        match self {
            Value::Raw(v) => Some(v),
            _ => None,
        }
    }

    pub fn type_name(&self) -> &'static str {
        match self {
            Value::Int(_) | Value::Emb(_) | Value::Raw(_) => "string",
            Value::List(_) => "list",
            Value::Hash(_) => "hash",
            Value::Set(_) => "set",
            Value::ZSet(_) => "zset",
        }
    }

    pub fn encoding(&self) -> &'static str {
        match self {
            Value::Int(_) => "int",
            Value::Emb(_) => "embstr",
            Value::Raw(_) => "raw",
            Value::List(_) => "quicklist",
            Value::Hash(h) => h.encoding(),
            Value::Set(s) => s.encoding(),
            Value::ZSet(z) => z.encoding(),
        }
    }

    /// Approximate heap bytes held (for memory figures and lazy-free
    /// decisions).
    pub fn heap_size(&self) -> usize {
        match self {
            Value::Int(_) => 0,
            Value::Emb(b) => b.heap_size(),
            Value::Raw(v) => v.capacity(),
            Value::List(l) => l.heap_size(),
            Value::Hash(h) => h.heap_size(),
            Value::Set(s) => s.heap_size(),
            Value::ZSet(z) => z.heap_size(),
        }
    }

    /// Number of allocations freeing this value costs; large values are
    /// freed in the background.
    pub fn free_effort(&self) -> usize {
        match self {
            Value::List(l) => l.node_count(),
            Value::Hash(h) => h.free_effort(),
            Value::Set(s) => s.free_effort(),
            Value::ZSet(z) => z.free_effort(),
            _ => 1,
        }
    }

    /// Number of elements of a collection (0 for strings).
    pub fn elements(&self) -> usize {
        match self {
            Value::List(l) => l.len(),
            Value::Hash(h) => h.len(),
            Value::Set(s) => s.len(),
            Value::ZSet(z) => z.len(),
            _ => 0,
        }
    }
}
