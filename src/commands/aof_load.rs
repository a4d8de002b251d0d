//! Loading the files of an AOF into the keyspace: an RDB base through the
//! snapshot loader, then the commands (of a commands base, after an RDB
//! preamble in an old single-file AOF, or of an incremental file) run one
//! by one as a client with no connection would run them, as Redis's
//! loader does. Start-up drives a load in steps; DEBUG LOADAOF in one go.
//!
//! Invariant: a file either loads whole, or stops at the start of the
//! first command it cannot read; only a cut at the end of the last file
//! may then be accepted (`aof-load-truncated`), and the file is truncated
//! to its last complete command so that appending goes on from there.
//! A transaction the file ends inside is never applied.

use super::{call, lookup, replay, Lookup};
use crate::clients::ClientId;
use crate::config::LogLevel;
use crate::persistence::aof::reader::{CommandReader, Item, ReadError};
use crate::persistence::load::{Loader, Note};
use crate::protocol::{Proto, ReplyBuf};
use crate::state::State;

/// Replies kept from replayed commands before the buffer is cleared.
const REPLY_BYTES_MAX: usize = 64 * 1024;

/// How loading one file ended.
#[derive(Debug, PartialEq, Eq)]
pub enum Ending {
    Complete,
    /// The file ends inside a command (or a transaction) starting here.
    Cut {
        valid_up_to: usize,
    },
}

/// One AOF file being loaded.
pub struct FileLoad<'a> {
    bytes: &'a [u8],
    pub name: String,
    rdb: Option<Loader<'a>>,
    reader: CommandReader<'a>,
    cid: ClientId,
    out: ReplyBuf,
    /// Offset before the MULTI of the transaction being read.
    before_multi: Option<usize>,
    /// The arguments of the command being run (kept to reuse its room).
    args: Vec<&'a [u8]>,
    pub commands: u64,
}

