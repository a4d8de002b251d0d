//! What the fuzz targets (fuzz_targets/) share: the server's use of a value
//! that a snapshot load or a RESTORE accepted. Parsing must never panic, and
//! neither may any later command on whatever parsing let through.
//!
//! Each accepted value is checked against the invariants the keyspace code
//! relies on (`check_value`), then put under the key `k` of a scratch server
//! state (the in-process command pipeline, no sockets) and driven through
//! reads, a DUMP/RESTORE round trip, and writes of every type, which convert
//! encodings as they grow or shrink the value; the state is emptied after.
//! Two states are kept, one with Redis's default encoding limits and one
//! with every limit at 1, so that both the compact and the large forms, and
//! the conversions between them, are reached. Clock and randomness are reset
//! for each value: a crash replays from its input alone.

use std::cell::RefCell;
use std::collections::HashSet;
use strata::commands;
use strata::config::Config;
use strata::keyspace::hash::Hash;
use strata::keyspace::listpack;
use strata::keyspace::set::Set;
use strata::keyspace::zset::ZSet;
use strata::keyspace::{Entry, Value};
use strata::persistence::rdb::{crc64, Limits};
use strata::protocol::{Proto, ReplyBuf};
use strata::state::{Clock, Rng, State};

/// The scratch states' clock (ms): any fixed time will do.
pub const NOW_MS: i64 = 1_700_000_000_000;

/// Per-member lookups stop after this many members, so that checking a
/// large value stays linear.
const LOOKUPS_MAX: usize = 64;

/// Values with more elements than this are only checked, not driven
/// through the commands (which would spend most of a run sorting and
/// digesting them); it is above the default listpack limits, so the
/// conversions at those limits are still reached.
const DRIVEN_ELEMENTS_MAX: usize = 1000;

/// The encoding limits a value is loaded and then used under.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Profile {
    /// Redis 7.0's defaults.
    Default,
    /// Every listpack and intset limit at 1, one element per list node.
    Tiny,
}

pub const PROFILES: [Profile; 2] = [Profile::Default, Profile::Tiny];

const TINY_CONFIG: &[(&str, &str)] = &[
    ("hash-max-listpack-entries", "1"),
    ("hash-max-listpack-value", "1"),
    ("set-max-intset-entries", "1"),
    ("zset-max-listpack-entries", "1"),
    ("zset-max-listpack-value", "1"),
    ("list-max-listpack-size", "1"),
];

struct Scratch {
    st: State,
    cid: u64,
}

impl Scratch {
    fn new(p: Profile) -> Self {
        let mut st = State::new(Config::default());
        st.config.enable_debug_command = "yes".into();
        st.prop.enabled = true;
        let cid = st.add_detached_client();
        let mut s = Scratch { st, cid };
        // No save rules: FLUSHALL would otherwise write a snapshot to disk.
        assert_eq!(s.run(&[b"CONFIG", b"SET", b"save", b""]), b"+OK\r\n");
        if p == Profile::Tiny {
            for (name, value) in TINY_CONFIG {
                let r = s.run(&[b"CONFIG", b"SET", name.as_bytes(), value.as_bytes()]);
                assert_eq!(r, b"+OK\r\n", "CONFIG SET {name} {value}");
            }
        }
        s
    }

    /// Runs one command and returns its reply (what it propagated is
    /// dropped, so nothing accumulates between inputs).
    fn run(&mut self, argv: &[&[u8]]) -> Vec<u8> {
        let mut out = ReplyBuf::new(Proto::Resp2);
        commands::process(&mut self.st, self.cid, argv, &mut out);
        self.st.prop.take();
        out.buf
    }

    fn run_str(&mut self, argv: &[&str]) -> Vec<u8> {
        let a: Vec<&[u8]> = argv.iter().map(|s| s.as_bytes()).collect();
        self.run(&a)
    }

    /// Back to an empty keyspace, the fixed clock and a fixed random seed.
    fn reset(&mut self) {
        self.run(&[b"FLUSHALL"]);
        self.st.clock = Clock::Manual(NOW_MS);
        self.st.rng = Rng::new(0x5EED_F022);
    }
}

thread_local! {
    static SCRATCH: RefCell<Option<[Scratch; 2]>> = const { RefCell::new(None) };
}

