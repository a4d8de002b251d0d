//! The network layer: listeners, one task per connection, the periodic task
//! and shutdown. Everything runs on one thread (a current-thread runtime),
//! so command execution is serialised exactly as in Redis.
//!
//! Invariant: the shared `State` is borrowed only between awaits, never
//! across one; no module imports `server`.

mod conn;
pub mod cron;
pub mod log;
mod persist;

use crate::config::Config;
use crate::state::State;
use std::cell::RefCell;
use std::net::SocketAddr;
use std::rc::Rc;
use std::time::Duration;
use tokio::net::TcpListener;
use tokio::sync::Notify;

/// What the tasks share besides the state.
pub struct Shared {
    pub state: RefCell<State>,
    pub shutdown: Notify,
    /// Woken when CLIENT PAUSE ends or changes.
    pub unpause: Notify,
    /// Woken when a client staged writes for the AOF (see `aof_rounds`).
    pub aof_round: Notify,
}

pub type SharedRef = Rc<Shared>;

/// Pending connections the kernel may queue (`tcp-backlog`).
const TCP_BACKLOG: u32 = 511;

#[derive(Debug)]
pub struct StartError(pub String);

impl std::fmt::Display for StartError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// Runs the server until shutdown. Returns the process exit code.
pub fn run(config: Config) -> Result<i32, StartError> {
    run_on(config, std::sync::Arc::new(crate::persistence::aof::fs::Disk))
}

/// `run` with the AOF and snapshot files going through `fs` (tests put a
/// recording layer there to work out what a crash would leave).
pub fn run_on(
    config: Config,
    fs: std::sync::Arc<dyn crate::persistence::aof::fs::FileLayer>,
) -> Result<i32, StartError> {
    // This thread holds the keyspace's turn from here on, except while its
    // runtime is parked (keyspace/turn.rs).
    let turn = std::sync::Arc::new(crate::keyspace::Turn::new());
    let (parking, waking) = (turn.clone(), turn.clone());
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .on_thread_park(move || parking.release_to_idle())
        .on_thread_unpark(move || waking.take_for_commands())
        .build()
        .map_err(|e| StartError(format!("cannot start the runtime: {e}")))?;
    let local = tokio::task::LocalSet::new();
    local.block_on(&rt, serve(config, fs, turn))
}

/// Addresses to listen on, from `bind` (`*` any IPv4, `::*` any IPv6, a
/// leading `-` makes an address optional).
fn bind_addrs(cfg: &Config) -> Vec<(SocketAddr, bool)> {
    let mut out = Vec::new();
    for b in &cfg.bind {
        let (optional, addr) = match b.strip_prefix('-') {
            Some(a) => (true, a),
            None => (false, b.as_str()),
        };
        let ip = match addr {
            "*" => "0.0.0.0",
            "::*" => "::",
            a => a,
        };
        match ip.parse::<std::net::IpAddr>() {
            Ok(ip) => out.push((SocketAddr::new(ip, cfg.port), optional)),
            Err(_) => log::warning(&format!("Ignoring bind address that is not an IP address: {addr}")),
        }
    }
    out
}

async fn listen(cfg: &Config) -> Result<Vec<TcpListener>, StartError> {
    let mut listeners = Vec::new();
    if cfg.port == 0 {
        return Ok(listeners);
    }
    for (addr, optional) in bind_addrs(cfg) {
        let sock = match addr {
            SocketAddr::V4(_) => tokio::net::TcpSocket::new_v4(),
            SocketAddr::V6(_) => tokio::net::TcpSocket::new_v6(),
        };
        let bound = sock.and_then(|s| {
            s.set_reuseaddr(true)?;
            if addr.is_ipv6() {
                set_v6only(&s);
            }
            s.bind(addr)?;
            s.listen(TCP_BACKLOG)
        });
        match bound {
            Ok(l) => listeners.push(l),
            Err(e) if optional => log::verbose(&format!("Skipping optional bind address {addr}: {e}")),
            Err(e) => {
                return Err(StartError(format!("Could not create server TCP listening socket {addr}: {e}")));
            }
        }
    }
    if listeners.is_empty() {
        return Err(StartError("Failed listening on any of the bind addresses".into()));
    }
    Ok(listeners)
}

fn set_v6only(s: &tokio::net::TcpSocket) {
    use std::os::fd::AsRawFd;
    let one: libc::c_int = 1;
    // SAFETY: valid socket fd and a correctly sized option value.
    unsafe {
        libc::setsockopt(
            s.as_raw_fd(),
            libc::IPPROTO_IPV6,
            libc::IPV6_V6ONLY,
            &one as *const _ as *const libc::c_void,
            std::mem::size_of::<libc::c_int>() as libc::socklen_t,
        );
    }
}