impl<'a> FileLoad<'a> {
    /// Starts loading `bytes` (the file `name`).
    pub fn new(st: &mut State, bytes: &'a [u8], name: &str) -> Result<FileLoad<'a>, String> {
        let rdb = if crate::persistence::aof::is_rdb(bytes) {
            let (opts, lru) = super::persist::load_options(&st.config);
            let mut l = Loader::new(bytes, opts, st.config.databases, st.now_ms(), lru)
                .map_err(|e| format!("Error reading the RDB base file {name}, AOF loading aborted: {e}"))?;
            // Keys that expired are kept, as the AOF's commands may still
            // touch them; expiry deletes them once the load is over.
            l.drop_expired = false;
            Some(l)
        } else {
            None
        };
        let cid = st.add_detached_client();
        Ok(FileLoad {
            bytes,
            name: name.to_string(),
            rdb,
            reader: CommandReader::new(bytes),
            cid,
            out: ReplyBuf::new(Proto::Resp2),
            before_multi: None,
            args: Vec::new(),
            commands: 0,
        })
    }

    /// Bytes read so far.
    pub fn offset(&self) -> usize {
        match &self.rdb {
            Some(l) => l.offset(),
            None => self.reader.offset(),
        }
    }

    /// Loads up to `max` keys or commands; `Some` once the file is done.
    pub fn step(&mut self, st: &mut State, max: usize) -> Result<Option<Ending>, String> {
        if let Some(l) = self.rdb.as_mut() {
            let logger = st.logger;
            let mut note = |n: Note| match n {
                Note::Notice(m) => logger(LogLevel::Notice, &m),
                Note::Warning(m) => logger(LogLevel::Warning, &m),
            };
            let done = l
                .step(&mut st.keyspace, max, &mut note)
                .map_err(|e| format!("Error reading the RDB base file {}, AOF loading aborted: {e}", self.name))?;
            if !done {
                return Ok(None);
            }
            // An old single-file AOF goes on with commands after the RDB.
            st.persist.last_load = l.stats().clone();
            self.reader = CommandReader::at(self.bytes, l.offset());
            self.rdb = None;
            st.log(LogLevel::Notice, &format!("Reading the remaining AOF tail of {}...", self.name));
        }
        for _ in 0..max {
            let item = match self.reader.next() {
                Ok(Some(i)) => i,
                Ok(None) => return Ok(Some(self.end_of_file(st))),
                Err(ReadError::Truncated { offset }) => {
                    let valid_up_to = self.before_multi.unwrap_or(offset);
                    return Ok(Some(Ending::Cut { valid_up_to }));
                }
                Err(e) => {
                    return Err(format!(
                        "Bad file format reading the append only file {}: {e}. Make a backup of the AOF directory, then run aof-check --fix on its manifest",
                        self.name
                    ))
                }
            };
            if item == Item::Annotation {
                continue;
            }
            let start = self.reader.item_start();
            let mut args = std::mem::take(&mut self.args);
            args.clear();
            args.extend_from_slice(self.reader.args());
            let r = self.run(st, &args, start);
            self.args = args;
            r?;
        }
        Ok(None)
    }

    /// The file ended cleanly, unless inside a transaction.
    fn end_of_file(&mut self, st: &mut State) -> Ending {
        match self.before_multi {
            Some(at) => {
                st.log(
                    LogLevel::Warning,
                    &format!("Revert incomplete MULTI/EXEC transaction in AOF file {}", self.name),
                );
                Ending::Cut { valid_up_to: at }
            }
            None => Ending::Complete,
        }
    }

    fn run(&mut self, st: &mut State, args: &[&[u8]], start: usize) -> Result<(), String> {
        let cmd = match lookup(args) {
            Lookup::Found(c) => c,
            Lookup::Error(_, Some(c)) => {
                return Err(format!(
                    "Wrong number of arguments for '{}' at offset {start} reading the append only file {}",
                    c.name, self.name
                ))
            }
            Lookup::Error(..) => {
                return Err(format!(
                    "Unknown command '{}' at offset {start} reading the append only file {}",
                    String::from_utf8_lossy(args[0]),
                    self.name
                ))
            }
        };
        self.commands += 1;
        if cmd.name == "multi" {
            self.before_multi = Some(start);
        } else if cmd.name == "exec" || cmd.name == "discard" {
            self.before_multi = None;
        }
        let queued = st.clients.get_mut(self.cid).and_then(|c| c.multi.as_mut());
        match queued {
            Some(m) if !matches!(cmd.name, "exec" | "discard" | "multi") => {
                m.queue.push(args.iter().map(|a| a.to_vec()).collect());
            }
            // EXEC runs what it queued through `call`, as a client's would.
            _ if cmd.name == "exec" => call(st, self.cid, cmd, args, &mut self.out),
            _ => replay(st, self.cid, cmd, args, &mut self.out),
        }
        if self.out.buf.len() > REPLY_BYTES_MAX {
            self.out.buf.clear();
        }
        self.out.errors.clear();
        Ok(())
    }

    /// Ends the load: the client that ran the commands goes away.
    pub fn finish(self, st: &mut State) {
        st.clients.map.remove(&self.cid);
    }
}

/// Whether the keyspace treats keys as never expired (while loading).
pub fn hold_expiry(st: &mut State, on: bool) {
    for db in st.keyspace.dbs.iter_mut() {
        db.loading = on;
    }
}

/// What to do with a file cut short: accept it (the last file, with
/// `aof-load-truncated yes`: the file is truncated to `valid_up_to`) or stop.
pub fn accept_cut(
    st: &State,
    path: &std::path::Path,
    name: &str,
    valid_up_to: usize,
    last: bool,
) -> Result<(), String> {
    if !last {
        return Err(format!(
            "Fatal error: the truncated file {name} is not the last file. Make a backup of the AOF directory, then run aof-check on its manifest"
        ));
    }
    if !st.config.aof_load_truncated {
        return Err(format!(
            "Unexpected end of file reading the append only file {name}. You can: 1) Make a backup of your AOF directory, then use aof-check --fix <manifest>. 2) Alternatively you can set the 'aof-load-truncated' configuration option to yes and restart the server."
        ));
    }
    st.log(LogLevel::Warning, &format!("!!! Warning: short read while loading the AOF file {name}!!!"));
    st.log(LogLevel::Warning, &format!("!!! Truncating the AOF {name} at offset {valid_up_to} !!!"));
    let f = st.aof.fs.open_append(path).and_then(|f| f.truncate(valid_up_to as u64).and_then(|()| f.sync()));
    if let Err(e) = f {
        return Err(format!("Error truncating the AOF file {name}: {e}"));
    }
    st.log(LogLevel::Warning, &format!("AOF {name} loaded anyway because aof-load-truncated is enabled"));
    Ok(())
}

/// Whether `args` is a command an AOF may hold (for tools): one the server
/// knows, with a valid number of arguments.
pub fn is_known_command(args: &[&[u8]]) -> bool {
    !args.is_empty() && matches!(lookup(args), Lookup::Found(_))
}