fn with_scratch<R>(p: Profile, f: impl FnOnce(&mut Scratch) -> R) -> R {
    SCRATCH.with(|s| {
        let mut s = s.borrow_mut();
        let both = s.get_or_insert_with(|| [Scratch::new(Profile::Default), Scratch::new(Profile::Tiny)]);
        f(&mut both[p as usize])
    })
}

/// The limits a profile's server loads values with.
pub fn limits(p: Profile) -> Limits {
    with_scratch(p, |s| Limits::from_config(&s.st.config))
}

/// A DUMP payload with `body` (type byte and value) and a trailer that
/// passes RESTORE's check: version 10 and the right CRC-64.
pub fn seal(body: &[u8]) -> Vec<u8> {
    let mut p = Vec::with_capacity(body.len() + 10);
    p.extend_from_slice(body);
    p.extend_from_slice(&10u16.to_le_bytes());
    let crc = crc64(&p);
    p.extend_from_slice(&crc.to_le_bytes());
    p
}

/// Uses a value as if a snapshot load had just stored it under `k`.
pub fn exercise_value(p: Profile, v: Value, strict: bool) {
    if v.elements() > DRIVEN_ELEMENTS_MAX {
        return check_value(&v, strict);
    }
    with_scratch(p, |s| {
        s.reset();
        s.st.keyspace.dbs[0].add_entry(Entry::new(b"k", v, NOW_MS), None);
        drive(s, strict);
        s.reset();
    })
}

/// Runs RESTORE of `payload` under `k` as a client would; when it is
/// accepted, uses the value. Returns whether RESTORE accepted it.
pub fn exercise_restore(p: Profile, payload: &[u8]) -> bool {
    with_scratch(p, |s| {
        s.reset();
        let r = s.run(&[b"RESTORE", b"k", b"0", payload]);
        let ok = r == b"+OK\r\n";
        assert!(ok || r.starts_with(b"-ERR"), "RESTORE answered {}", String::from_utf8_lossy(&r));
        if ok {
            let v = &s.st.keyspace.dbs[0].peek(b"k").expect("restored").value;
            if v.elements() > DRIVEN_ELEMENTS_MAX {
                check_value(v, true);
            } else {
                drive(s, true);
            }
        }
        s.reset();
        ok
    })
}

/// Two members of a collection (first and last), for the commands
/// that look one up.
fn samples(v: &Value) -> Vec<Vec<u8>> {
    let mut out: Vec<Vec<u8>> = Vec::new();
    match v {
        Value::List(l) => {
            for i in [0, -1] {
                out.extend(l.get(i).map(|e| e.to_bytes().into_owned()));
            }
        }
        Value::Hash(h) => {
            let mut all = Vec::new();
            h.for_each(|f, _| {
                if all.len() < LOOKUPS_MAX {
                    all.push(f.to_vec())
                }
            });
            out.extend(all.first().cloned());
            out.extend(all.last().cloned());
        }
        Value::Set(s) => {
            let mut all = Vec::new();
            s.for_each(|m| {
                if all.len() < LOOKUPS_MAX {
                    all.push(m.to_vec())
                }
            });
            out.extend(all.first().cloned());
            out.extend(all.last().cloned());
        }
        Value::ZSet(z) => {
            out.extend(z.iter_from(0, false).next().map(|(_, m)| m.into_owned()));
            out.extend(z.iter_from(0, true).next().map(|(_, m)| m.into_owned()));
        }
        _ => {}
    }
    out
}

