//! Generic key commands: DEL UNLINK EXISTS TYPE RENAME RENAMENX KEYS SCAN
//! RANDOMKEY DBSIZE FLUSHDB FLUSHALL TOUCH SELECT SWAPDB MOVE COPY OBJECT,
//! and the key lookups with Redis's accounting (keyspace hits and misses,
//! `keymiss` events, access times) that the key and expiry commands share.

use super::flags::*;
use super::notify;
use super::table::Command;
use super::{arg_i64, Ctx, NOT_INT};
use crate::config::{Config, MaxmemoryPolicy};
use crate::keyspace::db::idle_ms;
use crate::keyspace::dict::{Dict, Keyed};
use crate::keyspace::{CBytes, Entry};
use crate::protocol::ReplyBuf;
use crate::state::State;
use crate::util::{eq_ic, itoa, parse_i64, GlobPattern};

pub const COMMANDS: &[Command] = &[
    Command::new("del", -2, WRITE, del).keys(1, -1, 1),
    Command::new("unlink", -2, WRITE | FAST, unlink).keys(1, -1, 1),
    Command::new("exists", -2, READONLY | FAST, exists).keys(1, -1, 1),
    Command::new("type", 2, READONLY | FAST, type_cmd).keys(1, 1, 1),
    Command::new("rename", 3, WRITE, rename).keys(1, 2, 1),
    Command::new("renamenx", 3, WRITE | FAST, renamenx).keys(1, 2, 1),
    Command::new("keys", 2, READONLY, keys),
    Command::new("scan", -2, READONLY, scan),
    Command::new("randomkey", 1, READONLY, randomkey),
    Command::new("dbsize", 1, READONLY | FAST, dbsize),
    Command::new("flushdb", -1, WRITE, flushdb),
    Command::new("flushall", -1, WRITE, flushall),
    Command::new("touch", -2, READONLY | FAST, touch).keys(1, -1, 1),
    Command::new("select", 2, LOADING | STALE | FAST, select),
    Command::new("swapdb", 3, WRITE | FAST, swapdb),
    Command::new("move", 3, WRITE | FAST, move_cmd).keys(1, 1, 1),
    Command::new("copy", -3, WRITE | DENYOOM, copy).keys(1, 2, 1),
    Command::new("object", -2, 0, container).subs(OBJECT_SUBS),
];

const OBJECT_SUBS: &[Command] = &[
    Command::new("object|encoding", 3, READONLY, object_encoding).keys(2, 2, 1),
    Command::new("object|freq", 3, READONLY, object_freq).keys(2, 2, 1),
    Command::new("object|help", 2, LOADING | STALE, object_help),
    Command::new("object|idletime", 3, READONLY, object_idletime).keys(2, 2, 1),
    Command::new("object|refcount", 3, READONLY, object_refcount).keys(2, 2, 1),
];

const NO_SUCH_KEY: &str = "ERR no such key";
const SAME_OBJECT: &str = "ERR source and destination objects are the same";
const DB_RANGE: &str = "ERR DB index is out of range";
const INT_RANGE: &str = "ERR value is out of range, value must between -2147483648 and 2147483647";
/// The reference count Redis reports for a shared object.
const SHARED_REFCOUNT: i64 = i32::MAX as i64;

/// A `maxmemory-policy` of the LFU family is set: OBJECT FREQ works,
/// OBJECT IDLETIME does not.
fn lfu_policy(c: &Config) -> bool {
    matches!(c.maxmemory_policy, MaxmemoryPolicy::AllkeysLfu | MaxmemoryPolicy::VolatileLfu)
}

/// Whether small integers are shared objects: not when a memory limit is
/// enforced by an LRU or LFU policy, which needs each value's own access
/// data.
fn shared_integers(c: &Config) -> bool {
    c.maxmemory == 0
        || matches!(
            c.maxmemory_policy,
            MaxmemoryPolicy::VolatileRandom
                | MaxmemoryPolicy::AllkeysRandom
                | MaxmemoryPolicy::VolatileTtl
                | MaxmemoryPolicy::NoEviction
        )
}

