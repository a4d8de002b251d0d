//! `aof-edit`: lists and edits the records of an AOF directory (Redis 7's
//! `appendonlydir`, written by strata-server or Redis): the timeline of
//! writes across base, incremental and history files; dropping chosen
//! records; undoing the last FLUSHALL or FLUSHDB (docs/tools/aof-edit.md,
//! docs/recovery.md).
//!
//! Invariant: the original files are never changed. Results go to a new
//! directory (`--out`), or with `--in-place` the directory is first copied
//! aside, edited files get new names, and the manifest is swapped
//! atomically; a directory a running server holds (its lock file) is left
//! alone unless `--force`.
//!
//! Exit codes: 0 done, 1 refused or failed (nothing changed), 2 usage.

#[path = "../aof-check/locate.rs"]
#[allow(dead_code)]
mod locate;
#[path = "../rdb-dump/progress.rs"]
mod progress;
#[path = "../rdb-dump/quote.rs"]
#[allow(dead_code)]
mod quote;
#[path = "../aof-check/render.rs"]
#[allow(dead_code)]
mod render;

mod chain;
mod list;
mod plan;
mod replay;
mod restore;
mod stream;
mod timeline;
mod when;
mod write;

use chain::Chain;
use clap::{Args, Parser, Subcommand};
use std::collections::BTreeSet;
use std::io::{BufRead, Write};
use std::path::PathBuf;
use std::process::ExitCode;

const EXIT_FAILED: u8 = 1;
const EXIT_USAGE: u8 = 2;

const EXAMPLES: &str = "\
Examples:
  See the last writes, newest at the bottom (pipe to less or tail):
    aof-edit list /var/lib/redis/appendonlydir | tail -50

  Find when a key was written or deleted:
    aof-edit list appendonlydir --key 'user:1042*'

  Someone ran FLUSHALL: stop the server, then
    aof-edit undo-flushall appendonlydir --out appendonlydir.restored
    (check what it says, then swap the directories and start the server)

  The same, editing the directory itself (a copy is made first):
    aof-edit undo-flushall appendonlydir --in-place

  The data set as it was at 10:32 this morning (local time), into a new
  directory (needs aof-timestamp-enabled yes; else use --index N):
    aof-edit restore-to appendonlydir --time 10:32 --out /restore/appendonlydir

  Drop records 1500 and 1502 (numbers from list):
    aof-edit drop appendonlydir --index 1500 --index 1502 --out fixed-dir

Stop the server first: aof-edit refuses --in-place on a directory that a
running strata-server holds. See docs/recovery.md for the whole runbook.";

/// Lists and edits the records of an AOF directory (appendonlydir).
#[derive(Parser, Debug)]
#[command(name = "aof-edit", version, after_help = EXAMPLES)]
struct Cli {
    #[command(subcommand)]
    cmd: Cmd,
}

#[derive(Subcommand, Debug)]
enum Cmd {
    /// The timeline of records across the base, incremental and history files: index, file:offset, time (from #TS annotations), database, command and keys.
    List(ListArgs),
    /// Write the AOF without chosen records (MULTI/EXEC blocks stay whole).
    Drop(DropArgs),
    /// Bring back what the last FLUSHALL or FLUSHDB removed, keeping every write after it.
    UndoFlushall(UndoArgs),
    /// Write a new AOF directory holding the data set as it was at a time (or just before a record).
    RestoreTo(RestoreArgs),
}

#[derive(Args, Debug)]
struct RestoreArgs {
    #[command(flatten)]
    src: Source,
    /// The moment: Unix seconds, 2026-12-07T10:32:00Z, 2026-12-07 10:32 (local time) or 10:32 (today, local). Every write made up to that second is kept, nothing after.
    #[arg(long, value_name = "TIME", required_unless_present = "index", conflicts_with = "index")]
    time: Option<String>,
    /// The data set just before record N (numbers from list): for AOFs written without timestamps.
    #[arg(long, value_name = "N")]
    index: Option<u64>,
    /// The new (or empty) directory to write the result into.
    #[arg(long, value_name = "DIR", required_unless_present = "dry_run")]
    out: Option<PathBuf>,
    /// Say what would be kept, write nothing.
    #[arg(long)]
    dry_run: bool,
}

