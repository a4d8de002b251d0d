//! CLIENT and its subcommands: connection names and ids, CLIENT LIST/INFO
//! lines in Redis's format, KILL, PAUSE/UNPAUSE, REPLY, NO-EVICT, and the
//! client-side caching queries (tracking is not supported, so they report
//! it off).

use super::flags::*;
use super::server::ADMIN_CMD;
use super::table::Command;
use super::{lookup, Ctx, Lookup};
use crate::clients::{Client, ClientId, ReplyMode};
use crate::protocol::Proto;
use crate::state::{Action, Pause, PauseMode, State};
use crate::util::{eq_ic, parse_i64};
use std::fmt::Write;

pub const COMMANDS: &[Command] = &[Command::new("client", -2, 0, noop).subs(SUBS)];

const SUBS: &[Command] = &[
    Command::new("client|id", 2, NOSCRIPT | LOADING | STALE, id),
    Command::new("client|setname", 3, NOSCRIPT | LOADING | STALE, setname),
    Command::new("client|getname", 2, NOSCRIPT | LOADING | STALE, getname),
    Command::new("client|list", -2, ADMIN_CMD, list),
    Command::new("client|info", 2, NOSCRIPT | LOADING | STALE, info),
    Command::new("client|kill", -3, ADMIN_CMD, kill),
    Command::new("client|pause", -3, ADMIN_CMD, pause),
    Command::new("client|unpause", 2, ADMIN_CMD, unpause),
    Command::new("client|reply", 3, NOSCRIPT | LOADING | STALE, reply),
    Command::new("client|no-evict", 3, ADMIN_CMD, no_evict),
    Command::new("client|unblock", -3, ADMIN_CMD, unblock),
    Command::new("client|getredir", 2, NOSCRIPT | LOADING | STALE, getredir),
    Command::new("client|trackinginfo", 2, NOSCRIPT | LOADING | STALE, trackinginfo),
    Command::new("client|caching", 3, NOSCRIPT | LOADING | STALE, caching),
    Command::new("client|help", 2, LOADING | STALE, help),
];

fn noop(_: &mut Ctx, _: &[&[u8]]) {}

/// The error for a subcommand given arguments it does not take.
fn subcommand_syntax(ctx: &mut Ctx, args: &[&[u8]]) {
    let sub = String::from_utf8_lossy(&args[1][..args[1].len().min(128)]).into_owned();
    let msg = format!("ERR unknown subcommand or wrong number of arguments for '{sub}'. Try CLIENT HELP.");
    ctx.err(&msg);
}

/// What RESET clears besides transactions and subscriptions: MONITOR mode
/// and CLIENT NO-EVICT.
pub fn reset_connection_state(st: &mut State, cid: ClientId) {
    super::server::monitor_stop(st, cid);
    if let Some(c) = st.clients.get_mut(cid) {
        c.no_evict = false;
    }
}

fn id(ctx: &mut Ctx, _: &[&[u8]]) {
    ctx.out.int(ctx.cid as i64);
}

fn setname(ctx: &mut Ctx, args: &[&[u8]]) {
    let name = args[2];
    if !super::server::valid_client_name(name) {
        return ctx.err("ERR Client names cannot contain spaces, newlines or special characters.");
    }
    ctx.client().name = if name.is_empty() { None } else { Some(name.to_vec()) };
    ctx.out.ok();
}

fn getname(ctx: &mut Ctx, _: &[&[u8]]) {
    match ctx.client().name.clone() {
        Some(n) => ctx.out.bulk(&n),
        None => ctx.out.null(),
    }
}

/// Client types as CLIENT LIST/KILL TYPE name them.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Kind {
    Normal,
    Replica,
    PubSub,
    Master,
}

fn kind_by_name(name: &[u8]) -> Option<Kind> {
    let n = name.to_ascii_lowercase();
    match n.as_slice() {
        b"normal" => Some(Kind::Normal),
        b"slave" | b"replica" => Some(Kind::Replica),
        b"pubsub" => Some(Kind::PubSub),
        b"master" => Some(Kind::Master),
        _ => None,
    }
}

fn kind_of(c: &Client) -> Kind {
    if c.is_pubsub() {
        Kind::PubSub
    } else {
        Kind::Normal
    }
}

