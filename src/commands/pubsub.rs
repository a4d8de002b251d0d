//! Pub/sub commands: (S|P)SUBSCRIBE and their UNSUBSCRIBE forms, PUBLISH,
//! SPUBLISH and PUBSUB, with RESP2 arrays and RESP3 push frames.

use super::flags::*;
use super::table::Command;
use super::Ctx;
use crate::clients::{Client, ClientId};
use crate::protocol::{Proto, ReplyBuf};
use crate::pubsub::Kind;
use crate::state::State;
use crate::util::glob_match;
use std::collections::HashSet;

const PS: u32 = PUBSUB | NOSCRIPT | LOADING | STALE;

pub const COMMANDS: &[Command] = &[
    Command::new("subscribe", -2, PS, subscribe),
    Command::new("unsubscribe", -1, PS, unsubscribe),
    Command::new("psubscribe", -2, PS, psubscribe),
    Command::new("punsubscribe", -1, PS, punsubscribe),
    Command::new("ssubscribe", -2, PS, ssubscribe).keys(1, -1, 1),
    Command::new("sunsubscribe", -1, PS, sunsubscribe).keys(1, -1, 1),
    Command::new("publish", 3, PUBSUB | LOADING | STALE | FAST | MAY_REPLICATE, publish_cmd),
    Command::new("spublish", 3, PUBSUB | LOADING | STALE | FAST | MAY_REPLICATE, spublish_cmd).keys(1, 1, 1),
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

fn names(kind: Kind) -> (&'static [u8], &'static [u8]) {
    match kind {
        Kind::Channel => (b"subscribe", b"unsubscribe"),
        Kind::Pattern => (b"psubscribe", b"punsubscribe"),
        Kind::Shard => (b"ssubscribe", b"sunsubscribe"),
    }
}

fn client_set(c: &mut Client, kind: Kind) -> &mut HashSet<Vec<u8>> {
    match kind {
        Kind::Channel => &mut c.channels,
        Kind::Pattern => &mut c.patterns,
        Kind::Shard => &mut c.shard_channels,
    }
}

/// The count a (un)subscribe reply carries: shard subscriptions count
/// apart from channels and patterns.
fn count(st: &State, cid: ClientId, kind: Kind) -> usize {
    st.clients.get(cid).map_or(0, |c| match kind {
        Kind::Shard => c.shard_channels.len(),
        _ => c.subscriptions(),
    })
}

/// Writes `kind`, `name`, count as a push (RESP3) or array.
fn sub_reply(out: &mut ReplyBuf, kind: &[u8], name: Option<&[u8]>, count: usize) {
    out.push(3);
    out.bulk(kind);
    match name {
        Some(n) => out.bulk(n),
        None => out.null(),
    }
    out.int(count as i64);
}

fn subscribe_kind(ctx: &mut Ctx, args: &[&[u8]], kind: Kind) {
    let cid = ctx.cid;
    for name in &args[1..] {
        if client_set(ctx.client(), kind).insert(name.to_vec()) {
            ctx.st.pubsub.add(kind, name, cid);
        }
        let n = count(ctx.st, cid, kind);
        sub_reply(ctx.out, names(kind).0, Some(name), n);
    }
}

fn unsubscribe_kind(ctx: &mut Ctx, args: &[&[u8]], kind: Kind) {
    let cid = ctx.cid;
    let targets: Vec<Vec<u8>> = if args.len() > 1 {
        args[1..].iter().map(|a| a.to_vec()).collect()
    } else {
        client_set(ctx.client(), kind).iter().cloned().collect()
    };
    if targets.is_empty() {
        let n = count(ctx.st, cid, kind);
        return sub_reply(ctx.out, names(kind).1, None, n);
    }
    for name in targets {
        if client_set(ctx.client(), kind).remove(&name) {
            ctx.st.pubsub.remove(kind, &name, cid);
        }
        let n = count(ctx.st, cid, kind);
        sub_reply(ctx.out, names(kind).1, Some(&name), n);
    }
}

fn subscribe(ctx: &mut Ctx, args: &[&[u8]]) {
    subscribe_kind(ctx, args, Kind::Channel)
}

fn psubscribe(ctx: &mut Ctx, args: &[&[u8]]) {
    subscribe_kind(ctx, args, Kind::Pattern)
}

fn ssubscribe(ctx: &mut Ctx, args: &[&[u8]]) {
    subscribe_kind(ctx, args, Kind::Shard)
}

fn unsubscribe(ctx: &mut Ctx, args: &[&[u8]]) {
    unsubscribe_kind(ctx, args, Kind::Channel)
}

fn punsubscribe(ctx: &mut Ctx, args: &[&[u8]]) {
    unsubscribe_kind(ctx, args, Kind::Pattern)
}

fn sunsubscribe(ctx: &mut Ctx, args: &[&[u8]]) {
    unsubscribe_kind(ctx, args, Kind::Shard)
}

/// Drops every subscription of a client silently (disconnect, RESET).
pub fn unsubscribe_all(st: &mut State, cid: ClientId) {
    for kind in [Kind::Channel, Kind::Pattern, Kind::Shard] {
        let Some(c) = st.clients.get_mut(cid) else {
            return;
        };
        let names: Vec<Vec<u8>> = client_set(c, kind).drain().collect();
        for n in names {
            st.pubsub.remove(kind, &n, cid);
        }
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

/// Sends each target its message; the publishing client (`me`) gets it in
/// its own reply buffer so it sees it before its PUBLISH reply.
fn deliver(st: &mut State, me: &mut Option<(ClientId, &mut ReplyBuf)>, id: ClientId, parts: &[&[u8]]) -> bool {
    let Some(proto) = st.clients.get(id).map(|c| c.proto) else {
        return false;
    };
    let bytes = message(proto, parts);
    match me.as_mut() {
        Some((mid, out)) if *mid == id => out.raw(&bytes),
        _ => st.clients.send(id, &bytes),
    }
    true
}

/// Delivers `msg` on `channel` to every subscriber; returns how many
/// received it.
pub fn publish(st: &mut State, mut me: Option<(ClientId, &mut ReplyBuf)>, channel: &[u8], msg: &[u8]) -> usize {
    let mut receivers = 0;
    let direct: Vec<ClientId> = st.pubsub.channels.get(channel).cloned().unwrap_or_default();
    for id in direct {
        receivers += deliver(st, &mut me, id, &[b"message", channel, msg]) as usize;
    }
    let pats: Vec<(Vec<u8>, Vec<ClientId>)> =
        st.pubsub.patterns.iter().filter(|(p, _)| glob_match(p, channel, false)).cloned().collect();
    for (p, ids) in &pats {
        for &id in ids {
            receivers += deliver(st, &mut me, id, &[b"pmessage", p, channel, msg]) as usize;
        }
    }
    receivers
}

fn publish_cmd(ctx: &mut Ctx, args: &[&[u8]]) {
    let cid = ctx.cid;
    let n = publish(ctx.st, Some((cid, &mut *ctx.out)), args[1], args[2]);
    ctx.out.int(n as i64);
}

fn spublish_cmd(ctx: &mut Ctx, args: &[&[u8]]) {
    let cid = ctx.cid;
    let mut me = Some((cid, &mut *ctx.out));
    let ids: Vec<ClientId> = ctx.st.pubsub.shard_channels.get(args[1]).cloned().unwrap_or_default();
    let mut n = 0;
    for id in ids {
        n += deliver(ctx.st, &mut me, id, &[b"smessage", args[1], args[2]]) as usize;
    }
    ctx.out.int(n as i64);
}

/// PUBSUB subcommands that take at most one pattern.
fn optional_pattern<'a>(ctx: &mut Ctx, args: &[&'a [u8]]) -> Result<Option<&'a [u8]>, ()> {
    if args.len() > 3 {
        let msg = format!(
            "ERR unknown subcommand or wrong number of arguments for '{}'. Try PUBSUB HELP.",
            String::from_utf8_lossy(args[1])
        );
        ctx.err(&msg);
        return Err(());
    }
    Ok(args.get(2).copied())
}