/// A read lookup of `key` in the current database, as Redis counts one: an
/// expired key is deleted first, the access time is updated if `touch`, a
/// hit or a miss is counted, and a miss sends `keymiss` if `notify_miss`.
/// Returns whether the key exists.
pub(crate) fn lookup_read(ctx: &mut Ctx, key: &[u8], touch: bool, notify_miss: bool) -> bool {
    let now = ctx.now;
    let db = &mut ctx.st.keyspace.dbs[ctx.db];
    let found = if touch { db.get(key, now).is_some() } else { db.exists(key, now) };
    if found {
        ctx.st.stats.keyspace_hits += 1;
    } else {
        ctx.st.stats.keyspace_misses += 1;
        if notify_miss {
            ctx.notify(notify::KEY_MISS, "keymiss", key);
        }
    }
    found
}

/// Keyspace bookkeeping at the end of every call:
/// - while clients are paused (CLIENT PAUSE), expired keys are not deleted;
/// - commands that may delete keys of their own choosing (expired keys they
///   come across) and change nothing else, run on their own (not inside
///   EXEC), emit each deletion as a command of its own rather than wrapped
///   in MULTI/EXEC, as Redis does (like active expiry). Other commands' ops
///   are left to `call`.
pub(crate) fn after_call(st: &mut State, cmd: &Command) {
    let pause = st.pause.map(|p| p.until_ms);
    st.keyspace.pause_expiry(pause);
    if st.call_depth == 0 && matches!(cmd.name, "scan" | "randomkey") {
        for op in std::mem::take(&mut st.pending_ops) {
            st.prop.emit(std::slice::from_ref(&op));
        }
    }
}

/// Records a change to `key` in database `db` (any database): watchers are
/// touched and the keyspace event `event` is sent; dirty is not counted.
fn signal(ctx: &mut Ctx, db: usize, key: &[u8], class: u32, event: &str) {
    ctx.st.keyspace.dbs[db].touch(key);
    notify_in(ctx, db, class, event, key);
}

/// Sends a keyspace event for `key` in database `db`.
fn notify_in(ctx: &mut Ctx, db: usize, class: u32, event: &str, key: &[u8]) {
    if ctx.st.notify_flags & class != 0 {
        notify::notify(ctx.st, Some((ctx.cid, &mut *ctx.out)), class, event, key, db);
    }
}

/// Makes the command reach the write path even though it changed nothing
/// (FLUSHDB of an empty database), without counting a change.
fn force_propagation(ctx: &mut Ctx) {
    if ctx.dirty == 0 {
        // `call` adds the call's dirty count to the server's after the
        // handler: take it back here so the total is unchanged.
        ctx.dirty = 1;
        ctx.st.dirty = ctx.st.dirty.wrapping_sub(1);
    }
}

/// Parses an argument as Redis's getIntFromObjectOrReply: a 32-bit integer;
/// `msg` replaces both of its errors when given.
fn arg_int(ctx: &mut Ctx, b: &[u8], msg: Option<&str>) -> Option<i64> {
    match parse_i64(b) {
        None => ctx.err(msg.unwrap_or(NOT_INT)),
        Some(v) if v < i32::MIN as i64 || v > i32::MAX as i64 => ctx.err(msg.unwrap_or(INT_RANGE)),
        Some(v) => return Some(v),
    }
    None
}

/// A database index argument: an int, then within the configured count.
fn arg_db(ctx: &mut Ctx, b: &[u8]) -> Option<usize> {
    let id = arg_int(ctx, b, None)?;
    if id < 0 || id as usize >= ctx.st.keyspace.dbs.len() {
        ctx.err(DB_RANGE);
        return None;
    }
    Some(id as usize)
}

