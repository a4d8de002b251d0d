//! `rdb-dump`: reads an RDB snapshot (or the RDB preamble of an AOF file)
//! and checks it, prints its contents as text, JSON lines or RESP commands,
//! or reports statistics about it (docs/tools/rdb-dump.md).
//!
//! Built only on the library's public API: the decoder in
//! `strata::persistence::rdb` yields one item per record and the values are
//! the server's own `strata::keyspace::Value`s, so this tool accepts exactly
//! what the server loads. The file is memory-mapped and walked once, front
//! to back: memory stays bounded by the largest single value (plus, under
//! `--check`, one 64-bit hash per key to find keys stored twice).
//!
//! Exit codes: 0 success, 1 damaged or not an RDB file, 2 usage or I/O
//! error, 3 valid data this tool cannot read (streams, module values, a
//! newer RDB version).

mod check;
mod filter;
mod input;
mod json;
mod progress;
mod quote;
mod resp;
mod stats;
mod text;
mod values;
mod walk;

use clap::{Parser, ValueEnum};
use std::ffi::OsString;
use std::io::{self, Write};
use std::path::PathBuf;
use std::process::ExitCode;
use strata::persistence::rdb::{Checksum, ErrorKind};

#[global_allocator]
static GLOBAL: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;

/// Exit status for a file that is damaged or is not an RDB file.
const EXIT_DAMAGED: u8 = 1;
/// Exit status for a bad command line or a file that cannot be read.
const EXIT_USAGE: u8 = 2;
/// Exit status for valid data this tool does not read.
const EXIT_UNSUPPORTED: u8 = 3;

const EXAMPLES: &str = "\
Examples:
  Check a snapshot before restoring it (exit status 0 means it is sound):
    rdb-dump --check /var/lib/redis/dump.rdb

  Look at the keys of database 0 whose names start with \"user:\":
    rdb-dump --db 0 --key 'user:*' dump.rdb

  Every hash and sorted set as JSON lines, one object per key:
    rdb-dump --format json --type hash,zset dump.rdb > keys.jsonl

  Copy a snapshot's data into a running server:
    rdb-dump --format resp dump.rdb | redis-cli -p 6380 --pipe

  Where the memory goes: key counts, sizes, expiries and the 20 largest keys:
    rdb-dump --stats --top 20 dump.rdb

  The snapshot at the head of an AOF (Redis 7's base file, or an older
  appendonly.aof that starts with \"REDIS\"):
    rdb-dump --check appendonlydir/appendonly.aof.1.base.rdb

Exit status: 0 success; 1 the file is damaged or is not an RDB file; 2 bad
arguments or the file cannot be read; 3 the file holds data this tool cannot
read (streams, module values, RDB version 12 or later). See
docs/tools/rdb-dump.md for the output formats.";

/// Reads Redis RDB snapshot files: checks them, prints their keys and values, or reports statistics.
#[derive(Parser, Debug)]
#[command(
    name = "rdb-dump",
    version,
    about = "Check, print or summarise a Redis RDB snapshot (versions 1 to 11)",
    long_about = "Reads a Redis RDB snapshot (versions 1 to 11, as written by Redis 1.0 to 7.2 and by \
                  strata-server), or the snapshot at the head of an AOF file, and checks it (--check), \
                  prints its contents (--format text|json|resp, the default being text), or reports \
                  statistics about it (--stats). The file is read in one pass through a memory map, so \
                  files larger than memory work. Reading stops at the snapshot's end record: the AOF \
                  commands that may follow it are not read.",
    after_long_help = EXAMPLES,
    after_help = "Run with --help for examples and exit codes."
)]
struct Cli {
    /// The RDB file, an AOF base file (appendonly.aof.N.base.rdb) or an AOF file that starts with an RDB preamble; `-` reads standard input (which is then held in memory).
    #[arg(value_name = "FILE")]
    file: OsString,

    /// Verify the whole file as strictly as a server with `sanitize-dump-payload yes` would: every value's internal structure, duplicate members and keys, the order of sorted sets, and the CRC-64. Prints a one-line summary and exits 0, or prints the first problem with its byte offset and key and exits 1.
    #[arg(long)]
    check: bool,

    /// Report key counts per database and type, serialized sizes, the largest keys, an expiry histogram, the RDB version and the aux fields (with --format json: as one JSON object). Values are walked past without being built, unless --check is also given.
    #[arg(long)]
    stats: bool,

