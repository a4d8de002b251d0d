//! The command table and the call pipeline: lookup, checks in Redis's order,
//! MULTI queueing, execution, statistics and propagation.
//!
//! Invariant: every keyspace change made by a command reaches the write path
//! (`State::prop`) exactly once, through `call`; handlers never emit to it
//! themselves, they only say how they should be propagated (`Ctx::prop`).

pub mod aof;
pub mod aof_load;
pub mod bits;
pub mod blocking;
pub mod client;
pub mod command;
pub mod connection;
pub mod dump;
pub mod expire;
pub mod hashes;
pub mod info;
pub mod keys;
pub mod lists;
#[rustfmt::skip] // generated: tools/gen-command-meta.py --check compares it byte for byte
pub mod meta;
pub mod multi;
pub mod notify;
pub mod persist;
pub mod pubsub;
pub mod server;
pub mod sets;
pub mod sort;
pub mod strings;
mod table;
pub mod typed;
pub mod zsets;

use crate::clients::ClientId;
use crate::keyspace::Db;
use crate::propagate::Op;
use crate::protocol::ReplyBuf;
use crate::state::State;
use crate::util::eq_ic;

pub use table::{all_commands, lookup, Command, Lookup};

/// Command flags, as COMMAND INFO names them.
pub mod flags {
    pub const WRITE: u32 = 1 << 0;
    pub const READONLY: u32 = 1 << 1;
    pub const DENYOOM: u32 = 1 << 2;
    pub const ADMIN: u32 = 1 << 3;
    pub const PUBSUB: u32 = 1 << 4;
    pub const NOSCRIPT: u32 = 1 << 5;
    pub const BLOCKING: u32 = 1 << 6;
    pub const LOADING: u32 = 1 << 7;
    pub const STALE: u32 = 1 << 8;
    pub const SKIP_MONITOR: u32 = 1 << 9;
    pub const SKIP_SLOWLOG: u32 = 1 << 10;
    pub const FAST: u32 = 1 << 11;
    pub const NO_AUTH: u32 = 1 << 12;
    pub const MAY_REPLICATE: u32 = 1 << 13;
    pub const NO_MULTI: u32 = 1 << 14;
    pub const ALLOW_BUSY: u32 = 1 << 15;
    pub const NO_MANDATORY_KEYS: u32 = 1 << 16;
    pub const MOVABLE_KEYS: u32 = 1 << 17;
    pub const SENTINEL: u32 = 1 << 18;
    pub const ONLY_SENTINEL: u32 = 1 << 19;
    /// Needs `enable-debug-command` (DEBUG, MODULE).
    pub const PROTECTED: u32 = 1 << 20;
}

/// How the write of one call is propagated.
#[derive(Debug, Default)]
pub enum Prop {
    /// As the client sent it (if the call changed anything).
    #[default]
    AsIs,
    /// Nothing, whatever changed.
    Nothing,
    /// These commands instead (relative expiry made absolute, SPOP as SREM).
    Rewritten(Vec<Vec<Vec<u8>>>),
}

pub const WRONGTYPE: &str = "WRONGTYPE Operation against a key holding the wrong kind of value";
pub const SYNTAX_ERR: &str = "ERR syntax error";
pub const NOT_INT: &str = "ERR value is not an integer or out of range";
pub const NOT_FLOAT: &str = "ERR value is not a valid float";
pub const OVERFLOW: &str = "ERR increment or decrement would overflow";

pub struct Ctx<'a> {
    pub st: &'a mut State,
    pub cid: ClientId,
    /// The client's selected database (written back after the call).
    pub db: usize,
    pub out: &'a mut ReplyBuf,
    /// Time of the call, ms; one value for the whole call.
    pub now: i64,
    /// Keyspace changes made by this call.
    pub dirty: u64,
    pub prop: Prop,
    /// The command's full name, for error messages.
    pub name: &'static str,
}

impl<'a> Ctx<'a> {
    #[inline]
    pub fn db(&mut self) -> &mut Db {
        &mut self.st.keyspace.dbs[self.db]
    }

    #[inline]
    pub fn client(&mut self) -> &mut crate::clients::Client {
        self.st.clients.get_mut(self.cid).expect("calling client is registered")
    }

    pub fn err(&mut self, msg: &str) {
        self.out.error(msg);
    }

    pub fn wrongtype(&mut self) {
        self.out.error(WRONGTYPE);
    }

    pub fn syntax(&mut self) {
        self.out.error(SYNTAX_ERR);
    }

    pub fn arity_error(&mut self) {
        let msg = format!("ERR wrong number of arguments for '{}' command", self.name);
        self.out.error(&msg);
    }

