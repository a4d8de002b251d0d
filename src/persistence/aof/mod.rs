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
    /// directory, acknowledged writes and all.
    pub fn make_dir(&self, parent: &Path) -> io::Result<()> {
        self.fs.create_dir(&self.dir)?;
        self.fs.sync_dir(parent)
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

    /// Removes the history files of all but the last `keep` rewrites and
    /// drops them from the manifest; true when there were any (the caller
    /// then persists the manifest). The files are unlinked on a thread of
    /// their own: removing a large base can take the file system tens of
    /// milliseconds.
    pub fn delete_history(&mut self, keep: usize, log: &dyn Fn(&str)) -> bool {
        let mut paths = Vec::new();
        for h in self.manifest.trim_history(keep) {
            log(&format!("Removing the history file {} in the background", h.name));
            paths.push(self.path(&h.name));
        }
        if paths.is_empty() {
            return false;
        }
        let fs = self.fs.clone();
        let unlink = move || {
            for p in &paths {
                let _ = fs.remove(p);
            }
        };
        // Deleting a file of hundreds of MB keeps a core busy in the kernel
        // for milliseconds: at normal priority the command thread, when it
        // shared that core, waited 4 ms for it. Without a thread, the files
        // go now.
        let in_background = unlink.clone();
        let spawned = std::thread::Builder::new().name("aof-gc".into()).spawn(move || {
            crate::persistence::snapshot::yield_cpu_to_commands();
            in_background()
        });
        if spawned.is_err() {
            unlink();
        }
        true
    }
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
