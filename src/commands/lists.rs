//! List commands: pushes and pops (with counts), ranges, index access,
//! LSET LREM LTRIM LINSERT LPOS, moves between lists (LMOVE, RPOPLPUSH),
//! LMPOP, and the blocking forms BLPOP BRPOP BLMOVE BRPOPLPUSH BLMPOP.
//!
//! Replies are written straight from the quicklist's listpack entries
//! (integers formatted on the stack), so reading a range allocates nothing
//! per element. A blocking form serves at once when it can and otherwise
//! registers the client with `blocking::block_on`; the waiter is served
//! later by running its command again (commands/blocking.rs), which is why
//! every blocking handler is written as "serve now, else wait". Pops are
//! propagated as their non-blocking forms, as Redis 7.0 writes them.
//!
//! Invariant: no list in the keyspace is empty; every path that removes
//! elements ends in `typed::delete_if_empty` (and its `del` event), after
//! the command's own list event. Calls that change nothing count no change,
//! send no event and leave WATCH alone.

use super::blocking::{block_on, key_order, may_block, parse_timeout, serving, timeout_reply};
use super::flags::*;
use super::notify;
use super::table::Command;
use super::typed::{as_list, check_type, delete_if_empty, list_fill, read_as};
use super::{Ctx, NOT_INT, WRONGTYPE};
use crate::keyspace::listpack::LpVal;
use crate::keyspace::quicklist::Quicklist;
use crate::keyspace::Value;
use crate::protocol::ReplyBuf;
use crate::util::{itoa, kw_eq, parse_i64};

pub const COMMANDS: &[Command] = &[
    Command::new("lpush", -3, WRITE | DENYOOM | FAST, lpush).keys(1, 1, 1),
    Command::new("rpush", -3, WRITE | DENYOOM | FAST, rpush).keys(1, 1, 1),
    Command::new("lpushx", -3, WRITE | DENYOOM | FAST, lpushx).keys(1, 1, 1),
    Command::new("rpushx", -3, WRITE | DENYOOM | FAST, rpushx).keys(1, 1, 1),
    Command::new("lpop", -2, WRITE | FAST, lpop).keys(1, 1, 1),
    Command::new("rpop", -2, WRITE | FAST, rpop).keys(1, 1, 1),
    Command::new("lrange", 4, READONLY, lrange).keys(1, 1, 1),
    Command::new("llen", 2, READONLY | FAST, llen).keys(1, 1, 1),
    Command::new("lindex", 3, READONLY, lindex).keys(1, 1, 1),
    Command::new("lset", 4, WRITE | DENYOOM, lset).keys(1, 1, 1),
    Command::new("lrem", 4, WRITE, lrem).keys(1, 1, 1),
    Command::new("ltrim", 4, WRITE, ltrim).keys(1, 1, 1),
    Command::new("linsert", 5, WRITE | DENYOOM, linsert).keys(1, 1, 1),
    Command::new("lpos", -3, READONLY, lpos).keys(1, 1, 1),
    Command::new("lmove", 5, WRITE | DENYOOM, lmove).keys(1, 2, 1),
    Command::new("rpoplpush", 3, WRITE | DENYOOM, rpoplpush).keys(1, 2, 1),
    Command::new("lmpop", -4, WRITE | MOVABLE_KEYS, lmpop),
    Command::new("blpop", -3, WRITE | NOSCRIPT | BLOCKING, blpop).keys(1, -2, 1),
    Command::new("brpop", -3, WRITE | NOSCRIPT | BLOCKING, brpop).keys(1, -2, 1),
    Command::new("blmove", 6, WRITE | DENYOOM | NOSCRIPT | BLOCKING, blmove).keys(1, 2, 1),
    Command::new("brpoplpush", 4, WRITE | DENYOOM | NOSCRIPT | BLOCKING, brpoplpush).keys(1, 2, 1),
    Command::new("blmpop", -5, WRITE | BLOCKING | MOVABLE_KEYS, blmpop),
];

const COUNT_NOT_POSITIVE: &str = "ERR value is out of range, must be positive";
const RANK_ZERO: &str = "ERR RANK can't be zero: use 1 to start from the first match, 2 from the second ... or use negative to start from the end of the list";
const RANK_RANGE: &str = "ERR value is out of range, value must between -9223372036854775807 and 9223372036854775807";