    /// Records a change to `key` of class `class` (notify flags): bumps
    /// dirty, invalidates WATCH, and sends the keyspace event `event`.
    pub fn changed(&mut self, key: &[u8], class: u32, event: &str) {
        self.dirty += 1;
        self.st.keyspace.dbs[self.db].touch(key);
        self.notify(class, event, key);
    }

    /// Sends a keyspace notification for `key` in the current database.
    pub fn notify(&mut self, class: u32, event: &str, key: &[u8]) {
        if self.st.notify_flags & class != 0 {
            let db = self.db;
            notify::notify(self.st, Some((self.cid, &mut *self.out)), class, event, key, db);
        }
    }

    /// Propagate `cmds` instead of the command as received.
    pub fn rewrite(&mut self, cmd: Vec<Vec<u8>>) {
        match &mut self.prop {
            Prop::Rewritten(v) => v.push(cmd),
            _ => self.prop = Prop::Rewritten(vec![cmd]),
        }
    }

    pub fn random(&mut self) -> u64 {
        self.st.rng.next_u64()
    }
}

/// Parses an integer argument, replying the standard error if it is not one.
pub fn arg_i64(ctx: &mut Ctx, b: &[u8]) -> Option<i64> {
    let v = crate::util::parse_i64(b);
    if v.is_none() {
        ctx.err(NOT_INT);
    }
    v
}

/// Runs one request from client `cid`: Redis's processCommand.
pub fn process(st: &mut State, cid: ClientId, args: &[&[u8]], out: &mut ReplyBuf) {
    let Some(client) = st.clients.get_mut(cid) else {
        return;
    };
    if eq_ic(args[0], b"quit") {
        out.ok();
        client.close_after_reply = true;
        return;
    }
    let cmd = match lookup(args) {
        Lookup::Found(c) => c,
        Lookup::Error(msg, cmd) => {
            if let Some(c) = cmd {
                st.stats.commands.entry(c.name).or_default().rejected_calls += 1;
            }
            let is_exec = cmd.is_some_and(|c| c.name == "exec");
            return reject(st, cid, out, &msg, is_exec);
        }
    };
    let client = st.clients.get_mut(cid).expect("registered");
    if cmd.flags & flags::PROTECTED != 0 && !debug_allowed(&st.config.enable_debug_command, &client.addr) {
        let msg = format!(
            "ERR {} command not allowed. If the {} option is set to \"local\", you can run it from a local connection, otherwise you need to set this option in the configuration file, and then restart the server.",
            cmd.name.to_ascii_uppercase(),
            "enable-debug-command"
        );
        return reject_cmd(st, cid, out, cmd, &msg);
    }
    if !client.authed && cmd.flags & flags::NO_AUTH == 0 {
        return reject_cmd(st, cid, out, cmd, "NOAUTH Authentication required.");
    }
    if client.multi.is_some() && cmd.flags & flags::NO_MULTI != 0 {
        return reject_cmd(st, cid, out, cmd, "ERR Command not allowed inside a transaction");
    }
    if persist::writes_refused(st) && st.clients.get(cid).is_some_and(|c| refused_on_disk_error(cmd, c)) {
        return reject_cmd(st, cid, out, cmd, persist::MISCONF);
    }
    if let Some(msg) = aof::refusal(st) {
        if st.clients.get(cid).is_some_and(|c| refused_on_disk_error(cmd, c)) {
            return reject_cmd(st, cid, out, cmd, &msg);
        }
    }
    let client = st.clients.get_mut(cid).expect("registered");
    if client.in_pubsub_mode() && !allowed_in_pubsub(cmd.name) {
        let msg = format!(
            "ERR Can't execute '{}': only (P|S)SUBSCRIBE / (P|S)UNSUBSCRIBE / PING / QUIT / RESET are allowed in this context",
            cmd.name
        );
        return reject_cmd(st, cid, out, cmd, &msg);
    }
    if st.loading && cmd.flags & flags::LOADING == 0 {
        return reject_cmd(st, cid, out, cmd, "LOADING Redis is loading the dataset in memory");
    }
    let client = st.clients.get_mut(cid).expect("registered");
    if let Some(m) = client.multi.as_mut() {
        if !matches!(cmd.name, "exec" | "discard" | "multi" | "watch" | "quit" | "reset") {
            m.queue.push(args.iter().map(|a| a.to_vec()).collect());
            out.simple("QUEUED");
            return;
        }
    }
    call(st, cid, cmd, args, out);
    if !st.ready_keys.is_empty() {
        blocking::serve_ready(st);
    }
}

