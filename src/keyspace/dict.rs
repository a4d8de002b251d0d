//! A chained hash table with incremental rehashing and a resize-proof scan
//! cursor, the shape every Redis keyspace behaviour assumes.
//!
//! Invariants: while rehashing, buckets `< rehash_idx` of table 0 are empty
//! and every item lives in exactly one bucket of table 0 or 1; a scan that
//! runs from cursor 0 back to 0 visits every item present for the whole scan
//! at least once, however the table grows or shrinks in between.

use std::hash::BuildHasher;

pub trait Keyed {
    fn key(&self) -> &[u8];
}

struct Node<T> {
    next: Option<Box<Node<T>>>,
    item: T,
}

type Bucket<T> = Option<Box<Node<T>>>;

struct Table<T> {
    buckets: Vec<Bucket<T>>,
    used: usize,
}

impl<T> Table<T> {
    fn empty() -> Self {
        Table { buckets: Vec::new(), used: 0 }
    }

    fn with_size(n: usize) -> Self {
        let mut buckets = Vec::with_capacity(n);
        buckets.resize_with(n, || None);
        Table { buckets, used: 0 }
    }

    #[inline]
    fn mask(&self) -> usize {
        self.buckets.len().wrapping_sub(1)
    }
}

impl<T: Clone> Clone for Table<T> {
    /// The same buckets and chains (same order), item by item: no hashing.
    fn clone(&self) -> Self {
        let buckets = self
            .buckets
            .iter()
            .map(|b| {
                let mut items = Vec::new();
                let mut cur = b.as_deref();
                while let Some(node) = cur {
                    items.push(&node.item);
                    cur = node.next.as_deref();
                }
                items.into_iter().rev().fold(None, |next, item| Some(Box::new(Node { next, item: item.clone() })))
            })
            .collect();
        Table { buckets, used: self.used }
    }
}

/// A copy laid out as the original (same hasher, tables, rehash point), so
/// copying a large collection (a snapshot's copy of a value) costs no
/// hashing and no growth.
impl<T: Clone> Clone for Dict<T> {
    fn clone(&self) -> Self {
        Dict {
            ht: [self.ht[0].clone(), self.ht[1].clone()],
            rehash_idx: self.rehash_idx,
            hasher: self.hasher,
            resize_paused: 0,
        }
    }
}

const INITIAL_SIZE: usize = 4;
/// Below this fill percentage a table is shrunk (by `resize_if_sparse`).
const MIN_FILL_PERCENT: usize = 10;

pub struct Dict<T> {
    ht: [Table<T>; 2],
    /// Next bucket of table 0 to move, while rehashing.
    rehash_idx: Option<usize>,
    hasher: foldhash::fast::RandomState,
    /// While > 0 (a snapshot is reading the table) no resize starts.
    pub resize_paused: u32,
}

impl<T: Keyed> Default for Dict<T> {
    fn default() -> Self {
        Self::new()
    }
}

impl<T: Keyed> Dict<T> {
    pub fn new() -> Self {
        Dict {
            ht: [Table::empty(), Table::empty()],
            rehash_idx: None,
            hasher: foldhash::fast::RandomState::default(),
            resize_paused: 0,
        }
    }

    #[inline]
    pub fn len(&self) -> usize {
        self.ht[0].used + self.ht[1].used
    }

    #[inline]
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    pub fn is_rehashing(&self) -> bool {
        self.rehash_idx.is_some()
    }

    /// Bucket slots allocated (both tables), for memory figures.
    pub fn slots(&self) -> usize {
        self.ht[0].buckets.len() + self.ht[1].buckets.len()
    }

    #[inline]
    fn hash(&self, key: &[u8]) -> u64 {
        self.hasher.hash_one(key)
    }

    pub fn get(&self, key: &[u8]) -> Option<&T> {
        if self.is_empty() {
            return None;
        }
        self.find_hashed(self.hash(key) as usize, key)
    }

    /// The item with `key`, whose hash is `h`.
    #[inline]
    fn find_hashed(&self, h: usize, key: &[u8]) -> Option<&T> {
        for t in 0..2 {
            let table = &self.ht[t];
            if table.buckets.is_empty() {
                continue;
            }
            let mut cur = table.buckets[h & table.mask()].as_deref();
            while let Some(node) = cur {
                if node.item.key() == key {
                    return Some(&node.item);
                }
                cur = node.next.as_deref();
            }
            if self.rehash_idx.is_none() {
                break;
            }
        }
        None
    }

