//! Set commands: SADD SREM SMOVE SISMEMBER SMISMEMBER SCARD SMEMBERS SPOP
//! SRANDMEMBER, the algebra SINTER SUNION SDIFF with their STORE forms,
//! SINTERCARD and SSCAN, on `Value::Set` (an intset while every member is an
//! integer and there are few of them, else a hash table).
//!
//! Computed sets (the STORE forms, SUNION, SDIFF, SPOP of a whole set) are
//! built as Redis builds them, from an empty intset that converts as members
//! arrive, so their encoding, and for intsets their order, are Redis's.
//! SINTER replies while walking its smallest input, as Redis does, so its
//! order is that input's.
//!
//! Invariant: no set in the keyspace is empty, and the random commands never
//! propagate themselves: SPOP goes to the write path as the SREM of each
//! member it took, or as DEL of a key it emptied whole.

use super::flags::*;
use super::keys::{arg_cursor, empty_scan, scan_options, scan_reply, scan_table};
use super::notify;
use super::table::Command;
use super::typed::{
    as_set, as_set_mut, delete_if_empty, intset_max, read_as, remove_each, store, write_as, write_or_create,
};
use super::{Ctx, NOT_INT, WRONGTYPE};
use crate::keyspace::listpack::LpVal;
use crate::keyspace::set::Set;
use crate::keyspace::Value;
use crate::protocol::ReplyBuf;
use crate::state::Rng;
use crate::util::{itoa, kw_eq, parse_i64};

pub const COMMANDS: &[Command] = &[
    Command::new("sadd", -3, WRITE | DENYOOM | FAST, sadd).keys(1, 1, 1),
    Command::new("srem", -3, WRITE | FAST, srem).keys(1, 1, 1),
    Command::new("smove", 4, WRITE | FAST, smove).keys(1, 2, 1),
    Command::new("sismember", 3, READONLY | FAST, sismember).keys(1, 1, 1),
    Command::new("smismember", -3, READONLY | FAST, smismember).keys(1, 1, 1),
    Command::new("scard", 2, READONLY | FAST, scard).keys(1, 1, 1),
    Command::new("smembers", 2, READONLY, sinter).keys(1, 1, 1),
    Command::new("spop", -2, WRITE | FAST, spop).keys(1, 1, 1),
    Command::new("srandmember", -2, READONLY, srandmember).keys(1, 1, 1),
    Command::new("sinter", -2, READONLY, sinter).keys(1, -1, 1),
    Command::new("sinterstore", -3, WRITE | DENYOOM, sinterstore).keys(1, -1, 1),
    Command::new("sintercard", -3, READONLY | MOVABLE_KEYS, sintercard),
    Command::new("sunion", -2, READONLY, sunion).keys(1, -1, 1),
    Command::new("sunionstore", -3, WRITE | DENYOOM, sunionstore).keys(1, -1, 1),
    Command::new("sdiff", -2, READONLY, sdiff).keys(1, -1, 1),
    Command::new("sdiffstore", -3, WRITE | DENYOOM, sdiffstore).keys(1, -1, 1),
    Command::new("sscan", -3, READONLY, sscan).keys(1, 1, 1),
];

const COUNT_NOT_POSITIVE: &str = "ERR value is out of range, must be positive";
const COUNT_RANGE: &str = "ERR value is out of range, value must between -9223372036854775807 and 9223372036854775807";

/// SPOP with a count removes the members one by one while the members left
/// behind are more than this many times the count; closer to the size it
/// instead picks the members to keep, and takes the rest.
const SPOP_MOVE_STRATEGY_MUL: usize = 5;

/// SRANDMEMBER without repetition builds its pick by removal when the set
/// has fewer than this many times the members asked for, else by drawing.
const SRANDMEMBER_SUB_STRATEGY_MUL: usize = 3;

/// Replies one member as stored (intset members formatted on the stack).
#[inline]
fn bulk_val(out: &mut ReplyBuf, v: LpVal) {
    match v {
        LpVal::Str(s) => out.bulk(s),
        LpVal::Int(n) => out.bulk_int(n),
    }
}

#[inline]
fn draw(rng: &mut Rng, n: usize) -> usize {
    (rng.next_u64() % n as u64) as usize
}

