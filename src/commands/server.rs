//! Server commands: CONFIG, DEBUG, SHUTDOWN, TIME, LASTSAVE, ROLE, MONITOR,
//! SLOWLOG, LATENCY, MEMORY; the HELP reply helper; and what happens after
//! every call (slow log, latency monitor and histograms, MONITOR feed).

mod debug;
pub mod digest;
mod latency;
mod memory;
mod slowlog;

use super::flags::*;
use super::table::Command;
use super::Ctx;
use crate::clients::ClientId;
use crate::config::LogLevel;
use crate::protocol::ReplyBuf;
use crate::state::{Action, State};
use crate::util::eq_ic;

pub use latency::add_sample as latency_add_sample;

pub const COMMANDS: &[Command] = &[
    Command::new("config", -2, 0, noop).subs(CONFIG_SUBS),
    Command::new("debug", -2, ADMIN | NOSCRIPT | LOADING | STALE | PROTECTED, debug::debug),
    Command::new("shutdown", -1, ADMIN | NOSCRIPT | LOADING | STALE | NO_MULTI | SENTINEL | ALLOW_BUSY, shutdown),
    Command::new("time", 1, LOADING | STALE | FAST, time),
    Command::new("role", 1, NOSCRIPT | LOADING | STALE | FAST | SENTINEL, role),
    Command::new("monitor", 1, ADMIN_CMD, monitor),
    Command::new("slowlog", -2, 0, noop).subs(slowlog::SUBS),
    Command::new("latency", -2, 0, noop).subs(latency::SUBS),
    Command::new("memory", -2, 0, noop).subs(memory::SUBS),
    Command::new("wait", 3, NOSCRIPT, wait),
    Command::new("readonly", 1, LOADING | STALE | FAST, no_cluster),
    Command::new("readwrite", 1, LOADING | STALE | FAST, no_cluster),
    Command::new("asking", 1, FAST, no_cluster),
    Command::new("cluster", -2, 0, noop).subs(CLUSTER_SUBS),
];

/// Cluster mode does not exist here: every CLUSTER subcommand answers
/// that, as Redis does with cluster support off.
const CLUSTER_SUBS: &[Command] = &[
    Command::new("cluster|addslots", -3, ADMIN | STALE, no_cluster),
    Command::new("cluster|addslotsrange", -4, ADMIN | STALE, no_cluster),
    Command::new("cluster|bumpepoch", 2, ADMIN | STALE, no_cluster),
    Command::new("cluster|count-failure-reports", 3, ADMIN | STALE, no_cluster),
    Command::new("cluster|countkeysinslot", 3, STALE, no_cluster),
    Command::new("cluster|delslots", -3, ADMIN | STALE, no_cluster),
    Command::new("cluster|delslotsrange", -4, ADMIN | STALE, no_cluster),
    Command::new("cluster|failover", -2, ADMIN | STALE, no_cluster),
    Command::new("cluster|flushslots", 2, ADMIN | STALE, no_cluster),
    Command::new("cluster|forget", 3, ADMIN | STALE, no_cluster),
    Command::new("cluster|getkeysinslot", 4, STALE, no_cluster),
    Command::new("cluster|help", 2, LOADING | STALE, no_cluster),
    Command::new("cluster|info", 2, STALE, no_cluster),
    Command::new("cluster|keyslot", 3, STALE, no_cluster),
    Command::new("cluster|links", 2, STALE, no_cluster),
    Command::new("cluster|meet", -4, ADMIN | STALE, no_cluster),
    Command::new("cluster|myid", 2, STALE, no_cluster),
    Command::new("cluster|nodes", 2, STALE, no_cluster),
    Command::new("cluster|replicas", 3, ADMIN | STALE, no_cluster),
    Command::new("cluster|replicate", 3, ADMIN | STALE, no_cluster),
    Command::new("cluster|reset", -2, ADMIN | NOSCRIPT | STALE, no_cluster),
    Command::new("cluster|saveconfig", 2, ADMIN | STALE, no_cluster),
    Command::new("cluster|set-config-epoch", 3, ADMIN | STALE, no_cluster),
    Command::new("cluster|setslot", -4, ADMIN | STALE, no_cluster),
    Command::new("cluster|shards", 2, STALE, no_cluster),
    Command::new("cluster|slaves", 3, ADMIN | STALE, no_cluster),
    Command::new("cluster|slots", 2, STALE, no_cluster),
];

fn no_cluster(ctx: &mut Ctx, _: &[&[u8]]) {
    ctx.err("ERR This instance has cluster support disabled");
}

