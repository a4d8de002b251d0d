//! One pass over one AOF file: an RDB snapshot first when the file starts
//! with `REDIS` (through the library's RDB decoder, checksum included), then
//! RESP commands (through the library's command reader) with the checks the
//! reader leaves to its callers: MULTI/EXEC pairing, `#TS:` annotations
//! that must hold a time, and commands the server does not know. The pass
//! stops at the first problem and describes it: what, at which byte and
//! line, the command around it, and where the file could be cut.
//!
//! Invariant: `Problem::valid_up_to` is always the end of a run of complete
//! commands that closes every MULTI it opens, so a file truncated there reads
//! back without a problem; and `Problem::at_end` is set only when nothing but
//! an unfinished command or transaction follows that point, so truncating
//! loses no complete write.

use crate::render;
use strata::commands::aof_load::is_known_command;
use strata::persistence::aof::is_rdb;
use strata::persistence::aof::reader::{timestamp, CommandReader, Item, ReadError};
use strata::persistence::rdb::{Checksum, ErrorKind, Item as RdbItem, Limits, LoadOptions, RdbReader};
use strata::util::eq_ic;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// The RDB part is damaged (or cut short).
    Rdb,
    /// The RDB part holds data the decoder does not read (streams, modules).
    RdbUnsupported,
    /// The file ends inside a command.
    Truncated,
    /// Bytes that cannot be a command or an annotation.
    Format,
    /// Zero bytes from the problem to the end of the file: space a file
    /// system allocated but that was never written (after a crash).
    ZeroTail,
    /// The file ends inside a transaction (a MULTI without EXEC).
    OpenMulti,
    /// A MULTI while a transaction is open.
    NestedMulti,
    /// An EXEC with no MULTI before it.
    ExecWithoutMulti,
    /// A `#TS:` annotation that does not hold a number.
    BadTimestamp,
    /// A command the server does not know, or with a wrong argument count.
    UnknownCommand,
}

#[derive(Clone, Debug)]
pub struct Problem {
    pub kind: Kind,
    /// Where the problem is (the first bad byte, or the start of the item).
    pub offset: usize,
    /// Its line in the command text, `None` inside an RDB part.
    pub line: Option<u64>,
    /// What is wrong, in one sentence without the place.
    pub what: String,
    /// Lines showing the command around it.
    pub context: Vec<String>,
    /// Where the file could be cut: the end of the last complete command
    /// outside any open transaction.
    pub valid_up_to: usize,
    /// Only an unfinished command or transaction follows `valid_up_to`.
    pub at_end: bool,
    /// End of the item the problem is about, when it is complete.
    pub item_end: Option<usize>,
}

/// What the RDB part held.
#[derive(Clone, Debug)]
pub struct RdbPart {
    pub version: u16,
    pub keys: u64,
    pub checksum: Checksum,
    /// Offset just past the snapshot, where commands may follow.
    pub end: usize,
}

/// The first `#TS:` annotation later than the time asked for.
#[derive(Clone, Debug)]
pub struct TsCut {
    pub ts: i64,
    pub annotation_at: usize,
    pub line: u64,
    /// Where to cut: the annotation, or the MULTI of the transaction it is in.
    pub cut_at: usize,
    pub in_multi: bool,
}

/// Timestamps going back in time (not an error: clocks are set back).
#[derive(Clone, Debug)]
pub struct TsBack {
    pub from: i64,
    pub to: i64,
    pub offset: usize,
    pub line: u64,
}

#[derive(Clone, Debug, Default)]
pub struct FileScan {
    pub size: usize,
    pub rdb: Option<RdbPart>,
    /// Offset where the command text starts (after the RDB part).
    pub text_start: usize,
    pub commands: u64,
    pub transactions: u64,
    pub annotations: u64,
    pub first_ts: Option<i64>,
    pub last_ts: Option<i64>,
    pub ts_back: Option<TsBack>,
    pub problem: Option<Problem>,
    /// With `cut_after`: where the file would be cut (the pass stops there).
    pub cut: Option<TsCut>,
}

