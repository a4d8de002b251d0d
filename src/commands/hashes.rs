//! Hash commands: HSET HSETNX HGET HMGET HMSET HGETALL HDEL HEXISTS HLEN
//! HSTRLEN HKEYS HVALS HINCRBY HINCRBYFLOAT HRANDFIELD HSCAN, on
//! `Value::Hash` (a listpack while small, a hash table beyond the configured
//! limits).
//!
//! Invariant: a hash converts only from listpack to table and only when it is
//! written, by Redis's rules (the strings about to be written are checked
//! against `hash-max-listpack-value` before inserting, the pair count against
//! `hash-max-listpack-entries` after); a hash left empty is deleted by the
//! command that emptied it. Replies are written straight from the stored
//! entries, never from copies.

use super::flags::*;
use super::keys::{arg_cursor, empty_scan, scan_options, scan_reply, scan_table, ScanOpts};
use super::notify;
use super::table::Command;
use super::typed::{as_hash, as_hash_mut, hash_limits, read_as, remove_each, write_or_create};
use super::{arg_i64, Ctx, NOT_FLOAT, OVERFLOW};
use crate::keyspace::hash::{Hash, HashLimits, SetResult};
use crate::keyspace::listpack::LpVal;
use crate::keyspace::Value;
use crate::protocol::ReplyBuf;
use crate::state::Rng;
use crate::util::{eq_ic, itoa, ld_add, ld_valid, parse_i64, LdError};
use std::collections::HashSet;

pub const COMMANDS: &[Command] = &[
    Command::new("hset", -4, WRITE | DENYOOM | FAST, hset).keys(1, 1, 1),
    Command::new("hmset", -4, WRITE | DENYOOM | FAST, hset).keys(1, 1, 1),
    Command::new("hsetnx", 4, WRITE | DENYOOM | FAST, hsetnx).keys(1, 1, 1),
    Command::new("hget", 3, READONLY | FAST, hget).keys(1, 1, 1),
    Command::new("hmget", -3, READONLY | FAST, hmget).keys(1, 1, 1),
    Command::new("hgetall", 2, READONLY, hgetall).keys(1, 1, 1),
    Command::new("hkeys", 2, READONLY, hkeys).keys(1, 1, 1),
    Command::new("hvals", 2, READONLY, hvals).keys(1, 1, 1),
    Command::new("hdel", -3, WRITE | FAST, hdel).keys(1, 1, 1),
    Command::new("hexists", 3, READONLY | FAST, hexists).keys(1, 1, 1),
    Command::new("hlen", 2, READONLY | FAST, hlen).keys(1, 1, 1),
    Command::new("hstrlen", 3, READONLY | FAST, hstrlen).keys(1, 1, 1),
    Command::new("hincrby", 4, WRITE | DENYOOM | FAST, hincrby).keys(1, 1, 1),
    Command::new("hincrbyfloat", 4, WRITE | DENYOOM | FAST, hincrbyfloat).keys(1, 1, 1),
    Command::new("hrandfield", -2, READONLY, hrandfield).keys(1, 1, 1),
    Command::new("hscan", -3, READONLY, hscan).keys(1, 1, 1),
];

const NOT_INT_VALUE: &str = "ERR hash value is not an integer";
const NOT_FLOAT_VALUE: &str = "ERR hash value is not a float";
const NOT_FINITE_RESULT: &str = "ERR increment would produce NaN or Infinity";
const NOT_FINITE_INCR: &str = "ERR value is NaN or Infinity";
const COUNT_RANGE: &str = "ERR value is out of range, value must between -9223372036854775807 and 9223372036854775807";
const PAIRS_RANGE: &str = "ERR value is out of range";

/// A listpack is never let grow past this many bytes (Redis's
/// LISTPACK_MAX_SAFETY_SIZE): a write that could cross it converts first.
const LISTPACK_SAFETY: usize = 1 << 30;

/// HRANDFIELD without repetition builds its pick by removal when the hash
/// has fewer than this many times the fields asked for, else by drawing.
const SUB_STRATEGY_MUL: usize = 3;