// ---------------------------------------------------------------------------
// Shared pieces

/// One end of a list.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum End {
    Left,
    Right,
}

impl End {
    /// LEFT or RIGHT in any case; `None` for anything else (a syntax error).
    fn parse(a: &[u8]) -> Option<End> {
        if kw_eq(a, b"left") {
            Some(End::Left)
        } else if kw_eq(a, b"right") {
            Some(End::Right)
        } else {
            None
        }
    }

    /// Index of the element at this end.
    fn index(self) -> i64 {
        match self {
            End::Left => 0,
            End::Right => -1,
        }
    }

    fn pop_event(self) -> &'static str {
        match self {
            End::Left => "lpop",
            End::Right => "rpop",
        }
    }

    fn push_event(self) -> &'static str {
        match self {
            End::Left => "lpush",
            End::Right => "rpush",
        }
    }

    /// The non-blocking pop that propagates a pop from this end.
    fn pop_command(self) -> &'static [u8] {
        match self {
            End::Left => b"LPOP",
            End::Right => b"RPOP",
        }
    }

    /// How Redis spells the direction when it writes a served BLMOVE.
    fn word(self) -> &'static [u8] {
        match self {
            End::Left => b"left",
            End::Right => b"right",
        }
    }
}

fn is_list(v: &Value) -> bool {
    matches!(v, Value::List(_))
}

/// Writes one element as a bulk string, without allocating.
#[inline]
fn reply_val(out: &mut ReplyBuf, v: LpVal) {
    match v {
        LpVal::Str(s) => out.bulk(s),
        LpVal::Int(n) => out.bulk_int(n),
    }
}

/// Looks `key` up for writing (no hit/miss counting, as Redis's
/// lookupKeyWrite) and lends the reply buffer alongside, so a command can
/// reply from the list before changing it. `Err` after replying WRONGTYPE.
#[inline]
fn list_mut<'c>(ctx: &'c mut Ctx, key: &[u8]) -> Result<(Option<&'c mut Quicklist>, &'c mut ReplyBuf), ()> {
    let now = ctx.now;
    let out = &mut *ctx.out;
    match ctx.st.keyspace.dbs[ctx.db].get_mut(key, now) {
        None => Ok((None, out)),
        Some(e) => match &mut e.value {
            Value::List(l) => Ok((Some(&mut **l), out)),
            _ => {
                out.error(WRONGTYPE);
                Err(())
            }
        },
    }
}

/// Records that `key` changed by `n` elements (Redis's dirty count),
/// invalidates WATCHes on it and sends the list event `event`.
fn changed_by(ctx: &mut Ctx, key: &[u8], event: &str, n: usize) {
    ctx.dirty += n as u64;
    ctx.st.keyspace.dbs[ctx.db].touch(key);
    ctx.notify(notify::LIST, event, key);
}

/// After `n` elements left `key` from `end`: the pop event, then the key's
/// deletion if that emptied it.
fn popped(ctx: &mut Ctx, key: &[u8], end: End, n: usize) {
    changed_by(ctx, key, end.pop_event(), n);
    delete_if_empty(ctx, key);
}

#[inline]
fn push_one(ql: &mut Quicklist, v: &[u8], end: End, fill: i32) {
    match end {
        End::Left => ql.push_front(v, fill),
        End::Right => ql.push_back(v, fill),
    }
}

/// Replies the element at `end` as a bulk and removes it.
#[inline]
fn pop_reply(out: &mut ReplyBuf, ql: &mut Quicklist, end: End) {
    if let Some(p) = ql.pos(end.index()) {
        reply_val(out, ql.get_at(p));
        ql.delete_at(p);
    }
}

/// Replies up to `count` elements from `end` as an array, in the order
/// they leave the list, and removes them; returns how many went.
fn pop_range_reply(out: &mut ReplyBuf, ql: &mut Quicklist, end: End, count: usize) -> usize {
    let n = count.min(ql.len());
    out.array(n);
    match end {
        End::Left => {
            for v in ql.iter_from(0).take(n) {
                reply_val(out, v);
            }
            ql.delete_range(0, n);
        }
        End::Right => {
            for v in ql.iter_rev_from(-1).take(n) {
                reply_val(out, v);
            }
            ql.delete_range(ql.len() - n, n);
        }
    }
    n
}

