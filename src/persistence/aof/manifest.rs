//! The manifest of a multipart AOF: which files make up the data set, in
//! which order, in Redis 7.0's text format (docs/formats/aof.md). One line
//! per file, `file <name> seq <n> type <b|h|i>`, names quoted when they hold
//! blanks or unusual bytes; `#` starts a comment line.
//!
//! Invariant: a parsed manifest has at most one base, incremental files in
//! strictly increasing sequence order, and only bare file names (never a
//! path), so loading can never reach outside the AOF directory.

use crate::util::{quote_into, split_args};
use std::fmt;

/// Longest line Redis accepts in a manifest (bytes, newline included).
pub const LINE_BYTES_MAX: usize = 1024;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FileKind {
    Base,
    Incr,
    History,
}

impl FileKind {
    fn code(self) -> char {
        match self {
            FileKind::Base => 'b',
            FileKind::Incr => 'i',
            FileKind::History => 'h',
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileEntry {
    pub name: String,
    pub seq: i64,
    pub kind: FileKind,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Manifest {
    pub base: Option<FileEntry>,
    pub incrs: Vec<FileEntry>,
    pub history: Vec<FileEntry>,
}

/// Why a manifest was refused, with the 1-based line it was found on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ManifestError {
    pub line: usize,
    pub what: &'static str,
}

impl fmt::Display for ManifestError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.line == 0 {
            f.write_str(self.what)
        } else {
            write!(f, "{} (manifest line {})", self.what, self.line)
        }
    }
}

/// Whether `name` is a bare file name: no directory part (no `/`, nor the
/// `\\` Redis refuses too), not `.` or `..`.
pub fn is_bare_name(name: &str) -> bool {
    !name.is_empty() && !name.contains(['/', '\\']) && name != "." && name != ".."
}

/// File names Redis 7.0 gives the parts of an AOF called `stem`
/// (`appendfilename`).
pub fn manifest_name(stem: &str) -> String {
    format!("{stem}.manifest")
}

pub fn base_name(stem: &str, seq: i64, rdb: bool) -> String {
    format!("{stem}.{seq}.base.{}", if rdb { "rdb" } else { "aof" })
}

pub fn incr_name(stem: &str, seq: i64) -> String {
    format!("{stem}.{seq}.incr.aof")
}

impl Manifest {
    /// Parses manifest text; the first problem found is the error.
    pub fn parse(text: &[u8]) -> Result<Manifest, ManifestError> {
        let mut m = Manifest::default();
        let mut lines = text.split_inclusive(|&b| b == b'\n').enumerate().peekable();
        while let Some((i, raw)) = lines.next() {
            let err = |what| ManifestError { line: i + 1, what };
            if raw.first() == Some(&b'#') {
                continue;
            }
            let body = raw.strip_suffix(b"\n").unwrap_or(raw);
            if body.len() + 1 > LINE_BYTES_MAX {
                return Err(err("The AOF manifest file contains too long line"));
            }
            let args = split_args(trim(body)).ok_or_else(|| err("Invalid AOF manifest file format"))?;
            if args.len() < 6 || args.len() % 2 != 0 {
                return Err(err("Invalid AOF manifest file format"));
            }
            let (mut name, mut seq, mut kind) = (None, None, None);
            for pair in args.chunks(2) {
                let key = &pair[0];
                let value = &pair[1];
                if key.eq_ignore_ascii_case(b"file") {
                    let n = String::from_utf8(value.clone()).map_err(|_| err("Invalid AOF manifest file format"))?;
                    if !is_bare_name(&n) {
                        return Err(err("File can't be a path, just a filename"));
                    }
                    name = Some(n);
                } else if key.eq_ignore_ascii_case(b"seq") {
                    let s = std::str::from_utf8(value).ok().and_then(|s| s.parse::<i64>().ok());
                    seq = Some(s.filter(|&s| s > 0).ok_or_else(|| err("Invalid AOF manifest file format"))?);
                } else if key.eq_ignore_ascii_case(b"type") {
                    kind = Some(match value.first() {
                        Some(b'b') => FileKind::Base,
                        Some(b'i') => FileKind::Incr,
                        Some(b'h') => FileKind::History,
                        _ => return Err(err("Unknown AOF file type")),
                    });
                }
                // Other keys are left for later versions.
            }
            let (Some(name), Some(seq), Some(kind)) = (name, seq, kind) else {
                return Err(err("Invalid AOF manifest file format"));
            };
            let entry = FileEntry { name, seq, kind };
            match kind {
                FileKind::Base if m.base.is_some() => return Err(err("Found duplicate base file information")),
                FileKind::Base => m.base = Some(entry),
                FileKind::History => m.history.push(entry),
                FileKind::Incr => {
                    if m.incrs.last().is_some_and(|l| l.seq >= seq) {
                        return Err(err("Found a non-monotonic sequence number"));
                    }
                    m.incrs.push(entry);
                }
            }
        }
        if m.base.is_none() && m.incrs.is_empty() {
            return Err(ManifestError { line: 0, what: "Found an empty AOF manifest" });
        }
        Ok(m)
    }

