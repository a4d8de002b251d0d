//! `aof-check`: checks a Redis 7.0 append-only file (a manifest and the
//! base and incremental files it lists, or one old-style AOF file) the way
//! `redis-check-aof` does, and more strictly; with `--fix`, cuts a last file
//! that ends inside a command or transaction (or with zero bytes left by a
//! crash) back to its last complete command; with `--truncate-to-timestamp`, cuts the last file at the first
//! `#TS:` annotation later than a time (docs/tools/aof-check.md).
//!
//! Built on the library's own readers (`strata::persistence::aof::manifest`,
//! `::reader`, and the RDB decoder), so it accepts what strata-server loads
//! and finds what it would refuse. It reads every file once, front to back,
//! through a memory map.
//!
//! Invariant: a file is changed only on request (`--fix` or
//! `--truncate-to-timestamp`), only the last file the server loads, only by
//! truncating it at a point after which nothing but unfinished or unwanted
//! writes follow, and only after a synced copy of it has been made.
//!
//! Exit codes: 0 every file and the manifest are valid (or were fixed), 1 a
//! problem remains (or the truncation asked for was refused), 2 usage error.

mod locate;
mod manifest;
mod render;
mod repair;
mod scan;
mod source;

use clap::Parser;
use locate::{Located, Target};
use render::{count, utc};
use scan::{FileScan, Kind, Problem};
use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

/// Exit status when a problem remains.
const EXIT_INVALID: u8 = 1;
/// Exit status for bad arguments or a path that cannot be used.
const EXIT_USAGE: u8 = 2;

const EXAMPLES: &str = "\
Examples:
  Check an AOF directory (Redis 7's appendonlydir, with its manifest):
    aof-check /var/lib/redis/appendonlydir

  The same, naming the manifest (for a non-default appendfilename, say):
    aof-check appendonlydir/appendonly.aof.manifest

  One file alone (an AOF of Redis before 7.0, or one file of a directory):
    aof-check /var/lib/redis/appendonly.aof

  After a crash the last file ends inside a command: cut it back to its last
  complete command (the original is kept as <file>.bak):
    aof-check --fix appendonlydir

  Undo the writes made after 2024-05-01 12:00:00 UTC (the AOF must have been
  written with aof-timestamp-enabled yes):
    aof-check --truncate-to-timestamp 1714564800 appendonlydir

Stop the server before --fix or --truncate-to-timestamp: they change the
last file the server appends to.

Exit status: 0 every file and the manifest are valid (or were fixed); 1 a
problem remains, or the truncation asked for was refused; 2 bad arguments or
a path that cannot be used. See docs/tools/aof-check.md.";

/// Checks and repairs Redis append-only files (AOF).
#[derive(Parser, Debug)]
#[command(
    name = "aof-check",
    version,
    about = "Check a Redis append-only file (manifest, base and incremental files), and repair a cut-off end",
    long_about = "Checks a Redis 7.0 multipart AOF (the manifest, then the base and every incremental file in \
                  the order a server loads them) or one AOF file alone: the manifest's syntax, the RDB snapshot \
                  of a base (structure and checksum), every command (complete, well formed, known to the \
                  server), MULTI/EXEC pairing and #TS annotations. Reports the first problem of each file with \
                  its byte offset, line and the command around it, then one summary line. With --fix, a last \
                  file that ends inside a command or a transaction (or with zero bytes) is cut back to its last complete command; \
                  nothing else is ever repaired. History files are not loaded by servers and are not checked.",
    after_long_help = EXAMPLES,
    after_help = "Run with --help for examples and exit codes."
)]
struct Cli {
    /// What to check: a manifest (appendonly.aof.manifest), the directory holding it (appendonlydir, or the server's dir above it), or one AOF file checked alone (an old appendonly.aof, an .incr.aof, a .base.aof or .base.rdb).
    #[arg(value_name = "PATH")]
    path: PathBuf,

    /// If the last file the server loads ends inside a command, inside a transaction (MULTI without EXEC) or with zero bytes left by a crash, copy it to <file>.bak (or .bak.N) and cut it at its last complete command outside any transaction. Any other problem is reported and left alone.
    #[arg(long)]
    fix: bool,

    /// Cut the last incremental file at its first `#TS:<seconds>` annotation later than UNIX-TS (seconds since the epoch), after copying it to <file>.bak: the data set goes back to that time. Refused when that annotation is in an earlier file or in the base, when the manifest lists only a base, or when nothing precedes it.
    #[arg(long, value_name = "UNIX-TS", conflicts_with = "fix", allow_negative_numbers = true)]
    truncate_to_timestamp: Option<i64>,

