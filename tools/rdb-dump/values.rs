//! Walking a decoded value's contents, whatever its encoding, through the
//! keyspace's public iterators: strings whole, list elements in order, set
//! members, hash pairs, sorted-set members by ascending score.
//!
//! Invariant: every element is visited exactly once; the first error the
//! visitor returns stops the walk and is returned.

use crate::quote::with_bytes;
use std::io;
use strata::keyspace::Value;

/// Receives a value's contents; one of the four methods is used per value.
pub trait Visit {
    fn string(&mut self, b: &[u8]) -> io::Result<()>;
    /// A list element or a set member.
    fn element(&mut self, b: &[u8]) -> io::Result<()>;
    /// A hash field and its value.
    fn pair(&mut self, field: &[u8], value: &[u8]) -> io::Result<()>;
    /// A sorted-set member and its score.
    fn scored(&mut self, member: &[u8], score: f64) -> io::Result<()>;
}

pub fn visit(v: &Value, vis: &mut impl Visit) -> io::Result<()> {
    let mut result = Ok(());
    match v {
        Value::Int(_) | Value::Emb(_) | Value::Raw(_) => {
            if let Some(b) = v.as_bytes() {
                result = vis.string(&b);
            }
        }
        Value::List(l) => {
            for e in l.iter() {
                with_bytes(e, |b| vis.element(b))?;
            }
        }
        Value::Set(s) => s.for_each_val(|m| {
            if result.is_ok() {
                result = with_bytes(m, |b| vis.element(b));
            }
        }),
        Value::Hash(h) => h.for_each_val(|f, x| {
            if result.is_ok() {
                result = with_bytes(f, |f| with_bytes(x, |x| vis.pair(f, x)));
            }
        }),
        Value::ZSet(z) => {
            for (score, m) in z.entries(0, false) {
                with_bytes(m, |b| vis.scored(b, score))?;
            }
        }
    }
    result
}

/// What a collection's elements are called, for headers.
pub fn unit(v: &Value) -> (&'static str, &'static str) {
    match v {
        Value::List(_) => ("element", "elements"),
        Value::Hash(_) => ("field", "fields"),
        Value::Set(_) | Value::ZSet(_) => ("member", "members"),
        _ => ("byte", "bytes"),
    }
}

/// Elements of a collection, bytes of a string.
pub fn size(v: &Value) -> usize {
    match v.as_bytes() {
        Some(b) => b.len(),
        None => v.elements(),
    }
}
