//! The AOF writer: appends what the command thread hands it to the current
//! incremental file, on the command thread, once per round of ready clients
//! (as Redis writes once per event loop turn), and syncs it by the
//! `appendfsync` policy. With `always` the write of a round is synced there
//! and then, before any of the round's clients gets its reply: one write
//! and one sync for every client of the round (group commit). With
//! `everysec` a syncer thread syncs once a second, so the command thread
//! never waits on that sync; it also syncs an incremental file left behind
//! by a rewrite.
//!
//! Offsets count every byte ever handed over. The command thread holds the
//! replies of a batch until `released` reaches the offset it handed over up
//! to: with `everysec` and `no` that is as soon as the bytes are written (a
//! killed process loses nothing acknowledged); with `always` once they are
//! synced.
//!
//! Invariant: `synced <= written <= queued`; a reply waits for `released`,
//! which passes `written` (or with `always`, `synced`) only after a failure
//! has been latched, and a latched failure refuses every further write
//! (MISCONF) until a later write or sync succeeds. With `always`, a failure
//! stops the server instead: nothing unsynced is ever acknowledged.

use super::fs::LayerFile;
use crate::config::LogLevel;
use std::collections::VecDeque;
use std::sync::atomic::{AtomicBool, AtomicI32, AtomicU64, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::thread::JoinHandle;
use std::time::Duration;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Policy {
    Always,
    Everysec,
    No,
}

/// The `everysec` period.
const SYNC_PERIOD: Duration = Duration::from_secs(1);

/// The errno of the last failed write and of the last failed sync, 0 when
/// they went well (cleared by the next success).
#[derive(Debug, Default)]
struct Health {
    write_errno: AtomicI32,
    sync_errno: AtomicI32,
}

/// Syncs asked for, in order: each syncs its file up to its offset.
struct Syncs {
    wanted: VecDeque<(Arc<dyn LayerFile>, u64)>,
    policy: Policy,
    /// Syncs are skipped while a rewrite runs (`no-appendfsync-on-rewrite`).
    suspended: bool,
    stop: bool,
    idle: bool,
}

struct Shared {
    q: Mutex<Syncs>,
    work: Condvar,
    /// Woken when `synced` moves (for `sync_all`).
    synced_cv: Condvar,
    written: AtomicU64,
    /// Bytes in the current file.
    file_bytes: AtomicU64,
    synced: AtomicU64,
    released: AtomicU64,
    syncs: AtomicU64,
    sync_running: AtomicBool,
    health: Health,
    /// The file being appended to (the `everysec` syncer syncs it).
    current: Mutex<Arc<dyn LayerFile>>,
    replies: tokio::sync::Notify,
    fatal: fn(),
    log: fn(LogLevel, &str),
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

/// Where the writer logs, and what it does after logging that `always`
/// cannot be honoured (the server exits).
pub struct Hooks {
    pub log: fn(LogLevel, &str),
    pub fatal: fn(),
}

/// The command thread's handle on the AOF file and its syncer.
pub struct Writer {
    shared: Arc<Shared>,
    file: Arc<dyn LayerFile>,
    syncer: Option<JoinHandle<()>>,
    /// Offset just past the last byte handed over.
    queued: u64,
    /// Offset just past the last byte written (command thread's writes).
    written: u64,
    /// Bytes a failed write left unwritten, written first next time.
    retry: Vec<u8>,
    policy: Policy,
    suspended: bool,
}

/// What the network layer keeps to wait for releases without borrowing
/// the server state.
#[derive(Clone)]
pub struct Releases(Arc<Shared>);

impl Releases {
    /// Waits until replies depending on bytes before `offset` may go out.
    pub async fn wait(&self, offset: u64) {
        loop {
            let notified = self.0.replies.notified();
            tokio::pin!(notified);
            notified.as_mut().enable();
            if self.released(offset) {
                return;
            }
            notified.await;
        }
    }

    pub fn released(&self, offset: u64) -> bool {
        self.0.released.load(Ordering::Acquire) >= offset
    }
}

fn errno_of(e: &std::io::Error) -> i32 {
    e.raw_os_error().unwrap_or(libc::EIO)
}

impl Writer {
    /// Starts appending at the end of `file` (which holds `file_bytes`).
    pub fn start(file: Arc<dyn LayerFile>, file_bytes: u64, policy: Policy, hooks: Hooks) -> std::io::Result<Writer> {
        let shared = Arc::new(Shared {
            q: Mutex::new(Syncs { wanted: VecDeque::new(), policy, suspended: false, stop: false, idle: false }),
            work: Condvar::new(),
            synced_cv: Condvar::new(),
            written: AtomicU64::new(0),
            file_bytes: AtomicU64::new(file_bytes),
            synced: AtomicU64::new(0),
            released: AtomicU64::new(0),
            syncs: AtomicU64::new(0),
            sync_running: AtomicBool::new(false),
            health: Health::default(),
            current: Mutex::new(file.clone()),
            replies: tokio::sync::Notify::new(),
            fatal: hooks.fatal,
            log: hooks.log,
        });
        let s = shared.clone();
        let syncer = std::thread::Builder::new().name("aof-sync".into()).spawn(move || sync_loop(&s))?;
        Ok(Writer {
            shared,
            file,
            syncer: Some(syncer),
            queued: 0,
            written: 0,
            retry: Vec::new(),
            policy,
            suspended: false,
        })
    }

    /// Writes `bytes` (after anything a failed write left); returns the
    /// offset replies depending on them must wait for.
    pub fn append(&mut self, bytes: &[u8]) -> u64 {
        self.queued += bytes.len() as u64;
        if !self.retry.is_empty() {
            self.retry.extend_from_slice(bytes);
            self.retry_now();
        } else if !bytes.is_empty() {
            if let Err((done, e)) = self.write_file(bytes) {
                self.failed(e, &bytes[done..]);
            } else {
                self.after_write();
            }
        }
        self.queued()
    }

    /// Retries a write that failed (the periodic task calls it).
    pub fn retry_now(&mut self) {
        if self.retry.is_empty() {
            return;
        }
        let pending = std::mem::take(&mut self.retry);
        match self.write_file(&pending) {
            Ok(()) => {
                (self.shared.log)(LogLevel::Notice, "AOF write error looks solved, the server accepts writes again.");
                self.shared.health.write_errno.store(0, Ordering::Relaxed);
                self.after_write();
            }
            Err((done, e)) => {
                self.retry = pending[done..].to_vec();
                self.shared.health.write_errno.store(errno_of(&e), Ordering::Relaxed);
            }
        }
    }

    /// Appends to the file; a short write is undone (the file must end on a
    /// whole command) unless that fails too, in which case what went in
    /// stays counted. Err carries how many bytes stay written.
    fn write_file(&mut self, bytes: &[u8]) -> Result<(), (usize, std::io::Error)> {
        match self.file.append(bytes) {
            Ok(()) => {
                self.advance(bytes.len());
                Ok(())
            }
            Err((done, e)) => {
                let before = self.shared.file_bytes.load(Ordering::Relaxed);
                let kept = if done > 0 && self.file.truncate(before).is_err() {
                    (self.shared.log)(
                        LogLevel::Warning,
                        "Could not remove short write from the append-only file. The AOF may need aof-check --fix before the next start.",
                    );
                    done
                } else {
                    0
                };
                self.advance(kept);
                Err((kept, e))
            }
        }
    }

    fn advance(&mut self, n: usize) {
        self.shared.file_bytes.fetch_add(n as u64, Ordering::Relaxed);
        self.written += n as u64;
        self.shared.written.store(self.written, Ordering::Release);
    }

    /// After a good write: with `always` the file is synced first, then the
    /// replies go out.
    fn after_write(&mut self) {
        if self.policy == Policy::Always && !self.suspended {
            self.sync_here(&self.file.clone());
        }
        self.release(self.written);
    }

    /// Syncs `file` on the command thread (`always`); a failure stops the
    /// server, since nothing unsynced may be acknowledged.
    fn sync_here(&self, file: &Arc<dyn LayerFile>) {
        match file.sync() {
            Ok(()) => {
                self.shared.syncs.fetch_add(1, Ordering::Relaxed);
                self.shared.synced.fetch_max(self.written, Ordering::AcqRel);
            }
            Err(e) => {
                let why = crate::util::strerror(errno_of(&e));
                (self.shared.log)(
                    LogLevel::Warning,
                    &format!("Can't persist the AOF (fsync policy 'always'): {why}. Exiting..."),
                );
                (self.shared.fatal)();
            }
        }
    }

    fn release(&self, offset: u64) {
        if self.shared.released.fetch_max(offset, Ordering::AcqRel) < offset {
            self.shared.replies.notify_waiters();
        }
    }

    fn failed(&mut self, e: std::io::Error, unwritten: &[u8]) {
        let errno = errno_of(&e);
        if self.policy == Policy::Always {
            (self.shared.log)(
                LogLevel::Warning,
                &format!(
                    "Can't recover from AOF write error when the AOF fsync policy is 'always': {}. Exiting...",
                    crate::util::strerror(errno)
                ),
            );
            (self.shared.fatal)();
        }
        if self.shared.health.write_errno.swap(errno, Ordering::Relaxed) == 0 {
            (self.shared.log)(
                LogLevel::Warning,
                &format!("Error writing to the AOF file: {}", crate::util::strerror(errno)),
            );
        }
        self.retry = unwritten.to_vec();
        // The data set has these writes already: their replies go out, and
        // later writes are refused (MISCONF) until the disk recovers.
        self.release(self.queued());
    }

    fn want_sync(&self, file: Arc<dyn LayerFile>, offset: u64) {
        let mut q = lock(&self.shared.q);
        match q.wanted.back_mut() {
            Some(last) if Arc::ptr_eq(&last.0, &file) => last.1 = offset,
            _ => q.wanted.push_back((file, offset)),
        }
        if q.idle {
            q.idle = false;
            self.shared.work.notify_one();
        }
    }

    /// Offset of everything handed over so far.
    pub fn queued(&self) -> u64 {
        self.queued
    }

    pub fn releases(&self) -> Releases {
        Releases(self.shared.clone())
    }

    /// Continues in `file` from now on; the old file is synced in the
    /// background (replies waiting for it still wait with `always`).
    pub fn rotate(&mut self, file: Arc<dyn LayerFile>) {
        self.retry_now();
        let old = std::mem::replace(&mut self.file, file.clone());
        if self.policy == Policy::Always && !self.suspended {
            // Replies released from now on must not overtake the old file.
            self.sync_here(&old);
        }
        // The old file's sync is asked for and the current file switched in
        // one step under the queue lock, so a periodic sync never takes the
        // new file for bytes that are in the old one.
        let mut q = lock(&self.shared.q);
        q.wanted.push_back((old, self.written));
        *lock(&self.shared.current) = file;
        if q.idle {
            q.idle = false;
            self.shared.work.notify_one();
        }
        self.shared.file_bytes.store(0, Ordering::Relaxed);
        drop(q);
    }

    pub fn set_policy(&mut self, policy: Policy) {
        self.policy = policy;
        lock(&self.shared.q).policy = policy;
        if policy != Policy::Always {
            self.release(self.written);
        }
    }

    pub fn suspend_syncs(&mut self, suspended: bool) {
        self.suspended = suspended;
        lock(&self.shared.q).suspended = suspended;
        if suspended {
            self.release(self.written);
        }
    }

    /// Blocks until everything written is synced: SHUTDOWN, switching the
    /// AOF off, DEBUG LOADAOF. Err when bytes could not be written.
    pub fn sync_all(&mut self) -> Result<(), String> {
        self.retry_now();
        if !self.retry.is_empty() {
            let errno = self.shared.health.write_errno.load(Ordering::Relaxed);
            return Err(crate::util::strerror(errno));
        }
        let target = self.written;
        self.want_sync(self.file.clone(), target);
        let mut q = lock(&self.shared.q);
        while self.shared.synced.load(Ordering::Acquire) < target {
            let errno = self.shared.health.sync_errno.load(Ordering::Relaxed);
            if errno != 0 && q.wanted.is_empty() {
                return Err(crate::util::strerror(errno));
            }
            q = self
                .shared
                .synced_cv
                .wait_timeout(q, Duration::from_millis(100))
                .map(|r| r.0)
                .unwrap_or_else(|p| p.into_inner().0);
        }
        Ok(())
    }

    /// The errno of the write or sync failure in force, if any: writes
    /// are refused until it clears.
    pub fn failure(&self) -> Option<i32> {
        let h = &self.shared.health;
        let e = h.write_errno.load(Ordering::Relaxed);
        let e = if e != 0 { e } else { h.sync_errno.load(Ordering::Relaxed) };
        (e != 0).then_some(e)
    }

    /// Bytes in the current incremental file, as written so far.
    pub fn file_bytes(&self) -> u64 {
        self.shared.file_bytes.load(Ordering::Relaxed)
    }

    /// Bytes handed over and not yet written (`aof_buffer_length`).
    pub fn pending_bytes(&self) -> u64 {
        self.retry.len() as u64
    }

    pub fn sync_running(&self) -> bool {
        self.shared.sync_running.load(Ordering::Relaxed)
    }

    /// Syncs done so far.
    pub fn syncs(&self) -> u64 {
        self.shared.syncs.load(Ordering::Relaxed)
    }

    /// Syncs everything and stops the syncer.
    pub fn close(mut self) -> Result<(), String> {
        let r = self.sync_all();
        self.stop();
        r
    }

    fn stop(&mut self) {
        {
            let mut q = lock(&self.shared.q);
            q.stop = true;
            self.shared.work.notify_all();
        }
        if let Some(t) = self.syncer.take() {
            let _ = t.join();
        }
    }
}

impl Drop for Writer {
    fn drop(&mut self) {
        self.stop();
    }
}

/// The syncer thread: syncs what was asked for, in order (each request
/// covers everything written to its file before it), releasing the replies
/// that waited; with `everysec`, syncs the current file once a second.
fn sync_loop(s: &Shared) {
    let mut last_periodic = std::time::Instant::now();
    loop {
        let (file, target) = {
            let mut q = lock(&s.q);
            loop {
                if let Some(j) = q.wanted.pop_front() {
                    break j;
                }
                if q.stop {
                    return;
                }
                if q.policy == Policy::Everysec && !q.suspended && last_periodic.elapsed() >= SYNC_PERIOD {
                    // Read under the queue lock: with no sync asked for, every
                    // byte written is in the current file.
                    last_periodic = std::time::Instant::now();
                    break (lock(&s.current).clone(), s.written.load(Ordering::Acquire));
                }
                q.idle = true;
                let wait = if q.policy == Policy::Everysec {
                    SYNC_PERIOD.saturating_sub(last_periodic.elapsed())
                } else {
                    Duration::from_secs(3600)
                };
                q = s
                    .work
                    .wait_timeout(q, wait.max(Duration::from_millis(1)))
                    .map(|r| r.0)
                    .unwrap_or_else(|p| p.into_inner().0);
            }
        };
        if s.synced.load(Ordering::Acquire) >= target {
            s.released.fetch_max(target, Ordering::AcqRel);
            continue;
        }
        s.sync_running.store(true, Ordering::Relaxed);
        let result = file.sync();
        s.sync_running.store(false, Ordering::Relaxed);
        match result {
            Ok(()) => {
                s.syncs.fetch_add(1, Ordering::Relaxed);
                s.synced.fetch_max(target, Ordering::AcqRel);
                if s.health.sync_errno.swap(0, Ordering::Relaxed) != 0 {
                    (s.log)(LogLevel::Notice, "AOF fsync error looks solved, the server accepts writes again.");
                }
                if s.released.fetch_max(target, Ordering::AcqRel) < target {
                    s.replies.notify_waiters();
                }
            }
            Err(e) => {
                let errno = errno_of(&e);
                let always = lock(&s.q).policy == Policy::Always;
                if always {
                    (s.log)(
                        LogLevel::Warning,
                        &format!(
                            "Can't persist the AOF (fsync policy 'always'): {}. Exiting...",
                            crate::util::strerror(errno)
                        ),
                    );
                    (s.fatal)();
                }
                if s.health.sync_errno.swap(errno, Ordering::Relaxed) == 0 {
                    (s.log)(
                        LogLevel::Warning,
                        &format!("Error syncing the AOF file: {}", crate::util::strerror(errno)),
                    );
                }
                // Released anyway: writes are refused until a sync succeeds.
                if s.released.fetch_max(target, Ordering::AcqRel) < target {
                    s.replies.notify_waiters();
                }
            }
        }
        s.synced_cv.notify_all();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::AtomicUsize;

    /// A file in memory that fails writes while `fail` is set, after
    /// taking `short` bytes of the write.
    #[derive(Default)]
    struct Flaky {
        data: Mutex<Vec<u8>>,
        fail: AtomicBool,
        short: AtomicUsize,
        syncs: AtomicUsize,
    }

    impl LayerFile for Flaky {
        fn append(&self, buf: &[u8]) -> Result<(), (usize, std::io::Error)> {
            let mut d = lock(&self.data);
            if self.fail.load(Ordering::Relaxed) {
                let n = self.short.load(Ordering::Relaxed).min(buf.len());
                d.extend_from_slice(&buf[..n]);
                return Err((n, std::io::Error::from_raw_os_error(libc::ENOSPC)));
            }
            d.extend_from_slice(buf);
            Ok(())
        }
        fn sync(&self) -> std::io::Result<()> {
            self.syncs.fetch_add(1, Ordering::Relaxed);
            Ok(())
        }
        fn truncate(&self, len: u64) -> std::io::Result<()> {
            lock(&self.data).truncate(len as usize);
            Ok(())
        }
        fn len(&self) -> std::io::Result<u64> {
            Ok(lock(&self.data).len() as u64)
        }
    }

    fn quiet(_: LogLevel, _: &str) {}
    static FATAL: AtomicUsize = AtomicUsize::new(0);
    fn count_fatal() {
        FATAL.fetch_add(1, Ordering::Relaxed);
    }
    fn hooks() -> Hooks {
        Hooks { log: quiet, fatal: count_fatal }
    }

    #[test]
    fn a_failed_write_latches_releases_replies_and_clears_on_retry() {
        let f = Arc::new(Flaky::default());
        let mut w = Writer::start(f.clone(), 0, Policy::Everysec, hooks()).unwrap();
        assert_eq!(w.append(b"one;"), 4);
        f.fail.store(true, Ordering::Relaxed);
        f.short.store(2, Ordering::Relaxed);
        let at = w.append(b"two;");
        assert_eq!(at, 8);
        assert_eq!(w.failure(), Some(libc::ENOSPC));
        assert!(w.releases().released(at), "replies go out, later writes are refused instead");
        assert_eq!(&*lock(&f.data), b"one;", "the short write was undone");
        w.append(b"three;");
        assert_eq!(w.pending_bytes(), 10);
        f.fail.store(false, Ordering::Relaxed);
        w.retry_now();
        assert_eq!(w.failure(), None);
        assert_eq!(&*lock(&f.data), b"one;two;three;");
        w.sync_all().unwrap();
        assert!(f.syncs.load(Ordering::Relaxed) >= 1);
    }

    #[test]
    fn always_releases_only_synced_bytes_and_a_rotation_syncs_the_old_file() {
        let old = Arc::new(Flaky::default());
        let new = Arc::new(Flaky::default());
        let mut w = Writer::start(old.clone(), 0, Policy::Always, hooks()).unwrap();
        let at = w.append(b"abc");
        let r = w.releases();
        let deadline = std::time::Instant::now() + Duration::from_secs(10);
        while !r.released(at) {
            assert!(std::time::Instant::now() < deadline, "never released");
            std::thread::yield_now();
        }
        assert!(old.syncs.load(Ordering::Relaxed) >= 1, "released before a sync");
        w.rotate(new.clone());
        let at = w.append(b"def");
        w.sync_all().unwrap();
        assert!(r.released(at));
        assert_eq!((&*lock(&old.data), &*lock(&new.data)), (&b"abc".to_vec(), &b"def".to_vec()));
        assert_eq!(FATAL.load(Ordering::Relaxed), 0);
    }
}
