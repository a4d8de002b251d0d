//! The timeline an AOF directory holds: its manifest's files put back in
//! the order they were written. A rewrite makes a new base equal to the
//! old base plus the incremental files before it; with history kept
//! (`aof-history-keep`), the old base and those files stay listed as
//! history. So the full timeline is the oldest base, then every
//! incremental file in sequence order; each later base is a checkpoint
//! that stands for everything before its first incremental file.
//!
//! Invariant: a timeline never includes a file the manifest does not name,
//! and names every file by its bare manifest name inside the directory.

use std::path::{Path, PathBuf};
use strata::persistence::aof::manifest::{FileEntry, FileKind, Manifest};

/// A base and the incremental files written after it until the next
/// rewrite.
#[derive(Debug, Clone)]
pub struct Segment {
    pub base: Option<FileEntry>,
    pub incrs: Vec<FileEntry>,
}

#[derive(Debug, Clone)]
pub struct Chain {
    pub dir: PathBuf,
    pub manifest_path: PathBuf,
    /// `appendfilename`: the manifest's name without `.manifest`.
    pub stem: String,
    pub manifest: Manifest,
    /// Oldest first; the last one is the current base and its files.
    pub segments: Vec<Segment>,
    /// History files the timeline leaves out (they belong to no kept base).
    pub ignored: Vec<String>,
}

impl Chain {
    pub fn open(manifest_path: &Path, dir: &Path) -> Result<Chain, String> {
        let text = std::fs::read(manifest_path).map_err(|e| format!("can't read {}: {e}", manifest_path.display()))?;
        let manifest = Manifest::parse(&text)
            .map_err(|e| format!("{}: not a valid manifest: {e}; run aof-check on it", manifest_path.display()))?;
        let file_name = manifest_path.file_name().and_then(|n| n.to_str()).unwrap_or("");
        let stem = file_name.strip_suffix(".manifest").unwrap_or(file_name).to_string();
        let (segments, ignored) = segments(&manifest);
        Ok(Chain {
            dir: dir.to_path_buf(),
            manifest_path: manifest_path.to_path_buf(),
            stem,
            manifest,
            segments,
            ignored,
        })
    }

    pub fn path(&self, e: &FileEntry) -> PathBuf {
        self.dir.join(&e.name)
    }

    /// The files of the timeline in order: the oldest base, then every
    /// incremental file.
    pub fn files(&self) -> Vec<&FileEntry> {
        let mut out: Vec<&FileEntry> = self.segments.first().and_then(|s| s.base.as_ref()).into_iter().collect();
        out.extend(self.segments.iter().flat_map(|s| &s.incrs));
        out
    }
}

pub fn is_base(e: &FileEntry) -> bool {
    e.kind == FileKind::Base || e.name.ends_with(".base.rdb") || e.name.ends_with(".base.aof")
}

/// Splits the manifest into segments. History is newest rewrite first,
/// each rewrite's incremental files (newest first) followed by the base
/// they came after; files after the last history base have no base left
/// and are ignored (the oldest kept base covers them).
fn segments(m: &Manifest) -> (Vec<Segment>, Vec<String>) {
    let mut groups: Vec<Segment> = Vec::new();
    let mut pending: Vec<FileEntry> = Vec::new();
    for h in &m.history {
        if is_base(h) {
            pending.sort_by_key(|e| e.seq);
            groups.push(Segment { base: Some(h.clone()), incrs: std::mem::take(&mut pending) });
        } else {
            pending.push(h.clone());
        }
    }
    let ignored = pending.into_iter().map(|e| e.name).collect();
    groups.reverse();
    groups.push(Segment { base: m.base.clone(), incrs: m.incrs.clone() });
    (groups, ignored)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(name: &str, seq: i64, kind: FileKind) -> FileEntry {
        FileEntry { name: name.into(), seq, kind }
    }

    #[test]
    fn history_is_put_back_in_time_order() {
        let h = FileKind::History;
        let m = Manifest {
            base: Some(entry("a.3.base.rdb", 3, FileKind::Base)),
            incrs: vec![entry("a.5.incr.aof", 5, FileKind::Incr)],
            history: vec![
                entry("a.4.incr.aof", 4, h),
                entry("a.2.base.rdb", 2, h),
                entry("a.3.incr.aof", 3, h),
                entry("a.2.incr.aof", 2, h),
                entry("a.1.base.rdb", 1, h),
                entry("a.1.incr.aof", 1, h),
            ],
        };
        let (segs, ignored) = segments(&m);
        let names: Vec<Vec<&str>> =
            segs.iter().map(|s| s.base.iter().chain(&s.incrs).map(|e| e.name.as_str()).collect()).collect();
        assert_eq!(
            names,
            vec![
                vec!["a.1.base.rdb", "a.2.incr.aof", "a.3.incr.aof"],
                vec!["a.2.base.rdb", "a.4.incr.aof"],
                vec!["a.3.base.rdb", "a.5.incr.aof"],
            ]
        );
        assert_eq!(ignored, vec!["a.1.incr.aof".to_string()]);
    }
}
