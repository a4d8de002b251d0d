//! Pub/sub commands: SUBSCRIBE, PSUBSCRIBE, their UNSUBSCRIBE forms, PUBLISH
//! and PUBSUB, with RESP2 arrays and RESP3 push frames.

use super::flags::*;
use super::table::Command;
use super::Ctx;
use crate::clients::ClientId;
use crate::protocol::{Proto, ReplyBuf};
use crate::state::State;
use crate::util::glob_match;

pub const COMMANDS: &[Command] = &[
    Command::new("subscribe", -2, PUBSUB | NOSCRIPT | LOADING | STALE, subscribe),
    Command::new("unsubscribe", -1, PUBSUB | NOSCRIPT | LOADING | STALE, unsubscribe),
    Command::new("psubscribe", -2, PUBSUB | NOSCRIPT | LOADING | STALE, psubscribe),
    Command::new("punsubscribe", -1, PUBSUB | NOSCRIPT | LOADING | STALE, punsubscribe),
    Command::new("publish", 3, PUBSUB | LOADING | STALE | FAST | MAY_REPLICATE, publish_cmd),
    Command::new("pubsub", -2, 0, pubsub_help).subs(PUBSUB_SUBS),
];

const PUBSUB_SUBS: &[Command] = &[
    Command::new("pubsub|channels", -2, PUBSUB | LOADING | STALE, pubsub_channels),
    Command::new("pubsub|numsub", -2, PUBSUB | LOADING | STALE, pubsub_numsub),
    Command::new("pubsub|numpat", 2, PUBSUB | LOADING | STALE, pubsub_numpat),
    Command::new("pubsub|shardchannels", -2, PUBSUB | LOADING | STALE, pubsub_shardchannels),
    Command::new("pubsub|shardnumsub", -2, PUBSUB | LOADING | STALE, pubsub_shardnumsub),
    Command::new("pubsub|help", 2, LOADING | STALE, pubsub_help),
];

/// Writes `kind`, `name`, count to `out` as a push (RESP3) or array.
fn sub_reply(out: &mut ReplyBuf, kind: &[u8], name: Option<&[u8]>, count: usize) {
    out.push(3);
    out.bulk(kind);
    match name {
        Some(n) => out.bulk(n),
        None => out.null(),
    }
    out.int(count as i64);
}

fn subscribe(ctx: &mut Ctx, args: &[&[u8]]) {
    let cid = ctx.cid;
    for ch in &args[1..] {
        let c = ctx.st.clients.get_mut(cid).expect("registered");
        if c.channels.insert(ch.to_vec()) {
            ctx.st.pubsub.subscribe(ch, cid);
        }
        let n = ctx.st.clients.get(cid).map_or(0, |c| c.subscriptions());
        sub_reply(ctx.out, b"subscribe", Some(ch), n);
    }
}

fn psubscribe(ctx: &mut Ctx, args: &[&[u8]]) {
    let cid = ctx.cid;
    for pat in &args[1..] {
        let c = ctx.st.clients.get_mut(cid).expect("registered");
        if c.patterns.insert(pat.to_vec()) {
            ctx.st.pubsub.psubscribe(pat, cid);
        }
        let n = ctx.st.clients.get(cid).map_or(0, |c| c.subscriptions());
        sub_reply(ctx.out, b"psubscribe", Some(pat), n);
    }
}

fn unsubscribe(ctx: &mut Ctx, args: &[&[u8]]) {
    let cid = ctx.cid;
    let targets: Vec<Vec<u8>> = if args.len() > 1 {
        args[1..].iter().map(|a| a.to_vec()).collect()
    } else {
        ctx.client().channels.iter().cloned().collect()
    };
    if targets.is_empty() {
        let n = ctx.client().subscriptions();
        return sub_reply(ctx.out, b"unsubscribe", None, n);
    }
    for ch in targets {
        unsubscribe_one(ctx.st, cid, &ch, Some(ctx.out));
    }
}

fn punsubscribe(ctx: &mut Ctx, args: &[&[u8]]) {
    let cid = ctx.cid;
    let targets: Vec<Vec<u8>> = if args.len() > 1 {
        args[1..].iter().map(|a| a.to_vec()).collect()
    } else {
        ctx.client().patterns.iter().cloned().collect()
    };
    if targets.is_empty() {
        let n = ctx.client().subscriptions();
        return sub_reply(ctx.out, b"punsubscribe", None, n);
    }
    for p in targets {
        punsubscribe_one(ctx.st, cid, &p, Some(ctx.out));
    }
}

fn unsubscribe_one(st: &mut State, cid: ClientId, ch: &[u8], out: Option<&mut ReplyBuf>) {
    let Some(c) = st.clients.get_mut(cid) else { return };
    if c.channels.remove(ch) {
        st.pubsub.unsubscribe(ch, cid);
    }
    let n = st.clients.get(cid).map_or(0, |c| c.subscriptions());
    if let Some(out) = out {
        sub_reply(out, b"unsubscribe", Some(ch), n);
    }
}

