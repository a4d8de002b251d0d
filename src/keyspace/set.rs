//! Set values: an intset while every member is an integer and there are at
//! most `set-max-intset-entries`, else a hash table (never back, as Redis).
//!
//! Invariant: an intset-encoded set holds only canonical integers.

use super::dict::{Dict, Keyed};
use super::intset::Intset;
use super::listpack::LpVal;
use super::CBytes;
use crate::util::{itoa, parse_i64};
use std::sync::Arc;

#[derive(Clone)]
pub struct Member(pub CBytes);

impl Keyed for Member {
    #[inline]
    fn key(&self) -> &[u8] {
        &self.0
    }
}

pub enum Set {
    Int(Intset),
    /// Shared by copies until one changes (as `Hash::Table`).
    Table(Arc<Dict<Member>>),
}

impl std::fmt::Debug for Set {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Set({} members, {})", self.len(), self.encoding())
    }
}

impl Clone for Set {
    fn clone(&self) -> Self {
        match self {
            Set::Int(s) => Set::Int(s.clone()),
            Set::Table(d) => Set::Table(d.clone()),
        }
    }
}

impl PartialEq for Set {
    fn eq(&self, other: &Self) -> bool {
        let mut ok = self.len() == other.len();
        self.for_each(|m| ok = ok && other.contains(m));
        ok
    }
}

impl Set {
    /// An empty set of the encoding Redis picks for a first member `first`.
    pub fn for_member(first: &[u8]) -> Self {
        if parse_i64(first).is_some() {
            Set::Int(Intset::new())
        } else {
            Set::Table(Arc::default())
        }
    }

    /// An empty set in intset form: where every computed set starts (the
    /// STORE forms, SUNION, SDIFF), converting as its members arrive, as
    /// Redis builds them.
    pub fn new_int() -> Self {
        Set::Int(Intset::new())
    }

