//! Per-connection state that commands read and change (database, protocol,
//! name, transaction, subscriptions), kept in one registry so CLIENT LIST,
//! PUBLISH and CLIENT KILL can reach every client.
//!
//! Invariant: a client's `pending` output is only appended to by the server
//! thread; the connection task drains it after being notified.

use crate::protocol::Proto;
use crate::wakeup::Wakeup;
use std::collections::{HashMap, HashSet};
use std::rc::Rc;

pub type ClientId = u64;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ReplyMode {
    #[default]
    On,
    Off,
    /// Skip the reply of the next command only.
    Skip,
    /// Set by SKIP, applies to the command after CLIENT REPLY SKIP.
    SkipNext,
}

/// A WATCHed key.
#[derive(Debug, Clone)]
pub struct Watched {
    pub db: usize,
    pub key: Vec<u8>,
    /// The key was already logically expired when watched: its expiry
    /// alone does not fail EXEC.
    pub expired_then: bool,
}

/// A client waiting in a blocking command: it gets no reply and runs no
/// further request until someone unblocks it (putting the reply in its
/// `pending` output and clearing `blocked`) or the deadline passes.
#[derive(Debug, Clone)]
pub struct Blocked {
    /// When to give up (ms), None for never.
    pub deadline_ms: Option<i64>,
    /// The reply sent when the deadline passes or on CLIENT UNBLOCK
    /// ... TIMEOUT.
    pub timeout_reply: Vec<u8>,
    /// For BLPOP and friends: the keys waited on and the command to run
    /// again once one of them can serve it.
    pub on_keys: Option<KeyWait>,
}

/// What a client blocked on keys waits for.
#[derive(Debug, Clone)]
pub struct KeyWait {
    pub db: usize,
    pub keys: Vec<Vec<u8>>,
    /// The type a key must hold to serve the client.
    pub kind: &'static str,
    /// The blocking command as sent; it runs again when a key is ready.
    pub argv: Vec<Vec<u8>>,
}

#[derive(Debug, Default)]
pub struct Multi {
    pub queue: Vec<Vec<Vec<u8>>>,
    /// A queued command was rejected: EXEC will abort.
    pub failed: bool,
}

pub struct Client {
    pub id: ClientId,
    pub addr: String,
    pub laddr: String,
    pub fd: i32,
    pub name: Option<Vec<u8>>,
    pub lib_name: Option<Vec<u8>>,
    pub lib_ver: Option<Vec<u8>>,
    pub db: usize,
    pub proto: Proto,
    pub created_ms: i64,
    pub last_interaction_ms: i64,
    pub last_cmd: &'static str,
    pub authed: bool,
    pub user: String,
    pub multi: Option<Multi>,
    /// Watched keys.
    pub watched: Vec<Watched>,
    /// A watched key changed: EXEC must fail.
    pub dirty_cas: bool,
    pub channels: HashSet<Vec<u8>>,
    pub patterns: HashSet<Vec<u8>>,
    pub shard_channels: HashSet<Vec<u8>>,
    pub reply_mode: ReplyMode,
    /// Output produced for this client by other clients (published
    /// messages) or while it waits.
    pub pending: Vec<u8>,
    pub notify: Rc<Wakeup>,
    /// Close as soon as possible (CLIENT KILL of another client).
    pub kill: bool,
    /// Close after the replies already produced are written.
    pub close_after_reply: bool,
    /// Query buffer bytes, for CLIENT LIST.
    pub qbuf: usize,
    /// Free room in the query buffer, for CLIENT LIST.
    pub qbuf_free: usize,
    /// CLIENT NO-EVICT on.
    pub no_evict: bool,
    /// In MONITOR mode.
    pub monitor: bool,
    /// Waiting in a blocking command.
    pub blocked: Option<Blocked>,
}

impl Client {
    pub fn new(id: ClientId, addr: String, laddr: String, fd: i32, now_ms: i64, authed: bool) -> Self {
        Client {
            id,
            addr,
            laddr,
            fd,
            name: None,
            lib_name: None,
            lib_ver: None,
            db: 0,
            proto: Proto::Resp2,
            created_ms: now_ms,
            last_interaction_ms: now_ms,
            last_cmd: "NULL",
            authed,
            user: "default".into(),
            multi: None,
            watched: Vec::new(),
            dirty_cas: false,
            channels: HashSet::new(),
            patterns: HashSet::new(),
            shard_channels: HashSet::new(),
            reply_mode: ReplyMode::On,
            pending: Vec::new(),
            notify: Rc::new(Wakeup::new()),
            kill: false,
            close_after_reply: false,
            qbuf: 0,
            qbuf_free: 0,
            no_evict: false,
            monitor: false,
            blocked: None,
        }
    }

    /// Channel and pattern subscriptions (what SUBSCRIBE replies count).
    pub fn subscriptions(&self) -> usize {
        self.channels.len() + self.patterns.len()
    }

    /// Any subscription, of any kind (CLIENT LIST flag P, type pubsub).
    pub fn is_pubsub(&self) -> bool {
        !self.channels.is_empty() || !self.patterns.is_empty() || !self.shard_channels.is_empty()
    }

    /// Asks the connection task to close this client at once, dropping
    /// output not yet written.
    pub fn kill(&mut self) {
        self.kill = true;
        self.notify.notify_one();
    }

    /// RESP2 clients with any subscription may only run pub/sub commands.
    pub fn in_pubsub_mode(&self) -> bool {
        self.proto == Proto::Resp2 && self.subscriptions() + self.shard_channels.len() > 0
    }
}

#[derive(Default)]
pub struct Clients {
    pub map: HashMap<ClientId, Client, foldhash::fast::RandomState>,
    pub next_id: ClientId,
}

impl Clients {
    pub fn new() -> Self {
        Clients { map: HashMap::default(), next_id: 1 }
    }

    pub fn alloc_id(&mut self) -> ClientId {
        let id = self.next_id;
        self.next_id += 1;
        id
    }

    #[inline]
    pub fn get(&self, id: ClientId) -> Option<&Client> {
        self.map.get(&id)
    }

    #[inline]
    pub fn get_mut(&mut self, id: ClientId) -> Option<&mut Client> {
        self.map.get_mut(&id)
    }

    pub fn len(&self) -> usize {
        self.map.len()
    }

    pub fn is_empty(&self) -> bool {
        self.map.is_empty()
    }

    /// Queues output for another client and wakes its connection task.
    pub fn send(&mut self, id: ClientId, bytes: &[u8]) {
        if let Some(c) = self.map.get_mut(&id) {
            c.pending.extend_from_slice(bytes);
            c.notify.notify_one();
        }
    }
}
