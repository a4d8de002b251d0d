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
    /// Asks the system to start writing `len` bytes from `from` to the disk
    /// without waiting for it: a hint that spreads the work of a later
    /// `sync` over the writing. Durability is still `sync`'s alone.
    fn start_writeback(&self, _from: u64, _len: u64) {}
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

    fn start_writeback(&self, from: u64, len: u64) {
        use std::os::fd::AsRawFd;
        let (Ok(from), Ok(len)) = (i64::try_from(from), i64::try_from(len)) else { return };
        // SAFETY: the descriptor is open for as long as `self`; the call
        // only reads its arguments. A failure leaves the work to `sync`.
        unsafe {
            libc::sync_file_range(self.0.as_raw_fd(), from, len, libc::SYNC_FILE_RANGE_WRITE);
        }
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

/// How much of a file each step of `release_in_steps` gives back, and the
/// pause after each step.
const RELEASE_STEP: u64 = 2 << 20;
const RELEASE_PAUSE: std::time::Duration = std::time::Duration::from_millis(2);

/// Gives the space of a file that is no longer wanted (unlinked already,
/// or about to be) back to the file system a little at a time, each step
/// synced. Freeing a large file in one go holds the file system's journal
/// for tens of milliseconds (35 ms for 170 MB here, with online discard),
/// and every sync anyone asks for meanwhile (the AOF's, a manifest's)
/// waits that long: other clients saw 40 ms pauses at the end of each
/// rewrite. In steps of 2 MB with a pause after each, no such wait passes
/// a few milliseconds, and the file system is never held for long by a
/// thread the scheduler puts last. Runs on a background thread (at the
/// caller's priority, which should be normal: a thread at the lowest
/// priority that holds the journal when it is preempted stalls everyone's
/// syncs); an error leaves the rest to the final unlink or close.
pub fn release_in_steps(f: &dyn LayerFile) {
    let Ok(mut len) = f.len() else { return };
    while len > RELEASE_STEP {
        len -= RELEASE_STEP;
        if f.truncate(len).and_then(|()| f.sync()).is_err() {
            return;
        }
        std::thread::sleep(RELEASE_PAUSE);
    }
}

/// Deletes `path`, releasing its space in steps first
/// (`release_in_steps`). Only for files no one reads any more.
pub fn remove_in_steps(fs: &dyn FileLayer, path: &Path) {
    if let Ok(f) = fs.open_append(path) {
        release_in_steps(&*f);
    }
    let _ = fs.remove(path);
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_file_no_one_needs_is_given_back_in_steps_then_removed() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("old.base.rdb");
        std::fs::write(&p, vec![7u8; 20 << 20]).unwrap();
        let f = Disk.open_append(&p).unwrap();
        release_in_steps(&*f);
        // Steps of 2 MB; the last 2 MB go with the file.
        assert_eq!(std::fs::metadata(&p).unwrap().len(), 2 << 20);
        drop(f);
        remove_in_steps(&Disk, &p);
        assert!(!p.exists());
        // A file already gone: nothing to do, no panic.
        remove_in_steps(&Disk, &p);
    }
}
