//! A `FileLayer` that performs every operation on the real disk and keeps an
//! ordered log of them, so a test can rebuild the directory a process crash
//! (page cache kept) or a power loss (only synced data and synced directory
//! entries kept) after any single operation would have left.
//!
//! Model. Files are inodes: `create` of a name that exists truncates that
//! inode (O_TRUNC), otherwise makes a new one. Each inode has its visible
//! bytes and its durable bytes; a sync makes durable what was visible when
//! the sync *began* (an append racing with the sync is not covered: the
//! pessimistic reading). A truncation or O_TRUNC is, like an append, only
//! durable after a sync. Directory entries (names of files and of
//! subdirectories) are visible at once and durable only once their
//! directory is synced; a power loss restores the durable entries of every
//! directory (a rename not dir-synced goes back to the old name, and the old
//! target name to its old inode), and drops everything under a directory
//! whose own entry never became durable. What the recording starts from is
//! taken as durable.

use std::collections::{BTreeMap, BTreeSet};
use std::io;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};
use strata::persistence::aof::fs::{Disk, FileLayer, LayerFile};

/// One operation, with paths relative to the recorded directory ("" is the
/// directory itself) and files named by inode number.
#[derive(Debug, Clone)]
pub enum Op {
    /// `create(path)`: a new inode, or the existing one cut to zero.
    Create {
        path: PathBuf,
        file: usize,
    },
    /// `open_append(path)`: no change on disk; names the inode for what follows.
    Open {
        path: PathBuf,
        file: usize,
    },
    Append {
        file: usize,
        bytes: Vec<u8>,
    },
    /// A completed sync: durable up to `len`, the length when it began;
    /// `began_at` is the log length then.
    Sync {
        file: usize,
        len: u64,
        began_at: usize,
    },
    Truncate {
        file: usize,
        len: u64,
    },
    Rename {
        from: PathBuf,
        to: PathBuf,
    },
    Remove {
        path: PathBuf,
    },
    SyncDir {
        dir: PathBuf,
    },
    CreateDir {
        dir: PathBuf,
    },
}

/// An operation, when it completed (since the recording started) and the
/// name of the thread that made it.
#[derive(Debug, Clone)]
pub struct Entry {
    pub op: Op,
    pub at: Duration,
    pub thread: String,
}

/// What survives.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// The process died: every completed operation is visible.
    ProcessCrash,
    /// The machine lost power: only synced data and synced entries are left.
    PowerLoss,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Node {
    File(usize),
    Dir,
}

/// What the recorder knows live: the visible names, to give `create` the
/// right inode, and each inode's visible length, for what a sync covers.
struct Live {
    log: Vec<Entry>,
    names: BTreeMap<PathBuf, Node>,
    lens: Vec<u64>,
}

struct Inner {
    root: PathBuf,
    start: Instant,
    /// The tree at the start: (relative path, Some(content) for a file, None
    /// for a directory); files get inode numbers in this order.
    initial: Vec<(PathBuf, Option<Vec<u8>>)>,
    live: Mutex<Live>,
}

fn lock(m: &Mutex<Live>) -> MutexGuard<'_, Live> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

impl Inner {
    fn rel(&self, p: &Path) -> PathBuf {
        match p.strip_prefix(&self.root) {
            Ok(r) => r.to_path_buf(),
            // Outside the recorded directory: kept absolute, so a check of
            // the tree shows it (the server has no business there).
            Err(_) => p.to_path_buf(),
        }
    }

    fn push(&self, live: &mut Live, op: Op) {
        let at = self.start.elapsed();
        let thread = std::thread::current().name().unwrap_or("?").to_string();
        live.log.push(Entry { op, at, thread });
    }
}

/// The recording layer. Hand `clone()` of the `Arc` to the server; keep one
/// to read the log.
pub struct RecordingFs {
    inner: Arc<Inner>,
    disk: Disk,
}

impl RecordingFs {
    /// Starts recording `root` (made canonical: pass `root()` to the server
    /// as its `dir`). What it holds now is taken as durable.
    pub fn start(root: &Path) -> Arc<RecordingFs> {
        let root = std::fs::canonicalize(root).unwrap_or_else(|e| panic!("canonicalize {}: {e}", root.display()));
        let mut initial = Vec::new();
        walk(&root, Path::new(""), &mut initial);
        let mut names = BTreeMap::new();
        let mut lens = Vec::new();
        names.insert(PathBuf::new(), Node::Dir);
        for (path, content) in &initial {
            match content {
                Some(c) => {
                    names.insert(path.clone(), Node::File(lens.len()));
                    lens.push(c.len() as u64);
                }
                None => {
                    names.insert(path.clone(), Node::Dir);
                }
            }
        }
        let inner =
            Inner { root, start: Instant::now(), initial, live: Mutex::new(Live { log: Vec::new(), names, lens }) };
        Arc::new(RecordingFs { inner: Arc::new(inner), disk: Disk })
    }