/// Scans `bytes`; with `cut_after`, stops at the first `#TS:` annotation
/// later than it and records it in `cut`.
pub fn scan(bytes: &[u8], cut_after: Option<i64>) -> FileScan {
    let mut s = FileScan { size: bytes.len(), ..FileScan::default() };
    if bytes.is_empty() {
        return s;
    }
    if is_rdb(bytes) {
        match read_rdb(bytes) {
            Ok(part) => {
                s.text_start = part.end;
                s.rdb = Some(part);
            }
            Err(p) => {
                s.problem = Some(p);
                return s;
            }
        }
    }
    read_commands(bytes, cut_after, &mut s);
    s
}

fn read_rdb(bytes: &[u8]) -> Result<RdbPart, Problem> {
    // As strict as `rdb-dump --check`: structures walked entry by entry,
    // checksum verified.
    let opts = LoadOptions { limits: Limits::default(), deep: true, verify_checksum: true, build_values: true };
    let rdb_problem = |err: strata::persistence::rdb::DecodeError, keys: u64| {
        let unsupported = matches!(err.kind, ErrorKind::Unsupported(_) | ErrorKind::UnsupportedVersion(_));
        let context = vec![format!("{} read before it", render::count(keys, "key was", "keys were"))];
        let key = err.key.as_ref().map_or_else(String::new, |k| format!(" of key {}", render::quoted(k)));
        Problem {
            kind: if unsupported { Kind::RdbUnsupported } else { Kind::Rdb },
            offset: err.offset,
            line: None,
            what: format!("RDB snapshot: while reading {}{key}: {}", err.reading, err.kind),
            context,
            valid_up_to: 0,
            at_end: false,
            item_end: None,
        }
    };
    let mut r = RdbReader::new(bytes, opts).map_err(|e| rdb_problem(e, 0))?;
    let version = r.version();
    let mut keys = 0u64;
    loop {
        match r.next_item() {
            Ok(Some(RdbItem::Key(_))) => keys += 1,
            Ok(Some(RdbItem::End { checksum })) => return Ok(RdbPart { version, keys, checksum, end: r.offset() }),
            Ok(Some(_)) => {}
            Ok(None) => {
                let err = strata::persistence::rdb::DecodeError::new(
                    r.offset(),
                    "record type",
                    ErrorKind::Truncated { needed: 1, available: r.remaining() },
                );
                return Err(rdb_problem(err, keys));
            }
            Err(e) => return Err(rdb_problem(e, keys)),
        }
    }
}

