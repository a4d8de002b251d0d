//! String commands: GET/SET and their variants, counters, ranges, LCS.
//!
//! Also the lookups and value views the bitmap commands share: `read`
//! (Redis's lookupKeyRead, counting hits and misses), `str_of` (a string
//! value's bytes without allocating), `set_key` (Redis's setKey).

use super::flags::*;
use super::notify;
use super::table::Command;
use super::{arg_i64, Ctx, NOT_FLOAT, NOT_INT, OVERFLOW, WRONGTYPE};
use crate::keyspace::value::EMBSTR_MAX;
use crate::keyspace::{CBytes, Value};
use crate::protocol::ReplyBuf;
use crate::util::bits::clamp_range;
use crate::util::lcs::{Lcs, LcsError};
use crate::util::{itoa, kw_eq, ld_add, parse_i64, Itoa, LdError};
use std::ops::Deref;

pub const COMMANDS: &[Command] = &[
    Command::new("get", 2, READONLY | FAST, get).keys(1, 1, 1),
    Command::new("set", -3, WRITE | DENYOOM, set).keys(1, 1, 1),
    Command::new("setnx", 3, WRITE | DENYOOM | FAST, setnx).keys(1, 1, 1),
    Command::new("setex", 4, WRITE | DENYOOM, setex).keys(1, 1, 1),
    Command::new("psetex", 4, WRITE | DENYOOM, psetex).keys(1, 1, 1),
    Command::new("mget", -2, READONLY | FAST, mget).keys(1, -1, 1),
    Command::new("mset", -3, WRITE | DENYOOM, mset).keys(1, -1, 2),
    Command::new("msetnx", -3, WRITE | DENYOOM, msetnx).keys(1, -1, 2),
    Command::new("getset", 3, WRITE | DENYOOM | FAST, getset).keys(1, 1, 1),
    Command::new("getdel", 2, WRITE | FAST, getdel).keys(1, 1, 1),
    Command::new("getex", -2, WRITE | FAST, getex).keys(1, 1, 1),
    Command::new("append", 3, WRITE | DENYOOM | FAST, append).keys(1, 1, 1),
    Command::new("strlen", 2, READONLY | FAST, strlen).keys(1, 1, 1),
    Command::new("incr", 2, WRITE | DENYOOM | FAST, incr).keys(1, 1, 1),
    Command::new("decr", 2, WRITE | DENYOOM | FAST, decr).keys(1, 1, 1),
    Command::new("incrby", 3, WRITE | DENYOOM | FAST, incrby).keys(1, 1, 1),
    Command::new("decrby", 3, WRITE | DENYOOM | FAST, decrby).keys(1, 1, 1),
    Command::new("incrbyfloat", 3, WRITE | DENYOOM | FAST, incrbyfloat).keys(1, 1, 1),
    Command::new("getrange", 4, READONLY, getrange).keys(1, 1, 1),
    Command::new("substr", 4, READONLY, getrange).keys(1, 1, 1),
    Command::new("setrange", 4, WRITE | DENYOOM, setrange).keys(1, 1, 1),
    Command::new("lcs", -3, READONLY, lcs).keys(1, 2, 1),
];

pub const TOO_BIG: &str = "ERR string exceeds maximum allowed size (proto-max-bulk-len)";

// ---------------------------------------------------------------------------
// Shared lookups and value views

/// The bytes of a string value; integers are formatted on the stack.
pub enum Str<'a> {
    Bytes(&'a [u8]),
    Int(Itoa),
}

impl Deref for Str<'_> {
    type Target = [u8];
    #[inline]
    fn deref(&self) -> &[u8] {
        match self {
            Str::Bytes(b) => b,
            Str::Int(i) => i.as_bytes(),
        }
    }
}

/// The bytes of a string value; `None` for a value of another type.
#[inline]
pub fn str_of(v: &Value) -> Option<Str<'_>> {
    #[allow(unreachable_patterns)]
    match v {
        Value::Int(n) => Some(Str::Int(itoa(*n))),
        Value::Emb(b) => Some(Str::Bytes(b.as_bytes())),
        Value::Raw(b) => Some(Str::Bytes(b)),
        _ => None,
    }
}