/// Commands that only read `k`, whatever its type (the others answer
/// WRONGTYPE, cheaply).
const READS: &[&[&str]] = &[
    &["TYPE", "k"],
    &["OBJECT", "ENCODING", "k"],
    &["MEMORY", "USAGE", "k", "SAMPLES", "0"],
    &["DEBUG", "DIGEST-VALUE", "k"],
    &["GET", "k"],
    &["STRLEN", "k"],
    &["GETRANGE", "k", "-5", "-1"],
    &["LLEN", "k"],
    &["LRANGE", "k", "0", "-1"],
    &["LINDEX", "k", "0"],
    &["LINDEX", "k", "-1"],
    &["HLEN", "k"],
    &["HGETALL", "k"],
    &["HVALS", "k"],
    &["HSCAN", "k", "0", "COUNT", "5"],
    &["HRANDFIELD", "k", "-5", "WITHVALUES"],
    &["SCARD", "k"],
    &["SMEMBERS", "k"],
    &["SSCAN", "k", "0"],
    &["SRANDMEMBER", "k", "-4"],
    &["SINTER", "k", "k"],
    &["SDIFF", "k", "k"],
    &["SINTERCARD", "1", "k"],
    &["ZCARD", "k"],
    &["ZRANGE", "k", "0", "-1", "WITHSCORES"],
    &["ZRANGEBYSCORE", "k", "-inf", "+inf", "WITHSCORES"],
    &["ZRANGEBYSCORE", "k", "(0", "5"],
    &["ZREVRANGEBYSCORE", "k", "+inf", "-inf", "LIMIT", "1", "2"],
    &["ZRANGEBYLEX", "k", "-", "+"],
    &["ZRANGEBYLEX", "k", "[a", "(m"],
    &["ZREVRANGEBYLEX", "k", "+", "-"],
    &["ZCOUNT", "k", "0", "(10"],
    &["ZLEXCOUNT", "k", "-", "+"],
    &["ZRANDMEMBER", "k", "-3", "WITHSCORES"],
    &["ZSCAN", "k", "0"],
    &["ZUNION", "1", "k", "WITHSCORES"],
    &["ZINTER", "2", "k", "k"],
    &["ZDIFF", "1", "k"],
    &["SORT", "k", "ALPHA"],
    &["SORT", "k", "LIMIT", "0", "3"],
    &["SORT_RO", "k", "ALPHA", "DESC"],
];

/// Reads that look up one member, `m` standing for a sample.
const LOOKUPS: &[&[&str]] = &[
    &["LPOS", "k", "m"],
    &["LPOS", "k", "m", "RANK", "-1"],
    &["HGET", "k", "m"],
    &["HSTRLEN", "k", "m"],
    &["SISMEMBER", "k", "m"],
    &["ZSCORE", "k", "m"],
    &["ZRANK", "k", "m"],
    &["ZREVRANK", "k", "m"],
    &["ZMSCORE", "k", "m", "nope"],
];

/// Writes to `k` and keys made from it, `m` standing for a sample; long
/// members and many additions push compact encodings past their limits.
const WRITES: &[&[&str]] = &[
    &["COPY", "k", "k3", "REPLACE"],
    &["APPEND", "k", "x"],
    &["SETRANGE", "k", "3", "yy"],
    &["INCR", "k"],
    &["RPUSH", "k", "new", "7"],
    &["LPUSH", "k", "1"],
    &["LINSERT", "k", "BEFORE", "m", "ins"],
    &["LINSERT", "k", "AFTER", "m", "-9"],
    &["LSET", "k", "1", "v"],
    &["LSET", "k", "-1", "12345678901234567890123456789012345678901234567890123456789012345678901234567890"],
    &["LREM", "k", "0", "m"],
    &["LREM", "k", "-1", "new"],
    &["LTRIM", "k", "1", "-2"],
    &["LMOVE", "k", "k4", "LEFT", "RIGHT"],
    &["RPOP", "k", "2"],
    &["LPOP", "k"],
    &["HSET", "k", "m", "updated"],
    &["HSET", "k", "f9", "v9", "f10", "10"],
    &["HSET", "k", "a-field-long-enough-to-leave-every-listpack-limit-behind-at-once-0123456789", "v"],
    &["HINCRBY", "k", "n", "3"],
    &["HINCRBYFLOAT", "k", "fl", "1.5"],
    &["HSETNX", "k", "m", "no"],
    &["HDEL", "k", "m", "f9"],
    &["SADD", "k", "m", "q", "42"],
    &["SADD", "k", "a-member-long-enough-to-leave-every-listpack-limit-behind-at-once-0123456789"],
    &["SREM", "k", "m"],
    &["SMOVE", "k", "k5", "q"],
    &["SPOP", "k"],
    &["SPOP", "k", "2"],
    &["SINTERSTORE", "d1", "k", "k"],
    &["SUNIONSTORE", "d2", "k", "k5"],
    &["SDIFFSTORE", "d3", "k", "k5"],
    &["ZADD", "k", "3", "q", "-inf", "lo", "inf", "hi"],
    &["ZADD", "k", "XX", "INCR", "1", "m"],
    &["ZADD", "k", "GT", "100", "m"],
    &["ZINCRBY", "k", "2.5", "m"],
    &["ZADD", "k", "NX", "1", "a-member-long-enough-to-leave-every-listpack-limit-behind-at-once-0123456789"],
    &["ZREM", "k", "m"],
    &["ZPOPMIN", "k"],
    &["ZPOPMAX", "k", "2"],
    &["ZREMRANGEBYRANK", "k", "0", "0"],
    &["ZREMRANGEBYSCORE", "k", "0", "1"],
    &["ZREMRANGEBYLEX", "k", "[a", "[b"],
    &["ZUNIONSTORE", "u", "2", "k", "k3", "WEIGHTS", "1", "2"],
    &["ZINTERSTORE", "i", "2", "k", "k3", "AGGREGATE", "MAX"],
    &["ZRANGESTORE", "d4", "k", "0", "-1"],
    &["ZDIFFSTORE", "d5", "2", "k3", "k"],
    &["SORT", "k3", "STORE", "d6"],
    &["RENAME", "k3", "k6"],
];

