//! Hash values: a listpack of field, value pairs while small, a hash table
//! once a field or value is longer than `hash-max-listpack-value` or there
//! are more than `hash-max-listpack-entries` pairs (never back, as Redis).
//!
//! Invariant: in listpack form fields are unique and pairs keep insertion
//! order (what HGETALL shows); a hash is never empty once stored in a db.
//! Only a listpack loaded without the deep checks may repeat a field:
//! lookups and the conversion to a table then see its first pair.

use super::dict::{Dict, Keyed};
use super::listpack::{Listpack, LpVal};
use super::CBytes;
use std::borrow::Cow;
use std::sync::Arc;

/// The conversion thresholds (from the configuration).
#[derive(Clone, Copy, Debug)]
pub struct HashLimits {
    pub entries: usize,
    pub value: usize,
}

#[derive(Clone)]
pub struct FieldValue {
    pub field: CBytes,
    pub value: CBytes,
}

impl Keyed for FieldValue {
    #[inline]
    fn key(&self) -> &[u8] {
        &self.field
    }
}

pub enum Hash {
    Lp(Listpack),
    /// Shared by copies (a background save's, COPY's) until one of them
    /// changes: every change goes through `Arc::make_mut`, which copies a
    /// table still shared. A save takes a large hash without copying it on
    /// the command thread.
    Table(Arc<Dict<FieldValue>>),
}

impl std::fmt::Debug for Hash {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Hash({} pairs, {})", self.len(), self.encoding())
    }
}

impl Clone for Hash {
    fn clone(&self) -> Self {
        match self {
            Hash::Lp(lp) => Hash::Lp(lp.clone()),
            Hash::Table(d) => Hash::Table(d.clone()),
        }
    }
}

impl PartialEq for Hash {
    fn eq(&self, other: &Self) -> bool {
        let mut ok = self.len() == other.len();
        self.for_each(|f, v| ok = ok && other.get(f).as_deref() == Some(v));
        ok
    }
}

/// What `Hash::set` did.
#[derive(Debug, PartialEq, Eq)]
pub enum SetResult {
    Inserted,
    Updated,
}

impl Default for Hash {
    fn default() -> Self {
        Self::new()
    }
}

impl Hash {
    pub fn new() -> Self {
        Hash::Lp(Listpack::new())
    }