/// The inclusive range `start..=end` given by a client (negative indexes
/// count from the end) clamped to a list of `len`; `None` when it selects
/// nothing. No overflow: `len` is far from the i64 limits.
fn clamp_range(start: i64, end: i64, len: usize) -> Option<(usize, usize)> {
    let len = len as i64;
    let start = if start < 0 { (len + start).max(0) } else { start };
    let end = if end < 0 { len + end } else { end };
    if start > end || start >= len {
        return None;
    }
    Some((start as usize, end.min(len - 1) as usize))
}

/// Two integer arguments, replying the standard error if either is not one.
fn two_ints(ctx: &mut Ctx, a: &[u8], b: &[u8]) -> Option<(i64, i64)> {
    match (parse_i64(a), parse_i64(b)) {
        (Some(x), Some(y)) => Some((x, y)),
        _ => {
            ctx.err(NOT_INT);
            None
        }
    }
}

/// A client string compared with list elements: parsed once, since an
/// element stored as an integer equals only its canonical text.
struct Needle<'a> {
    bytes: &'a [u8],
    int: Option<i64>,
}

impl<'a> Needle<'a> {
    fn new(bytes: &'a [u8]) -> Self {
        Needle { bytes, int: parse_i64(bytes) }
    }

    #[inline]
    fn matches(&self, v: LpVal) -> bool {
        match v {
            LpVal::Str(s) => s == self.bytes,
            LpVal::Int(n) => self.int == Some(n),
        }
    }
}

/// Blocks the client on `keys` when it may block; inside MULTI replies a
/// null instead (a null bulk for the moves, `null_bulk`). A wait that times
/// out always ends with a null array, even for BLMOVE, as in Redis.
fn wait(ctx: &mut Ctx, keys: &[&[u8]], deadline: Option<i64>, null_bulk: bool, argv: &[&[u8]]) {
    if may_block(ctx) {
        block_on(ctx, keys, "list", deadline, false, argv);
    } else {
        timeout_reply(ctx, null_bulk);
    }
}

// ---------------------------------------------------------------------------
// Push

fn lpush(ctx: &mut Ctx, args: &[&[u8]]) {
    push(ctx, args, End::Left, true);
}

fn rpush(ctx: &mut Ctx, args: &[&[u8]]) {
    push(ctx, args, End::Right, true);
}

fn lpushx(ctx: &mut Ctx, args: &[&[u8]]) {
    push(ctx, args, End::Left, false);
}

fn rpushx(ctx: &mut Ctx, args: &[&[u8]]) {
    push(ctx, args, End::Right, false);
}

/// LPUSH RPUSH and their X forms (`create` false: only onto an existing
/// list). Replies the new length.
fn push(ctx: &mut Ctx, args: &[&[u8]], end: End, create: bool) {
    let key = args[1];
    let vals = &args[2..];
    let fill = list_fill(ctx);
    let Ok((found, out)) = list_mut(ctx, key) else {
        return;
    };
    let len = match found {
        Some(ql) => {
            for v in vals {
                push_one(ql, v, end, fill);
            }
            ql.len()
        }
        None if !create => return out.int(0),
        None => {
            let mut ql = Box::new(Quicklist::new());
            for v in vals {
                push_one(&mut ql, v, end, fill);
            }
            let len = ql.len();
            let now = ctx.now;
            ctx.st.keyspace.dbs[ctx.db].add(key, Value::List(ql), now);
            len
        }
    };
    ctx.out.int(len as i64);
    changed_by(ctx, key, end.push_event(), vals.len());
}

// ---------------------------------------------------------------------------
// Pop

fn lpop(ctx: &mut Ctx, args: &[&[u8]]) {
    pop(ctx, args, End::Left);
}

fn rpop(ctx: &mut Ctx, args: &[&[u8]]) {
    pop(ctx, args, End::Right);
}

/// LPOP/RPOP key [count]: a bulk without a count, an array with one (null
/// array on a missing key, empty array for count 0).
fn pop(ctx: &mut Ctx, args: &[&[u8]], end: End) {
    if args.len() > 3 {
        return ctx.arity_error();
    }
    let count = match args.get(2) {
        None => None,
        Some(a) => match parse_i64(a) {
            Some(n) if n >= 0 => Some(n as usize),
            _ => return ctx.err(COUNT_NOT_POSITIVE),
        },
    };
    let key = args[1];
    let Ok((found, out)) = list_mut(ctx, key) else {
        return;
    };
    let Some(ql) = found else {
        return if count.is_some() { out.null_array() } else { out.null() };
    };
    let n = match count {
        None => {
            pop_reply(out, ql, end);
            1
        }
        Some(0) => return out.array(0),
        Some(c) => pop_range_reply(out, ql, end, c),
    };
    popped(ctx, key, end, n);
}