    /// The recorded directory, canonical.
    pub fn root(&self) -> &Path {
        &self.inner.root
    }

    /// Operations logged so far.
    pub fn len(&self) -> usize {
        lock(&self.inner.live).log.len()
    }

    /// Time since the recording started, on the clock of the log's `at`.
    pub fn elapsed(&self) -> Duration {
        self.inner.start.elapsed()
    }

    /// A copy of the log.
    pub fn log(&self) -> Vec<Entry> {
        lock(&self.inner.live).log.clone()
    }

    /// The directory as it would be found after the first `upto` operations
    /// (files only, relative paths; directories are implied by the paths).
    pub fn durable_state(&self, upto: usize, mode: Mode) -> BTreeMap<PathBuf, Vec<u8>> {
        let log = self.log();
        assert!(upto <= log.len(), "cut {upto} past the end of the log ({} operations)", log.len());
        let mut r = self.replay();
        for e in &log[..upto] {
            r.apply(&e.op);
        }
        r.state(mode)
    }

    /// A replay at the start of the log, to walk it once and take the state
    /// at many cut points.
    pub fn replay(&self) -> Replay {
        Replay::new(&self.inner.initial)
    }

    fn wrap(&self, file: Arc<dyn LayerFile>, id: usize) -> Arc<dyn LayerFile> {
        Arc::new(RecFile { inner: file, id, rec: self.inner.clone() })
    }
}

fn walk(abs: &Path, rel: &Path, out: &mut Vec<(PathBuf, Option<Vec<u8>>)>) {
    let mut entries: Vec<_> = std::fs::read_dir(abs)
        .unwrap_or_else(|e| panic!("read_dir {}: {e}", abs.display()))
        .map(|e| e.expect("directory entry"))
        .collect();
    entries.sort_by_key(|e| e.file_name());
    for e in entries {
        let a = e.path();
        let r = rel.join(e.file_name());
        if e.file_type().expect("file type").is_dir() {
            out.push((r.clone(), None));
            walk(&a, &r, out);
        } else {
            let bytes = std::fs::read(&a).unwrap_or_else(|e| panic!("read {}: {e}", a.display()));
            out.push((r, Some(bytes)));
        }
    }
}

impl FileLayer for RecordingFs {
    fn create(&self, path: &Path) -> io::Result<Arc<dyn LayerFile>> {
        let rel = self.inner.rel(path);
        let mut live = lock(&self.inner.live);
        let f = self.disk.create(path)?;
        let id = match live.names.get(&rel) {
            Some(Node::File(id)) => {
                let id = *id;
                live.lens[id] = 0;
                id
            }
            _ => {
                let id = live.lens.len();
                live.lens.push(0);
                live.names.insert(rel.clone(), Node::File(id));
                id
            }
        };
        self.inner.push(&mut live, Op::Create { path: rel, file: id });
        drop(live);
        Ok(self.wrap(f, id))
    }

    fn open_append(&self, path: &Path) -> io::Result<Arc<dyn LayerFile>> {
        let rel = self.inner.rel(path);
        let mut live = lock(&self.inner.live);
        let f = self.disk.open_append(path)?;
        let id = match live.names.get(&rel) {
            Some(Node::File(id)) => *id,
            // Made behind the layer's back (a file the server wrote with
            // plain std::fs): an inode from now on, its bytes unknown here.
            _ => {
                let id = live.lens.len();
                live.lens.push(f.len().unwrap_or(0));
                live.names.insert(rel.clone(), Node::File(id));
                id
            }
        };
        self.inner.push(&mut live, Op::Open { path: rel, file: id });
        drop(live);
        Ok(self.wrap(f, id))
    }

    fn rename(&self, from: &Path, to: &Path) -> io::Result<()> {
        let (rf, rt) = (self.inner.rel(from), self.inner.rel(to));
        let mut live = lock(&self.inner.live);
        self.disk.rename(from, to)?;
        move_names(&mut live.names, &rf, &rt);
        self.inner.push(&mut live, Op::Rename { from: rf, to: rt });
        Ok(())
    }

