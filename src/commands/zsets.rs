//! Sorted-set commands on `Value::ZSet`: ZADD ZINCRBY ZREM, the reads
//! (ZSCORE ZMSCORE ZCARD ZCOUNT ZLEXCOUNT ZRANK ZREVRANK), the range reads
//! (ZRANGE with BYSCORE BYLEX REV LIMIT WITHSCORES, ZRANGEBYSCORE
//! ZREVRANGEBYSCORE ZRANGEBYLEX ZREVRANGEBYLEX ZREVRANGE) and ZRANGESTORE,
//! the range removals, the pops (ZPOPMIN ZPOPMAX ZMPOP and the blocking
//! BZPOPMIN BZPOPMAX BZMPOP), the set algebra (ZUNION ZINTER ZDIFF, their
//! STORE forms and ZINTERCARD, where plain sets count as sorted sets of
//! score 1), ZRANDMEMBER and ZSCAN.
//!
//! Replies are written straight from the stored entries (members as the
//! listpack keeps them, scores formatted on the stack), so reading a range
//! allocates nothing per element. Arguments are checked in Redis's order
//! (options, then bounds, then the key), and every count or index from the
//! client is clamped to the set before anything is sized by it.
//!
//! Propagation, as Redis 7.0.15 writes its AOF: writes go as sent, except
//! BZPOPMIN/BZPOPMAX as `ZPOPMIN|ZPOPMAX key`, and ZMPOP/BZMPOP as
//! `ZPOPMIN|ZPOPMAX key <popped>`. A blocking form serves at once when it
//! can, else waits (commands/blocking.rs) and is served later by running
//! again.
//!
//! Invariant: no sorted set in the keyspace is empty or holds a NaN score:
//! every removal path ends in `typed::delete_if_empty`, after the command's
//! own event; a call that changes nothing counts no change, sends no event
//! and leaves WATCH alone.

use super::blocking::{block_on, key_order, may_block, parse_timeout, timeout_reply};
use super::flags::*;
use super::keys::{arg_cursor, scan_options};
use super::notify;
use super::table::Command;
use super::typed::{as_zset, as_zset_mut, delete_if_empty, read_as, store, write_as, write_as_out, zset_limits};
use super::{arg_i64, Ctx, NOT_FLOAT};
use crate::keyspace::listpack::LpVal;
use crate::keyspace::zset::{with_bytes, AddFlags, AddOutcome, LexBound, LexRange, ScoreRange, ZSet, ZsetLimits};
use crate::keyspace::Value;
use crate::protocol::ReplyBuf;
use crate::state::Rng;
use crate::util::{itoa, kw_eq, parse_i64, write_double};
use std::borrow::Cow;
use std::cmp::Ordering;
use std::collections::{HashMap, HashSet};

pub const COMMANDS: &[Command] = &[
    Command::new("zadd", -4, WRITE | DENYOOM | FAST, zadd).keys(1, 1, 1),
    Command::new("zincrby", 4, WRITE | DENYOOM | FAST, zincrby).keys(1, 1, 1),
    Command::new("zrem", -3, WRITE | FAST, zrem).keys(1, 1, 1),
    Command::new("zscore", 3, READONLY | FAST, zscore).keys(1, 1, 1),
    Command::new("zmscore", -3, READONLY | FAST, zmscore).keys(1, 1, 1),
    Command::new("zcard", 2, READONLY | FAST, zcard).keys(1, 1, 1),
    Command::new("zcount", 4, READONLY | FAST, zcount).keys(1, 1, 1),
    Command::new("zlexcount", 4, READONLY | FAST, zlexcount).keys(1, 1, 1),
    Command::new("zrank", 3, READONLY | FAST, zrank).keys(1, 1, 1),
    Command::new("zrevrank", 3, READONLY | FAST, zrevrank).keys(1, 1, 1),
    Command::new("zrange", -4, READONLY, zrange).keys(1, 1, 1),
    Command::new("zrangestore", -5, WRITE | DENYOOM, zrangestore).keys(1, 2, 1),
    Command::new("zrangebyscore", -4, READONLY, zrangebyscore).keys(1, 1, 1),
    Command::new("zrevrangebyscore", -4, READONLY, zrevrangebyscore).keys(1, 1, 1),
    Command::new("zrangebylex", -4, READONLY, zrangebylex).keys(1, 1, 1),
    Command::new("zrevrangebylex", -4, READONLY, zrevrangebylex).keys(1, 1, 1),
    Command::new("zrevrange", -4, READONLY, zrevrange).keys(1, 1, 1),
    Command::new("zremrangebyrank", 4, WRITE, zremrangebyrank).keys(1, 1, 1),
    Command::new("zremrangebyscore", 4, WRITE, zremrangebyscore).keys(1, 1, 1),
    Command::new("zremrangebylex", 4, WRITE, zremrangebylex).keys(1, 1, 1),
    Command::new("zpopmin", -2, WRITE | FAST, zpopmin).keys(1, 1, 1),
    Command::new("zpopmax", -2, WRITE | FAST, zpopmax).keys(1, 1, 1),
    Command::new("zmpop", -4, WRITE | MOVABLE_KEYS, zmpop),
    Command::new("bzpopmin", -3, WRITE | NOSCRIPT | BLOCKING | FAST, bzpopmin).keys(1, -2, 1),
    Command::new("bzpopmax", -3, WRITE | NOSCRIPT | BLOCKING | FAST, bzpopmax).keys(1, -2, 1),
    Command::new("bzmpop", -5, WRITE | BLOCKING | MOVABLE_KEYS, bzmpop),
    Command::new("zunion", -3, READONLY | MOVABLE_KEYS, zunion),
    Command::new("zinter", -3, READONLY | MOVABLE_KEYS, zinter),
    Command::new("zdiff", -3, READONLY | MOVABLE_KEYS, zdiff),
    Command::new("zintercard", -3, READONLY | MOVABLE_KEYS, zintercard),
    Command::new("zunionstore", -4, WRITE | DENYOOM | MOVABLE_KEYS, zunionstore).keys(1, 1, 1),
    Command::new("zinterstore", -4, WRITE | DENYOOM | MOVABLE_KEYS, zinterstore).keys(1, 1, 1),
    Command::new("zdiffstore", -4, WRITE | DENYOOM | MOVABLE_KEYS, zdiffstore).keys(1, 1, 1),
    Command::new("zrandmember", -2, READONLY, zrandmember).keys(1, 1, 1),
    Command::new("zscan", -3, READONLY, zscan).keys(1, 1, 1),
];

const NX_AND_XX: &str = "ERR XX and NX options at the same time are not compatible";
const GT_LT_NX: &str = "ERR GT, LT, and/or NX options at the same time are not compatible";
const INCR_ONE_PAIR: &str = "ERR INCR option supports a single increment-element pair";
const NAN_RESULT: &str = "ERR resulting score is not a number (NaN)";
const BAD_SCORE_RANGE: &str = "ERR min or max is not a float";
const BAD_LEX_RANGE: &str = "ERR min or max not valid string range item";
const LIMIT_WITH_RANK: &str = "ERR syntax error, LIMIT is only supported in combination with either BYSCORE or BYLEX";
const SCORES_WITH_LEX: &str = "ERR syntax error, WITHSCORES not supported in combination with BYLEX";
const COUNT_NOT_POSITIVE: &str = "ERR value is out of range, must be positive";
const NUMKEYS_NOT_POSITIVE: &str = "ERR numkeys should be greater than 0";
const MPOP_COUNT_NOT_POSITIVE: &str = "ERR count should be greater than 0";
const WEIGHT_NOT_FLOAT: &str = "ERR weight value is not a float";
const LIMIT_NEGATIVE: &str = "ERR LIMIT can't be negative";
const COUNT_RANGE: &str = "ERR value is out of range, value must between -9223372036854775807 and 9223372036854775807";
const PAIRS_RANGE: &str = "ERR value is out of range";