/// The write lookup of the random commands: the set (if any), with the
/// random source and the reply buffer lent alongside. `Err` after
/// replying WRONGTYPE.
#[allow(clippy::type_complexity)]
fn set_with_rng<'c>(ctx: &'c mut Ctx, key: &[u8]) -> Result<(Option<&'c mut Set>, &'c mut Rng, &'c mut ReplyBuf), ()> {
    let (now, db) = (ctx.now, ctx.db);
    let st = &mut *ctx.st;
    let out = &mut *ctx.out;
    match st.keyspace.dbs[db].get_mut(key, now).map(|e| &mut e.value) {
        None => Ok((None, &mut st.rng, out)),
        Some(Value::Set(s)) => Ok((Some(s), &mut st.rng, out)),
        Some(_) => {
            out.error(WRONGTYPE);
            Err(())
        }
    }
}

/// Read lookups of `keys` in order, as the multi-key commands make them
/// (hits, misses, lazy expiry), stopping at the first key of another type
/// with WRONGTYPE: a missing key before it does not spare the error.
fn lookup_all(ctx: &mut Ctx, keys: &[&[u8]]) -> Result<(), ()> {
    for k in keys {
        read_as(ctx, k, as_set)?;
    }
    Ok(())
}

/// The sets at `keys` after `lookup_all`, `None` for a missing key.
fn peek_all<'d>(db: &'d crate::keyspace::Db, keys: &[&[u8]]) -> Vec<Option<&'d Set>> {
    keys.iter().map(|k| db.peek(k).and_then(|e| as_set(&e.value))).collect()
}

// ---------------------------------------------------------------------------
// Single-key writes

fn sadd(ctx: &mut Ctx, args: &[&[u8]]) {
    let key = args[1];
    let max = intset_max(ctx);
    let Ok(s) = write_or_create(ctx, key, || Value::Set(Set::for_member(args[2])), as_set_mut) else {
        return;
    };
    let added = args[2..].iter().filter(|m| s.insert(m, max)).count() as u64;
    // Events first, then the reply, as Redis orders them.
    if added > 0 {
        ctx.changed(key, notify::SET, "sadd");
        ctx.dirty += added - 1;
    }
    ctx.out.int(added as i64);
}

fn srem(ctx: &mut Ctx, args: &[&[u8]]) {
    remove_each(ctx, args[1], &args[2..], as_set_mut, notify::SET, "srem", |s, m| s.remove(m), Set::is_empty);
}

/// SMOVE src dst member. A missing source answers 0 before either type is
/// checked; a move within one key only says whether the member is there.
fn smove(ctx: &mut Ctx, args: &[&[u8]]) {
    let (src, dst, m) = (args[1], args[2], args[3]);
    let now = ctx.now;
    let db = &mut ctx.st.keyspace.dbs[ctx.db];
    let src_is_set = db.get(src, now).map(|e| matches!(e.value, Value::Set(_)));
    let dst_is_set = db.get(dst, now).map(|e| matches!(e.value, Value::Set(_)));
    match (src_is_set, dst_is_set) {
        (None, _) => return ctx.out.int(0),
        (Some(false), _) | (_, Some(false)) => return ctx.wrongtype(),
        _ => {}
    }
    if src == dst {
        let db = &ctx.st.keyspace.dbs[ctx.db];
        let here = db.peek(src).and_then(|e| as_set(&e.value)).is_some_and(|s| s.contains(m));
        return ctx.out.int(here as i64);
    }
    let removed = match write_as(ctx, src, as_set_mut) {
        Ok(Some(s)) => s.remove(m),
        _ => false,
    };
    if !removed {
        return ctx.out.int(0);
    }
    ctx.changed(src, notify::SET, "srem");
    delete_if_empty(ctx, src);
    let max = intset_max(ctx);
    let Ok(d) = write_or_create(ctx, dst, || Value::Set(Set::for_member(m)), as_set_mut) else {
        return;
    };
    if d.insert(m, max) {
        ctx.changed(dst, notify::SET, "sadd");
    } else {
        ctx.st.keyspace.dbs[ctx.db].touch(dst);
    }
    ctx.out.int(1);
}

