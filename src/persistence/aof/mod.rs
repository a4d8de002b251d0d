//! The multipart append-only file (docs/formats/aof.md): a directory
//! holding a manifest, one base file (RDB or commands) and incremental
//! files of RESP commands. This module keeps the command thread's side:
//! which files exist, the manifest on disk, the current incremental file
//! and its writer, sizes, and the rewrite bookkeeping. It knows nothing of
//! clients or commands; `commands::aof` decides when to rewrite and replays
//! files.
//!
//! Invariant: the manifest on disk always names files that exist and are
//! complete (a base reaches its final name synced before a manifest names
//! it; an incremental file is created before a manifest names it), and it
//! is only ever replaced whole (temp file, sync, rename, directory sync).

pub mod fs;
pub mod lock;
pub mod manifest;
pub mod reader;
pub mod rewrite;
pub mod writer;

use fs::{FileLayer, LayerFile};
use manifest::{FileEntry, FileKind, Manifest};
use std::io;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use writer::{Hooks, Policy, Writer};

/// A staging buffer that grew beyond this is not kept.
const STAGED_BYTES_KEEP: usize = 1 << 20;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    Off,
    On,
    /// Switched on at runtime: writes go to a new incremental file while
    /// the first base is written; the manifest names them when it is done.
    WaitRewrite,
}

/// A rewrite in progress (the snapshot itself is the background save).
#[derive(Debug, Clone)]
pub struct RewriteJob {
    pub base: FileEntry,
    /// First incremental file not covered by the new base.
    pub keep_from_seq: i64,
    pub started_ms: i64,
}

pub struct Aof {
    pub fs: Arc<dyn FileLayer>,
    pub status: Status,
    /// `dir`/`appenddirname`.
    pub dir: PathBuf,
    /// `appendfilename`.
    pub stem: String,
    pub manifest: Manifest,
    pub writer: Option<Writer>,
    /// Size of the base file and of the incremental files before the
    /// current one.
    pub base_bytes: u64,
    pub older_incr_bytes: u64,
    /// Size when the last rewrite ended, or at start (`aof_base_size` and
    /// the reference for `auto-aof-rewrite-percentage`).
    pub rewrite_base_bytes: u64,
    /// Second of the last `#TS:` annotation written.
    last_ts_secs: i64,
    /// Writes fed and not yet handed to the writer: the network layer hands
    /// them over once per round of ready clients, so one write (and with
    /// `always` one sync) serves them all.
    staged: Vec<u8>,
    pub rewrite: Option<RewriteJob>,
    pub rewrite_scheduled: bool,
    pub last_rewrite_secs: i64,
    pub last_rewrite_ok: bool,
    pub rewrites: u64,
    pub consecutive_failures: u64,
    /// Unix seconds of the last failed rewrite.
    pub last_failure_secs: i64,
    /// Back-off of automatic rewrites after repeated failures: the current
    /// delay, and the time before which none starts (0: none held).
    pub backoff_minutes: i64,
    pub backoff_until_secs: i64,
    /// Unix seconds of the last FLUSHALL or FLUSHDB run or loaded
    /// (`aof-flush-guard` counts from it), and whether the postponement it
    /// causes was logged.
    pub last_flush_secs: Option<i64>,
    pub flush_guard_logged: bool,
    /// This server's hold on `dir` while the AOF is on (lock.rs).
    pub lock: Option<lock::DirLock>,
    /// The AOF directory whose entry in its parent this process made
    /// durable: later rewrites need not sync the parent again.
    dir_durable: Option<PathBuf>,
    /// The history files being deleted, if a deletion runs.
    gc: Option<HistoryGc>,
}