/// Looks `key` up for reading, as Redis's lookupKeyRead: expires it if due,
/// counts a keyspace hit or miss and sends `keymiss` on a miss. Returns
/// the value and the reply buffer, borrowed apart.
#[inline]
pub fn read<'c>(ctx: &'c mut Ctx, key: &[u8]) -> (Option<&'c Value>, &'c mut ReplyBuf) {
    let (now, db) = (ctx.now, ctx.db);
    if ctx.st.notify_flags & notify::KEY_MISS != 0 && !ctx.st.keyspace.dbs[db].exists(key, now) {
        ctx.st.stats.keyspace_misses += 1;
        ctx.notify(notify::KEY_MISS, "keymiss", key);
        return (None, &mut *ctx.out);
    }
    let st = &mut *ctx.st;
    let v = match st.keyspace.dbs[db].get(key, now) {
        Some(e) => {
            st.stats.keyspace_hits += 1;
            Some(&e.value)
        }
        None => {
            st.stats.keyspace_misses += 1;
            None
        }
    };
    (v, &mut *ctx.out)
}

/// Redis's setKey: stores `value` at `key` (deleting it first if it has
/// expired), dropping any TTL unless `keep_ttl`. The caller counts the
/// change.
pub fn set_key(ctx: &mut Ctx, key: &[u8], value: Value, keep_ttl: bool) {
    let now = ctx.now;
    let db = &mut ctx.st.keyspace.dbs[ctx.db];
    db.expire_if_needed(key, now);
    db.set(key, value, keep_ttl, now);
}

/// Length of a string value (integers as formatted).
#[inline]
fn str_len(v: &Value) -> Option<usize> {
    str_of(v).map(|s| s.len())
}

/// A string value as Redis's createStringObject makes it from bytes that
/// are not tried as an integer: embstr when short, else raw.
fn plain_string(b: Vec<u8>) -> Value {
    if b.len() <= EMBSTR_MAX {
        Value::Emb(CBytes::new(&b))
    } else {
        Value::Raw(b)
    }
}

/// A zero-filled buffer, or `None` when the memory cannot be had.
pub fn zeroed(len: usize) -> Option<Vec<u8>> {
    let mut v = Vec::new();
    v.try_reserve_exact(len).ok()?;
    v.resize(len, 0);
    Some(v)
}

/// Grows `v` with zeros to at least `len` bytes; false when the memory
/// cannot be had.
pub fn grow_zeroed(v: &mut Vec<u8>, len: usize) -> bool {
    if v.len() < len {
        if v.try_reserve(len - v.len()).is_err() {
            return false;
        }
        v.resize(len, 0);
    }
    true
}

/// Replies the string at `key` (null when missing) as GET does. `Err` after
/// replying WRONGTYPE; otherwise whether the key was found.
fn reply_get(ctx: &mut Ctx, key: &[u8]) -> Result<bool, ()> {
    let (v, out) = read(ctx, key);
    match v {
        None => {
            out.null();
            Ok(false)
        }
        Some(v) => match str_of(v) {
            Some(s) => {
                out.bulk(&s);
                Ok(true)
            }
            None => {
                out.error(WRONGTYPE);
                Err(())
            }
        },
    }
}

// ---------------------------------------------------------------------------
// GET, SET and friends

fn get(ctx: &mut Ctx, args: &[&[u8]]) {
    let _ = reply_get(ctx, args[1]);
}

/// Expiry option units.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Unit {
    Ex,
    Px,
    ExAt,
    PxAt,
}

impl Unit {
    fn parse(a: &[u8]) -> Option<Unit> {
        [(&b"ex"[..], Unit::Ex), (b"px", Unit::Px), (b"exat", Unit::ExAt), (b"pxat", Unit::PxAt)]
            .into_iter()
            .find(|(name, _)| kw_eq(a, name))
            .map(|(_, u)| u)
    }