/// Reads again after the writes, over every key they may have made.
const AFTER: &[&[&str]] = &[
    &["DEBUG", "DIGEST"],
    &["LRANGE", "k", "0", "-1"],
    &["HGETALL", "k"],
    &["SMEMBERS", "k"],
    &["ZRANGE", "k", "0", "-1", "WITHSCORES"],
    &["ZRANGEBYLEX", "k", "-", "+"],
    &["DUMP", "k"],
];

fn with_member<'a>(cmd: &[&'a str], m: &'a [u8]) -> Vec<&'a [u8]> {
    cmd.iter().map(|a| if *a == "m" { m } else { a.as_bytes() }).collect()
}

/// The bytes of a RESP bulk-string reply, `None` for anything else.
fn bulk(reply: &[u8]) -> Option<&[u8]> {
    let rest = reply.strip_prefix(b"$")?;
    let eol = rest.iter().position(|&c| c == b'\r')?;
    let n: usize = std::str::from_utf8(&rest[..eol]).ok()?.parse().ok()?;
    rest.get(eol + 2..eol + 2 + n)
}

/// Reads, round trip, writes, reads again, then the invariants of every
/// key left.
fn drive(s: &mut Scratch, strict: bool) {
    let v = &s.st.keyspace.dbs[0].peek(b"k").expect("the value was stored").value;
    check_value(v, strict);
    let members = samples(v);
    let some: &[&[u8]] = &[b"a"];
    let mut lookups: Vec<&[u8]> = members.iter().map(|m| m.as_slice()).collect();
    lookups.extend_from_slice(some);

    for c in READS {
        s.run_str(c);
    }
    for m in &lookups {
        for c in LOOKUPS {
            s.run(&with_member(c, m));
        }
    }

    // DUMP and RESTORE give the same value back: same digest.
    let dump = s.run(&[b"DUMP", b"k"]);
    let payload = bulk(&dump).expect("DUMP of an existing key is a bulk string").to_vec();
    let restored = s.run(&[b"RESTORE", b"k2", b"0", &payload, b"REPLACE"]);
    if strict {
        // A value accepted with every check on passes them again.
        assert_eq!(restored, b"+OK\r\n", "RESTORE of a DUMP of an accepted value");
    }
    if restored == b"+OK\r\n" {
        let a = s.run(&[b"DEBUG", b"DIGEST-VALUE", b"k"]);
        let b = s.run(&[b"DEBUG", b"DIGEST-VALUE", b"k2"]);
        assert_eq!(a, b, "a DUMP/RESTORE round trip changed the value");
        let v2 = &s.st.keyspace.dbs[0].peek(b"k2").expect("restored").value;
        check_value(v2, strict);
    }

    let m0: &[u8] = lookups[0];
    for c in WRITES {
        s.run(&with_member(c, m0));
    }
    for c in AFTER {
        s.run_str(c);
    }
    for e in s.st.keyspace.dbs[0].dict.iter() {
        check_value(&e.value, false);
    }
}