impl Aof {
    pub fn new(fs: Arc<dyn FileLayer>) -> Aof {
        Aof {
            fs,
            status: Status::Off,
            dir: PathBuf::new(),
            stem: String::new(),
            manifest: Manifest::default(),
            writer: None,
            base_bytes: 0,
            older_incr_bytes: 0,
            rewrite_base_bytes: 0,
            last_ts_secs: 0,
            staged: Vec::new(),
            rewrite: None,
            rewrite_scheduled: false,
            last_rewrite_secs: -1,
            last_rewrite_ok: true,
            rewrites: 0,
            consecutive_failures: 0,
            last_failure_secs: 0,
            backoff_minutes: 0,
            backoff_until_secs: 0,
            last_flush_secs: None,
            flush_guard_logged: false,
            lock: None,
            dir_durable: None,
            gc: None,
        }
    }

    /// A FLUSHALL or FLUSHDB ran (or was loaded) at `now_secs`.
    pub fn note_flush(&mut self, now_secs: i64) {
        self.last_flush_secs = Some(now_secs);
        self.flush_guard_logged = false;
    }

    /// Seconds automatic rewrites still wait after the last flush under a
    /// guard of `guard_secs` (0 when they need not).
    pub fn flush_guard_left(&self, guard_secs: u32, now_secs: i64) -> i64 {
        self.last_flush_secs.map_or(0, |at| (at + i64::from(guard_secs) - now_secs).max(0))
    }

    pub fn path(&self, name: &str) -> PathBuf {
        self.dir.join(name)
    }

    pub fn manifest_path(&self) -> PathBuf {
        self.path(&manifest::manifest_name(&self.stem))
    }

    /// Replaces the manifest on disk with `m`.
    pub fn persist_manifest(&self, m: &Manifest) -> io::Result<()> {
        fs::replace_file(&*self.fs, &self.manifest_path(), &m.to_bytes())
    }

    /// Creates the AOF directory if needed and makes its entry in `parent`
    /// (`dir`) durable: without that, a power loss could take the whole
    /// directory, acknowledged writes and all. The parent is synced once
    /// per directory and process: a sync can wait tens of milliseconds for
    /// the file system's journal, and every rewrite passes here.
    pub fn make_dir(&mut self, parent: &Path) -> io::Result<()> {
        let existed = self.dir.is_dir();
        self.fs.create_dir(&self.dir)?;
        if existed && self.dir_durable.as_ref() == Some(&self.dir) {
            return Ok(());
        }
        self.fs.sync_dir(parent)?;
        self.dir_durable = Some(self.dir.clone());
        Ok(())
    }

    /// Takes the lock of the AOF directory unless held already; the
    /// warning to log when another process holds it or it cannot be made.
    /// The server goes on either way, as Redis would, but says it loudly:
    /// two servers appending to one AOF corrupt it, and `aof-edit` relies
    /// on the lock to leave a directory in use alone.
    pub fn hold_lock(&mut self) -> Option<String> {
        let want = self.dir.join(lock::lock_name(&self.stem));
        if self.lock.as_ref().is_some_and(|l| l.path() == want) {
            return None;
        }
        self.lock = None;
        match lock::acquire(&self.dir, &self.stem) {
            Ok(l) => {
                self.lock = Some(l);
                None
            }
            Err(e @ lock::LockError::Held { .. }) => Some(format!(
                "The AOF directory is in use by another process: {e}. Two servers appending to the same AOF corrupt it; give each its own dir."
            )),
            Err(e) => Some(format!("The AOF directory can't be locked ({e}); aof-edit will not see that it is in use.")),
        }
    }

    /// Creates incremental file `seq` (empty) and makes its name durable.
    pub fn create_incr(&self, seq: i64) -> io::Result<(FileEntry, Arc<dyn LayerFile>)> {
        let name = manifest::incr_name(&self.stem, seq);
        let f = self.fs.create(&self.path(&name))?;
        self.fs.sync_dir(&self.dir)?;
        Ok((FileEntry { name, seq, kind: FileKind::Incr }, f))
    }

    /// Total size of the files making up the data set (`aof_current_size`).
    pub fn current_bytes(&self) -> u64 {
        self.base_bytes + self.older_incr_bytes + self.writer.as_ref().map_or(0, |w| w.file_bytes())
    }