/// WAIT numreplicas timeout: there are no replicas, so the answer is 0,
/// at once when no replica is asked for (or inside a transaction), else
/// when the timeout passes (never with 0) or CLIENT UNBLOCK ends the wait.
fn wait(ctx: &mut Ctx, args: &[&[u8]]) {
    let timeout = match crate::util::parse_i64(args[2]) {
        None => return ctx.err("ERR timeout is not an integer or out of range"),
        Some(t) if t < 0 => return ctx.err("ERR timeout is negative"),
        Some(t) => t,
    };
    let Some(wanted) = super::arg_i64(ctx, args[1]) else {
        return;
    };
    let inside_exec = ctx.st.call_depth > 1;
    if wanted <= 0 || inside_exec {
        return ctx.out.int(0);
    }
    let deadline = (timeout > 0).then(|| ctx.now.saturating_add(timeout));
    ctx.client().blocked =
        Some(crate::clients::Blocked { deadline_ms: deadline, timeout_reply: b":0\r\n".to_vec(), on_keys: None });
}

const CONFIG_SUBS: &[Command] = &[
    Command::new("config|get", -3, ADMIN_CMD, config_get),
    Command::new("config|set", -4, ADMIN_CMD, config_set),
    Command::new("config|resetstat", 2, ADMIN_CMD, config_resetstat),
    Command::new("config|rewrite", 2, ADMIN_CMD, config_rewrite),
    Command::new("config|help", 2, LOADING | STALE, config_help),
];

fn noop(_: &mut Ctx, _: &[&[u8]]) {}

/// The flags most administrative subcommands share.
pub(super) const ADMIN_CMD: u32 = ADMIN | NOSCRIPT | LOADING | STALE;

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
    if !args.len().is_multiple_of(2) {
        return ctx.syntax();
    }
    let pairs: Vec<(&[u8], &[u8])> = args[2..].chunks(2).map(|p| (p[0], p[1])).collect();
    let local = ctx.client().addr.starts_with("127.") || ctx.client().addr.starts_with("[::1]");
    let before = ctx.st.config.clone();
    match ctx.st.config.set_from(&pairs, local) {
        Ok(changed) => {
            // Moving the listeners at runtime is not built yet: refuse it
            // whole rather than accept a value that would not take effect.
            if let Some(name) = changed.iter().find(|c| LISTEN_SETTINGS.contains(c)) {
                ctx.st.config = before;
                let msg = format!(
                    "ERR CONFIG SET failed (possibly related to argument '{name}') - changing the listening \
                     address at runtime is not supported yet: set it in the configuration file and restart"
                );
                return ctx.err(&msg);
            }
            ctx.st.apply_config(&changed);
            if super::aof::config_changed(ctx.st, &changed).is_err() {
                ctx.st.config = before;
                return ctx.err(
                    "ERR CONFIG SET failed (possibly related to argument 'appendonly') - Unable to turn on AOF. Check server logs.",
                );
            }
            ctx.out.ok()
        }
        Err(e) => ctx.err(&e),
    }
}

/// Settings that would need the listeners to move.
const LISTEN_SETTINGS: &[&str] = &["port", "bind"];

fn config_resetstat(ctx: &mut Ctx, _: &[&[u8]]) {
    ctx.st.stats.reset();
    ctx.st.mem_peak = 0;
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
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap_or_default();
    ctx.out.array(2);
    ctx.out.bulk(now.as_secs().to_string().as_bytes());
    ctx.out.bulk(now.subsec_micros().to_string().as_bytes());
}

fn role(ctx: &mut Ctx, _: &[&[u8]]) {
    ctx.out.array(3);
    ctx.out.bulk(b"master");
    ctx.out.int(0);
    ctx.out.array(0);
}

/// SHUTDOWN [NOSAVE|SAVE] [NOW] [FORCE] [ABORT]. The network layer carries
/// it out (`Action::Shutdown`) through `server::shutdown`, the one path that
/// stops the server.
fn shutdown(ctx: &mut Ctx, args: &[&[u8]]) {
    let (mut save, mut nosave, mut now, mut force, mut abort) = (false, false, false, false, false);
    for a in &args[1..] {
        if eq_ic(a, b"nosave") {
            nosave = true;
        } else if eq_ic(a, b"save") {
            save = true;
        } else if eq_ic(a, b"now") {
            now = true;
        } else if eq_ic(a, b"force") {
            force = true;
        } else if eq_ic(a, b"abort") {
            abort = true;
        } else {
            return ctx.syntax();
        }
    }
    if (abort && args.len() != 2) || (save && nosave) {
        return ctx.syntax();
    }
    if abort {
        // Shutdowns here never wait (no replicas to wait for), so there is
        // never one in progress to abort.
        return ctx.err("ERR No shutdown in progress.");
    }
    let save = match (save, nosave) {
        (true, _) => Some(true),
        (_, true) => Some(false),
        _ => None,
    };
    ctx.st.log(LogLevel::Warning, "User requested shutdown...");
    if prepare_shutdown(ctx.st, save, force).is_err() {
        return ctx.err("ERR Errors trying to SHUTDOWN. Check logs.");
    }
    ctx.st.actions.push(Action::Shutdown { save, now, force });
    ctx.st.shutting_down = true;
}

