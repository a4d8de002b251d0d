//! Seeded random command sequences over strings, lists, hashes, sets and sorted sets get the same replies, encodings and final datasets from Strata as from Redis 7.0.
//!
//! Two servers run side by side: `support::ours_binary()` (Strata, or `$STRATA_SERVER`) and the
//! reference Redis 7.0. For each seed, a generator draws a long sequence of commands over twelve
//! keys in three databases, with members from a small pool (integers, numeric-looking strings,
//! short words, now and then long or binary strings) and occasional `CONFIG SET` of the encoding
//! thresholds, so that listpack/intset/hashtable/skiplist conversions happen in the middle of the
//! run. Every command goes to both servers and the replies must be the same bytes. At the end of
//! each seed, every key of every database is compared: TYPE, TTL, OBJECT ENCODING and its value.
//! Odd seeds speak RESP3, even seeds RESP2.
//!
//! What is not compared byte for byte, and why:
//! - replies whose order comes from a hash table (SMEMBERS, HGETALL, HKEYS, HVALS of
//!   hashtable-encoded keys; SINTER, SUNION, SDIFF; SPOP, SRANDMEMBER, HRANDFIELD, ZRANDMEMBER
//!   with a count above any size, which return the whole key) are compared sorted;
//! - TTL replies may differ by one second (the servers run each command a few microseconds apart).
//!
//! Never generated, because the result would depend on the server's RNG or clock: SPOP,
//! SRANDMEMBER, HRANDFIELD and ZRANDMEMBER with a count below the size; RANDOMKEY; short
//! expiries (only EXPIRE of 1000 s and more, and EXPIREAT far in the future: nothing expires
//! during a run); EXPIRE GT/LT with relative times; the BYLEX range commands on a sorted set whose
//! scores differ (the result then depends on the skiplist's random levels); SORT BY nosort.
//!
//! SORT ALPHA collates with the server's locale (strcoll): both servers run with `LC_ALL=C`,
//! where that is byte order.
//!
//! Environment: `RANDOM_SEEDS=n` runs seeds 1..=n (default 8), `RANDOM_OPS=n` generated
//! commands per seed (default 3000), `RANDOM_SEED=s` replays seed `s` alone, `RANDOM_DUMP=1`
//! prints every command with the reference's reply (with `--nocapture`). A mismatch fails
//! at once with the seed, the command's index, the command, both replies, the commands before it,
//! and the line that replays it.
mod support;

use std::collections::BTreeSet;
use std::io;
use std::time::Instant;
use support::proc::Rng;
use support::{escape, Conn, Frame, TestServer};

/// One command as a list of arguments: `cmd!["LPUSH", key, value]`.
macro_rules! cmd {
    ($($arg:expr),* $(,)?) => {
        vec![$(AsRef::<[u8]>::as_ref(&$arg).to_vec()),*]
    };
}

const STRING_KEYS: &[&str] = &["str:1", "str:2"];
const LIST_KEYS: &[&str] = &["list:1", "list:2"];
const HASH_KEYS: &[&str] = &["hash:1", "hash:2"];
const SET_KEYS: &[&str] = &["set:1", "set:2", "set:3"];
const ZSET_KEYS: &[&str] = &["zset:1", "zset:2", "zset:3"];
/// Its ZADDs mostly use one score, so the BYLEX commands have something to work on.
const LEX_ZSET: &str = "zset:3";
/// Its SADDs mostly add integers, so it stays an intset for a while.
const INT_SET: &str = "set:1";
const DATABASES: u64 = 3;

/// Members, values and list elements: integers (intset candidates, shared integers, 64-bit
/// limits, one past them), numeric-looking strings that are not integers, and short words.
#[rustfmt::skip]
const MEMBERS: &[&str] = &[
    "0", "1", "2", "3", "5", "7", "-1", "-7", "10", "42", "100", "007", "-0", "65536", "4294967296",
    "9223372036854775807", "-9223372036854775808", "18446744073709551616", "1.5",
    "a", "b", "c", "d", "apple", "banana", "cherry", "x y", "",
];
#[rustfmt::skip]
const INT_MEMBERS: &[&str] = &[
    "0", "1", "2", "3", "5", "7", "-1", "-7", "10", "42", "100", "65536", "4294967296",
    "9223372036854775807", "-9223372036854775808",
];
const FIELDS: &[&str] = &["f1", "f2", "f3", "f4", "a", "b", "1", "2", "007", "-5", "x y"];
#[rustfmt::skip]
const SCORES: &[&str] = &[
    "0", "0", "1", "1", "-1", "2", "3", "5", "1.5", "-2.5", "0.25", "10", "100", "1e3", "3.14", "0.1", "-0.1",
    "inf", "-inf", "+inf", "1e300", "-1e300", "123456789012345", "9007199254740993", "-0",
];
const BAD_NUMBERS: &[&str] = &["nan", "abc", "", "1x", "--1"];
const SCORE_BOUNDS: &[&str] =
    &["-inf", "+inf", "0", "(0", "1", "(1", "1.5", "2", "(3", "10", "(100", "-1", "(-1", "1e300", "inf", "-inf"];