/// The flag letters of CLIENT LIST, in Redis's order.
fn flag_letters(c: &Client, out: &mut String) {
    let start = out.len();
    if c.monitor {
        out.push('O');
    }
    if c.is_pubsub() {
        out.push('P');
    }
    if c.multi.is_some() {
        out.push('x');
    }
    if c.blocked.is_some() {
        out.push('b');
    }
    if c.dirty_cas {
        out.push('d');
    }
    if c.close_after_reply {
        out.push('c');
    }
    if c.kill {
        out.push('A');
    }
    if c.no_evict {
        out.push('e');
    }
    if out.len() == start {
        out.push('N');
    }
}

/// Appends the CLIENT LIST line of `c` (with its trailing newline).
/// `current` is the calling client's own command: its arguments (counted
/// as argv-mem) and name (the command it is running).
fn client_line(c: &Client, now_ms: i64, current: Option<(&[&[u8]], &str)>, out: &mut String) {
    let argv_mem: usize = current.map_or(0, |(a, _)| a.iter().map(|x| x.len()).sum());
    let cmd = current.map_or(c.last_cmd, |(_, name)| name);
    let multi = c.multi.as_ref().map_or(-1, |m| m.queue.len() as i64);
    let multi_mem: usize = c
        .multi
        .as_ref()
        .map_or(0, |m| m.queue.iter().flatten().map(|a| a.len() + std::mem::size_of::<Vec<u8>>()).sum());
    let obl = c.pending.len();
    let rbs = c.pending.capacity().max(1024);
    let tot = c.qbuf + c.qbuf_free + argv_mem + multi_mem + rbs + super::info::CLIENT_STRUCT;
    let name = c.name.as_deref().map(String::from_utf8_lossy).unwrap_or_default();
    let _ = write!(
        out,
        "id={} addr={} laddr={} fd={} name={} age={} idle={} flags=",
        c.id,
        c.addr,
        c.laddr,
        c.fd,
        name,
        (now_ms - c.created_ms).max(0) / 1000,
        (now_ms - c.last_interaction_ms).max(0) / 1000,
    );
    flag_letters(c, out);
    let _ = writeln!(
        out,
        " db={} sub={} psub={} ssub={} multi={} qbuf={} qbuf-free={} argv-mem={} multi-mem={} rbs={} rbp={} \
         obl={} oll=0 omem=0 tot-mem={} events={} cmd={} user={} redir=-1 resp={}",
        c.db,
        c.channels.len(),
        c.patterns.len(),
        c.shard_channels.len(),
        multi,
        c.qbuf,
        c.qbuf_free,
        argv_mem,
        multi_mem,
        rbs,
        rbs,
        obl,
        tot,
        if obl > 0 { "rw" } else { "r" },
        cmd,
        c.user,
        if c.proto == Proto::Resp3 { 3 } else { 2 },
    );
}

fn list(ctx: &mut Ctx, args: &[&[u8]]) {
    enum Filter {
        All,
        Kind(Kind),
        Ids(Vec<i64>),
    }
    let filter = if args.len() == 2 {
        Filter::All
    } else if args.len() == 4 && eq_ic(args[2], b"type") {
        match kind_by_name(args[3]) {
            Some(k) => Filter::Kind(k),
            None => {
                let msg = format!("ERR Unknown client type '{}'", String::from_utf8_lossy(args[3]));
                return ctx.err(&msg);
            }
        }
    } else if args.len() > 3 && eq_ic(args[2], b"id") {
        let mut ids = Vec::new();
        for a in &args[3..] {
            match parse_i64(a) {
                Some(n) => ids.push(n),
                None => return ctx.err("ERR Invalid client ID"),
            }
        }
        Filter::Ids(ids)
    } else {
        return ctx.syntax();
    };
    let now = ctx.now;
    let cid = ctx.cid;
    let mut text = String::new();
    let ids: Vec<ClientId> = match &filter {
        // In the order given, repeats included.
        Filter::Ids(ids) => ids.iter().filter_map(|&i| u64::try_from(i).ok()).collect(),
        _ => ctx.st.client_ids(),
    };
    for i in ids {
        let Some(c) = ctx.st.clients.get(i) else {
            continue;
        };
        if let Filter::Kind(k) = filter {
            if kind_of(c) != k {
                continue;
            }
        }
        let current = (i == cid).then_some((args, ctx.name));
        client_line(c, now, current, &mut text);
    }
    ctx.out.verbatim(text.as_bytes(), "txt");
}

fn info(ctx: &mut Ctx, args: &[&[u8]]) {
    let now = ctx.now;
    let mut text = String::new();
    if let Some(c) = ctx.st.clients.get(ctx.cid) {
        client_line(c, now, Some((args, ctx.name)), &mut text);
    }
    ctx.out.verbatim(text.as_bytes(), "txt");
}