// ---------------------------------------------------------------------------
// Single-key reads

fn sismember(ctx: &mut Ctx, args: &[&[u8]]) {
    let Ok((s, out)) = read_as(ctx, args[1], as_set) else {
        return;
    };
    out.int(s.is_some_and(|s| s.contains(args[2])) as i64);
}

fn smismember(ctx: &mut Ctx, args: &[&[u8]]) {
    let Ok((s, out)) = read_as(ctx, args[1], as_set) else {
        return;
    };
    out.array(args.len() - 2);
    for m in &args[2..] {
        out.int(s.is_some_and(|s| s.contains(m)) as i64);
    }
}

fn scard(ctx: &mut Ctx, args: &[&[u8]]) {
    let Ok((s, out)) = read_as(ctx, args[1], as_set) else {
        return;
    };
    out.int(s.map_or(0, Set::len) as i64);
}

// ---------------------------------------------------------------------------
// SPOP and SRANDMEMBER

/// Parses SPOP's count: a non-negative integer (anything else gets the
/// one error).
fn positive_count(ctx: &mut Ctx, a: &[u8]) -> Option<usize> {
    match parse_i64(a) {
        Some(n) if n >= 0 => Some(n as usize),
        _ => {
            ctx.err(COUNT_NOT_POSITIVE);
            None
        }
    }
}

fn spop(ctx: &mut Ctx, args: &[&[u8]]) {
    match args.len() {
        2 => {}
        3 => return spop_count(ctx, args),
        _ => return ctx.syntax(),
    }
    let key = args[1];
    let m = match set_with_rng(ctx, key) {
        Err(()) => return,
        Ok((None, _, out)) => return out.null(),
        Ok((Some(s), rng, _)) => s.pop_random(|| rng.next_u64()),
    };
    let Some(m) = m else {
        return ctx.out.null();
    };
    ctx.changed(key, notify::SET, "spop");
    ctx.out.bulk(&m);
    delete_if_empty(ctx, key);
    ctx.rewrite(vec![b"SREM".to_vec(), key.to_vec(), m]);
}

/// SPOP key count, by Redis's three cases: the whole set (propagated as
/// DEL), a few members drawn one by one, or, when few are to stay, the
/// members to keep drawn into a new set and the rest taken. The last two
/// propagate one SREM per member taken.
fn spop_count(ctx: &mut Ctx, args: &[&[u8]]) {
    let key = args[1];
    let Some(count) = positive_count(ctx, args[2]) else {
        return;
    };
    let size = match set_with_rng(ctx, key) {
        Err(()) => return,
        Ok((None, _, out)) => return out.set(0),
        Ok((Some(s), _, _)) => s.len(),
    };
    if count == 0 {
        return ctx.out.set(0);
    }
    ctx.notify(notify::SET, "spop", key);
    if count >= size {
        // The whole set goes out as SUNION of it would reply it.
        reply_computed(ctx, &[key], Algebra::Union, None);
        let db = &mut ctx.st.keyspace.dbs[ctx.db];
        if let Some(e) = db.remove(key) {
            ctx.st.keyspace.lazyfree.drop_entry(e);
        }
        ctx.notify(notify::GENERIC, "del", key);
        ctx.st.keyspace.dbs[ctx.db].touch(key);
        ctx.dirty += 1;
        return ctx.rewrite(vec![b"DEL".to_vec(), key.to_vec()]);
    }
    let remaining = size - count;
    let max = intset_max(ctx);
    let Ok((Some(s), rng, out)) = set_with_rng(ctx, key) else {
        return;
    };
    out.set(count);
    let mut taken: Vec<Vec<u8>> = Vec::with_capacity(count);
    if remaining * SPOP_MOVE_STRATEGY_MUL > count {
        for _ in 0..count {
            let Some(m) = s.pop_random(|| rng.next_u64()) else { break };
            out.bulk(&m);
            taken.push(m);
        }
    } else {
        let mut kept: Option<Set> = None;
        for _ in 0..remaining {
            let Some(m) = s.pop_random(|| rng.next_u64()) else { break };
            kept.get_or_insert_with(|| Set::for_member(&m)).insert(&m, max);
        }
        s.for_each_val(|v| {
            bulk_val(out, v);
            taken.push(v.to_bytes().into_owned());
        });
        let mut kept = kept.unwrap_or_else(Set::new_int);
        std::mem::swap(s, &mut kept);
        ctx.st.keyspace.lazyfree.drop_value(Value::Set(kept));
    }
    ctx.st.keyspace.dbs[ctx.db].touch(key);
    ctx.dirty += 1;
    for m in taken {
        ctx.rewrite(vec![b"SREM".to_vec(), key.to_vec(), m]);
    }
}