    /// Stages the writes of a batch for the writer, preceded by a `#TS:`
    /// annotation when timestamps are on and the second changed. Returns
    /// the offset replies must wait for (0 when nothing is written).
    pub fn feed(&mut self, bytes: &[u8], now_secs: i64, timestamps: bool) -> u64 {
        let Some(w) = self.writer.as_ref() else { return 0 };
        if !bytes.is_empty() {
            if timestamps && now_secs > self.last_ts_secs {
                self.last_ts_secs = now_secs;
                self.staged.extend_from_slice(format!("#TS:{now_secs}\r\n").as_bytes());
            }
            self.staged.extend_from_slice(bytes);
        }
        w.queued() + self.staged.len() as u64
    }

    /// Whether staged writes wait to be handed over.
    pub fn has_staged(&self) -> bool {
        !self.staged.is_empty()
    }

    /// Hands the staged writes to the writer.
    pub fn hand_over(&mut self) {
        if let Some(w) = self.writer.as_mut() {
            // Also retries a write that failed, when nothing is staged.
            w.append(&self.staged);
            self.staged.clear();
            if self.staged.capacity() > STAGED_BYTES_KEEP {
                self.staged = Vec::new();
            }
        } else {
            self.staged.clear();
        }
    }

    /// Starts the writer on `file` (holding `file_bytes` already).
    pub fn start_writer(
        &mut self,
        file: Arc<dyn LayerFile>,
        file_bytes: u64,
        policy: Policy,
        hooks: Hooks,
    ) -> io::Result<()> {
        self.writer = Some(Writer::start(file, file_bytes, policy, hooks)?);
        self.staged.clear();
        self.last_ts_secs = 0;
        Ok(())
    }

    /// Starts deleting the history files of all but the last `keep`
    /// rewrites, unless a deletion is still running (the next call after it
    /// ends takes what is left). They stay named in the manifest until
    /// `finish_history_gc` sees them gone: a crash meanwhile leaves them
    /// named as history (never loaded, deleted at the next start), never
    /// as files no manifest names. On a thread of its own: removing a large
    /// base takes the file system tens of milliseconds.
    pub fn start_history_gc(&mut self, keep: usize, log: &dyn Fn(&str)) {
        if self.gc.is_some() {
            return;
        }
        let doomed = self.manifest.history_beyond(keep);
        if doomed.is_empty() {
            return;
        }
        let names: Vec<String> = doomed.iter().map(|h| h.name.clone()).collect();
        let paths: Vec<PathBuf> = names.iter().map(|n| self.path(n)).collect();
        for n in &names {
            log(&format!("Removing the history file {n} in the background"));
        }
        let done = Arc::new(AtomicBool::new(false));
        let fs = self.fs.clone();
        let finished = done.clone();
        let unlink = move || {
            for p in &paths {
                fs::remove_in_steps(&*fs, p);
            }
            finished.store(true, Ordering::Release);
        };
        // At normal priority: the steps are short and paced, and a thread
        // at the lowest one could be preempted while it holds the file
        // system's journal. Without a thread, the files go now (in steps).
        let in_background = unlink.clone();
        if std::thread::Builder::new().name("aof-gc".into()).spawn(in_background).is_err() {
            unlink();
        }
        self.gc = Some(HistoryGc { names, dir: self.dir.clone(), done });
    }

    /// Waits up to `limit` for a deletion started by `start_history_gc` to
    /// end (shutdown).
    pub fn wait_history_gc(&self, limit: std::time::Duration) {
        let Some(gc) = self.gc.as_ref() else { return };
        let deadline = std::time::Instant::now() + limit;
        while !gc.done.load(Ordering::Acquire) && std::time::Instant::now() < deadline {
            std::thread::sleep(std::time::Duration::from_millis(1));
        }
    }

    /// Once the deletion started by `start_history_gc` has ended, drops the
    /// deleted files from the manifest and persists it; None while none
    /// ended.
    pub fn finish_history_gc(&mut self) -> Option<io::Result<()>> {
        if !self.gc.as_ref()?.done.load(Ordering::Acquire) {
            return None;
        }
        let gc = self.gc.take()?;
        if gc.dir != self.dir {
            // The AOF moved meanwhile: that manifest is not ours to write.
            return Some(Ok(()));
        }
        self.manifest.history.retain(|h| !gc.names.contains(&h.name));
        Some(self.persist_manifest(&self.manifest))
    }
}

