//! Opening the input: a regular file is memory-mapped (the walk touches
//! each page once, front to back, so the kernel can read ahead and drop
//! pages behind); standard input and other unmappable files are read into
//! memory. Recognises what is not an RDB file and says what it is instead.
//!
//! Invariant: `bytes()` is the whole input, unchanged, for the life of the
//! `Source`.

use crate::Failure;
use memmap2::{Advice, Mmap};
use std::ffi::OsString;
use std::fs::File;
use std::io::Read;
use std::path::Path;

pub enum Source {
    Mapped(Mmap),
    Read(Vec<u8>),
}

impl Source {
    pub fn open(path: &OsString, name: &str) -> Result<Source, Failure> {
        let source = if path == "-" {
            let mut v = Vec::new();
            std::io::stdin().lock().read_to_end(&mut v).map_err(|e| Failure::Io(format!("{name}: {e}")))?;
            Source::Read(v)
        } else {
            Self::open_file(Path::new(path), name)?
        };
        source.recognise(name)?;
        Ok(source)
    }

    fn open_file(path: &Path, name: &str) -> Result<Source, Failure> {
        let meta = std::fs::metadata(path).map_err(|e| Failure::Io(format!("cannot open {name}: {e}")))?;
        if meta.is_dir() {
            return Err(Failure::Usage(format!(
                "{name} is a directory: give the snapshot file itself (dump.rdb, or appendonly.aof.N.base.rdb in an appendonlydir/){}",
                base_files_hint(path)
            )));
        }
        let mut file = File::open(path).map_err(|e| Failure::Io(format!("cannot open {name}: {e}")))?;
        if meta.is_file() && meta.len() > 0 {
            // SAFETY: the map is only read. A file truncated by another
            // process while mapped would fault on access, as with any map;
            // Redis and strata-server write snapshots to a temporary file
            // and rename it, so a snapshot in place is not rewritten.
            match unsafe { Mmap::map(&file) } {
                Ok(m) => {
                    let _ = m.advise(Advice::Sequential);
                    return Ok(Source::Mapped(m));
                }
                Err(_) => {} // fall back to reading it
            }
        }
        let mut v = Vec::new();
        file.read_to_end(&mut v).map_err(|e| Failure::Io(format!("cannot read {name}: {e}")))?;
        Ok(Source::Read(v))
    }

    pub fn bytes(&self) -> &[u8] {
        match self {
            Source::Mapped(m) => m,
            Source::Read(v) => v,
        }
    }

    /// Refuses inputs that are clearly something else, with what they are.
    fn recognise(&self, name: &str) -> Result<(), Failure> {
        let b = self.bytes();
        if b.is_empty() {
            return Err(Failure::NotRdb(format!("{name} is empty: an RDB file starts with \"REDIS\" and a version")));
        }
        if b.starts_with(b"REDIS") {
            return Ok(());
        }
        let head = &b[..b.len().min(64)];
        let what = if b[0] == b'*' {
            "an AOF file of commands with no RDB preamble: rdb-dump reads only snapshots (look for the \
             appendonly.aof.N.base.rdb file in the same directory, or replay this one into a server)"
        } else if head.starts_with(b"file ") || head.windows(7).any(|w| w == b" type b") {
            "an AOF manifest: give the base file it names (the line with `type b`), which holds the snapshot"
        } else {
            // Left to the decoder, which reports it with its offset.
            return Ok(());
        };
        Err(Failure::NotRdb(format!("{name} is {what}")))
    }
}

/// Names the AOF base files in a directory, if there are any.
fn base_files_hint(dir: &Path) -> String {
    let mut found: Vec<String> = std::fs::read_dir(dir)
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|e| e.file_name().into_string().ok())
        .filter(|n| n.ends_with(".base.rdb") || n.ends_with(".rdb"))
        .collect();
    found.sort();
    if found.is_empty() {
        String::new()
    } else {
        format!("; it holds: {}", found.join(", "))
    }
}