#[derive(Args, Debug)]
struct Source {
    /// The AOF directory (appendonlydir), the server's dir above it, or the manifest.
    #[arg(value_name = "DIR")]
    path: PathBuf,
    /// Look for NAME.manifest (the server's appendfilename; default appendonly.aof).
    #[arg(long, value_name = "NAME")]
    appendfilename: Option<String>,
}

#[derive(Args, Debug)]
struct ListArgs {
    #[command(flatten)]
    src: Source,
    /// Only records of this command (repeatable; any case).
    #[arg(long, value_name = "NAME")]
    command: Vec<String>,
    /// Only records with a key matching this glob pattern (as KEYS takes).
    #[arg(long, value_name = "GLOB")]
    key: Option<String>,
    /// Only records applying to this database.
    #[arg(long)]
    db: Option<i64>,
    /// Only records at or after this time (Unix seconds, 2026-12-07T10:32:00Z, or local 10:32).
    #[arg(long, value_name = "TIME")]
    since: Option<String>,
    /// Only records at or before this time.
    #[arg(long, value_name = "TIME")]
    until: Option<String>,
    /// One JSON object per line (binary-safe: {"base64":...} for bytes that are not UTF-8).
    #[arg(long)]
    json: bool,
    /// No progress line on a terminal.
    #[arg(long, short)]
    quiet: bool,
}

#[derive(Args, Debug)]
struct Output {
    /// Write the result into this new (or empty) directory; the original stays as it is.
    #[arg(long, value_name = "DIR", required_unless_present_any = ["in_place", "dry_run"], conflicts_with = "in_place")]
    out: Option<PathBuf>,
    /// Edit the directory itself: it is first copied to <dir>.before-edit-<time>, then the manifest is swapped atomically.
    #[arg(long)]
    in_place: bool,
    /// Say what would be done, change nothing.
    #[arg(long)]
    dry_run: bool,
    /// Edit in place even though a running server holds the directory (its lock file). Dangerous: the server keeps appending to the old files.
    #[arg(long)]
    force: bool,
}

#[derive(Args, Debug)]
struct DropArgs {
    #[command(flatten)]
    src: Source,
    /// A record to drop, by its index in `list` (repeatable).
    #[arg(long, value_name = "N", required_unless_present = "last")]
    index: Vec<u64>,
    /// Drop the last record of this command (FLUSHALL, FLUSHDB, or any other).
    #[arg(long, value_name = "COMMAND", conflicts_with = "index")]
    last: Option<String>,
    /// Do not ask for confirmation.
    #[arg(long, short)]
    yes: bool,
    #[command(flatten)]
    output: Output,
}

#[derive(Args, Debug)]
struct UndoArgs {
    #[command(flatten)]
    src: Source,
    /// Do not ask for confirmation.
    #[arg(long, short)]
    yes: bool,
    #[command(flatten)]
    output: Output,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let r = match &cli.cmd {
        Cmd::List(a) => run_list(a),
        Cmd::Drop(a) => {
            let sel = match &a.last {
                Some(name) => plan::Select::Last(vec![name.to_ascii_lowercase()]),
                None => plan::Select::Indexes(a.index.iter().copied().collect::<BTreeSet<u64>>()),
            };
            run_edit(&a.src, &a.output, &sel, false, a.yes)
        }
        Cmd::RestoreTo(a) => run_restore(a),
        Cmd::UndoFlushall(a) => {
            let sel = plan::Select::Last(vec!["flushall".into(), "flushdb".into()]);
            run_edit(&a.src, &a.output, &sel, true, a.yes)
        }
    };
    match r {
        Ok(()) => ExitCode::SUCCESS,
        Err(Failure::Usage(m)) => {
            eprintln!("aof-edit: {m}");
            ExitCode::from(EXIT_USAGE)
        }
        Err(Failure::Refused(m)) => {
            eprintln!("aof-edit: {m}");
            ExitCode::from(EXIT_FAILED)
        }
    }
}

enum Failure {
    Usage(String),
    Refused(String),
}

