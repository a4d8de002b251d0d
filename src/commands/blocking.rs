//! Clients blocked on keys (BLPOP, BLMOVE, BZPOPMIN, ...): registering the
//! wait, and serving waiters when a key they wait on comes to exist.
//!
//! A waiter is served by running its command again, now that it can
//! complete without blocking: the reply, the keyspace events and the
//! propagated write (`LPOP k`, `LMOVE ...`, `ZPOPMIN k`) are then exactly
//! those of the same command run with the data present. Waiters on a key
//! are served first come, first served, after the command (or the whole
//! MULTI/EXEC) that created the key.
//!
//! Invariant: a client id is in a database's `waiters` for a key exactly
//! while its `blocked.on_keys` names that key; every path that ends a wait
//! (served, timeout, CLIENT UNBLOCK, disconnect) goes through `forget`.

use super::{call, lookup, Ctx, Lookup};
use crate::clients::{Blocked, ClientId, KeyWait};
use crate::protocol::ReplyBuf;
use crate::state::State;
use crate::util::ld_timeout_ms;
use std::cell::RefCell;

/// Parses a blocking timeout in seconds (fractions allowed) into an
/// absolute deadline in ms, `None` meaning wait forever. Replies the error
/// and returns `Err` when invalid. As in Redis the seconds are a long
/// double, the milliseconds are rounded up (0.0001 waits 1 ms), and a
/// value whose milliseconds overflow is reported as negative.
pub fn parse_timeout(ctx: &mut Ctx, arg: &[u8]) -> Result<Option<i64>, ()> {
    let Some(ms) = ld_timeout_ms(arg) else {
        ctx.err("ERR timeout is not a float or out of range");
        return Err(());
    };
    if ms < 0 {
        ctx.err("ERR timeout is negative");
        return Err(());
    }
    if ms == 0 {
        return Ok(None);
    }
    // Redis accepts any timeout that fits; past the clock's range it is
    // as good as forever.
    Ok(Some(ctx.now.saturating_add(ms)))
}

thread_local! {
    /// While a waiter's command runs again to be served: the key whose
    /// arrival serves it.
    static SERVING: RefCell<Option<Vec<u8>>> = const { RefCell::new(None) };
}

/// Whether the running command is a blocked client being served.
pub fn serving() -> bool {
    SERVING.with(|s| s.borrow().is_some())
}

/// The order in which a command waiting on `keys` tries them: as given,
/// except that a served waiter tries first the key that became ready, as
/// Redis serves a waiter from the key whose arrival woke it (a client on
/// `a b` gets `b`'s element when `b` was filled first).
pub fn key_order(keys: &[&[u8]]) -> impl Iterator<Item = usize> {
    let first = SERVING.with(|s| s.borrow().as_deref().and_then(|k| keys.iter().position(|x| *x == k)));
    first.into_iter().chain((0..keys.len()).filter(move |&i| Some(i) != first))
}

/// Whether the running command may block: not inside MULTI/EXEC (where a
/// blocking command behaves as if its timeout had passed).
pub fn may_block(ctx: &Ctx) -> bool {
    ctx.st.call_depth <= 1
}

/// The reply a blocking command gives when it times out: a null array, or
/// a null bulk for BLMOVE and BRPOPLPUSH (`null_bulk`).
pub fn timeout_reply(ctx: &mut Ctx, null_bulk: bool) {
    if null_bulk {
        ctx.out.null();
    } else {
        ctx.out.null_array();
    }
}

/// Blocks the calling client on `keys` until one holds a value of type
/// `kind`, or `deadline` passes.
pub fn block_on(
    ctx: &mut Ctx,
    keys: &[&[u8]],
    kind: &'static str,
    deadline: Option<i64>,
    null_bulk: bool,
    argv: &[&[u8]],
) {
    let mut timeout = ReplyBuf { buf: Vec::new(), proto: ctx.out.proto, errors: Vec::new() };
    if null_bulk {
        timeout.null();
    } else {
        timeout.null_array();
    }
    let mut uniq: Vec<Vec<u8>> = Vec::with_capacity(keys.len());
    for k in keys {
        if !uniq.iter().any(|u| u == k) {
            uniq.push(k.to_vec());
        }
    }
    let (cid, db) = (ctx.cid, ctx.db);
    for k in &uniq {
        ctx.st.keyspace.dbs[db].waiters.entry(k.clone()).or_default().push_back(cid);
    }
    let wait = KeyWait { db, keys: uniq, kind, argv: argv.iter().map(|a| a.to_vec()).collect() };
    ctx.client().blocked = Some(Blocked { deadline_ms: deadline, timeout_reply: timeout.buf, on_keys: Some(wait) });
}

/// Removes client `cid` from the waiting lists `b` put it on.
pub fn forget(st: &mut State, cid: ClientId, b: &Blocked) {
    let Some(w) = &b.on_keys else {
        return;
    };
    let db = &mut st.keyspace.dbs[w.db];
    for k in &w.keys {
        if let Some(q) = db.waiters.get_mut(k.as_slice()) {
            q.retain(|&c| c != cid);
            if q.is_empty() {
                db.waiters.remove(k.as_slice());
            }
        }
    }
}

/// Ends the wait of client `cid`, if it is blocked (disconnect).
pub fn unblock(st: &mut State, cid: ClientId) {
    if let Some(b) = st.clients.get_mut(cid).and_then(|c| c.blocked.take()) {
        forget(st, cid, &b);
    }
}

/// Serves clients waiting on keys that came to exist, until no key is
/// ready any more (serving one client can make another key ready: BLMOVE).
pub fn serve_ready(st: &mut State) {
    loop {
        let ready = std::mem::take(&mut st.ready_keys);
        if ready.is_empty() {
            return;
        }
        for (db, key) in ready {
            serve_key(st, db, key.as_bytes());
        }
    }
}

/// Serves the waiters of one key, in arrival order, while the key holds a
/// value they can take.
fn serve_key(st: &mut State, db: usize, key: &[u8]) {
    let Some(queue) = st.keyspace.dbs[db].waiters.get(key) else {
        return;
    };
    let waiting: Vec<ClientId> = queue.iter().copied().collect();
    for cid in waiting {
        let now = super::call_clock::now_ms(&st.clock);
        let Some(held) = st.keyspace.dbs[db].get(key, now).map(|e| e.value.type_name()) else {
            return;
        };
        let argv = match st.clients.get(cid).and_then(|c| c.blocked.as_ref()).and_then(|b| b.on_keys.as_ref()) {
            Some(w) if w.kind == held => w.argv.clone(),
            _ => continue,
        };
        unblock(st, cid);
        let Some(proto) = st.clients.get(cid).map(|c| c.proto) else {
            continue;
        };
        let mut out = ReplyBuf { buf: Vec::new(), proto, errors: Vec::new() };
        let args: Vec<&[u8]> = argv.iter().map(|a| a.as_slice()).collect();
        if let Lookup::Found(cmd) = lookup(&args) {
            SERVING.with(|s| *s.borrow_mut() = Some(key.to_vec()));
            call(st, cid, cmd, &args, &mut out);
            SERVING.with(|s| *s.borrow_mut() = None);
        }
        if let Some(c) = st.clients.get_mut(cid) {
            c.pending.extend_from_slice(&out.buf);
            c.notify.notify_one();
        }
    }
}