fn srandmember(ctx: &mut Ctx, args: &[&[u8]]) {
    match args.len() {
        2 => {}
        3 => return srandmember_count(ctx, args),
        _ => return ctx.syntax(),
    }
    let Ok((s, _)) = read_as(ctx, args[1], as_set) else {
        return;
    };
    let found = s.is_some();
    let st = &mut *ctx.st;
    let out = &mut *ctx.out;
    let s = if found { st.keyspace.dbs[ctx.db].peek(args[1]).and_then(|e| as_set(&e.value)) } else { None };
    let rng = &mut st.rng;
    match s.and_then(|s| s.random(|| rng.next_u64())) {
        Some(v) => bulk_val(out, v),
        None => out.null(),
    }
}

/// SRANDMEMBER key count, by Redis's cases: a negative count draws with
/// repetition; a count at least the size gives the whole set; otherwise
/// distinct members, by removing random members from a copy (count close
/// to the size) or by drawing until enough distinct ones came. Nothing is
/// allocated in proportion to the count before it is known to be below
/// the size.
fn srandmember_count(ctx: &mut Ctx, args: &[&[u8]]) {
    let key = args[1];
    let Some(count) = parse_i64(args[2]) else {
        return ctx.err(NOT_INT);
    };
    if count == i64::MIN {
        return ctx.err(COUNT_RANGE);
    }
    let Ok((s, out)) = read_as(ctx, key, as_set) else {
        return;
    };
    if s.is_none() {
        return out.array(0);
    }
    let st = &mut *ctx.st;
    let out = &mut *ctx.out;
    let Some(s) = st.keyspace.dbs[ctx.db].peek(key).and_then(|e| as_set(&e.value)) else {
        return out.array(0);
    };
    let rng = &mut st.rng;
    let (n, distinct) = (count.unsigned_abs(), count >= 0);
    let size = s.len();
    if n == 0 || size == 0 {
        return out.array(0);
    }
    if !distinct || n == 1 {
        out.array(n as usize);
        for _ in 0..n {
            match s.random(|| rng.next_u64()) {
                Some(v) => bulk_val(out, v),
                None => out.null(),
            }
        }
        return;
    }
    if n >= size as u64 {
        out.array(size);
        return s.for_each_val(|v| bulk_val(out, v));
    }
    let n = n as usize;
    out.array(n);
    if n * SRANDMEMBER_SUB_STRATEGY_MUL > size {
        let mut all = s.vals();
        while all.len() > n {
            let i = draw(rng, all.len());
            all.swap_remove(i);
        }
        all.into_iter().for_each(|v| bulk_val(out, v));
    } else {
        let mut seen = std::collections::HashSet::with_capacity(n);
        while seen.len() < n {
            let Some(v) = s.random(|| rng.next_u64()) else { break };
            if seen.insert(v.to_bytes()) {
                bulk_val(out, v);
            }
        }
    }
}

// ---------------------------------------------------------------------------
// Algebra

#[derive(Clone, Copy, PartialEq, Eq)]
enum Algebra {
    Union,
    Diff,
}

/// SINTER and SMEMBERS.
fn sinter(ctx: &mut Ctx, args: &[&[u8]]) {
    intersect(ctx, &args[1..], Target::Reply);
}

fn sinterstore(ctx: &mut Ctx, args: &[&[u8]]) {
    intersect(ctx, &args[2..], Target::Store(args[1]));
}

