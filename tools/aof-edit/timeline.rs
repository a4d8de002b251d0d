//! Numbering the records of a timeline (chain.rs) across its files: an
//! RDB base is one record (the snapshot), every command of a commands base
//! or an incremental file is one record. Numbers start at 1 and follow the
//! files in time order, so the same directory always numbers the same way
//! and `list` and `drop` agree.
//!
//! Invariant: only the last file may end inside a command (a crash while
//! writing); that cut is reported, anything else unreadable is an error
//! naming file and offset.

use crate::chain::{is_base, Chain};
use crate::stream::{self, End, Rec};
use strata::persistence::aof::manifest::FileEntry;

/// Where a record is.
pub struct Place<'a> {
    pub index: u64,
    /// Position of its file in `Chain::files()`.
    pub file_no: usize,
    pub file: &'a FileEntry,
}

pub enum What<'r, 'a> {
    /// An RDB base: the whole data set at the time it was made (its
    /// `ctime` field, Unix seconds, when it has one).
    Snapshot {
        bytes: u64,
        made: Option<i64>,
    },
    Command(&'r Rec<'a>),
}

#[derive(Default)]
pub struct Walked {
    pub records: u64,
    pub bytes: u64,
    /// The last file ends inside the command starting here (file, offset).
    pub cut: Option<(String, u64)>,
    /// Any `#TS:` annotation seen.
    pub timed: bool,
}

/// Calls `visit` for every record in time order; `visit` returning false
/// stops the walk. A progress line shows on a terminal (unless `quiet`).
pub fn walk(chain: &Chain, quiet: bool, mut visit: impl FnMut(&Place, What) -> bool) -> Result<Walked, String> {
    let files = chain.files();
    let mut w = Walked::default();
    let mut progress = crate::progress::Progress::new(
        "aof-edit",
        !quiet && crate::progress::stderr_is_terminal(),
        total_bytes(chain) as usize,
    );
    let mut done_bytes = 0u64;
    let mut ts: Option<i64> = None;
    for (file_no, entry) in files.iter().enumerate() {
        let path = chain.path(entry);
        let mut from = 0;
        if is_base(entry) && starts_like_rdb(&path)? {
            let bytes = std::fs::metadata(&path).map_err(|e| format!("can't read {}: {e}", path.display()))?.len();
            w.records += 1;
            w.bytes += bytes;
            done_bytes += bytes;
            let made = rdb_ctime(&path);
            if !visit(&Place { index: w.records, file_no, file: entry }, What::Snapshot { bytes, made }) {
                return Ok(w);
            }
            // A base in RDB form holds nothing after the snapshot.
            continue;
        }
        let mut go_on = true;
        let read = stream::read_file(&path, from, ts, |rec| {
            progress.tick((done_bytes + rec.offset) as usize);
            w.records += 1;
            go_on = visit(&Place { index: w.records, file_no, file: entry }, What::Command(rec));
            go_on
        })?;
        from = read.bytes;
        w.bytes += from;
        done_bytes += from;
        w.timed |= read.last_ts.is_some();
        ts = read.last_ts;
        if !go_on {
            return Ok(w);
        }
        if let End::Cut { at } = read.end {
            if file_no + 1 != files.len() {
                return Err(format!(
                    "{}: the file ends inside the command at offset {at}, and it is not the last file: \
                     the AOF is damaged in the middle; run aof-check on the directory",
                    path.display()
                ));
            }
            w.cut = Some((entry.name.clone(), at));
        }
    }
    Ok(w)
}

/// The `ctime` aux field of an RDB file (aux fields come first: the head
/// of the file is enough).
pub fn rdb_ctime(path: &std::path::Path) -> Option<i64> {
    use std::io::Read;
    use strata::persistence::rdb::{Item, LoadOptions, RdbReader};
    const HEAD_BYTES: u64 = 64 * 1024;
    let mut head = Vec::new();
    std::fs::File::open(path).ok()?.take(HEAD_BYTES).read_to_end(&mut head).ok()?;
    let opts = LoadOptions { build_values: false, verify_checksum: false, ..LoadOptions::default() };
    let mut r = RdbReader::new(&head, opts).ok()?;
    while let Ok(Some(Item::Aux { key, value })) = r.next_item() {
        if key == b"ctime" {
            return std::str::from_utf8(&value).ok()?.parse().ok();
        }
    }
    None
}

/// Bytes of every file of the timeline.
pub fn total_bytes(chain: &Chain) -> u64 {
    chain.files().iter().map(|e| std::fs::metadata(chain.path(e)).map_or(0, |m| m.len())).sum()
}

fn starts_like_rdb(path: &std::path::Path) -> Result<bool, String> {
    use std::io::Read;
    let mut head = [0u8; 5];
    let mut f = std::fs::File::open(path).map_err(|e| format!("can't open {}: {e}", path.display()))?;
    let n = f.read(&mut head).map_err(|e| format!("can't read {}: {e}", path.display()))?;
    Ok(strata::persistence::aof::is_rdb(&head[..n]))
}