    fn remove(&self, path: &Path) -> io::Result<()> {
        let rel = self.inner.rel(path);
        let mut live = lock(&self.inner.live);
        self.disk.remove(path)?;
        live.names.remove(&rel);
        self.inner.push(&mut live, Op::Remove { path: rel });
        Ok(())
    }

    fn sync_dir(&self, dir: &Path) -> io::Result<()> {
        let rel = self.inner.rel(dir);
        let mut live = lock(&self.inner.live);
        self.disk.sync_dir(dir)?;
        self.inner.push(&mut live, Op::SyncDir { dir: rel });
        Ok(())
    }

    fn create_dir(&self, dir: &Path) -> io::Result<()> {
        let rel = self.inner.rel(dir);
        let mut live = lock(&self.inner.live);
        let existed = live.names.get(&rel) == Some(&Node::Dir);
        self.disk.create_dir(dir)?;
        if !existed {
            live.names.insert(rel.clone(), Node::Dir);
            self.inner.push(&mut live, Op::CreateDir { dir: rel });
        }
        Ok(())
    }
}

/// Renames `from` (a file, or a directory with everything under it) to `to`
/// in a name table.
fn move_names(names: &mut BTreeMap<PathBuf, Node>, from: &Path, to: &Path) {
    let moved: Vec<PathBuf> = names.keys().filter(|p| p.starts_with(from)).cloned().collect();
    // The target is replaced (a directory target must be empty for rename(2)).
    names.remove(to);
    for p in moved {
        let node = names.remove(&p).expect("listed");
        let suffix = p.strip_prefix(from).expect("under from");
        let np = if suffix.as_os_str().is_empty() { to.to_path_buf() } else { to.join(suffix) };
        names.insert(np, node);
    }
}

struct RecFile {
    inner: Arc<dyn LayerFile>,
    id: usize,
    rec: Arc<Inner>,
}

impl LayerFile for RecFile {
    fn append(&self, buf: &[u8]) -> Result<(), (usize, io::Error)> {
        let r = self.inner.append(buf);
        let done = match &r {
            Ok(()) => buf.len(),
            Err((n, _)) => *n,
        };
        if done > 0 {
            let mut live = lock(&self.rec.live);
            live.lens[self.id] += done as u64;
            self.rec.push(&mut live, Op::Append { file: self.id, bytes: buf[..done].to_vec() });
        }
        r
    }

    fn sync(&self) -> io::Result<()> {
        let (len, began_at) = {
            let live = lock(&self.rec.live);
            (live.lens[self.id], live.log.len())
        };
        self.inner.sync()?;
        let mut live = lock(&self.rec.live);
        self.rec.push(&mut live, Op::Sync { file: self.id, len, began_at });
        Ok(())
    }

    fn truncate(&self, len: u64) -> io::Result<()> {
        self.inner.truncate(len)?;
        let mut live = lock(&self.rec.live);
        live.lens[self.id] = len;
        self.rec.push(&mut live, Op::Truncate { file: self.id, len });
        Ok(())
    }

    fn len(&self) -> io::Result<u64> {
        self.inner.len()
    }
}

#[derive(Clone, Default)]
struct Inode {
    data: Vec<u8>,
    durable: Vec<u8>,
}

/// The log applied one operation at a time.
pub struct Replay {
    inodes: Vec<Inode>,
    visible: BTreeMap<PathBuf, Node>,
    durable: BTreeMap<PathBuf, Node>,
    /// Operations applied.
    pub applied: usize,
}

fn parent(p: &Path) -> PathBuf {
    p.parent().map(Path::to_path_buf).unwrap_or_default()
}

impl Replay {
    fn new(initial: &[(PathBuf, Option<Vec<u8>>)]) -> Replay {
        let mut inodes = Vec::new();
        let mut visible = BTreeMap::new();
        visible.insert(PathBuf::new(), Node::Dir);
        for (path, content) in initial {
            match content {
                Some(c) => {
                    visible.insert(path.clone(), Node::File(inodes.len()));
                    inodes.push(Inode { data: c.clone(), durable: c.clone() });
                }
                None => {
                    visible.insert(path.clone(), Node::Dir);
                }
            }
        }
        let durable = visible.clone();
        Replay { inodes, visible, durable, applied: 0 }
    }

