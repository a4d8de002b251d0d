//! Key expiry: EXPIRE PEXPIRE EXPIREAT PEXPIREAT (with NX XX GT LT), TTL
//! PTTL EXPIRETIME PEXPIRETIME, PERSIST.
//!
//! Invariant: an expiry is propagated as `PEXPIREAT <absolute ms>` (options
//! kept as sent), and an expiry in the past as the `DEL` it amounts to.

use super::flags::*;
use super::keys::lookup_read;
use super::notify;
use super::table::Command;
use super::{arg_i64, Ctx};
use crate::util::{eq_ic, itoa};

pub const COMMANDS: &[Command] = &[
    Command::new("expire", -3, WRITE | FAST, expire).keys(1, 1, 1),
    Command::new("pexpire", -3, WRITE | FAST, pexpire).keys(1, 1, 1),
    Command::new("expireat", -3, WRITE | FAST, expireat).keys(1, 1, 1),
    Command::new("pexpireat", -3, WRITE | FAST, pexpireat).keys(1, 1, 1),
    Command::new("ttl", 2, READONLY | FAST, ttl).keys(1, 1, 1),
    Command::new("pttl", 2, READONLY | FAST, pttl).keys(1, 1, 1),
    Command::new("expiretime", 2, READONLY | FAST, expiretime).keys(1, 1, 1),
    Command::new("pexpiretime", 2, READONLY | FAST, pexpiretime).keys(1, 1, 1),
    Command::new("persist", 2, WRITE | FAST, persist).keys(1, 1, 1),
];

fn expire(ctx: &mut Ctx, args: &[&[u8]]) {
    let now = ctx.now;
    expire_generic(ctx, args, now, true);
}

fn pexpire(ctx: &mut Ctx, args: &[&[u8]]) {
    let now = ctx.now;
    expire_generic(ctx, args, now, false);
}

fn expireat(ctx: &mut Ctx, args: &[&[u8]]) {
    expire_generic(ctx, args, 0, true);
}

fn pexpireat(ctx: &mut Ctx, args: &[&[u8]]) {
    expire_generic(ctx, args, 0, false);
}

/// The conditions NX XX GT LT.
#[derive(Default)]
struct Cond {
    nx: bool,
    xx: bool,
    gt: bool,
    lt: bool,
}

impl Cond {
    fn any(&self) -> bool {
        self.nx || self.xx || self.gt || self.lt
    }

    /// Whether the new expiry `when` may replace `current`.
    fn allows(&self, current: Option<i64>, when: i64) -> bool {
        // No expiry counts as an infinite one.
        !((self.nx && current.is_some())
            || (self.xx && current.is_none())
            || (self.gt && current.is_none_or(|c| when <= c))
            || (self.lt && current.is_some_and(|c| when >= c)))
    }
}

/// Parses the options after the time; replies the error and returns `None`
/// on an unknown or incompatible one.
fn parse_cond(ctx: &mut Ctx, opts: &[&[u8]]) -> Option<Cond> {
    let mut c = Cond::default();
    for opt in opts {
        if eq_ic(opt, b"nx") {
            c.nx = true;
        } else if eq_ic(opt, b"xx") {
            c.xx = true;
        } else if eq_ic(opt, b"gt") {
            c.gt = true;
        } else if eq_ic(opt, b"lt") {
            c.lt = true;
        } else {
            // The option is printed as a C string: up to a NUL byte.
            let shown = opt.split(|&b| b == 0).next().unwrap_or_default();
            let mut msg = b"ERR Unsupported option ".to_vec();
            msg.extend_from_slice(shown);
            ctx.out.error_bytes(&msg);
            return None;
        }
    }
    if c.nx && (c.xx || c.gt || c.lt) {
        ctx.err("ERR NX and XX, GT or LT options at the same time are not compatible");
        return None;
    }
    if c.gt && c.lt {
        ctx.err("ERR GT and LT options at the same time are not compatible");
        return None;
    }
    Some(c)
}