const LEX_BOUNDS: &[&str] = &["-", "+", "[a", "(a", "[apple", "(b", "[c", "[1", "(5", "[007", "[", "(d"];
const INDEXES: &[&str] = &["-100", "-4", "-2", "-1", "0", "0", "1", "2", "3", "10", "100"];
const COUNTS: &[&str] = &["0", "1", "1", "2", "3", "5", "20"];
const WEIGHTS: &[&str] = &["1", "2", "-1", "0", "0.5", "3"];
const INCREMENTS: &[&str] = &["1", "1", "-1", "5", "100", "-3", "9223372036854775807", "-9223372036854775808"];
const FLOAT_INCREMENTS: &[&str] = &["1.5", "-0.25", "1e3", "0", "3.0e-2", "10", "-7", "1e308"];
/// EXPIREAT times far in the future (year 3015 and later): distinct, so GT/LT replies are fixed.
const FAR_TIMES: &[&str] = &["33000000000", "33000000500", "34000000000"];
/// A count above the size any key can reach: SPOP and the *RAND* commands then return the whole key.
const WHOLE: &str = "1000";

/// The encoding thresholds that CONFIG SET moves around, with their Redis 7.0 defaults (first)
/// and small values that make conversions happen.
const THRESHOLDS: &[(&str, &[&str])] = &[
    ("hash-max-listpack-entries", &["128", "1", "2", "4"]),
    ("hash-max-listpack-value", &["64", "1", "4", "16"]),
    ("set-max-intset-entries", &["512", "1", "2", "4"]),
    ("zset-max-listpack-entries", &["128", "1", "2", "4"]),
    ("zset-max-listpack-value", &["64", "1", "4", "16"]),
    ("list-max-listpack-size", &["-2", "1", "2", "4", "-1"]),
];

const DEFAULT_SEEDS: u64 = 8;
const DEFAULT_OPS: usize = 3000;
/// Every this many generated commands, OBJECT ENCODING of the keys touched since is compared.
const ENCODING_CHECK_EVERY: usize = 100;

/// How two replies are compared.
#[derive(Clone, Copy, Debug)]
enum Check {
    /// The same bytes.
    Exact,
    /// The same elements in any order (members of a hash-table-ordered reply).
    Sorted,
    /// The same field/value (or member/score) pairs in any order: flat pairs in RESP2, a map or
    /// nested pairs in RESP3.
    SortedPairs,
    /// The same integer, or two positive TTLs at most one second apart.
    Ttl,
    /// The same reply type (HELLO, whose server name and version differ by nature).
    Shape,
}

/// Both servers, the generator's random source, and what the report needs.
struct Session {
    seed: u64,
    ops: usize,
    rng: Rng,
    ours: Conn,
    reference: Conn,
    /// Commands sent so far in this seed (generated ones and the checks around them).
    sent: usize,
    db: u64,
    phase: &'static str,
    /// The last commands sent, for the report.
    recent: Vec<String>,
    /// Keys of the current database used since the last encoding check.
    touched: BTreeSet<String>,
    /// `RANDOM_DUMP=1`: print every command with the reference's reply.
    dump: bool,
}

impl Session {
    /// `exec`, then, when `key` held another type (WRONGTYPE), sometimes deletes it: RENAME, COPY,
    /// MOVE and SORT STORE carry types across keys, and a family's commands should mostly meet
    /// their own type.
    fn exec_on(&mut self, key: &str, args: Vec<Vec<u8>>, check: Check) -> Frame {
        let reply = self.exec(args, check);
        if reply.kind() == b'-' && reply.payload().starts_with(b"WRONGTYPE") && self.chance(30) {
            self.exec(cmd!["DEL", key], Check::Exact);
        }
        reply
    }

    /// Sends `args` to both servers, compares the replies, and returns the reference's reply.
    /// Panics with the full report on a mismatch.
    fn exec(&mut self, args: Vec<Vec<u8>>, check: Check) -> Frame {
        self.sent += 1;
        let shown = show_command(&args);
        let ours_sent = self.ours.send(&args);
        let reference_sent = self.reference.send(&args);
        let ours = ours_sent.and_then(|_| self.ours.read_reply());
        let reference = reference_sent.and_then(|_| self.reference.read_reply());
        let reference = match reference {
            Ok(frame) => frame,
            Err(e) => self.fail(&shown, check, &ours, &Err(e), "the reference failed: this is a bug in the test"),
        };
        match &ours {
            Ok(frame) if same(frame, &reference, check) => {}
            _ => self.fail(&shown, check, &ours, &Ok(reference), ""),
        }
        if self.recent.len() == 12 {
            self.recent.remove(0);
        }
        self.recent.push(format!("#{} (db {}) {shown}", self.sent, self.db));
        if self.dump {
            println!(
                "seed {} #{} (db {}) {shown} -> {}",
                self.seed,
                self.sent,
                self.db,
                show_reply(&Ok(reference.clone()))
            );
        }
        reference
    }

