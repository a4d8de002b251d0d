//! The AOF writer: a thread that appends what the command thread hands it
//! to the current incremental file and syncs it by the `appendfsync`
//! policy, so the command thread never waits on the disk.
//!
//! Offsets count every byte ever handed over. The command thread hands over
//! the writes of a batch of commands, then holds that batch's replies until
//! `released` reaches the offset it handed over up to: with `always` that
//! happens only once the bytes are written and synced, with `everysec` and
//! `no` once they are written (so a killed process loses nothing that was
//! acknowledged). Whatever piles up while the disk is busy goes out in the
//! next write and the next sync, shared by every client that waited (group
//! commit). With `everysec` a second thread syncs once a second, so a slow
//! sync never holds writes.
//!
//! Invariant: `synced <= written <= queued`; a reply waits for `released`,
//! which only passes `written` (or `synced`) after a failure has been
//! latched, and a latched failure refuses every further write (MISCONF)
//! until a later write or sync succeeds. With `always`, a failure stops the
//! server instead: nothing unsynced is ever acknowledged.

use super::fs::LayerFile;
use crate::config::LogLevel;
use std::sync::atomic::{AtomicBool, AtomicI32, AtomicU64, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Policy {
    Always,
    Everysec,
    No,
}

/// How often a failed write is retried, and the `everysec` period.
const RETRY_PERIOD: Duration = Duration::from_secs(1);
const SYNC_PERIOD: Duration = Duration::from_secs(1);

/// What the writer reports about the disk (INFO, MISCONF): the errno of
/// the last failed write and of the last failed sync, 0 when they went
/// well (cleared by the next success).
#[derive(Debug, Default)]
struct Health {
    write_errno: AtomicI32,
    sync_errno: AtomicI32,
}

struct Queue {
    buf: Vec<u8>,
    /// Offset just past `buf`.
    end: u64,
    /// A new file to switch to once the bytes before `.1` are written.
    rotate: Option<(Arc<dyn LayerFile>, u64)>,
    policy: Policy,
    /// Syncs are skipped while a rewrite runs (`no-appendfsync-on-rewrite`).
    sync_suspended: bool,
    stop: bool,
    /// The writer waits for work.
    idle: bool,
    /// Someone waits for everything queued to be written and synced.
    sync_wanted: bool,
}

struct Shared {
    q: Mutex<Queue>,
    work: Condvar,
    /// Wakes the syncer when the writer stops.
    stop_cv: Condvar,
    /// Woken when `synced` moves (waiters of `sync_all`).
    synced_cv: Condvar,
    written: AtomicU64,
    synced: AtomicU64,
    released: AtomicU64,
    /// Bytes in the current incremental file.
    file_bytes: AtomicU64,
    /// Syncs done (each covers everything written before it).
    syncs: AtomicU64,
    sync_running: AtomicBool,
    health: Health,
    file: Mutex<Arc<dyn LayerFile>>,
    replies: tokio::sync::Notify,
    fatal: fn(),
    log: fn(LogLevel, &str),
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

/// The command thread's handle on the writer.
pub struct Writer {
    shared: Arc<Shared>,
    threads: Vec<JoinHandle<()>>,
    /// Offset just past the last byte handed over.
    queued: u64,
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
            if self.0.released.load(Ordering::Acquire) >= offset {
                return;
            }
            notified.await;
        }
    }

    pub fn released(&self, offset: u64) -> bool {
        self.0.released.load(Ordering::Acquire) >= offset
    }
}

/// Where the writer logs, and what it does after logging that `always`
/// cannot be honoured (the server exits).
pub struct Hooks {
    pub log: fn(LogLevel, &str),
    pub fatal: fn(),
}

impl Writer {
    /// Starts writing at the end of `file` (which holds `file_bytes`).
    pub fn start(file: Arc<dyn LayerFile>, file_bytes: u64, policy: Policy, hooks: Hooks) -> std::io::Result<Writer> {
        let shared = Arc::new(Shared {
            q: Mutex::new(Queue {
                buf: Vec::new(),
                end: 0,
                rotate: None,
                policy,
                sync_suspended: false,
                stop: false,
                idle: false,
                sync_wanted: false,
            }),
            work: Condvar::new(),
            stop_cv: Condvar::new(),
            synced_cv: Condvar::new(),
            written: AtomicU64::new(0),
            synced: AtomicU64::new(0),
            released: AtomicU64::new(0),
            file_bytes: AtomicU64::new(file_bytes),
            syncs: AtomicU64::new(0),
            sync_running: AtomicBool::new(false),
            health: Health::default(),
            file: Mutex::new(file),
            replies: tokio::sync::Notify::new(),
            fatal: hooks.fatal,
            log: hooks.log,
        });
        let mut threads = Vec::new();
        let s = shared.clone();
        threads.push(std::thread::Builder::new().name("aof-writer".into()).spawn(move || write_loop(&s))?);
        let s = shared.clone();
        threads.push(std::thread::Builder::new().name("aof-sync".into()).spawn(move || sync_loop(&s))?);
        Ok(Writer { shared, threads, queued: 0 })
    }