    pub fn encoding(&self) -> &'static str {
        match self {
            Hash::Lp(_) => "listpack",
            Hash::Table(_) => "hashtable",
        }
    }

    pub fn len(&self) -> usize {
        match self {
            Hash::Lp(lp) => lp.len() / 2,
            Hash::Table(d) => d.len(),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Offset of the value of `field` in listpack form.
    fn lp_value_off(lp: &Listpack, field: &[u8]) -> Option<usize> {
        lp.find(lp.first(), field, 1).and_then(|o| lp.next(o))
    }

    pub fn get(&self, field: &[u8]) -> Option<Cow<'_, [u8]>> {
        match self {
            Hash::Lp(lp) => Self::lp_value_off(lp, field).map(|o| lp.get(o).to_bytes()),
            Hash::Table(d) => d.get(field).map(|fv| Cow::Borrowed(fv.value.as_bytes())),
        }
    }

    /// The value of `field` as stored, without copying (integers of the
    /// listpack form stay integers; the table form gives its bytes).
    pub fn get_val(&self, field: &[u8]) -> Option<LpVal<'_>> {
        match self {
            Hash::Lp(lp) => Self::lp_value_off(lp, field).map(|o| lp.get(o)),
            Hash::Table(d) => d.get(field).map(|fv| LpVal::Str(fv.value.as_bytes())),
        }
    }

    /// Calls `f` with every pair as stored, without copying: insertion
    /// order in listpack form, table order otherwise.
    pub fn for_each_val<'a>(&'a self, mut f: impl FnMut(LpVal<'a>, LpVal<'a>)) {
        match self {
            Hash::Lp(lp) => {
                let mut it = lp.iter();
                while let (Some(k), Some(v)) = (it.next(), it.next()) {
                    f(k, v);
                }
            }
            Hash::Table(d) => {
                d.iter().for_each(|fv| f(LpVal::Str(fv.field.as_bytes()), LpVal::Str(fv.value.as_bytes())))
            }
        }
    }

    /// Length of the value of `field` (HSTRLEN).
    pub fn value_len(&self, field: &[u8]) -> Option<usize> {
        match self {
            Hash::Lp(lp) => Self::lp_value_off(lp, field).map(|o| lp.get(o).str_len()),
            Hash::Table(d) => d.get(field).map(|fv| fv.value.len()),
        }
    }

    pub fn contains(&self, field: &[u8]) -> bool {
        match self {
            Hash::Lp(lp) => lp.find(lp.first(), field, 1).is_some(),
            Hash::Table(d) => d.contains(field),
        }
    }

    /// Converts to the table form if `len` bytes exceed the value limit
    /// (called with each field and value about to be written).
    pub fn convert_for_len(&mut self, len: usize, lim: HashLimits) {
        if len > lim.value {
            self.to_table();
        }
    }

    /// Sets `field` to `value`, converting as Redis does: long strings first,
    /// too many pairs after.
    pub fn set(&mut self, field: &[u8], value: &[u8], lim: HashLimits) -> SetResult {
        if let Hash::Lp(_) = self {
            self.convert_for_len(field.len().max(value.len()), lim);
        }
        let r = match self {
            Hash::Lp(lp) => match Self::lp_value_off(lp, field) {
                Some(o) => {
                    lp.replace(o, LpVal::from_bytes(value));
                    SetResult::Updated
                }
                None => {
                    lp.extend(&[LpVal::from_bytes(field), LpVal::from_bytes(value)]);
                    SetResult::Inserted
                }
            },
            Hash::Table(d) => {
                let d = Arc::make_mut(d);
                match d.get_mut(field) {
                    Some(fv) => {
                        fv.value = CBytes::new(value);
                        SetResult::Updated
                    }
                    None => {
                        d.insert_new(FieldValue { field: CBytes::new(field), value: CBytes::new(value) });
                        SetResult::Inserted
                    }
                }
            }
        };
        if matches!(self, Hash::Lp(_)) && self.len() > lim.entries {
            self.to_table();
        }
        r
    }

    /// Removes `field`; false when absent.
    pub fn remove(&mut self, field: &[u8]) -> bool {
        match self {
            Hash::Lp(lp) => match lp.find(lp.first(), field, 1) {
                Some(o) => {
                    lp.delete(o, 2);
                    true
                }
                None => false,
            },
            Hash::Table(d) => {
                let d = Arc::make_mut(d);
                let hit = d.remove(field).is_some();
                if hit {
                    d.resize_if_sparse();
                }
                hit
            }
        }
    }

    /// Calls `f` with every pair: insertion order in listpack form, table
    /// order otherwise.
    pub fn for_each(&self, mut f: impl FnMut(&[u8], &[u8])) {
        match self {
            Hash::Lp(lp) => {
                let mut it = lp.iter();
                let mut fb = Vec::new();
                let mut vb = Vec::new();
                while let (Some(k), Some(v)) = (it.next(), it.next()) {
                    fb.clear();
                    vb.clear();
                    k.append_to(&mut fb);
                    v.append_to(&mut vb);
                    f(&fb, &vb);
                }
            }
            Hash::Table(d) => d.iter().for_each(|fv| f(&fv.field, &fv.value)),
        }
    }

    /// The pair at position `i` of the listpack form, or a random pair of the
    /// table (HRANDFIELD).
    pub fn pair_at(&self, i: usize, rand: impl FnMut() -> u64) -> Option<(Vec<u8>, Vec<u8>)> {
        match self {
            Hash::Lp(lp) => {
                let o = lp.seek(2 * i as i64)?;
                let v = lp.next(o)?;
                Some((lp.get(o).to_bytes().into_owned(), lp.get(v).to_bytes().into_owned()))
            }
            Hash::Table(d) => d.random(rand).map(|fv| (fv.field.to_vec(), fv.value.to_vec())),
        }
    }

    /// HSCAN step: calls `f` with pairs and returns the next cursor (the
    /// listpack form returns everything at once, cursor 0).
    pub fn scan(&self, cursor: u64, mut f: impl FnMut(&[u8], &[u8])) -> u64 {
        match self {
            Hash::Lp(_) => {
                self.for_each(f);
                0
            }
            Hash::Table(d) => d.scan(cursor, |fv| f(&fv.field, &fv.value)),
        }
    }

    pub fn to_table(&mut self) {
        if let Hash::Lp(lp) = self {
            let mut d = Dict::new();
            let mut it = lp.iter();
            while let (Some(k), Some(v)) = (it.next(), it.next()) {
                // A listpack loaded without the deep checks may repeat a
                // field: the first one, the one lookups found, is kept.
                let fv = FieldValue { field: CBytes::new(&k.to_bytes()), value: CBytes::new(&v.to_bytes()) };
                let _ = d.insert_unique(fv);
            }
            *self = Hash::Table(Arc::new(d));
        }
    }

    pub fn heap_size(&self) -> usize {
        match self {
            Hash::Lp(lp) => lp.bytes_len(),
            Hash::Table(d) => {
                d.slots() * 8 + d.iter().map(|fv| 64 + fv.field.heap_size() + fv.value.heap_size()).sum::<usize>()
            }
        }
    }

    /// Number of allocations freeing this value costs.
    pub fn free_effort(&self) -> usize {
        match self {
            Hash::Lp(_) => 1,
            Hash::Table(d) => d.len(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const LIM: HashLimits = HashLimits { entries: 4, value: 10 };

    #[test]
    fn converts_on_count_and_length_and_keeps_content() {
        let mut h = Hash::new();
        for i in 0..4 {
            assert_eq!(h.set(format!("f{i}").as_bytes(), b"1", LIM), SetResult::Inserted);
        }
        assert_eq!(h.encoding(), "listpack");
        assert_eq!(h.set(b"f0", b"22", LIM), SetResult::Updated);
        h.set(b"f4", b"x", LIM);
        assert_eq!(h.encoding(), "hashtable");
        assert_eq!(h.get(b"f0").as_deref(), Some(&b"22"[..]));
        let mut h = Hash::new();
        h.set(b"a", b"01234567890", LIM);
        assert_eq!(h.encoding(), "hashtable");
    }

    #[test]
    fn a_copy_shares_the_table_until_either_side_changes() {
        let mut a = Hash::new();
        for i in 0..10 {
            a.set(format!("f{i}").as_bytes(), b"1", LIM);
        }
        let b = a.clone();
        let shared = |x: &Hash, y: &Hash| matches!((x, y), (Hash::Table(p), Hash::Table(q)) if Arc::ptr_eq(p, q));
        assert!(shared(&a, &b));
        a.set(b"f0", b"changed", LIM);
        assert!(a.remove(b"f1"));
        assert!(!shared(&a, &b));
        assert_eq!(b.get(b"f0").as_deref(), Some(&b"1"[..]));
        assert_eq!((a.len(), b.len()), (9, 10));
        let mut c = b.clone();
        assert!(c.remove(b"f2"));
        assert_eq!((b.len(), c.len()), (10, 9));
    }

    #[test]
    fn remove_and_lookup_in_listpack() {
        let mut h = Hash::new();
        h.set(b"1", b"2", LIM);
        h.set(b"2", b"1", LIM);
        assert_eq!(h.get(b"2").as_deref(), Some(&b"1"[..]));
        assert!(h.remove(b"1"));
        assert!(!h.remove(b"1"));
        assert_eq!(h.len(), 1);
        assert_eq!(h.value_len(b"2"), Some(1));
    }

    #[test]
    fn borrowed_views_match_copies_in_both_forms() {
        let mut h = Hash::new();
        h.set(b"n", b"12", LIM);
        h.set(b"s", b"abc", LIM);
        for _ in 0..2 {
            assert_eq!(h.get_val(b"n").map(|v| v.to_bytes().into_owned()), Some(b"12".to_vec()));
            assert_eq!(h.get_val(b"s").map(|v| v.str_len()), Some(3));
            assert_eq!(h.get_val(b"x"), None);
            let mut seen = Vec::new();
            h.for_each_val(|f, v| seen.push((f.to_bytes().into_owned(), v.to_bytes().into_owned())));
            seen.sort();
            assert_eq!(seen, vec![(b"n".to_vec(), b"12".to_vec()), (b"s".to_vec(), b"abc".to_vec())]);
            h.to_table();
        }
    }
}