    fn fail(
        &self,
        shown: &str,
        check: Check,
        ours: &io::Result<Frame>,
        reference: &io::Result<Frame>,
        note: &str,
    ) -> ! {
        let unknown = matches!(ours, Ok(f) if f.kind() == b'-' && f.payload().starts_with(b"ERR unknown command"));
        let hint = if !note.is_empty() {
            note
        } else if unknown {
            "ours does not implement this command yet"
        } else {
            "the replies differ"
        };
        let mut replay = format!("RANDOM_SEED={}", self.seed);
        if self.ops != DEFAULT_OPS {
            replay.push_str(&format!(" RANDOM_OPS={}", self.ops));
        }
        panic!(
            "random_types: seed {seed}, command #{index} ({phase}, db {db}): {hint}\n\
             \x20 command:   {shown}\n\
             \x20 ours:      {ours}\n\
             \x20 reference: {reference}\n\
             \x20 compared:  {check:?}\n\
             the commands before it:\n    {recent}\n\
             replay: {replay} cargo test --release --test random_types -- --nocapture",
            seed = self.seed,
            index = self.sent,
            phase = self.phase,
            db = self.db,
            ours = show_reply(ours),
            reference = show_reply(reference),
            recent = if self.recent.is_empty() { "(none)".to_string() } else { self.recent.join("\n    ") },
        )
    }

    fn chance(&mut self, percent: u64) -> bool {
        self.rng.below(100) < percent
    }

    fn upto(&mut self, n: u64) -> u64 {
        self.rng.below(n) + 1
    }

    fn pick(&mut self, items: &[&str]) -> String {
        self.rng.pick(items).to_string()
    }

    /// A key, mostly from the family's own keys, sometimes any key (so types meet: WRONGTYPE,
    /// RENAME over another type, stores that overwrite).
    fn key(&mut self, home: &[&str]) -> String {
        let key = if self.chance(85) { self.pick(home) } else { self.pick(&all_keys()) };
        self.touched.insert(key.clone());
        key
    }

    /// A member or value: now and then a long one (over 64 bytes, past the listpack value
    /// limit) or a binary one.
    fn member(&mut self) -> Vec<u8> {
        match self.rng.below(100) {
            0..=2 => {
                let (tag, len) = *self.rng.pick(&[("long-a:", 70), ("long-b:", 100), ("long-c:", 300)]);
                format!("{tag}{}", "x".repeat(len)).into_bytes()
            }
            3 if self.chance(10) => format!("huge:{}", "y".repeat(5000)).into_bytes(),
            4 => b"bin\x00\xff\r\n".to_vec(),
            _ => self.pick(MEMBERS).into_bytes(),
        }
    }

    fn field(&mut self) -> Vec<u8> {
        if self.chance(3) {
            format!("long-field:{}", "f".repeat(80)).into_bytes()
        } else {
            self.pick(FIELDS).into_bytes()
        }
    }

    fn score(&mut self) -> String {
        if self.chance(2) {
            self.pick(BAD_NUMBERS)
        } else {
            self.pick(SCORES)
        }
    }

    /// `n` as text, sometimes a wrong value (zero, negative, not a number) to compare the errors.
    fn count(&mut self) -> String {
        match self.rng.below(50) {
            0 => "-1".to_string(),
            1 => "x".to_string(),
            _ => self.pick(COUNTS),
        }
    }

    /// 1..=max keys, mostly of a family, for the multi-key commands (a key may come twice).
    fn keys(&mut self, home: &[&str], max: u64) -> Vec<String> {
        let n = self.upto(max);
        (0..n).map(|_| self.key(home)).collect()
    }

    /// True when the BYLEX commands give a fixed answer on `key`: it is not a sorted set, or it
    /// is empty, or its lowest and highest scores are the same.
    fn lex_safe(&mut self, key: &str) -> bool {
        let first = self.exec(cmd!["ZRANGE", key, "0", "0", "WITHSCORES"], Check::Exact);
        let last = self.exec(cmd!["ZRANGE", key, "-1", "-1", "WITHSCORES"], Check::Exact);
        fn score(f: &Frame) -> Option<Vec<u8>> {
            match f.items.as_slice() {
                [_, score] => Some(score.bytes()),              // RESP2: member, score
                [pair] => pair.items.get(1).map(|s| s.bytes()), // RESP3: [member, score]
                _ => None,
            }
        }
        score(&first) == score(&last)
    }

    /// True when the key's encoding keeps its elements in a fixed order (listpack, intset), so a
    /// full read can be compared as is; hashtable order is compared sorted.
    fn ordered_encoding(&mut self, key: &str) -> bool {
        let encoding = self.exec(cmd!["OBJECT", "ENCODING", key], Check::Exact);
        encoding.payload() != b"hashtable"
    }

    fn select(&mut self, db: u64) {
        self.check_touched_encodings();
        self.exec(cmd!["SELECT", db.to_string()], Check::Exact);
        self.db = db;
    }

    fn check_touched_encodings(&mut self) {
        for key in std::mem::take(&mut self.touched) {
            self.exec(cmd!["OBJECT", "ENCODING", key], Check::Exact);
        }
    }
}

/// The keys of the family a key name belongs to.
fn family(key: &str) -> &'static [&'static str] {
    let families = [STRING_KEYS, LIST_KEYS, HASH_KEYS, SET_KEYS, ZSET_KEYS];
    families.into_iter().find(|keys| keys.contains(&key)).unwrap_or(STRING_KEYS)
}

fn all_keys() -> Vec<&'static str> {
    [STRING_KEYS, LIST_KEYS, HASH_KEYS, SET_KEYS, ZSET_KEYS].concat()
}