/// ZRANDMEMBER without repetition builds its pick by removal when the set
/// has fewer than this many times the members asked for, else by drawing.
const SUB_STRATEGY_MUL: usize = 3;

// ---------------------------------------------------------------------------
// Numbers

/// C `strtod` over `b`, which must hold no NUL: the value, how many bytes
/// it used and whether it overflowed or underflowed (ERANGE).
fn c_strtod(b: &[u8]) -> (f64, usize, bool) {
    let mut small = [0u8; 128];
    let mut large = Vec::new();
    let buf: &[u8] = if b.len() < small.len() {
        small[..b.len()].copy_from_slice(b);
        &small
    } else {
        large.extend_from_slice(b);
        large.push(0);
        &large
    };
    let mut end: *mut libc::c_char = std::ptr::null_mut();
    // SAFETY: `buf` is NUL-terminated right after the copy of `b` (which has
    // no NUL); strtod reads up to there and points `end` inside `buf`.
    let v = unsafe {
        *libc::__errno_location() = 0;
        libc::strtod(buf.as_ptr() as *const libc::c_char, &mut end)
    };
    // SAFETY: reading this thread's errno.
    let erange = unsafe { *libc::__errno_location() } == libc::ERANGE;
    (v, end as usize - buf.as_ptr() as usize, erange)
}

/// A score, increment or weight as Redis reads one (getDoubleFromObject):
/// the whole argument a C double, no leading space, not NaN, neither
/// overflowing nor underflowing to zero (a denormal is fine).
fn parse_score(b: &[u8]) -> Option<f64> {
    if b.is_empty() || b" \t\n\x0b\x0c\r".contains(&b[0]) || b.contains(&0) {
        return None;
    }
    let (v, used, erange) = c_strtod(b);
    let out_of_range = erange && (v.is_infinite() || v == 0.0);
    (used == b.len() && !v.is_nan() && !out_of_range).then_some(v)
}

/// One end of a score range, read more loosely, as Redis's range parser
/// does: `(` makes it exclusive, then C `strtod` must use the C string
/// (up to a NUL) whole; leading spaces, an empty string (0) and overflow
/// (infinity) pass; NaN does not.
fn parse_bound(b: &[u8]) -> Option<(f64, bool)> {
    let (num, exclusive) = match b.strip_prefix(b"(") {
        Some(rest) => (rest, true),
        None => (b, false),
    };
    let num = crate::util::c_str(num);
    let (v, used, _) = c_strtod(num);
    (used == num.len() && !v.is_nan()).then_some((v, exclusive))
}

/// `min max` of a score range, replying the error when either is invalid.
fn score_range(ctx: &mut Ctx, min: &[u8], max: &[u8]) -> Option<ScoreRange> {
    match (parse_bound(min), parse_bound(max)) {
        (Some((min, minex)), Some((max, maxex))) => Some(ScoreRange { min, max, minex, maxex }),
        _ => {
            ctx.err(BAD_SCORE_RANGE);
            None
        }
    }
}

/// `min max` of a lex range, replying the error when either is invalid.
fn lex_range(ctx: &mut Ctx, min: &[u8], max: &[u8]) -> Option<LexRange> {
    match (LexBound::parse(min), LexBound::parse(max)) {
        (Some(min), Some(max)) => Some(LexRange { min, max }),
        _ => {
            ctx.err(BAD_LEX_RANGE);
            None
        }
    }
}

/// The inclusive ranks `start..=end` a client gives (negative ones count
/// from the end), clamped to a set of `len`; `None` when they select
/// nothing. No overflow: `len` is far from the i64 limits.
fn rank_span(start: i64, end: i64, len: usize) -> Option<(usize, usize)> {
    let len = len as i64;
    let start = if start < 0 { (start + len).max(0) } else { start };
    let end = if end < 0 { end + len } else { end };
    (start <= end && start < len).then(|| (start as usize, end.min(len - 1) as usize))
}

// ---------------------------------------------------------------------------
// Replies

/// One stored member as a bulk string, without allocating.
#[inline]
fn reply_member(out: &mut ReplyBuf, m: LpVal) {
    match m {
        LpVal::Str(s) => out.bulk(s),
        LpVal::Int(n) => out.bulk_int(n),
    }
}

/// A member and its score: a `[member, score]` pair when `nested`, else
/// two flat elements.
#[inline]
fn reply_pair(out: &mut ReplyBuf, m: LpVal, score: f64, nested: bool) {
    if nested {
        out.array(2);
    }
    reply_member(out, m);
    out.double(score);
}

/// One element of a reply of members, with its score when `withscores`:
/// pairs nest in RESP3 and lie flat in RESP2.
#[inline]
fn reply_element(out: &mut ReplyBuf, m: LpVal, score: f64, withscores: bool) {
    if withscores {
        let nested = out.resp3();
        reply_pair(out, m, score, nested);
    } else {
        reply_member(out, m);
    }
}

/// The header of a reply of `n` members (see `reply_element`).
#[inline]
fn members_header(out: &mut ReplyBuf, n: usize, withscores: bool) {
    out.array(if withscores && !out.resp3() { 2 * n } else { n });
}

// ---------------------------------------------------------------------------
// Shared pieces

/// Records a change of `n` elements (at least one) of `key`: dirty count,
/// WATCH, and the zset event `event`.
fn changed_by(ctx: &mut Ctx, key: &[u8], event: &str, n: usize) {
    ctx.changed(key, notify::ZSET, event);
    ctx.dirty += n as u64 - 1;
}

/// After `n` (> 0) elements were removed from `key`: the event, then the
/// key's deletion if that emptied it.
fn removed(ctx: &mut Ctx, key: &[u8], event: &str, n: usize) {
    changed_by(ctx, key, event, n);
    delete_if_empty(ctx, key);
}

/// Creates an empty sorted set at `key` (known to be missing) in the form
/// Redis picks for a first member of `first_len` bytes.
fn create(ctx: &mut Ctx, key: &[u8], first_len: usize, lim: ZsetLimits) {
    let now = ctx.now;
    ctx.st.keyspace.dbs[ctx.db].add(key, Value::ZSet(ZSet::for_first(first_len, lim)), now);
    ctx.notify(notify::NEW, "new", key);
}

/// Orders (score, member) pairs as a sorted set does.
fn set_order<M: AsRef<[u8]>>(a: &(f64, M), b: &(f64, M)) -> Ordering {
    a.0.partial_cmp(&b.0).unwrap_or(Ordering::Equal).then_with(|| a.1.as_ref().cmp(b.1.as_ref()))
}

/// Stores the result of a STORE command at `dst` (replacing whatever was
/// there) and replies its size; an empty result deletes `dst` instead, with
/// a `del` event when it existed. Events after the reply, as Redis sends
/// them.
fn store_result(ctx: &mut Ctx, dst: &[u8], z: ZSet, event: &str) {
    let now = ctx.now;
    let existed = ctx.db().exists(dst, now);
    let n = z.len();
    store(ctx, dst, Value::ZSet(z));
    if n > 0 && !existed {
        ctx.notify(notify::NEW, "new", dst);
    }
    ctx.out.int(n as i64);
    if n > 0 {
        ctx.changed(dst, notify::ZSET, event);
    } else if existed {
        ctx.changed(dst, notify::GENERIC, "del");
    }
}