    pub fn get_mut(&mut self, key: &[u8]) -> Option<&mut T> {
        if self.is_empty() {
            return None;
        }
        self.rehash_step();
        let h = self.hash(key) as usize;
        let rehashing = self.rehash_idx.is_some();
        for t in 0..2 {
            if self.ht[t].buckets.is_empty() {
                continue;
            }
            let idx = h & self.ht[t].mask();
            // Find first, then borrow mutably: keeps the borrow checker happy
            // without unsafe.
            let mut depth = 0;
            let mut found = false;
            let mut cur = self.ht[t].buckets[idx].as_deref();
            while let Some(node) = cur {
                if node.item.key() == key {
                    found = true;
                    break;
                }
                depth += 1;
                cur = node.next.as_deref();
            }
            if found {
                let mut node = self.ht[t].buckets[idx].as_deref_mut();
                for _ in 0..depth {
                    node = node.and_then(|n| n.next.as_deref_mut());
                }
                return node.map(|n| &mut n.item);
            }
            if !rehashing {
                break;
            }
        }
        None
    }

    pub fn contains(&self, key: &[u8]) -> bool {
        self.get(key).is_some()
    }

    /// Inserts an item whose key is not present (callers check first).
    pub fn insert_new(&mut self, item: T) {
        debug_assert!(!self.contains(item.key()));
        self.rehash_step();
        self.expand_if_needed();
        let h = self.hash(item.key()) as usize;
        self.push_hashed(h, item);
    }

    /// Links `item`, whose key has hash `h` and is absent, into the table
    /// that takes new items.
    fn push_hashed(&mut self, h: usize, item: T) {
        let t = if self.rehash_idx.is_some() { 1 } else { 0 };
        let table = &mut self.ht[t];
        let idx = h & table.mask();
        let next = table.buckets[idx].take();
        table.buckets[idx] = Some(Box::new(Node { next, item }));
        table.used += 1;
    }

    /// Inserts an item unless its key is present (then hands it back), with
    /// one hash of the key: what a loader building a table from untrusted
    /// input does for every element.
    pub fn insert_unique(&mut self, item: T) -> Result<(), T> {
        self.rehash_step();
        self.expand_if_needed();
        let h = self.hash(item.key()) as usize;
        if self.find_hashed(h, item.key()).is_some() {
            return Err(item);
        }
        self.push_hashed(h, item);
        Ok(())
    }

    /// Sizes an empty dict for `n` items at once, so that filling it never
    /// rehashes (a loader that knows the count; it bounds `n` by the input).
    pub fn reserve_empty(&mut self, n: usize) {
        if self.is_empty() && self.rehash_idx.is_none() && n > INITIAL_SIZE {
            self.ht[0] = Table::with_size(n.next_power_of_two());
        }
    }

    /// Inserts or replaces; returns the replaced item.
    pub fn upsert(&mut self, item: T) -> Option<T> {
        if let Some(slot) = self.get_mut(item.key()) {
            return Some(std::mem::replace(slot, item));
        }
        self.insert_new(item);
        None
    }

    pub fn remove(&mut self, key: &[u8]) -> Option<T> {
        if self.is_empty() {
            return None;
        }
        self.rehash_step();
        let h = self.hash(key) as usize;
        for t in 0..2 {
            if self.ht[t].buckets.is_empty() {
                continue;
            }
            let idx = h & self.ht[t].mask();
            if let Some(item) = Self::unlink(&mut self.ht[t].buckets[idx], key) {
                self.ht[t].used -= 1;
                return Some(item);
            }
            if self.rehash_idx.is_none() {
                break;
            }
        }
        None
    }

    fn unlink(slot: &mut Bucket<T>, key: &[u8]) -> Option<T> {
        let mut slot = slot;
        loop {
            match slot {
                None => return None,
                Some(node) if node.item.key() == key => {
                    let mut node = slot.take()?;
                    *slot = node.next.take();
                    return Some(node.item);
                }
                Some(node) => slot = &mut node.next,
            }
        }
    }

    pub fn clear(&mut self) {
        self.ht = [Table::empty(), Table::empty()];
        self.rehash_idx = None;
    }

    /// Takes every item out, leaving the dict empty (for freeing elsewhere).
    pub fn take(&mut self) -> Dict<T> {
        let hasher = self.hasher;
        let old = std::mem::replace(
            self,
            Dict { ht: [Table::empty(), Table::empty()], rehash_idx: None, hasher, resize_paused: 0 },
        );
        self.resize_paused = old.resize_paused;
        old
    }

    fn expand_if_needed(&mut self) {
        if self.rehash_idx.is_some() {
            return;
        }
        let size = self.ht[0].buckets.len();
        if size == 0 {
            self.ht[0] = Table::with_size(INITIAL_SIZE);
            return;
        }
        // Grow at load factor 1; with a snapshot reading, only when badly
        // overfull (as Redis does while a child process exists).
        let grow = self.ht[0].used >= size && (self.resize_paused == 0 || self.ht[0].used / size > 5);
        if grow {
            self.start_resize((self.ht[0].used + 1).next_power_of_two());
        }
    }