fn new_hash() -> Value {
    Value::Hash(Hash::new())
}

/// Replies one stored string (integers of the listpack form as text).
#[inline]
fn bulk_val(out: &mut ReplyBuf, v: LpVal) {
    match v {
        LpVal::Str(s) => out.bulk(s),
        LpVal::Int(n) => out.bulk(itoa(n).as_bytes()),
    }
}

/// Converts a listpack hash before `args` (fields and values) are written
/// to it when one of them is longer than the value limit, or when together
/// they could push the listpack past its safety size.
fn convert_for_args(h: &mut Hash, args: &[&[u8]], lim: HashLimits) {
    let Hash::Lp(lp) = h else { return };
    let used = lp.bytes_len();
    let mut sum = 0usize;
    for a in args {
        if a.len() > lim.value {
            return h.to_table();
        }
        sum += a.len();
    }
    if used + sum > LISTPACK_SAFETY {
        h.to_table();
    }
}

/// The read lookup of the commands that need more of the state than the
/// value (the random source, options parsed after the lookup): `Err` after
/// replying WRONGTYPE, else whether the hash exists. The value is then had
/// with `peek_hash`.
fn lookup_hash(ctx: &mut Ctx, key: &[u8]) -> Result<bool, ()> {
    read_as(ctx, key, as_hash).map(|(h, _)| h.is_some())
}

// ---------------------------------------------------------------------------
// Writes

/// HSET and HMSET (which replies OK instead of the count of new fields).
fn hset(ctx: &mut Ctx, args: &[&[u8]]) {
    if args.len() % 2 == 1 {
        return ctx.arity_error();
    }
    let key = args[1];
    let lim = hash_limits(ctx);
    let Ok(h) = write_or_create(ctx, key, new_hash, as_hash_mut) else {
        return;
    };
    convert_for_args(h, &args[2..], lim);
    let mut created = 0;
    for p in args[2..].chunks_exact(2) {
        if h.set(p[0], p[1], lim) == SetResult::Inserted {
            created += 1;
        }
    }
    if ctx.name == "hset" {
        ctx.out.int(created);
    } else {
        ctx.out.ok();
    }
    ctx.changed(key, notify::HASH, "hset");
    // Redis counts one change per pair written.
    ctx.dirty += (args.len() as u64 - 2) / 2 - 1;
}

fn hsetnx(ctx: &mut Ctx, args: &[&[u8]]) {
    let (key, field, value) = (args[1], args[2], args[3]);
    let lim = hash_limits(ctx);
    let Ok(h) = write_or_create(ctx, key, new_hash, as_hash_mut) else {
        return;
    };
    if h.contains(field) {
        return ctx.out.int(0);
    }
    convert_for_args(h, &[field, value], lim);
    h.set(field, value, lim);
    ctx.out.int(1);
    ctx.changed(key, notify::HASH, "hset");
}

fn hdel(ctx: &mut Ctx, args: &[&[u8]]) {
    remove_each(ctx, args[1], &args[2..], as_hash_mut, notify::HASH, "hdel", |h, f| h.remove(f), Hash::is_empty);
}

fn hincrby(ctx: &mut Ctx, args: &[&[u8]]) {
    let (key, field) = (args[1], args[2]);
    // The increment is checked before the key is even looked up.
    let Some(incr) = arg_i64(ctx, args[3]) else {
        return;
    };
    let lim = hash_limits(ctx);
    // Creating the key up front is safe: a missing field counts as 0, and
    // 0 plus any increment neither fails nor overflows.
    let Ok(h) = write_or_create(ctx, key, new_hash, as_hash_mut) else {
        return;
    };
    let cur = match h.get_val(field) {
        None => 0,
        Some(LpVal::Int(n)) => n,
        Some(LpVal::Str(s)) => match parse_i64(s) {
            Some(n) => n,
            None => return ctx.err(NOT_INT_VALUE),
        },
    };
    let Some(new) = cur.checked_add(incr) else {
        return ctx.err(OVERFLOW);
    };
    h.set(field, itoa(new).as_bytes(), lim);
    ctx.out.int(new);
    ctx.changed(key, notify::HASH, "hincrby");
}