    fn absolute(self) -> bool {
        matches!(self, Unit::ExAt | Unit::PxAt)
    }
}

/// Options of SET (NX XX GET KEEPTTL EX PX EXAT PXAT) and GETEX (EX PX
/// EXAT PXAT PERSIST).
#[derive(Default, Debug)]
struct Opts<'a> {
    nx: bool,
    xx: bool,
    get: bool,
    keepttl: bool,
    persist: bool,
    expire: Option<(Unit, &'a [u8])>,
}

/// Parses the options from `args[first..]`; `None` is a syntax error.
/// Repeating an option is allowed; conflicting ones are not (NX with XX,
/// KEEPTTL or PERSIST with an expiry, two different expiry units). The
/// expiry value is only checked later.
fn parse_opts<'a>(args: &[&'a [u8]], first: usize, set: bool) -> Option<Opts<'a>> {
    let mut o = Opts::default();
    let mut j = first;
    while j < args.len() {
        let a = args[j];
        let unit = o.expire.map(|(u, _)| u);
        if set && kw_eq(a, b"nx") && !o.xx {
            o.nx = true;
        } else if set && kw_eq(a, b"xx") && !o.nx {
            o.xx = true;
        } else if set && kw_eq(a, b"get") {
            o.get = true;
        } else if set && kw_eq(a, b"keepttl") && unit.is_none() {
            o.keepttl = true;
        } else if !set && kw_eq(a, b"persist") && unit.is_none() {
            o.persist = true;
        } else {
            let u = Unit::parse(a)?;
            let next = args.get(j + 1)?;
            if o.keepttl || o.persist || unit.is_some_and(|x| x != u) {
                return None;
            }
            o.expire = Some((u, next));
            j += 1;
        }
        j += 1;
    }
    Some(o)
}

/// The absolute expiry time in ms for an option value, or `None` after
/// replying the error.
fn expire_at(ctx: &mut Ctx, unit: Unit, arg: &[u8]) -> Option<i64> {
    let v = arg_i64(ctx, arg)?;
    let seconds = matches!(unit, Unit::Ex | Unit::ExAt);
    let ms = if v <= 0 || (seconds && v > i64::MAX / 1000) {
        None
    } else {
        let ms = if seconds { v * 1000 } else { v };
        if unit.absolute() {
            Some(ms)
        } else {
            ms.checked_add(ctx.now)
        }
    };
    match ms.filter(|&ms| ms > 0) {
        Some(ms) => Some(ms),
        None => {
            let msg = format!("ERR invalid expire time in '{}' command", ctx.name);
            ctx.err(&msg);
            None
        }
    }
}

/// How a set reports its outcome: SET's +OK / null, or SETNX's :1 / :0.
#[derive(Clone, Copy, PartialEq)]
enum SetReply {
    OkNull,
    OneZero,
}

/// The common path of SET, SETNX, SETEX and PSETEX.
fn set_generic(ctx: &mut Ctx, args: &[&[u8]], key: &[u8], val: &[u8], o: &Opts, style: SetReply) {
    let mut at = None;
    if let Some((unit, arg)) = o.expire {
        match expire_at(ctx, unit, arg) {
            Some(ms) => at = Some(ms),
            None => return,
        }
    }
    if o.get && reply_get(ctx, key).is_err() {
        return;
    }
    let now = ctx.now;
    let db = &mut ctx.st.keyspace.dbs[ctx.db];
    let stored = match db.get_mut(key, now) {
        Some(e) if !o.nx => {
            e.value = Value::string(val);
            if !o.keepttl && !db.expires.is_empty() {
                db.persist(key);
            }
            true
        }
        None if !o.xx => {
            db.add(key, Value::string(val), now);
            true
        }
        _ => false,
    };
    if !stored {
        if !o.get {
            match style {
                SetReply::OkNull => ctx.out.null(),
                SetReply::OneZero => ctx.out.int(0),
            }
        }
        return;
    }
    ctx.changed(key, notify::STRING, "set");
    if let Some(ms) = at {
        ctx.db().set_expire(key, ms);
        ctx.rewrite(vec![b"SET".to_vec(), key.to_vec(), val.to_vec(), b"PXAT".to_vec(), itoa(ms).as_bytes().to_vec()]);
        ctx.notify(notify::GENERIC, "expire", key);
    }
    if !o.get {
        match style {
            SetReply::OkNull => ctx.out.ok(),
            SetReply::OneZero => ctx.out.int(1),
        }
    } else if at.is_none() {
        // Propagated without its GET options.
        let kept = args.iter().enumerate().filter(|(i, a)| *i < 3 || !kw_eq(a, b"get")).map(|(_, a)| a.to_vec());
        ctx.rewrite(kept.collect());
    }
}