fn kill(ctx: &mut Ctx, args: &[&[u8]]) {
    // The old form: CLIENT KILL addr:port.
    if args.len() == 3 {
        let addr = args[2];
        let target =
            ctx.st.client_ids().into_iter().find(|i| ctx.st.clients.get(*i).is_some_and(|c| c.addr.as_bytes() == addr));
        let Some(t) = target else {
            return ctx.err("ERR No such client");
        };
        close_client(ctx, t);
        return ctx.out.ok();
    }
    let mut id = None;
    let mut kind = None;
    let mut addr: Option<&[u8]> = None;
    let mut laddr: Option<&[u8]> = None;
    let mut user: Option<&[u8]> = None;
    let mut skipme = true;
    let mut i = 2;
    while i < args.len() {
        let (opt, val) = (args[i], args.get(i + 1).copied());
        let Some(val) = val else { return ctx.syntax() };
        if eq_ic(opt, b"id") {
            match parse_i64(val) {
                Some(n) if n > 0 => id = Some(n as u64),
                _ => return ctx.err("ERR client-id should be greater than 0"),
            }
        } else if eq_ic(opt, b"type") {
            match kind_by_name(val) {
                Some(k) => kind = Some(k),
                None => {
                    let msg = format!("ERR Unknown client type '{}'", String::from_utf8_lossy(val));
                    return ctx.err(&msg);
                }
            }
        } else if eq_ic(opt, b"addr") {
            addr = Some(val);
        } else if eq_ic(opt, b"laddr") {
            laddr = Some(val);
        } else if eq_ic(opt, b"user") {
            if val != b"default" {
                let msg = format!("ERR No such user '{}'", String::from_utf8_lossy(val));
                return ctx.err(&msg);
            }
            user = Some(val);
        } else if eq_ic(opt, b"skipme") {
            if eq_ic(val, b"yes") {
                skipme = true;
            } else if eq_ic(val, b"no") {
                skipme = false;
            } else {
                return ctx.syntax();
            }
        } else {
            return ctx.syntax();
        }
        i += 2;
    }
    let me = ctx.cid;
    let targets: Vec<ClientId> = ctx
        .st
        .client_ids()
        .into_iter()
        .filter(|&i| {
            let Some(c) = ctx.st.clients.get(i) else {
                return false;
            };
            id.is_none_or(|x| x == i)
                && addr.is_none_or(|a| c.addr.as_bytes() == a)
                && laddr.is_none_or(|a| c.laddr.as_bytes() == a)
                && kind.is_none_or(|k| kind_of(c) == k)
                && user.is_none_or(|u| c.user.as_bytes() == u)
                && !(skipme && i == me)
        })
        .collect();
    for &t in &targets {
        close_client(ctx, t);
    }
    ctx.out.int(targets.len() as i64);
}

/// Closes another client at once; the calling client after its reply.
fn close_client(ctx: &mut Ctx, target: ClientId) {
    if target == ctx.cid {
        ctx.client().close_after_reply = true;
    } else if let Some(c) = ctx.st.clients.get_mut(target) {
        c.kill();
    }
}

fn pause(ctx: &mut Ctx, args: &[&[u8]]) {
    let timeout = match parse_i64(args[2]) {
        None => return ctx.err("ERR timeout is not an integer or out of range"),
        Some(t) if t < 0 => return ctx.err("ERR timeout is negative"),
        Some(t) => t,
    };
    let mode = match args.len() {
        3 => PauseMode::All,
        4 if eq_ic(args[3], b"write") => PauseMode::Write,
        4 if eq_ic(args[3], b"all") => PauseMode::All,
        4 => return ctx.err("ERR CLIENT PAUSE mode must be WRITE or ALL"),
        _ => return subcommand_syntax(ctx, args),
    };
    let until = ctx.now.saturating_add(timeout);
    ctx.st.pause = Some(match ctx.st.pause {
        // A pause in effect is only ever extended or made stricter.
        Some(p) if p.until_ms > ctx.now => Pause {
            mode: if p.mode == PauseMode::All { PauseMode::All } else { mode },
            until_ms: p.until_ms.max(until),
        },
        _ => Pause { mode, until_ms: until },
    });
    ctx.out.ok();
}

fn unpause(ctx: &mut Ctx, _: &[&[u8]]) {
    ctx.st.pause = None;
    ctx.st.actions.push(Action::Unpause);
    ctx.out.ok();
}

