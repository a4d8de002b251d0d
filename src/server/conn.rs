//! Accepting connections and serving one client: read, decode every complete
//! request, run it, write all replies in one go (pipelining of any depth).
//!
//! Bounds: the input buffer never exceeds `client-query-buffer-limit`, and
//! room for a large announced bulk is reserved gradually, never all at once,
//! so silent clients that announce huge lengths cost nothing.
//!
//! The per-request path allocates nothing in the steady state: arguments are
//! slices of the input buffer gathered on the stack, and the output buffer
//! is reused from one batch to the next.

use super::{log, SharedRef};
use crate::clients::{Client, ClientId, ReplyMode};
use crate::commands;
use crate::protocol::{Decoder, ReplyBuf, Request};
use crate::state::{Action, State};
use bytes::{Buf, BytesMut};
use std::net::SocketAddr;
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

const READ_CHUNK: usize = 16 * 1024;
/// Arguments gathered on the stack; longer requests use a heap vector.
const STACK_ARGS: usize = 16;
/// An output buffer that grew beyond this is not kept between batches.
const OUTBUF_KEEP: usize = 64 * 1024;

pub async fn accept_loop(shared: SharedRef, listener: TcpListener) {
    loop {
        let (stream, peer) = match listener.accept().await {
            Ok(x) => x,
            Err(e) => {
                log::warning(&format!("Accepting client connection: {e}"));
                tokio::time::sleep(Duration::from_millis(10)).await;
                continue;
            }
        };
        if shared.state.borrow().shutting_down {
            return;
        }
        let _ = stream.set_nodelay(true);
        let keepalive = shared.state.borrow().config.tcp_keepalive;
        if keepalive > 0 {
            set_keepalive(&stream, keepalive);
        }
        tokio::task::spawn_local(serve_client(shared.clone(), stream, peer));
    }
}

/// TCP keepalive probes after `secs` idle, then every third of that, three
/// times (as `tcp-keepalive` does in Redis).
fn set_keepalive(stream: &TcpStream, secs: u64) {
    use std::os::fd::AsRawFd;
    let fd = stream.as_raw_fd();
    let idle = secs.min(i32::MAX as u64) as libc::c_int;
    let opts: [(libc::c_int, libc::c_int, libc::c_int); 4] = [
        (libc::SOL_SOCKET, libc::SO_KEEPALIVE, 1),
        (libc::IPPROTO_TCP, libc::TCP_KEEPIDLE, idle),
        (libc::IPPROTO_TCP, libc::TCP_KEEPINTVL, (idle / 3).max(1)),
        (libc::IPPROTO_TCP, libc::TCP_KEEPCNT, 3),
    ];
    for (level, name, value) in opts {
        // SAFETY: valid socket fd and a correctly sized option value.
        unsafe {
            libc::setsockopt(
                fd,
                level,
                name,
                &value as *const _ as *const libc::c_void,
                std::mem::size_of::<libc::c_int>() as libc::socklen_t,
            );
        }
    }
}

fn fmt_addr(a: &SocketAddr) -> String {
    match a {
        SocketAddr::V4(v) => format!("{}:{}", v.ip(), v.port()),
        SocketAddr::V6(v) => format!("[{}]:{}", v.ip(), v.port()),
    }
}

fn is_loopback(a: &SocketAddr) -> bool {
    match a {
        SocketAddr::V4(v) => v.ip().is_loopback(),
        SocketAddr::V6(v) => v.ip().is_loopback() || v.ip().to_ipv4_mapped().is_some_and(|i| i.is_loopback()),
    }
}

const DENIED: &str = "-DENIED Strata is running in protected mode: protected mode is on and the default user has \
no password, so only loopback connections are accepted. To accept this connection, either set a password for the \
default user (requirepass), or switch protected mode off ('CONFIG SET protected-mode no' from a loopback \
connection, or '--protected-mode no' at start-up), making sure the server is not reachable from untrusted \
networks.\r\n";

const MAX_CLIENTS: &str = "-ERR max number of clients reached\r\n";

