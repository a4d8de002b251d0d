//! The keyspace: numbered databases of keys, their values and expiry times.
//!
//! Pure data: no I/O, no sockets, no clock of its own (callers pass `now`).
//! Invariant: a key has an entry in a database's `expires` only if it is in
//! its `dict`.

pub mod cbytes;
pub mod db;
pub mod dict;
pub mod value;

pub use cbytes::CBytes;
pub use db::{Db, Entry};
pub use dict::Dict;
pub use value::Value;

pub struct Keyspace {
    pub dbs: Vec<Db>,
}

impl Keyspace {
    pub fn new(databases: usize) -> Self {
        Keyspace {
            dbs: (0..databases).map(Db::new).collect(),
        }
    }

    pub fn total_keys(&self) -> usize {
        self.dbs.iter().map(|d| d.len()).sum()
    }
}