/// Whether CLIENT PAUSE holds this request now: everything under ALL,
/// writes (and EXEC of queued writes) under WRITE. Requests that would be
/// refused anyway (unknown command, wrong arity) are not held.
pub fn held_by_pause(st: &State, cid: ClientId, args: &[&[u8]]) -> bool {
    let Some(p) = st.pause else { return false };
    if p.until_ms <= st.now_ms() {
        return false;
    }
    let cmd = match lookup(args) {
        Lookup::Found(c) => c,
        Lookup::Error(..) => return false,
    };
    if p.mode == PauseMode::All {
        return true;
    }
    const WRITES: u32 = WRITE | MAY_REPLICATE;
    if cmd.flags & WRITES != 0 {
        return true;
    }
    if cmd.name == "exec" {
        let queued = st.clients.get(cid).and_then(|c| c.multi.as_ref());
        return queued.is_some_and(|m| {
            m.queue.iter().any(|q| {
                let argv: Vec<&[u8]> = q.iter().map(|a| a.as_slice()).collect();
                matches!(lookup(&argv), Lookup::Found(c) if c.flags & WRITES != 0)
            })
        });
    }
    false
}

fn reply(ctx: &mut Ctx, args: &[&[u8]]) {
    let a = args[2];
    let c = ctx.client();
    if eq_ic(a, b"on") {
        c.reply_mode = ReplyMode::On;
        ctx.out.ok();
    } else if eq_ic(a, b"off") {
        c.reply_mode = ReplyMode::Off;
    } else if eq_ic(a, b"skip") {
        if c.reply_mode != ReplyMode::Off {
            c.reply_mode = ReplyMode::Skip;
        }
    } else {
        ctx.syntax();
    }
}

fn no_evict(ctx: &mut Ctx, args: &[&[u8]]) {
    let a = args[2];
    if eq_ic(a, b"on") {
        ctx.client().no_evict = true;
    } else if eq_ic(a, b"off") {
        ctx.client().no_evict = false;
    } else {
        return ctx.syntax();
    }
    ctx.out.ok();
}

/// Wakes a client waiting in a blocking command: as if it timed out, or
/// with an error.
fn unblock(ctx: &mut Ctx, args: &[&[u8]]) {
    let Some(id) = parse_i64(args[2]) else {
        return ctx.err(super::NOT_INT);
    };
    let as_error = match args.len() {
        3 => false,
        4 if eq_ic(args[3], b"timeout") => false,
        4 if eq_ic(args[3], b"error") => true,
        4 => return ctx.err("ERR CLIENT UNBLOCK reason should be TIMEOUT or ERROR"),
        _ => return subcommand_syntax(ctx, args),
    };
    let target = u64::try_from(id).ok().and_then(|id| ctx.st.clients.get_mut(id));
    let Some(c) = target.filter(|c| c.blocked.is_some()) else {
        return ctx.out.int(0);
    };
    let b = c.blocked.take().expect("checked");
    if as_error {
        c.pending.extend_from_slice(b"-UNBLOCKED client unblocked via CLIENT UNBLOCK\r\n");
    } else {
        c.pending.extend_from_slice(&b.timeout_reply);
    }
    c.notify.notify_one();
    let cid = c.id;
    super::blocking::forget(ctx.st, cid, &b);
    if as_error {
        ctx.st.stats.record_error("UNBLOCKED");
    }
    ctx.out.int(1);
}

fn getredir(ctx: &mut Ctx, _: &[&[u8]]) {
    ctx.out.int(-1);
}

fn trackinginfo(ctx: &mut Ctx, _: &[&[u8]]) {
    ctx.out.map(3);
    ctx.out.bulk(b"flags");
    ctx.out.set(1);
    ctx.out.bulk(b"off");
    ctx.out.bulk(b"redirect");
    ctx.out.int(-1);
    ctx.out.bulk(b"prefixes");
    ctx.out.array(0);
}

fn caching(ctx: &mut Ctx, _: &[&[u8]]) {
    ctx.err(
        "ERR CLIENT CACHING can be called only when the client is in tracking mode with OPTIN or OPTOUT mode enabled",
    );
}