fn same(ours: &Frame, reference: &Frame, check: Check) -> bool {
    match check {
        Check::Exact => ours == reference,
        Check::Sorted | Check::SortedPairs => canonical(ours, check) == canonical(reference, check),
        Check::Ttl => match (integer(ours), integer(reference)) {
            (Some(a), Some(b)) if a > 0 && b > 0 => a.abs_diff(b) <= 1,
            _ => ours == reference,
        },
        Check::Shape => ours.kind() == reference.kind(),
    }
}

fn integer(frame: &Frame) -> Option<i64> {
    (frame.kind() == b':').then(|| std::str::from_utf8(frame.payload()).ok()?.parse().ok()).flatten()
}

fn is_aggregate(frame: &Frame) -> bool {
    matches!(frame.kind(), b'*' | b'%' | b'~')
}

/// The reply with its elements (or pairs) in a fixed order.
fn canonical(frame: &Frame, check: Check) -> Vec<u8> {
    let mut frame = frame.clone();
    if is_aggregate(&frame) {
        let flat_pairs = matches!(check, Check::SortedPairs) && !frame.items.iter().any(is_aggregate);
        if flat_pairs || frame.kind() == b'%' {
            let mut pairs: Vec<Vec<Frame>> = frame.items.chunks(2).map(|c| c.to_vec()).collect();
            pairs.sort();
            frame.items = pairs.concat();
        } else {
            frame.items.sort();
        }
    }
    frame.bytes()
}

/// A command the way redis-cli reads it; arguments over 80 bytes are shortened.
fn show_command(args: &[Vec<u8>]) -> String {
    let words: Vec<String> = args
        .iter()
        .map(|arg| {
            let plain = !arg.is_empty() && arg.iter().all(|b| b.is_ascii_graphic() && !b"\"'\\".contains(b));
            if plain && arg.len() <= 80 {
                String::from_utf8_lossy(arg).into_owned()
            } else if arg.len() <= 80 {
                format!("\"{}\"", escape(arg).replace('"', "\\\""))
            } else {
                format!("\"{}...\"({} bytes)", escape(&arg[..40]).replace('"', "\\\""), arg.len())
            }
        })
        .collect();
    words.join(" ")
}

fn show_reply(reply: &io::Result<Frame>) -> String {
    match reply {
        Ok(frame) => {
            let text = escape(&frame.bytes());
            match text.char_indices().nth(2000) {
                Some((cut, _)) => format!("{}... ({} bytes in all)", &text[..cut], frame.bytes().len()),
                None => text,
            }
        }
        Err(e) => format!("(no reply: {e})"),
    }
}

fn strings(s: &mut Session) {
    let k = s.key(STRING_KEYS);
    let v = s.member();
    let c = match s.rng.below(12) {
        0..=2 => {
            let mut c = cmd!["SET", k, v];
            if s.chance(20) {
                c.extend(cmd!["EX", "1000"]);
            } else if s.chance(10) {
                c.extend(cmd!["KEEPTTL"]);
            }
            if s.chance(15) {
                c.push(s.pick(&["NX", "XX"]).into_bytes());
            }
            if s.chance(15) {
                c.extend(cmd!["GET"]);
            }
            c
        }
        3 => cmd!["APPEND", k, v],
        4 => cmd!["INCR", k],
        5 => cmd!["DECR", k],
        6 => cmd!["INCRBY", k, s.pick(INCREMENTS)],
        7 => cmd!["GET", k],
        8 => cmd!["STRLEN", k],
        9 => cmd!["SETRANGE", k, s.rng.below(8).to_string(), v],
        10 => cmd!["GETRANGE", k, s.pick(INDEXES), s.pick(INDEXES)],
        _ => {
            let k2 = s.key(STRING_KEYS);
            cmd!["MSET", k, v, k2, s.member()]
        }
    };
    s.exec_on(&k, c, Check::Exact);
}

fn lists(s: &mut Session) {
    let k = s.key(LIST_KEYS);
    let end = |s: &mut Session| s.pick(&["LEFT", "RIGHT"]);
    let c = match s.rng.below(24) {
        0..=5 => {
            let mut c = cmd![s.pick(&["LPUSH", "RPUSH"]), k];
            for _ in 0..s.upto(3) {
                c.push(s.member());
            }
            c
        }
        6 => cmd![s.pick(&["LPUSHX", "RPUSHX"]), k, s.member()],
        7 | 8 => {
            let mut c = cmd![s.pick(&["LPOP", "RPOP"]), k];
            if s.chance(50) {
                c.push(s.count().into_bytes());
            }
            c
        }
        9 => cmd!["LINSERT", k, s.pick(&["BEFORE", "AFTER"]), s.member(), s.member()],
        10 => cmd!["LSET", k, s.pick(INDEXES), s.member()],
        11 => cmd!["LREM", k, s.pick(&["-2", "-1", "0", "1", "2"]), s.member()],
        12 => cmd!["LTRIM", k, s.pick(&["0", "1", "-8", "-20"]), s.pick(&["-1", "-2", "5", "10", "20"])],
        13 => cmd!["LMOVE", k, s.key(LIST_KEYS), end(s), end(s)],
        14 => cmd!["RPOPLPUSH", k, s.key(LIST_KEYS)],
        15 => {
            let keys = s.keys(LIST_KEYS, 3);
            let mut c = cmd!["LMPOP", keys.len().to_string()];
            c.extend(keys.iter().map(|k| k.as_bytes().to_vec()));
            c.push(end(s).into_bytes());
            if s.chance(60) {
                c.extend(cmd!["COUNT", s.count()]);
            }
            c
        }
        16 => {
            let mut c = cmd!["LPOS", k, s.member()];
            if s.chance(40) {
                c.extend(cmd!["RANK", s.pick(&["1", "2", "-1", "-2", "0"])]);
            }
            if s.chance(40) {
                c.extend(cmd!["COUNT", s.pick(&["0", "1", "2", "5"])]);
            }
            if s.chance(30) {
                c.extend(cmd!["MAXLEN", s.pick(&["0", "1", "3", "10"])]);
            }
            c
        }
        17..=19 => cmd!["LRANGE", k, s.pick(INDEXES), s.pick(INDEXES)],
        20 | 21 => cmd!["LINDEX", k, s.pick(INDEXES)],
        _ => cmd!["LLEN", k],
    };
    s.exec_on(&k, c, Check::Exact);
}