// ---------------------------------------------------------------------------
// ZADD ZINCRBY

fn zadd(ctx: &mut Ctx, args: &[&[u8]]) {
    zadd_generic(ctx, args, false);
}

fn zincrby(ctx: &mut Ctx, args: &[&[u8]]) {
    zadd_generic(ctx, args, true);
}

/// What a ZADD did to its elements.
#[derive(Default)]
struct Tally {
    added: usize,
    updated: usize,
    /// Elements not refused by NX, XX, GT or LT.
    processed: usize,
    /// The score of the last processed element (INCR's reply).
    last: f64,
    nan: bool,
}

/// Applies ZADD's score/member `pairs` (scores already checked, the first
/// one parsed as `first`) to `z`.
fn add_pairs(z: &mut ZSet, pairs: &[&[u8]], first: f64, f: AddFlags, lim: ZsetLimits) -> Tally {
    let mut t = Tally::default();
    for (i, p) in pairs.chunks_exact(2).enumerate() {
        let score = if i == 0 { first } else { parse_score(p[0]).unwrap_or(0.0) };
        match z.add(score, p[1], f, lim) {
            AddOutcome::Added(s) => (t.added, t.processed, t.last) = (t.added + 1, t.processed + 1, s),
            AddOutcome::Updated(s) => (t.updated, t.processed, t.last) = (t.updated + 1, t.processed + 1, s),
            AddOutcome::Unchanged(s) => (t.processed, t.last) = (t.processed + 1, s),
            AddOutcome::Nop => {}
            AddOutcome::Nan => {
                t.nan = true;
                break;
            }
        }
    }
    t
}

/// ZADD and ZINCRBY, which Redis runs as ZADD with INCR: its flag words are
/// read the same way, so `ZINCRBY k nx m` is a syntax error too.
fn zadd_generic(ctx: &mut Ctx, args: &[&[u8]], incr: bool) {
    let mut f = AddFlags { incr, ..Default::default() };
    let mut ch = false;
    let mut at = 2;
    while let Some(&a) = args.get(at) {
        let flag = match () {
            _ if kw_eq(a, b"nx") => &mut f.nx,
            _ if kw_eq(a, b"xx") => &mut f.xx,
            _ if kw_eq(a, b"gt") => &mut f.gt,
            _ if kw_eq(a, b"lt") => &mut f.lt,
            _ if kw_eq(a, b"ch") => &mut ch,
            _ if kw_eq(a, b"incr") => &mut f.incr,
            _ => break,
        };
        *flag = true;
        at += 1;
    }
    let pairs = &args[at..];
    if pairs.is_empty() || pairs.len() % 2 == 1 {
        return ctx.syntax();
    }
    if f.nx && f.xx {
        return ctx.err(NX_AND_XX);
    }
    if (f.gt || f.lt) && f.nx || (f.gt && f.lt) {
        return ctx.err(GT_LT_NX);
    }
    if f.incr && pairs.len() > 2 {
        return ctx.err(INCR_ONE_PAIR);
    }
    // Every score is checked before the key is looked at.
    let first = parse_score(pairs[0]);
    let Some(first) = first.filter(|_| pairs.iter().step_by(2).skip(1).all(|s| parse_score(s).is_some())) else {
        return ctx.err(NOT_FLOAT);
    };
    let key = args[1];
    let lim = zset_limits(ctx);
    let t = match write_as(ctx, key, as_zset_mut) {
        Err(()) => return,
        Ok(Some(z)) => add_pairs(z, pairs, first, f, lim),
        Ok(None) if f.xx => Tally::default(),
        Ok(None) => {
            create(ctx, key, pairs[1].len(), lim);
            let Ok(Some(z)) = write_as(ctx, key, as_zset_mut) else {
                return;
            };
            add_pairs(z, pairs, first, f, lim)
        }
    };
    if t.nan {
        ctx.err(NAN_RESULT);
    } else if f.incr {
        if t.processed > 0 {
            ctx.out.double(t.last);
        } else {
            ctx.out.null();
        }
    } else {
        ctx.out.int((if ch { t.added + t.updated } else { t.added }) as i64);
    }
    if t.added + t.updated > 0 {
        changed_by(ctx, key, if f.incr { "zincr" } else { "zadd" }, t.added + t.updated);
    }
}

// ---------------------------------------------------------------------------
// Removals

fn zrem(ctx: &mut Ctx, args: &[&[u8]]) {
    let key = args[1];
    let n = match write_as(ctx, key, as_zset_mut) {
        Err(()) => return,
        Ok(None) => 0,
        Ok(Some(z)) => {
            let mut n = 0;
            for m in &args[2..] {
                if z.remove(m) {
                    n += 1;
                    if z.is_empty() {
                        break;
                    }
                }
            }
            n
        }
    };
    if n > 0 {
        removed(ctx, key, "zrem", n);
    }
    ctx.out.int(n as i64);
}

/// What a range command's bounds select.
enum Bounds {
    Rank(i64, i64),
    Score(ScoreRange),
    Lex(LexRange),
}

/// The ascending ranks of the elements of `z` within `b`, as Redis walks
/// them in direction `rev`.
fn span(z: &ZSet, b: &Bounds, rev: bool) -> Option<(usize, usize)> {
    match b {
        Bounds::Rank(start, end) => rank_span(*start, *end, z.len()),
        Bounds::Score(r) => z.score_ranks(r),
        Bounds::Lex(r) => z.lex_span(r, rev),
    }
}

fn zremrangebyrank(ctx: &mut Ctx, args: &[&[u8]]) {
    let (Some(start), Some(end)) = (parse_i64(args[2]), parse_i64(args[3])) else {
        return ctx.err(super::NOT_INT);
    };
    zremrange(ctx, args[1], Bounds::Rank(start, end), "zremrangebyrank");
}

fn zremrangebyscore(ctx: &mut Ctx, args: &[&[u8]]) {
    let Some(r) = score_range(ctx, args[2], args[3]) else {
        return;
    };
    zremrange(ctx, args[1], Bounds::Score(r), "zremrangebyscore");
}

fn zremrangebylex(ctx: &mut Ctx, args: &[&[u8]]) {
    let Some(r) = lex_range(ctx, args[2], args[3]) else {
        return;
    };
    zremrange(ctx, args[1], Bounds::Lex(r), "zremrangebylex");
}

/// ZREMRANGEBY*: removes the span the bounds select; events, then the
/// count.
fn zremrange(ctx: &mut Ctx, key: &[u8], bounds: Bounds, event: &str) {
    let n = match write_as(ctx, key, as_zset_mut) {
        Err(()) => return,
        Ok(None) => 0,
        Ok(Some(z)) => span(z, &bounds, false).map_or(0, |(a, b)| z.remove_ranks(a, b)),
    };
    if n > 0 {
        removed(ctx, key, event, n);
    }
    ctx.out.int(n as i64);
}

// ---------------------------------------------------------------------------
// Reads

fn zscore(ctx: &mut Ctx, args: &[&[u8]]) {
    let Ok((z, out)) = read_as(ctx, args[1], as_zset) else {
        return;
    };
    match z.and_then(|z| z.score(args[2])) {
        Some(s) => out.double(s),
        None => out.null(),
    }
}

