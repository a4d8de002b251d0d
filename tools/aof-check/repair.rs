//! Changing a file on disk, the only thing this tool ever writes: copy the
//! original aside (`<file>.bak`, or `.bak.1`, `.bak.2`, ... when taken),
//! then truncate the file at a byte offset, syncing both.
//!
//! Invariant: a file is truncated only after a complete, synced copy of it
//! exists under a name that did not exist before, and only if its size is
//! still the size that was checked (a file that grew or shrank since, say
//! because a server is appending to it, is left alone).

use std::fs::{self, File, OpenOptions};
use std::io;
use std::path::{Path, PathBuf};

/// Backup names tried before giving up.
const BACKUP_NAMES_MAX: u32 = 1000;

/// Copies `path` (expected to hold `size` bytes) to a new backup file and
/// syncs it; returns the backup's path.
pub fn backup(path: &Path, size: u64) -> io::Result<PathBuf> {
    let mut src = File::open(path)?;
    check_size(&src, size, path)?;
    let (dest_path, mut dest) = claim_backup_name(path)?;
    let copied = io::copy(&mut src, &mut dest).and_then(|n| dest.sync_all().map(|()| n));
    match copied {
        Ok(n) if n == size => {}
        Ok(n) => {
            let _ = fs::remove_file(&dest_path);
            return Err(io::Error::other(format!(
                "{} changed while it was copied ({n} bytes copied, {size} expected)",
                path.display()
            )));
        }
        Err(e) => {
            let _ = fs::remove_file(&dest_path);
            return Err(e);
        }
    }
    if let Ok(perm) = src.metadata().map(|m| m.permissions()) {
        let _ = fs::set_permissions(&dest_path, perm);
    }
    sync_parent(&dest_path);
    Ok(dest_path)
}

/// Truncates `path` from `size` bytes to `len`, and syncs it.
pub fn truncate(path: &Path, size: u64, len: u64) -> io::Result<()> {
    let f = OpenOptions::new().write(true).open(path)?;
    check_size(&f, size, path)?;
    f.set_len(len)?;
    f.sync_all()
}

fn check_size(f: &File, size: u64, path: &Path) -> io::Result<()> {
    let now = f.metadata()?.len();
    if now != size {
        return Err(io::Error::other(format!(
            "{} is now {now} bytes, not the {size} that were checked: is a server writing to it? \
                 Stop the server, then run aof-check again",
            path.display()
        )));
    }
    Ok(())
}

/// Creates the first free `<path>.bak`, `<path>.bak.1`, ... (never
/// replacing a file).
fn claim_backup_name(path: &Path) -> io::Result<(PathBuf, File)> {
    let mut name = path.as_os_str().to_owned();
    name.push(".bak");
    let first = PathBuf::from(&name);
    for n in 0..BACKUP_NAMES_MAX {
        let candidate = if n == 0 {
            first.clone()
        } else {
            let mut s = name.clone();
            s.push(format!(".{n}"));
            PathBuf::from(s)
        };
        match OpenOptions::new().write(true).create_new(true).open(&candidate) {
            Ok(f) => return Ok((candidate, f)),
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists => continue,
            Err(e) => return Err(io::Error::new(e.kind(), format!("cannot create {}: {e}", candidate.display()))),
        }
    }
    Err(io::Error::new(
        io::ErrorKind::AlreadyExists,
        format!("{}.bak to .bak.{} all exist: remove old backups", path.display(), BACKUP_NAMES_MAX - 1),
    ))
}

/// Makes a new name in a directory durable (best effort).
fn sync_parent(path: &Path) {
    let dir = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    if let Ok(d) = File::open(dir) {
        let _ = d.sync_all();
    }
}