fn hashes(s: &mut Session) {
    let k = s.key(HASH_KEYS);
    let (c, check) = match s.rng.below(20) {
        0..=5 | 18 => {
            let mut c = cmd!["HSET", k];
            for _ in 0..s.upto(3) {
                c.push(s.field());
                c.push(s.member());
            }
            (c, Check::Exact)
        }
        6 => (cmd!["HSETNX", k, s.field(), s.member()], Check::Exact),
        7 => {
            let mut c = cmd!["HDEL", k, s.field()];
            if s.chance(30) {
                c.push(s.field());
            }
            (c, Check::Exact)
        }
        8 => (cmd!["HINCRBY", k, s.field(), s.pick(INCREMENTS)], Check::Exact),
        9 => (cmd!["HINCRBYFLOAT", k, s.field(), s.pick(FLOAT_INCREMENTS)], Check::Exact),
        10 | 11 => (cmd!["HGET", k, s.field()], Check::Exact),
        12 => {
            let mut c = cmd!["HMGET", k];
            for _ in 0..s.upto(3) {
                c.push(s.field());
            }
            (c, Check::Exact)
        }
        13 => (cmd!["HLEN", k], Check::Exact),
        14 => (cmd!["HSTRLEN", k, s.field()], Check::Exact),
        15 => (cmd!["HEXISTS", k, s.field()], Check::Exact),
        16 | 17 => {
            let name = s.pick(&["HGETALL", "HKEYS", "HVALS"]);
            let check = match (s.ordered_encoding(&k), name.as_str()) {
                (true, _) => Check::Exact,
                (false, "HGETALL") => Check::SortedPairs,
                (false, _) => Check::Sorted,
            };
            (cmd![name, k], check)
        }
        _ => {
            let mut c = cmd!["HRANDFIELD", k, WHOLE];
            let check = if s.chance(50) {
                c.extend(cmd!["WITHVALUES"]);
                Check::SortedPairs
            } else {
                Check::Sorted
            };
            (c, check)
        }
    };
    s.exec_on(&k, c, check);
}

fn sets(s: &mut Session) {
    let k = s.key(SET_KEYS);
    let (c, check) = match s.rng.below(22) {
        0..=5 => {
            let mut c = cmd!["SADD", k];
            for _ in 0..s.upto(4) {
                c.push(if k == INT_SET && s.chance(80) { s.pick(INT_MEMBERS).into_bytes() } else { s.member() });
            }
            (c, Check::Exact)
        }
        6 | 7 => {
            let mut c = cmd!["SREM", k, s.member()];
            if s.chance(30) {
                c.push(s.member());
            }
            (c, Check::Exact)
        }
        8 => (cmd!["SMOVE", k, s.key(SET_KEYS), s.member()], Check::Exact),
        9 | 10 => {
            let mut c = cmd![s.pick(&["SINTERSTORE", "SUNIONSTORE", "SDIFFSTORE"]), k];
            c.extend(s.keys(SET_KEYS, 3).into_iter().map(String::into_bytes));
            (c, Check::Exact)
        }
        11 => {
            let mut c = cmd![s.pick(&["SINTER", "SUNION", "SDIFF"])];
            c.extend(s.keys(SET_KEYS, 3).into_iter().map(String::into_bytes));
            (c, Check::Sorted)
        }
        12 | 13 => (cmd!["SISMEMBER", k, s.member()], Check::Exact),
        14 => {
            let mut c = cmd!["SMISMEMBER", k];
            for _ in 0..s.upto(3) {
                c.push(s.member());
            }
            (c, Check::Exact)
        }
        15 => (cmd!["SCARD", k], Check::Exact),
        16 => {
            let keys = s.keys(SET_KEYS, 3);
            let mut c = cmd!["SINTERCARD", keys.len().to_string()];
            c.extend(keys.into_iter().map(String::into_bytes));
            if s.chance(40) {
                c.extend(cmd!["LIMIT", s.pick(&["0", "1", "2", "5"])]);
            }
            (c, Check::Exact)
        }
        17 | 18 => {
            let check = if s.ordered_encoding(&k) { Check::Exact } else { Check::Sorted };
            (cmd!["SMEMBERS", k], check)
        }
        19 => (cmd!["SRANDMEMBER", k, WHOLE], Check::Sorted),
        20 if s.chance(30) => (cmd!["SPOP", k, WHOLE], Check::Sorted),
        _ => (cmd!["SCARD", k], Check::Exact),
    };
    s.exec_on(&k, c, check);
}