    /// Shrinks a sparse table; called from the periodic task.
    pub fn resize_if_sparse(&mut self) {
        let size = self.ht[0].buckets.len();
        if self.rehash_idx.is_some() || self.resize_paused > 0 || size <= INITIAL_SIZE {
            return;
        }
        if self.ht[0].used * 100 / size < MIN_FILL_PERCENT {
            let target = self.ht[0].used.max(INITIAL_SIZE).next_power_of_two();
            if target < size {
                self.start_resize(target);
            }
        }
    }

    fn start_resize(&mut self, size: usize) {
        self.ht[1] = Table::with_size(size);
        self.rehash_idx = Some(0);
    }

    #[inline]
    fn rehash_step(&mut self) {
        if self.rehash_idx.is_some() && self.resize_paused == 0 {
            self.rehash(1);
        }
    }

    /// Moves up to `n` buckets to the new table; returns true while more
    /// remain. Visits at most 10n empty buckets so one call stays cheap.
    pub fn rehash(&mut self, n: usize) -> bool {
        let Some(mut idx) = self.rehash_idx else {
            return false;
        };
        let mut empty_visits = n * 10;
        for _ in 0..n {
            if self.ht[0].used == 0 {
                break;
            }
            while self.ht[0].buckets[idx].is_none() {
                idx += 1;
                empty_visits -= 1;
                if empty_visits == 0 {
                    self.rehash_idx = Some(idx);
                    return true;
                }
            }
            let mut chain = self.ht[0].buckets[idx].take();
            while let Some(mut node) = chain {
                chain = node.next.take();
                let h = self.hash(node.item.key()) as usize;
                let dst = &mut self.ht[1];
                let j = h & dst.mask();
                node.next = dst.buckets[j].take();
                dst.buckets[j] = Some(node);
                dst.used += 1;
                self.ht[0].used -= 1;
            }
            idx += 1;
        }
        if self.ht[0].used == 0 {
            self.ht[0] = std::mem::replace(&mut self.ht[1], Table::empty());
            self.rehash_idx = None;
            return false;
        }
        self.rehash_idx = Some(idx);
        true
    }

    /// Iterates over all items (both tables).
    pub fn iter(&self) -> impl Iterator<Item = &T> {
        self.ht.iter().flat_map(|t| t.buckets.iter()).flat_map(|b| {
            let mut cur = b.as_deref();
            std::iter::from_fn(move || {
                let node = cur?;
                cur = node.next.as_deref();
                Some(&node.item)
            })
        })
    }

    /// Calls `f` for the items of the buckets at `cursor` and returns the next
    /// cursor (0 when the scan is complete). Cursor bits are incremented in
    /// reverse so a resize between calls never makes the scan miss an item.
    pub fn scan(&self, cursor: u64, mut f: impl FnMut(&T)) -> u64 {
        if self.is_empty() {
            return 0;
        }
        let visit = |t: &Table<T>, idx: usize, f: &mut dyn FnMut(&T)| {
            let mut cur = t.buckets[idx].as_deref();
            while let Some(node) = cur {
                f(&node.item);
                cur = node.next.as_deref();
            }
        };
        let mut v = cursor as usize;
        let m0;
        if self.rehash_idx.is_none() {
            let t = &self.ht[0];
            m0 = t.mask();
            visit(t, v & m0, &mut f);
        } else {
            // Small table first, then every bucket of the large table that
            // expands from it.
            let (small, large) = if self.ht[0].buckets.len() <= self.ht[1].buckets.len() {
                (&self.ht[0], &self.ht[1])
            } else {
                (&self.ht[1], &self.ht[0])
            };
            m0 = small.mask();
            let m1 = large.mask();
            visit(small, v & m0, &mut f);
            loop {
                visit(large, v & m1, &mut f);
                v |= !m1;
                v = v.reverse_bits().wrapping_add(1).reverse_bits();
                if v & (m0 ^ m1) == 0 {
                    break;
                }
            }
            return v as u64;
        }
        v |= !m0;
        v = v.reverse_bits().wrapping_add(1).reverse_bits();
        v as u64
    }