/// What a failed save refuses: writes, an EXEC of queued writes, and PING
/// (so that a monitoring client notices), as Redis does.
fn refused_on_disk_error(cmd: &Command, client: &crate::clients::Client) -> bool {
    cmd.flags & flags::WRITE != 0
        || cmd.name == "ping"
        || (cmd.name == "exec" && client.multi.as_ref().is_some_and(queues_writes))
}

/// Whether a transaction has a write command queued.
fn queues_writes(m: &crate::clients::Multi) -> bool {
    m.queue.iter().any(|argv| {
        let args: Vec<&[u8]> = argv.iter().map(|a| a.as_slice()).collect();
        matches!(lookup(&args), Lookup::Found(c) if c.flags & flags::WRITE != 0)
    })
}

fn debug_allowed(setting: &str, addr: &str) -> bool {
    match setting {
        "yes" => true,
        "local" => addr.starts_with("127.") || addr.starts_with("[::1]") || addr.starts_with("/"),
        _ => false,
    }
}

fn allowed_in_pubsub(name: &str) -> bool {
    matches!(
        name,
        "ping"
            | "subscribe"
            | "ssubscribe"
            | "unsubscribe"
            | "sunsubscribe"
            | "psubscribe"
            | "punsubscribe"
            | "quit"
            | "reset"
    )
}

fn reject_cmd(st: &mut State, cid: ClientId, out: &mut ReplyBuf, cmd: &'static Command, msg: &str) {
    st.stats.commands.entry(cmd.name).or_default().rejected_calls += 1;
    reject(st, cid, out, msg.as_bytes(), cmd.name == "exec")
}

/// A command refused before running: flags a MULTI so EXEC aborts. A
/// refused EXEC discards the transaction and says why.
fn reject(st: &mut State, cid: ClientId, out: &mut ReplyBuf, msg: &[u8], is_exec: bool) {
    if let Some(m) = st.clients.get_mut(cid).and_then(|c| c.multi.as_mut()) {
        m.failed = true;
    }
    if is_exec {
        if let Some(c) = st.clients.get_mut(cid) {
            c.multi = None;
        }
        multi::unwatch_all(st, cid);
        let why = msg.strip_prefix(b"ERR ").unwrap_or(msg);
        let mut text = b"EXECABORT Transaction discarded because of: ".to_vec();
        text.extend_from_slice(why);
        out.error_bytes(&text);
    } else {
        out.error_bytes(msg);
    }
    for e in out.take_errors() {
        st.stats.record_error(&e);
    }
}

/// Executes a resolved command: Redis's call(). Nested calls (inside EXEC)
/// add their ops to the outer call's, which emits them all at the end.
pub fn call(st: &mut State, cid: ClientId, cmd: &'static Command, args: &[&[u8]], out: &mut ReplyBuf) {
    let db = match st.clients.get(cid) {
        Some(c) => c.db,
        None => return,
    };
    st.call_depth += 1;
    let errors_before = out.errors.len();
    let mut ctx =
        Ctx { now: call_clock::now_ms(&st.clock), st, cid, db, out, dirty: 0, prop: Prop::AsIs, name: cmd.name };
    (cmd.handler)(&mut ctx, args);
    let Ctx { dirty, prop, db: new_db, .. } = ctx;
    let usec = call_clock::lap_usec();

    if let Some(c) = st.clients.get_mut(cid) {
        c.db = new_db;
        c.last_cmd = cmd.name;
    }
    let failed = out.errors.len() > errors_before;
    for e in out.errors.drain(errors_before..) {
        st.stats.record_error(&e);
    }
    let stat = st.stats.commands.entry(cmd.name).or_default();
    stat.calls += 1;
    stat.usec += usec;
    if failed {
        stat.failed_calls += 1;
    }
    st.stats.total_commands_processed += 1;
    server::after_call(st, cid, cmd, args, out, usec);

    collect_side_effects(st);
    if dirty > 0 {
        st.dirty += dirty;
    }
    if dirty > 0 && st.prop.enabled {
        match prop {
            Prop::AsIs => st.pending_ops.push(Op { db: new_db, args: args.iter().map(|a| a.to_vec()).collect() }),
            Prop::Nothing => {}
            Prop::Rewritten(cmds) => {
                st.pending_ops.extend(cmds.into_iter().map(|args| Op { db: new_db, args }));
            }
        }
    }
    st.call_depth -= 1;
    keys::after_call(st, cmd);
    if st.call_depth == 0 && !st.pending_ops.is_empty() {
        let ops = std::mem::take(&mut st.pending_ops);
        st.prop.emit(&ops);
    }
}

