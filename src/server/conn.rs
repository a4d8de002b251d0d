//! Accepting connections and serving one client: read, decode every complete
//! request, run it, write all replies in one go (pipelining of any depth).
//!
//! Bounds: the input buffer never exceeds `client-query-buffer-limit`, and
//! room for a large announced bulk is reserved gradually, never all at once,
//! so silent clients that announce huge lengths cost nothing.

use super::{log, SharedRef};
use crate::clients::{Client, ClientId, ReplyMode};
use crate::commands;
use crate::protocol::{Decoder, ReplyBuf, Request};
use bytes::{Buf, BytesMut};
use std::net::SocketAddr;
use std::time::Duration;
use tokio::io::AsyncWriteExt;
use tokio::net::{TcpListener, TcpStream};

const READ_CHUNK: usize = 16 * 1024;

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
        tokio::task::spawn_local(serve_client(shared.clone(), stream, peer));
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
        SocketAddr::V6(v) => {
            v.ip().is_loopback() || v.ip().to_ipv4_mapped().is_some_and(|i| i.is_loopback())
        }
    }
}

const DENIED: &str = "-DENIED Strata is running in protected mode: no password is set for the default user and no \
bind address was configured, so only loopback connections are accepted. To accept this connection, either set a \
password (requirepass), or bind to the interfaces you mean to expose (bind), or switch protected mode off \
('CONFIG SET protected-mode no' from a loopback connection, or '--protected-mode no' at start-up), making sure \
the server is not reachable from untrusted networks.\r\n";

/// Checks admission; on refusal returns the reply to send before closing.
fn admit(shared: &SharedRef, peer: &SocketAddr) -> Result<(), &'static str> {
    let mut st = shared.state.borrow_mut();
    st.stats.total_connections_received += 1;
    if st.clients.len() >= st.config.maxclients {
        st.stats.rejected_connections += 1;
        return Err("-ERR max number of clients reached\r\n");
    }
    let default_bind = st.config.bind.iter().map(String::as_str).eq(["*", "-::*"]);
    if st.config.protected_mode
        && st.config.requirepass.is_none()
        && default_bind
        && !is_loopback(peer)
    {
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
    let laddr = stream
        .local_addr()
        .map(|a| fmt_addr(&a))
        .unwrap_or_default();
    let authed = st.config.requirepass.is_none();
    let c = Client::new(id, fmt_addr(peer), laddr, stream.as_raw_fd(), now, authed);
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
        dec: Decoder::new(),
    };
    let reason = conn.run(&mut stream, &notify).await;
    if let Some(r) = reason {
        log::verbose(&format!(
            "Client id={cid} addr={} closed: {r}",
            fmt_addr(&peer)
        ));
    }
    disconnect(&shared, cid);
}

fn disconnect(shared: &SharedRef, cid: ClientId) {
    let mut st = shared.state.borrow_mut();
    commands::multi::unwatch_all(&mut st, cid);
    commands::pubsub::unsubscribe_all(&mut st, cid);
    st.clients.map.remove(&cid);
}

struct Conn {
    shared: SharedRef,
    cid: ClientId,
    inbuf: BytesMut,
    dec: Decoder,
}

/// What processing the buffered input ended with.
enum Outcome {
    /// Everything complete was processed; read more.
    NeedInput,
    /// A pause holds the next command.
    Paused,
    /// Close once the output is written.
    Close(Option<String>),
}

impl Conn {
    async fn run(
        &mut self,
        stream: &mut TcpStream,
        notify: &tokio::sync::Notify,
    ) -> Option<String> {
        loop {
            let outcome = self.process_input();
            let (out, kill) = self.take_output();
            if kill {
                return Some("killed".into());
            }
            if !out.is_empty() {
                if let Err(e) = stream.write_all(&out).await {
                    return Some(format!("write error: {e}"));
                }
                self.shared.state.borrow_mut().stats.net_output_bytes += out.len() as u64;
            }
            match outcome {
                Outcome::Close(reason) => return reason,
                Outcome::Paused => {
                    self.wait_unpause().await;
                    continue;
                }
                Outcome::NeedInput => {}
            }
            // Wait for input, or for output queued by other clients.
            tokio::select! {
                r = stream.readable() => {
                    if let Err(e) = r {
                        return Some(format!("read error: {e}"));
                    }
                    match self.read(stream) {
                        Ok(true) => {}
                        Ok(false) => return None,
                        Err(reason) => return Some(reason),
                    }
                }
                _ = notify.notified() => {}
            }
        }
    }