/// History files being deleted in the background.
struct HistoryGc {
    names: Vec<String>,
    /// The AOF directory they were in.
    dir: PathBuf,
    done: Arc<AtomicBool>,
}

/// What a start-up finds in the data directory.
pub enum Found {
    /// A manifest (parsed) in the AOF directory.
    Manifest(Manifest),
    /// A single-file AOF of Redis before 7.0 at this path, to be moved into
    /// the AOF directory.
    Legacy(PathBuf),
    Nothing,
}

/// Looks for an AOF: the manifest in `aof_dir`, else an old single file
/// named `stem` in `dir` (or already moved into `aof_dir` by an upgrade
/// that stopped before writing its manifest).
pub fn locate(dir: &Path, aof_dir: &Path, stem: &str) -> Result<Found, String> {
    let mpath = aof_dir.join(manifest::manifest_name(stem));
    match std::fs::read(&mpath) {
        Ok(text) => {
            let m =
                Manifest::parse(&text).map_err(|e| format!("Can't load the AOF manifest {}: {e}", mpath.display()))?;
            return Ok(Found::Manifest(m));
        }
        Err(e) if e.kind() == io::ErrorKind::NotFound => {}
        Err(e) => return Err(format!("Can't read the AOF manifest {}: {e}", mpath.display())),
    }
    for p in [dir.join(stem), aof_dir.join(stem)] {
        if p.is_file() {
            return Ok(Found::Legacy(p));
        }
    }
    Ok(Found::Nothing)
}

/// Whether bytes begin like an RDB file (a base with the RDB preamble).
pub fn is_rdb(bytes: &[u8]) -> bool {
    bytes.starts_with(crate::persistence::rdb::format::MAGIC)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};

    /// The real disk, counting directory syncs.
    #[derive(Default)]
    struct CountingDisk(AtomicUsize);

    impl FileLayer for CountingDisk {
        fn create(&self, path: &Path) -> io::Result<Arc<dyn LayerFile>> {
            fs::Disk.create(path)
        }
        fn open_append(&self, path: &Path) -> io::Result<Arc<dyn LayerFile>> {
            fs::Disk.open_append(path)
        }
        fn rename(&self, from: &Path, to: &Path) -> io::Result<()> {
            fs::Disk.rename(from, to)
        }
        fn remove(&self, path: &Path) -> io::Result<()> {
            fs::Disk.remove(path)
        }
        fn sync_dir(&self, dir: &Path) -> io::Result<()> {
            self.0.fetch_add(1, Ordering::Relaxed);
            fs::Disk.sync_dir(dir)
        }
        fn create_dir(&self, dir: &Path) -> io::Result<()> {
            fs::Disk.create_dir(dir)
        }
    }

    #[test]
    fn the_aof_directory_entry_is_synced_once_unless_made_again() {
        let parent = tempfile::tempdir().unwrap();
        let disk = Arc::new(CountingDisk::default());
        let mut aof = Aof::new(disk.clone());
        aof.dir = parent.path().join("appendonlydir");
        aof.make_dir(parent.path()).unwrap();
        assert!(aof.dir.is_dir());
        aof.make_dir(parent.path()).unwrap();
        assert_eq!(disk.0.load(Ordering::Relaxed), 1, "a rewrite does not sync the parent again");
        // Made again (someone removed it): its new entry is synced.
        std::fs::remove_dir(&aof.dir).unwrap();
        aof.make_dir(parent.path()).unwrap();
        assert_eq!(disk.0.load(Ordering::Relaxed), 2);
        // Another directory (CONFIG SET dir): synced too.
        aof.dir = parent.path().join("other");
        aof.make_dir(parent.path()).unwrap();
        assert_eq!(disk.0.load(Ordering::Relaxed), 3);
    }
}