/// Checks admission; on refusal returns the reply to send before closing.
fn admit(shared: &SharedRef, peer: &SocketAddr) -> Result<(), &'static str> {
    let mut st = shared.state.borrow_mut();
    if st.clients.len() >= st.config.maxclients {
        st.stats.rejected_connections += 1;
        log::verbose("Error registering fd event for the new client: max number of clients reached");
        return Err(MAX_CLIENTS);
    }
    st.stats.total_connections_received += 1;
    // As in Redis 7.0, an explicit bind does not lift protected mode.
    if st.config.protected_mode && st.config.requirepass.is_none() && !is_loopback(peer) {
        st.stats.rejected_connections += 1;
        return Err(DENIED);
    }
    Ok(())
}

fn register(shared: &SharedRef, stream: &TcpStream, peer: &SocketAddr) -> ClientId {
    use std::os::fd::AsRawFd;
    let mut st = shared.state.borrow_mut();
    let id = st.clients.alloc_id();
    let now = st.now_ms();
    let laddr = stream.local_addr().map(|a| fmt_addr(&a)).unwrap_or_default();
    let authed = st.config.requirepass.is_none();
    let mut c = Client::new(id, fmt_addr(peer), laddr, stream.as_raw_fd(), now, authed);
    c.qbuf_free = READ_CHUNK;
    st.clients.map.insert(id, c);
    id
}

async fn serve_client(shared: SharedRef, mut stream: TcpStream, peer: SocketAddr) {
    if let Err(reply) = admit(&shared, &peer) {
        let _ = stream.write_all(reply.as_bytes()).await;
        return;
    }
    let cid = register(&shared, &stream, &peer);
    let notify = match shared.state.borrow().clients.get(cid) {
        Some(c) => c.notify.clone(),
        None => return,
    };
    let mut conn = Conn {
        shared: shared.clone(),
        cid,
        inbuf: BytesMut::with_capacity(READ_CHUNK),
        outbuf: Vec::with_capacity(READ_CHUNK),
        dec: Decoder::new(),
    };
    let reason = conn.run(&mut stream, &notify).await;
    if let Some(r) = reason {
        log::verbose(&format!("Client id={cid} addr={} closed: {r}", fmt_addr(&peer)));
    }
    disconnect(&shared, cid);
}

fn disconnect(shared: &SharedRef, cid: ClientId) {
    let mut st = shared.state.borrow_mut();
    commands::blocking::unblock(&mut st, cid);
    commands::multi::unwatch_all(&mut st, cid);
    commands::pubsub::unsubscribe_all(&mut st, cid);
    commands::server::monitor_stop(&mut st, cid);
    st.clients.map.remove(&cid);
}

struct Conn {
    shared: SharedRef,
    cid: ClientId,
    inbuf: BytesMut,
    /// Replies of the current batch; kept (cleared) between batches.
    outbuf: Vec<u8>,
    dec: Decoder,
}

/// How a wait in a blocking command ended.
enum Unblocked {
    /// Look at the client again (served, timed out, input or output).
    Look,
    /// The client closed the connection.
    HungUp,
    /// Close the connection for this reason.
    Close(String),
}

/// What processing the buffered input ended with.
enum Outcome {
    /// Everything complete was processed; read more.
    NeedInput,
    /// A pause holds the next command.
    Paused,
    /// The client waits in a blocking command.
    Blocked,
    /// Close once the output is written.
    Close(Option<String>),
}