/// The keys part of ZUNIONSTORE-like commands: `numkeys key...`, from sorted sets mostly but
/// sets too (they count as score 1).
fn zset_sources(s: &mut Session) -> Vec<Vec<u8>> {
    let n = s.upto(3);
    let mut c = cmd![n.to_string()];
    for _ in 0..n {
        let k = if s.chance(15) { s.key(SET_KEYS) } else { s.key(ZSET_KEYS) };
        c.push(k.into_bytes());
    }
    c
}

/// ZRANGE/ZRANGESTORE arguments after the key(s): `start stop`, or score bounds with BYSCORE,
/// or lex bounds with BYLEX (only when the source's scores are all the same), then REV and LIMIT.
fn zrange_spec(s: &mut Session, source: &str) -> Vec<Vec<u8>> {
    let mode = s.rng.below(3);
    let mut c = match mode {
        1 => cmd![s.pick(SCORE_BOUNDS), s.pick(SCORE_BOUNDS), "BYSCORE"],
        2 if s.lex_safe(source) => cmd![s.pick(LEX_BOUNDS), s.pick(LEX_BOUNDS), "BYLEX"],
        _ => cmd![s.pick(INDEXES), s.pick(INDEXES)],
    };
    if s.chance(30) {
        c.extend(cmd!["REV"]);
    }
    if (mode != 0 && s.chance(40)) || s.chance(1) {
        c.extend(cmd!["LIMIT", s.pick(&["0", "1", "2", "-1"]), s.pick(&["-1", "0", "1", "2", "5"])]);
    }
    c
}

fn zsets(s: &mut Session) {
    let k = s.key(ZSET_KEYS);
    let (c, check) = match s.rng.below(36) {
        0..=7 => (zadd(s, &k), Check::Exact),
        8 => (cmd!["ZINCRBY", k, s.score(), s.member()], Check::Exact),
        9 => {
            let mut c = cmd!["ZREM", k, s.member()];
            if s.chance(30) {
                c.push(s.member());
            }
            (c, Check::Exact)
        }
        10 => (cmd!["ZREMRANGEBYSCORE", k, s.pick(SCORE_BOUNDS), s.pick(SCORE_BOUNDS)], Check::Exact),
        11 => (cmd!["ZREMRANGEBYRANK", k, s.pick(INDEXES), s.pick(INDEXES)], Check::Exact),
        12 if s.lex_safe(&k) => (cmd!["ZREMRANGEBYLEX", k, s.pick(LEX_BOUNDS), s.pick(LEX_BOUNDS)], Check::Exact),
        13 => {
            let mut c = cmd![s.pick(&["ZPOPMIN", "ZPOPMAX"]), k];
            if s.chance(50) {
                c.push(s.count().into_bytes());
            }
            (c, Check::Exact)
        }
        14 => {
            let mut c = cmd!["ZMPOP"];
            c.extend(zset_sources(s));
            c.push(s.pick(&["MIN", "MAX"]).into_bytes());
            if s.chance(60) {
                c.extend(cmd!["COUNT", s.count()]);
            }
            (c, Check::Exact)
        }
        15 | 16 => {
            let mut c = cmd![s.pick(&["ZUNIONSTORE", "ZINTERSTORE"]), k];
            let sources = zset_sources(s);
            let n = sources.len() - 1;
            c.extend(sources);
            if s.chance(40) {
                c.extend(cmd!["WEIGHTS"]);
                for _ in 0..n {
                    c.push(if s.chance(3) { b"inf".to_vec() } else { s.pick(WEIGHTS).into_bytes() });
                }
            }
            if s.chance(40) {
                c.extend(cmd!["AGGREGATE", s.pick(&["SUM", "MIN", "MAX"])]);
            }
            (c, Check::Exact)
        }
        17 => {
            let mut c = cmd!["ZDIFFSTORE", k];
            c.extend(zset_sources(s));
            (c, Check::Exact)
        }
        18 => {
            let mut c = cmd![s.pick(&["ZUNION", "ZINTER", "ZDIFF"])];
            c.extend(zset_sources(s));
            if s.chance(50) {
                c.extend(cmd!["WITHSCORES"]);
            }
            (c, Check::Exact)
        }
        19 => {
            let mut c = cmd!["ZINTERCARD"];
            c.extend(zset_sources(s));
            if s.chance(40) {
                c.extend(cmd!["LIMIT", s.pick(&["0", "1", "3"])]);
            }
            (c, Check::Exact)
        }
        20 | 21 => {
            let source = s.key(ZSET_KEYS);
            let mut c = cmd!["ZRANGESTORE", k, source];
            c.extend(zrange_spec(s, &source));
            (c, Check::Exact)
        }
        22..=25 => {
            let mut c = cmd!["ZRANGE", k];
            let spec = zrange_spec(s, &k);
            let bylex = spec.iter().any(|a| a == b"BYLEX");
            c.extend(spec);
            if s.chance(if bylex { 3 } else { 50 }) {
                c.extend(cmd!["WITHSCORES"]);
            }
            (c, Check::Exact)
        }
        26 => {
            let name = s.pick(&["ZRANGEBYSCORE", "ZREVRANGEBYSCORE"]);
            let mut c = cmd![name, k, s.pick(SCORE_BOUNDS), s.pick(SCORE_BOUNDS)];
            if s.chance(40) {
                c.extend(cmd!["WITHSCORES"]);
            }
            if s.chance(30) {
                c.extend(cmd!["LIMIT", s.pick(&["0", "1", "2"]), s.pick(&["-1", "1", "3"])]);
            }
            (c, Check::Exact)
        }
        27 => (cmd![s.pick(&["ZRANK", "ZREVRANK"]), k, s.member()], Check::Exact),
        28 | 29 => (cmd!["ZSCORE", k, s.member()], Check::Exact),
        30 => (cmd!["ZMSCORE", k, s.member(), s.member()], Check::Exact),
        31 => (cmd!["ZCARD", k], Check::Exact),
        32 => (cmd!["ZCOUNT", k, s.pick(SCORE_BOUNDS), s.pick(SCORE_BOUNDS)], Check::Exact),
        33 if s.lex_safe(&k) => (cmd!["ZLEXCOUNT", k, s.pick(LEX_BOUNDS), s.pick(LEX_BOUNDS)], Check::Exact),
        34 => {
            let mut c = cmd!["ZRANDMEMBER", k, WHOLE];
            let check = if s.chance(50) {
                c.extend(cmd!["WITHSCORES"]);
                Check::SortedPairs
            } else {
                Check::Sorted
            };
            (c, check)
        }
        _ => (cmd!["ZREVRANGE", k, s.pick(INDEXES), s.pick(INDEXES), "WITHSCORES"], Check::Exact),
    };
    s.exec_on(&k, c, check);
}