    /// With a directory: look for NAME.manifest (the server's appendfilename; default appendonly.aof, or the only manifest there).
    #[arg(long, value_name = "NAME")]
    appendfilename: Option<String>,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Mode {
    Check,
    Fix,
    ToTimestamp(i64),
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Role {
    Base,
    Incr,
    /// A file checked alone.
    Single,
}

/// One file to check.
struct Job {
    /// The name as the manifest gives it (or the file name).
    name: String,
    path: PathBuf,
    role: Role,
}

/// How checking one file went.
enum Checked {
    Missing(String),
    Unreadable(String),
    Scanned(Box<FileScan>),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match run(&cli) {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::from(EXIT_INVALID),
        Err(usage) => {
            eprintln!("aof-check: {usage}\nRun `aof-check --help` for the options.");
            ExitCode::from(EXIT_USAGE)
        }
    }
}

/// Writes a line of the report (a closed standard output is not an error
/// worth failing over: the exit status still tells).
fn say(line: &str) {
    let mut out = std::io::stdout().lock();
    let _ = writeln!(out, "{line}");
}

/// Checks, then repairs if asked; `Ok(valid)`, or a usage message.
fn run(cli: &Cli) -> Result<bool, String> {
    if let Some(stem) = &cli.appendfilename {
        if stem.is_empty() || stem.contains(['/', '\\']) {
            return Err(format!("--appendfilename {stem:?} must be a bare file name, as in the server's config"));
        }
    }
    let mode = match (cli.fix, cli.truncate_to_timestamp) {
        (true, _) => Mode::Fix,
        (false, Some(t)) => Mode::ToTimestamp(t),
        (false, None) => Mode::Check,
    };
    if cli.appendfilename.is_some() && !cli.path.is_dir() {
        return Err("--appendfilename only applies when PATH is a directory".into());
    }
    let Located { target, notes } = locate::locate(&cli.path, cli.appendfilename.as_deref())?;
    for n in &notes {
        say(&format!("note: {n}"));
    }
    let arg = cli.path.display().to_string();
    let jobs = match &target {
        Target::Single { path } => {
            let name =
                path.file_name().map_or_else(|| path.display().to_string(), |n| n.to_string_lossy().into_owned());
            say(&format!("Checking the AOF file {} alone", path.display()));
            vec![Job { name, path: path.clone(), role: Role::Single }]
        }
        Target::Manifest { path, dir } => {
            say(&format!("Checking the AOF manifest {}", path.display()));
            let listing = match manifest::read(path) {
                Ok(l) => l,
                Err(p) => {
                    let at = if p.line == 0 { String::new() } else { format!(" at line {}", p.line) };
                    say(&format!("  manifest: NOT VALID{at}: {}", p.what));
                    if let Some(text) = &p.text {
                        say(&format!("      >>> '{text}'"));
                    }
                    say(&format!("      to mend it: {}", p.advice));
                    say(&format!(
                        "AOF manifest is not valid{at}: {}; {}, then run aof-check again (--fix never changes a \
                         manifest: edit it by hand, keeping a copy)",
                        p.what, p.advice
                    ));
                    return Ok(false);
                }
            };
            let m = &listing.manifest;
            let history = if m.history.is_empty() {
                String::new()
            } else {
                format!(
                    ", {} (not loaded by servers, not checked)",
                    count(m.history.len() as u64, "history file", "history files")
                )
            };
            say(&format!(
                "  manifest: valid: {}, {}, {}{history}",
                count(listing.lines as u64, "line", "lines"),
                count(m.base.iter().count() as u64, "base file", "base files"),
                count(m.incrs.len() as u64, "incremental file", "incremental files"),
            ));
            for w in &listing.warnings {
                say(&format!("  warning: {w}"));
            }
            if matches!(mode, Mode::ToTimestamp(_)) && m.incrs.is_empty() {
                say(&format!(
                    "Not truncated: the manifest lists only a base file, and --truncate-to-timestamp cuts only \
                     the last incremental file (a base holds no history to go back in); {} left unchanged",
                    path.display()
                ));
                return Ok(false);
            }
            let has_base = m.base.is_some();
            m.loading_order()
                .enumerate()
                .map(|(i, e)| Job {
                    name: e.name.clone(),
                    path: dir.join(&e.name),
                    role: if i == 0 && has_base { Role::Base } else { Role::Incr },
                })
                .collect()
        }
    };
    let cut_after = match mode {
        Mode::ToTimestamp(t) => Some(t),
        _ => None,
    };
    let total = jobs.len();
    let mut results = Vec::with_capacity(total);
    for (i, job) in jobs.iter().enumerate() {
        let checked = check_file(job, cut_after);
        report_file(i, total, job, &checked, mode);
        results.push(checked);
    }
    let single = matches!(target, Target::Single { .. });
    match mode {
        Mode::Check => Ok(conclude_check(&jobs, &results, &arg, single)),
        Mode::Fix => Ok(fix(&jobs, &results, &arg, single)),
        Mode::ToTimestamp(t) => Ok(to_timestamp(&jobs, &results, &arg, single, t)),
    }
}

fn check_file(job: &Job, cut_after: Option<i64>) -> Checked {
    match source::Source::open(&job.path) {
        Ok(src) => Checked::Scanned(Box::new(scan::scan(src.bytes(), cut_after))),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Checked::Missing(e.to_string()),
        Err(e) => Checked::Unreadable(e.to_string()),
    }
}

fn role_word(role: Role) -> &'static str {
    match role {
        Role::Base => "base",
        Role::Incr => "incr",
        Role::Single => "file",
    }
}

/// The lines about one file: what it holds, and its first problem.
fn report_file(i: usize, total: usize, job: &Job, checked: &Checked, mode: Mode) {
    let head = if job.role == Role::Single {
        format!("  {}", job.name)
    } else {
        format!("  [{}/{total}] {} {}", i + 1, role_word(job.role), job.name)
    };
    let s = match checked {
        Checked::Missing(e) => {
            say(&format!("{head}: MISSING ({e}): listed in the manifest, not found at {}", job.path.display()));
            return;
        }
        Checked::Unreadable(e) => {
            say(&format!("{head}: CANNOT BE READ: {e}"));
            return;
        }
        Checked::Scanned(s) => s,
    };
    let verdict = match (&s.problem, &s.cut) {
        (Some(_), _) => "NOT VALID".to_string(),
        (None, Some(cut)) => format!("valid up to byte {}", cut.annotation_at),
        (None, None) => "valid".to_string(),
    };
    say(&format!("{head}: {}: {verdict}", contents(s)));
    if let Some(back) = &s.ts_back {
        say(&format!(
            "      note: timestamps go back from {} to {} at byte {} (line {}): was the clock set back? \
             --truncate-to-timestamp cuts at the first annotation later than the time given",
            back.from, back.to, back.offset, back.line
        ));
    }
    if let Some(p) = &s.problem {
        let place = match p.line {
            Some(l) => format!("byte {}, line {l}", p.offset),
            None => format!("byte {}", p.offset),
        };
        say(&format!("      {place}: {}", p.what));
        for c in &p.context {
            say(&format!("      {c}"));
        }
    }
    if let (Some(cut), Mode::ToTimestamp(t)) = (&s.cut, mode) {
        say(&format!(
            "      first annotation later than {t}: #TS:{} ({}) at byte {} (line {}){}; not read further",
            cut.ts,
            utc(cut.ts),
            cut.annotation_at,
            cut.line,
            if cut.in_multi {
                format!(", inside the transaction opened at byte {}", cut.cut_at)
            } else {
                String::new()
            }
        ));
    }
}

/// What a file holds, in a few words.
fn contents(s: &FileScan) -> String {
    if s.size == 0 {
        return "empty (0 bytes; loads as nothing)".into();
    }
    let mut parts = vec![count(s.size as u64, "byte", "bytes")];
    if let Some(r) = &s.rdb {
        let sum = match r.checksum {
            strata::persistence::rdb::Checksum::Verified(_) => "checksum verified",
            strata::persistence::rdb::Checksum::Disabled => "checksum disabled (stored as zero)",
            strata::persistence::rdb::Checksum::Absent => "no checksum (RDB version before 5)",
            strata::persistence::rdb::Checksum::NotChecked(_) => "checksum not checked",
        };
        parts.push(format!("RDB version {} with {}, {sum}", r.version, count(r.keys, "key", "keys")));
    } else if s.problem.as_ref().is_some_and(|p| p.line.is_none()) {
        parts.push("RDB".into());
    }
    let rdb_failed = s.problem.as_ref().is_some_and(|p| p.line.is_none());
    if !rdb_failed && (s.rdb.is_none() || s.commands > 0 || s.annotations > 0) {
        let after = if s.rdb.is_some() { " after it" } else { "" };
        let mut c = format!("{}{after}", count(s.commands, "command", "commands"));
        if s.transactions > 0 {
            c.push_str(&format!(" ({})", count(s.transactions, "transaction", "transactions")));
        }
        parts.push(c);
    }
    if let (Some(a), Some(b)) = (s.first_ts, s.last_ts) {
        parts.push(if a == b {
            format!("#TS {a} ({})", utc(a))
        } else {
            format!("#TS {a} ({}) to {b} ({})", utc(a), utc(b))
        });
    }
    parts.join(", ")
}

/// A problem found, with the file it is in.
struct Found<'a> {
    index: usize,
    job: &'a Job,
    problem: Option<&'a Problem>,
    /// For a missing or unreadable file.
    io: Option<&'a str>,
}