fn invalid_expire(ctx: &mut Ctx) {
    let msg = format!("ERR invalid expire time in '{}' command", ctx.name);
    ctx.err(&msg);
}

/// The EXPIRE family. The time argument is in seconds if `seconds`, and
/// relative to `base` ms (0 for the absolute forms).
fn expire_generic(ctx: &mut Ctx, args: &[&[u8]], base: i64, seconds: bool) {
    let key = args[1];
    let Some(cond) = parse_cond(ctx, &args[3..]) else {
        return;
    };
    let Some(mut when) = arg_i64(ctx, args[2]) else {
        return;
    };
    if seconds {
        match when.checked_mul(1000) {
            Some(ms) => when = ms,
            None => return invalid_expire(ctx),
        }
    }
    match when.checked_add(base) {
        Some(at) => when = at,
        None => return invalid_expire(ctx),
    }
    let now = ctx.now;
    if !ctx.db().lookup_write(key, now) {
        return ctx.out.int(0);
    }
    if cond.any() && !cond.allows(ctx.db().expire_of(key), when) {
        return ctx.out.int(0);
    }
    if when <= now && !ctx.st.loading {
        // Already expired: the key is deleted, and that is what replicas
        // and the AOF get.
        let lazy = ctx.st.config.lazyfree_lazy_expire;
        if let Some(e) = ctx.db().remove(key) {
            if lazy {
                ctx.st.keyspace.lazyfree.free_entry(e);
            }
        }
        let del: &[u8] = if lazy { b"UNLINK" } else { b"DEL" };
        ctx.rewrite(vec![del.to_vec(), key.to_vec()]);
        ctx.changed(key, notify::GENERIC, "del");
        return ctx.out.int(1);
    }
    ctx.db().set_expire(key, when);
    ctx.out.int(1);
    if ctx.name != "pexpireat" {
        let mut cmd: Vec<Vec<u8>> = Vec::with_capacity(args.len());
        cmd.push(b"PEXPIREAT".to_vec());
        cmd.push(key.to_vec());
        cmd.push(itoa(when).as_bytes().to_vec());
        cmd.extend(args[3..].iter().map(|a| a.to_vec()));
        ctx.rewrite(cmd);
    }
    ctx.changed(key, notify::GENERIC, "expire");
}

fn ttl(ctx: &mut Ctx, args: &[&[u8]]) {
    ttl_generic(ctx, args[1], false, false);
}

fn pttl(ctx: &mut Ctx, args: &[&[u8]]) {
    ttl_generic(ctx, args[1], true, false);
}

fn expiretime(ctx: &mut Ctx, args: &[&[u8]]) {
    ttl_generic(ctx, args[1], false, true);
}

fn pexpiretime(ctx: &mut Ctx, args: &[&[u8]]) {
    ttl_generic(ctx, args[1], true, true);
}

/// TTL and its variants: -2 for a missing key, -1 without an expiry, else
/// the remaining (or, if `absolute`, the expiry) time in ms or in seconds
/// rounded to the nearest.
fn ttl_generic(ctx: &mut Ctx, key: &[u8], ms: bool, absolute: bool) {
    if !lookup_read(ctx, key, false, true) {
        return ctx.out.int(-2);
    }
    let now = ctx.now;
    let Some(at) = ctx.db().expire_of(key) else {
        return ctx.out.int(-1);
    };
    let t = if absolute { at } else { at.saturating_sub(now) }.max(0);
    let v = if ms { t } else { ((t as i128 + 500) / 1000) as i64 };
    ctx.out.int(v);
}

fn persist(ctx: &mut Ctx, args: &[&[u8]]) {
    let key = args[1];
    let now = ctx.now;
    if ctx.db().lookup_write(key, now) && ctx.db().persist(key) {
        ctx.changed(key, notify::GENERIC, "persist");
        return ctx.out.int(1);
    }
    ctx.out.int(0);
}