    /// A random item: a random non-empty bucket, then a random node of its
    /// chain. `rand` supplies random numbers (injected for determinism).
    pub fn random(&self, mut rand: impl FnMut() -> u64) -> Option<&T> {
        if self.is_empty() {
            return None;
        }
        let bucket = loop {
            let (t, idx) = match self.rehash_idx {
                Some(r) => {
                    let total = self.ht[0].buckets.len() + self.ht[1].buckets.len() - r;
                    let i = r + (rand() as usize % total);
                    if i >= self.ht[0].buckets.len() {
                        (1, i - self.ht[0].buckets.len())
                    } else {
                        (0, i)
                    }
                }
                None => (0, rand() as usize & self.ht[0].mask()),
            };
            if let Some(b) = self.ht[t].buckets[idx].as_deref() {
                break b;
            }
        };
        let mut len = 0;
        let mut cur = Some(bucket);
        while let Some(n) = cur {
            len += 1;
            cur = n.next.as_deref();
        }
        let mut pick = rand() as usize % len;
        let mut cur = bucket;
        while pick > 0 {
            cur = cur.next.as_deref()?;
            pick -= 1;
        }
        Some(&cur.item)
    }
}

impl<T> Drop for Dict<T> {
    fn drop(&mut self) {
        // Unlink chains iteratively: a long chain dropped recursively could
        // overflow the stack.
        for t in self.ht.iter_mut() {
            for b in t.buckets.iter_mut() {
                let mut cur = b.take();
                while let Some(mut node) = cur {
                    cur = node.next.take();
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    impl Keyed for Vec<u8> {
        fn key(&self) -> &[u8] {
            self
        }
    }

    fn lcg(seed: &mut u64) -> u64 {
        *seed = seed.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
        *seed >> 33
    }

    #[test]
    fn insert_get_remove_through_rehash() {
        let mut d: Dict<Vec<u8>> = Dict::new();
        for i in 0..10_000u32 {
            d.insert_new(i.to_string().into_bytes());
        }
        assert_eq!(d.len(), 10_000);
        for i in 0..10_000u32 {
            assert!(d.get(i.to_string().as_bytes()).is_some());
        }
        for i in (0..10_000u32).step_by(2) {
            assert!(d.remove(i.to_string().as_bytes()).is_some());
        }
        assert_eq!(d.len(), 5_000);
        assert_eq!(d.iter().count(), 5_000);
    }

    #[test]
    fn a_clone_finds_every_item_and_grows_on_its_own() {
        let mut d: Dict<Vec<u8>> = Dict::new();
        for i in 0..1000u32 {
            d.insert_new(format!("k{i}").into_bytes());
        }
        // Caught in the middle of a rehash too.
        for extra in 1000..3000u32 {
            d.insert_new(format!("k{extra}").into_bytes());
            if d.is_rehashing() {
                break;
            }
        }
        let mut c = d.clone();
        assert_eq!(c.len(), d.len());
        assert_eq!(c.is_rehashing(), d.is_rehashing());
        for k in d.iter() {
            assert_eq!(c.get(k), Some(k));
        }
        let before = d.len();
        for i in 0..500u32 {
            c.insert_new(format!("more{i}").into_bytes());
        }
        while c.rehash(100) {}
        assert_eq!(c.len(), before + 500);
        assert_eq!(d.len(), before, "the original is untouched");
        assert!(c.get(b"more499").is_some() && c.get(b"k0").is_some() && d.get(b"more0").is_none());
    }

    #[test]
    fn scan_sees_every_stable_item_across_resizes() {
        let mut seed = 42;
        let mut d: Dict<Vec<u8>> = Dict::new();
        for i in 0..1000u32 {
            d.insert_new(format!("stable{i}").into_bytes());
        }
        let mut seen = HashSet::new();
        let mut cursor = 0;
        let (mut added, mut removed, mut step) = (0u32, 0u32, 0u32);
        loop {
            cursor = d.scan(cursor, |k| {
                seen.insert(k.clone());
            });
            // Grow the table under the scan, then shrink it back.
            step += 1;
            if step < 40 {
                for _ in 0..(lcg(&mut seed) % 200) {
                    d.insert_new(format!("extra{added}").into_bytes());
                    added += 1;
                }
            } else {
                for _ in 0..200 {
                    if removed < added {
                        d.remove(format!("extra{removed}").as_bytes());
                        removed += 1;
                    }
                }
                d.resize_if_sparse();
            }
            if cursor == 0 {
                break;
            }
        }
        for i in 0..1000u32 {
            assert!(seen.contains(format!("stable{i}").as_bytes()), "missed stable{i}");
        }
    }

    #[test]
    fn random_returns_members() {
        let mut d: Dict<Vec<u8>> = Dict::new();
        for i in 0..100u32 {
            d.insert_new(i.to_string().into_bytes());
        }
        let mut seed = 7;
        for _ in 0..100 {
            let k = d.random(|| lcg(&mut seed)).unwrap().clone();
            assert!(d.contains(&k));
        }
    }
}