fn zmscore(ctx: &mut Ctx, args: &[&[u8]]) {
    let Ok((z, out)) = read_as(ctx, args[1], as_zset) else {
        return;
    };
    out.array(args.len() - 2);
    for m in &args[2..] {
        match z.and_then(|z| z.score(m)) {
            Some(s) => out.double(s),
            None => out.null(),
        }
    }
}

fn zcard(ctx: &mut Ctx, args: &[&[u8]]) {
    let Ok((z, out)) = read_as(ctx, args[1], as_zset) else {
        return;
    };
    out.int(z.map_or(0, ZSet::len) as i64);
}

/// ZCOUNT and ZLEXCOUNT: the bounds are checked before the key.
fn count_span(ctx: &mut Ctx, key: &[u8], bounds: Bounds) {
    let Ok((z, out)) = read_as(ctx, key, as_zset) else {
        return;
    };
    let n = z.and_then(|z| span(z, &bounds, false)).map_or(0, |(a, b)| b - a + 1);
    out.int(n as i64);
}

fn zcount(ctx: &mut Ctx, args: &[&[u8]]) {
    if let Some(r) = score_range(ctx, args[2], args[3]) {
        count_span(ctx, args[1], Bounds::Score(r));
    }
}

fn zlexcount(ctx: &mut Ctx, args: &[&[u8]]) {
    if let Some(r) = lex_range(ctx, args[2], args[3]) {
        count_span(ctx, args[1], Bounds::Lex(r));
    }
}

fn zrank(ctx: &mut Ctx, args: &[&[u8]]) {
    rank_generic(ctx, args, false);
}

fn zrevrank(ctx: &mut Ctx, args: &[&[u8]]) {
    rank_generic(ctx, args, true);
}

fn rank_generic(ctx: &mut Ctx, args: &[&[u8]], rev: bool) {
    let Ok((z, out)) = read_as(ctx, args[1], as_zset) else {
        return;
    };
    match z.and_then(|z| z.rank(args[2], rev)) {
        Some(r) => out.int(r as i64),
        None => out.null(),
    }
}

// ---------------------------------------------------------------------------
// ZRANGE and its older forms

/// How a range request reads its bounds.
#[derive(Clone, Copy, PartialEq, Eq)]
enum By {
    Rank,
    Score,
    Lex,
}

/// A parsed range request.
struct RangeReq {
    bounds: Bounds,
    rev: bool,
    withscores: bool,
    offset: i64,
    /// LIMIT's count; negative for no limit.
    limit: i64,
}

fn zrange(ctx: &mut Ctx, args: &[&[u8]]) {
    range_command(ctx, args, None, None);
}

fn zrangebyscore(ctx: &mut Ctx, args: &[&[u8]]) {
    range_command(ctx, args, Some(By::Score), Some(false));
}

fn zrevrangebyscore(ctx: &mut Ctx, args: &[&[u8]]) {
    range_command(ctx, args, Some(By::Score), Some(true));
}

fn zrangebylex(ctx: &mut Ctx, args: &[&[u8]]) {
    range_command(ctx, args, Some(By::Lex), Some(false));
}

fn zrevrangebylex(ctx: &mut Ctx, args: &[&[u8]]) {
    range_command(ctx, args, Some(By::Lex), Some(true));
}

fn zrevrange(ctx: &mut Ctx, args: &[&[u8]]) {
    range_command(ctx, args, Some(By::Rank), Some(true));
}

/// Parses `src min max [options]`, `src` being `args[at]`, as Redis's
/// zrangeGenericCommand: the options, then their conflicts, then the bounds
/// (max first in reverse score and lex ranges). `by` and `rev` are fixed by
/// the older commands and taken as options by ZRANGE and ZRANGESTORE
/// (`None`); `store` refuses WITHSCORES. Replies the error on `None`.
fn parse_range(
    ctx: &mut Ctx,
    args: &[&[u8]],
    at: usize,
    store: bool,
    by: Option<By>,
    rev: Option<bool>,
) -> Option<RangeReq> {
    let (mut by, mut rev) = (by, rev);
    let (mut withscores, mut offset, mut limit) = (false, 0, -1);
    let mut j = at + 3;
    while j < args.len() {
        let (a, left) = (args[j], args.len() - j - 1);
        if !store && kw_eq(a, b"withscores") {
            withscores = true;
        } else if kw_eq(a, b"limit") && left >= 2 {
            offset = arg_i64(ctx, args[j + 1])?;
            limit = arg_i64(ctx, args[j + 2])?;
            j += 2;
        } else if rev.is_none() && kw_eq(a, b"rev") {
            rev = Some(true);
        } else if by.is_none() && kw_eq(a, b"bylex") {
            by = Some(By::Lex);
        } else if by.is_none() && kw_eq(a, b"byscore") {
            by = Some(By::Score);
        } else {
            ctx.syntax();
            return None;
        }
        j += 1;
    }
    let (by, rev) = (by.unwrap_or(By::Rank), rev.unwrap_or(false));
    // Redis tells "no LIMIT" by a count of -1, so `LIMIT 5 -1` passes here.
    if limit != -1 && by == By::Rank {
        ctx.err(LIMIT_WITH_RANK);
        return None;
    }
    if withscores && by == By::Lex {
        ctx.err(SCORES_WITH_LEX);
        return None;
    }
    let (min, max) = if rev && by != By::Rank { (args[at + 2], args[at + 1]) } else { (args[at + 1], args[at + 2]) };
    let bounds = match by {
        By::Rank => Bounds::Rank(arg_i64(ctx, min)?, arg_i64(ctx, max)?),
        By::Score => Bounds::Score(score_range(ctx, min, max)?),
        By::Lex => Bounds::Lex(lex_range(ctx, min, max)?),
    };
    Some(RangeReq { bounds, rev, withscores, offset, limit })
}

/// The elements a request selects from `z`: `(start, n)`, the start a rank
/// counted in the request's direction. LIMIT applies to score and lex
/// ranges: a negative offset selects nothing, a negative count everything
/// after the offset.
fn select(z: &ZSet, q: &RangeReq) -> (usize, usize) {
    let Some((lo, hi)) = span(z, &q.bounds, q.rev) else {
        return (0, 0);
    };
    if let Bounds::Rank(..) = q.bounds {
        // Rank bounds already count in the request's direction.
        return (lo, hi - lo + 1);
    }
    let avail = (hi - lo + 1) as u64;
    let Ok(offset) = u64::try_from(q.offset) else {
        return (0, 0);
    };
    if offset >= avail {
        return (0, 0);
    }
    let mut n = avail - offset;
    if let Ok(limit) = u64::try_from(q.limit) {
        n = n.min(limit);
    }
    let first = if q.rev { z.len() - 1 - hi } else { lo };
    (first + offset as usize, n as usize)
}

/// ZRANGE ZRANGEBYSCORE ZREVRANGEBYSCORE ZRANGEBYLEX ZREVRANGEBYLEX
/// ZREVRANGE.
fn range_command(ctx: &mut Ctx, args: &[&[u8]], by: Option<By>, rev: Option<bool>) {
    let Some(q) = parse_range(ctx, args, 1, false, by, rev) else {
        return;
    };
    let Ok((found, out)) = read_as(ctx, args[1], as_zset) else {
        return;
    };
    let Some(z) = found else {
        return out.array(0);
    };
    let (start, n) = select(z, &q);
    members_header(out, n, q.withscores);
    for (s, m) in z.entries(start, q.rev).take(n) {
        reply_element(out, m, s, q.withscores);
    }
}