/// Frees a value removed by a command, in the background if `lazy` and the
/// value is costly to free.
fn free(ctx: &mut Ctx, e: Entry, lazy: bool) {
    if lazy {
        ctx.st.keyspace.lazyfree.free_entry(e);
    } else {
        ctx.st.keyspace.lazyfree.drop_entry(e);
    }
}

fn del(ctx: &mut Ctx, args: &[&[u8]]) {
    let lazy = ctx.st.config.lazyfree_lazy_user_del;
    del_generic(ctx, args, lazy);
}

fn unlink(ctx: &mut Ctx, args: &[&[u8]]) {
    del_generic(ctx, args, true);
}

fn del_generic(ctx: &mut Ctx, args: &[&[u8]], lazy: bool) {
    let now = ctx.now;
    let mut n = 0;
    for k in &args[1..] {
        let db = &mut ctx.st.keyspace.dbs[ctx.db];
        db.expire_if_needed(k, now);
        if let Some(e) = db.remove(k) {
            free(ctx, e, lazy);
            n += 1;
            ctx.changed(k, notify::GENERIC, "del");
        }
    }
    ctx.out.int(n);
}

fn exists(ctx: &mut Ctx, args: &[&[u8]]) {
    count_existing(ctx, &args[1..], false);
}

fn touch(ctx: &mut Ctx, args: &[&[u8]]) {
    count_existing(ctx, &args[1..], true);
}

/// Replies how many of `keys` exist (each occurrence counts), looking each
/// up for reading; `touch` records the access (TOUCH) or not (EXISTS).
fn count_existing(ctx: &mut Ctx, keys: &[&[u8]], touch: bool) {
    let mut n = 0;
    for k in keys {
        if lookup_read(ctx, k, touch, true) {
            n += 1;
        }
    }
    ctx.out.int(n);
}

/// The type name of `key` after a read lookup ("none" when missing).
fn type_of(ctx: &mut Ctx, key: &[u8]) -> &'static str {
    if !lookup_read(ctx, key, false, true) {
        return "none";
    }
    ctx.db().peek(key).map_or("none", |e| e.value.type_name())
}

fn type_cmd(ctx: &mut Ctx, args: &[&[u8]]) {
    let name = type_of(ctx, args[1]);
    ctx.out.simple(name);
}

fn rename(ctx: &mut Ctx, args: &[&[u8]]) {
    rename_generic(ctx, args, false);
}

fn renamenx(ctx: &mut Ctx, args: &[&[u8]]) {
    rename_generic(ctx, args, true);
}

fn rename_generic(ctx: &mut Ctx, args: &[&[u8]], nx: bool) {
    let (src, dst) = (args[1], args[2]);
    let now = ctx.now;
    let lazy = ctx.st.config.lazyfree_lazy_server_del;
    if !ctx.db().lookup_write(src, now) {
        return ctx.err(NO_SUCH_KEY);
    }
    if src == dst {
        return if nx { ctx.out.int(0) } else { ctx.out.ok() };
    }
    if ctx.db().lookup_write(dst, now) {
        if nx {
            return ctx.out.int(0);
        }
        if let Some(old) = ctx.db().remove(dst) {
            free(ctx, old, lazy);
        }
    }
    let db = ctx.db;
    if !relocate(ctx, (db, src), (db, dst), ("rename_from", "rename_to")) {
        return ctx.err(NO_SUCH_KEY);
    }
    if nx {
        ctx.out.int(1);
    } else {
        ctx.out.ok();
    }
}

