//! The file layer under the append-only file: every create, write, sync,
//! rename and removal the AOF code makes goes through `FileLayer`, so tests
//! can put a recording layer underneath and work out what a crash or a
//! power loss after any single operation would leave on disk.
//!
//! Invariant: the AOF code never touches its files except through this
//! layer; `Disk` is the only implementation the server itself uses.

use std::fs::{File, OpenOptions};
use std::io::{self, Write};
use std::path::Path;
use std::sync::Arc;

/// One open file, shared between the writer and the syncer threads.
pub trait LayerFile: Send + Sync {
    /// Appends all of `buf` at the end; on an error, how many bytes went in
    /// first (a short write) is returned with it.
    fn append(&self, buf: &[u8]) -> Result<(), (usize, io::Error)>;
    /// Makes the file's contents durable (fdatasync).
    fn sync(&self) -> io::Result<()>;
    /// Cuts the file to `len` bytes (undoing a short write).
    fn truncate(&self, len: u64) -> io::Result<()>;
    fn len(&self) -> io::Result<u64>;
}

/// What the AOF code needs of a file system.
pub trait FileLayer: Send + Sync {
    /// Creates `path` empty (replacing a file of that name) for appending.
    fn create(&self, path: &Path) -> io::Result<Arc<dyn LayerFile>>;
    /// Opens an existing file for appending.
    fn open_append(&self, path: &Path) -> io::Result<Arc<dyn LayerFile>>;
    fn rename(&self, from: &Path, to: &Path) -> io::Result<()>;
    fn remove(&self, path: &Path) -> io::Result<()>;
    /// Makes the directory's entries (creations, renames, removals) durable.
    fn sync_dir(&self, dir: &Path) -> io::Result<()>;
    fn create_dir(&self, dir: &Path) -> io::Result<()>;
}

/// The real file system.
#[derive(Debug, Default, Clone, Copy)]
pub struct Disk;

struct DiskFile(File);

impl LayerFile for DiskFile {
    fn append(&self, mut buf: &[u8]) -> Result<(), (usize, io::Error)> {
        let mut done = 0;
        while !buf.is_empty() {
            match (&self.0).write(buf) {
                Ok(0) => return Err((done, io::Error::from(io::ErrorKind::WriteZero))),
                Ok(n) => {
                    done += n;
                    buf = &buf[n..];
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err((done, e)),
            }
        }
        Ok(())
    }

    fn sync(&self) -> io::Result<()> {
        self.0.sync_data()
    }

    fn truncate(&self, len: u64) -> io::Result<()> {
        self.0.set_len(len)
    }

    fn len(&self) -> io::Result<u64> {
        Ok(self.0.metadata()?.len())
    }
}

impl FileLayer for Disk {
    fn create(&self, path: &Path) -> io::Result<Arc<dyn LayerFile>> {
        let f = OpenOptions::new().create(true).truncate(true).write(true).open(path)?;
        Ok(Arc::new(DiskFile(f)))
    }

    fn open_append(&self, path: &Path) -> io::Result<Arc<dyn LayerFile>> {
        Ok(Arc::new(DiskFile(OpenOptions::new().append(true).open(path)?)))
    }

    fn rename(&self, from: &Path, to: &Path) -> io::Result<()> {
        std::fs::rename(from, to)
    }

    fn remove(&self, path: &Path) -> io::Result<()> {
        std::fs::remove_file(path)
    }

    fn sync_dir(&self, dir: &Path) -> io::Result<()> {
        let dir = if dir.as_os_str().is_empty() { Path::new(".") } else { dir };
        File::open(dir)?.sync_all()
    }

    fn create_dir(&self, dir: &Path) -> io::Result<()> {
        match std::fs::create_dir(dir) {
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists && dir.is_dir() => Ok(()),
            r => r,
        }
    }
}

/// Writes `bytes` as the whole content of `path` so that a crash leaves
/// either the old file or the new one: a temporary file beside it, synced,
/// renamed over it, then the directory synced.
pub fn replace_file(fs: &dyn FileLayer, path: &Path, bytes: &[u8]) -> io::Result<()> {
    let dir = path.parent().unwrap_or(Path::new(""));
    let name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    let tmp = dir.join(format!("temp-{name}"));
    let f = fs.create(&tmp)?;
    let written = f.append(bytes).map_err(|(_, e)| e).and_then(|()| f.sync());
    drop(f);
    if let Err(e) = written.and_then(|()| fs.rename(&tmp, path)) {
        let _ = fs.remove(&tmp);
        return Err(e);
    }
    fs.sync_dir(dir)
}