fn set(ctx: &mut Ctx, args: &[&[u8]]) {
    match parse_opts(args, 3, true) {
        Some(o) => set_generic(ctx, args, args[1], args[2], &o, SetReply::OkNull),
        None => ctx.syntax(),
    }
}

fn setnx(ctx: &mut Ctx, args: &[&[u8]]) {
    let o = Opts { nx: true, ..Opts::default() };
    set_generic(ctx, args, args[1], args[2], &o, SetReply::OneZero);
}

fn setex(ctx: &mut Ctx, args: &[&[u8]]) {
    let o = Opts { expire: Some((Unit::Ex, args[2])), ..Opts::default() };
    set_generic(ctx, args, args[1], args[3], &o, SetReply::OkNull);
}

fn psetex(ctx: &mut Ctx, args: &[&[u8]]) {
    let o = Opts { expire: Some((Unit::Px, args[2])), ..Opts::default() };
    set_generic(ctx, args, args[1], args[3], &o, SetReply::OkNull);
}

fn getex(ctx: &mut Ctx, args: &[&[u8]]) {
    let Some(o) = parse_opts(args, 2, false) else {
        return ctx.syntax();
    };
    let key = args[1];
    let (v, out) = read(ctx, key);
    match v {
        None => return out.null(),
        Some(v) if !v.is_string() => return out.error(WRONGTYPE),
        Some(_) => {}
    }
    let mut at = None;
    if let Some((unit, arg)) = o.expire {
        match expire_at(ctx, unit, arg) {
            Some(ms) => at = Some(ms),
            None => return,
        }
    }
    let st = &mut *ctx.st;
    if let Some(s) = st.keyspace.dbs[ctx.db].peek(key).and_then(|e| str_of(&e.value)) {
        ctx.out.bulk(&s);
    }
    let absolute = o.expire.is_some_and(|(u, _)| u.absolute());
    match at {
        Some(ms) if absolute && ms <= ctx.now && !ctx.st.loading => {
            ctx.db().remove(key);
            ctx.rewrite(vec![b"DEL".to_vec(), key.to_vec()]);
            ctx.changed(key, notify::GENERIC, "del");
        }
        Some(ms) => {
            ctx.db().set_expire(key, ms);
            ctx.rewrite(vec![b"PEXPIREAT".to_vec(), key.to_vec(), itoa(ms).as_bytes().to_vec()]);
            ctx.changed(key, notify::GENERIC, "expire");
        }
        None if o.persist && ctx.db().persist(key) => {
            ctx.rewrite(vec![b"PERSIST".to_vec(), key.to_vec()]);
            ctx.changed(key, notify::GENERIC, "persist");
        }
        None => {}
    }
}

fn getdel(ctx: &mut Ctx, args: &[&[u8]]) {
    let key = args[1];
    if reply_get(ctx, key) == Ok(true) && ctx.db().remove(key).is_some() {
        ctx.rewrite(vec![b"DEL".to_vec(), key.to_vec()]);
        ctx.changed(key, notify::GENERIC, "del");
    }
}

