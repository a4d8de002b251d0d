//! Loading at start-up: reads the config file, standard input and the
//! command-line options as one text, applies each line (table directives,
//! `include`, `rename-command`, `user`, deprecated and refused directives),
//! then makes Redis's end-of-load checks.
//!
//! Invariant: the first bad line stops the load with an error naming its
//! source and line; nothing is half-applied to a `Config` that is returned.
//! Relative paths (`include`, `dir`, `logfile`) are resolved against the
//! directory `dir` has chosen so far, as Redis does after its chdir, without
//! changing the process's working directory.

use std::ffi::OsStr;
use std::io::Read;
use std::os::unix::ffi::{OsStrExt, OsStringExt};
use std::path::{Path, PathBuf};

use super::error::strerror;
use super::kind::{Kind, Special, Val};
use super::parse::{lines, split_args, text, trim};
use super::table::{self, Found, DEPRECATED, TABLE};
use super::{args, Config, ConfigError, Origin, RenameCommand, Source, UserDirective};

/// Includes nested deeper than this are refused (Redis would recurse until
/// it crashes).
const MAX_INCLUDE_DEPTH: usize = 16;

#[derive(Debug, Clone, Copy)]
pub(crate) struct LoadOptions {
    /// Check that `dir` exists and that `logfile` can be opened, as Redis
    /// does; off only in tests that read files meant for another machine.
    pub check_paths: bool,
}

impl Default for LoadOptions {
    fn default() -> Self {
        LoadOptions { check_paths: true }
    }
}

/// `Config::from_args` with standard input and checks supplied.
pub(crate) fn from_args(argv: &[String], stdin: &mut dyn Read, opts: LoadOptions) -> Result<Config, ConfigError> {
    let cl = args::parse(argv);
    let mut text = Vec::new();
    let mut sources = Vec::new();
    let mut loader = Loader::new(opts);
    if let Some(file) = &cl.config_file {
        let path = loader.cwd.join(file);
        text = std::fs::read(&path).map_err(|e| cannot_open(&path, &e))?;
        sources.push((0, Source::File(path.clone())));
        loader.cfg.config_file = Some(path);
    }
    if cl.read_stdin {
        sources.push((text.len(), Source::Stdin));
        let mut input = Vec::new();
        stdin
            .read_to_end(&mut input)
            .map_err(|e| ConfigError::plain(format!("Fatal error, can't read standard input: {}", strerror(&e))))?;
        text.extend_from_slice(&input);
    }
    sources.push((text.len(), Source::CommandLine));
    text.push(b'\n');
    text.extend_from_slice(&cl.options);
    loader.load_text(&text, &sources)?;
    loader.finish()
}

fn cannot_open(path: &Path, e: &std::io::Error) -> ConfigError {
    ConfigError::plain(format!("Fatal error, can't open config file '{}': {}", path.display(), strerror(e)))
}

/// Why a line failed: a reason to report against the line, or an error
/// already complete (from an included file).
enum LineError {
    Reason(String),
    Done(ConfigError),
}

impl From<String> for LineError {
    fn from(reason: String) -> Self {
        LineError::Reason(reason)
    }
}

impl From<&str> for LineError {
    fn from(reason: &str) -> Self {
        LineError::Reason(reason.to_string())
    }
}

pub(crate) struct Loader {
    pub cfg: Config,
    /// Where relative paths point: the process's directory, then `dir`.
    cwd: PathBuf,
    /// Whether a `save` line was seen (the first one replaces the defaults,
    /// later ones add rules).
    save_seen: bool,
    opts: LoadOptions,
    depth: usize,
}

impl Loader {
    pub(crate) fn new(opts: LoadOptions) -> Loader {
        Loader {
            cfg: Config::default(),
            cwd: std::env::current_dir().unwrap_or_else(|_| PathBuf::from(".")),
            save_seen: false,
            opts,
            depth: 0,
        }
    }