    /// Reads what is available. Ok(false) on end of stream.
    fn read(&mut self, stream: &TcpStream) -> Result<bool, String> {
        let wanted = self.dec.wanted(self.inbuf.len());
        // Grow with what has really arrived (doubling), never with what a
        // client merely announced.
        let room = READ_CHUNK.max(wanted.min(self.inbuf.len()));
        if self.inbuf.capacity() - self.inbuf.len() < room {
            self.inbuf.reserve(room);
        }
        match stream.try_read_buf(&mut self.inbuf) {
            Ok(0) => Ok(false),
            Ok(n) => {
                let mut st = self.shared.state.borrow_mut();
                st.stats.net_input_bytes += n as u64;
                st.stats.total_reads_processed += 1;
                if self.inbuf.len() as u64 > st.config.client_query_buffer_limit {
                    st.stats.client_query_buffer_limit_disconnections += 1;
                    log::warning(&format!(
                        "Closing client that reached max query buffer length (id={}, qbuf={})",
                        self.cid,
                        self.inbuf.len()
                    ));
                    return Err("query buffer limit".into());
                }
                if let Some(c) = st.clients.get_mut(self.cid) {
                    c.qbuf = self.inbuf.len();
                }
                Ok(true)
            }
            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => Ok(true),
            Err(e) => Err(format!("read error: {e}")),
        }
    }

    /// Takes the client's queued output (and whether it was killed).
    fn take_output(&mut self) -> (Vec<u8>, bool) {
        let mut st = self.shared.state.borrow_mut();
        match st.clients.get_mut(self.cid) {
            Some(c) => (std::mem::take(&mut c.pending), c.kill),
            None => (Vec::new(), true),
        }
    }

    async fn wait_unpause(&mut self) {
        let until = self.shared.state.borrow().pause.map(|p| p.until_ms);
        let Some(until) = until else { return };
        let now = self.shared.state.borrow().now_ms();
        let wait = Duration::from_millis((until - now).max(0) as u64);
        tokio::select! {
            _ = self.shared.unpause.notified() => {}
            _ = tokio::time::sleep(wait) => {
                let mut st = self.shared.state.borrow_mut();
                if st.pause.is_some_and(|p| p.until_ms <= st.now_ms()) {
                    st.pause = None;
                    self.shared.unpause.notify_waiters();
                }
            }
        }
    }

    /// Runs every complete request in the input buffer, appending replies
    /// to the client's output.
    fn process_input(&mut self) -> Outcome {
        let shared = self.shared.clone();
        let mut st = shared.state.borrow_mut();
        let Some(c) = st.clients.get_mut(self.cid) else {
            return Outcome::Close(None);
        };
        let mut out = ReplyBuf {
            buf: std::mem::take(&mut c.pending),
            proto: c.proto,
            errors: Vec::new(),
        };
        let bulk_max = st.config.proto_max_bulk_len;
        commands::call_clock::batch_start();
        let outcome = loop {
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
                Request::Multibulk { consumed }
                | Request::Inline { consumed, .. }
                | Request::Empty { consumed } => *consumed,
            };
            let owned;
            let args: Vec<&[u8]> = match &req {
                Request::Multibulk { .. } => self
                    .dec
                    .ranges
                    .iter()
                    .map(|&(a, b)| &self.inbuf[a..b])
                    .collect(),
                Request::Inline { args, .. } => {
                    owned = args;
                    owned.iter().map(|a| a.as_slice()).collect()
                }
                Request::Empty { .. } => Vec::new(),
            };
            if !args.is_empty() {
                if is_paused(&st, &args) {
                    // Leave the request in the buffer; run it after the pause.
                    break Outcome::Paused;
                }
                run_one(&mut st, self.cid, &args, &mut out);
            }
            self.inbuf.advance(consumed);
            let now = st.clock.now_ms();
            let Some(c) = st.clients.get_mut(self.cid) else {
                break Outcome::Close(None);
            };
            c.last_interaction_ms = now;
            if c.close_after_reply || c.kill {
                break Outcome::Close(None);
            }
            if !st.actions.is_empty() {
                handle_actions(&shared, &mut st);
                if st.shutting_down {
                    break Outcome::Close(Some("shutdown".into()));
                }
            }
        };
        if let Some(c) = st.clients.get_mut(self.cid) {
            out.buf.extend_from_slice(&c.pending);
            c.pending = out.buf;
            c.qbuf = self.inbuf.len();
        }
        outcome
    }
}

fn is_paused(st: &crate::state::State, args: &[&[u8]]) -> bool {
    match st.pause {
        None => false,
        Some(p) if p.until_ms <= st.now_ms() => false,
        Some(p) => p.mode == crate::state::PauseMode::All || commands::is_write_request(args),
    }
}

/// Runs one request, honouring CLIENT REPLY OFF/SKIP.
fn run_one(st: &mut crate::state::State, cid: ClientId, args: &[&[u8]], out: &mut ReplyBuf) {
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

fn handle_actions(shared: &SharedRef, st: &mut crate::state::State) {
    for a in std::mem::take(&mut st.actions) {
        match a {
            crate::state::Action::Shutdown { .. } => {
                st.shutting_down = true;
                shared.shutdown.notify_one();
            }
            crate::state::Action::Rebind => {
                log::warning(
                    "Changing the listening address at runtime needs a restart in this version",
                );
            }
        }
    }
}