/// Moves the entry at `from` (database, key) with its expiry to `to`, where
/// the key must be absent; touches the watchers of both and sends `new`
/// for the destination, then `events` (from, to). Returns false when the
/// source is missing. Counts one change.
fn relocate(ctx: &mut Ctx, from: (usize, &[u8]), to: (usize, &[u8]), events: (&str, &str)) -> bool {
    let Some((mut e, at)) = ctx.st.keyspace.dbs[from.0].take(from.1) else {
        return false;
    };
    if from.1 != to.1 {
        e.key = CBytes::new(to.1);
    }
    ctx.st.keyspace.dbs[to.0].add_entry(e, at);
    notify_in(ctx, to.0, notify::NEW, "new", to.1);
    ctx.st.keyspace.dbs[from.0].touch(from.1);
    ctx.st.keyspace.dbs[to.0].touch(to.1);
    notify_in(ctx, from.0, notify::GENERIC, events.0, from.1);
    notify_in(ctx, to.0, notify::GENERIC, events.1, to.1);
    ctx.dirty += 1;
    true
}

fn keys(ctx: &mut Ctx, args: &[&[u8]]) {
    let all = args[1] == b"*";
    let glob = GlobPattern::new(args[1], false);
    let now = ctx.now;
    let db = &ctx.st.keyspace.dbs[ctx.db];
    let out = &mut *ctx.out;
    let d = out.begin_deferred(b'*');
    let mut n = 0;
    for e in db.dict.iter() {
        if (all || glob.matches(&e.key)) && !db.is_expired(&e.key, now) {
            out.bulk(&e.key);
            n += 1;
        }
    }
    out.end_deferred(d, n);
}

/// Parses a SCAN cursor the way C's strtoul reads it in Redis: no leading
/// space, an optional sign (a minus negates modulo 2^64), decimal digits up
/// to the end of the argument or a NUL byte, and no overflow; the empty
/// string is cursor 0.
fn parse_cursor(b: &[u8]) -> Option<u64> {
    let b = match b.iter().position(|&c| c == 0) {
        Some(i) => &b[..i],
        None => b,
    };
    if b.is_empty() {
        return Some(0);
    }
    let (neg, digits) = match b[0] {
        b'-' => (true, &b[1..]),
        b'+' => (false, &b[1..]),
        _ => (false, b),
    };
    if digits.is_empty() || !digits.iter().all(u8::is_ascii_digit) {
        return None;
    }
    let mut v: u64 = 0;
    for &c in digits {
        v = v.checked_mul(10)?.checked_add((c - b'0') as u64)?;
    }
    Some(if neg { v.wrapping_neg() } else { v })
}

/// Reads a SCAN-family cursor argument, replying the error if it is not one.
pub(crate) fn arg_cursor(ctx: &mut Ctx, b: &[u8]) -> Option<u64> {
    let c = parse_cursor(b);
    if c.is_none() {
        ctx.err("ERR invalid cursor");
    }
    c
}

/// The options of SCAN, SSCAN, HSCAN and ZSCAN after the cursor.
pub(crate) struct ScanOpts<'a> {
    /// COUNT: at least 1, 10 unless given.
    pub count: i64,
    /// MATCH (the last one given); `None` for none or `*`.
    pub pattern: Option<GlobPattern>,
    /// TYPE (SCAN only).
    pub type_name: Option<&'a [u8]>,
}

impl ScanOpts<'_> {
    /// Whether `s` passes the MATCH filter.
    pub fn matches(&self, s: &[u8]) -> bool {
        self.pattern.as_ref().map_or(true, |p| p.matches(s))
    }
}

/// One step of SSCAN, HSCAN or ZSCAN over a collection's hash table, as
/// Redis walks it: whole buckets from `cursor` until at least `count` reply
/// elements were visited (`per_entry` of them for each entry: two for
/// pairs), the scan ended, or ten times `count` more buckets were tried.
/// MATCH filtering is the caller's, after the walk, so COUNT counts what
/// was visited. Returns the next cursor.
pub(crate) fn scan_table<T: Keyed>(d: &Dict<T>, cursor: u64, count: i64, per_entry: i64, mut f: impl FnMut(&T)) -> u64 {
    let mut budget = count.saturating_mul(10);
    let mut visited = 0i64;
    let mut c = cursor;
    loop {
        c = d.scan(c, |t| {
            visited += per_entry;
            f(t)
        });
        if c == 0 || budget == 0 || visited >= count {
            return c;
        }
        budget -= 1;
    }
}