    /// Output format of the contents (or of --stats: text or json). text: one header line per key, then its elements, quoted and escaped; json: one JSON object per key per line; resp: the commands that rebuild the data, for `redis-cli --pipe`.
    #[arg(long, short = 'f', value_enum, value_name = "FORMAT")]
    format: Option<Format>,

    /// Only keys of database N. Repeat it or give a comma-separated list to select several databases.
    #[arg(long = "db", value_name = "N", value_delimiter = ',')]
    dbs: Vec<u64>,

    /// Only keys whose name matches GLOB, in Redis's glob syntax (`*`, `?`, `[a-z]`, `[^x]`, `\` to escape), as KEYS matches. Repeat it to match any of several patterns.
    #[arg(long = "key", value_name = "GLOB")]
    keys: Vec<OsString>,

    /// Only keys of these types. Repeat it or give a comma-separated list.
    #[arg(long = "type", value_enum, value_name = "TYPE", value_delimiter = ',')]
    types: Vec<filter::KeyType>,

    /// With --stats: how many of the largest keys to list.
    #[arg(long, value_name = "N", default_value_t = 10)]
    top: usize,

    /// With --format resp: at most N elements (list elements, set members, hash pairs, sorted-set members) per command; larger collections take several commands. A command is also ended once its arguments pass 4 MiB.
    #[arg(long, value_name = "N", default_value_t = 1000, value_parser = clap::value_parser!(u32).range(1..))]
    batch: u32,

    /// With --format resp: write `DEL key` before each key, so that keys already present on the target server are replaced rather than added to.
    #[arg(long)]
    replace: bool,

    /// With --format json: write every key, value and element as a base64 string (RFC 4648, with padding), instead of a UTF-8 string or, for bytes that are not UTF-8, a {"base64": ...} object.
    #[arg(long)]
    base64: bool,

    /// With --stats: the time, in milliseconds since the Unix epoch, that the expiry histogram is relative to (default: now).
    #[arg(long, value_name = "MS")]
    now: Option<i64>,