/// Everything that must happen before the process may exit, for SHUTDOWN
/// and for SIGTERM/SIGINT alike: the one place the final save goes. `save`
/// is SAVE (Some(true)), NOSAVE (Some(false)) or neither (save if save
/// points are configured). On Err the shutdown is refused (unless `force`)
/// and the server keeps running; the reason has been logged.
pub fn prepare_shutdown(st: &mut State, save: Option<bool>, force: bool) -> Result<(), String> {
    let save = save.unwrap_or(!st.config.save_params.is_empty());
    super::persist::abort_background(st, "There is a child saving an .rdb. Killing it!");
    super::aof::shutdown(st, force)?;
    if save {
        st.log(LogLevel::Notice, "Saving the final RDB snapshot before exiting.");
        if let Err(e) = super::persist::save_now(st) {
            st.log(LogLevel::Warning, &format!("Error trying to save the DB, can't exit: {e}"));
            if !force {
                return Err(e);
            }
        }
    }
    Ok(())
}

fn monitor(ctx: &mut Ctx, _: &[&[u8]]) {
    let cid = ctx.cid;
    let inside_exec = ctx.st.call_depth > 1;
    let c = ctx.client();
    if c.multi.is_some() || inside_exec {
        return ctx.err("ERR MONITOR isn't allowed for DENY BLOCKING client");
    }
    if c.monitor {
        return;
    }
    c.monitor = true;
    ctx.st.monitors.push(cid);
    ctx.out.ok();
}

/// Forgets a client that leaves MONITOR mode (disconnect, RESET).
pub fn monitor_stop(st: &mut State, cid: ClientId) {
    st.monitors.retain(|&m| m != cid);
    if let Some(c) = st.clients.get_mut(cid) {
        c.monitor = false;
    }
}

/// Runs after every call of `cmd` (nested ones inside EXEC too), with the
/// call's duration: latency histogram, slow log, latency monitor, MONITOR.
#[inline]
pub fn after_call(st: &mut State, cid: ClientId, cmd: &'static Command, args: &[&[u8]], out: &mut ReplyBuf, usec: u64) {
    if st.config.latency_tracking {
        if let Some(s) = st.stats.commands.get_mut(cmd.name) {
            s.record_latency(usec);
        }
    }
    let slower = st.config.slowlog_log_slower_than;
    if cmd.flags & SKIP_SLOWLOG == 0 && slower >= 0 && usec >= slower as u64 {
        slowlog::push(st, cid, args, usec);
    }
    let threshold = st.config.latency_monitor_threshold;
    if threshold > 0 && usec / 1000 >= threshold {
        let event = if cmd.flags & FAST != 0 { "fast-command" } else { "command" };
        latency::add_sample(st, event, usec / 1000);
    }
    if !st.monitors.is_empty() && cmd.flags & (SKIP_MONITOR | ADMIN) == 0 {
        feed_monitors(st, cid, cmd, args, out);
    }
}

/// Arguments as logged and shown to monitors: passwords replaced.
pub fn redacted<'a>(cmd: &Command, args: &[&'a [u8]]) -> Vec<&'a [u8]> {
    const HIDDEN: &[u8] = b"(redacted)";
    let mut v: Vec<&[u8]> = args.to_vec();
    match cmd.name {
        "auth" => v[1..].iter_mut().for_each(|a| *a = HIDDEN),
        "hello" => {
            let mut i = 2;
            while i < v.len() {
                if eq_ic(v[i], b"auth") && i + 2 < v.len() {
                    v[i + 1] = HIDDEN;
                    v[i + 2] = HIDDEN;
                    i += 3;
                } else if eq_ic(v[i], b"setname") {
                    i += 2;
                } else {
                    break;
                }
            }
        }
        "config|set" => {
            for pair in v[2..].chunks_mut(2) {
                if let [name, value] = pair {
                    if eq_ic(name, b"requirepass") || eq_ic(name, b"masterauth") {
                        *value = HIDDEN;
                    }
                }
            }
        }
        _ => {}
    }
    v
}

pub use crate::util::quote_into;

/// Sends one executed command to every monitor, as
/// `+<unix time>.<micros> [<db> <addr>] "arg" ...`.
fn feed_monitors(st: &mut State, cid: ClientId, cmd: &Command, args: &[&[u8]], out: &mut ReplyBuf) {
    let Some(c) = st.clients.get(cid) else { return };
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap_or_default();
    let mut line = format!("+{}.{:06} [{} {}]", now.as_secs(), now.subsec_micros(), c.db, c.addr).into_bytes();
    for a in redacted(cmd, args) {
        line.push(b' ');
        quote_into(&mut line, a);
    }
    line.extend_from_slice(b"\r\n");
    for m in st.monitors.clone() {
        if m == cid {
            out.raw(&line);
        } else {
            st.clients.send(m, &line);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quoting() {
        let mut v = Vec::new();
        quote_into(&mut v, b"a b\"\\\n\x01\xc3");
        assert_eq!(v, b"\"a b\\\"\\\\\\n\\x01\\xc3\"");
    }
}