    /// The text of the manifest: base, then history, then incremental
    /// files, as Redis orders them.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = Vec::new();
        for e in self.base.iter().chain(&self.history).chain(&self.incrs) {
            out.extend_from_slice(b"file ");
            if needs_quoting(e.name.as_bytes()) {
                quote_into(&mut out, e.name.as_bytes());
            } else {
                out.extend_from_slice(e.name.as_bytes());
            }
            out.extend_from_slice(format!(" seq {} type {}\n", e.seq, e.kind.code()).as_bytes());
        }
        out
    }

    /// Files to load, in order: the base, then each incremental file.
    pub fn loading_order(&self) -> impl Iterator<Item = &FileEntry> {
        self.base.iter().chain(&self.incrs)
    }

    /// Sequence number the next base gets.
    pub fn next_base_seq(&self) -> i64 {
        self.base.as_ref().map_or(0, |b| b.seq) + 1
    }

    /// Sequence number the next incremental file gets (history counts: a
    /// failed rewrite's files keep their numbers).
    pub fn next_incr_seq(&self) -> i64 {
        let hist = self.history.iter().filter(|h| h.name.ends_with(".incr.aof")).map(|h| h.seq);
        self.incrs.iter().map(|e| e.seq).chain(hist).max().unwrap_or(0) + 1
    }

    /// The history files of all but the `keep` most recent rewrites (those
    /// to delete). The history is in Redis's order, newest rewrite first,
    /// each rewrite's incremental files (newest first) followed by the base
    /// they came after; entries after the last base count as the oldest
    /// rewrite's.
    pub fn history_beyond(&self, keep: usize) -> &[FileEntry] {
        let mut kept_rewrites = 0;
        let mut cut = 0;
        while cut < self.history.len() && kept_rewrites < keep {
            if let Some(end) = self.history[cut..].iter().position(|h| is_base_name(&h.name)) {
                cut += end + 1;
            } else {
                cut = self.history.len();
            }
            kept_rewrites += 1;
        }
        &self.history[cut..]
    }

    /// After a rewrite: `base` replaces the old base, and every incremental
    /// file before `keep_from_seq` (covered by the new base) becomes history,
    /// put in front of the older history as Redis puts it: those incremental
    /// files newest first, then the old base.
    pub fn install_base(&mut self, base: FileEntry, keep_from_seq: i64) {
        let (old, kept): (Vec<_>, Vec<_>) =
            std::mem::take(&mut self.incrs).into_iter().partition(|e| e.seq < keep_from_seq);
        let mut front: Vec<FileEntry> = old.into_iter().rev().collect();
        front.extend(self.base.take());
        for e in &mut front {
            e.kind = FileKind::History;
        }
        front.append(&mut self.history);
        self.history = front;
        self.incrs = kept;
        self.base = Some(base);
    }
}

fn is_base_name(name: &str) -> bool {
    name.ends_with(".base.rdb") || name.ends_with(".base.aof")
}

fn trim(b: &[u8]) -> &[u8] {
    let is_blank = |c: &u8| matches!(c, b' ' | b'\t' | b'\r' | b'\n');
    let start = b.iter().position(|c| !is_blank(c)).unwrap_or(b.len());
    let end = b.iter().rposition(|c| !is_blank(c)).map_or(start, |e| e + 1);
    &b[start..end]
}