/// Whether `b`, already known to parse as a long double, parses as an
/// infinity: with strtold's grammar only the spelled-out forms can (a
/// number too large to represent is refused as out of range instead).
fn spells_infinity(b: &[u8]) -> bool {
    let b = b.strip_prefix(b"+").or_else(|| b.strip_prefix(b"-")).unwrap_or(b);
    eq_ic(b, b"inf") || eq_ic(b, b"infinity")
}

fn hincrbyfloat(ctx: &mut Ctx, args: &[&[u8]]) {
    let (key, field, incr) = (args[1], args[2], args[3]);
    if !ld_valid(incr) {
        return ctx.err(NOT_FLOAT);
    }
    if spells_infinity(incr) {
        return ctx.err(NOT_FINITE_INCR);
    }
    let lim = hash_limits(ctx);
    // As in HINCRBY, creating first is safe: 0 plus a finite increment is
    // finite.
    let Ok(h) = write_or_create(ctx, key, new_hash, as_hash_mut) else {
        return;
    };
    let sum = match h.get_val(field) {
        None => ld_add(None, incr),
        Some(LpVal::Int(n)) => ld_add(Some(itoa(n).as_bytes()), incr),
        Some(LpVal::Str(s)) => ld_add(Some(s), incr),
    };
    let sum = match sum {
        Ok(s) => s,
        // The increment parsed above, so it is the stored value that did not.
        Err(LdError::NotFloat) => return ctx.err(NOT_FLOAT_VALUE),
        Err(LdError::NotFinite) => return ctx.err(NOT_FINITE_RESULT),
    };
    h.set(field, &sum, lim);
    ctx.out.bulk(&sum);
    ctx.changed(key, notify::HASH, "hincrbyfloat");
    // Replicas and the AOF get the result, not the float arithmetic.
    ctx.rewrite(vec![b"HSET".to_vec(), key.to_vec(), field.to_vec(), sum]);
}

// ---------------------------------------------------------------------------
// Reads

fn hget(ctx: &mut Ctx, args: &[&[u8]]) {
    let Ok((h, out)) = read_as(ctx, args[1], as_hash) else {
        return;
    };
    match h.and_then(|h| h.get_val(args[2])) {
        Some(v) => bulk_val(out, v),
        None => out.null(),
    }
}

fn hmget(ctx: &mut Ctx, args: &[&[u8]]) {
    let Ok((h, out)) = read_as(ctx, args[1], as_hash) else {
        return;
    };
    out.array(args.len() - 2);
    for f in &args[2..] {
        match h.and_then(|h| h.get_val(f)) {
            Some(v) => bulk_val(out, v),
            None => out.null(),
        }
    }
}

/// HGETALL (a map), HKEYS and HVALS (arrays).
fn reply_all(ctx: &mut Ctx, key: &[u8], fields: bool, values: bool) {
    let Ok((h, out)) = read_as(ctx, key, as_hash) else {
        return;
    };
    let n = h.map_or(0, Hash::len);
    if fields && values {
        out.map(n);
    } else {
        out.array(n);
    }
    if let Some(h) = h {
        h.for_each_val(|f, v| {
            if fields {
                bulk_val(out, f);
            }
            if values {
                bulk_val(out, v);
            }
        });
    }
}

fn hgetall(ctx: &mut Ctx, args: &[&[u8]]) {
    reply_all(ctx, args[1], true, true);
}

fn hkeys(ctx: &mut Ctx, args: &[&[u8]]) {
    reply_all(ctx, args[1], true, false);
}

fn hvals(ctx: &mut Ctx, args: &[&[u8]]) {
    reply_all(ctx, args[1], false, true);
}

fn hexists(ctx: &mut Ctx, args: &[&[u8]]) {
    let Ok((h, out)) = read_as(ctx, args[1], as_hash) else {
        return;
    };
    out.int(h.is_some_and(|h| h.contains(args[2])) as i64);
}

fn hlen(ctx: &mut Ctx, args: &[&[u8]]) {
    let Ok((h, out)) = read_as(ctx, args[1], as_hash) else {
        return;
    };
    out.int(h.map_or(0, Hash::len) as i64);
}