fn getset(ctx: &mut Ctx, args: &[&[u8]]) {
    let (key, val) = (args[1], args[2]);
    if reply_get(ctx, key).is_err() {
        return;
    }
    set_key(ctx, key, Value::string(val), false);
    ctx.changed(key, notify::STRING, "set");
    ctx.rewrite(vec![b"SET".to_vec(), key.to_vec(), val.to_vec()]);
}

fn mget(ctx: &mut Ctx, args: &[&[u8]]) {
    ctx.out.array(args.len() - 1);
    for key in &args[1..] {
        let (v, out) = read(ctx, key);
        match v.and_then(str_of) {
            Some(s) => out.bulk(&s),
            None => out.null(),
        }
    }
}

fn mset_generic(ctx: &mut Ctx, args: &[&[u8]], nx: bool) {
    if args.len().is_multiple_of(2) {
        return ctx.arity_error();
    }
    let now = ctx.now;
    if nx {
        let db = &mut ctx.st.keyspace.dbs[ctx.db];
        if args[1..].iter().step_by(2).any(|k| db.exists(k, now)) {
            return ctx.out.int(0);
        }
    }
    for kv in args[1..].chunks_exact(2) {
        set_key(ctx, kv[0], Value::string(kv[1]), false);
        ctx.changed(kv[0], notify::STRING, "set");
    }
    if nx {
        ctx.out.int(1);
    } else {
        ctx.out.ok();
    }
}

fn mset(ctx: &mut Ctx, args: &[&[u8]]) {
    mset_generic(ctx, args, false);
}

fn msetnx(ctx: &mut Ctx, args: &[&[u8]]) {
    mset_generic(ctx, args, true);
}

fn append(ctx: &mut Ctx, args: &[&[u8]]) {
    let (key, tail) = (args[1], args[2]);
    let (now, limit) = (ctx.now, ctx.st.config.proto_max_bulk_len);
    let db = &mut ctx.st.keyspace.dbs[ctx.db];
    let total = match db.get_mut(key, now) {
        None => {
            db.add(key, Value::string(tail), now);
            tail.len()
        }
        Some(e) => {
            let Some(len) = str_len(&e.value) else {
                return ctx.wrongtype();
            };
            if (len + tail.len()) as u64 > limit {
                return ctx.err(TOO_BIG);
            }
            let Some(v) = e.value.make_raw() else {
                return ctx.wrongtype();
            };
            if v.try_reserve(tail.len()).is_err() {
                return ctx.err(TOO_BIG);
            }
            v.extend_from_slice(tail);
            v.len()
        }
    };
    ctx.changed(key, notify::STRING, "append");
    ctx.out.int(total as i64);
}

fn strlen(ctx: &mut Ctx, args: &[&[u8]]) {
    let (v, out) = read(ctx, args[1]);
    match v.map(str_len) {
        None => out.int(0),
        Some(None) => out.error(WRONGTYPE),
        Some(Some(n)) => out.int(n as i64),
    }
}

// ---------------------------------------------------------------------------
// Counters

fn incr_by(ctx: &mut Ctx, key: &[u8], incr: i64) {
    let now = ctx.now;
    let db = &mut ctx.st.keyspace.dbs[ctx.db];
    let new = match db.get_mut(key, now) {
        None => {
            db.add(key, Value::Int(incr), now);
            incr
        }
        Some(e) => {
            let old = match &e.value {
                Value::Int(n) => *n,
                v => match str_of(v) {
                    None => return ctx.wrongtype(),
                    Some(s) => match parse_i64(&s) {
                        Some(n) => n,
                        None => return ctx.err(NOT_INT),
                    },
                },
            };
            let Some(new) = old.checked_add(incr) else {
                return ctx.err(OVERFLOW);
            };
            e.value = Value::Int(new);
            new
        }
    };
    ctx.changed(key, notify::STRING, "incrby");
    ctx.out.int(new);
}

fn incr(ctx: &mut Ctx, args: &[&[u8]]) {
    incr_by(ctx, args[1], 1);
}

fn decr(ctx: &mut Ctx, args: &[&[u8]]) {
    incr_by(ctx, args[1], -1);
}