    pub fn encoding(&self) -> &'static str {
        match self {
            Set::Int(_) => "intset",
            Set::Table(_) => "hashtable",
        }
    }

    pub fn len(&self) -> usize {
        match self {
            Set::Int(s) => s.len(),
            Set::Table(d) => d.len(),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    pub fn contains(&self, m: &[u8]) -> bool {
        match self {
            Set::Int(s) => parse_i64(m).is_some_and(|v| s.contains(v)),
            Set::Table(d) => d.contains(m),
        }
    }

    /// `contains` for a member as another set holds it (no formatting when
    /// both sides are intsets).
    pub fn contains_val(&self, m: LpVal) -> bool {
        match (self, m) {
            (Set::Int(s), LpVal::Int(v)) => s.contains(v),
            (Set::Table(d), LpVal::Int(v)) => d.contains(itoa(v).as_bytes()),
            (_, LpVal::Str(b)) => self.contains(b),
        }
    }

    /// `insert` for a member as another set holds it.
    pub fn insert_val(&mut self, m: LpVal, max_intset: usize) -> bool {
        match (&mut *self, m) {
            (Set::Int(s), LpVal::Int(v)) => {
                let added = s.insert(v);
                if added && s.len() > max_intset {
                    self.to_table();
                }
                added
            }
            (_, LpVal::Int(v)) => self.insert(itoa(v).as_bytes(), max_intset),
            (_, LpVal::Str(b)) => self.insert(b, max_intset),
        }
    }

    /// `remove` for a member as another set holds it.
    pub fn remove_val(&mut self, m: LpVal) -> bool {
        match (&mut *self, m) {
            (Set::Int(s), LpVal::Int(v)) => s.remove(v),
            (_, LpVal::Int(v)) => self.remove(itoa(v).as_bytes()),
            (_, LpVal::Str(b)) => self.remove(b),
        }
    }

    /// Adds `m`; false when present. `max_intset` is set-max-intset-entries.
    pub fn insert(&mut self, m: &[u8], max_intset: usize) -> bool {
        match self {
            Set::Int(s) => match parse_i64(m) {
                Some(v) => {
                    let added = s.insert(v);
                    if added && s.len() > max_intset {
                        self.to_table();
                    }
                    added
                }
                None => {
                    self.to_table();
                    self.insert(m, max_intset)
                }
            },
            Set::Table(d) => {
                if d.contains(m) {
                    return false;
                }
                Arc::make_mut(d).insert_new(Member(CBytes::new(m)));
                true
            }
        }
    }

    pub fn remove(&mut self, m: &[u8]) -> bool {
        match self {
            Set::Int(s) => parse_i64(m).is_some_and(|v| s.remove(v)),
            Set::Table(d) => {
                let d = Arc::make_mut(d);
                let hit = d.remove(m).is_some();
                if hit {
                    d.resize_if_sparse();
                }
                hit
            }
        }
    }

    /// Calls `f` with every member (ascending for intsets).
    pub fn for_each(&self, mut f: impl FnMut(&[u8])) {
        match self {
            Set::Int(s) => s.iter().for_each(|v| f(itoa(v).as_bytes())),
            Set::Table(d) => d.iter().for_each(|m| f(&m.0)),
        }
    }

    /// Calls `f` with every member as stored: intset members as integers.
    pub fn for_each_val<'a>(&'a self, mut f: impl FnMut(LpVal<'a>)) {
        match self {
            Set::Int(s) => s.iter().for_each(|v| f(LpVal::Int(v))),
            Set::Table(d) => d.iter().for_each(|m| f(LpVal::Str(&m.0))),
        }
    }

    /// Every member as stored, in iteration order.
    pub fn vals(&self) -> Vec<LpVal<'_>> {
        let mut out = Vec::with_capacity(self.len());
        self.for_each_val(|v| out.push(v));
        out
    }

    pub fn members(&self) -> Vec<Vec<u8>> {
        let mut out = Vec::with_capacity(self.len());
        self.for_each(|m| out.push(m.to_vec()));
        out
    }

    /// A random member, as stored.
    pub fn random(&self, mut rand: impl FnMut() -> u64) -> Option<LpVal<'_>> {
        match self {
            Set::Int(s) if !s.is_empty() => Some(LpVal::Int(s.get((rand() % s.len() as u64) as usize))),
            Set::Int(_) => None,
            Set::Table(d) => d.random(rand).map(|m| LpVal::Str(&m.0)),
        }
    }

    /// Removes a random member and returns it.
    pub fn pop_random(&mut self, rand: impl FnMut() -> u64) -> Option<Vec<u8>> {
        let m = self.random(rand)?.to_bytes().into_owned();
        self.remove(&m);
        Some(m)
    }

    /// SSCAN step (intsets return everything at once, cursor 0).
    pub fn scan(&self, cursor: u64, mut f: impl FnMut(&[u8])) -> u64 {
        match self {
            Set::Int(_) => {
                self.for_each(f);
                0
            }
            Set::Table(d) => d.scan(cursor, |m| f(&m.0)),
        }
    }

    pub fn to_table(&mut self) {
        if let Set::Int(s) = self {
            let mut d = Dict::new();
            for v in s.iter() {
                d.insert_new(Member(CBytes::new(itoa(v).as_bytes())));
            }
            *self = Set::Table(Arc::new(d));
        }
    }

    pub fn heap_size(&self) -> usize {
        match self {
            Set::Int(s) => s.heap_size(),
            Set::Table(d) => d.slots() * 8 + d.iter().map(|m| 40 + m.0.heap_size()).sum::<usize>(),
        }
    }

    pub fn free_effort(&self) -> usize {
        match self {
            Set::Int(_) => 1,
            Set::Table(d) => d.len(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_copy_shares_the_table_until_either_side_changes() {
        let mut a = Set::for_member(b"m");
        for i in 0..10 {
            a.insert(format!("m{i}").as_bytes(), 512);
        }
        let b = a.clone();
        assert!(matches!((&a, &b), (Set::Table(p), Set::Table(q)) if Arc::ptr_eq(p, q)));
        assert!(a.insert(b"new", 512) && a.remove(b"m0"));
        assert!(b.contains(b"m0") && !b.contains(b"new"));
        assert_eq!((a.len(), b.len()), (10, 10));
        let mut c = b.clone();
        assert!(c.remove(b"m1"));
        assert!(b.contains(b"m1") && !c.contains(b"m1"));
    }

    #[test]
    fn intset_until_a_string_or_too_many() {
        let mut s = Set::for_member(b"1");
        assert!(s.insert(b"1", 3) && s.insert(b"2", 3) && s.insert(b"3", 3));
        assert_eq!(s.encoding(), "intset");
        assert!(!s.insert(b"2", 3));
        assert!(s.insert(b"4", 3));
        assert_eq!(s.encoding(), "hashtable");
        let mut s = Set::for_member(b"1");
        s.insert(b"1", 10);
        s.insert(b"a", 10);
        assert_eq!(s.encoding(), "hashtable");
        assert!(s.contains(b"1") && s.contains(b"a"));
        assert!(!Set::for_member(b"007").contains(b"7"));
    }
}