/// ZRANGESTORE dst src min max [options]: the selected elements, with
/// their scores, replace `dst`.
fn zrangestore(ctx: &mut Ctx, args: &[&[u8]]) {
    let Some(q) = parse_range(ctx, args, 2, true, None, None) else {
        return;
    };
    let lim = zset_limits(ctx);
    let Ok((found, _)) = read_as(ctx, args[2], as_zset) else {
        return;
    };
    let mut items: Vec<(f64, Cow<[u8]>)> = Vec::new();
    if let Some(z) = found {
        let (start, n) = select(z, &q);
        items.extend(z.entries(start, q.rev).take(n).map(|(s, m)| (s, m.to_bytes())));
    }
    // Redis adds the elements one by one, in range order, to a new set:
    // a skip list when a rank range's known length is over the limit, else
    // a listpack that converts before taking an element that would break
    // the limits. Those added to the listpack lost a -0 sign there.
    let by_rank = matches!(q.bounds, Bounds::Rank(..));
    let cut = if by_rank && items.len() > lim.entries {
        0
    } else {
        let over = items.iter().enumerate().position(|(i, (_, m))| i >= lim.entries || m.len() > lim.value);
        over.unwrap_or(items.len())
    };
    for item in &mut items[..cut] {
        if item.0 == 0.0 {
            item.0 = 0.0;
        }
    }
    // Reverse ranges come out backwards.
    items.sort_by(set_order);
    let result = ZSet::from_sorted(&items, lim);
    drop(items);
    store_result(ctx, args[1], result, "zrangestore");
}

// ---------------------------------------------------------------------------
// Pops

fn pop_event(max: bool) -> &'static str {
    if max {
        "zpopmax"
    } else {
        "zpopmin"
    }
}

/// The non-blocking pop that propagates a pop from this end.
fn pop_command(max: bool) -> Vec<u8> {
    if max { b"ZPOPMAX" } else { b"ZPOPMIN" }.to_vec()
}

/// Replies the `n` (at most the size) lowest elements of `z` (highest when
/// `max`) in the order they leave, as pairs (see `reply_pair`), and removes
/// them.
fn pop_pairs(out: &mut ReplyBuf, z: &mut ZSet, max: bool, n: usize, nested: bool) {
    for (s, m) in z.entries(0, max).take(n) {
        reply_pair(out, m, s, nested);
    }
    z.remove_end(n, max);
}

fn zpopmin(ctx: &mut Ctx, args: &[&[u8]]) {
    zpop(ctx, args, false);
}

fn zpopmax(ctx: &mut Ctx, args: &[&[u8]]) {
    zpop(ctx, args, true);
}

/// ZPOPMIN/ZPOPMAX key [count]: one flat pair without a count, the pairs
/// (nested in RESP3) with one; an empty array when there is nothing. The
/// count is checked before the key, its being 0 after.
fn zpop(ctx: &mut Ctx, args: &[&[u8]], max: bool) {
    if args.len() > 3 {
        return ctx.syntax();
    }
    let count = match args.get(2) {
        None => None,
        Some(a) => match parse_i64(a) {
            Some(n) if n >= 0 => Some(n as u64),
            _ => return ctx.err(COUNT_NOT_POSITIVE),
        },
    };
    let key = args[1];
    let Ok((found, out)) = write_as_out(ctx, key, as_zset_mut) else {
        return;
    };
    let Some(z) = found else {
        return out.array(0);
    };
    let n = match count {
        None => {
            out.array(2);
            pop_pairs(out, z, max, 1, false);
            1
        }
        Some(0) => return out.array(0),
        Some(c) => {
            let n = c.min(z.len() as u64) as usize;
            members_header(out, n, true);
            let nested = out.resp3();
            pop_pairs(out, z, max, n, nested);
            n
        }
    };
    removed(ctx, key, pop_event(max), n);
}

/// The parsed tail of ZMPOP/BZMPOP: `numkeys key... MIN|MAX [COUNT n]`.
struct Mpop<'a> {
    keys: &'a [&'a [u8]],
    max: bool,
    count: u64,
}