    fn inode(&mut self, id: usize) -> &mut Inode {
        if self.inodes.len() <= id {
            self.inodes.resize(id + 1, Inode::default());
        }
        &mut self.inodes[id]
    }

    pub fn apply(&mut self, op: &Op) {
        self.applied += 1;
        match op {
            Op::Create { path, file } => {
                let existing = self.visible.get(path) == Some(&Node::File(*file));
                let ino = self.inode(*file);
                if existing {
                    ino.data.clear();
                } else {
                    *ino = Inode::default();
                    self.visible.insert(path.clone(), Node::File(*file));
                }
            }
            Op::Open { path, file } => {
                self.inode(*file);
                self.visible.entry(path.clone()).or_insert(Node::File(*file));
            }
            Op::Append { file, bytes } => self.inode(*file).data.extend_from_slice(bytes),
            Op::Sync { file, len, .. } => {
                let ino = self.inode(*file);
                let n = (*len as usize).min(ino.data.len());
                ino.durable = ino.data[..n].to_vec();
            }
            Op::Truncate { file, len } => self.inode(*file).data.resize(*len as usize, 0),
            Op::Rename { from, to } => move_names(&mut self.visible, from, to),
            Op::Remove { path } => {
                self.visible.remove(path);
            }
            Op::SyncDir { dir } => {
                self.durable.retain(|p, _| p.as_os_str().is_empty() || parent(p) != *dir);
                for (p, n) in &self.visible {
                    if !p.as_os_str().is_empty() && parent(p) == *dir {
                        self.durable.insert(p.clone(), *n);
                    }
                }
            }
            Op::CreateDir { dir } => {
                self.visible.entry(dir.clone()).or_insert(Node::Dir);
            }
        }
    }

    /// The files as `mode` leaves them.
    pub fn state(&self, mode: Mode) -> BTreeMap<PathBuf, Vec<u8>> {
        let mut out = BTreeMap::new();
        match mode {
            Mode::ProcessCrash => {
                for (p, n) in &self.visible {
                    if let Node::File(id) = n {
                        out.insert(p.clone(), self.inodes[*id].data.clone());
                    }
                }
            }
            Mode::PowerLoss => {
                // An entry survives only if every directory above it does.
                let dirs: BTreeSet<&PathBuf> =
                    self.durable.iter().filter(|(_, n)| **n == Node::Dir).map(|(p, _)| p).collect();
                let reachable = |p: &Path| p.ancestors().skip(1).all(|a| dirs.contains(&a.to_path_buf()));
                for (p, n) in &self.durable {
                    if let Node::File(id) = n {
                        if reachable(p) {
                            out.insert(p.clone(), self.inodes[*id].durable.clone());
                        }
                    }
                }
            }
        }
        out
    }

    /// Directories as `mode` leaves them (relative paths, the root left out).
    pub fn dirs(&self, mode: Mode) -> Vec<PathBuf> {
        let table = if mode == Mode::ProcessCrash { &self.visible } else { &self.durable };
        let all: BTreeSet<&PathBuf> = table.iter().filter(|(_, n)| **n == Node::Dir).map(|(p, _)| p).collect();
        all.iter()
            .filter(|p| !p.as_os_str().is_empty() && p.ancestors().skip(1).all(|a| all.contains(&a.to_path_buf())))
            .map(|p| (*p).clone())
            .collect()
    }
}

/// Writes a reconstructed tree under `dest` (which must exist).
pub fn write_tree(dest: &Path, files: &BTreeMap<PathBuf, Vec<u8>>, dirs: &[PathBuf]) {
    for d in dirs {
        std::fs::create_dir_all(dest.join(d)).unwrap_or_else(|e| panic!("mkdir {}: {e}", d.display()));
    }
    for (p, bytes) in files {
        assert!(p.is_relative(), "the server touched {} outside its directory", p.display());
        let full = dest.join(p);
        if let Some(parent) = full.parent() {
            std::fs::create_dir_all(parent).unwrap_or_else(|e| panic!("mkdir {}: {e}", parent.display()));
        }
        std::fs::write(&full, bytes).unwrap_or_else(|e| panic!("write {}: {e}", full.display()));
    }
}

/// A short listing of a tree: each file with its size, for failure messages.
pub fn describe_tree(files: &BTreeMap<PathBuf, Vec<u8>>) -> String {
    files.iter().map(|(p, b)| format!("{} ({} bytes)", p.display(), b.len())).collect::<Vec<_>>().join(", ")
}