fn problems<'a>(jobs: &'a [Job], results: &'a [Checked]) -> Vec<Found<'a>> {
    let mut out = Vec::new();
    for (index, (job, c)) in jobs.iter().zip(results).enumerate() {
        match c {
            Checked::Missing(e) | Checked::Unreadable(e) => out.push(Found { index, job, problem: None, io: Some(e) }),
            Checked::Scanned(s) => {
                if let Some(p) = &s.problem {
                    out.push(Found { index, job, problem: Some(p), io: None });
                }
            }
        }
    }
    out
}

/// Whether `--fix` repairs this problem: the end of the last file, cut
/// inside a command or a transaction.
fn fixable(f: &Found, last: usize) -> bool {
    f.index == last
        && f.problem.is_some_and(|p| p.at_end && matches!(p.kind, Kind::Truncated | Kind::OpenMulti | Kind::ZeroTail))
}

fn size_of(results: &[Checked], index: usize) -> usize {
    match &results[index] {
        Checked::Scanned(s) => s.size,
        _ => 0,
    }
}

/// One sentence: the problem, where, and what to do about it.
fn advice(f: &Found, results: &[Checked], last: usize, arg: &str) -> String {
    let name = &f.job.name;
    let is_last = f.index == last;
    let Some(p) = f.problem else {
        let e = f.io.unwrap_or("unknown error");
        return if matches!(results[f.index], Checked::Missing(_)) {
            format!(
                "{name} is listed in the manifest but missing ({e}): a server refuses to start without it; \
                 restore it from a backup"
            )
        } else {
            format!("{name} cannot be read ({e}): check its permissions, then run aof-check again")
        };
    };
    let size = size_of(results, f.index);
    let place = match p.line {
        Some(l) => format!("at byte {} (line {l})", p.offset),
        None => format!("at byte {}", p.offset),
    };
    let cut = p.valid_up_to;
    let dropped = size.saturating_sub(cut);
    let by_hand = format!(
        "keeping only what comes before it means cutting the file by hand at byte {cut} (`truncate -s {cut} {}`, \
         after copying it), losing {}",
        f.job.path.display(),
        count(dropped as u64, "byte", "bytes")
    );
    let later = if is_last { "" } else { " (and the later files then replay onto incomplete data)" };
    let ends = match p.kind {
        Kind::OpenMulti => "ends inside a transaction opened".to_string(),
        Kind::ZeroTail => format!("ends with {} zero bytes, starting", size.saturating_sub(p.offset)),
        _ => "ends inside a command".to_string(),
    };
    match p.kind {
        Kind::Truncated | Kind::OpenMulti | Kind::ZeroTail if p.at_end && is_last => format!(
            "{name} {ends} {place}; it is the end of the last file, so `aof-check --fix {arg}` can cut it back to its \
             last complete command at byte {cut}, dropping {} (a backup is made first)",
            count(dropped as u64, "byte", "bytes")
        ),
        Kind::Truncated | Kind::OpenMulti | Kind::ZeroTail if p.at_end => format!(
            "{name} {ends} {place}, and it is not the last file: servers refuse to load it (the later files build on \
             what is missing); restore it from a backup, or {by_hand}{later}",
        ),
        Kind::Truncated | Kind::OpenMulti | Kind::ZeroTail => format!(
            "{name} has a command {place} announcing more bytes than the file holds, though complete commands \
             follow it: the command is damaged, not cut short, and --fix does not repair damage; restore the file \
             from a backup, or {by_hand}{later}"
        ),
        Kind::Format => format!(
            "{name} is damaged {place} ({}); --fix does not repair damage: restore the file from a backup, or \
             {by_hand}{later}",
            p.what
        ),
        Kind::NestedMulti | Kind::ExecWithoutMulti | Kind::BadTimestamp => {
            let (from, to) = removal(p, results, f.index);
            format!(
                "{name} has {} {place}; to keep every write after it, delete by hand the {} from byte {from} on \
                 (`{{ head -c {from} FILE; tail -c +{} FILE; }} > FILE.new`, then replace FILE once checked), {}",
                p.what,
                count(to.saturating_sub(from) as u64, "byte", "bytes"),
                to + 1,
                match p.kind {
                    Kind::NestedMulti => "the unfinished transaction before it, as a loader drops it",
                    Kind::ExecWithoutMulti => "the stray command",
                    _ => "the bad annotation line",
                }
            )
        }
        Kind::UnknownCommand => format!(
            "{name} {place}: {}; the bytes are well formed, so redis-check-aof passes them: load this AOF with a \
             server that knows the command",
            p.what
        ),
        Kind::Rdb => format!(
            "{name} is damaged {place}: {}; a snapshot cannot be repaired by cutting it: restore the file from a \
             backup (`rdb-dump --format resp` still reads the keys before the damage)",
            p.what
        ),
        Kind::RdbUnsupported => {
            format!("{name} holds data this tool cannot read {place} ({}): the file was not checked past it", p.what)
        }
    }
}