impl Conn {
    async fn run(&mut self, stream: &mut TcpStream, notify: &crate::wakeup::Wakeup) -> Option<String> {
        loop {
            let outcome = self.process_input();
            if self.gather_output() {
                return Some("killed".into());
            }
            if !self.outbuf.is_empty() {
                // Replies go out only once the writes they may depend on
                // (anyone's, up to now) are as durable as appendfsync says.
                let wait = {
                    let mut st = self.shared.state.borrow_mut();
                    let offset = st.stage_writes();
                    if st.aof.has_staged() {
                        self.shared.aof_round.notify_one();
                    }
                    st.aof.writer.as_ref().map(|w| w.releases()).filter(|r| !r.released(offset)).map(|r| (r, offset))
                };
                if let Some((releases, offset)) = wait {
                    releases.wait(offset).await;
                }
                if let Err(e) = stream.write_all(&self.outbuf).await {
                    return Some(format!("write error: {e}"));
                }
                let n = self.outbuf.len() as u64;
                {
                    let mut st = self.shared.state.borrow_mut();
                    st.stats.net_output_bytes += n;
                    st.stats.total_writes_processed += 1;
                    if n > st.stats.client_recent_max_output_buffer {
                        st.stats.client_recent_max_output_buffer = n;
                    }
                }
                self.outbuf.clear();
                if self.outbuf.capacity() > OUTBUF_KEEP {
                    self.outbuf = Vec::with_capacity(READ_CHUNK);
                }
            }
            match outcome {
                Outcome::Close(reason) => return reason,
                Outcome::Paused => {
                    if self.wait_unpause(notify).await {
                        return Some("killed".into());
                    }
                    continue;
                }
                Outcome::Blocked => {
                    match self.wait_unblocked(stream, notify).await {
                        Unblocked::Look => {}
                        Unblocked::HungUp => return None,
                        Unblocked::Close(reason) => return Some(reason),
                    }
                    continue;
                }
                Outcome::NeedInput => {}
            }
            // Wait for input, or for output queued by other clients. A read
            // that leaves room in the buffer clears the socket's readiness,
            // so the next wait goes straight to the poller.
            self.reserve_for_read();
            let got = tokio::select! {
                r = stream.read_buf(&mut self.inbuf) => Some(r),
                _ = notify.notified() => None,
            };
            match got {
                None => {}
                Some(Ok(0)) => return None,
                Some(Ok(n)) => {
                    if let Err(reason) = self.after_read(n) {
                        return Some(reason);
                    }
                }
                Some(Err(e)) => return Some(format!("read error: {e}")),
            }
        }
    }

    /// Makes room for the next read: a chunk, or a bounded step towards a
    /// large bulk the client announced.
    fn reserve_for_read(&mut self) {
        let wanted = self.dec.wanted(self.inbuf.len());
        // Grow with what has really arrived (doubling), never with what a
        // client merely announced.
        let room = READ_CHUNK.max(wanted.min(self.inbuf.len()));
        if self.inbuf.capacity() - self.inbuf.len() < room {
            self.inbuf.reserve(room);
        }
    }

    /// Accounts for `n` bytes just read; Err closes the client.
    fn after_read(&mut self, n: usize) -> Result<(), String> {
        let mut st = self.shared.state.borrow_mut();
        st.stats.net_input_bytes += n as u64;
        st.stats.total_reads_processed += 1;
        let len = self.inbuf.len() as u64;
        if len > st.stats.client_recent_max_input_buffer {
            st.stats.client_recent_max_input_buffer = len;
        }
        if len > st.config.client_query_buffer_limit {
            st.stats.client_query_buffer_limit_disconnections += 1;
            log::warning(&format!(
                "Closing client that reached max query buffer length (id={}, qbuf={})",
                self.cid,
                self.inbuf.len()
            ));
            return Err("query buffer limit".into());
        }
        Ok(())
    }

    /// Moves output queued for this client by others into the outgoing
    /// buffer; true when the client was killed (nothing more is sent).
    fn gather_output(&mut self) -> bool {
        let mut st = self.shared.state.borrow_mut();
        match st.clients.get_mut(self.cid) {
            Some(c) if c.kill => true,
            Some(c) => {
                if !c.pending.is_empty() {
                    self.outbuf.extend_from_slice(&c.pending);
                    c.pending.clear();
                }
                false
            }
            None => true,
        }
    }

