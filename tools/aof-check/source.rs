//! Opening one file for reading: a regular file is memory-mapped (one pass,
//! front to back, so files larger than memory work), anything else is read
//! into memory; an empty file is an empty slice.
//!
//! Invariant: `bytes()` is the whole file as it was when opened, and the
//! mapping is dropped with the `Source`, before any change is made to the
//! file (a truncation under a live mapping would fault on access).

use memmap2::{Advice, Mmap};
use std::fs::File;
use std::io::{self, Read};
use std::path::Path;

pub enum Source {
    Mapped(Mmap),
    Read(Vec<u8>),
}

impl Source {
    pub fn open(path: &Path) -> io::Result<Source> {
        let mut file = File::open(path)?;
        let meta = file.metadata()?;
        if meta.is_dir() {
            return Err(io::Error::other("it is a directory, not a file"));
        }
        if meta.is_file() && meta.len() > 0 {
            // SAFETY: the map is only read, and dropped before this tool
            // changes the file. Another process truncating the file while
            // it is mapped would fault on access, as with any mapping: AOF
            // files are only appended to while a server runs.
            if let Ok(m) = unsafe { Mmap::map(&file) } {
                let _ = m.advise(Advice::Sequential);
                return Ok(Source::Mapped(m));
            }
        }
        let mut v = Vec::new();
        file.read_to_end(&mut v)?;
        Ok(Source::Read(v))
    }

    pub fn bytes(&self) -> &[u8] {
        match self {
            Source::Mapped(m) => m,
            Source::Read(v) => v,
        }
    }
}