/// The byte range to delete by hand for a problem that is one item (or one
/// unfinished transaction) in the middle of a file.
fn removal(p: &Problem, results: &[Checked], index: usize) -> (usize, usize) {
    let size = size_of(results, index);
    match p.kind {
        // The unfinished transaction: from its MULTI up to this one.
        Kind::NestedMulti => (p.valid_up_to, p.offset),
        _ => (p.offset, p.item_end.unwrap_or(size).min(size)),
    }
}

fn valid_summary(single: bool) -> &'static str {
    if single {
        "The AOF file is valid"
    } else {
        "All AOF files and manifest are valid"
    }
}

/// Prints the summary of a plain check; returns whether all is valid.
fn conclude_check(jobs: &[Job], results: &[Checked], arg: &str, single: bool) -> bool {
    let found = problems(jobs, results);
    let Some(first) = found.first() else {
        say(valid_summary(single));
        return true;
    };
    say(&format!(
        "AOF is not valid: {}{}",
        advice(first, results, jobs.len().saturating_sub(1), arg),
        more(found.len())
    ));
    false
}

fn more(n: usize) -> String {
    if n > 1 {
        format!(" ({} listed above)", count(n as u64 - 1, "more problem", "more problems"))
    } else {
        String::new()
    }
}

fn fix(jobs: &[Job], results: &[Checked], arg: &str, single: bool) -> bool {
    let last = jobs.len().saturating_sub(1);
    let found = problems(jobs, results);
    let Some(first) = found.first() else {
        say("Nothing to fix.");
        say(valid_summary(single));
        return true;
    };
    if found.len() > 1 || !fixable(first, last) {
        let why = if found.len() > 1 && found.iter().any(|f| fixable(f, last)) {
            "the end of the last file could be cut, but other problems remain, and cutting would not make the AOF \
             load"
                .to_string()
        } else {
            "--fix repairs only a last file that ends inside a command or a transaction, or with zero bytes".to_string()
        };
        say(&format!("Not fixed: {why}; nothing was changed."));
        say(&format!("AOF is not valid: {}{}", advice(first, results, last, arg), more(found.len())));
        return false;
    }
    let Some(p) = first.problem else { return false };
    let job = first.job;
    let size = size_of(results, first.index);
    let what = if p.kind == Kind::ZeroTail {
        let before =
            if p.valid_up_to < p.offset { ", and the unfinished command or transaction before them" } else { "" };
        format!("the {} zero bytes from byte {}{before}", size.saturating_sub(p.offset), p.offset)
    } else if p.kind == Kind::OpenMulti {
        format!("the unfinished transaction opened at byte {}", p.valid_up_to)
    } else if p.valid_up_to < p.offset {
        format!(
            "the unfinished transaction opened at byte {}, cut inside a command at byte {}",
            p.valid_up_to, p.offset
        )
    } else {
        format!("the unfinished command at byte {}", p.offset)
    };
    match cut_file(job, size, p.valid_up_to) {
        Err(e) => {
            say(&format!("Not fixed: {e}"));
            say(&format!("AOF is not valid: {}", advice(first, results, last, arg)));
            false
        }
        Ok(backup) => {
            say(&format!(
                "Fixed: {} cut from {size} to {} bytes, dropping {} ({what}); the original is in {}",
                job.name,
                p.valid_up_to,
                count((size - p.valid_up_to) as u64, "byte", "bytes"),
                backup.display()
            ));
            recheck(job, single)
        }
    }
}