    /// Applies every line of `text`; `sources` gives the source starting at
    /// each byte offset (sorted by offset).
    pub(crate) fn load_text(&mut self, text: &[u8], sources: &[(usize, Source)]) -> Result<(), ConfigError> {
        for (n, (offset, raw)) in lines(text).into_iter().enumerate() {
            let line = trim(raw, b" \t\r\n");
            if line.is_empty() || line[0] == b'#' {
                continue;
            }
            let origin = Origin { source: source_at(sources, offset), line: n + 1, text: text_of(line) };
            let result = match split_args(line) {
                None => Err(LineError::from("Unbalanced quotes in configuration line")),
                Some(argv) if argv.is_empty() => Ok(()),
                Some(argv) => self.apply(argv, &origin),
            };
            match result {
                Ok(()) => {}
                Err(LineError::Reason(reason)) => return Err(ConfigError::at(&origin, &reason)),
                Err(LineError::Done(e)) => return Err(e),
            }
        }
        Ok(())
    }

    fn apply(&mut self, mut argv: Vec<Vec<u8>>, origin: &Origin) -> Result<(), LineError> {
        argv[0].make_ascii_lowercase();
        let name = argv[0].as_slice();
        let n = argv.len();
        if let Some(found) = table::find(name) {
            return self.directive(found, &argv[1..]).map_err(LineError::Reason);
        }
        if n == 2 && DEPRECATED.iter().any(|d| d.as_bytes() == name) {
            return Ok(());
        }
        match name {
            b"include" if n == 2 => self.include(&argv[1]),
            b"rename-command" if n == 3 => {
                let (from, to) = (argv[1].clone(), argv[2].clone());
                let origin = origin.clone();
                self.cfg.rename_commands.push(RenameCommand { from, to, origin });
                Ok(())
            }
            b"user" if n >= 2 => {
                let args = argv[1..].to_vec();
                self.cfg.users.push(UserDirective { args, origin: origin.clone() });
                Ok(())
            }
            b"loadmodule" if n >= 2 => Err("Modules (loadmodule) are not supported yet".into()),
            b"sentinel" => Err("Sentinel mode (sentinel) is not supported yet".into()),
            _ if name.contains(&b'.') => Err("Module configuration directives are not supported yet".into()),
            _ => Err("Bad directive or wrong number of arguments".into()),
        }
    }

    /// Applies a table directive read from a file or the command line.
    fn directive(&mut self, found: Found, args: &[Vec<u8>]) -> Result<(), String> {
        let dir = &TABLE[found.index];
        if !dir.kind.multi_arg() && args.len() != 1 {
            return Err("wrong number of arguments".into());
        }
        // A directive of several arguments given as one (`--save "60 100"`)
        // is split at its spaces, quotes honoured, as Redis does.
        let split;
        let args = match args {
            [one] if dir.kind.multi_arg() && !one.is_empty() => {
                split = crate::util::split_args(one).ok_or("unbalanced quotes in the arguments")?;
                &split[..]
            }
            _ => args,
        };
        let current = self.cfg.value(found.index);
        let mut v = checked_value(found, args, &current)?;
        match dir.kind {
            Kind::Special(Special::Save) => v = self.merge_save(args, v, current),
            Kind::Special(Special::Dir) => {
                let path = resolve_dir(&self.cwd, &args[0], self.opts.check_paths)?;
                self.cwd = path.clone();
                v = Val::Str(path.into_os_string().into_vec());
            }
            _ => {}
        }
        self.cfg.store(found.index, v);
        Ok(())
    }

    /// In a file the first `save` line replaces the default rules and later
    /// ones add to them; `save ""` empties the list at any point.
    fn merge_save(&mut self, args: &[Vec<u8>], new: Val, current: Val) -> Val {
        let first = !self.save_seen;
        self.save_seen = true;
        let explicit_reset = args.len() == 1 && args[0].is_empty();
        match (current, new) {
            (_, new) if first || explicit_reset => new,
            (Val::Save(mut rules), Val::Save(more)) => {
                rules.extend(more);
                Val::Save(rules)
            }
            (current, _) => current,
        }
    }