    /// Hands bytes over; returns the offset replies must wait for.
    pub fn append(&mut self, bytes: &[u8]) -> u64 {
        if bytes.is_empty() {
            return self.queued;
        }
        let mut q = lock(&self.shared.q);
        q.buf.extend_from_slice(bytes);
        q.end += bytes.len() as u64;
        self.queued = q.end;
        if q.idle {
            q.idle = false;
            self.shared.work.notify_one();
        }
        self.queued
    }

    /// Offset of everything handed over so far.
    pub fn queued(&self) -> u64 {
        self.queued
    }

    pub fn releases(&self) -> Releases {
        Releases(self.shared.clone())
    }

    /// Continues in `file` from now on: what was handed over before goes to
    /// the current file, which is synced before the switch.
    pub fn rotate(&mut self, file: Arc<dyn LayerFile>) {
        let mut q = lock(&self.shared.q);
        q.rotate = Some((file, q.end));
        q.idle = false;
        self.shared.work.notify_one();
    }

    pub fn set_policy(&mut self, policy: Policy) {
        lock(&self.shared.q).policy = policy;
    }

    pub fn suspend_syncs(&mut self, suspended: bool) {
        lock(&self.shared.q).sync_suspended = suspended;
    }

    /// Blocks until everything handed over is written and synced (or a
    /// write fails): SHUTDOWN, turning the AOF off, DEBUG LOADAOF.
    pub fn sync_all(&mut self) -> Result<(), String> {
        let target = self.queued;
        let mut q = lock(&self.shared.q);
        loop {
            if self.shared.synced.load(Ordering::Acquire) >= target {
                return Ok(());
            }
            let errno = self.shared.health.write_errno.load(Ordering::Relaxed);
            if errno != 0 {
                return Err(crate::util::strerror(errno));
            }
            q.sync_wanted = true;
            q.idle = false;
            self.shared.work.notify_one();
            q = self.shared.synced_cv.wait_timeout(q, Duration::from_millis(100)).map(|r| r.0).unwrap_or_else(|p| p.into_inner().0);
        }
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
        self.queued - self.shared.written.load(Ordering::Relaxed)
    }

    pub fn sync_running(&self) -> bool {
        self.shared.sync_running.load(Ordering::Relaxed)
    }

    pub fn syncs(&self) -> u64 {
        self.shared.syncs.load(Ordering::Relaxed)
    }

    /// Stops the threads once everything is written and synced.
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
            self.shared.stop_cv.notify_all();
        }
        for t in self.threads.drain(..) {
            let _ = t.join();
        }
    }
}

impl Drop for Writer {
    fn drop(&mut self) {
        self.stop();
    }
}

fn errno_of(e: &std::io::Error) -> i32 {
    e.raw_os_error().unwrap_or(libc::EIO)
}

/// The writer thread: takes what piled up, writes it, syncs it when the
/// policy says so, releases the replies that waited for it.
fn write_loop(s: &Shared) {
    // Bytes that a failed write left unwritten, retried first.
    let mut left: Vec<u8> = Vec::new();
    let mut last_failure: Option<Instant> = None;
    loop {
        let (mut buf, end, rotate, policy, suspended, want_sync, stop) = {
            let mut q = lock(&s.q);
            loop {
                let retry_due = last_failure.is_some_and(|t| t.elapsed() >= RETRY_PERIOD);
                if !q.buf.is_empty() || q.rotate.is_some() || q.stop || q.sync_wanted || retry_due {
                    break;
                }
                q.idle = true;
                let wait = if last_failure.is_some() { RETRY_PERIOD } else { Duration::from_secs(3600) };
                q = s.work.wait_timeout(q, wait).map(|r| r.0).unwrap_or_else(|p| p.into_inner().0);
            }
            q.idle = false;
            let want = std::mem::take(&mut q.sync_wanted);
            (std::mem::take(&mut q.buf), q.end, q.rotate.take(), q.policy, q.sync_suspended, want, q.stop)
        };
        if !left.is_empty() {
            left.append(&mut buf);
            buf = std::mem::take(&mut left);
        }
        // The bytes before a rotation go to the old file, which is synced,
        // then the rest to the new one.
        let buf_start = s.written.load(Ordering::Acquire);
        let mut rest: &[u8] = &buf;
        let mut result = Ok(());
        if let Some((file, at)) = rotate {
            let split = (at.saturating_sub(buf_start) as usize).min(rest.len());
            result = write_some(s, &rest[..split]).and_then(|()| sync_file(s).map_err(|e| (rest[split..].to_vec(), e)));
            if result.is_ok() {
                *lock(&s.file) = file;
                s.file_bytes.store(0, Ordering::Relaxed);
                rest = &rest[split..];
            } else {
                // The switch waits for the retry.
                let mut q = lock(&s.q);
                if q.rotate.is_none() {
                    q.rotate = Some((file, at));
                }
            }
        }
        if result.is_ok() {
            result = write_some(s, rest);
        }
        match result {
            Ok(()) => {
                if last_failure.take().is_some() {
                    (s.log)(LogLevel::Notice, "AOF write error looks solved, the server accepts writes again.");
                }
                s.health.write_errno.store(0, Ordering::Relaxed);
                let sync_now = want_sync || (policy == Policy::Always && !suspended);
                let written = s.written.load(Ordering::Acquire);
                if sync_now {
                    if let Err(e) = sync_file(s) {
                        if policy == Policy::Always {
                            let why = crate::util::strerror(errno_of(&e));
                            (s.log)(LogLevel::Warning, &format!("Can't persist the AOF (fsync policy 'always'): {why}. Exiting..."));
                            (s.fatal)();
                        }
                        s.health.sync_errno.store(errno_of(&e), Ordering::Relaxed);
                    }
                }
                let release = if policy == Policy::Always && !suspended { s.synced.load(Ordering::Acquire) } else { written };
                s.released.fetch_max(release, Ordering::AcqRel);
            }
            Err((unwritten, e)) => {
                let errno = errno_of(&e);
                if policy == Policy::Always {
                    (s.log)(
                        LogLevel::Warning,
                        &format!(
                            "Can't recover from AOF write error when the AOF fsync policy is 'always': {}. Exiting...",
                            crate::util::strerror(errno)
                        ),
                    );
                    (s.fatal)();
                }
                if last_failure.is_none() {
                    (s.log)(LogLevel::Warning, &format!("Error writing to the AOF file: {}", crate::util::strerror(errno)));
                }
                s.health.write_errno.store(errno, Ordering::Relaxed);
                last_failure = Some(Instant::now());
                left = unwritten;
                // The data set has these writes already: their replies go
                // out, and later writes are refused until the disk recovers.
                s.released.fetch_max(end, Ordering::AcqRel);
            }
        }
        s.replies.notify_waiters();
        s.synced_cv.notify_all();
        if stop && left.is_empty() {
            let _ = sync_file(s);
            return;
        }
        if stop && last_failure.is_some() {
            return;
        }
    }
}