/// The reply of the SCAN family: the next cursor (printed signed, as Redis
/// prints it), then the `n` elements already encoded in `items`.
pub(crate) fn scan_reply(out: &mut ReplyBuf, next: u64, items: &ReplyBuf, n: usize) {
    out.array(2);
    out.bulk(itoa(next as i64).as_bytes());
    out.array(n);
    out.raw(&items.buf);
}

/// The reply of SSCAN, HSCAN and ZSCAN for a missing key: cursor 0, nothing.
pub(crate) fn empty_scan(out: &mut ReplyBuf) {
    out.array(2);
    out.bulk(b"0");
    out.array(0);
}

/// Parses `opts` (the arguments after the cursor) as Redis's
/// scanGenericCommand does, replying the error when they are wrong; TYPE is
/// only known to SCAN (`with_type`).
pub(crate) fn scan_options<'a>(ctx: &mut Ctx, opts: &[&'a [u8]], with_type: bool) -> Option<ScanOpts<'a>> {
    let mut o = ScanOpts { count: 10, pattern: None, type_name: None };
    let mut i = 0;
    while i < opts.len() {
        let more = opts.len() - i - 1;
        let opt = opts[i];
        if eq_ic(opt, b"count") && more >= 1 {
            let c = arg_i64(ctx, opts[i + 1])?;
            if c < 1 {
                ctx.syntax();
                return None;
            }
            o.count = c;
        } else if eq_ic(opt, b"match") && more >= 1 {
            o.pattern = (opts[i + 1] != b"*").then(|| GlobPattern::new(opts[i + 1], false));
        } else if with_type && eq_ic(opt, b"type") && more >= 1 {
            o.type_name = Some(opts[i + 1]);
        } else {
            ctx.syntax();
            return None;
        }
        i += 2;
    }
    Some(o)
}

fn scan(ctx: &mut Ctx, args: &[&[u8]]) {
    let Some(cursor) = arg_cursor(ctx, args[1]) else {
        return;
    };
    let Some(ScanOpts { count, pattern, type_name }) = scan_options(ctx, &args[2..], true) else {
        return;
    };

    // Collect: at least `count` keys unless the scan ends, visiting at most
    // ten times `count` positions.
    let db = &ctx.st.keyspace.dbs[ctx.db];
    let mut found: Vec<CBytes> = Vec::new();
    let mut cursor = cursor;
    let mut budget = count.saturating_mul(10);
    loop {
        cursor = db.dict.scan(cursor, |e| found.push(e.key.clone()));
        if cursor == 0 || budget == 0 || found.len() as i64 >= count {
            break;
        }
        budget -= 1;
    }

    // Filter: pattern, then type (a read lookup, which may expire the key),
    // then expiry.
    let now = ctx.now;
    let mut keys = Vec::with_capacity(found.len());
    for k in found {
        if let Some(p) = &pattern {
            if !p.matches(&k) {
                continue;
            }
        }
        if let Some(t) = type_name {
            if !eq_ic(t, type_of(ctx, &k).as_bytes()) {
                continue;
            }
        }
        if ctx.db().expire_if_needed(&k, now) {
            continue;
        }
        keys.push(k);
    }
    ctx.out.array(2);
    ctx.out.bulk(itoa(cursor as i64).as_bytes());
    ctx.out.bulks(keys.iter());
}

