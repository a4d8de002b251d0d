//! Reading the records of one AOF file front to back through a buffer of
//! bounded size, so a file of any size is read without holding it in
//! memory: each command with the byte range it occupies, the time of the
//! last `#TS:` annotation before it, the database it applies to, and
//! whether it sits inside a MULTI/EXEC block.
//!
//! Invariant: the buffer grows beyond its initial size only to hold one
//! command that is longer than it (so memory follows the largest command
//! actually present, never a length a damaged file announces: the library's
//! reader allocates nothing for announced lengths).

use std::fs::File;
use std::io::{self, Read};
use std::path::Path;
use strata::persistence::aof::reader::{timestamp, CommandReader, Item, ReadError};

/// Bytes read from the file at a time.
const CHUNK_BYTES: usize = 4 << 20;

/// One command of a file, as the visitor sees it.
pub struct Rec<'a> {
    /// Byte offset of its first byte in the file, and its length.
    pub offset: u64,
    pub len: u64,
    pub args: &'a [&'a [u8]],
    /// Unix seconds of the last `#TS:` annotation before it, in this file
    /// or an earlier one.
    pub ts: Option<i64>,
    /// The database the command applies to (files start at 0; SELECT
    /// applies to itself as the database it selects).
    pub db: i64,
    /// Inside a MULTI ... EXEC block (MULTI and EXEC included).
    pub in_multi: bool,
}

/// How a file ended.
#[derive(Debug, PartialEq, Eq)]
pub enum End {
    Clean,
    /// The file ends inside the command (or transaction) starting here.
    Cut {
        at: u64,
    },
}

/// What a whole read found besides the records.
pub struct Summary {
    pub end: End,
    pub bytes: u64,
    /// The `#TS:` time in force at the end of the file.
    pub last_ts: Option<i64>,
}

/// Reads `path` from byte `from` (after an RDB preamble, say) and calls
/// `visit` for each command; `visit` returning false stops the read.
/// `ts` is the time in force when the file begins. A format error names
/// the file and the offset.
pub fn read_file(
    path: &Path,
    from: u64,
    ts: Option<i64>,
    mut visit: impl FnMut(&Rec) -> bool,
) -> Result<Summary, String> {
    let mut f = File::open(path).map_err(|e| format!("can't open {}: {e}", path.display()))?;
    if from > 0 {
        use std::io::Seek;
        f.seek(io::SeekFrom::Start(from)).map_err(|e| format!("can't read {}: {e}", path.display()))?;
    }
    let mut buf: Vec<u8> = vec![0; CHUNK_BYTES];
    let mut filled = 0usize;
    // File offset of buf[0].
    let mut base = from;
    let mut eof = false;
    let mut state = State { ts, db: 0, in_multi: false, multi_start: None };
    loop {
        if !eof && filled < buf.len() {
            let n = read_some(&mut f, &mut buf[filled..]).map_err(|e| format!("can't read {}: {e}", path.display()))?;
            eof = n == 0;
            filled += n;
            if !eof && filled < buf.len() {
                continue;
            }
        }
        let mut reader = CommandReader::new(&buf[..filled]);
        let mut stop = false;
        let outcome = loop {
            match reader.next() {
                Ok(None) => break Ok(()),
                Ok(Some(Item::Annotation)) => {
                    if let Some(t) = timestamp(reader.annotation()) {
                        state.ts = Some(t);
                    }
                }
                Ok(Some(Item::Command)) => {
                    let start = reader.item_start();
                    let args = reader.args();
                    state.before(args, base + start as u64);
                    let rec = Rec {
                        offset: base + start as u64,
                        len: (reader.offset() - start) as u64,
                        args,
                        ts: state.ts,
                        db: state.db,
                        in_multi: state.in_multi || is(args, b"exec"),
                    };
                    if !visit(&rec) {
                        stop = true;
                        break Ok(());
                    }
                    state.after(args);
                }
                Err(e) => break Err(e),
            }
        };
        let used = reader.offset();
        if stop {
            return Ok(Summary { end: End::Clean, bytes: base + used as u64, last_ts: state.ts });
        }
        match outcome {
            Ok(()) if eof || used == filled => {
                if eof {
                    let end = match state.multi_start {
                        Some(at) => End::Cut { at },
                        None => End::Clean,
                    };
                    return Ok(Summary { end, bytes: base + filled as u64, last_ts: state.ts });
                }
            }
            Ok(()) => {}
            Err(ReadError::Truncated { offset }) if eof => {
                let at = state.multi_start.unwrap_or(base + offset as u64);
                return Ok(Summary { end: End::Cut { at }, bytes: base + filled as u64, last_ts: state.ts });
            }
            Err(ReadError::Truncated { .. }) => {}
            Err(e @ ReadError::Format { .. }) => {
                let at = base + e.offset() as u64;
                return Err(format!(
                    "{}: not a valid AOF at offset {at}: {e} (offsets counted from the start of the file; \
                     run aof-check on the directory for details)",
                    path.display()
                ));
            }
        }
        // Keep the unread tail, make room (or grow for one long command).
        buf.copy_within(used..filled, 0);
        filled -= used;
        base += used as u64;
        if filled == buf.len() {
            buf.resize(buf.len() * 2, 0);
        }
    }
}

fn read_some(f: &mut File, buf: &mut [u8]) -> io::Result<usize> {
    loop {
        match f.read(buf) {
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            r => return r,
        }
    }
}

/// Whether `args` is the command `name` (lower case).
pub fn is(args: &[&[u8]], name: &[u8]) -> bool {
    args.first().is_some_and(|a| a.eq_ignore_ascii_case(name))
}

struct State {
    ts: Option<i64>,
    db: i64,
    in_multi: bool,
    /// Offset of the MULTI of the open transaction.
    multi_start: Option<u64>,
}

impl State {
    fn before(&mut self, args: &[&[u8]], offset: u64) {
        if is(args, b"select") {
            if let Some(db) = args.get(1).and_then(|a| strata::util::parse_i64(a)) {
                self.db = db;
            }
        } else if is(args, b"multi") {
            self.in_multi = true;
            self.multi_start = Some(offset);
        }
    }

    fn after(&mut self, args: &[&[u8]]) {
        if is(args, b"exec") {
            self.in_multi = false;
            self.multi_start = None;
        }
    }
}