fn incrby(ctx: &mut Ctx, args: &[&[u8]]) {
    if let Some(n) = arg_i64(ctx, args[2]) {
        incr_by(ctx, args[1], n);
    }
}

fn decrby(ctx: &mut Ctx, args: &[&[u8]]) {
    match arg_i64(ctx, args[2]) {
        Some(i64::MIN) => ctx.err("ERR decrement would overflow"),
        Some(n) => incr_by(ctx, args[1], -n),
        None => {}
    }
}

fn incrbyfloat(ctx: &mut Ctx, args: &[&[u8]]) {
    let key = args[1];
    let now = ctx.now;
    let db = &mut ctx.st.keyspace.dbs[ctx.db];
    let (existed, sum) = match db.get_mut(key, now) {
        None => (false, ld_add(None, args[2])),
        Some(e) => match str_of(&e.value) {
            None => return ctx.wrongtype(),
            Some(s) => (true, ld_add(Some(&s), args[2])),
        },
    };
    let sum = match sum {
        Ok(s) => s,
        Err(LdError::NotFloat) => return ctx.err(NOT_FLOAT),
        Err(LdError::NotFinite) => return ctx.err("ERR increment would produce NaN or Infinity"),
    };
    let value = plain_string(sum.clone());
    if existed {
        db.set(key, value, true, now);
    } else {
        db.add(key, value, now);
    }
    ctx.changed(key, notify::STRING, "incrbyfloat");
    ctx.out.bulk(&sum);
    ctx.rewrite(vec![b"SET".to_vec(), key.to_vec(), sum, b"KEEPTTL".to_vec()]);
}

// ---------------------------------------------------------------------------
// Ranges

/// GETRANGE and SUBSTR.
fn getrange(ctx: &mut Ctx, args: &[&[u8]]) {
    let Some(start) = arg_i64(ctx, args[2]) else {
        return;
    };
    let Some(end) = arg_i64(ctx, args[3]) else {
        return;
    };
    let (v, out) = read(ctx, args[1]);
    let Some(v) = v else { return out.bulk(b"") };
    let Some(s) = str_of(v) else {
        return out.error(WRONGTYPE);
    };
    if start < 0 && end < 0 && start > end {
        return out.bulk(b"");
    }
    match clamp_range(start, end, s.len() as i64) {
        Some((a, b)) => out.bulk(&s[a as usize..=b as usize]),
        None => out.bulk(b""),
    }
}

fn setrange(ctx: &mut Ctx, args: &[&[u8]]) {
    let (key, val) = (args[1], args[3]);
    let Some(offset) = arg_i64(ctx, args[2]) else {
        return;
    };
    if offset < 0 {
        return ctx.err("ERR offset is out of range");
    }
    let (now, limit) = (ctx.now, ctx.st.config.proto_max_bulk_len);
    let too_big = offset as u64 + val.len() as u64 > limit;
    let end = offset as usize + val.len();
    let db = &mut ctx.st.keyspace.dbs[ctx.db];
    let len = match db.get_mut(key, now) {
        None => {
            if val.is_empty() {
                return ctx.out.int(0);
            }
            let Some(mut v) = (!too_big).then(|| zeroed(end)).flatten() else {
                return ctx.err(TOO_BIG);
            };
            v[offset as usize..].copy_from_slice(val);
            db.add(key, Value::Raw(v), now);
            end
        }
        Some(e) => {
            let Some(len) = str_len(&e.value) else {
                return ctx.wrongtype();
            };
            if val.is_empty() {
                return ctx.out.int(len as i64);
            }
            if too_big {
                return ctx.err(TOO_BIG);
            }
            let Some(v) = e.value.make_raw() else {
                return ctx.wrongtype();
            };
            if !grow_zeroed(v, end) {
                return ctx.err(TOO_BIG);
            }
            v[offset as usize..end].copy_from_slice(val);
            v.len()
        }
    };
    ctx.changed(key, notify::STRING, "setrange");
    ctx.out.int(len as i64);
}

// ---------------------------------------------------------------------------
// LCS

