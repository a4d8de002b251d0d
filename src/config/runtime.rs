//! CONFIG GET and CONFIG SET at run time.
//!
//! Invariant: CONFIG SET is all or nothing: every name is resolved and every
//! value parsed before anything is stored, so a failed call leaves the
//! configuration untouched; its errors are Redis 7.0.15's texts, and the
//! first problem in argument order is the one reported.

use std::path::Path;

use super::kind::{Kind, Special, Val};
use super::load::{checked_value, resolve_dir};
use super::parse::text;
use super::table::{self, Found, IMMUTABLE, PROTECTED, TABLE};
use super::Config;
use crate::util::GlobPattern;

pub(crate) fn get(cfg: &Config, pattern: &[u8]) -> Vec<(String, String)> {
    if !pattern.iter().any(|c| matches!(c, b'*' | b'?' | b'[')) {
        return match table::find(pattern) {
            Some(found) => vec![(text(pattern), text(&shown(cfg, found.index)))],
            None => Vec::new(),
        };
    }
    let matcher = GlobPattern::new(pattern, true);
    table::visible_names()
        .into_iter()
        .filter(|(name, _)| matcher.matches(name.as_bytes()))
        .map(|(name, found)| (name.to_string(), text(&shown(cfg, found.index))))
        .collect()
}

/// A directive's value as CONFIG GET prints it.
pub(crate) fn shown(cfg: &Config, index: usize) -> Vec<u8> {
    let dir = &TABLE[index];
    match (dir.kind, cfg.value(index)) {
        (Kind::Special(Special::Dir), Val::Str(path)) => absolute_dir(&path),
        (kind, v) => kind.format(&v),
    }
}

/// `dir` as an absolute path (Redis shows its working directory).
pub(crate) fn absolute_dir(path: &[u8]) -> Vec<u8> {
    use std::os::unix::ffi::{OsStrExt, OsStringExt};
    let p = Path::new(std::ffi::OsStr::from_bytes(path));
    match std::fs::canonicalize(p) {
        Ok(abs) => abs.into_os_string().into_vec(),
        Err(_) => path.to_vec(),
    }
}

pub(crate) fn set(cfg: &mut Config, pairs: &[(&[u8], &[u8])], local_client: bool) -> Result<Vec<&'static str>, String> {
    let found = resolve(cfg, pairs, local_client)?;
    let mut values = Vec::with_capacity(found.len());
    for (f, (_, value)) in found.iter().zip(pairs) {
        let v = parse_value(cfg, *f, value).map_err(|reason| {
            format!("ERR CONFIG SET failed (possibly related to argument '{}') - {reason}", table::name_of(*f))
        })?;
        values.push(v);
    }
    let mut changed = Vec::new();
    for (f, v) in found.into_iter().zip(values) {
        if cfg.value(f.index) != v {
            cfg.store(f.index, v);
            let name = TABLE[f.index].name;
            if !changed.contains(&name) {
                changed.push(name);
            }
        }
    }
    Ok(changed)
}

/// Finds every directive, refusing unknown, immutable, protected and
/// repeated ones; the first problem in argument order wins.
fn resolve(cfg: &Config, pairs: &[(&[u8], &[u8])], local_client: bool) -> Result<Vec<Found>, String> {
    let mut found: Vec<Found> = Vec::with_capacity(pairs.len());
    for (name, _) in pairs {
        let Some(f) = table::find(name) else {
            return Err(format!("ERR Unknown option or number of arguments for CONFIG SET - '{}'", text(name)));
        };
        let dir = &TABLE[f.index];
        let reason = if dir.has(IMMUTABLE) {
            Some("can't set immutable config")
        } else if dir.has(PROTECTED) && !protected_allowed(cfg, local_client) {
            Some("can't set protected config")
        } else if found.contains(&f) {
            // An old name and its new name count as different parameters.
            Some("duplicate parameter")
        } else {
            None
        };
        if let Some(reason) = reason {
            return Err(format!("ERR CONFIG SET failed (possibly related to argument '{}') - {reason}", text(name)));
        }
        found.push(f);
    }
    Ok(found)
}

fn protected_allowed(cfg: &Config, local_client: bool) -> bool {
    match cfg.enable_protected_configs.as_str() {
        "yes" => true,
        "local" => local_client,
        _ => false,
    }
}

/// CONFIG SET gives one string; several-argument directives split it on
/// single spaces (so "a  b" holds an empty argument).
fn parse_value(cfg: &Config, f: Found, value: &[u8]) -> Result<Val, String> {
    let dir = &TABLE[f.index];
    let args: Vec<Vec<u8>> = if !dir.kind.multi_arg() {
        vec![value.to_vec()]
    } else if value.is_empty() {
        Vec::new()
    } else {
        value.split(|c| *c == b' ').map(<[u8]>::to_vec).collect()
    };
    let v = checked_value(f, &args, &cfg.value(f.index))?;
    if let (Kind::Special(Special::Dir), Val::Str(path)) = (dir.kind, &v) {
        use std::os::unix::ffi::{OsStrExt, OsStringExt};
        // Relative to the current `dir`, as Redis's chdir is.
        let base = absolute_dir(cfg.dir.as_bytes());
        let real = resolve_dir(Path::new(std::ffi::OsStr::from_bytes(&base)), path, true)?;
        return Ok(Val::Str(real.into_os_string().into_vec()));
    }
    Ok(v)
}