// ---------------------------------------------------------------------------
// Reads

fn llen(ctx: &mut Ctx, args: &[&[u8]]) {
    let Ok((found, out)) = read_as(ctx, args[1], as_list) else {
        return;
    };
    out.int(found.map_or(0, |l| l.len() as i64));
}

fn lrange(ctx: &mut Ctx, args: &[&[u8]]) {
    let Some((start, end)) = two_ints(ctx, args[2], args[3]) else {
        return;
    };
    let Ok((found, out)) = read_as(ctx, args[1], as_list) else {
        return;
    };
    let Some(ql) = found else {
        return out.array(0);
    };
    match clamp_range(start, end, ql.len()) {
        None => out.array(0),
        Some((s, e)) => {
            let n = e - s + 1;
            out.array(n);
            for v in ql.iter_from(s as i64).take(n) {
                reply_val(out, v);
            }
        }
    }
}

/// LINDEX: the type is checked before the index is parsed, as in Redis.
fn lindex(ctx: &mut Ctx, args: &[&[u8]]) {
    let Ok((found, out)) = read_as(ctx, args[1], as_list) else {
        return;
    };
    let Some(ql) = found else {
        return out.null();
    };
    let Some(i) = parse_i64(args[2]) else {
        return out.error(NOT_INT);
    };
    match ql.get(i) {
        Some(v) => reply_val(out, v),
        None => out.null(),
    }
}

/// LPOS key element [RANK r] [COUNT n] [MAXLEN m]: options are parsed
/// (the last of a repeated one wins) before the key is looked at.
fn lpos(ctx: &mut Ctx, args: &[&[u8]]) {
    let (mut rank, mut count, mut maxlen): (i64, Option<usize>, usize) = (1, None, 0);
    let mut j = 3;
    while j < args.len() {
        let (opt, val) = (args[j], args.get(j + 1));
        match val {
            Some(v) if kw_eq(opt, b"rank") => match parse_i64(v) {
                None => return ctx.err(NOT_INT),
                Some(i64::MIN) => return ctx.err(RANK_RANGE),
                Some(0) => return ctx.err(RANK_ZERO),
                Some(r) => rank = r,
            },
            Some(v) if kw_eq(opt, b"count") => match parse_i64(v) {
                Some(n) if n >= 0 => count = Some(n as usize),
                _ => return ctx.err("ERR COUNT can't be negative"),
            },
            Some(v) if kw_eq(opt, b"maxlen") => match parse_i64(v) {
                Some(n) if n >= 0 => maxlen = n as usize,
                _ => return ctx.err("ERR MAXLEN can't be negative"),
            },
            _ => return ctx.syntax(),
        }
        j += 2;
    }
    let Ok((found, out)) = read_as(ctx, args[1], as_list) else {
        return;
    };
    let Some(ql) = found else {
        return if count.is_some() { out.array(0) } else { out.null() };
    };
    let needle = Needle::new(args[2]);
    let len = ql.len();
    let from_tail = rank < 0;
    // Matches passed over before the first one reported.
    let skip = rank.unsigned_abs() - 1;
    let header = count.map(|_| out.begin_deferred(b'*'));
    let (mut matches, mut reported, mut single) = (0u64, 0usize, None);
    let mut p = ql.pos(if from_tail { -1 } else { 0 });
    let mut index = 0usize;
    while let Some(at) = p {
        if maxlen != 0 && index >= maxlen {
            break;
        }
        if needle.matches(ql.get_at(at)) {
            matches += 1;
            if matches > skip {
                let pos = if from_tail { len - 1 - index } else { index };
                match count {
                    None => {
                        single = Some(pos);
                        break;
                    }
                    Some(c) => {
                        out.int(pos as i64);
                        reported += 1;
                        if c != 0 && reported >= c {
                            break;
                        }
                    }
                }
            }
        }
        index += 1;
        p = if from_tail { ql.prev_pos(at) } else { ql.next_pos(at) };
    }
    match (header, single) {
        (Some(h), _) => out.end_deferred(h, reported),
        (None, Some(pos)) => out.int(pos as i64),
        (None, None) => out.null(),
    }
}