fn read_commands(bytes: &[u8], cut_after: Option<i64>, s: &mut FileScan) {
    let text_start = s.text_start;
    let line = |at: usize| render::line_of(bytes, text_start, at);
    let mut r = CommandReader::at(bytes, text_start);
    // Start of the open transaction's MULTI, and of the last complete command.
    let mut multi: Option<usize> = None;
    let mut previous: Option<usize> = None;
    let previous_line = |previous: Option<usize>| -> Option<String> {
        let p = previous?;
        let mut again = CommandReader::at(bytes, p);
        match again.next() {
            Ok(Some(Item::Command)) => Some(format!(
                "the command before it, at byte {p} (line {}): {}",
                line(p),
                render::command(again.args())
            )),
            _ => None,
        }
    };
    loop {
        let item = match r.next() {
            Ok(Some(item)) => item,
            Ok(None) => {
                if let Some(m) = multi {
                    let mut context = vec![format!(
                        "the transaction opened at byte {m} (line {}) runs to the end of the file ({} bytes) with no EXEC",
                        line(m),
                        bytes.len() - m
                    )];
                    if previous != Some(m) {
                        context.extend(
                            previous_line(previous).map(|l| l.replacen("the command before it", "its last command", 1)),
                        );
                    }
                    s.problem = Some(Problem {
                        kind: Kind::OpenMulti,
                        offset: m,
                        line: Some(line(m)),
                        what: "the file ends inside a transaction (a MULTI with no EXEC)".into(),
                        context,
                        valid_up_to: m,
                        at_end: true,
                        item_end: None,
                    });
                }
                return;
            }
            Err(ReadError::Truncated { offset }) => {
                let mut context = vec![format!("the command: {}", render::partial_command(bytes, offset))];
                context.extend(previous_line(previous));
                let follows = complete_command_after(bytes, offset);
                if let Some(at) = follows {
                    context.push(format!(
                        "but a complete command starts at byte {at} (line {}), inside what this one announces: \
                         a length or count in it is more likely damaged than the file cut short",
                        line(at)
                    ));
                }
                if let Some(m) = multi {
                    context.push(format!("it is inside the transaction opened at byte {m} (line {})", line(m)));
                }
                s.problem = Some(Problem {
                    kind: Kind::Truncated,
                    offset,
                    line: Some(line(offset)),
                    what: format!("the file ends inside a command ({} bytes of it are there)", bytes.len() - offset),
                    context,
                    valid_up_to: multi.unwrap_or(offset),
                    at_end: follows.is_none(),
                    item_end: None,
                });
                return;
            }
            Err(ReadError::Format { offset, .. }) if zero_tail(bytes, offset).is_some() => {
                let at = zero_tail(bytes, offset).unwrap_or(offset);
                let zeros = bytes.len() - at;
                let mut context = Vec::new();
                if at > offset {
                    context.push(format!(
                        "the command at byte {offset} (line {}) is cut by them: {}",
                        line(offset),
                        render::partial_command(&bytes[..at], offset)
                    ));
                }
                context.extend(previous_line(previous));
                if let Some(m) = multi {
                    context.push(format!("it is inside the transaction opened at byte {m} (line {})", line(m)));
                }
                s.problem = Some(Problem {
                    kind: Kind::ZeroTail,
                    offset: at,
                    line: Some(line(at)),
                    what: format!(
                        "the file ends with {zeros} zero bytes: space allocated but never written, as a crash can \
                         leave"
                    ),
                    context,
                    valid_up_to: multi.unwrap_or(offset),
                    at_end: true,
                    item_end: None,
                });
                return;
            }
            Err(ReadError::Format { offset, at, what }) => {
                let mut context = Vec::new();
                if at > offset {
                    context.push(format!(
                        "the command at byte {offset} (line {}): {}",
                        line(offset),
                        render::partial_command(bytes, offset)
                    ));
                }
                context.push(format!("found {} at byte {at}", render::raw(bytes, at, 24)));
                context.extend(previous_line(previous));
                s.problem = Some(Problem {
                    kind: Kind::Format,
                    offset: at,
                    line: Some(line(at)),
                    what: format!("bad command format: {what}"),
                    context,
                    valid_up_to: multi.unwrap_or(offset),
                    at_end: false,
                    item_end: None,
                });
                return;
            }
        };
        let start = r.item_start();
        match item {
            Item::Annotation => {
                s.annotations += 1;
                let text = r.annotation();
                if !text.starts_with(b"TS:") {
                    continue; // other annotations are skipped by loaders
                }
                let Some(ts) = timestamp(text) else {
                    s.problem = Some(Problem {
                        kind: Kind::BadTimestamp,
                        offset: start,
                        line: Some(line(start)),
                        what: "a #TS: annotation that does not hold a time in unix seconds".into(),
                        context: vec![format!("the annotation: {}", render::quoted(text))],
                        valid_up_to: multi.unwrap_or(start),
                        at_end: false,
                        item_end: Some(r.offset()),
                    });
                    return;
                };
                if let Some(last) = s.last_ts {
                    if ts < last && s.ts_back.is_none() {
                        s.ts_back = Some(TsBack { from: last, to: ts, offset: start, line: line(start) });
                    }
                }
                s.first_ts.get_or_insert(ts);
                s.last_ts = Some(ts);
                if cut_after.is_some_and(|t| ts > t) {
                    s.cut = Some(TsCut {
                        ts,
                        annotation_at: start,
                        line: line(start),
                        cut_at: multi.unwrap_or(start),
                        in_multi: multi.is_some(),
                    });
                    return;
                }
            }
            Item::Command => {
                let args = r.args();
                let end = r.offset();
                let here = |what: String, kind: Kind, context: Vec<String>| Problem {
                    kind,
                    offset: start,
                    line: Some(line(start)),
                    what,
                    context,
                    valid_up_to: multi.unwrap_or(start),
                    at_end: false,
                    item_end: Some(end),
                };
                if !is_known_command(args) {
                    let mut context = vec![format!("the command: {}", render::command(args))];
                    context.extend(previous_line(previous));
                    s.problem = Some(here(
                        format!(
                            "command {} is unknown to the server, or has a wrong number of arguments ({}): \
                             loading stops here",
                            render::quoted(args.first().copied().unwrap_or_default()),
                            args.len()
                        ),
                        Kind::UnknownCommand,
                        context,
                    ));
                    return;
                }
                let name = args.first().copied().unwrap_or_default();
                if eq_ic(name, b"multi") {
                    if let Some(m) = multi {
                        let context = vec![format!(
                            "the transaction opened at byte {m} (line {}) has no EXEC before this MULTI",
                            line(m)
                        )];
                        s.problem = Some(here("a MULTI inside a transaction".into(), Kind::NestedMulti, context));
                        return;
                    }
                    multi = Some(start);
                } else if eq_ic(name, b"exec") || eq_ic(name, b"discard") {
                    if multi.is_none() {
                        let mut context = Vec::new();
                        context.extend(previous_line(previous));
                        let what = format!("{} with no MULTI before it", String::from_utf8_lossy(name).to_uppercase());
                        s.problem = Some(here(what, Kind::ExecWithoutMulti, context));
                        return;
                    }
                    multi = None;
                    s.transactions += 1;
                }
                s.commands += 1;
                previous = Some(start);
            }
        }
    }
}

