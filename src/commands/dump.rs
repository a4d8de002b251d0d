//! DUMP and RESTORE: one value as a self-checking payload (the RDB
//! encoding of the value, the RDB version and a CRC-64), and back.
//!
//! Invariant: RESTORE checks every payload in depth, whatever
//! `sanitize-dump-payload` says, so no bytes a client sends can build a
//! value that a later command would trip over; a refused payload changes
//! nothing.

use super::flags::*;
use super::notify;
use super::table::Command;
use super::{Ctx, NOT_INT};
use crate::keyspace::db::lru_clock;
use crate::keyspace::Entry;
use crate::persistence::rdb::{dump_payload, restore_value, verify_payload, Limits, RestoreOptions};
use crate::util::{eq_ic, parse_i64};

pub const COMMANDS: &[Command] = &[
    Command::new("dump", 2, READONLY, dump).keys(1, 1, 1),
    Command::new("restore", -4, WRITE | DENYOOM, restore).keys(1, 1, 1),
];

fn dump(ctx: &mut Ctx, args: &[&[u8]]) {
    let compression = ctx.st.config.rdbcompression;
    let (v, out) = super::strings::read(ctx, args[1]);
    match v {
        Some(v) => out.bulk(&dump_payload(v, compression)),
        None => out.null(),
    }
}

/// RESTORE's options after the payload.
#[derive(Default)]
struct Opts {
    replace: bool,
    absttl: bool,
    idle_secs: Option<i64>,
    freq: Option<i64>,
}

fn parse_opts(ctx: &mut Ctx, args: &[&[u8]]) -> Option<Opts> {
    let mut o = Opts::default();
    let mut j = 0;
    while j < args.len() {
        let more = j + 1 < args.len();
        let a = args[j];
        if eq_ic(a, b"replace") {
            o.replace = true;
        } else if eq_ic(a, b"absttl") {
            o.absttl = true;
        } else if eq_ic(a, b"idletime") && more && o.freq.is_none() {
            j += 1;
            match parse_i64(args[j]) {
                None => return err(ctx, NOT_INT),
                Some(n) if n < 0 => return err(ctx, "ERR Invalid IDLETIME value, must be >= 0"),
                Some(n) => o.idle_secs = Some(n),
            }
        } else if eq_ic(a, b"freq") && more && o.idle_secs.is_none() {
            j += 1;
            match parse_i64(args[j]) {
                None => return err(ctx, NOT_INT),
                Some(n) if !(0..=255).contains(&n) => {
                    return err(ctx, "ERR Invalid FREQ value, must be >= 0 and <= 255")
                }
                Some(n) => o.freq = Some(n),
            }
        } else {
            ctx.syntax();
            return None;
        }
        j += 1;
    }
    Some(o)
}

fn err<T>(ctx: &mut Ctx, msg: &str) -> Option<T> {
    ctx.err(msg);
    None
}

/// RESTORE key ttl payload [REPLACE] [ABSTTL] [IDLETIME s] [FREQ f], with
/// Redis's order of checks: options, an existing key, the TTL, the
/// payload's trailer, then its contents. A relative TTL propagates as an
/// absolute one (ABSTTL), and a TTL already in the past only deletes.
fn restore(ctx: &mut Ctx, args: &[&[u8]]) {
    let Some(o) = parse_opts(ctx, &args[4..]) else {
        return;
    };
    let (key, now) = (args[1], ctx.now);
    if !o.replace && ctx.st.keyspace.dbs[ctx.db].lookup_write(key, now) {
        return ctx.err("BUSYKEY Target key name already exists.");
    }
    let ttl = match parse_i64(args[2]) {
        None => return ctx.err(NOT_INT),
        Some(t) if t < 0 => return ctx.err("ERR Invalid TTL value, must be >= 0"),
        Some(t) => t,
    };
    if verify_payload(args[3], false).is_err() {
        return ctx.err("ERR DUMP payload version or checksum are wrong");
    }
    let opts = RestoreOptions { limits: Limits::from_config(&ctx.st.config), deep: true, skip_checksum: true };
    let Ok(value) = restore_value(args[3], &opts) else {
        return ctx.err("ERR Bad data format");
    };
    // REPLACE removes whatever is stored, expired or not.
    let old = if o.replace { ctx.st.keyspace.dbs[ctx.db].remove(key) } else { None };
    let deleted = old.is_some();
    if let Some(e) = old {
        ctx.st.keyspace.lazyfree.drop_entry(e);
    }
    let at = match ttl {
        0 => None,
        t if o.absttl => Some(t),
        t => Some(now.saturating_add(t)),
    };
    if at.is_some_and(|at| at <= now) {
        if deleted {
            let verb: &[u8] = if ctx.st.config.lazyfree_lazy_server_del { b"UNLINK" } else { b"DEL" };
            ctx.rewrite(vec![verb.to_vec(), key.to_vec()]);
            ctx.changed(key, notify::GENERIC, "del");
        }
        return ctx.out.ok();
    }
    let mut e = Entry::new(key, value, now);
    if let Some(idle) = o.idle_secs {
        e.lru = lru_clock(now.saturating_sub(idle.saturating_mul(1000)));
    }
    ctx.st.keyspace.dbs[ctx.db].add_entry(e, at);
    if let (Some(at), false) = (at, o.absttl) {
        let mut argv: Vec<Vec<u8>> = args.iter().map(|a| a.to_vec()).collect();
        argv[2] = crate::util::itoa(at).as_bytes().to_vec();
        argv.push(b"ABSTTL".to_vec());
        ctx.rewrite(argv);
    }
    ctx.changed(key, notify::GENERIC, "restore");
    ctx.out.ok();
}