/// Backs up `job`'s file and truncates it to `len`; returns the backup.
fn cut_file(job: &Job, size: usize, len: usize) -> Result<PathBuf, String> {
    let backup = repair::backup(&job.path, size as u64)
        .map_err(|e| format!("cannot back up {} ({e}); nothing was changed", job.path.display()))?;
    repair::truncate(&job.path, size as u64, len as u64).map_err(|e| {
        format!(
            "cannot truncate {} ({e}); the backup {} was made, the file is unchanged",
            job.path.display(),
            backup.display()
        )
    })?;
    Ok(backup)
}

/// Reads the changed file again, to confirm it is now valid.
fn recheck(job: &Job, single: bool) -> bool {
    match check_file(job, None) {
        Checked::Scanned(s) if s.problem.is_none() => {
            say(&format!("  {} {}: {}: valid", role_word(job.role), job.name, contents(&s)));
            say(valid_summary(single));
            true
        }
        _ => {
            say(&format!(
                "AOF is not valid: {} still has a problem after the cut: run aof-check on it again",
                job.name
            ));
            false
        }
    }
}

fn to_timestamp(jobs: &[Job], results: &[Checked], arg: &str, single: bool, t: i64) -> bool {
    let last = jobs.len().saturating_sub(1);
    let found = problems(jobs, results);
    if let Some(first) = found.first() {
        say("Not truncated: the files must be valid up to the cut first; nothing was changed.");
        say(&format!("AOF is not valid: {}{}", advice(first, results, last, arg), more(found.len())));
        return false;
    }
    let scans: Vec<&FileScan> = results
        .iter()
        .filter_map(|c| match c {
            Checked::Scanned(s) => Some(&**s),
            _ => None,
        })
        .collect();
    let when = format!("{t} ({})", utc(t));
    for (i, (job, s)) in jobs.iter().zip(&scans).enumerate() {
        let Some(cut) = &s.cut else { continue };
        if i == last {
            if cut.cut_at == 0 {
                say(&format!(
                    "Not truncated: nothing in {} precedes #TS:{} at byte {}, its first annotation later than \
                     {when}: the time asked for is before this file began, and the files before it cannot be cut; \
                     nothing was changed",
                    job.name, cut.ts, cut.annotation_at
                ));
                return false;
            }
            let size = s.size;
            return match cut_file(job, size, cut.cut_at) {
                Err(e) => {
                    say(&format!("Not truncated: {e}"));
                    false
                }
                Ok(backup) => {
                    let at = if cut.in_multi {
                        format!("the transaction opened at byte {} that holds #TS:{}", cut.cut_at, cut.ts)
                    } else {
                        format!("#TS:{} ({}), line {}", cut.ts, utc(cut.ts), cut.line)
                    };
                    say(&format!(
                        "Truncated {} to timestamp {when}: cut at byte {} ({at}), dropping {} written later; the \
                         original is in {}",
                        job.name,
                        cut.cut_at,
                        count((size - cut.cut_at) as u64, "byte", "bytes"),
                        backup.display()
                    ));
                    recheck(job, single)
                }
            };
        }
        let why = if job.role == Role::Base {
            format!(
                "the base {} holds #TS:{} (byte {}), later than {when}: the base was written after that time, so \
                 these files cannot go back to it",
                job.name, cut.ts, cut.annotation_at
            )
        } else {
            format!(
                "{} holds #TS:{} (byte {}, line {}), later than {when}, and it is not the last file: to go back that \
                 far, first remove the files after it from the manifest by hand (keep copies), then run this again",
                job.name, cut.ts, cut.annotation_at, cut.line
            )
        };
        say(&format!("Not truncated: {why}; nothing was changed."));
        return false;
    }
    let latest = scans.iter().filter_map(|s| s.last_ts).max();
    match latest {
        Some(l) => {
            say(&format!("Nothing to truncate: no #TS annotation is later than {when} (the latest is {l}, {})", utc(l)))
        }
        None => say(&format!(
            "Nothing to truncate: the files hold no #TS annotation (servers write them only with \
             aof-timestamp-enabled yes); {arg} left unchanged"
        )),
    }
    say(valid_summary(single));
    true
}