/// Checks what the keyspace code assumes of a stored value: collections
/// not empty, counts equal to what iteration finds, embedded listpacks
/// walkable, scores numbers. `strict` (values accepted with the deep
/// checks) adds: members unique, sorted sets in order, lookups of each
/// member finding it.
pub fn check_value(v: &Value, strict: bool) {
    let _ = (v.type_name(), v.encoding(), v.heap_size(), v.free_effort(), v.elements());
    match v {
        Value::Int(n) => assert_eq!(v.as_bytes().unwrap().as_ref(), n.to_string().as_bytes()),
        Value::Emb(_) | Value::Raw(_) => {
            v.as_bytes().expect("a string has bytes");
        }
        Value::List(l) => {
            assert!(!l.is_empty(), "empty list stored");
            assert_eq!(l.iter().count(), l.len(), "list length");
            assert_eq!(l.iter_rev_from(-1).count(), l.len(), "list length, backwards");
            let mut in_nodes = 0;
            for lp in l.node_listpacks() {
                assert!(!lp.is_empty(), "empty quicklist node");
                listpack::validate(lp.as_bytes(), true).expect("quicklist node");
                in_nodes += lp.len();
            }
            assert_eq!(in_nodes, l.len(), "list length against its nodes");
            for i in [0, -1, l.len() as i64 / 2] {
                assert!(l.get(i).is_some(), "list index {i} of {}", l.len());
            }
        }
        Value::Hash(h) => {
            assert!(!h.is_empty(), "empty hash stored");
            if let Hash::Lp(lp) = h {
                listpack::validate(lp.as_bytes(), true).expect("hash listpack");
                assert_eq!(lp.len() % 2, 0, "hash listpack of pairs");
            }
            let mut pairs = Vec::new();
            h.for_each(|f, v| pairs.push((f.to_vec(), v.to_vec())));
            assert_eq!(pairs.len(), h.len(), "hash length");
            if strict {
                let fields: HashSet<&[u8]> = pairs.iter().map(|p| p.0.as_slice()).collect();
                assert_eq!(fields.len(), pairs.len(), "hash fields unique");
                for (f, val) in pairs.iter().take(LOOKUPS_MAX) {
                    assert_eq!(h.get(f).as_deref(), Some(val.as_slice()), "hash lookup");
                }
            }
        }
        Value::Set(s) => {
            assert!(!s.is_empty(), "empty set stored");
            let members = s.members();
            assert_eq!(members.len(), s.len(), "set length");
            if let Set::Int(is) = s {
                assert!(is.iter().zip(is.iter().skip(1)).all(|(a, b)| a < b), "intset order");
            }
            if strict {
                let unique: HashSet<&[u8]> = members.iter().map(|m| m.as_slice()).collect();
                assert_eq!(unique.len(), members.len(), "set members unique");
                for m in members.iter().take(LOOKUPS_MAX) {
                    assert!(s.contains(m), "set lookup");
                }
            }
        }
        Value::ZSet(z) => {
            assert!(!z.is_empty(), "empty sorted set stored");
            if let ZSet::Lp(lp) = z {
                listpack::validate(lp.as_bytes(), true).expect("sorted set listpack");
                assert_eq!(lp.len() % 2, 0, "sorted set listpack of pairs");
            }
            let items: Vec<(f64, Vec<u8>)> = z.iter_from(0, false).map(|(s, m)| (s, m.into_owned())).collect();
            assert_eq!(items.len(), z.len(), "sorted set length");
            assert_eq!(z.iter_from(0, true).count(), z.len(), "sorted set length, backwards");
            assert!(items.iter().all(|(s, _)| !s.is_nan()), "NaN score");
            if strict {
                for w in items.windows(2) {
                    let (a, b) = (&w[0], &w[1]);
                    assert!(a.0 < b.0 || (a.0 == b.0 && a.1 < b.1), "sorted set out of order: {:?} before {:?}", a, b);
                }
                for (i, (s, m)) in items.iter().enumerate().take(LOOKUPS_MAX) {
                    assert_eq!(z.score(m), Some(*s), "score lookup");
                    assert_eq!(z.rank(m, false), Some(i), "rank lookup");
                }
            }
        }
    }
}