fn randomkey(ctx: &mut Ctx, _: &[&[u8]]) {
    let now = ctx.now;
    // Where expired keys cannot be deleted (replica, loading) and every key
    // may be expired, give up looking for a live one after this many tries.
    let mut tries = 100;
    loop {
        let rng = &mut ctx.st.rng;
        let db = &mut ctx.st.keyspace.dbs[ctx.db];
        let Some(k) = db.random_key(|| rng.next_u64()) else {
            return ctx.out.null();
        };
        if !db.deletes_expired(now) && db.expires.len() == db.len() {
            tries -= 1;
            if tries == 0 {
                return ctx.out.bulk(&k);
            }
        }
        if !db.expire_if_needed(&k, now) {
            return ctx.out.bulk(&k);
        }
    }
}

fn dbsize(ctx: &mut Ctx, _: &[&[u8]]) {
    let n = ctx.db().len();
    ctx.out.int(n as i64);
}

/// The ASYNC/SYNC option of FLUSHALL and FLUSHDB: whether to free lazily.
fn flush_mode(ctx: &mut Ctx, args: &[&[u8]]) -> Option<bool> {
    match args {
        [_] => Some(ctx.st.config.lazyfree_lazy_user_flush),
        [_, a] if eq_ic(a, b"sync") => Some(false),
        [_, a] if eq_ic(a, b"async") => Some(true),
        _ => {
            ctx.syntax();
            None
        }
    }
}

/// Before the contents of database `db` are dropped (FLUSH*) or replaced by
/// those of database `with` (SWAPDB), flags the clients whose WATCHed keys
/// in `db` this changes: a key that exists in either. A watch taken on an
/// already expired key is not broken by that key going away, nor by its
/// replacement with another expired one; a missing key replaced by an
/// expired one counts as expired from then on.
fn touch_watched_replaced(st: &mut State, db: usize, with: Option<usize>, now: i64) {
    let dbs = &st.keyspace.dbs;
    for (key, ids) in &dbs[db].watched {
        let here = dbs[db].dict.contains(key);
        let there = with.is_some_and(|w| dbs[w].dict.contains(key));
        if !here && !there {
            continue;
        }
        let there_expired = there && with.is_some_and(|w| dbs[w].is_expired(key, now));
        for &id in ids {
            let Some(c) = st.clients.get_mut(id) else {
                continue;
            };
            let Some(w) = c.watched.iter_mut().find(|w| w.db == db && w.key == *key) else {
                continue;
            };
            if w.expired_then {
                if !there {
                    // The expired key is deleted: no logical change.
                    w.expired_then = false;
                    continue;
                }
                if there_expired {
                    continue;
                }
            } else if !here && there_expired {
                w.expired_then = true;
                continue;
            }
            c.dirty_cas = true;
        }
    }
}

fn flushdb(ctx: &mut Ctx, args: &[&[u8]]) {
    let Some(lazy) = flush_mode(ctx, args) else {
        return;
    };
    let now = ctx.now;
    touch_watched_replaced(ctx.st, ctx.db, None, now);
    let removed = ctx.st.keyspace.flush(Some(ctx.db), lazy);
    ctx.st.aof.note_flush(now / 1000);
    ctx.dirty += removed;
    force_propagation(ctx);
    ctx.out.ok();
}

fn flushall(ctx: &mut Ctx, args: &[&[u8]]) {
    let Some(lazy) = flush_mode(ctx, args) else {
        return;
    };
    let now = ctx.now;
    for db in 0..ctx.st.keyspace.dbs.len() {
        touch_watched_replaced(ctx.st, db, None, now);
    }
    let removed = ctx.st.keyspace.flush(None, lazy);
    ctx.st.aof.note_flush(now / 1000);
    // As in Redis, a save in progress is dropped and, with save rules, the
    // now empty dataset saved at once; the changes still count, so the
    // flush reaches the write path.
    super::persist::abort_background(ctx.st, "Background saving stopped by FLUSHALL");
    if !ctx.st.config.save_params.is_empty() {
        let dirty = ctx.st.dirty;
        let _ = super::persist::save_now(ctx.st);
        ctx.st.dirty = dirty;
    }
    ctx.dirty += removed + 1;
    ctx.out.ok();
}