    fn include(&mut self, pattern: &[u8]) -> Result<(), LineError> {
        if self.depth >= MAX_INCLUDE_DEPTH {
            return Err(format!(
                "include nesting is deeper than {MAX_INCLUDE_DEPTH} levels; check for an include loop"
            )
            .into());
        }
        let given = Path::new(OsStr::from_bytes(pattern));
        let full = self.cwd.join(given);
        let files = if pattern.iter().any(|c| matches!(c, b'*' | b'?' | b'[')) {
            expand_glob(&full)
        } else {
            vec![given.to_path_buf()]
        };
        for file in files {
            let text = std::fs::read(self.cwd.join(&file)).map_err(|e| LineError::Done(cannot_open(&file, &e)))?;
            self.depth += 1;
            let result = self.load_text(&text, &[(0, Source::File(file))]);
            self.depth -= 1;
            result.map_err(LineError::Done)?;
        }
        Ok(())
    }

    /// End-of-load checks, then the finished configuration.
    pub(crate) fn finish(mut self) -> Result<Config, ConfigError> {
        if self.opts.check_paths && !self.cfg.logfile.is_empty() {
            let path = self.cwd.join(&self.cfg.logfile);
            std::fs::OpenOptions::new()
                .append(true)
                .create(true)
                .open(path)
                .map_err(|e| ConfigError::fatal(&format!("Can't open the log file: {}", strerror(&e))))?;
        }
        self.cfg.dir = self.cwd.to_string_lossy().into_owned();
        Ok(self.cfg)
    }
}

/// Parses and checks a table directive's arguments, refusing values that
/// need a subsystem Strata lacks. Shared by loading and CONFIG SET.
pub(crate) fn checked_value(found: Found, args: &[Vec<u8>], current: &Val) -> Result<Val, String> {
    let dir = &TABLE[found.index];
    let v = dir.kind.parse(args, current)?;
    if let Some(reason) = dir.refuse.and_then(|refuse| refuse(&v)) {
        return Err(reason.to_string());
    }
    Ok(table::adjust(dir, v))
}

/// The absolute directory `arg` names, relative to `cwd`; with checks on, it
/// must exist and be a directory (symbolic links resolved, like getcwd).
pub(crate) fn resolve_dir(cwd: &Path, arg: &[u8], check: bool) -> Result<PathBuf, String> {
    if arg.is_empty() {
        return Err("No such file or directory".into());
    }
    let joined = cwd.join(OsStr::from_bytes(arg));
    if !check {
        return Ok(joined);
    }
    let real = std::fs::canonicalize(&joined).map_err(|e| strerror(&e))?;
    if !real.is_dir() {
        return Err("Not a directory".into());
    }
    Ok(real)
}

fn source_at(sources: &[(usize, Source)], offset: usize) -> Source {
    sources.iter().rev().find(|(start, _)| *start <= offset).map_or(Source::CommandLine, |(_, s)| s.clone())
}

fn text_of(line: &[u8]) -> String {
    let line = match line.iter().position(|b| *b == 0) {
        Some(nul) => &line[..nul],
        None => line,
    };
    text(line)
}

/// The files a glob pattern names, sorted; none is not an error. Wildcards
/// work within one path component and do not match a leading dot.
fn expand_glob(pattern: &Path) -> Vec<PathBuf> {
    let mut found = vec![PathBuf::new()];
    for part in pattern.components() {
        let part = part.as_os_str();
        let bytes = part.as_bytes();
        if !bytes.iter().any(|c| matches!(c, b'*' | b'?' | b'[')) {
            found.iter_mut().for_each(|p| p.push(part));
            continue;
        }
        found = found.iter().flat_map(|dir| matching_entries(dir, bytes)).collect();
    }
    found.sort();
    found.retain(|p| p.is_file());
    found
}

fn matching_entries(dir: &Path, pattern: &[u8]) -> Vec<PathBuf> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    let matcher = crate::util::GlobPattern::new(pattern, false);
    entries
        .flatten()
        .map(|e| e.file_name())
        .filter(|name| {
            let name = name.as_bytes();
            (pattern.first() == Some(&b'.') || name.first() != Some(&b'.')) && matcher.matches(name)
        })
        .map(|name| dir.join(name))
        .collect()
}
