//! Server commands: CONFIG, DEBUG, SHUTDOWN, TIME, INFO and the HELP reply
//! helper.

use super::flags::*;
use super::table::Command;
use super::Ctx;
use crate::state::Action;
use crate::util::{eq_ic, parse_i64};

pub const COMMANDS: &[Command] = &[
    Command::new("config", -2, 0, noop).subs(CONFIG_SUBS),
    Command::new(
        "debug",
        -2,
        ADMIN | NOSCRIPT | LOADING | STALE | PROTECTED,
        debug,
    ),
    Command::new(
        "shutdown",
        -1,
        ADMIN | NOSCRIPT | LOADING | STALE | NO_MULTI | SENTINEL | ALLOW_BUSY,
        shutdown,
    ),
    Command::new("time", 1, LOADING | STALE | FAST, time),
    Command::new("info", -1, LOADING | STALE | SENTINEL, info),
];

const CONFIG_SUBS: &[Command] = &[
    Command::new(
        "config|get",
        -3,
        ADMIN | NOSCRIPT | LOADING | STALE,
        config_get,
    ),
    Command::new(
        "config|set",
        -4,
        ADMIN | NOSCRIPT | LOADING | STALE,
        config_set,
    ),
    Command::new(
        "config|resetstat",
        2,
        ADMIN | NOSCRIPT | LOADING | STALE,
        config_resetstat,
    ),
    Command::new(
        "config|rewrite",
        2,
        ADMIN | NOSCRIPT | LOADING | STALE,
        config_rewrite,
    ),
    Command::new("config|help", 2, LOADING | STALE, config_help),
];

fn noop(_: &mut Ctx, _: &[&[u8]]) {}

/// Writes a HELP reply: a heading line, the given lines, and HELP itself.
pub fn help_reply(ctx: &mut Ctx, cmd: &str, lines: &[&str]) {
    ctx.out.array(lines.len() + 3);
    let head = format!("{cmd} <subcommand> [<arg> [value] [opt] ...]. Subcommands are:");
    ctx.out.simple(&head);
    for l in lines {
        ctx.out.simple(l);
    }
    ctx.out.simple("HELP");
    ctx.out.simple("    Print this help.");
}

/// Client names may hold only printable ASCII other than space.
pub fn valid_client_name(n: &[u8]) -> bool {
    n.iter().all(|&c| (b'!'..=b'~').contains(&c))
}

fn config_get(ctx: &mut Ctx, args: &[&[u8]]) {
    let mut pairs: Vec<(String, String)> = Vec::new();
    for pat in &args[2..] {
        for (k, v) in ctx.st.config.get(pat) {
            if !pairs.iter().any(|(n, _)| *n == k) {
                pairs.push((k, v));
            }
        }
    }
    ctx.out.map(pairs.len());
    for (k, v) in pairs {
        ctx.out.bulk(k.as_bytes());
        ctx.out.bulk(v.as_bytes());
    }
}

fn config_set(ctx: &mut Ctx, args: &[&[u8]]) {
    if args.len() % 2 != 0 {
        return ctx.arity_error();
    }
    let pairs: Vec<(&[u8], &[u8])> = args[2..].chunks(2).map(|p| (p[0], p[1])).collect();
    let local = ctx.client().addr.starts_with("127.") || ctx.client().addr.starts_with("[::1]");
    match ctx.st.config.set_from(&pairs, local) {
        Ok(changed) => {
            ctx.st.apply_config(&changed);
            ctx.out.ok()
        }
        Err(e) => ctx.err(&e),
    }
}

fn config_resetstat(ctx: &mut Ctx, _: &[&[u8]]) {
    ctx.st.stats.reset();
    ctx.out.ok();
}

fn config_rewrite(ctx: &mut Ctx, _: &[&[u8]]) {
    match ctx.st.config.rewrite() {
        Ok(()) => ctx.out.ok(),
        Err(e) => ctx.err(&e),
    }
}

fn config_help(ctx: &mut Ctx, _: &[&[u8]]) {
    help_reply(
        ctx,
        "CONFIG",
        &[
            "GET <pattern>",
            "    Show the configuration parameters whose names match <pattern>.",
            "SET <directive> <value>",
            "    Change a configuration parameter at runtime.",
            "RESETSTAT",
            "    Reset the statistics that INFO reports.",
            "REWRITE",
            "    Write the running configuration back to the configuration file.",
        ],
    );
}

fn time(ctx: &mut Ctx, _: &[&[u8]]) {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default();
    ctx.out.array(2);
    ctx.out.bulk(now.as_secs().to_string().as_bytes());
    ctx.out.bulk(now.subsec_micros().to_string().as_bytes());
}

fn shutdown(ctx: &mut Ctx, args: &[&[u8]]) {
    let (mut save, mut now, mut force) = (None, false, false);
    for a in &args[1..] {
        if eq_ic(a, b"nosave") {
            save = Some(false);
        } else if eq_ic(a, b"save") {
            save = Some(true);
        } else if eq_ic(a, b"now") {
            now = true;
        } else if eq_ic(a, b"force") {
            force = true;
        } else if eq_ic(a, b"abort") {
            return ctx.err("ERR No shutdown in progress.");
        } else {
            return ctx.err(super::SYNTAX_ERR);
        }
    }
    ctx.st.actions.push(Action::Shutdown { save, now, force });
    ctx.st.shutting_down = true;
}

fn info(ctx: &mut Ctx, _: &[&[u8]]) {
    let text = format!(
        "# Server\r\nredis_version:{}\r\nrun_id:{}\r\ntcp_port:{}\r\n",
        crate::REDIS_VERSION,
        ctx.st.run_id,
        ctx.st.port
    );
    ctx.out.verbatim(text.as_bytes(), "txt");
}

fn debug(ctx: &mut Ctx, args: &[&[u8]]) {
    let sub = args[1];
    if eq_ic(sub, b"sleep") && args.len() == 3 {
        let secs = crate::util::parse_f64(args[2]).unwrap_or(0.0).max(0.0);
        std::thread::sleep(std::time::Duration::from_secs_f64(secs));
        ctx.out.ok();
    } else if eq_ic(sub, b"set-active-expire") && args.len() == 3 {
        match parse_i64(args[2]) {
            Some(v) => {
                ctx.st.active_expire = v != 0;
                ctx.out.ok();
            }
            None => ctx.err(super::NOT_INT),
        }
    } else {
        let msg = format!(
            "ERR unknown subcommand '{}'. Try DEBUG HELP.",
            String::from_utf8_lossy(sub)
        );
        ctx.err(&msg);
    }
}
