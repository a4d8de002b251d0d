//! `aof-edit list`: the records of the timeline, one line each (or one
//! JSON object each), optionally filtered by command, key pattern,
//! database and time. Reads the files front to back once, through a
//! bounded buffer, and writes as it goes.

use crate::chain::Chain;
use crate::quote;
use crate::render::utc;
use crate::stream::Rec;
use crate::timeline::{self, Place, What};
use std::io::{self, Write};
use strata::util::GlobPattern;

/// Output gathered before it is written.
const OUT_CHUNK: usize = 256 * 1024;

#[derive(Default)]
pub struct Filter {
    /// Command names, lower case; empty: any.
    pub commands: Vec<String>,
    pub key: Option<GlobPattern>,
    pub db: Option<i64>,
    pub since: Option<i64>,
    pub until: Option<i64>,
}

impl Filter {
    fn any(&self) -> bool {
        !self.commands.is_empty() || self.key.is_some() || self.db.is_some() || self.timed()
    }

    pub fn timed(&self) -> bool {
        self.since.is_some() || self.until.is_some()
    }

    /// Whether a command record passes; `keys` are its key arguments.
    pub fn passes(&self, rec: &Rec, keys: &[&[u8]]) -> bool {
        if !self.commands.is_empty() && !self.commands.iter().any(|c| crate::stream::is(rec.args, c.as_bytes())) {
            return false;
        }
        if self.db.is_some_and(|d| d != rec.db) {
            return false;
        }
        if let Some(g) = &self.key {
            if !keys.iter().any(|k| g.matches(k)) {
                return false;
            }
        }
        if self.timed() {
            let Some(t) = rec.ts else { return false };
            if self.since.is_some_and(|s| t < s) || self.until.is_some_and(|u| t > u) {
                return false;
            }
        }
        true
    }
}

/// Prints the records that pass `filter`; returns how many were shown and
/// the walk's summary.
pub fn run(chain: &Chain, filter: &Filter, json: bool, quiet: bool) -> Result<(), String> {
    let stdout = io::stdout();
    let mut out = stdout.lock();
    let mut buf: Vec<u8> = Vec::with_capacity(OUT_CHUNK + 4096);
    let mut shown = 0u64;
    let mut write_err: Option<io::Error> = None;
    // The time column, rendered once per distinct time.
    let mut time_shown: (Option<i64>, String) = (None, "-".to_string());
    let walked = timeline::walk(chain, quiet, |place, what| {
        match what {
            What::Snapshot { bytes, made } => {
                if filter.any() {
                    return true;
                }
                snapshot_line(&mut buf, place, bytes, made, json);
            }
            What::Command(rec) => {
                let keys = strata::commands::command::key_args(rec.args);
                if !filter.passes(rec, &keys) {
                    return true;
                }
                if json {
                    json_line(&mut buf, place, rec, &keys);
                } else {
                    if rec.ts != time_shown.0 {
                        time_shown = (rec.ts, rec.ts.map_or("-".to_string(), rfc3339));
                    }
                    text_line(&mut buf, place, rec, &keys, &time_shown.1);
                }
            }
        }
        shown += 1;
        if buf.len() >= OUT_CHUNK {
            if let Err(e) = out.write_all(&buf) {
                write_err = Some(e);
                return false;
            }
            buf.clear();
        }
        true
    });
    if let Some(e) = write_err {
        return quiet_pipe(e);
    }
    // What was read before a damaged spot is shown before the error.
    if let Err(e) = out.write_all(&buf).and_then(|_| out.flush()) {
        return quiet_pipe(e);
    }
    let walked = walked.map_err(|e| {
        format!("{e}\nThe records above are all that could be read; restore-to --index N keeps those before record N.")
    })?;
    let mut err = io::stderr().lock();
    let _ = writeln!(
        err,
        "{shown} of {} records shown ({} files, {} bytes)",
        walked.records,
        chain.files().len(),
        walked.bytes
    );
    if let Some((file, at)) = &walked.cut {
        let _ = writeln!(
            err,
            "note: {file} ends inside a command at offset {at} (an interrupted write); it is left out, \
             as a server with aof-load-truncated yes would"
        );
    }
    if filter.timed() && !walked.timed {
        let _ = writeln!(
            err,
            "note: no record has a time: the AOF was written without aof-timestamp-enabled yes, so --since and \
             --until match nothing; filter by --command or --key, and pick records by index"
        );
    }
    Ok(())
}