// ---------------------------------------------------------------------------
// In-place changes

/// LSET: missing key and type are checked before the index is parsed.
fn lset(ctx: &mut Ctx, args: &[&[u8]]) {
    let key = args[1];
    let fill = list_fill(ctx);
    let Ok((found, out)) = list_mut(ctx, key) else {
        return;
    };
    let Some(ql) = found else {
        return out.error("ERR no such key");
    };
    let Some(i) = parse_i64(args[2]) else {
        return out.error(NOT_INT);
    };
    if !ql.set(i, args[3], fill) {
        return out.error("ERR index out of range");
    }
    out.ok();
    changed_by(ctx, key, "lset", 1);
}

/// LREM key count element: count > 0 from the head, < 0 from the tail, 0
/// all.
fn lrem(ctx: &mut Ctx, args: &[&[u8]]) {
    let Some(count) = parse_i64(args[2]) else {
        return ctx.err(NOT_INT);
    };
    let key = args[1];
    let Ok((found, out)) = list_mut(ctx, key) else {
        return;
    };
    let Some(ql) = found else {
        return out.int(0);
    };
    let limit = usize::try_from(count.unsigned_abs()).unwrap_or(usize::MAX);
    let removed = ql.remove_value(args[3], limit, count < 0);
    if removed > 0 {
        changed_by(ctx, key, "lrem", removed);
        delete_if_empty(ctx, key);
    }
    ctx.out.int(removed as i64);
}

/// LTRIM: the `ltrim` event and WATCH invalidation happen even when nothing
/// is trimmed (as in Redis); the change count is what went.
fn ltrim(ctx: &mut Ctx, args: &[&[u8]]) {
    let Some((start, end)) = two_ints(ctx, args[2], args[3]) else {
        return;
    };
    let key = args[1];
    let Ok((found, out)) = list_mut(ctx, key) else {
        return;
    };
    let Some(ql) = found else {
        return out.ok();
    };
    let len = ql.len();
    let (head, tail) = match clamp_range(start, end, len) {
        None => (len, 0),
        Some((s, e)) => (s, len - 1 - e),
    };
    ql.delete_range(0, head);
    if tail > 0 {
        ql.delete_range(ql.len() - tail, tail);
    }
    changed_by(ctx, key, "ltrim", head + tail);
    delete_if_empty(ctx, key);
    ctx.out.ok();
}

/// LINSERT key BEFORE|AFTER pivot element: the new length, -1 without the
/// pivot, 0 without the key.
fn linsert(ctx: &mut Ctx, args: &[&[u8]]) {
    let after = if kw_eq(args[2], b"after") {
        true
    } else if kw_eq(args[2], b"before") {
        false
    } else {
        return ctx.syntax();
    };
    let key = args[1];
    let fill = list_fill(ctx);
    let Ok((found, out)) = list_mut(ctx, key) else {
        return;
    };
    let Some(ql) = found else {
        return out.int(0);
    };
    let pivot = Needle::new(args[3]);
    let mut p = ql.pos(0);
    while let Some(at) = p {
        if pivot.matches(ql.get_at(at)) {
            break;
        }
        p = ql.next_pos(at);
    }
    let Some(at) = p else {
        return out.int(-1);
    };
    if after {
        ql.insert_after(at, args[4], fill);
    } else {
        ql.insert_before(at, args[4], fill);
    }
    let len = ql.len();
    changed_by(ctx, key, "linsert", 1);
    ctx.out.int(len as i64);
}

// ---------------------------------------------------------------------------
// Moves

fn lmove(ctx: &mut Ctx, args: &[&[u8]]) {
    let (Some(from), Some(to)) = (End::parse(args[3]), End::parse(args[4])) else {
        return ctx.syntax();
    };
    if let Ok(false) = move_one(ctx, args[1], args[2], from, to) {
        ctx.out.null();
    }
}

fn rpoplpush(ctx: &mut Ctx, args: &[&[u8]]) {
    if let Ok(false) = move_one(ctx, args[1], args[2], End::Right, End::Left) {
        ctx.out.null();
    }
}