fn select(ctx: &mut Ctx, args: &[&[u8]]) {
    let Some(id) = arg_db(ctx, args[1]) else {
        return;
    };
    ctx.db = id;
    ctx.out.ok();
}

fn swapdb(ctx: &mut Ctx, args: &[&[u8]]) {
    let Some(a) = arg_int(ctx, args[1], Some("ERR invalid first DB index")) else {
        return;
    };
    let Some(b) = arg_int(ctx, args[2], Some("ERR invalid second DB index")) else {
        return;
    };
    let n = ctx.st.keyspace.dbs.len() as i64;
    if a < 0 || a >= n || b < 0 || b >= n {
        return ctx.err(DB_RANGE);
    }
    let (a, b, now) = (a as usize, b as usize, ctx.now);
    if a != b {
        touch_watched_replaced(ctx.st, a, Some(b), now);
        touch_watched_replaced(ctx.st, b, Some(a), now);
        ctx.st.keyspace.swap(a, b);
    }
    ctx.dirty += 1;
    ctx.out.ok();
}

fn move_cmd(ctx: &mut Ctx, args: &[&[u8]]) {
    let key = args[1];
    let Some(dst) = arg_db(ctx, args[2]) else {
        return;
    };
    let src = ctx.db;
    if dst == src {
        return ctx.err(SAME_OBJECT);
    }
    let now = ctx.now;
    if !ctx.st.keyspace.dbs[src].lookup_write(key, now) || ctx.st.keyspace.dbs[dst].lookup_write(key, now) {
        return ctx.out.int(0);
    }
    let moved = relocate(ctx, (src, key), (dst, key), ("move_from", "move_to"));
    ctx.out.int(moved as i64);
}

fn copy(ctx: &mut Ctx, args: &[&[u8]]) {
    let (src_key, dst_key) = (args[1], args[2]);
    let mut replace = false;
    let mut dst = ctx.db;
    let mut j = 3;
    while j < args.len() {
        if eq_ic(args[j], b"replace") {
            replace = true;
        } else if eq_ic(args[j], b"db") && j + 1 < args.len() {
            let Some(id) = arg_db(ctx, args[j + 1]) else {
                return;
            };
            dst = id;
            j += 1;
        } else {
            return ctx.syntax();
        }
        j += 1;
    }
    if dst == ctx.db && src_key == dst_key {
        return ctx.err(SAME_OBJECT);
    }
    if !lookup_read(ctx, src_key, true, true) {
        return ctx.out.int(0);
    }
    let (value, at) = {
        let db = ctx.db();
        match db.peek(src_key) {
            Some(e) => (e.value.clone(), db.expire_of(src_key)),
            None => return ctx.out.int(0),
        }
    };
    let now = ctx.now;
    let lazy = ctx.st.config.lazyfree_lazy_server_del;
    if ctx.st.keyspace.dbs[dst].lookup_write(dst_key, now) {
        if !replace {
            return ctx.out.int(0);
        }
        if let Some(old) = ctx.st.keyspace.dbs[dst].remove(dst_key) {
            free(ctx, old, lazy);
        }
    }
    let mut e = Entry::new(dst_key, value, now);
    e.unshared = true;
    ctx.st.keyspace.dbs[dst].add_entry(e, at);
    notify_in(ctx, dst, notify::NEW, "new", dst_key);
    signal(ctx, dst, dst_key, notify::GENERIC, "copy_to");
    ctx.dirty += 1;
    ctx.out.int(1);
}

fn container(_: &mut Ctx, _: &[&[u8]]) {}

/// The OBJECT subcommands' lookup: no access-time update, no `keymiss`;
/// replies null when the key does not exist.
fn object_lookup(ctx: &mut Ctx, key: &[u8]) -> bool {
    let found = lookup_read(ctx, key, false, false);
    if !found {
        ctx.out.null();
    }
    found
}