fn lcs(ctx: &mut Ctx, args: &[&[u8]]) {
    let (ka, kb) = (args[1], args[2]);
    let a_str = read(ctx, ka).0.map(Value::is_string);
    let b_str = read(ctx, kb).0.map(Value::is_string);
    if a_str == Some(false) || b_str == Some(false) {
        return ctx.err("ERR The specified keys must contain string values");
    }
    let (mut idx, mut len_only, mut withlen, mut minlen) = (false, false, false, 0i64);
    let mut j = 3;
    while j < args.len() {
        let a = args[j];
        if kw_eq(a, b"idx") {
            idx = true;
        } else if kw_eq(a, b"len") {
            len_only = true;
        } else if kw_eq(a, b"withmatchlen") {
            withlen = true;
        } else if kw_eq(a, b"minmatchlen") && j + 1 < args.len() {
            let Some(n) = arg_i64(ctx, args[j + 1]) else {
                return;
            };
            minlen = n.max(0);
            j += 1;
        } else {
            return ctx.syntax();
        }
        j += 1;
    }
    if idx && len_only {
        return ctx.err("ERR If you want both the length and indexes, please just use IDX.");
    }
    let limit = ctx.st.config.proto_max_bulk_len;
    let db = &ctx.st.keyspace.dbs[ctx.db];
    let out = &mut *ctx.out;
    let va = db.peek(ka).and_then(|e| str_of(&e.value));
    let vb = db.peek(kb).and_then(|e| str_of(&e.value));
    let (a, b) = (va.as_deref().unwrap_or(b""), vb.as_deref().unwrap_or(b""));
    let table = match Lcs::new(a, b, limit) {
        Ok(t) => t,
        Err(LcsError::TooLong) => return out.error("ERR String too long for LCS"),
        Err(LcsError::OverLimit) => {
            return out.error("ERR Insufficient memory, transient memory for LCS exceeds proto-max-bulk-len")
        }
        Err(LcsError::NoMemory) => {
            return out.error("ERR Insufficient memory, failed allocating transient memory for LCS")
        }
    };
    if len_only {
        return out.int(table.len() as i64);
    }
    let (seq, runs) = table.walk(a, b);
    if !idx {
        return out.bulk(&seq);
    }
    out.map(2);
    out.bulk(b"matches");
    let shown = || runs.iter().filter(|m| minlen == 0 || m.length() as i64 >= minlen);
    out.array(shown().count());
    for m in shown() {
        out.array(2 + withlen as usize);
        out.array(2);
        out.int(m.a.0 as i64);
        out.int(m.a.1 as i64);
        out.array(2);
        out.int(m.b.0 as i64);
        out.int(m.b.1 as i64);
        if withlen {
            out.int(m.length() as i64);
        }
    }
    out.bulk(b"len");
    out.int(table.len() as i64);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn opts(args: &[&str], set: bool) -> Option<String> {
        let v: Vec<&[u8]> = args.iter().map(|a| a.as_bytes()).collect();
        parse_opts(&v, 0, set).map(|o| format!("{o:?}"))
    }

    #[test]
    fn option_conflicts() {
        assert!(opts(&["nx", "nx", "get", "GET", "keepttl", "keepttl"], true).is_some());
        assert!(opts(&["ex", "1", "ex", "2"], true).is_some());
        assert!(opts(&["ex", "1", "px", "2"], true).is_none());
        assert!(opts(&["ex", "1", "keepttl"], true).is_none());
        assert!(opts(&["keepttl", "pxat", "1"], true).is_none());
        assert!(opts(&["nx", "xx"], true).is_none());
        assert!(opts(&["ex"], true).is_none());
        assert!(opts(&["persist"], true).is_none());
        assert!(opts(&["persist", "persist"], false).is_some());
        assert!(opts(&["persist", "ex", "1"], false).is_none());
        assert!(opts(&["ex", "1", "persist"], false).is_none());
        assert!(opts(&["nx"], false).is_none());
        assert!(opts(&["keepttl"], false).is_none());
    }
}