/// ZADD with a random set of flags (some combinations are errors, compared too).
fn zadd(s: &mut Session, key: &str) -> Vec<Vec<u8>> {
    let mut c = cmd!["ZADD", key];
    if s.chance(25) {
        c.push(s.pick(&["NX", "XX"]).into_bytes());
    }
    if s.chance(25) {
        c.push(s.pick(&["GT", "LT"]).into_bytes());
    }
    if s.chance(20) {
        c.extend(cmd!["CH"]);
    }
    let incr = s.chance(12);
    if incr {
        c.extend(cmd!["INCR"]);
    }
    let pairs = if incr && s.chance(90) { 1 } else { s.upto(3) };
    let lex = key == LEX_ZSET && s.chance(85);
    for _ in 0..pairs {
        let score = if lex { "0".to_string() } else { s.score() };
        c.push(score.into_bytes());
        c.push(s.member());
    }
    c
}

fn generic(s: &mut Session) {
    let k = s.key(&all_keys());
    let other = if s.chance(75) { s.key(family(&k)) } else { s.key(&all_keys()) };
    let (c, check) = match s.rng.below(30) {
        0 => (cmd![s.pick(&["DEL", "UNLINK"]), k], Check::Exact),
        1 => (cmd!["EXISTS", k, other], Check::Exact),
        2 | 3 => (cmd!["TYPE", k], Check::Exact),
        4 => {
            let mut c = cmd!["EXPIRE", k, s.pick(&["1000", "5000", "100000"])];
            if s.chance(20) {
                c.push(s.pick(&["NX", "XX"]).into_bytes());
            }
            (c, Check::Exact)
        }
        5 => {
            let mut c = cmd!["EXPIREAT", k, s.pick(FAR_TIMES)];
            if s.chance(40) {
                c.push(s.pick(&["NX", "XX", "GT", "LT"]).into_bytes());
            }
            (c, Check::Exact)
        }
        6 => (cmd!["PERSIST", k], Check::Exact),
        7 | 8 => (cmd!["TTL", k], Check::Ttl),
        9 | 10 => (cmd!["RENAME", k, other], Check::Exact),
        11 => (cmd!["RENAMENX", k, other], Check::Exact),
        12 | 13 => {
            let mut c = cmd!["COPY", k, other];
            if s.chance(30) {
                c.extend(cmd!["DB", s.rng.below(DATABASES).to_string()]);
            }
            if s.chance(40) {
                c.extend(cmd!["REPLACE"]);
            }
            (c, Check::Exact)
        }
        14 => (cmd!["MOVE", k, s.rng.below(DATABASES).to_string()], Check::Exact),
        15 => {
            let db = s.rng.below(DATABASES);
            s.select(db);
            return;
        }
        16 | 17 => (cmd!["OBJECT", "ENCODING", k], Check::Exact),
        18 | 19 => (cmd!["DEL", k, other], Check::Exact),
        20 => (cmd!["DBSIZE"], Check::Exact),
        21..=25 => (sort(s, &k), Check::Exact),
        26 => {
            let (name, values) = *s.rng.pick(THRESHOLDS);
            (cmd!["CONFIG", "SET", name, s.pick(values)], Check::Exact)
        }
        _ => (cmd!["EXISTS", k], Check::Exact),
    };
    s.exec(c, check);
}

