//! Which keys the user asked for: databases, glob patterns on the name, and
//! types. A key is selected when it passes every filter given; an absent
//! filter selects everything. Filters decide what is printed or counted,
//! never what is checked: the whole file is always read and verified.

use clap::ValueEnum;
use std::ffi::OsString;
use std::os::unix::ffi::OsStrExt;
use strata::persistence::rdb::format::ty;
use strata::util::GlobPattern;

/// A key's type as TYPE reports it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, ValueEnum)]
pub enum KeyType {
    String,
    List,
    Hash,
    Set,
    Zset,
}

impl KeyType {
    /// The type of a stored object type code; `None` for types no key of
    /// this tool can have (streams, modules: the decoder stops at them).
    pub fn of_code(t: u8) -> Option<KeyType> {
        Some(match t {
            ty::STRING => KeyType::String,
            ty::LIST | ty::LIST_ZIPLIST | ty::LIST_QUICKLIST | ty::LIST_QUICKLIST_2 => KeyType::List,
            ty::SET | ty::SET_INTSET | ty::SET_LISTPACK => KeyType::Set,
            ty::ZSET | ty::ZSET_2 | ty::ZSET_ZIPLIST | ty::ZSET_LISTPACK => KeyType::Zset,
            ty::HASH | ty::HASH_ZIPMAP | ty::HASH_ZIPLIST | ty::HASH_LISTPACK => KeyType::Hash,
            _ => return None,
        })
    }

    pub fn name(self) -> &'static str {
        match self {
            KeyType::String => "string",
            KeyType::List => "list",
            KeyType::Hash => "hash",
            KeyType::Set => "set",
            KeyType::Zset => "zset",
        }
    }
}

/// The name of a stored type code, lower case where the type is one users
/// know, else the format's own name.
pub fn type_name(t: u8) -> &'static str {
    KeyType::of_code(t).map_or(ty::name(t), KeyType::name)
}

pub struct Filter {
    dbs: Vec<u64>,
    /// `None` for a pattern that matches every name (a lone `*`).
    globs: Vec<Option<GlobPattern>>,
    types: Vec<KeyType>,
}

impl Filter {
    pub fn new(dbs: &[u64], globs: &[OsString], types: &[KeyType]) -> Filter {
        let globs = globs
            .iter()
            .map(|g| {
                let p = g.as_bytes();
                // As KEYS does: a lone star matches every name, the empty one
                // included (the matcher alone would not match an empty name).
                (p != b"*").then(|| GlobPattern::new(p, false))
            })
            .collect();
        Filter { dbs: dbs.to_vec(), globs, types: types.to_vec() }
    }

    /// True when some filter was given.
    pub fn is_active(&self) -> bool {
        !self.dbs.is_empty() || !self.globs.is_empty() || !self.types.is_empty()
    }

    pub fn db_selected(&self, db: u64) -> bool {
        self.dbs.is_empty() || self.dbs.contains(&db)
    }

    pub fn matches(&self, db: u64, key: &[u8], type_code: u8) -> bool {
        self.db_selected(db)
            && (self.types.is_empty() || KeyType::of_code(type_code).is_some_and(|t| self.types.contains(&t)))
            && (self.globs.is_empty() || self.globs.iter().any(|g| g.as_ref().is_none_or(|g| g.matches(key))))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_filter_must_pass() {
        let f = Filter::new(&[0, 3], &[OsString::from("user:*"), OsString::from("k?")], &[KeyType::Hash]);
        assert!(f.matches(0, b"user:1", ty::HASH_LISTPACK));
        assert!(f.matches(3, b"k1", ty::HASH));
        assert!(!f.matches(1, b"user:1", ty::HASH_LISTPACK));
        assert!(!f.matches(0, b"user:1", ty::STRING));
        assert!(!f.matches(0, b"other", ty::HASH));
        let all = Filter::new(&[], &[OsString::from("*")], &[]);
        assert!(all.matches(9, b"", ty::STRING));
        assert!(!Filter::new(&[], &[], &[]).is_active());
    }
}
