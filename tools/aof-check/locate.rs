//! Working out what the user pointed at: a manifest, a directory holding
//! one (the AOF directory, or the server's data directory above it), or a
//! single AOF file to check alone (an old single-file AOF, an incremental
//! file, a base).
//!
//! Invariant: a directory resolves to one manifest only when the choice is
//! unambiguous (the one `--appendfilename` names, the only manifest there,
//! or Redis's default among several); otherwise the user is asked to choose,
//! never guessed for.

use std::path::{Path, PathBuf};

/// The default `appendfilename` of Redis and strata-server.
pub const DEFAULT_STEM: &str = "appendonly.aof";
/// The default `appenddirname`.
const DEFAULT_DIR: &str = "appendonlydir";

pub enum Target {
    /// A manifest; the files it names are in `dir`.
    Manifest { path: PathBuf, dir: PathBuf },
    /// One AOF file, checked alone.
    Single { path: PathBuf },
}

pub struct Located {
    pub target: Target,
    /// What was looked at to get there, for the report.
    pub notes: Vec<String>,
}

/// Resolves `path`; the error is a usage message.
pub fn locate(path: &Path, stem: Option<&str>) -> Result<Located, String> {
    let meta = std::fs::metadata(path).map_err(|e| format!("cannot open {}: {e}", path.display()))?;
    if meta.is_dir() {
        let mut notes = Vec::new();
        let target = in_directory(path, stem, &mut notes, true)?;
        return Ok(Located { target, notes });
    }
    let target = if looks_like_manifest(path) {
        Target::Manifest { path: path.to_path_buf(), dir: parent_dir(path) }
    } else {
        Target::Single { path: path.to_path_buf() }
    };
    Ok(Located { target, notes: Vec::new() })
}

fn parent_dir(path: &Path) -> PathBuf {
    match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    }
}

fn in_directory(dir: &Path, stem: Option<&str>, notes: &mut Vec<String>, may_descend: bool) -> Result<Target, String> {
    let names = list(dir)?;
    let temp: Vec<&String> = names.iter().filter(|n| n.starts_with("temp-") && n.ends_with(".manifest")).collect();
    for t in temp {
        notes.push(format!(
            "{}: a manifest that was being written when a server stopped; servers never read it (ignored)",
            dir.join(t).display()
        ));
    }
    let manifests: Vec<&String> =
        names.iter().filter(|n| n.ends_with(".manifest") && !n.starts_with("temp-")).collect();
    let chosen = match stem {
        Some(stem) => {
            let want = format!("{stem}.manifest");
            manifests.iter().find(|n| ***n == want).map(|n| n.to_string())
        }
        None if manifests.len() == 1 => Some(manifests[0].clone()),
        None if manifests.len() > 1 => {
            let default = format!("{DEFAULT_STEM}.manifest");
            if manifests.iter().any(|n| **n == default) {
                let others: Vec<&str> = manifests.iter().filter(|n| ***n != default).map(|n| n.as_str()).collect();
                notes.push(format!(
                    "{} holds several manifests: checking {default} (the default appendfilename); \
                     use --appendfilename to check {} instead",
                    dir.display(),
                    others.join(", ")
                ));
                Some(default)
            } else {
                let list: Vec<&str> = manifests.iter().map(|n| n.as_str()).collect();
                return Err(format!(
                    "{} holds several manifests ({}): choose one with --appendfilename NAME (for NAME.manifest), \
                     or give the manifest itself",
                    dir.display(),
                    list.join(", ")
                ));
            }
        }
        None => None,
    };
    if let Some(name) = chosen {
        return Ok(Target::Manifest { path: dir.join(name), dir: dir.to_path_buf() });
    }
    // No manifest here: the server's data directory, holding the AOF
    // directory, or an old single-file AOF.
    let sub = dir.join(DEFAULT_DIR);
    if may_descend && sub.is_dir() {
        notes.push(format!("{} holds no manifest: looking in {}", dir.display(), sub.display()));
        if let Ok(t) = in_directory(&sub, stem, notes, false) {
            return Ok(t);
        }
        notes.pop();
    }
    let single = dir.join(stem.unwrap_or(DEFAULT_STEM));
    if single.is_file() {
        notes.push(format!(
            "{} holds no manifest: checking {} alone, as an AOF of Redis before 7.0 (a server upgrades it into \
             an AOF directory when it starts)",
            dir.display(),
            single.display()
        ));
        return Ok(Target::Single { path: single });
    }
    let wanted = match stem {
        Some(s) => format!("{s}.manifest"),
        None => "a *.manifest file".into(),
    };
    Err(format!(
        "{} holds no AOF manifest ({wanted}): give the AOF directory ({DEFAULT_DIR} by default, in the \
         server's dir), a manifest, or a single AOF file",
        dir.display()
    ))
}

fn list(dir: &Path) -> Result<Vec<String>, String> {
    let rd = std::fs::read_dir(dir).map_err(|e| format!("cannot list {}: {e}", dir.display()))?;
    let mut names: Vec<String> = rd.flatten().filter_map(|e| e.file_name().into_string().ok()).collect();
    names.sort();
    Ok(names)
}

/// A file is taken for a manifest when its name says so, or when (like
/// redis-check-aof decides) it is text whose first line that is not a
/// comment starts with `file`.
fn looks_like_manifest(path: &Path) -> bool {
    if path.extension().is_some_and(|e| e == "manifest") {
        return true;
    }
    let Ok(mut f) = std::fs::File::open(path) else { return false };
    let mut head = vec![0u8; 4096];
    let n = std::io::Read::read(&mut f, &mut head).unwrap_or(0);
    let head = &head[..n];
    if head.starts_with(b"REDIS") || head.first() == Some(&b'*') {
        return false;
    }
    head.split(|&b| b == b'\n').find(|l| !l.starts_with(b"#")).is_some_and(|l| l.starts_with(b"file"))
}