fn blmove(ctx: &mut Ctx, args: &[&[u8]]) {
    let (Some(from), Some(to)) = (End::parse(args[3]), End::parse(args[4])) else {
        return ctx.syntax();
    };
    bmove(ctx, args, from, to, args[5]);
}

fn brpoplpush(ctx: &mut Ctx, args: &[&[u8]]) {
    bmove(ctx, args, End::Right, End::Left, args[3]);
}

/// BLMOVE and BRPOPLPUSH, propagated as LMOVE (with the directions as sent,
/// or in Redis's own lowercase words when a waiter is served) and RPOPLPUSH.
fn bmove(ctx: &mut Ctx, args: &[&[u8]], from: End, to: End, timeout: &[u8]) {
    let Ok(deadline) = parse_timeout(ctx, timeout) else {
        return;
    };
    let (src, dst) = (args[1], args[2]);
    match move_one(ctx, src, dst, from, to) {
        Err(()) => {}
        Ok(true) => {
            let cmd: Vec<Vec<u8>> = if args.len() == 4 {
                vec![b"RPOPLPUSH".to_vec(), src.to_vec(), dst.to_vec()]
            } else {
                let (f, t) = if serving() { (from.word(), to.word()) } else { (args[3], args[4]) };
                vec![b"LMOVE".to_vec(), src.to_vec(), dst.to_vec(), f.to_vec(), t.to_vec()]
            };
            ctx.rewrite(cmd);
        }
        Ok(false) => wait(ctx, &args[1..2], deadline, true, args),
    }
}

/// LMOVE's work: moves the element at `from` of `src` to `to` of `dst`
/// (possibly the same list) and replies it. `Ok(false)` when `src` is
/// missing, with nothing replied (the destination is then not looked at);
/// `Err` after WRONGTYPE, the source's checked first. Events: the push on
/// `dst`, then the pop on `src`, then `src`'s deletion if it emptied.
fn move_one(ctx: &mut Ctx, src: &[u8], dst: &[u8], from: End, to: End) -> Result<bool, ()> {
    if !check_type(ctx, src, is_list)? {
        return Ok(false);
    }
    check_type(ctx, dst, is_list)?;
    let fill = list_fill(ctx);
    let v = match list_mut(ctx, src)?.0 {
        Some(ql) => match from {
            End::Left => ql.pop_front(),
            End::Right => ql.pop_back(),
        },
        None => None,
    };
    let Some(v) = v else {
        return Ok(false);
    };
    // The source stays in the keyspace (possibly empty) until the end, so
    // a move onto itself finds it here.
    match list_mut(ctx, dst)?.0 {
        Some(ql) => push_one(ql, &v, to, fill),
        None => {
            let mut ql = Box::new(Quicklist::new());
            push_one(&mut ql, &v, to, fill);
            let now = ctx.now;
            ctx.st.keyspace.dbs[ctx.db].add(dst, Value::List(ql), now);
        }
    }
    changed_by(ctx, dst, to.push_event(), 1);
    ctx.out.bulk(&v);
    changed_by(ctx, src, from.pop_event(), 0);
    delete_if_empty(ctx, src);
    Ok(true)
}

// ---------------------------------------------------------------------------
// Multi-key pops

/// The parsed tail of LMPOP/BLMPOP: `numkeys key... LEFT|RIGHT [COUNT n]`.
struct Mpop<'a> {
    keys: &'a [&'a [u8]],
    end: End,
    count: usize,
}

