//! SLOWLOG: the log of calls that took at least `slowlog-log-slower-than`
//! microseconds, keeping the latest `slowlog-max-len`.

use super::help_reply;
use crate::clients::ClientId;
use crate::commands::flags::*;
use crate::commands::table::Command;
use crate::commands::Ctx;
use crate::state::{SlowlogEntry, State};

pub const SUBS: &[Command] = &[
    Command::new("slowlog|get", -2, ADMIN | LOADING | STALE, get),
    Command::new("slowlog|len", 2, ADMIN | LOADING | STALE, len),
    Command::new("slowlog|reset", 2, ADMIN | LOADING | STALE, reset),
    Command::new("slowlog|help", 2, LOADING | STALE, help),
];

/// Most arguments an entry keeps; the last one kept then says how many
/// more there were.
const MAX_ARGS: usize = 32;
/// Longest argument kept; longer ones say how many bytes were cut.
const MAX_ARG_LEN: usize = 128;

/// Records a call that took `usec` (the caller checked the threshold).
pub fn push(st: &mut State, cid: ClientId, args: &[&[u8]], usec: u64) {
    let max_len = st.config.slowlog_max_len as usize;
    let (addr, name) = match st.clients.get(cid) {
        Some(c) => (c.addr.clone(), c.name.clone().unwrap_or_default()),
        None => (String::new(), Vec::new()),
    };
    let cmd = crate::commands::lookup(args);
    let shown = match cmd {
        crate::commands::Lookup::Found(c) => super::redacted(c, args),
        _ => args.to_vec(),
    };
    let kept = shown.len().min(MAX_ARGS);
    let mut logged = Vec::with_capacity(kept);
    for (i, a) in shown.iter().take(kept).enumerate() {
        if i == MAX_ARGS - 1 && shown.len() > MAX_ARGS {
            logged.push(format!("... ({} more arguments)", shown.len() - MAX_ARGS + 1).into_bytes());
        } else if a.len() > MAX_ARG_LEN {
            let mut v = a[..MAX_ARG_LEN].to_vec();
            v.extend_from_slice(format!("... ({} more bytes)", a.len() - MAX_ARG_LEN).as_bytes());
            logged.push(v);
        } else {
            logged.push(a.to_vec());
        }
    }
    let log = &mut st.slowlog;
    let entry = SlowlogEntry { id: log.next_id, time: st.clock.now_ms() / 1000, usec, args: logged, addr, name };
    log.next_id += 1;
    log.entries.push_front(entry);
    log.entries.truncate(max_len);
}

fn get(ctx: &mut Ctx, args: &[&[u8]]) {
    if args.len() > 3 {
        let msg = format!(
            "ERR unknown subcommand or wrong number of arguments for '{}'. Try SLOWLOG HELP.",
            String::from_utf8_lossy(args[1])
        );
        return ctx.err(&msg);
    }
    let count = match args.get(2) {
        None => 10,
        Some(a) => match crate::util::parse_i64(a) {
            Some(n) if n >= -1 => n,
            _ => return ctx.err("ERR count should be greater than or equal to -1"),
        },
    };
    let log = &ctx.st.slowlog.entries;
    let n = if count == -1 { log.len() } else { log.len().min(count as usize) };
    ctx.out.array(n);
    for e in log.iter().take(n) {
        ctx.out.array(6);
        ctx.out.int(e.id as i64);
        ctx.out.int(e.time);
        ctx.out.int(e.usec as i64);
        ctx.out.array(e.args.len());
        for a in &e.args {
            ctx.out.bulk(a);
        }
        ctx.out.bulk(e.addr.as_bytes());
        ctx.out.bulk(&e.name);
    }
}

fn len(ctx: &mut Ctx, _: &[&[u8]]) {
    ctx.out.int(ctx.st.slowlog.entries.len() as i64);
}

fn reset(ctx: &mut Ctx, _: &[&[u8]]) {
    ctx.st.slowlog.entries.clear();
    ctx.out.ok();
}

fn help(ctx: &mut Ctx, _: &[&[u8]]) {
    help_reply(
        ctx,
        "SLOWLOG",
        &[
            "GET [<count>]",
            "    The latest <count> entries, newest first (10 by default, -1 for all).",
            "    Each entry: id, Unix time, duration in microseconds, arguments,",
            "    client address, client name.",
            "LEN",
            "    Number of entries in the log.",
            "RESET",
            "    Empty the log.",
        ],
    );
}
