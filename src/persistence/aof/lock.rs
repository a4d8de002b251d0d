//! The lock that says a process is using an AOF directory: a file
//! `<appendfilename>.lock` beside the manifest, held with `flock` by the
//! server while it appends there and by `aof-edit` while it changes the
//! files. The kernel releases it when the holder exits, however it exits,
//! so a lock is never left stale; the file itself stays and only carries
//! the holder's pid for messages.
//!
//! Redis does not know the file and ignores it (it reads only what its
//! manifest names).

use std::fs::{File, OpenOptions};
use std::io::{self, Read, Seek, Write};
use std::os::fd::AsRawFd;
use std::path::{Path, PathBuf};

pub fn lock_name(stem: &str) -> String {
    format!("{stem}.lock")
}

/// A held lock; dropping it releases the lock.
#[derive(Debug)]
pub struct DirLock {
    path: PathBuf,
    _file: File,
}

impl DirLock {
    pub fn path(&self) -> &Path {
        &self.path
    }
}

#[derive(Debug)]
pub enum LockError {
    /// Another process holds it; its pid when the file names one.
    Held {
        path: PathBuf,
        pid: Option<u32>,
    },
    Io {
        path: PathBuf,
        err: io::Error,
    },
}

impl std::fmt::Display for LockError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            LockError::Held { path, pid: Some(pid) } => {
                write!(f, "{} is held by process {pid}", path.display())
            }
            LockError::Held { path, pid: None } => write!(f, "{} is held by another process", path.display()),
            LockError::Io { path, err } => write!(f, "can't open the lock file {}: {err}", path.display()),
        }
    }
}

/// Takes the lock of the AOF called `stem` in `dir` without waiting, and
/// writes this process's pid into the file.
pub fn acquire(dir: &Path, stem: &str) -> Result<DirLock, LockError> {
    let path = dir.join(lock_name(stem));
    let io_err = |err| LockError::Io { path: path.clone(), err };
    let mut file =
        OpenOptions::new().read(true).write(true).create(true).truncate(false).open(&path).map_err(io_err)?;
    // SAFETY: flock on a descriptor this function owns; no memory involved.
    if unsafe { libc::flock(file.as_raw_fd(), libc::LOCK_EX | libc::LOCK_NB) } != 0 {
        let err = io::Error::last_os_error();
        if err.kind() == io::ErrorKind::WouldBlock {
            let mut text = String::new();
            let _ = file.read_to_string(&mut text);
            return Err(LockError::Held { pid: text.trim().parse().ok(), path });
        }
        return Err(io_err(err));
    }
    let stamp = (|| {
        file.set_len(0)?;
        file.rewind()?;
        writeln!(file, "{}", std::process::id())
    })();
    stamp.map_err(io_err)?;
    Ok(DirLock { path, _file: file })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_second_holder_is_refused_until_the_first_lets_go() {
        let d = tempfile::tempdir().unwrap();
        let first = acquire(d.path(), "appendonly.aof").unwrap();
        match acquire(d.path(), "appendonly.aof") {
            Err(LockError::Held { pid, .. }) => assert_eq!(pid, Some(std::process::id())),
            other => panic!("second acquire: {other:?}"),
        }
        drop(first);
        assert!(acquire(d.path(), "appendonly.aof").is_ok());
    }
}