/// Where the zero bytes that end the file start, when only they stand
/// between the item at `offset` (cut short, or not begun) and the end.
fn zero_tail(bytes: &[u8], offset: usize) -> Option<usize> {
    let zeros_from = bytes.iter().rposition(|&b| b != 0).map_or(0, |last| last + 1);
    if zeros_from == bytes.len() || zeros_from < offset {
        return None;
    }
    let head = &bytes[..zeros_from];
    match CommandReader::at(head, offset).next() {
        Ok(None) | Err(ReadError::Truncated { .. }) => Some(zeros_from),
        _ => None,
    }
}

/// The offset of a complete, known command that starts after `from`
/// (right after a line end), if the rest of the file holds one: a sign that
/// the item at `from` announces more than it holds because it is damaged,
/// not because the file was cut.
fn complete_command_after(bytes: &[u8], from: usize) -> Option<usize> {
    let rest = bytes.get(from + 1..)?;
    let mut i = 0;
    while i + 2 < rest.len() {
        let at = from + 1 + i;
        if rest[i] == b'\r' && rest[i + 1] == b'\n' && rest[i + 2] == b'*' {
            let start = at + 2;
            let mut r = CommandReader::at(bytes, start);
            if let Ok(Some(Item::Command)) = r.next() {
                if is_known_command(r.args()) {
                    return Some(start);
                }
            }
        }
        i += 1;
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cmd(args: &[&str]) -> Vec<u8> {
        let mut out = format!("*{}\r\n", args.len()).into_bytes();
        for a in args {
            out.extend_from_slice(format!("${}\r\n{a}\r\n", a.len()).as_bytes());
        }
        out
    }

    #[test]
    fn a_cut_inside_a_transaction_is_fixed_before_its_multi() {
        let mut bytes = cmd(&["SET", "a", "1"]);
        let multi_at = bytes.len();
        bytes.extend(cmd(&["MULTI"]));
        bytes.extend(cmd(&["SET", "b", "2"]));
        let whole = bytes.len();
        bytes.extend(cmd(&["EXEC"]));
        for cut in multi_at + 1..bytes.len() {
            let s = scan(&bytes[..cut], None);
            let p = s.problem.unwrap_or_else(|| panic!("cut at {cut} not found"));
            assert_eq!(p.valid_up_to, multi_at, "cut {cut}");
            assert!(p.at_end, "cut {cut}");
            assert_eq!(p.kind, if cut == whole || cut == multi_at + 15 { Kind::OpenMulti } else { Kind::Truncated });
        }
        assert!(scan(&bytes, None).problem.is_none());
    }

    #[test]
    fn pairing_and_timestamps() {
        let exec = scan(&cmd(&["EXEC"]), None).problem.unwrap();
        assert_eq!(exec.kind, Kind::ExecWithoutMulti);
        let mut nested = cmd(&["MULTI"]);
        nested.extend(cmd(&["MULTI"]));
        assert_eq!(scan(&nested, None).problem.unwrap().offset, 15);
        let ts = scan(b"#TS:12x\r\n", None).problem.unwrap();
        assert_eq!(ts.kind, Kind::BadTimestamp);
        assert!(scan(b"#anything\r\n", None).problem.is_none());
        let mut timed = b"#TS:10\r\n".to_vec();
        timed.extend(cmd(&["SET", "a", "1"]));
        let second = timed.len();
        timed.extend(b"#TS:20\r\n");
        timed.extend(cmd(&["SET", "a", "2"]));
        let cut = scan(&timed, Some(15)).cut.unwrap();
        assert_eq!((cut.ts, cut.cut_at, cut.line), (20, second, 9));
        assert!(scan(&timed, Some(20)).cut.is_none());
    }

    #[test]
    fn a_huge_length_in_the_middle_is_not_a_cut() {
        let mut bytes = b"*3\r\n$3\r\nSET\r\n$1\r\na\r\n$99\r\n1\r\n".to_vec();
        bytes.extend(cmd(&["SET", "b", "2"]));
        let p = scan(&bytes, None).problem.unwrap();
        assert_eq!((p.kind, p.at_end, p.offset), (Kind::Truncated, false, 0), "{p:?}");
        // A real cut: nothing complete after the start of the cut command.
        let whole = cmd(&["SET", "a", "1"]);
        let p = scan(&[whole.clone(), whole[..20].to_vec()].concat(), None).problem.unwrap();
        assert_eq!((p.kind, p.at_end, p.valid_up_to), (Kind::Truncated, true, whole.len()));
    }

    #[test]
    fn zeros_at_the_end_are_a_cut() {
        let whole = cmd(&["SET", "a", "1"]);
        for (keep, cut) in [(whole.len(), whole.len()), (whole.len() + 15, whole.len())] {
            let mut b = [whole.clone(), whole.clone()].concat();
            b.truncate(keep);
            b.extend([0u8; 4096]);
            let p = scan(&b, None).problem.unwrap();
            assert_eq!((p.kind, p.at_end, p.valid_up_to), (Kind::ZeroTail, true, cut), "{p:?}");
        }
        // Zeros followed by more bytes are damage.
        let b = [whole.clone(), vec![0; 8], whole.clone()].concat();
        assert_eq!(scan(&b, None).problem.unwrap().kind, Kind::Format);
    }

    #[test]
    fn the_cut_point_of_any_damage_reads_back_clean() {
        let mut good = b"#TS:100\r\n".to_vec();
        for r in 0..6 {
            good.extend(cmd(&["SET", &format!("k{r}"), "v\r\nw"]));
            good.extend(cmd(&["MULTI"]));
            good.extend(cmd(&["INCR", "n"]));
            good.extend(cmd(&["EXEC"]));
            good.extend(format!("#TS:{}\r\n", 101 + r).bytes());
        }
        let mut seed = 0x9e37_79b9_7f4a_7c15u64;
        let mut next = move |n: usize| {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            (seed % n as u64) as usize
        };
        for round in 0..3000 {
            let mut b = good.clone();
            match round % 3 {
                0 => b.truncate(next(b.len())),
                1 => {
                    let at = next(b.len());
                    b[at] = b"*$\r\n0123456789#x"[next(16)];
                }
                _ => {
                    let at = next(b.len());
                    b.insert(at, b"*$\r\n19#"[next(7)]);
                }
            }
            let s = scan(&b, None);
            if let Some(p) = s.problem {
                assert!(p.valid_up_to <= b.len());
                let again = scan(&b[..p.valid_up_to], None);
                assert!(again.problem.is_none(), "round {round}: {p:?} then {:?}", again.problem);
            }
            let _ = scan(&b, Some(103));
        }
    }
}