/// Parses `numkeys key... MIN|MAX [COUNT n]` from `args[at]` on, replying
/// the error on `None`.
fn parse_mpop<'a>(ctx: &mut Ctx, args: &'a [&'a [u8]], at: usize) -> Option<Mpop<'a>> {
    let Some(numkeys) = parse_i64(args[at]).filter(|&n| n > 0) else {
        ctx.err(NUMKEYS_NOT_POSITIVE);
        return None;
    };
    let end = usize::try_from(numkeys).ok().and_then(|n| n.checked_add(at + 1)).filter(|&e| e < args.len());
    let Some(end) = end else {
        ctx.syntax();
        return None;
    };
    let max = match args[end] {
        w if kw_eq(w, b"min") => false,
        w if kw_eq(w, b"max") => true,
        _ => {
            ctx.syntax();
            return None;
        }
    };
    let mut count = None;
    let mut j = end + 1;
    while j < args.len() {
        match args.get(j + 1) {
            Some(v) if count.is_none() && kw_eq(args[j], b"count") => match parse_i64(v).filter(|&n| n > 0) {
                Some(n) => count = Some(n as u64),
                None => {
                    ctx.err(MPOP_COUNT_NOT_POSITIVE);
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
    Some(Mpop { keys: &args[at + 1..end], max, count: count.unwrap_or(1) })
}

/// Pops up to `m.count` elements from the first of `m.keys` holding a
/// sorted set and replies `[key, [[member, score]...]]`; propagated as
/// `ZPOPMIN|ZPOPMAX key <popped>`. `Ok(false)` when no key holds one
/// (nothing replied); `Err` after WRONGTYPE, as soon as a key of another
/// type is reached.
fn mpop_first(ctx: &mut Ctx, m: &Mpop) -> Result<bool, ()> {
    for i in key_order(m.keys) {
        let key = m.keys[i];
        let (Some(z), out) = write_as_out(ctx, key, as_zset_mut)? else {
            continue;
        };
        let n = m.count.min(z.len() as u64) as usize;
        out.array(2);
        out.bulk(key);
        out.array(n);
        pop_pairs(out, z, m.max, n, true);
        removed(ctx, key, pop_event(m.max), n);
        ctx.rewrite(vec![pop_command(m.max), key.to_vec(), itoa(n as i64).as_bytes().to_vec()]);
        return Ok(true);
    }
    Ok(false)
}

fn zmpop(ctx: &mut Ctx, args: &[&[u8]]) {
    let Some(m) = parse_mpop(ctx, args, 1) else {
        return;
    };
    if let Ok(false) = mpop_first(ctx, &m) {
        ctx.out.null_array();
    }
}

/// Blocks the client on `keys` when it may block; inside MULTI replies the
/// null array a timeout gives.
fn wait(ctx: &mut Ctx, keys: &[&[u8]], deadline: Option<i64>, argv: &[&[u8]]) {
    if may_block(ctx) {
        block_on(ctx, keys, "zset", deadline, false, argv);
    } else {
        timeout_reply(ctx, false);
    }
}

/// BZMPOP timeout numkeys ...: the timeout is checked after the rest.
fn bzmpop(ctx: &mut Ctx, args: &[&[u8]]) {
    let Some(m) = parse_mpop(ctx, args, 2) else {
        return;
    };
    let Ok(deadline) = parse_timeout(ctx, args[1]) else {
        return;
    };
    if let Ok(false) = mpop_first(ctx, &m) {
        wait(ctx, m.keys, deadline, args);
    }
}

fn bzpopmin(ctx: &mut Ctx, args: &[&[u8]]) {
    bzpop(ctx, args, false);
}

fn bzpopmax(ctx: &mut Ctx, args: &[&[u8]]) {
    bzpop(ctx, args, true);
}

/// BZPOPMIN/BZPOPMAX key... timeout: `[key, member, score]` from the first
/// key holding a sorted set, propagated as `ZPOPMIN|ZPOPMAX key`.
fn bzpop(ctx: &mut Ctx, args: &[&[u8]], max: bool) {
    let last = args.len() - 1;
    let Ok(deadline) = parse_timeout(ctx, args[last]) else {
        return;
    };
    let keys = &args[1..last];
    for i in key_order(keys) {
        let key = keys[i];
        let Ok((found, out)) = write_as_out(ctx, key, as_zset_mut) else {
            return;
        };
        let Some(z) = found else {
            continue;
        };
        out.array(3);
        out.bulk(key);
        pop_pairs(out, z, max, 1, false);
        removed(ctx, key, pop_event(max), 1);
        ctx.rewrite(vec![pop_command(max), key.to_vec()]);
        return;
    }
    wait(ctx, keys, deadline, args);
}

// ---------------------------------------------------------------------------
// Set algebra

#[derive(Clone, Copy, PartialEq, Eq)]
enum SetOp {
    Union,
    Inter,
    Diff,
}

impl SetOp {
    fn store_event(self) -> &'static str {
        match self {
            SetOp::Union => "zunionstore",
            SetOp::Inter => "zinterstore",
            SetOp::Diff => "zdiffstore",
        }
    }
}

#[derive(Clone, Copy)]
enum Aggregate {
    Sum,
    Min,
    Max,
}

impl Aggregate {
    /// Folds `val` into `target` (a sum of +inf and -inf is 0, as in
    /// Redis; a NaN `val` never wins a MIN or MAX).
    #[inline]
    fn fold(self, target: &mut f64, val: f64) {
        match self {
            Aggregate::Sum => {
                *target += val;
                if target.is_nan() {
                    *target = 0.0;
                }
            }
            Aggregate::Min => {
                if val < *target {
                    *target = val;
                }
            }
            Aggregate::Max => {
                if val > *target {
                    *target = val;
                }
            }
        }
    }
}

/// A parsed set-algebra request: the sources as given, which exist, and
/// their weights.
struct Algebra<'a> {
    keys: &'a [&'a [u8]],
    found: Vec<bool>,
    weights: Vec<f64>,
    aggregate: Aggregate,
    withscores: bool,
    /// ZINTERCARD's LIMIT; 0 for none.
    limit: u64,
}

/// Reads `numkeys key... [options]` from `args[at]` on as Redis does: the
/// count, then every source looked up (WRONGTYPE unless a sorted set or a
/// set), then the options the command takes: WEIGHTS and AGGREGATE (not
/// ZDIFF), WITHSCORES (not the STORE forms), LIMIT (ZINTERCARD only).
/// Replies the error on `None`.
fn parse_algebra<'a>(
    ctx: &mut Ctx,
    args: &'a [&'a [u8]],
    at: usize,
    op: SetOp,
    store: bool,
    card: bool,
) -> Option<Algebra<'a>> {
    let n = arg_i64(ctx, args[at])?;
    if n < 1 {
        let msg = format!("ERR at least 1 input key is needed for '{}' command", ctx.name);
        ctx.err(&msg);
        return None;
    }
    let Some(n) = usize::try_from(n).ok().filter(|&n| n <= args.len() - at - 1) else {
        ctx.syntax();
        return None;
    };
    let keys = &args[at + 1..at + 1 + n];
    let mut found = Vec::with_capacity(n);
    for k in keys {
        let (v, _) = super::strings::read(ctx, k);
        let ok = matches!(v, None | Some(Value::ZSet(_) | Value::Set(_)));
        found.push(v.is_some());
        if !ok {
            ctx.wrongtype();
            return None;
        }
    }
    let mut q = Algebra { keys, found, weights: vec![1.0; n], aggregate: Aggregate::Sum, withscores: false, limit: 0 };
    let mut j = at + 1 + n;
    while j < args.len() {
        let (a, left) = (args[j], args.len() - j);
        let scored = op != SetOp::Diff && !card;
        if scored && left > n && kw_eq(a, b"weights") {
            for (w, arg) in q.weights.iter_mut().zip(&args[j + 1..]) {
                let Some(v) = parse_score(arg) else {
                    ctx.err(WEIGHT_NOT_FLOAT);
                    return None;
                };
                *w = v;
            }
            j += n + 1;
        } else if scored && left >= 2 && kw_eq(a, b"aggregate") {
            q.aggregate = match args[j + 1] {
                w if kw_eq(w, b"sum") => Aggregate::Sum,
                w if kw_eq(w, b"min") => Aggregate::Min,
                w if kw_eq(w, b"max") => Aggregate::Max,
                _ => {
                    ctx.syntax();
                    return None;
                }
            };
            j += 2;
        } else if !store && !card && kw_eq(a, b"withscores") {
            q.withscores = true;
            j += 1;
        } else if card && left >= 2 && kw_eq(a, b"limit") {
            let Some(l) = parse_i64(args[j + 1]).filter(|&l| l >= 0) else {
                ctx.err(LIMIT_NEGATIVE);
                return None;
            };
            q.limit = l as u64;
            j += 2;
        } else {
            ctx.syntax();
            return None;
        }
    }
    Some(q)
}

/// One source of the algebra: a sorted set, a set, or nothing (a missing
/// key is an empty set), with its weight.
#[derive(Clone, Copy)]
struct Source<'v> {
    value: Option<&'v Value>,
    weight: f64,
}

impl Source<'_> {
    fn len(&self) -> usize {
        match self.value {
            Some(Value::ZSet(z)) => z.len(),
            Some(Value::Set(s)) => s.len(),
            _ => 0,
        }
    }

    /// Calls `f` with every member and its score (1 in a plain set).
    fn for_each(&self, mut f: impl FnMut(&[u8], f64)) {
        match self.value {
            Some(Value::ZSet(z)) => z.entries(0, false).for_each(|(s, m)| with_bytes(m, |m| f(m, s))),
            Some(Value::Set(set)) => set.for_each(|m| f(m, 1.0)),
            _ => {}
        }
    }

    /// The score of `member`, if present.
    fn score(&self, member: &[u8]) -> Option<f64> {
        match self.value {
            Some(Value::ZSet(z)) => z.score(member),
            Some(Value::Set(s)) => s.contains(member).then_some(1.0),
            _ => None,
        }
    }
}

/// What the algebra produced: (score, member) pairs in no order, or the
/// size of an intersection (ZINTERCARD).
struct Outcome {
    items: Vec<(f64, Vec<u8>)>,
    count: u64,
}

/// Union: each member's weighted scores folded in source order (a NaN
/// weighted score counts as 0).
fn union(srcs: &[Source], agg: Aggregate) -> Vec<(f64, Vec<u8>)> {
    let largest = srcs.iter().map(Source::len).max().unwrap_or(0);
    let mut acc: HashMap<Vec<u8>, f64, foldhash::fast::RandomState> =
        HashMap::with_capacity_and_hasher(largest, Default::default());
    for src in srcs {
        src.for_each(|m, score| {
            let mut w = src.weight * score;
            if w.is_nan() {
                w = 0.0;
            }
            match acc.get_mut(m) {
                Some(t) => agg.fold(t, w),
                None => {
                    acc.insert(m.to_vec(), w);
                }
            }
        });
    }
    acc.into_iter().map(|(m, s)| (s, m)).collect()
}