async fn serve(
    config: Config,
    fs: std::sync::Arc<dyn crate::persistence::aof::fs::FileLayer>,
    turn: std::sync::Arc<crate::keyspace::Turn>,
) -> Result<i32, StartError> {
    let listeners = listen(&config).await?;
    let port = listeners.first().and_then(|l| l.local_addr().ok()).map_or(config.port, |a| a.port());
    let mut state = State::new(config);
    state.apply_config(&["jemalloc-bg-thread"]);
    state.aof.fs = fs;
    state.persist.turn = Some(turn);
    state.port = port;
    state.prop.enabled = false;
    state.logger = log::log;
    let mem = crate::commands::info::alloc_stats().allocated;
    state.mem_startup = mem;
    state.mem_peak = mem;
    let shared = Rc::new(Shared {
        state: RefCell::new(state),
        shutdown: Notify::new(),
        unpause: Notify::new(),
        aof_round: Notify::new(),
    });
    log::notice("Server initialized");
    for l in listeners {
        tokio::task::spawn_local(conn::accept_loop(shared.clone(), l));
    }
    tokio::task::spawn_local(cron::run(shared.clone()));
    tokio::task::spawn_local(housekeeping(shared.clone()));
    tokio::task::spawn_local(aof_rounds(shared.clone()));
    if let Err(e) = persist::load_at_startup(&shared).await {
        log::warning(&e);
        return Err(StartError(e));
    }
    log::notice("Ready to accept connections");

    let mut sigterm = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
        .map_err(|e| StartError(format!("cannot install SIGTERM handler: {e}")))?;
    let mut sigint = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::interrupt())
        .map_err(|e| StartError(format!("cannot install SIGINT handler: {e}")))?;
    loop {
        let signal = tokio::select! {
            _ = sigterm.recv() => "SIGTERM",
            _ = sigint.recv() => "SIGINT",
            // SHUTDOWN already ran the shutdown preparation.
            _ = shared.shutdown.notified() => break,
        };
        log::warning(&format!("Received {signal} scheduling shutdown..."));
        let mut st = shared.state.borrow_mut();
        match crate::commands::server::prepare_shutdown(&mut st, None, false) {
            Ok(()) => {
                st.shutting_down = true;
                break;
            }
            Err(_) => log::warning(&format!(
                "{signal} received but errors trying to shut down the server, check the logs for more information"
            )),
        }
    }
    finish_shutdown(&shared);
    Ok(0)
}

/// The last steps before the process exits, whatever asked for it.
fn finish_shutdown(shared: &Shared) {
    let st = shared.state.borrow();
    let pidfile = match &st.config.pidfile {
        Some(p) => Some(p.as_str()),
        None if st.config.daemonize => Some(DEFAULT_PIDFILE),
        None => None,
    };
    if let Some(p) = pidfile {
        log::notice("Removing the pid file.");
        let _ = std::fs::remove_file(p);
    }
    log::warning("Strata is now ready to exit, bye bye...");
}

/// Hands the writes clients staged to the AOF writer once per round: when
/// woken, it first lets every client that is ready run its batch (a
/// yielded task runs after the runtime polled the sockets), so one write,
/// and with `appendfsync always` one sync, covers all of them, as Redis's
/// event loop writes the AOF once before replying to everyone. With
/// `always` it waits one more poll of the sockets: a sync costs far more
/// than a poll, and the clients that arrive meanwhile share it.
async fn aof_rounds(shared: SharedRef) {
    loop {
        shared.aof_round.notified().await;
        tokio::task::yield_now().await;
        if shared.state.borrow().config.appendfsync == crate::config::AppendFsync::Always {
            tokio::task::yield_now().await;
        }
        let mut st = shared.state.borrow_mut();
        if st.shutting_down {
            return;
        }
        st.aof.hand_over();
    }
}

/// Where a daemonized server without `pidfile` writes its pid.
pub const DEFAULT_PIDFILE: &str = "/var/run/redis.pid";

/// How often the network layer's own periodic work runs.
const HOUSEKEEPING_PERIOD: Duration = Duration::from_millis(100);
/// Throughput samples kept (the instantaneous rates average over them).
const RATE_SAMPLES: usize = 16;
/// The "recent" buffer peaks of INFO clients cover about this long.
const RECENT_PEAK_PERIOD_MS: i64 = 8000;

/// Periodic work of the network layer: throughput samples, memory peak,
/// closing clients idle longer than `timeout`.
async fn housekeeping(shared: SharedRef) {
    let mut last_peak_reset = 0i64;
    loop {
        tokio::time::sleep(HOUSEKEEPING_PERIOD).await;
        let mut st = shared.state.borrow_mut();
        if st.shutting_down {
            return;
        }
        let now = st.now_ms();
        let sample = (now, st.stats.net_input_bytes, st.stats.net_output_bytes);
        let rates = &mut st.stats.rates.samples;
        rates.push_back(sample);
        if rates.len() > RATE_SAMPLES {
            rates.pop_front();
        }
        crate::commands::info::memory_now(&mut st);
        if now - last_peak_reset >= RECENT_PEAK_PERIOD_MS {
            last_peak_reset = now;
            st.stats.client_recent_max_input_buffer = 0;
            st.stats.client_recent_max_output_buffer = 0;
        }
        close_idle_clients(&mut st, now);
    }
}

/// Closes clients idle for longer than `timeout` seconds (never monitors
/// or subscribers, which are expected to stay quiet).
fn close_idle_clients(st: &mut State, now: i64) {
    let timeout = st.config.timeout;
    if timeout == 0 {
        return;
    }
    let limit = timeout.saturating_mul(1000).min(i64::MAX as u64) as i64;
    let mut closed = 0;
    for c in st.clients.map.values_mut() {
        if c.monitor || c.is_pubsub() || c.kill || c.blocked.is_some() || now - c.last_interaction_ms <= limit {
            continue;
        }
        log::verbose(&format!("Closing idle client id={} addr={}", c.id, c.addr));
        c.kill();
        closed += 1;
    }
    st.stats.idle_disconnections += closed;
}
