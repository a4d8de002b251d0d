//! Background freeing: values and whole databases that no command can reach
//! any more are dropped on a helper thread, so that UNLINK of a large value
//! or FLUSHALL ASYNC of millions of keys never stalls command execution.
//!
//! Invariants: only data already detached from every database is handed
//! over; the queue is bounded and, when it is full (or the helper thread
//! cannot start), the caller frees the data itself, so handing over never
//! blocks. `pending` counts objects handed over and not yet freed.

use super::db::{Entry, ExpireEntry};
use super::{Dict, Value};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc::{sync_channel, SyncSender, TrySendError};
use std::sync::Arc;

/// Values whose freeing costs more allocations than this go to the helper
/// thread (Redis's LAZYFREE_THRESHOLD).
pub const LAZYFREE_THRESHOLD: usize = 64;

/// Jobs the helper thread may hold before handing over falls back to
/// freeing in the caller.
const QUEUE_LEN: usize = 1024;

/// Something to drop, and how many objects it counts for. The contents
/// are never read: they are held only to be dropped on the helper thread.
#[allow(dead_code)]
enum Garbage {
    Entry(Entry),
    /// Freed in the background only to keep latency flat; not counted in
    /// the lazy-free statistics (Redis frees these inline).
    Quiet(Entry),
    /// A value no key holds (replaced in place, or computed for a reply),
    /// likewise uncounted.
    QuietValue(Value),
    Db(Dict<Entry>, Dict<ExpireEntry>),
    /// A database flushed where Redis frees inline (FLUSHALL without
    /// ASYNC), uncounted.
    QuietDb(Dict<Entry>, Dict<ExpireEntry>),
}

impl Garbage {
    fn objects(&self) -> u64 {
        match self {
            Garbage::Entry(_) => 1,
            Garbage::Quiet(_) | Garbage::QuietValue(_) | Garbage::QuietDb(..) => 0,
            Garbage::Db(d, _) => d.len() as u64,
        }
    }
}

#[derive(Default)]
struct Counters {
    /// Objects handed over, not yet freed (`lazyfree_pending_objects`).
    pending: AtomicU64,
    /// Objects freed by the helper thread (`lazyfreed_objects`).
    freed: AtomicU64,
}

#[derive(Default)]
pub struct LazyFree {
    /// Started on first use; `None` also after a failed start.
    tx: Option<SyncSender<Garbage>>,
    started: bool,
    counters: Arc<Counters>,
}

impl LazyFree {
    /// Frees a removed entry, in the background when its value is costly
    /// to free. Returns true when it was handed over.
    pub fn free_entry(&mut self, e: Entry) -> bool {
        if e.value.free_effort() <= LAZYFREE_THRESHOLD {
            drop(e);
            return false;
        }
        self.hand_over(Garbage::Entry(e))
    }

    /// Frees a removed entry where Redis would free inline (DEL without
    /// lazyfree, overwrites): a costly value still goes to the helper
    /// thread so no client waits for it, but the statistics do not count it.
    pub fn drop_entry(&mut self, e: Entry) {
        if e.value.free_effort() > LAZYFREE_THRESHOLD {
            self.hand_over(Garbage::Quiet(e));
        }
    }

    /// Frees a value no key holds any more as `drop_entry` frees an entry.
    pub fn drop_value(&mut self, v: Value) {
        if v.free_effort() > LAZYFREE_THRESHOLD {
            self.hand_over(Garbage::QuietValue(v));
        }
    }

    /// Frees the contents of a flushed database in the background.
    pub fn free_db(&mut self, dict: Dict<Entry>, expires: Dict<ExpireEntry>) -> bool {
        if dict.is_empty() && expires.is_empty() {
            return false;
        }
        self.hand_over(Garbage::Db(dict, expires))
    }

    /// Frees a flushed database's contents where Redis would free them
    /// inline: in the background all the same when they are many, so the
    /// flush never stalls other clients, but not counted.
    pub fn drop_db(&mut self, dict: Dict<Entry>, expires: Dict<ExpireEntry>) {
        if dict.len() + expires.len() > LAZYFREE_THRESHOLD
            || dict.iter().any(|e| e.value.free_effort() > LAZYFREE_THRESHOLD)
        {
            self.hand_over(Garbage::QuietDb(dict, expires));
        }
    }

    /// Objects waiting to be freed.
    pub fn pending_objects(&self) -> u64 {
        self.counters.pending.load(Ordering::Relaxed)
    }

    /// Objects freed in the background so far.
    pub fn freed_objects(&self) -> u64 {
        self.counters.freed.load(Ordering::Relaxed)
    }

    fn hand_over(&mut self, g: Garbage) -> bool {
        self.start();
        let Some(tx) = &self.tx else {
            drop(g);
            return false;
        };
        let n = g.objects();
        self.counters.pending.fetch_add(n, Ordering::Relaxed);
        match tx.try_send(g) {
            Ok(()) => true,
            Err(TrySendError::Full(g)) | Err(TrySendError::Disconnected(g)) => {
                self.counters.pending.fetch_sub(n, Ordering::Relaxed);
                drop(g);
                false
            }
        }
    }

    /// Starts the helper thread on first use.
    fn start(&mut self) {
        if !self.started {
            self.started = true;
            let (tx, rx) = sync_channel::<Garbage>(QUEUE_LEN);
            let counters = self.counters.clone();
            let spawned = std::thread::Builder::new().name("lazyfree".into()).spawn(move || {
                for g in rx {
                    let n = g.objects();
                    drop(g);
                    counters.pending.fetch_sub(n, Ordering::Relaxed);
                    counters.freed.fetch_add(n, Ordering::Relaxed);
                }
            });
            if spawned.is_ok() {
                self.tx = Some(tx);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::keyspace::Db;
    use crate::keyspace::Value;
    use std::time::{Duration, Instant};

    #[test]
    fn flushed_db_is_freed_in_the_background() {
        let mut db = Db::new(0);
        for i in 0..10_000u32 {
            db.set(i.to_string().as_bytes(), Value::string(b"v"), false, 0);
            if i % 2 == 0 {
                db.set_expire(i.to_string().as_bytes(), 1_000);
            }
        }
        let mut lf = LazyFree::default();
        let (d, e) = db.flush();
        assert!(lf.free_db(d, e));
        assert!(db.is_empty());
        let start = Instant::now();
        while lf.freed_objects() < 10_000 && start.elapsed() < Duration::from_secs(20) {
            std::thread::sleep(Duration::from_millis(5));
        }
        assert_eq!(lf.freed_objects(), 10_000);
        assert_eq!(lf.pending_objects(), 0);
    }

    #[test]
    fn cheap_values_are_freed_inline() {
        let mut db = Db::new(0);
        db.set(b"k", Value::string(b"v"), false, 0);
        let e = db.remove(b"k").expect("present");
        let mut lf = LazyFree::default();
        assert!(!lf.free_entry(e));
        assert!(!lf.started, "no thread for cheap frees");
        assert!(!lf.free_db(Dict::new(), Dict::new()));
    }
}