    /// Waits while a pause holds this client's next request, until the
    /// pause ends or is lifted, or something else happens to the client
    /// (output from others to write, a kill): the caller then looks again.
    /// True when the client was killed.
    async fn wait_unpause(&mut self, notify: &crate::wakeup::Wakeup) -> bool {
        let (until, now) = {
            let st = self.shared.state.borrow();
            if st.clients.get(self.cid).is_none_or(|c| c.kill) {
                return true;
            }
            (st.pause.map(|p| p.until_ms), st.now_ms())
        };
        let Some(until) = until.filter(|&u| u > now) else {
            return false;
        };
        let wait = Duration::from_millis((until - now) as u64);
        tokio::select! {
            _ = self.shared.unpause.notified() => {}
            _ = notify.notified() => {}
            _ = tokio::time::sleep(wait) => {
                let mut st = self.shared.state.borrow_mut();
                if st.pause.is_some_and(|p| p.until_ms <= st.now_ms()) {
                    st.pause = None;
                    self.shared.unpause.notify_waiters();
                }
            }
        }
        false
    }

    /// Waits while this client is blocked in a command, until someone
    /// answers it, its deadline passes (then the command's timeout reply is
    /// queued) or something else happens to the client: the caller then
    /// looks again. The socket is still read meanwhile, as Redis does: a
    /// client that hangs up while blocked is dropped at once (its wait with
    /// it), and what it pipelines waits in the input buffer.
    async fn wait_unblocked(&mut self, stream: &mut TcpStream, notify: &crate::wakeup::Wakeup) -> Unblocked {
        let deadline = {
            let mut st = self.shared.state.borrow_mut();
            let now = st.now_ms();
            let Some(c) = st.clients.get_mut(self.cid) else {
                return Unblocked::Close("killed".into());
            };
            if c.kill {
                return Unblocked::Close("killed".into());
            }
            match &c.blocked {
                None => return Unblocked::Look,
                Some(b) if b.deadline_ms.is_some_and(|d| d <= now) => {
                    let b = c.blocked.take().expect("matched");
                    c.pending.extend_from_slice(&b.timeout_reply);
                    commands::blocking::forget(&mut st, self.cid, &b);
                    return Unblocked::Look;
                }
                Some(b) => b.deadline_ms.map(|d| Duration::from_millis((d - now) as u64)),
            }
        };
        // No deadline: a day at a time (the loop comes back here).
        let wait = deadline.unwrap_or(Duration::from_secs(86_400));
        self.reserve_for_read();
        tokio::select! {
            _ = notify.notified() => Unblocked::Look,
            _ = tokio::time::sleep(wait) => Unblocked::Look,
            r = stream.read_buf(&mut self.inbuf) => match r {
                Ok(0) => Unblocked::HungUp,
                Ok(n) => match self.after_read(n) {
                    Ok(()) => Unblocked::Look,
                    Err(reason) => Unblocked::Close(reason),
                },
                Err(e) => Unblocked::Close(format!("read error: {e}")),
            },
        }
    }