fn object_encoding(ctx: &mut Ctx, args: &[&[u8]]) {
    if !object_lookup(ctx, args[2]) {
        return;
    }
    let enc = ctx.db().peek(args[2]).map_or("none", |e| e.value.encoding());
    ctx.out.bulk(enc.as_bytes());
}

fn object_refcount(ctx: &mut Ctx, args: &[&[u8]]) {
    if !object_lookup(ctx, args[2]) {
        return;
    }
    let shared = shared_integers(&ctx.st.config);
    let n = match ctx.db().peek(args[2]) {
        Some(e) if shared && e.shared_int().is_some() => SHARED_REFCOUNT,
        _ => 1,
    };
    ctx.out.int(n);
}

fn object_idletime(ctx: &mut Ctx, args: &[&[u8]]) {
    if !object_lookup(ctx, args[2]) {
        return;
    }
    if lfu_policy(&ctx.st.config) {
        return ctx.err("ERR An LFU maxmemory policy is selected, idle time not tracked. Please note that when switching between policies at runtime LRU and LFU data will take some time to adjust.");
    }
    let (now, start) = (ctx.now, ctx.st.start_ms);
    let shared = shared_integers(&ctx.st.config);
    let ks = &ctx.st.keyspace;
    let idle = ks.dbs[ctx.db].peek(args[2]).map_or(0, |e| {
        let clock = if shared { ks.access_clock(e, now, start) } else { e.lru };
        idle_ms(clock, now)
    });
    ctx.out.int(idle / 1000);
}

fn object_freq(ctx: &mut Ctx, args: &[&[u8]]) {
    if !object_lookup(ctx, args[2]) {
        return;
    }
    if !lfu_policy(&ctx.st.config) {
        return ctx.err("ERR An LFU maxmemory policy is not selected, access frequency not tracked. Please note that when switching between policies at runtime LRU and LFU data will take some time to adjust.");
    }
    // Access frequency is not tracked yet: report the counter a new key
    // starts with.
    ctx.out.int(5);
}

fn object_help(ctx: &mut Ctx, _: &[&[u8]]) {
    super::server::help_reply(
        ctx,
        "OBJECT",
        &[
            "ENCODING <key>",
            "    Show how the value stored at <key> is represented in memory.",
            "FREQ <key>",
            "    Show the logarithmic access-frequency counter of <key> (needs an LFU",
            "    maxmemory policy).",
            "IDLETIME <key>",
            "    Show how many seconds ago <key> was last read or written (not with an",
            "    LFU maxmemory policy).",
            "REFCOUNT <key>",
            "    Show how many references the value stored at <key> has.",
        ],
    );
}

#[cfg(test)]
mod tests {
    use super::parse_cursor;

    #[test]
    fn cursor_parsing_follows_strtoul() {
        assert_eq!(parse_cursor(b"0"), Some(0));
        assert_eq!(parse_cursor(b""), Some(0));
        assert_eq!(parse_cursor(b"+5"), Some(5));
        assert_eq!(parse_cursor(b"007"), Some(7));
        assert_eq!(parse_cursor(b"-1"), Some(u64::MAX));
        assert_eq!(parse_cursor(b"-0"), Some(0));
        assert_eq!(parse_cursor(b"-18446744073709551615"), Some(1));
        assert_eq!(parse_cursor(b"18446744073709551615"), Some(u64::MAX));
        assert_eq!(parse_cursor(b"18446744073709551616"), None);
        assert_eq!(parse_cursor(b" 1"), None);
        assert_eq!(parse_cursor(b"1 "), None);
        assert_eq!(parse_cursor(b"0x1"), None);
        assert_eq!(parse_cursor(b"+"), None);
        assert_eq!(parse_cursor(b"-"), None);
        assert_eq!(parse_cursor(b"5\x00junk"), Some(5));
    }
}