/// SINTERCARD numkeys key... [LIMIT n]; the arguments are checked before
/// any key is looked up.
fn sintercard(ctx: &mut Ctx, args: &[&[u8]]) {
    let numkeys = match parse_i64(args[1]) {
        Some(n) if n > 0 => n as usize,
        _ => return ctx.err("ERR numkeys should be greater than 0"),
    };
    if numkeys > args.len() - 2 {
        return ctx.err("ERR Number of keys can't be greater than number of args");
    }
    let mut limit = 0usize;
    let mut j = 2 + numkeys;
    while j < args.len() {
        if kw_eq(args[j], b"limit") && j + 1 < args.len() {
            j += 1;
            match parse_i64(args[j]) {
                Some(n) if n >= 0 => limit = n as usize,
                _ => return ctx.err("ERR LIMIT can't be negative"),
            }
        } else {
            return ctx.syntax();
        }
        j += 1;
    }
    intersect(ctx, &args[2..2 + numkeys], Target::Count(limit));
}

/// Where an intersection goes.
enum Target<'a> {
    Reply,
    Store(&'a [u8]),
    /// SINTERCARD: only the size, counting up to the limit (0: no limit).
    Count(usize),
}

/// The intersection of the sets at `keys`: the smallest is walked (ties
/// keep the order given) and each member checked in the others; a missing
/// key makes it empty at once.
fn intersect(ctx: &mut Ctx, keys: &[&[u8]], target: Target) {
    if lookup_all(ctx, keys).is_err() {
        return;
    }
    let max = intset_max(ctx);
    let db = &ctx.st.keyspace.dbs[ctx.db];
    let out = &mut *ctx.out;
    let sets = peek_all(db, keys);
    let mut order: Vec<(&[u8], &Set)> = Vec::with_capacity(keys.len());
    for (k, s) in keys.iter().zip(&sets) {
        match s {
            Some(s) => order.push((k, s)),
            None => {
                order.clear();
                break;
            }
        }
    }
    order.sort_by_key(|(_, s)| s.len());
    let in_all = |v: LpVal| {
        let (first_key, _) = order[0];
        order[1..].iter().all(|(k, s)| *k == first_key || s.contains_val(v))
    };
    let result = match target {
        Target::Reply => {
            if order.is_empty() {
                return out.set(0);
            }
            let d = out.begin_deferred(b'~');
            let mut n = 0;
            order[0].1.for_each_val(|v| {
                if in_all(v) {
                    bulk_val(out, v);
                    n += 1;
                }
            });
            return out.end_deferred(d, n);
        }
        Target::Count(limit) => {
            let mut n = 0;
            if let Some((_, first)) = order.first() {
                for v in first.vals() {
                    if in_all(v) {
                        n += 1;
                        if n == limit {
                            break;
                        }
                    }
                }
            }
            return out.int(n as i64);
        }
        Target::Store(dst) => {
            let mut result = Set::new_int();
            if let Some((_, first)) = order.first() {
                first.for_each_val(|v| {
                    if in_all(v) {
                        result.insert_val(v, max);
                    }
                });
            }
            (dst, result)
        }
    };
    store_result(ctx, result.0, result.1, "sinterstore");
}

/// Stores a computed set at `dst` and replies its size; an empty result
/// deletes `dst` instead (a change only if it existed).
fn store_result(ctx: &mut Ctx, dst: &[u8], result: Set, event: &str) {
    let len = result.len();
    if len > 0 {
        store(ctx, dst, Value::Set(result));
        ctx.out.int(len as i64);
        ctx.changed(dst, notify::SET, event);
    } else {
        ctx.out.int(0);
        let now = ctx.now;
        if ctx.st.keyspace.dbs[ctx.db].exists(dst, now) {
            store(ctx, dst, Value::Set(result));
            ctx.changed(dst, notify::GENERIC, "del");
        }
    }
}

fn sunion(ctx: &mut Ctx, args: &[&[u8]]) {
    reply_computed(ctx, &args[1..], Algebra::Union, None);
}

fn sunionstore(ctx: &mut Ctx, args: &[&[u8]]) {
    reply_computed(ctx, &args[2..], Algebra::Union, Some(args[1]));
}

fn sdiff(ctx: &mut Ctx, args: &[&[u8]]) {
    reply_computed(ctx, &args[1..], Algebra::Diff, None);
}