/// A closed pipe (`| head`) ends the listing quietly.
fn quiet_pipe(e: io::Error) -> Result<(), String> {
    if e.kind() == io::ErrorKind::BrokenPipe {
        Ok(())
    } else {
        Err(format!("can't write the listing: {e}"))
    }
}

fn snapshot_line(buf: &mut Vec<u8>, place: &Place, bytes: u64, made: Option<i64>, json: bool) {
    if json {
        buf.extend_from_slice(format!("{{\"index\":{},\"file\":", place.index).as_bytes());
        quote::json(buf, place.file.name.as_bytes(), false);
        let time = made.map_or("null".to_string(), |t| t.to_string());
        buf.extend_from_slice(
            format!(",\"offset\":0,\"length\":{bytes},\"type\":\"snapshot\",\"time\":{time}}}\n").as_bytes(),
        );
    } else {
        let time = made.map_or("-".to_string(), rfc3339);
        buf.extend_from_slice(
            format!(
                "{:>7}  {}:0  {time}  snapshot of the whole data set ({bytes} bytes, RDB)\n",
                place.index, place.file.name
            )
            .as_bytes(),
        );
    }
}

/// `2026-12-07T10:32:00Z`.
pub fn rfc3339(secs: i64) -> String {
    utc(secs).replace(" UTC", "Z").replacen(' ', "T", 1)
}

fn text_line(buf: &mut Vec<u8>, place: &Place, rec: &Rec, keys: &[&[u8]], time: &str) {
    use std::io::Write as _;
    let _ = write!(buf, "{:>7}  {}:{}  {time}  db{}  ", place.index, place.file.name, rec.offset, rec.db);
    command_text(buf, rec.args, keys);
    buf.push(b'\n');
}

/// A command as lines show it: its name in capitals, then its keys (or,
/// for a command without keys, its other arguments), quoted as redis-cli
/// quotes them, long ones and long lists shortened.
pub fn command_text(buf: &mut Vec<u8>, args: &[&[u8]], keys: &[&[u8]]) {
    for b in args[0] {
        buf.push(b.to_ascii_uppercase());
    }
    let rest: &[&[u8]] = if keys.is_empty() { &args[1..] } else { keys };
    for a in rest.iter().take(ARGS_SHOWN) {
        buf.push(b' ');
        quote::text(buf, &a[..a.len().min(ARG_BYTES)]);
        if a.len() > ARG_BYTES {
            buf.extend_from_slice(format!("...({} bytes)", a.len()).as_bytes());
        }
    }
    if rest.len() > ARGS_SHOWN {
        buf.extend_from_slice(format!(" ...(+{})", rest.len() - ARGS_SHOWN).as_bytes());
    }
}

/// Keys or arguments shown on a line, and bytes of each.
const ARGS_SHOWN: usize = 8;
const ARG_BYTES: usize = 64;

fn json_line(buf: &mut Vec<u8>, place: &Place, rec: &Rec, keys: &[&[u8]]) {
    buf.extend_from_slice(format!("{{\"index\":{},\"file\":", place.index).as_bytes());
    quote::json(buf, place.file.name.as_bytes(), false);
    buf.extend_from_slice(
        format!(",\"offset\":{},\"length\":{},\"type\":\"command\",\"time\":", rec.offset, rec.len).as_bytes(),
    );
    match rec.ts {
        Some(t) => buf.extend_from_slice(t.to_string().as_bytes()),
        None => buf.extend_from_slice(b"null"),
    }
    buf.extend_from_slice(format!(",\"db\":{},\"in_multi\":{},\"command\":", rec.db, rec.in_multi).as_bytes());
    quote::json(buf, &rec.args[0].to_ascii_lowercase(), false);
    buf.extend_from_slice(b",\"keys\":[");
    for (i, k) in keys.iter().enumerate() {
        if i > 0 {
            buf.push(b',');
        }
        quote::json(buf, k, false);
    }
    buf.extend_from_slice(b"],\"args\":[");
    for (i, a) in rec.args.iter().enumerate() {
        if i > 0 {
            buf.push(b',');
        }
        quote::json(buf, a, false);
    }
    buf.extend_from_slice(b"]}\n");
}