/// Intersection, walking the first (smallest) source: the members found in
/// every other, their weighted scores folded in source order. With
/// `card`, only counted, up to `limit` (0: no limit).
fn inter(srcs: &[Source], agg: Aggregate, card: bool, limit: u64) -> Outcome {
    let mut out = Outcome { items: Vec::new(), count: 0 };
    let Some((first, rest)) = srcs.split_first() else {
        return out;
    };
    first.for_each(|m, score| {
        if card && limit > 0 && out.count >= limit {
            return;
        }
        let mut total = first.weight * score;
        if total.is_nan() {
            total = 0.0;
        }
        for src in rest {
            match src.score(m) {
                Some(v) => agg.fold(&mut total, v * src.weight),
                None => return,
            }
        }
        out.count += 1;
        if !card {
            out.items.push((total, m.to_vec()));
        }
    });
    out
}

/// Difference: the members of the first source in none of the others,
/// with their own scores.
fn diff(srcs: &[Source]) -> Vec<(f64, Vec<u8>)> {
    let mut items = Vec::new();
    if let Some((first, rest)) = srcs.split_first() {
        first.for_each(|m, score| {
            if rest.iter().all(|src| src.score(m).is_none()) {
                items.push((score, m.to_vec()));
            }
        });
    }
    items
}

/// Runs the algebra over the sources of `q`, which were looked up (and
/// checked) by `parse_algebra`.
fn compute(ctx: &Ctx, q: &Algebra, op: SetOp, card: bool) -> Outcome {
    let db = &ctx.st.keyspace.dbs[ctx.db];
    let mut srcs: Vec<Source> = q
        .keys
        .iter()
        .zip(&q.found)
        .zip(&q.weights)
        .map(|((k, &found), &weight)| Source { value: if found { db.peek(k).map(|e| &e.value) } else { None }, weight })
        .collect();
    if op != SetOp::Diff {
        // Smallest first (stably, as Redis's sort here): the order in which
        // scores are folded, which matters for infinities.
        srcs.sort_by_key(Source::len);
    }
    match op {
        SetOp::Union => Outcome { items: union(&srcs, q.aggregate), count: 0 },
        SetOp::Inter => inter(&srcs, q.aggregate, card, q.limit),
        SetOp::Diff => Outcome { items: diff(&srcs), count: 0 },
    }
}

/// ZUNION ZINTER ZDIFF (`dst` None, numkeys at 1), their STORE forms
/// (numkeys at 2) and ZINTERCARD (`card`).
fn algebra(ctx: &mut Ctx, args: &[&[u8]], op: SetOp, dst: Option<&[u8]>, card: bool) {
    let at = if dst.is_some() { 2 } else { 1 };
    let Some(q) = parse_algebra(ctx, args, at, op, dst.is_some(), card) else {
        return;
    };
    let mut res = compute(ctx, &q, op, card);
    if card {
        return ctx.out.int(res.count as i64);
    }
    res.items.sort_by(set_order);
    if let Some(dst) = dst {
        let lim = zset_limits(ctx);
        let z = ZSet::from_sorted(&res.items, lim);
        drop(res);
        return store_result(ctx, dst, z, op.store_event());
    }
    let out = &mut *ctx.out;
    members_header(out, res.items.len(), q.withscores);
    for (s, m) in &res.items {
        reply_element(out, LpVal::Str(m), *s, q.withscores);
    }
}

fn zunion(ctx: &mut Ctx, args: &[&[u8]]) {
    algebra(ctx, args, SetOp::Union, None, false);
}

fn zinter(ctx: &mut Ctx, args: &[&[u8]]) {
    algebra(ctx, args, SetOp::Inter, None, false);
}

fn zdiff(ctx: &mut Ctx, args: &[&[u8]]) {
    algebra(ctx, args, SetOp::Diff, None, false);
}

fn zintercard(ctx: &mut Ctx, args: &[&[u8]]) {
    algebra(ctx, args, SetOp::Inter, None, true);
}

fn zunionstore(ctx: &mut Ctx, args: &[&[u8]]) {
    algebra(ctx, args, SetOp::Union, Some(args[1]), false);
}

fn zinterstore(ctx: &mut Ctx, args: &[&[u8]]) {
    algebra(ctx, args, SetOp::Inter, Some(args[1]), false);
}

fn zdiffstore(ctx: &mut Ctx, args: &[&[u8]]) {
    algebra(ctx, args, SetOp::Diff, Some(args[1]), false);
}

// ---------------------------------------------------------------------------
// ZRANDMEMBER

/// A uniformly drawn index below `n` (> 0).
#[inline]
fn draw(rng: &mut Rng, n: usize) -> usize {
    (rng.next_u64() % n as u64) as usize
}

/// The read lookup of the commands that need more of the state than the
/// value (the random source, options parsed after the lookup): `Err` after
/// replying WRONGTYPE, else whether the set exists.
fn lookup_zset(ctx: &mut Ctx, key: &[u8]) -> Result<bool, ()> {
    read_as(ctx, key, as_zset).map(|(z, _)| z.is_some())
}

fn zrandmember(ctx: &mut Ctx, args: &[&[u8]]) {
    let key = args[1];
    if args.len() >= 3 {
        // The count and options are checked before the key is looked up.
        let Some(count) = arg_i64(ctx, args[2]) else {
            return;
        };
        if count == i64::MIN {
            return ctx.err(COUNT_RANGE);
        }
        let withscores = match args {
            [_, _, _] => false,
            [_, _, _, opt] if kw_eq(opt, b"withscores") => true,
            _ => return ctx.syntax(),
        };
        // Twice the count must still fit a signed 64-bit reply length.
        if withscores && !(-(i64::MAX / 2)..=i64::MAX / 2).contains(&count) {
            return ctx.err(PAIRS_RANGE);
        }
        return zrandmember_count(ctx, key, count, withscores);
    }
    match lookup_zset(ctx, key) {
        Err(()) => return,
        Ok(false) => return ctx.out.null(),
        Ok(true) => {}
    }
    let st = &mut *ctx.st;
    let z = st.keyspace.dbs[ctx.db].peek(key).and_then(|e| as_zset(&e.value));
    match z.and_then(|z| z.random_entry(|| st.rng.next_u64())) {
        Some((_, m)) => reply_member(ctx.out, m),
        None => ctx.out.null(),
    }
}