    /// Runs every complete request in the input buffer, appending replies
    /// to the outgoing buffer.
    fn process_input(&mut self) -> Outcome {
        let shared = self.shared.clone();
        let mut st = shared.state.borrow_mut();
        let Some(c) = st.clients.get_mut(self.cid) else {
            return Outcome::Close(None);
        };
        let mut out = ReplyBuf { buf: std::mem::take(&mut self.outbuf), proto: c.proto, errors: Vec::new() };
        if !c.pending.is_empty() {
            out.buf.extend_from_slice(&c.pending);
            c.pending.clear();
        }
        let still_blocked = c.blocked.is_some();
        let bulk_max = st.config.proto_max_bulk_len;
        commands::call_clock::batch_start();
        let outcome = loop {
            if still_blocked {
                break Outcome::Blocked;
            }
            let authed = st.clients.get(self.cid).is_some_and(|c| c.authed);
            let req = match self.dec.decode(&self.inbuf, authed, bulk_max) {
                Ok(Some(r)) => r,
                Ok(None) => break Outcome::NeedInput,
                Err(e) => {
                    out.error_bytes(&e.reply_text());
                    for code in out.take_errors() {
                        st.stats.record_error(&code);
                    }
                    log::verbose(&format!("Protocol error from client id={}: {e}", self.cid));
                    break Outcome::Close(Some(e.to_string()));
                }
            };
            let consumed = match &req {
                Request::Multibulk { consumed } | Request::Inline { consumed, .. } | Request::Empty { consumed } => {
                    *consumed
                }
            };
            let mut stack: [&[u8]; STACK_ARGS] = [&[]; STACK_ARGS];
            let heap: Vec<&[u8]>;
            let args: &[&[u8]] = match &req {
                Request::Multibulk { .. } if self.dec.ranges.len() <= STACK_ARGS => {
                    for (slot, &(a, b)) in stack.iter_mut().zip(self.dec.ranges.iter()) {
                        *slot = &self.inbuf[a..b];
                    }
                    &stack[..self.dec.ranges.len()]
                }
                Request::Multibulk { .. } => {
                    heap = self.dec.ranges.iter().map(|&(a, b)| &self.inbuf[a..b]).collect();
                    &heap
                }
                Request::Inline { args, .. } => {
                    heap = args.iter().map(|a| a.as_slice()).collect();
                    &heap
                }
                Request::Empty { .. } => &[],
            };
            if !args.is_empty() {
                if commands::client::held_by_pause(&st, self.cid, args) {
                    // Leave the request in the buffer; run it after the pause.
                    break Outcome::Paused;
                }
                run_one(&mut st, self.cid, args, &mut out);
            }
            self.inbuf.advance(consumed);
            let Some(c) = st.clients.get_mut(self.cid) else {
                break Outcome::Close(None);
            };
            if c.close_after_reply || c.kill {
                break Outcome::Close(None);
            }
            let blocked = c.blocked.is_some();
            if !st.actions.is_empty() {
                handle_actions(&shared, &mut st);
                if st.shutting_down {
                    break Outcome::Close(Some("shutdown".into()));
                }
            }
            if blocked {
                break Outcome::Blocked;
            }
        };
        let (qbuf, free) = (self.inbuf.len(), self.inbuf.capacity() - self.inbuf.len());
        let now = commands::call_clock::now_ms(&st.clock);
        if let Some(c) = st.clients.get_mut(self.cid) {
            // Once per batch: the time the client's last command ran.
            c.last_interaction_ms = now;
            if !c.pending.is_empty() {
                out.buf.extend_from_slice(&c.pending);
                c.pending.clear();
            }
            c.qbuf = qbuf;
            c.qbuf_free = free;
        }
        self.outbuf = out.buf;
        outcome
    }
}

/// Runs one request, honouring CLIENT REPLY OFF/SKIP.
fn run_one(st: &mut State, cid: ClientId, args: &[&[u8]], out: &mut ReplyBuf) {
    let mark = out.buf.len();
    let mode = st.clients.get(cid).map_or(ReplyMode::On, |c| c.reply_mode);
    commands::process(st, cid, args, out);
    let Some(c) = st.clients.get_mut(cid) else {
        return;
    };
    out.proto = c.proto;
    match mode {
        ReplyMode::Off if c.reply_mode == ReplyMode::Off => out.buf.truncate(mark),
        ReplyMode::SkipNext => {
            out.buf.truncate(mark);
            if c.reply_mode == ReplyMode::SkipNext {
                c.reply_mode = ReplyMode::On;
            }
        }
        _ => {}
    }
    if c.reply_mode == ReplyMode::Skip {
        c.reply_mode = ReplyMode::SkipNext;
    }
}

/// Carries out what commands asked of the network layer.
pub(super) fn handle_actions(shared: &SharedRef, st: &mut State) {
    for a in std::mem::take(&mut st.actions) {
        match a {
            Action::Shutdown { .. } => {
                st.shutting_down = true;
                shared.shutdown.notify_one();
            }
            Action::Unpause => shared.unpause.notify_waiters(),
            Action::Rebind => {
                log::warning("Changing the listening address at runtime needs a restart in this version");
            }
            Action::Bgsave => {
                tokio::task::spawn_local(super::persist::drive_bgsave(shared.clone()));
            }
        }
    }
}
