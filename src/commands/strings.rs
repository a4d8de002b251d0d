//! String commands.

use super::flags::*;
use super::notify;
use super::table::Command;
use super::{Ctx, SYNTAX_ERR};
use crate::keyspace::Value;
use crate::util::{eq_ic, itoa, parse_i64};

pub const COMMANDS: &[Command] = &[
    Command::new("get", 2, READONLY | FAST, get).keys(1, 1, 1),
    Command::new("set", -3, WRITE | DENYOOM, set).keys(1, 1, 1),
];

fn get(ctx: &mut Ctx, args: &[&[u8]]) {
    let now = ctx.now;
    match ctx.st.keyspace.dbs[ctx.db].get(args[1], now) {
        None => {
            ctx.st.stats.keyspace_misses += 1;
            ctx.out.null();
        }
        Some(e) => match &e.value {
            Value::Int(n) => {
                let s = itoa(*n);
                ctx.out.bulk(s.as_bytes());
                ctx.st.stats.keyspace_hits += 1;
            }
            Value::Emb(b) => {
                ctx.out.bulk(b);
                ctx.st.stats.keyspace_hits += 1;
            }
            Value::Raw(v) => {
                ctx.out.bulk(v);
                ctx.st.stats.keyspace_hits += 1;
            }
        },
    }
}

/// Expiry options shared by SET and GETEX.
#[derive(Clone, Copy, PartialEq)]
enum Ttl {
    None,
    Keep,
    /// Absolute ms.
    At(i64),
}

fn set(ctx: &mut Ctx, args: &[&[u8]]) {
    let (mut nx, mut xx, mut get_old) = (false, false, false);
    let mut ttl = Ttl::None;
    let mut i = 3;
    let mut rewrite_ttl = false;
    while i < args.len() {
        let a = args[i];
        let next = args.get(i + 1).copied();
        if eq_ic(a, b"nx") && !xx {
            nx = true;
        } else if eq_ic(a, b"xx") && !nx {
            xx = true;
        } else if eq_ic(a, b"get") {
            get_old = true;
        } else if eq_ic(a, b"keepttl") && ttl == Ttl::None {
            ttl = Ttl::Keep;
        } else if let (Some(unit), Some(n), Ttl::None) = (ttl_unit(a), next, ttl) {
            let Some(v) = parse_i64(n) else {
                return ctx.err(super::NOT_INT);
            };
            let Some(at) = absolute_ms(unit, v, ctx.now) else {
                return ctx.err("ERR invalid expire time in 'set' command");
            };
            ttl = Ttl::At(at);
            rewrite_ttl = unit != b"pxat";
            i += 1;
        } else {
            return ctx.err(SYNTAX_ERR);
        }
        i += 1;
    }
    let key = args[1];
    let now = ctx.now;
    let db = &mut ctx.st.keyspace.dbs[ctx.db];
    let old = db.get(key, now);
    if get_old {
        match old {
            None => {}
            Some(e) if !e.value.is_string() => return ctx.wrongtype(),
            Some(_) => {}
        }
    }
    let exists = old.is_some();
    if get_old {
        match old.and_then(|e| e.value.as_bytes()) {
            Some(b) => {
                let b = b.into_owned();
                ctx.out.bulk(&b);
            }
            None => ctx.out.null(),
        }
    }
    if (nx && exists) || (xx && !exists) {
        if !get_old {
            ctx.out.null();
        }
        return;
    }
    let db = &mut ctx.st.keyspace.dbs[ctx.db];
    db.set(key, Value::string(args[2]), ttl == Ttl::Keep, now);
    if let Ttl::At(at) = ttl {
        db.set_expire(key, at);
    }
    ctx.changed(key, notify::STRING, "set");
    if let Ttl::At(at) = ttl {
        ctx.notify(notify::GENERIC, "expire", key);
        if rewrite_ttl {
            // Propagate as absolute PXAT so replays agree on the deadline.
            let mut cmd: Vec<Vec<u8>> = vec![b"SET".to_vec(), key.to_vec(), args[2].to_vec()];
            cmd.push(b"PXAT".to_vec());
            cmd.push(itoa(at).as_bytes().to_vec());
            if get_old {
                cmd.push(b"GET".to_vec());
            }
            if nx {
                cmd.push(b"NX".to_vec());
            }
            if xx {
                cmd.push(b"XX".to_vec());
            }
            ctx.rewrite(cmd);
        }
    }
    if !get_old {
        ctx.out.ok();
    }
}

fn ttl_unit(a: &[u8]) -> Option<&'static [u8]> {
    [&b"ex"[..], b"px", b"exat", b"pxat"]
        .into_iter()
        .find(|u| eq_ic(a, u))
}

/// Converts an expiry option value to absolute ms; `None` when Redis calls
/// it an invalid expire time (not positive, or overflowing).
fn absolute_ms(unit: &[u8], v: i64, now: i64) -> Option<i64> {
    if v <= 0 {
        return None;
    }
    let ms = if unit == b"ex" || unit == b"exat" {
        v.checked_mul(1000)?
    } else {
        v
    };
    if unit == b"ex" || unit == b"px" {
        ms.checked_add(now)
    } else {
        Some(ms)
    }
}