    /// Print no progress and no warnings on standard error (errors are still printed).
    #[arg(long, short = 'q')]
    quiet: bool,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
enum Format {
    /// Human-readable: a header line per key, then its elements.
    Text,
    /// JSON lines: one object per key.
    Json,
    /// RESP commands that rebuild the data (for `redis-cli --pipe`).
    Resp,
}

/// What went wrong, classified by exit status.
#[derive(Debug)]
pub enum Failure {
    /// Bad arguments (exit 2).
    Usage(String),
    /// The input cannot be read or the output cannot be written (exit 2).
    Io(String),
    /// The input is some other kind of file (exit 1).
    NotRdb(String),
    /// Reading stopped: a damaged file (exit 1), data this tool cannot read
    /// (exit 3), or output that cannot be written (exit 2).
    Walk(walk::WalkError),
}

impl From<walk::WalkError> for Failure {
    fn from(e: walk::WalkError) -> Self {
        Failure::Walk(e)
    }
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match run(&cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(Failure::Usage(m)) => {
            eprintln!("rdb-dump: {m}\nRun `rdb-dump --help` for the options.");
            ExitCode::from(EXIT_USAGE)
        }
        Err(Failure::Io(m)) => {
            eprintln!("rdb-dump: {m}");
            ExitCode::from(EXIT_USAGE)
        }
        Err(Failure::NotRdb(m)) => {
            eprintln!("rdb-dump: {m}");
            ExitCode::from(EXIT_DAMAGED)
        }
        Err(Failure::Walk(e)) if e.is_broken_pipe() => {
            // The reader went away (`| head`): not a failure of ours.
            ExitCode::SUCCESS
        }
        Err(Failure::Walk(e)) => {
            eprintln!("rdb-dump: {}", e.report(&display_name(&cli.file)));
            let unsupported =
                matches!(e.decode_kind(), Some(ErrorKind::Unsupported(_)) | Some(ErrorKind::UnsupportedVersion(_)));
            ExitCode::from(if unsupported {
                EXIT_UNSUPPORTED
            } else if e.is_io() {
                EXIT_USAGE
            } else {
                EXIT_DAMAGED
            })
        }
    }
}

fn display_name(file: &OsString) -> String {
    if file == "-" {
        "standard input".into()
    } else {
        PathBuf::from(file).display().to_string()
    }
}

/// Checks option combinations clap cannot express.
fn validate(cli: &Cli) -> Result<(), Failure> {
    let format = cli.format;
    if cli.stats && format == Some(Format::Resp) {
        return Err(Failure::Usage("--stats prints text or json, not resp".into()));
    }
    let resp = format == Some(Format::Resp) && !cli.stats;
    if !resp && cli.replace {
        return Err(Failure::Usage("--replace only applies to --format resp".into()));
    }
    if !resp && cli.batch != 1000 {
        return Err(Failure::Usage("--batch only applies to --format resp".into()));
    }
    if cli.base64 && !(format == Some(Format::Json) && !cli.stats) {
        return Err(Failure::Usage("--base64 only applies to --format json (without --stats)".into()));
    }
    if !cli.stats && (cli.top != 10 || cli.now.is_some()) {
        return Err(Failure::Usage("--top and --now only apply to --stats".into()));
    }
    Ok(())
}

fn run(cli: &Cli) -> Result<(), Failure> {
    validate(cli)?;
    let name = display_name(&cli.file);
    let source = input::Source::open(&cli.file, &name)?;
    let filter = filter::Filter::new(&cli.dbs, &cli.keys, &cli.types);
    let progress =
        progress::Progress::new("rdb-dump", !cli.quiet && progress::stderr_is_terminal(), source.bytes().len());
    let stdout = io::stdout();
    let mut out = io::BufWriter::with_capacity(256 * 1024, stdout.lock());
    let opts = walk::Options {
        deep: cli.check,
        // Statistics need only the records' types and sizes; --check needs
        // the values built, since building is what checks them.
        build_values: cli.check || !cli.stats,
        duplicate_keys: cli.check,
    };
    let mut warnings = walk::Warnings::new(!cli.quiet);
    let done = if cli.stats {
        let now = cli.now.unwrap_or_else(stats::now_ms);
        let mut sink = stats::Stats::new(&filter, cli.top, now);
        let done = walk::walk(source.bytes(), opts, &filter, &mut sink, progress, &mut warnings)?;
        let json = cli.format == Some(Format::Json);
        let r = if json { sink.write_json(&mut out, &name, &done) } else { sink.write_text(&mut out, &name, &done) };
        r.and_then(|()| out.flush()).map_err(walk::WalkError::Output)?;
        done
    } else if cli.check && cli.format.is_none() {
        let done = walk::walk(source.bytes(), opts, &filter, &mut walk::NoOutput, progress, &mut warnings)?;
        writeln!(out, "{}", summary(&name, &done)).and_then(|()| out.flush()).map_err(walk::WalkError::Output)?;
        return Ok(());
    } else {
        let done = match cli.format.unwrap_or(Format::Text) {
            Format::Text => {
                let mut sink = text::Text::new(&mut out, filter.is_active());
                walk::walk(source.bytes(), opts, &filter, &mut sink, progress, &mut warnings)?
            }
            Format::Json => {
                let mut sink = json::Json::new(&mut out, cli.base64);
                walk::walk(source.bytes(), opts, &filter, &mut sink, progress, &mut warnings)?
            }
            Format::Resp => {
                let mut sink = resp::Resp::new(&mut out, cli.batch as usize, cli.replace, filter.is_active());
                walk::walk(source.bytes(), opts, &filter, &mut sink, progress, &mut warnings)?
            }
        };
        out.flush().map_err(walk::WalkError::Output)?;
        done
    };
    if cli.check {
        // The contents went to standard output: the verdict goes aside.
        eprintln!("{}", summary(&name, &done));
    }
    Ok(())
}

/// The one-line verdict of --check.
fn summary(name: &str, d: &walk::Walked) -> String {
    let mut s = format!("{name}: OK: RDB version {}, {}", d.version, plural(d.keys_total, "key", "keys"));
    if d.dbs.len() > 1 {
        s.push_str(&format!(" in {} databases", d.dbs.len()));
    }
    if d.empty_keys > 0 {
        s.push_str(&format!(" ({} empty collections skipped)", d.empty_keys));
    }
    if d.functions > 0 {
        s.push_str(&format!(", {}", plural(d.functions, "function library", "function libraries")));
    }
    s.push_str(", ");
    s.push_str(&d.checksum.map_or_else(|| "no end record".into(), checksum_text));
    if d.trailing > 0 {
        s.push_str(&format!(", then {} bytes after the end record (AOF commands; not checked)", d.trailing));
    }
    s
}

fn plural(n: u64, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

/// How the checksum fared, in words.
pub fn checksum_text(c: Checksum) -> String {
    match c {
        Checksum::Verified(v) => format!("checksum verified ({v:#018x})"),
        Checksum::Disabled => "checksum disabled (written with rdbchecksum no: zero stored)".into(),
        Checksum::Absent => "checksum absent (RDB versions before 5 have none)".into(),
        Checksum::NotChecked(v) => format!("checksum not checked ({v:#018x})"),
    }
}