/// Appends to the current file; on failure returns the bytes still to write.
fn write_some(s: &Shared, bytes: &[u8]) -> Result<(), (Vec<u8>, std::io::Error)> {
    if bytes.is_empty() {
        return Ok(());
    }
    let file = lock(&s.file).clone();
    let before = s.file_bytes.load(Ordering::Relaxed);
    match file.append(bytes) {
        Ok(()) => {
            s.file_bytes.fetch_add(bytes.len() as u64, Ordering::Relaxed);
            s.written.fetch_add(bytes.len() as u64, Ordering::AcqRel);
            Ok(())
        }
        Err((done, e)) => {
            // Undo a short write so the file ends on a whole command; if
            // that fails too, what went in stays and is not written again.
            let kept = if done > 0 && file.truncate(before).is_err() {
                (s.log)(LogLevel::Warning, "Could not remove short write from the append-only file. The AOF may need aof-check --fix before the next start.");
                done
            } else {
                0
            };
            s.file_bytes.fetch_add(kept as u64, Ordering::Relaxed);
            s.written.fetch_add(kept as u64, Ordering::AcqRel);
            Err((bytes[kept..].to_vec(), e))
        }
    }
}

/// Syncs the current file; `synced` then covers everything written.
fn sync_file(s: &Shared) -> std::io::Result<()> {
    let target = s.written.load(Ordering::Acquire);
    if s.synced.load(Ordering::Acquire) >= target {
        return Ok(());
    }
    let file = lock(&s.file).clone();
    file.sync()?;
    s.syncs.fetch_add(1, Ordering::Relaxed);
    s.synced.fetch_max(target, Ordering::AcqRel);
    Ok(())
}

/// The `everysec` syncer: once a second, syncs what was written since the
/// last sync, off the writer's path.
fn sync_loop(s: &Shared) {
    loop {
        {
            let q = lock(&s.q);
            let (q, _) = s.stop_cv.wait_timeout_while(q, SYNC_PERIOD, |q| !q.stop).unwrap_or_else(|p| p.into_inner());
            if q.stop {
                return;
            }
            if q.policy != Policy::Everysec || q.sync_suspended {
                continue;
            }
        }
        if s.synced.load(Ordering::Acquire) >= s.written.load(Ordering::Acquire) {
            continue;
        }
        s.sync_running.store(true, Ordering::Relaxed);
        match sync_file(s) {
            Ok(()) => {
                if s.health.sync_errno.swap(0, Ordering::Relaxed) != 0 {
                    (s.log)(LogLevel::Notice, "AOF fsync error looks solved, the server accepts writes again.");
                }
            }
            Err(e) => {
                let errno = errno_of(&e);
                if s.health.sync_errno.swap(errno, Ordering::Relaxed) == 0 {
                    (s.log)(LogLevel::Warning, &format!("Error syncing the AOF file: {}", crate::util::strerror(errno)));
                }
            }
        }
        s.sync_running.store(false, Ordering::Relaxed);
        s.synced_cv.notify_all();
    }
}