/// ZRANDMEMBER with a count, by Redis's cases: a negative count draws with
/// repetition; a count at least the size gives the whole set (highest
/// first, the order Redis's set iterator walks); otherwise distinct
/// members, chosen in one pass over a listpack, or for a skip list by
/// removing random members from a copy of the set (count close to the
/// size) or by drawing until enough distinct ones came (count small).
/// Nothing is sized by the count before it is known to be below the size.
fn zrandmember_count(ctx: &mut Ctx, key: &[u8], count: i64, withscores: bool) {
    match lookup_zset(ctx, key) {
        Err(()) => return,
        Ok(false) => return ctx.out.array(0),
        Ok(true) => {}
    }
    let st = &mut *ctx.st;
    let out = &mut *ctx.out;
    let Some(z) = st.keyspace.dbs[ctx.db].peek(key).and_then(|e| as_zset(&e.value)) else {
        return out.array(0);
    };
    let rng = &mut st.rng;
    let size = z.len();
    let (n, distinct) = (count.unsigned_abs(), count >= 0);
    if n == 0 || size == 0 {
        return out.array(0);
    }
    if !distinct || n == 1 {
        members_header(out, n as usize, withscores);
        return random_picks(out, z, rng, n, withscores);
    }
    if n >= size as u64 {
        members_header(out, size, withscores);
        for (s, m) in z.entries(0, true) {
            reply_element(out, m, s, withscores);
        }
        return;
    }
    let n = n as usize;
    members_header(out, n, withscores);
    match z {
        ZSet::Lp(_) => {
            // Selection sampling: each element is taken with probability
            // (still needed) / (still left), which yields exactly n.
            let (mut need, mut left) = (n, size);
            for (s, m) in z.entries(0, false) {
                if need > 0 && draw(rng, left) < need {
                    reply_element(out, m, s, withscores);
                    need -= 1;
                }
                left -= 1;
            }
        }
        ZSet::Skip(_) if n * SUB_STRATEGY_MUL > size => {
            let mut all: Vec<(f64, LpVal)> = z.entries(0, false).collect();
            while all.len() > n {
                let i = draw(rng, all.len());
                all.swap_remove(i);
            }
            for (s, m) in all {
                reply_element(out, m, s, withscores);
            }
        }
        ZSet::Skip(_) => {
            let mut seen: HashSet<&[u8]> = HashSet::with_capacity(n);
            while seen.len() < n {
                let Some((s, m @ LpVal::Str(b))) = z.random_entry(|| rng.next_u64()) else { break };
                if seen.insert(b) {
                    reply_element(out, m, s, withscores);
                }
            }
        }
    }
}

/// `n` members drawn with repetition (the header already written).
fn random_picks(out: &mut ReplyBuf, z: &ZSet, rng: &mut Rng, n: u64, withscores: bool) {
    match z {
        ZSet::Lp(_) => {
            // Random access into a listpack is a walk: index it once.
            let all: Vec<(f64, LpVal)> = z.entries(0, false).collect();
            for _ in 0..n {
                let (s, m) = all[draw(rng, all.len())];
                reply_element(out, m, s, withscores);
            }
        }
        ZSet::Skip(_) => {
            for _ in 0..n {
                let Some((s, m)) = z.random_entry(|| rng.next_u64()) else { break };
                reply_element(out, m, s, withscores);
            }
        }
    }
}

// ---------------------------------------------------------------------------
// ZSCAN

/// The reply for a missing key: cursor 0, nothing.
fn empty_scan(out: &mut ReplyBuf) {
    out.array(2);
    out.bulk(b"0");
    out.array(0);
}

/// ZSCAN: a listpack set is returned whole with cursor 0 (cursor and COUNT
/// ignored), members and scores as stored (so an integral score prints as
/// an integer); a skip list's table is walked from the cursor until COUNT
/// members were seen or ten times as many buckets visited, scores printed
/// as `%.17g`. MATCH filters on members. Scores are bulk strings in RESP3
/// too.
fn zscan(ctx: &mut Ctx, args: &[&[u8]]) {
    let key = args[1];
    let Some(cursor) = arg_cursor(ctx, args[2]) else {
        return;
    };
    match lookup_zset(ctx, key) {
        Err(()) => return,
        Ok(false) => return empty_scan(ctx.out),
        Ok(true) => {}
    }
    // Options are only looked at for an existing set, as in Redis.
    let Some(opts) = scan_options(ctx, &args[3..], false) else {
        return;
    };
    let out = &mut *ctx.out;
    let Some(z) = ctx.st.keyspace.dbs[ctx.db].peek(key).and_then(|e| as_zset(&e.value)) else {
        return empty_scan(out);
    };
    // The pairs go to a side buffer: the cursor, which comes first in the
    // reply, is only known at the end.
    let mut items = ReplyBuf::new(out.proto);
    let mut n = 0;
    let next = match z {
        ZSet::Lp(lp) => {
            let mut it = lp.iter();
            while let (Some(m), Some(s)) = (it.next(), it.next()) {
                if with_bytes(m, |m| opts.matches(m)) {
                    reply_member(&mut items, m);
                    reply_member(&mut items, s);
                    n += 2;
                }
            }
            0
        }
        ZSet::Skip(_) => {
            let mut budget = opts.count.saturating_mul(10);
            let (mut seen, mut c) = (0i64, cursor);
            let mut text = Vec::with_capacity(32);
            loop {
                c = z.scan(c, |m, s| {
                    seen += 1;
                    if opts.matches(m) {
                        items.bulk(m);
                        text.clear();
                        write_double(s, &mut text);
                        items.bulk(&text);
                        n += 2;
                    }
                });
                if c == 0 || budget == 0 || seen >= opts.count {
                    break c;
                }
                budget -= 1;
            }
        }
    };
    out.array(2);
    // Redis prints the unsigned cursor as a signed number.
    out.bulk(itoa(next as i64).as_bytes());
    out.array(n);
    out.raw(&items.buf);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scores_parse_strictly_and_bounds_loosely() {
        assert_eq!(parse_score(b"1.5"), Some(1.5));
        assert_eq!(parse_score(b"-inf"), Some(f64::NEG_INFINITY));
        assert_eq!(parse_score(b"0x10"), Some(16.0));
        assert!(parse_score(b"1.5e-320").is_some_and(|v| v > 0.0));
        for bad in [&b""[..], b" 1", b"1 ", b"nan", b"1e400", b"1e-400", b"1\0", b"abc"] {
            assert_eq!(parse_score(bad), None, "{bad:?}");
        }
        let long = format!("0.{}1", "0".repeat(200));
        assert!(parse_score(long.as_bytes()).is_some());
        assert_eq!(parse_bound(b"("), Some((0.0, true)));
        assert_eq!(parse_bound(b""), Some((0.0, false)));
        assert_eq!(parse_bound(b" 1"), Some((1.0, false)));
        assert_eq!(parse_bound(b"1e400"), Some((f64::INFINITY, false)));
        assert_eq!(parse_bound(b"(2\0junk"), Some((2.0, true)));
        assert_eq!(parse_bound(b"((1"), None);
        assert_eq!(parse_bound(b"[1"), None);
        assert_eq!(parse_bound(b"nan"), None);
    }

    #[test]
    fn rank_spans_clamp_like_redis() {
        assert_eq!(rank_span(0, -1, 4), Some((0, 3)));
        assert_eq!(rank_span(-2, -1, 4), Some((2, 3)));
        assert_eq!(rank_span(-100, 1, 4), Some((0, 1)));
        assert_eq!(rank_span(0, -100, 4), None);
        assert_eq!(rank_span(4, 10, 4), None);
        assert_eq!(rank_span(i64::MIN, i64::MAX, 4), Some((0, 3)));
        assert_eq!(rank_span(i64::MAX, i64::MIN, 4), None);
    }

    #[test]
    fn aggregates_treat_nan_as_redis_does() {
        let mut t = f64::INFINITY;
        Aggregate::Sum.fold(&mut t, f64::NEG_INFINITY);
        assert_eq!(t, 0.0);
        let mut t = 1.0;
        Aggregate::Min.fold(&mut t, f64::NAN);
        Aggregate::Max.fold(&mut t, f64::NAN);
        assert_eq!(t, 1.0);
        Aggregate::Min.fold(&mut t, -2.0);
        assert_eq!(t, -2.0);
    }
}