fn help(ctx: &mut Ctx, _: &[&[u8]]) {
    super::server::help_reply(
        ctx,
        "CLIENT",
        &[
            "CACHING (YES|NO)",
            "    Track (or not) the keys of the next command; needs tracking in OPTIN/OPTOUT mode.",
            "GETREDIR",
            "    The client id receiving this connection's invalidations (-1: none).",
            "GETNAME",
            "    This connection's name.",
            "ID",
            "    This connection's id.",
            "INFO",
            "    This connection, described as in CLIENT LIST.",
            "KILL <ip:port>",
            "    Close the connection from <ip:port>.",
            "KILL <option> <value> [<option> <value> [...]]",
            "    Close the connections matching every option given:",
            "    * ID <client-id>",
            "    * ADDR (<ip:port>|<unixsocket>:0)   (the client's address)",
            "    * LADDR (<ip:port>|<unixsocket>:0)  (the address it connected to)",
            "    * TYPE (NORMAL|MASTER|REPLICA|PUBSUB)",
            "    * USER <username>",
            "    * SKIPME (YES|NO)   (leave this connection alone; default yes)",
            "LIST [TYPE (NORMAL|MASTER|REPLICA|PUBSUB)] [ID <client-id> ...]",
            "    One line per connection, optionally only of a type or with given ids.",
            "UNPAUSE",
            "    End a CLIENT PAUSE now.",
            "PAUSE <timeout> [WRITE|ALL]",
            "    Hold commands of all clients (ALL) or only writes (WRITE) for <timeout> ms.",
            "REPLY (ON|OFF|SKIP)",
            "    Send replies to this connection, none, or none for the next command.",
            "SETNAME <name>",
            "    Name this connection.",
            "UNBLOCK <clientid> [TIMEOUT|ERROR]",
            "    Wake a client blocked in a blocking command.",
            "TRACKINGINFO",
            "    This connection's client-side caching state.",
            "NO-EVICT (ON|OFF)",
            "    Exempt this connection from client eviction, or not.",
        ],
    );
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Config;
    use crate::protocol::ReplyBuf;

    fn run(st: &mut State, cid: ClientId, line: &str) -> String {
        let args: Vec<&[u8]> = line.split(' ').map(|a| a.as_bytes()).collect();
        let mut out = ReplyBuf::new(Proto::Resp2);
        crate::commands::process(st, cid, &args, &mut out);
        String::from_utf8_lossy(&out.buf).into_owned()
    }

    #[test]
    fn list_line_has_every_field_in_order() {
        let mut st = State::new(Config::default());
        let a = st.add_detached_client();
        let text = run(&mut st, a, "CLIENT LIST");
        let line = text.lines().nth(1).unwrap();
        let keys: Vec<&str> = line.split(' ').map(|f| f.split('=').next().unwrap()).collect();
        assert_eq!(
            keys,
            [
                "id",
                "addr",
                "laddr",
                "fd",
                "name",
                "age",
                "idle",
                "flags",
                "db",
                "sub",
                "psub",
                "ssub",
                "multi",
                "qbuf",
                "qbuf-free",
                "argv-mem",
                "multi-mem",
                "rbs",
                "rbp",
                "obl",
                "oll",
                "omem",
                "tot-mem",
                "events",
                "cmd",
                "user",
                "redir",
                "resp"
            ]
        );
        assert!(line.contains("flags=N "));
        assert!(line.contains("argv-mem=10 "));
    }

    #[test]
    fn kill_by_id_marks_the_other_client() {
        let mut st = State::new(Config::default());
        let a = st.add_detached_client();
        let b = st.add_detached_client();
        assert_eq!(run(&mut st, a, &format!("CLIENT KILL ID {b}")), ":1\r\n");
        assert!(st.clients.get(b).unwrap().kill);
        assert_eq!(run(&mut st, a, &format!("CLIENT KILL ID {a}")), ":0\r\n");
        assert_eq!(run(&mut st, a, &format!("CLIENT KILL ID {a} SKIPME no")), ":1\r\n");
        assert!(st.clients.get(a).unwrap().close_after_reply);
    }

    #[test]
    fn pause_write_holds_writes_only() {
        let mut st = State::new(Config::default());
        let a = st.add_detached_client();
        assert_eq!(run(&mut st, a, "CLIENT PAUSE 100000 WRITE"), "+OK\r\n");
        assert!(held_by_pause(&st, a, &[b"SET", b"k", b"v"]));
        assert!(!held_by_pause(&st, a, &[b"GET", b"k"]));
        assert!(!held_by_pause(&st, a, &[b"NOSUCH"]));
        assert_eq!(run(&mut st, a, "CLIENT UNPAUSE"), "+OK\r\n");
        assert!(!held_by_pause(&st, a, &[b"SET", b"k", b"v"]));
    }
}