/// SORT or SORT_RO, numeric or ALPHA, with LIMIT, DESC, GET # and STORE; never BY nosort (its
/// order is the key's own, hash-table order for sets).
fn sort(s: &mut Session, key: &str) -> Vec<Vec<u8>> {
    let store = s.chance(35);
    let mut c = cmd![if store { "SORT".to_string() } else { s.pick(&["SORT", "SORT_RO"]) }, key];
    if s.chance(30) {
        c.extend(cmd!["LIMIT", s.pick(&["0", "1", "2", "-1"]), s.pick(&["-1", "0", "2", "5"])]);
    }
    if s.chance(10) {
        c.extend(cmd!["GET", "#"]);
    }
    if s.chance(30) {
        c.extend(cmd!["DESC"]);
    }
    if s.chance(50) {
        c.extend(cmd!["ALPHA"]);
    }
    if store {
        let dst = if s.chance(70) { s.key(LIST_KEYS) } else { s.key(&all_keys()) };
        c.extend(cmd!["STORE", dst]);
    }
    c
}

/// Every key of every database: the same names, types, TTLs, encodings and values.
fn compare_datasets(s: &mut Session) {
    s.phase = "final dataset check";
    for db in 0..DATABASES {
        s.select(db);
        let keys = s.exec(cmd!["KEYS", "*"], Check::Sorted);
        let mut names: Vec<Vec<u8>> = keys.items.iter().map(|f| f.payload().to_vec()).collect();
        names.sort();
        for key in names {
            let kind = s.exec(cmd!["TYPE", key], Check::Exact);
            s.exec(cmd!["TTL", key], Check::Ttl);
            s.exec(cmd!["OBJECT", "ENCODING", key], Check::Exact);
            let (c, check) = match kind.payload() {
                b"string" => (cmd!["GET", key], Check::Exact),
                b"list" => (cmd!["LRANGE", key, "0", "-1"], Check::Exact),
                b"hash" => (cmd!["HGETALL", key], Check::SortedPairs),
                b"set" => (cmd!["SMEMBERS", key], Check::Sorted),
                b"zset" => (cmd!["ZRANGE", key, "0", "-1", "WITHSCORES"], Check::Exact),
                other => panic!("random_types: unexpected type {:?} of key {}", escape(other), escape(&key)),
            };
            s.exec(c, check);
        }
    }
}

/// Both servers back to a known state: empty, database 0, default thresholds, the seed's protocol.
fn reset(s: &mut Session) {
    s.phase = "setup";
    s.exec(cmd!["HELLO", if s.seed % 2 == 1 { "3" } else { "2" }], Check::Shape);
    s.exec(cmd!["SELECT", "0"], Check::Exact);
    s.db = 0;
    s.exec(cmd!["FLUSHALL"], Check::Exact);
    for (name, values) in THRESHOLDS {
        s.exec(cmd!["CONFIG", "SET", name, values[0]], Check::Exact);
    }
    s.phase = "random commands";
}

fn run_seed(ours: &TestServer, reference: &TestServer, seed: u64, ops: usize) -> usize {
    let mut s = Session {
        seed,
        ops,
        rng: Rng::new(seed),
        ours: ours.connect(),
        reference: reference.connect(),
        sent: 0,
        db: 0,
        phase: "setup",
        recent: Vec::new(),
        touched: BTreeSet::new(),
        dump: std::env::var_os("RANDOM_DUMP").is_some_and(|v| v != "0"),
    };
    reset(&mut s);
    for op in 1..=ops {
        match s.rng.below(100) {
            0..=9 => strings(&mut s),
            10..=29 => lists(&mut s),
            30..=46 => hashes(&mut s),
            47..=63 => sets(&mut s),
            64..=88 => zsets(&mut s),
            _ => generic(&mut s),
        }
        if op % ENCODING_CHECK_EVERY == 0 {
            s.check_touched_encodings();
        }
    }
    s.check_touched_encodings();
    compare_datasets(&mut s);
    s.sent
}

fn env_number(name: &str) -> Option<u64> {
    let text = std::env::var(name).ok()?;
    Some(text.trim().parse().unwrap_or_else(|_| panic!("{name}={text:?} is not a number")))
}

#[test]
fn random_type_commands_match_redis() {
    // The servers inherit it: SORT ALPHA in byte order whatever the machine's locale.
    std::env::set_var("LC_ALL", "C");
    let ours = TestServer::start(&support::ours_binary());
    let reference = TestServer::start(&support::reference_binary());
    let ops = env_number("RANDOM_OPS").map_or(DEFAULT_OPS, |n| n as usize);
    let seeds: Vec<u64> = match env_number("RANDOM_SEED") {
        Some(seed) => vec![seed],
        None => (1..=env_number("RANDOM_SEEDS").unwrap_or(DEFAULT_SEEDS)).collect(),
    };
    let start = Instant::now();
    let mut sent = 0;
    for &seed in &seeds {
        sent += run_seed(&ours, &reference, seed, ops);
    }
    println!(
        "random_types: {} seed(s) x {ops} generated commands ({sent} sent in all, checks included), \
         no mismatch, {:.1?}",
        seeds.len(),
        start.elapsed()
    );
}