fn punsubscribe_one(st: &mut State, cid: ClientId, p: &[u8], out: Option<&mut ReplyBuf>) {
    let Some(c) = st.clients.get_mut(cid) else { return };
    if c.patterns.remove(p) {
        st.pubsub.punsubscribe(p, cid);
    }
    let n = st.clients.get(cid).map_or(0, |c| c.subscriptions());
    if let Some(out) = out {
        sub_reply(out, b"punsubscribe", Some(p), n);
    }
}

/// Drops every subscription of a client silently (disconnect, RESET).
pub fn unsubscribe_all(st: &mut State, cid: ClientId) {
    let Some(c) = st.clients.get_mut(cid) else { return };
    let chans: Vec<Vec<u8>> = c.channels.drain().collect();
    let pats: Vec<Vec<u8>> = c.patterns.drain().collect();
    for ch in chans {
        st.pubsub.unsubscribe(&ch, cid);
    }
    for p in pats {
        st.pubsub.punsubscribe(&p, cid);
    }
}

fn message(proto: Proto, parts: &[&[u8]]) -> Vec<u8> {
    let mut r = ReplyBuf::new(proto);
    r.push(parts.len());
    for p in parts {
        r.bulk(p);
    }
    r.buf
}

/// Delivers `msg` on `channel` to every subscriber; returns how many
/// received it. `me` is the publishing client and its reply buffer, so a
/// client publishing to itself sees the message before its own reply.
pub fn publish(st: &mut State, mut me: Option<(ClientId, &mut ReplyBuf)>, channel: &[u8], msg: &[u8]) -> usize {
    let mut receivers = 0;
    let mut targets: Vec<(ClientId, Option<&[u8]>)> = Vec::new();
    if let Some(ids) = st.pubsub.channels.get(channel) {
        targets.extend(ids.iter().map(|&id| (id, None)));
    }
    let pats: Vec<(Vec<u8>, Vec<ClientId>)> = st
        .pubsub
        .patterns
        .iter()
        .filter(|(p, _)| glob_match(p, channel, false))
        .cloned()
        .collect();
    for (p, ids) in &pats {
        targets.extend(ids.iter().map(|&id| (id, Some(p.as_slice()))));
    }
    for (id, pat) in targets {
        let Some(proto) = st.clients.get(id).map(|c| c.proto) else { continue };
        let bytes = match pat {
            None => message(proto, &[b"message", channel, msg]),
            Some(p) => message(proto, &[b"pmessage", p, channel, msg]),
        };
        match me.as_mut() {
            Some((mid, out)) if *mid == id => out.raw(&bytes),
            _ => st.clients.send(id, &bytes),
        }
        receivers += 1;
    }
    receivers
}

fn publish_cmd(ctx: &mut Ctx, args: &[&[u8]]) {
    let cid = ctx.cid;
    let n = publish(ctx.st, Some((cid, &mut *ctx.out)), args[1], args[2]);
    ctx.out.int(n as i64);
}

fn pubsub_channels(ctx: &mut Ctx, args: &[&[u8]]) {
    let pat = args.get(2).copied();
    let mut names: Vec<&Vec<u8>> =
        ctx.st.pubsub.channels.keys().filter(|c| pat.map_or(true, |p| glob_match(p, c, false))).collect();
    names.sort();
    let names: Vec<Vec<u8>> = names.into_iter().cloned().collect();
    ctx.out.bulks(names.iter());
}

fn pubsub_numsub(ctx: &mut Ctx, args: &[&[u8]]) {
    ctx.out.map(args.len() - 2);
    for ch in &args[2..] {
        ctx.out.bulk(ch);
        let n = ctx.st.pubsub.channels.get(*ch).map_or(0, |v| v.len());
        ctx.out.int(n as i64);
    }
}

fn pubsub_numpat(ctx: &mut Ctx, _: &[&[u8]]) {
    let n = ctx.st.pubsub.numpat();
    ctx.out.int(n as i64);
}

fn pubsub_shardchannels(ctx: &mut Ctx, _: &[&[u8]]) {
    ctx.out.array(0);
}

fn pubsub_shardnumsub(ctx: &mut Ctx, args: &[&[u8]]) {
    ctx.out.map(args.len() - 2);
    for ch in &args[2..] {
        ctx.out.bulk(ch);
        ctx.out.int(0);
    }
}

fn pubsub_help(ctx: &mut Ctx, _: &[&[u8]]) {
    super::server::help_reply(
        ctx,
        "PUBSUB",
        &[
            "CHANNELS [<pattern>]",
            "    List the channels with subscribers, optionally only those matching <pattern>.",
            "NUMPAT",
            "    Count the pattern subscriptions.",
            "NUMSUB [<channel> ...]",
            "    Count the direct subscribers of each <channel> (pattern subscribers excluded).",
            "SHARDCHANNELS [<pattern>]",
            "    List the shard channels with subscribers (always empty: no cluster mode).",
            "SHARDNUMSUB [<shardchannel> ...]",
            "    Count the subscribers of each shard channel.",
        ],
    );
}