fn sdiffstore(ctx: &mut Ctx, args: &[&[u8]]) {
    reply_computed(ctx, &args[2..], Algebra::Diff, Some(args[1]));
}

/// The union or difference of the sets at `keys`, built as a new set;
/// replied as a set, or stored at `dst`.
fn reply_computed(ctx: &mut Ctx, keys: &[&[u8]], op: Algebra, dst: Option<&[u8]>) {
    if lookup_all(ctx, keys).is_err() {
        return;
    }
    let max = intset_max(ctx);
    let db = &ctx.st.keyspace.dbs[ctx.db];
    let sets = peek_all(db, keys);
    let result = match op {
        Algebra::Union => union(&sets, max),
        Algebra::Diff => difference(keys, &sets, max),
    };
    match dst {
        Some(dst) => {
            let event = if op == Algebra::Union { "sunionstore" } else { "sdiffstore" };
            store_result(ctx, dst, result, event);
        }
        None => {
            let out = &mut *ctx.out;
            out.set(result.len());
            result.for_each_val(|v| bulk_val(out, v));
            ctx.st.keyspace.lazyfree.drop_value(Value::Set(result));
        }
    }
}

fn union(sets: &[Option<&Set>], max: usize) -> Set {
    let mut r = Set::new_int();
    for s in sets.iter().flatten() {
        s.for_each_val(|v| {
            r.insert_val(v, max);
        });
    }
    r
}

/// The members of the first set in none of the others. Of Redis's two
/// ways, the cheaper for these sizes: probing every other set for each
/// member of the first, or copying the first and removing the others'
/// members. A key given again as another operand empties the result.
fn difference(keys: &[&[u8]], sets: &[Option<&Set>], max: usize) -> Set {
    let mut r = Set::new_int();
    let Some(Some(first)) = sets.first() else {
        return r;
    };
    if keys[1..].iter().zip(&sets[1..]).any(|(k, s)| s.is_some() && *k == keys[0]) {
        return r;
    }
    let others: Vec<&Set> = sets[1..].iter().flatten().copied().collect();
    let probe_work = (first.len() * (others.len() + 1)) / 2;
    let remove_work: usize = first.len() + others.iter().map(|s| s.len()).sum::<usize>();
    if probe_work <= remove_work {
        first.for_each_val(|v| {
            if !others.iter().any(|s| s.contains_val(v)) {
                r.insert_val(v, max);
            }
        });
    } else {
        first.for_each_val(|v| {
            r.insert_val(v, max);
        });
        for s in others {
            s.for_each_val(|v| {
                r.remove_val(v);
            });
            if r.is_empty() {
                break;
            }
        }
    }
    r
}

// ---------------------------------------------------------------------------
// SSCAN

/// SSCAN: an intset is returned whole with cursor 0 (cursor and COUNT
/// ignored); a table is walked by `scan_table`. Options are only looked at
/// for an existing set, as in Redis.
fn sscan(ctx: &mut Ctx, args: &[&[u8]]) {
    let key = args[1];
    let Some(cursor) = arg_cursor(ctx, args[2]) else {
        return;
    };
    match read_as(ctx, key, as_set) {
        Err(()) => return,
        Ok((None, out)) => return empty_scan(out),
        Ok((Some(_), _)) => {}
    }
    let Some(opts) = scan_options(ctx, &args[3..], false) else {
        return;
    };
    let out = &mut *ctx.out;
    let Some(s) = ctx.st.keyspace.dbs[ctx.db].peek(key).and_then(|e| as_set(&e.value)) else {
        return empty_scan(out);
    };
    let mut items = ReplyBuf::new(out.proto);
    let mut n = 0;
    let next = match s {
        Set::Int(_) => {
            s.for_each_val(|v| {
                let matched = match v {
                    LpVal::Int(i) => opts.matches(itoa(i).as_bytes()),
                    LpVal::Str(b) => opts.matches(b),
                };
                if matched {
                    bulk_val(&mut items, v);
                    n += 1;
                }
            });
            0
        }
        Set::Table(d) => scan_table(d, cursor, opts.count, 1, |m| {
            if opts.matches(&m.0) {
                items.bulk(&m.0);
                n += 1;
            }
        }),
    };
    scan_reply(out, next, &items, n);
}