impl From<String> for Failure {
    fn from(m: String) -> Self {
        Failure::Refused(m)
    }
}

fn open(src: &Source) -> Result<Chain, Failure> {
    let found = locate::locate(&src.path, src.appendfilename.as_deref()).map_err(Failure::Usage)?;
    for n in &found.notes {
        eprintln!("note: {n}");
    }
    match found.target {
        locate::Target::Manifest { path, dir } => {
            let chain = Chain::open(&path, &dir)?;
            for name in &chain.ignored {
                eprintln!("note: history file {name} belongs to no kept base and is left out of the timeline");
            }
            Ok(chain)
        }
        locate::Target::Single { path } => Err(Failure::Usage(format!(
            "{} is a single-file AOF (Redis before 7.0): aof-edit works on an AOF directory; start a server \
             with it once (it upgrades the file into appendonlydir), stop it, then run aof-edit there",
            path.display()
        ))),
    }
}

fn run_list(a: &ListArgs) -> Result<(), Failure> {
    let chain = open(&a.src)?;
    let time = |s: &Option<String>| s.as_deref().map(when::parse).transpose().map_err(Failure::Usage);
    let filter = list::Filter {
        commands: a.command.iter().map(|c| c.to_ascii_lowercase()).collect(),
        key: a.key.as_ref().map(|g| strata::util::GlobPattern::new(g.as_bytes(), false)),
        db: a.db,
        since: time(&a.since)?,
        until: time(&a.until)?,
    };
    for (word, t) in [("since", filter.since), ("until", filter.until)] {
        if let Some(t) = t {
            eprintln!("{word} {} ({})", render::utc(t), when::local(t));
        }
    }
    list::run(&chain, &filter, a.json, a.quiet)?;
    Ok(())
}

fn now_secs() -> i64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_secs() as i64)
}

fn run_edit(src: &Source, o: &Output, sel: &plan::Select, undo: bool, yes: bool) -> Result<(), Failure> {
    let chain = open(src)?;
    // Held until the edit is done, so a server starting meanwhile warns.
    let _lock = if o.in_place && !o.dry_run { Some(lock(&chain, o.force)?) } else { None };
    let plan = plan::make(&chain, sel)?;
    let lay = write::layout(&chain, &plan);
    let mut say = std::io::stdout().lock();
    let _ = writeln!(say, "Records to drop ({} of {}):", plan.cuts.len(), plan.records);
    for c in &plan.cuts {
        let _ = writeln!(say, "  {}", c.line);
    }
    let _ = writeln!(say, "Records after them, kept: {}", plan.after_last_cut);
    for line in &plan.kept_after {
        let _ = writeln!(say, "  {line}");
    }
    if plan.after_last_cut > plan.kept_after.len() as u64 {
        let _ = writeln!(say, "  ... (aof-edit list shows them all)");
    }
    if undo {
        let counts = replay::counts(&chain, &plan, &lay)?;
        let _ = writeln!(say, "Keys per database (just before the flush -> after the undo):");
        for (db, (b, a)) in counts.before.iter().zip(&counts.after).enumerate() {
            if *b != 0 || *a != 0 {
                let _ = writeln!(say, "  db{db}: {b} -> {a}");
            }
        }
    }
    let names: Vec<&str> = lay.files.iter().map(|(e, _, _)| e.name.as_str()).collect();
    let edited: Vec<&str> = lay.files.iter().filter(|f| f.2).map(|(e, _, _)| e.name.as_str()).collect();
    let _ = writeln!(say, "Files of the result: {} (edited: {})", names.join(", "), edited.join(", "));
    if lay.first_segment + 1 < chain.segments.len() {
        let _ = writeln!(
            say,
            "The result starts from an older base kept as history: later bases already hold what is dropped."
        );
    }
    if o.dry_run {
        let _ = writeln!(say, "Dry run: nothing written.");
        return Ok(());
    }
    if !yes && !confirm(&mut say)? {
        return Err(Failure::Refused("not confirmed: nothing changed".into()));
    }
    let stamp = now_secs();
    match &o.out {
        Some(out) => {
            write::to_new_dir(&chain, &plan, &lay, out)?;
            let _ = writeln!(
                say,
                "Written to {}. Check it (aof-check {0}), then stop the server, move the old directory away, \
                 put this one in its place (same name), and start the server.",
                out.display()
            );
        }
        None => {
            let aside = write::copy_aside(&chain, stamp)?;
            let _ = writeln!(say, "Copied the original to {}", aside.display());
            let removed = write::in_place(&chain, &plan, &lay, stamp)?;
            let _ = writeln!(
                say,
                "Edited {} in place; files no longer named by the manifest removed: {}",
                chain.dir.display(),
                if removed.is_empty() { "none".to_string() } else { removed.join(", ") }
            );
        }
    }
    Ok(())
}

