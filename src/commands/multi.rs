//! Transactions: MULTI, EXEC, DISCARD, WATCH, UNWATCH.
//!
//! Invariant: a (db, key) pair is in a client's `watched` list exactly when
//! the client id is in that database's `watched` map for the key, and
//! `State::watched_keys` counts those pairs.

use super::flags::*;
use super::table::Command;
use super::{call, lookup, Ctx, Lookup, Prop};
use crate::clients::{ClientId, Multi, Watched};
use crate::state::State;

pub const COMMANDS: &[Command] = &[
    Command::new("multi", 1, NOSCRIPT | LOADING | STALE | FAST | ALLOW_BUSY, multi),
    Command::new("exec", 1, NOSCRIPT | LOADING | STALE | SKIP_SLOWLOG, exec),
    Command::new("discard", 1, NOSCRIPT | LOADING | STALE | FAST | ALLOW_BUSY, discard),
    Command::new("watch", -2, NOSCRIPT | LOADING | STALE | FAST | ALLOW_BUSY, watch).keys(1, -1, 1),
    Command::new("unwatch", 1, NOSCRIPT | LOADING | STALE | FAST | ALLOW_BUSY, unwatch),
];

fn multi(ctx: &mut Ctx, _: &[&[u8]]) {
    let c = ctx.client();
    if c.multi.is_some() {
        return ctx.err("ERR MULTI calls can not be nested");
    }
    c.multi = Some(Multi::default());
    ctx.out.ok();
}

fn discard(ctx: &mut Ctx, _: &[&[u8]]) {
    if ctx.client().multi.take().is_none() {
        return ctx.err("ERR DISCARD without MULTI");
    }
    unwatch_all(ctx.st, ctx.cid);
    ctx.out.ok();
}

fn exec(ctx: &mut Ctx, _: &[&[u8]]) {
    let cid = ctx.cid;
    let Some(m) = ctx.client().multi.take() else {
        return ctx.err("ERR EXEC without MULTI");
    };
    if m.failed {
        unwatch_all(ctx.st, cid);
        return ctx.err("EXECABORT Transaction discarded because of previous errors.");
    }
    let now = ctx.now;
    let c = ctx.client();
    let watch_failed = c.dirty_cas || {
        let watched = c.watched.clone();
        watched.iter().any(|w| !w.expired_then && ctx.st.keyspace.dbs[w.db].is_expired(&w.key, now))
    };
    unwatch_all(ctx.st, cid);
    if watch_failed {
        ctx.out.null_array();
        return;
    }
    ctx.out.array(m.queue.len());
    // The queued commands run as nested calls; their writes reach the write
    // path when this EXEC returns, wrapped in MULTI/EXEC if more than one.
    ctx.db_sync_out();
    for args in &m.queue {
        let argv: Vec<&[u8]> = args.iter().map(|a| a.as_slice()).collect();
        match lookup(&argv) {
            Lookup::Found(cmd) => call(ctx.st, cid, cmd, &argv, ctx.out),
            Lookup::Error(msg, _) => ctx.out.error_bytes(&msg),
        }
    }
    ctx.db_sync_in();
    ctx.prop = Prop::Nothing;
}

impl Ctx<'_> {
    /// Stores the selected database in the client before nested calls.
    fn db_sync_out(&mut self) {
        let db = self.db;
        self.client().db = db;
    }

    /// Reads the selected database back after nested calls (SELECT inside
    /// a transaction).
    fn db_sync_in(&mut self) {
        self.db = self.client().db;
    }
}

fn watch(ctx: &mut Ctx, args: &[&[u8]]) {
    if ctx.client().multi.is_some() {
        return ctx.err("ERR WATCH inside MULTI is not allowed");
    }
    let (cid, db, now) = (ctx.cid, ctx.db, ctx.now);
    for k in &args[1..] {
        let expired_then = ctx.st.keyspace.dbs[db].is_expired(k, now);
        let c = ctx.st.clients.get_mut(cid).expect("registered");
        if c.watched.iter().any(|w| w.db == db && w.key.as_slice() == *k) {
            continue;
        }
        c.watched.push(Watched { db, key: k.to_vec(), expired_then });
        ctx.st.keyspace.dbs[db].watched.entry(k.to_vec()).or_default().push(cid);
        ctx.st.watched_keys += 1;
    }
    ctx.out.ok();
}

fn unwatch(ctx: &mut Ctx, _: &[&[u8]]) {
    unwatch_all(ctx.st, ctx.cid);
    ctx.client().dirty_cas = false;
    ctx.out.ok();
}

/// Forgets every key `cid` watches and clears its dirty flag.
pub fn unwatch_all(st: &mut State, cid: ClientId) {
    let Some(c) = st.clients.get_mut(cid) else {
        return;
    };
    c.dirty_cas = false;
    let keys = std::mem::take(&mut c.watched);
    for w in keys {
        let map = &mut st.keyspace.dbs[w.db].watched;
        if let Some(ids) = map.get_mut(&w.key) {
            ids.retain(|&i| i != cid);
            if ids.is_empty() {
                map.remove(&w.key);
            }
        }
        st.watched_keys -= 1;
    }
}
