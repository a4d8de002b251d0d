//! Finding a key stored twice in one database, which Redis refuses to load
//! ("duplicated key") although every record is sound on its own.
//!
//! Memory stays at one 64-bit hash per key, never the keys themselves: the
//! walk appends each key's hash to a vector (a sequential write, cheaper
//! than a hash set's scattered ones), which is sorted at the end. Equal
//! hashes send a second, value-skipping walk that gathers the keys behind
//! them and compares their bytes, telling a real duplicate from a hash
//! collision. The hash is seeded at random per run, so no file can be made
//! to collide on purpose.
//!
//! Invariant: a duplicate is reported only for two records whose database
//! and key bytes are equal.

use std::collections::{HashMap, HashSet};
use std::hash::{BuildHasher, Hasher};
use strata::persistence::rdb::{Item, LoadOptions, RdbReader};

pub struct KeysSeen {
    hashes: Vec<u64>,
    seed: foldhash::quality::RandomState,
}

/// Two records of one key: (database, key, first offset, second offset).
pub type Duplicate = (u64, Vec<u8>, usize, usize);

impl KeysSeen {
    pub fn new() -> KeysSeen {
        KeysSeen { hashes: Vec::new(), seed: foldhash::quality::RandomState::default() }
    }

    fn hash(&self, db: u64, key: &[u8]) -> u64 {
        let mut h = self.seed.build_hasher();
        h.write_u64(db);
        h.write(key);
        h.finish()
    }

    #[inline]
    pub fn add(&mut self, db: u64, key: &[u8]) {
        let h = self.hash(db, key);
        self.hashes.push(h);
    }

    /// The first key (in file order of its second record) stored twice, if
    /// any; `bytes` is the file the keys were read from.
    pub fn find_duplicate(mut self, bytes: &[u8]) -> Option<Duplicate> {
        self.hashes.sort_unstable();
        let repeated: HashSet<u64> = self.hashes.windows(2).filter(|w| w[0] == w[1]).map(|w| w[0]).collect();
        if repeated.is_empty() {
            return None;
        }
        self.hashes = Vec::new();
        let opts = LoadOptions { build_values: false, verify_checksum: false, ..LoadOptions::default() };
        let reader = RdbReader::new(bytes, opts).ok()?;
        let mut first_at: HashMap<(u64, Vec<u8>), usize> = HashMap::new();
        for item in reader {
            match item {
                Ok(Item::Key(k)) if repeated.contains(&self.hash(k.db, &k.key)) => {
                    let id = (k.db, k.key.to_vec());
                    if let Some(&first) = first_at.get(&id) {
                        return Some((id.0, id.1, first, k.offset));
                    }
                    first_at.insert(id, k.offset);
                }
                Ok(Item::End { .. }) | Err(_) => return None,
                Ok(_) => {}
            }
        }
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn no_keys_no_duplicate() {
        assert!(KeysSeen::new().find_duplicate(b"REDIS0010\xff").is_none());
    }
}