/// Whether a name must be quoted to survive the line split: blanks, quotes,
/// backslashes and unprintable bytes.
fn needs_quoting(s: &[u8]) -> bool {
    s.iter().any(|&b| matches!(b, b'\\' | b'"' | b'\'') || !(0x21..=0x7e).contains(&b))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_and_quotes_odd_names() {
        let mut m = Manifest::default();
        m.base = Some(FileEntry { name: "a b.1.base.rdb".into(), seq: 1, kind: FileKind::Base });
        m.incrs.push(FileEntry { name: "x\"y.1.incr.aof".into(), seq: 1, kind: FileKind::Incr });
        m.incrs.push(FileEntry { name: "plain.2.incr.aof".into(), seq: 2, kind: FileKind::Incr });
        let text = m.to_bytes();
        assert_eq!(
            String::from_utf8(text.clone()).unwrap(),
            "file \"a b.1.base.rdb\" seq 1 type b\nfile \"x\\\"y.1.incr.aof\" seq 1 type i\nfile plain.2.incr.aof seq 2 type i\n"
        );
        assert_eq!(Manifest::parse(&text).unwrap(), m);
    }

    #[test]
    fn refuses_what_redis_refuses() {
        let bad: &[(&str, &str)] = &[
            ("", "Found an empty AOF manifest"),
            ("# only a comment\n", "Found an empty AOF manifest"),
            ("file a seq 1\n", "Invalid AOF manifest file format"),
            ("file a seq 1 type\n", "Invalid AOF manifest file format"),
            ("file a seq x type i\n", "Invalid AOF manifest file format"),
            ("\n", "Invalid AOF manifest file format"),
            ("file ../a seq 1 type i\n", "File can't be a path, just a filename"),
            ("file a seq 1 type z\n", "Unknown AOF file type"),
            ("file a seq 1 type b\nfile b seq 2 type b\n", "Found duplicate base file information"),
            ("file a seq 2 type i\nfile b seq 2 type i\n", "Found a non-monotonic sequence number"),
            ("file \"a seq 1 type i\n", "Invalid AOF manifest file format"),
        ];
        for (text, what) in bad {
            assert_eq!(Manifest::parse(text.as_bytes()).unwrap_err().what, *what, "{text:?}");
        }
        let long = format!("file {} seq 1 type i\n", "a".repeat(LINE_BYTES_MAX - 18));
        assert_eq!(long.len(), LINE_BYTES_MAX + 1);
        assert_eq!(Manifest::parse(long.as_bytes()).unwrap_err().what, "The AOF manifest file contains too long line");
    }

    #[test]
    fn accepts_comments_unknown_keys_and_history() {
        let text = "# made by hand\nfile b.rdb seq 3 type b extra 1\nfile old seq 1 type h\nfile i2 seq 2 type i\nfile i5 seq 5 type i";
        let m = Manifest::parse(text.as_bytes()).unwrap();
        assert_eq!(m.base.as_ref().unwrap().seq, 3);
        assert_eq!(m.history.len(), 1);
        assert_eq!(m.loading_order().map(|e| e.name.as_str()).collect::<Vec<_>>(), ["b.rdb", "i2", "i5"]);
        assert_eq!((m.next_base_seq(), m.next_incr_seq()), (4, 6));
    }

    #[test]
    fn trimming_history_keeps_the_newest_rewrites_whole() {
        let h = |name: &str, seq| FileEntry { name: name.into(), seq, kind: FileKind::History };
        // Newest first: rewrite 3 replaced base 2 and incrs 3-4, rewrite 2
        // replaced base 1 and incr 2; incr 1 has no base (an upgrade's).
        let full = vec![
            h("a.4.incr.aof", 4),
            h("a.3.incr.aof", 3),
            h("a.2.base.rdb", 2),
            h("a.2.incr.aof", 2),
            h("a.1.base.rdb", 1),
            h("a.1.incr.aof", 1),
        ];
        let names = |v: &[FileEntry]| v.iter().map(|e| e.name.clone()).collect::<Vec<_>>();
        for (keep, kept) in [(0, 0), (1, 3), (2, 5), (3, 6), (9, 6)] {
            let m = Manifest { history: full.clone(), ..Manifest::default() };
            let gone = m.history_beyond(keep);
            assert_eq!(names(&m.history[..m.history.len() - gone.len()]), names(&full[..kept]), "keep {keep}");
            assert_eq!(names(gone), names(&full[kept..]), "keep {keep}");
        }
    }

    #[test]
    fn installing_a_base_turns_covered_files_into_history() {
        let mut m = Manifest::default();
        m.base = Some(FileEntry { name: "b1".into(), seq: 1, kind: FileKind::Base });
        for s in 1..=3 {
            m.incrs.push(FileEntry { name: format!("i{s}"), seq: s, kind: FileKind::Incr });
        }
        m.install_base(FileEntry { name: "b2".into(), seq: 2, kind: FileKind::Base }, 3);
        assert_eq!(m.base.as_ref().unwrap().name, "b2");
        assert_eq!(m.incrs.iter().map(|e| e.seq).collect::<Vec<_>>(), [3]);
        assert_eq!(m.history.iter().map(|e| e.name.as_str()).collect::<Vec<_>>(), ["i2", "i1", "b1"]);
        assert!(m.history.iter().all(|h| h.kind == FileKind::History));
        m.incrs.push(FileEntry { name: "i4".into(), seq: 4, kind: FileKind::Incr });
        m.install_base(FileEntry { name: "b3".into(), seq: 3, kind: FileKind::Base }, 4);
        let order: Vec<&str> = m.history.iter().map(|e| e.name.as_str()).collect();
        assert_eq!(order, ["i3", "b2", "i2", "i1", "b1"], "the newest rewrite's files first");
    }
}