fn run_restore(a: &RestoreArgs) -> Result<(), Failure> {
    let chain = open(&a.src)?;
    let moment = match (&a.time, a.index) {
        (Some(t), _) => restore::Moment::Time(when::parse(t).map_err(Failure::Usage)?),
        (None, Some(i)) => restore::Moment::Before(i),
        (None, None) => return Err(Failure::Usage("give --time or --index".into())),
    };
    let r = restore::find(&chain, &moment)?;
    let mut lay = write::layout(&chain, &r.plan);
    if let Some(f) = r.last_file {
        lay.files.retain(|(_, no, _)| no.is_none_or(|n| n <= f));
    }
    let mut say = std::io::stdout().lock();
    if let restore::Moment::Time(t) = moment {
        let _ = writeln!(say, "Restoring to {} ({})", render::utc(t), when::local(t));
    }
    match &r.last_kept {
        Some(k) => {
            let _ = writeln!(say, "Last record kept: {k}");
        }
        None => {
            let _ = writeln!(say, "No record is kept");
        }
    }
    match r.plan.cuts.first() {
        Some(c) => {
            let _ = writeln!(say, "Left out: {} records, from {}", r.left_out, c.line);
        }
        None => {
            let _ = writeln!(say, "Left out: nothing (that moment is after the last record)");
        }
    }
    let counts = replay::counts(&chain, &r.plan, &lay)?;
    let _ = writeln!(say, "Keys per database in the result:");
    for (db, n) in counts.after.iter().enumerate().filter(|(_, n)| **n != 0) {
        let _ = writeln!(say, "  db{db}: {n}");
    }
    let names: Vec<&str> = lay.files.iter().map(|(e, _, _)| e.name.as_str()).collect();
    let _ = writeln!(say, "Files of the result: {}", names.join(", "));
    let Some(out) = a.out.as_ref().filter(|_| !a.dry_run) else {
        let _ = writeln!(say, "Dry run: nothing written.");
        return Ok(());
    };
    write::to_new_dir(&chain, &r.plan, &lay, out)?;
    let _ = writeln!(
        say,
        "Written to {}. Start a server on it (its dir holding this directory as appendonlydir), or \
         check it first with aof-check.",
        out.display()
    );
    Ok(())
}

fn lock(chain: &Chain, force: bool) -> Result<Option<strata::persistence::aof::lock::DirLock>, Failure> {
    match strata::persistence::aof::lock::acquire(&chain.dir, &chain.stem) {
        Ok(l) => Ok(Some(l)),
        Err(e @ strata::persistence::aof::lock::LockError::Held { .. }) if !force => Err(Failure::Refused(format!(
            "{e}: a server is running on this directory. Stop it first (SHUTDOWN), or write the result \
             elsewhere with --out; --force overrides this check"
        ))),
        Err(e) if force => {
            eprintln!("warning: {e}; going on (--force)");
            Ok(None)
        }
        Err(e) => Err(Failure::Refused(format!("{e}; --force goes on without the lock"))),
    }
}

fn confirm(say: &mut impl Write) -> Result<bool, Failure> {
    let _ = write!(say, "Write this? [y/N] ");
    let _ = say.flush();
    let mut line = String::new();
    std::io::stdin()
        .lock()
        .read_line(&mut line)
        .map_err(|e| Failure::Refused(format!("can't read the answer: {e}")))?;
    Ok(matches!(line.trim(), "y" | "Y" | "yes" | "YES" | "Yes"))
}