fn hstrlen(ctx: &mut Ctx, args: &[&[u8]]) {
    let Ok((h, out)) = read_as(ctx, args[1], as_hash) else {
        return;
    };
    out.int(h.and_then(|h| h.value_len(args[2])).unwrap_or(0) as i64);
}

// ---------------------------------------------------------------------------
// HRANDFIELD

/// A uniformly drawn index below `n` (> 0).
#[inline]
fn draw(rng: &mut Rng, n: usize) -> usize {
    (rng.next_u64() % n as u64) as usize
}

/// One picked pair: the field alone, or with its value (a 2-element array in
/// RESP3, two flat elements in RESP2).
#[inline]
fn reply_pick(out: &mut ReplyBuf, f: LpVal, v: LpVal, with_values: bool) {
    if with_values && out.resp3() {
        out.array(2);
    }
    bulk_val(out, f);
    if with_values {
        bulk_val(out, v);
    }
}

/// Header of a reply of `n` picks.
fn picks_header(out: &mut ReplyBuf, n: u64, with_values: bool) {
    let flat = if with_values && !out.resp3() { 2 * n } else { n };
    out.array(flat as usize);
}

fn hrandfield(ctx: &mut Ctx, args: &[&[u8]]) {
    let key = args[1];
    if args.len() >= 3 {
        // The count and options are checked before the key is looked up.
        let Some(count) = arg_i64(ctx, args[2]) else {
            return;
        };
        if count == i64::MIN {
            return ctx.err(COUNT_RANGE);
        }
        let with_values = match args {
            [_, _, _] => false,
            [_, _, _, opt] if eq_ic(opt, b"withvalues") => true,
            _ => return ctx.syntax(),
        };
        // Twice the count must still fit a signed 64-bit reply length.
        if with_values && !(-(i64::MAX / 2)..=i64::MAX / 2).contains(&count) {
            return ctx.err(PAIRS_RANGE);
        }
        return hrandfield_count(ctx, key, count, with_values);
    }
    match lookup_hash(ctx, key) {
        Err(()) => return,
        Ok(false) => return ctx.out.null(),
        Ok(true) => {}
    }
    let st = &mut *ctx.st;
    let out = &mut *ctx.out;
    let Some(h) = st.keyspace.dbs[ctx.db].peek(key).and_then(|e| as_hash(&e.value)) else {
        return out.null();
    };
    let rng = &mut st.rng;
    match h {
        Hash::Lp(lp) => {
            let i = draw(rng, h.len().max(1));
            match lp.seek(2 * i as i64) {
                Some(o) => bulk_val(out, lp.get(o)),
                None => out.null(),
            }
        }
        Hash::Table(d) => match d.random(|| rng.next_u64()) {
            Some(fv) => out.bulk(&fv.field),
            None => out.null(),
        },
    }
}

