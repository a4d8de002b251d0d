//! Connection commands: PING, ECHO, AUTH, HELLO, RESET.

use super::flags::*;
use super::table::Command;
use super::{multi, pubsub, Ctx};
use crate::clients::ReplyMode;
use crate::protocol::Proto;
use crate::util::{eq_ic, parse_i64};

pub const COMMANDS: &[Command] = &[
    Command::new("ping", -1, FAST | SENTINEL, ping),
    Command::new("quit", -1, ALLOW_BUSY | NOSCRIPT | LOADING | STALE | FAST | NO_AUTH, quit),
    Command::new("echo", 2, LOADING | STALE | FAST, echo),
    Command::new("auth", -2, NOSCRIPT | LOADING | STALE | FAST | NO_AUTH | SENTINEL | ALLOW_BUSY, auth),
    Command::new("hello", -1, NOSCRIPT | LOADING | STALE | FAST | NO_AUTH | SENTINEL | ALLOW_BUSY, hello),
    Command::new("reset", 1, NOSCRIPT | LOADING | STALE | FAST | NO_AUTH | SENTINEL | ALLOW_BUSY, reset),
];

fn ping(ctx: &mut Ctx, args: &[&[u8]]) {
    if args.len() > 2 {
        return ctx.arity_error();
    }
    if ctx.client().in_pubsub_mode() {
        ctx.out.array(2);
        ctx.out.bulk(b"pong");
        ctx.out.bulk(args.get(1).copied().unwrap_or(b""));
    } else if let Some(m) = args.get(1) {
        ctx.out.bulk(m);
    } else {
        ctx.out.simple("PONG");
    }
}

/// QUIT is answered before lookup (see `process`); the entry exists so
/// COMMAND reports it as Redis does.
fn quit(ctx: &mut Ctx, _: &[&[u8]]) {
    ctx.client().close_after_reply = true;
    ctx.out.ok();
}

fn echo(ctx: &mut Ctx, args: &[&[u8]]) {
    ctx.out.bulk(args[1]);
}

/// Checks a username/password pair against the configuration.
fn check_password(ctx: &mut Ctx, user: &[u8], pass: &[u8]) -> bool {
    let ok = user == b"default"
        && match &ctx.st.config.requirepass {
            None => true,
            Some(p) => p.as_slice() == pass,
        };
    if !ok {
        ctx.err("WRONGPASS invalid username-password pair or user is disabled.");
    }
    ok
}

fn auth(ctx: &mut Ctx, args: &[&[u8]]) {
    if args.len() > 3 {
        return ctx.err(super::SYNTAX_ERR);
    }
    if args.len() == 2 && ctx.st.config.requirepass.is_none() {
        return ctx.err(
            "ERR AUTH <password> called without any password configured for the default user. Are you sure your configuration is correct?",
        );
    }
    let (user, pass) = if args.len() == 3 { (args[1], args[2]) } else { (&b"default"[..], args[1]) };
    if check_password(ctx, user, pass) {
        ctx.client().authed = true;
        ctx.out.ok();
    }
}

fn hello(ctx: &mut Ctx, args: &[&[u8]]) {
    let mut proto = None;
    if args.len() >= 2 {
        let v = match parse_i64(args[1]) {
            Some(v) => v,
            None => return ctx.err("ERR Protocol version is not an integer or out of range"),
        };
        if !(2..=3).contains(&v) {
            return ctx.err("NOPROTO unsupported protocol version");
        }
        proto = Some(if v == 3 { Proto::Resp3 } else { Proto::Resp2 });
    }
    let mut name = None;
    let mut i = 2;
    while i < args.len() {
        let more = args.len() - i - 1;
        if eq_ic(args[i], b"auth") && more >= 2 {
            if !check_password(ctx, args[i + 1], args[i + 2]) {
                return;
            }
            ctx.client().authed = true;
            i += 3;
        } else if eq_ic(args[i], b"setname") && more >= 1 {
            if !super::server::valid_client_name(args[i + 1]) {
                return ctx.err("ERR Client names cannot contain spaces, newlines or special characters.");
            }
            name = Some(args[i + 1]);
            i += 2;
        } else {
            let msg = format!("ERR Syntax error in HELLO option '{}'", String::from_utf8_lossy(args[i]));
            return ctx.err(&msg);
        }
    }
    if !ctx.client().authed {
        return ctx.err("NOAUTH HELLO must be called with the client already authenticated, otherwise the HELLO AUTH <user> <pass> option can be used to authenticate the client and select the RESP protocol version at the same time");
    }
    if let Some(n) = name {
        ctx.client().name = if n.is_empty() { None } else { Some(n.to_vec()) };
    }
    if let Some(p) = proto {
        ctx.client().proto = p;
        ctx.out.proto = p;
    }
    let id = ctx.cid as i64;
    let proto_n = if ctx.out.resp3() { 3 } else { 2 };
    ctx.out.map(7);
    ctx.out.bulk(b"server");
    ctx.out.bulk(b"redis");
    ctx.out.bulk(b"version");
    ctx.out.bulk(crate::REDIS_VERSION.as_bytes());
    ctx.out.bulk(b"proto");
    ctx.out.int(proto_n);
    ctx.out.bulk(b"id");
    ctx.out.int(id);
    ctx.out.bulk(b"mode");
    ctx.out.bulk(b"standalone");
    ctx.out.bulk(b"role");
    ctx.out.bulk(b"master");
    ctx.out.bulk(b"modules");
    ctx.out.array(0);
}

fn reset(ctx: &mut Ctx, _: &[&[u8]]) {
    let cid = ctx.cid;
    multi::unwatch_all(ctx.st, cid);
    pubsub::unsubscribe_all(ctx.st, cid);
    super::client::reset_connection_state(ctx.st, cid);
    let needs_auth = ctx.st.config.requirepass.is_some();
    let c = ctx.client();
    c.multi = None;
    c.name = None;
    c.proto = Proto::Resp2;
    c.reply_mode = ReplyMode::On;
    c.authed = !needs_auth;
    ctx.out.proto = Proto::Resp2;
    ctx.db = 0;
    ctx.out.simple("RESET");
}