/// Parses `numkeys key... LEFT|RIGHT [COUNT n]` from `args[at]` on;
/// replies the error and returns `None` when invalid.
fn parse_mpop<'a>(ctx: &mut Ctx, args: &'a [&'a [u8]], at: usize) -> Option<Mpop<'a>> {
    let numkeys = match parse_i64(args[at]) {
        Some(n) if n > 0 => n as usize,
        _ => {
            ctx.err("ERR numkeys should be greater than 0");
            return None;
        }
    };
    let Some(dir_at) = at.checked_add(numkeys).and_then(|i| i.checked_add(1)).filter(|&i| i < args.len()) else {
        ctx.syntax();
        return None;
    };
    let Some(end) = End::parse(args[dir_at]) else {
        ctx.syntax();
        return None;
    };
    let mut count = None;
    let mut j = dir_at + 1;
    while j < args.len() {
        match args.get(j + 1) {
            Some(v) if count.is_none() && kw_eq(args[j], b"count") => match parse_i64(v) {
                Some(n) if n > 0 => count = Some(n as usize),
                _ => {
                    ctx.err("ERR count should be greater than 0");
                    return None;
                }
            },
            _ => {
                ctx.syntax();
                return None;
            }
        }
        j += 2;
    }
    Some(Mpop { keys: &args[at + 1..dir_at], end, count: count.unwrap_or(1) })
}

/// Pops up to `count` elements from the first of `keys` holding a list and
/// replies `[key, [elements]]`; propagated as `LPOP|RPOP key n`. `Ok(false)`
/// when no key holds one (nothing replied); `Err` after WRONGTYPE, as soon
/// as a key of another type is reached.
fn mpop_first(ctx: &mut Ctx, keys: &[&[u8]], end: End, count: usize) -> Result<bool, ()> {
    for i in key_order(keys) {
        let key = keys[i];
        let (Some(ql), out) = list_mut(ctx, key)? else {
            continue;
        };
        out.array(2);
        out.bulk(key);
        let n = pop_range_reply(out, ql, end, count);
        popped(ctx, key, end, n);
        ctx.rewrite(vec![end.pop_command().to_vec(), key.to_vec(), itoa(n as i64).as_bytes().to_vec()]);
        return Ok(true);
    }
    Ok(false)
}

fn lmpop(ctx: &mut Ctx, args: &[&[u8]]) {
    let Some(m) = parse_mpop(ctx, args, 1) else {
        return;
    };
    if let Ok(false) = mpop_first(ctx, m.keys, m.end, m.count) {
        ctx.out.null_array();
    }
}

/// BLMPOP timeout numkeys ...: the timeout is parsed after the rest.
fn blmpop(ctx: &mut Ctx, args: &[&[u8]]) {
    let Some(m) = parse_mpop(ctx, args, 2) else {
        return;
    };
    let Ok(deadline) = parse_timeout(ctx, args[1]) else {
        return;
    };
    if let Ok(false) = mpop_first(ctx, m.keys, m.end, m.count) {
        wait(ctx, m.keys, deadline, false, args);
    }
}

fn blpop(ctx: &mut Ctx, args: &[&[u8]]) {
    bpop(ctx, args, End::Left);
}

fn brpop(ctx: &mut Ctx, args: &[&[u8]]) {
    bpop(ctx, args, End::Right);
}

/// BLPOP/BRPOP key... timeout: `[key, element]` from the first key holding
/// a list, propagated as `LPOP|RPOP key`.
fn bpop(ctx: &mut Ctx, args: &[&[u8]], end: End) {
    let last = args.len() - 1;
    let Ok(deadline) = parse_timeout(ctx, args[last]) else {
        return;
    };
    let keys = &args[1..last];
    for i in key_order(keys) {
        let key = keys[i];
        let Ok((found, out)) = list_mut(ctx, key) else {
            return;
        };
        let Some(ql) = found else {
            continue;
        };
        out.array(2);
        out.bulk(key);
        pop_reply(out, ql, end);
        popped(ctx, key, end, 1);
        ctx.rewrite(vec![end.pop_command().to_vec(), key.to_vec()]);
        return;
    }
    wait(ctx, keys, deadline, false, args);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranges_clamp_like_redis() {
        assert_eq!(clamp_range(0, -1, 6), Some((0, 5)));
        assert_eq!(clamp_range(-3, -1, 6), Some((3, 5)));
        assert_eq!(clamp_range(-100, 1, 6), Some((0, 1)));
        assert_eq!(clamp_range(-2, -100, 6), None);
        assert_eq!(clamp_range(5, 10, 3), None);
        assert_eq!(clamp_range(2, 1, 3), None);
        assert_eq!(clamp_range(i64::MIN, i64::MAX, 3), Some((0, 2)));
        assert_eq!(clamp_range(i64::MAX, i64::MIN, 3), None);
        assert_eq!(clamp_range(0, 0, 0), None);
    }

    #[test]
    fn needle_matches_stored_integers_by_canonical_text() {
        let n = Needle::new(b"7");
        assert!(n.matches(LpVal::Int(7)));
        assert!(!Needle::new(b"007").matches(LpVal::Int(7)));
        assert!(Needle::new(b"007").matches(LpVal::Str(b"007")));
        assert!(!n.matches(LpVal::Str(b"07")));
    }
}