/// HRANDFIELD with a count, by Redis's cases: a negative count draws with
/// repetition; a count at least the size gives the whole hash; otherwise
/// distinct fields, chosen in one pass over a listpack, or for a table by
/// removing random fields from a copy of the index (count close to the
/// size) or by drawing until enough distinct ones came (count small).
/// Nothing is allocated in proportion to the count before it is known to
/// be below the size.
fn hrandfield_count(ctx: &mut Ctx, key: &[u8], count: i64, with_values: bool) {
    match lookup_hash(ctx, key) {
        Err(()) => return,
        Ok(false) => return ctx.out.array(0),
        Ok(true) => {}
    }
    let st = &mut *ctx.st;
    let out = &mut *ctx.out;
    let Some(h) = st.keyspace.dbs[ctx.db].peek(key).and_then(|e| as_hash(&e.value)) else {
        return out.array(0);
    };
    let rng = &mut st.rng;
    let size = h.len();
    let (n, distinct) = (count.unsigned_abs(), count >= 0);
    if n == 0 || size == 0 {
        return out.array(0);
    }

    if !distinct || n == 1 {
        picks_header(out, n, with_values);
        match h {
            Hash::Lp(_) => {
                // Random access into a listpack is a walk: index it once.
                let mut pairs = Vec::with_capacity(size);
                h.for_each_val(|f, v| pairs.push((f, v)));
                for _ in 0..n {
                    let (f, v) = pairs[draw(rng, pairs.len())];
                    reply_pick(out, f, v, with_values);
                }
            }
            Hash::Table(d) => {
                for _ in 0..n {
                    match d.random(|| rng.next_u64()) {
                        Some(fv) => reply_pick(out, LpVal::Str(&fv.field), LpVal::Str(&fv.value), with_values),
                        None => break,
                    }
                }
            }
        }
        return;
    }

    picks_header(out, n.min(size as u64), with_values);
    if n >= size as u64 {
        return h.for_each_val(|f, v| reply_pick(out, f, v, with_values));
    }
    let n = n as usize;
    match h {
        Hash::Lp(_) => {
            // Selection sampling: each pair is taken with probability
            // (still needed) / (still left), which yields exactly n.
            let (mut need, mut left) = (n, size);
            h.for_each_val(|f, v| {
                if need > 0 && draw(rng, left) < need {
                    reply_pick(out, f, v, with_values);
                    need -= 1;
                }
                left -= 1;
            });
        }
        Hash::Table(d) if n * SUB_STRATEGY_MUL > size => {
            let mut all: Vec<_> = d.iter().collect();
            while all.len() > n {
                let i = draw(rng, all.len());
                all.swap_remove(i);
            }
            for fv in all {
                reply_pick(out, LpVal::Str(&fv.field), LpVal::Str(&fv.value), with_values);
            }
        }
        Hash::Table(d) => {
            let mut seen: HashSet<&[u8]> = HashSet::with_capacity(n);
            while seen.len() < n {
                let Some(fv) = d.random(|| rng.next_u64()) else { break };
                if seen.insert(fv.field.as_bytes()) {
                    reply_pick(out, LpVal::Str(&fv.field), LpVal::Str(&fv.value), with_values);
                }
            }
        }
    }
}

// ---------------------------------------------------------------------------
// HSCAN

/// Whether a stored field passes the MATCH filter.
fn field_matches(opts: &ScanOpts, f: LpVal) -> bool {
    match f {
        LpVal::Str(s) => opts.matches(s),
        LpVal::Int(n) => opts.matches(itoa(n).as_bytes()),
    }
}

/// HSCAN: a listpack hash is returned whole with cursor 0 (cursor and
/// COUNT ignored); a table is walked by `scan_table`, a pair counting as two
/// elements. MATCH filters on fields; a pair passes or goes as one.
fn hscan(ctx: &mut Ctx, args: &[&[u8]]) {
    let key = args[1];
    let Some(cursor) = arg_cursor(ctx, args[2]) else {
        return;
    };
    match lookup_hash(ctx, key) {
        Err(()) => return,
        Ok(false) => return empty_scan(ctx.out),
        Ok(true) => {}
    }
    // Options are only looked at for an existing hash, as in Redis.
    let Some(opts) = scan_options(ctx, &args[3..], false) else {
        return;
    };
    let out = &mut *ctx.out;
    let Some(h) = ctx.st.keyspace.dbs[ctx.db].peek(key).and_then(|e| as_hash(&e.value)) else {
        return empty_scan(out);
    };
    // The pairs go to a side buffer: the cursor, which comes first in the
    // reply, is only known at the end.
    let mut items = ReplyBuf::new(out.proto);
    let mut n = 0;
    let next = match h {
        Hash::Lp(_) => {
            h.for_each_val(|f, v| {
                if field_matches(&opts, f) {
                    bulk_val(&mut items, f);
                    bulk_val(&mut items, v);
                    n += 2;
                }
            });
            0
        }
        Hash::Table(d) => scan_table(d, cursor, opts.count, 2, |fv| {
            if opts.matches(&fv.field) {
                items.bulk(&fv.field);
                items.bulk(&fv.value);
                n += 2;
            }
        }),
    };
    scan_reply(out, next, &items, n);
}