fn list_names(ctx: &mut Ctx, args: &[&[u8]], shard: bool) {
    let Ok(pat) = optional_pattern(ctx, args) else {
        return;
    };
    let map = if shard { &ctx.st.pubsub.shard_channels } else { &ctx.st.pubsub.channels };
    let mut found: Vec<Vec<u8>> =
        map.keys().filter(|c| pat.map_or(true, |p| glob_match(p, c, false))).cloned().collect();
    found.sort();
    ctx.out.bulks(found.iter());
}

fn count_subscribers(ctx: &mut Ctx, args: &[&[u8]], shard: bool) {
    // Redis replies a flat array here, in RESP3 too.
    ctx.out.array((args.len() - 2) * 2);
    for ch in &args[2..] {
        let map = if shard { &ctx.st.pubsub.shard_channels } else { &ctx.st.pubsub.channels };
        let n = map.get(*ch).map_or(0, |v| v.len());
        ctx.out.bulk(ch);
        ctx.out.int(n as i64);
    }
}

fn pubsub_channels(ctx: &mut Ctx, args: &[&[u8]]) {
    list_names(ctx, args, false)
}

fn pubsub_shardchannels(ctx: &mut Ctx, args: &[&[u8]]) {
    list_names(ctx, args, true)
}

fn pubsub_numsub(ctx: &mut Ctx, args: &[&[u8]]) {
    count_subscribers(ctx, args, false)
}

fn pubsub_shardnumsub(ctx: &mut Ctx, args: &[&[u8]]) {
    count_subscribers(ctx, args, true)
}

fn pubsub_numpat(ctx: &mut Ctx, _: &[&[u8]]) {
    let n = ctx.st.pubsub.numpat();
    ctx.out.int(n as i64);
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
            "    List the shard channels with subscribers, optionally only those matching <pattern>.",
            "SHARDNUMSUB [<shardchannel> ...]",
            "    Count the subscribers of each shard channel.",
        ],
    );
}