/// Runs a command read from a file being loaded, as Redis's loader runs
/// them: the handler alone, without statistics, slow log or monitors, and
/// with nothing propagated (loading switches `st.prop` off).
pub fn replay(st: &mut State, cid: ClientId, cmd: &'static Command, args: &[&[u8]], out: &mut ReplyBuf) {
    let Some(db) = st.clients.get(cid).map(|c| c.db) else { return };
    st.call_depth += 1;
    let mut ctx =
        Ctx { now: call_clock::now_ms(&st.clock), st, cid, db, out, dirty: 0, prop: Prop::AsIs, name: cmd.name };
    (cmd.handler)(&mut ctx, args);
    let Ctx { dirty, db: new_db, .. } = ctx;
    if let Some(c) = st.clients.get_mut(cid) {
        c.db = new_db;
    }
    collect_side_effects(st);
    st.dirty += dirty;
    st.pending_ops.clear();
    st.call_depth -= 1;
}

/// Moves what the keyspace recorded during a call to where it belongs:
/// expired keys become DEL ops, touched watched keys flag their clients.
pub fn collect_side_effects(st: &mut State) {
    let Some(first) = st.keyspace.dbs.first() else { return };
    if !first.effects.replace(false) {
        return;
    }
    for i in 0..st.keyspace.dbs.len() {
        let db = &mut st.keyspace.dbs[i];
        if !db.expired.is_empty() {
            let id = db.id;
            let keys = std::mem::take(&mut db.expired);
            for k in keys {
                st.stats.expired_keys += 1;
                notify::notify(st, None, notify::EXPIRED, "expired", &k, id);
                // Redis propagates lazy expiry as UNLINK when it frees lazily.
                let verb: &[u8] = if st.config.lazyfree_lazy_expire { b"UNLINK" } else { b"DEL" };
                st.pending_ops.push(Op { db: id, args: vec![verb.to_vec(), k.as_bytes().to_vec()] });
            }
        }
        let db = &mut st.keyspace.dbs[i];
        if !db.ready.is_empty() {
            let id = db.id;
            let keys = std::mem::take(&mut db.ready);
            st.ready_keys.extend(keys.into_iter().map(|k| (id, k)));
        }
        let db = &mut st.keyspace.dbs[i];
        if !db.touched_watchers.is_empty() {
            for id in std::mem::take(&mut db.touched_watchers) {
                if let Some(c) = st.clients.map.get_mut(&id) {
                    c.dirty_cas = true;
                }
            }
        }
    }
}

/// True when the command in `args` would be held by CLIENT PAUSE WRITE.
pub fn is_write_request(args: &[&[u8]]) -> bool {
    match lookup(args) {
        Lookup::Found(c) => c.flags & (flags::WRITE | flags::MAY_REPLICATE) != 0,
        Lookup::Error(..) => false,
    }
}

/// Time for the call pipeline with one clock read per command: each call
/// ends a lap that the next call starts from, and a call's wall time is
/// derived from the lap start instead of being read again. The network
/// layer calls `batch_start` before each batch of requests.
pub mod call_clock {
    use crate::state::Clock;
    use std::cell::Cell;
    use std::time::{Instant, SystemTime, UNIX_EPOCH};

    #[derive(Clone, Copy)]
    struct Laps {
        /// End of the previous call (start of the next).
        last: Instant,
        /// An instant and the wall time at it.
        base: Instant,
        base_wall_ms: i64,
    }

    thread_local! {
        static LAPS: Cell<Option<Laps>> = const { Cell::new(None) };
    }

    fn wall_ms() -> i64 {
        SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_millis() as i64)
    }

    /// Re-reads the wall clock and starts a lap.
    pub fn batch_start() {
        let now = Instant::now();
        LAPS.with(|l| l.set(Some(Laps { last: now, base: now, base_wall_ms: wall_ms() })));
    }

    fn laps() -> Laps {
        LAPS.with(|l| match l.get() {
            Some(x) => x,
            None => {
                batch_start();
                l.get().expect("just set")
            }
        })
    }

    /// Wall time of the current call in ms.
    pub fn now_ms(clock: &Clock) -> i64 {
        match clock {
            Clock::Manual(t) => *t,
            Clock::System => {
                let l = laps();
                l.base_wall_ms + l.last.duration_since(l.base).as_millis() as i64
            }
        }
    }

    /// Ends the current lap; returns its length in microseconds.
    pub fn lap_usec() -> u64 {
        let now = Instant::now();
        LAPS.with(|l| {
            let mut x = l.get().unwrap_or(Laps { last: now, base: now, base_wall_ms: wall_ms() });
            let usec = now.duration_since(x.last).as_micros() as u64;
            x.last = now;
            l.set(Some(x));
            usec
        })
    }
}
