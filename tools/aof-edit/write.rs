//! Writing the result of an edit: a new AOF directory made of one base and
//! the incremental files after it, each copied as it is or without the
//! records a plan removes, then a manifest naming exactly those files. In
//! place, the edited files get new names beside the old ones, the
//! manifest is swapped atomically, and only then do the files it no longer
//! names go (a copy of the whole directory was made first).
//!
//! Invariant: a manifest is written only after every file it names is
//! complete and synced, by temp file, sync, rename and directory sync; so
//! at every moment the directory loads either as it was or as edited.

use crate::chain::{Chain, Segment};
use crate::plan::Plan;
use std::fs::{self, File};
use std::io::{self, Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use strata::persistence::aof::manifest::{FileEntry, FileKind, Manifest};

/// What an edit will write, worked out before anything is.
pub struct Layout {
    /// The segment the result starts from (its base and all later files).
    pub first_segment: usize,
    /// (file as in the chain, its position in `Chain::files()`, edited).
    pub files: Vec<(FileEntry, Option<usize>, bool)>,
}

/// The result starts from the newest base that comes before every record
/// removed: the files before it are then not needed, and a base made after
/// a removed record would still hold its effect.
pub fn layout(chain: &Chain, plan: &Plan) -> Layout {
    let files = chain.files();
    let has_oldest_base = chain.segments.first().is_some_and(|s| s.base.is_some());
    // Position in files() of each segment's first incremental file.
    let mut starts = Vec::new();
    let mut pos = usize::from(has_oldest_base);
    for s in &chain.segments {
        starts.push(pos);
        pos += s.incrs.len();
    }
    let earliest = plan.cuts.iter().map(|c| c.file_no).min();
    let first_segment = match earliest {
        None => chain.segments.len() - 1,
        Some(f) => (0..chain.segments.len()).rev().find(|&k| starts[k] <= f).unwrap_or(0),
    };
    let edited = |no: usize| plan.cuts.iter().any(|c| c.file_no == no);
    let mut out = Vec::new();
    let seg: &Segment = &chain.segments[first_segment];
    if let Some(b) = &seg.base {
        // The base of the first segment is files()[0]; later bases are not
        // in files() (they are checkpoints) and never edited.
        let no = if first_segment == 0 { Some(0) } else { None };
        out.push((b.clone(), no, no.is_some_and(edited)));
    }
    for (k, s) in chain.segments.iter().enumerate().skip(first_segment) {
        for (j, e) in s.incrs.iter().enumerate() {
            let no = starts[k] + j;
            debug_assert_eq!(files[no].name, e.name);
            out.push((e.clone(), Some(no), edited(no)));
        }
    }
    Layout { first_segment, files: out }
}

/// Writes the edited AOF into `out` (which must not exist yet, or be an
/// empty directory).
pub fn to_new_dir(chain: &Chain, plan: &Plan, lay: &Layout, out: &Path) -> Result<(), String> {
    match fs::read_dir(out) {
        Ok(mut rd) => {
            if rd.next().is_some() {
                return Err(format!("{} is not empty: give a new directory for the result", out.display()));
            }
        }
        Err(e) if e.kind() == io::ErrorKind::NotFound => {
            fs::create_dir_all(out).map_err(|e| format!("can't create {}: {e}", out.display()))?;
        }
        Err(e) => return Err(format!("can't use {}: {e}", out.display())),
    }
    let mut m = Manifest::default();
    for (entry, no, edited) in &lay.files {
        let src = chain.path(entry);
        let dst = out.join(&entry.name);
        copy_without(&src, &dst, &ranges(plan, *no, *edited))
            .map_err(|e| format!("can't write {}: {e}", dst.display()))?;
        add(&mut m, entry, &entry.name);
    }
    install_manifest(out, &chain.stem, &m)
}

/// Edits the directory itself: the edited files under new names, the
/// manifest swapped, then the files it no longer names removed. `stamp`
/// makes the new names unique.
pub fn in_place(chain: &Chain, plan: &Plan, lay: &Layout, stamp: i64) -> Result<Vec<String>, String> {
    let mut m = Manifest::default();
    let mut written = Vec::new();
    for (entry, no, edited) in &lay.files {
        if !*edited {
            add(&mut m, entry, &entry.name);
            continue;
        }
        let name = edited_name(&entry.name, stamp);
        let dst = chain.dir.join(&name);
        copy_without(&chain.path(entry), &dst, &ranges(plan, *no, true))
            .map_err(|e| format!("can't write {}: {e}", dst.display()))?;
        add(&mut m, entry, &name);
        written.push(name);
    }
    install_manifest(&chain.dir, &chain.stem, &m)?;
    // The old manifest named these; the copy made first keeps them.
    let keep: Vec<&str> = m.base.iter().chain(&m.incrs).map(|e| e.name.as_str()).collect();
    let old = chain.manifest.base.iter().chain(&chain.manifest.history).chain(&chain.manifest.incrs);
    let mut removed = Vec::new();
    for e in old {
        if !keep.contains(&e.name.as_str()) && fs::remove_file(chain.path(e)).is_ok() {
            removed.push(e.name.clone());
        }
    }
    sync_dir(&chain.dir).map_err(|e| format!("can't sync {}: {e}", chain.dir.display()))?;
    Ok(removed)
}

/// `appendonly.aof.3.incr.aof` edited at 1733563920:
/// `appendonly.aof.3.edit-1733563920.incr.aof` (the type suffix stays).
fn edited_name(name: &str, stamp: i64) -> String {
    for suffix in [".incr.aof", ".base.aof", ".base.rdb"] {
        if let Some(stem) = name.strip_suffix(suffix) {
            return format!("{stem}.edit-{stamp}{suffix}");
        }
    }
    format!("{name}.edit-{stamp}")
}

fn add(m: &mut Manifest, entry: &FileEntry, name: &str) {
    let is_base = m.base.is_none() && crate::chain::is_base(entry);
    let kind = if is_base { FileKind::Base } else { FileKind::Incr };
    let e = FileEntry { name: name.to_string(), seq: entry.seq, kind };
    if is_base {
        m.base = Some(e);
    } else {
        m.incrs.push(e);
    }
}

fn ranges(plan: &Plan, no: Option<usize>, edited: bool) -> Vec<(u64, u64)> {
    if !edited {
        return Vec::new();
    }
    let mut r: Vec<(u64, u64)> =
        plan.cuts.iter().filter(|c| Some(c.file_no) == no).map(|c| (c.offset, c.offset + c.len)).collect();
    r.sort_unstable();
    r
}

/// Copies `src` to `dst` leaving out the byte ranges `skip` (sorted, not
/// overlapping), and syncs `dst`.
fn copy_without(src: &Path, dst: &Path, skip: &[(u64, u64)]) -> io::Result<()> {
    let mut from = File::open(src)?;
    let mut to = fs::OpenOptions::new().write(true).create_new(true).open(dst)?;
    if skip.is_empty() {
        io::copy(&mut from, &mut to)?;
    } else {
        let mut pos = 0u64;
        for &(start, end) in skip {
            io::copy(&mut (&mut from).take(start - pos), &mut to)?;
            from.seek(SeekFrom::Start(end))?;
            pos = end;
        }
        io::copy(&mut from, &mut to)?;
    }
    to.sync_all()
}

/// Writes the manifest of `dir` (temp file, sync, rename, directory sync).
fn install_manifest(dir: &Path, stem: &str, m: &Manifest) -> Result<(), String> {
    let name = strata::persistence::aof::manifest::manifest_name(stem);
    let tmp = dir.join(format!("temp-{name}"));
    let done = (|| {
        let mut f = File::create(&tmp)?;
        f.write_all(&m.to_bytes())?;
        f.sync_all()?;
        fs::rename(&tmp, dir.join(&name))?;
        sync_dir(dir)
    })();
    done.map_err(|e| format!("can't write the manifest in {}: {e}", dir.display()))
}

pub fn sync_dir(dir: &Path) -> io::Result<()> {
    File::open(dir)?.sync_all()
}

/// Copies the manifest and every file it names (history included) into a
/// new directory beside `dir`, synced; returns its path.
pub fn copy_aside(chain: &Chain, stamp: i64) -> Result<PathBuf, String> {
    let name =
        chain.dir.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_else(|| "appendonlydir".into());
    let parent = chain.dir.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(Path::new("."));
    let aside = parent.join(format!("{name}.before-edit-{stamp}"));
    fs::create_dir(&aside).map_err(|e| format!("can't create the copy {}: {e}", aside.display()))?;
    let m = &chain.manifest;
    for e in m.base.iter().chain(&m.history).chain(&m.incrs) {
        let dst = aside.join(&e.name);
        copy_without(&chain.path(e), &dst, &[]).map_err(|err| format!("can't copy {} aside: {err}", e.name))?;
    }
    let mname = chain.manifest_path.file_name().map(PathBuf::from).unwrap_or_default();
    copy_without(&chain.manifest_path, &aside.join(&mname), &[])
        .map_err(|e| format!("can't copy the manifest aside: {e}"))?;
    sync_dir(&aside).map_err(|e| format!("can't sync {}: {e}", aside.display()))?;
    Ok(aside)
}
