//! Per-connection state that commands read and change (database, protocol,
//! name, transaction, subscriptions), kept in one registry so CLIENT LIST,
//! PUBLISH and CLIENT KILL can reach every client.
//!
//! Invariant: a client's `pending` output is only appended to by the server
//! thread; the connection task drains it after being notified.

use crate::protocol::Proto;
use std::collections::{HashMap, HashSet};
use std::rc::Rc;
use tokio::sync::Notify;

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
    pub notify: Rc<Notify>,
    /// Close as soon as possible (CLIENT KILL of another client).
    pub kill: bool,
    /// Close after the replies already produced are written.
    pub close_after_reply: bool,
    /// Query buffer bytes, for CLIENT LIST.
    pub qbuf: usize,
    /// Is a master/replica/pubsub... flag letters shown by CLIENT LIST.
    pub no_evict: bool,
}

impl Client {
    pub fn new(
        id: ClientId,
        addr: String,
        laddr: String,
        fd: i32,
        now_ms: i64,
        authed: bool,
    ) -> Self {
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
            notify: Rc::new(Notify::new()),
            kill: false,
            close_after_reply: false,
            qbuf: 0,
            no_evict: false,
        }
    }

    /// Channel and pattern subscriptions (what SUBSCRIBE replies count).
    pub fn subscriptions(&self) -> usize {
        self.channels.len() + self.patterns.len()
    }

    /// RESP2 clients with any subscription may only run pub/sub commands.
    pub fn in_pubsub_mode(&self) -> bool {
        self.proto == Proto::Resp2 && self.subscriptions() + self.shard_channels.len() > 0
    }
}

#[derive(Default)]
pub struct Clients {
    pub map: HashMap<ClientId, Client>,
    pub next_id: ClientId,
}

impl Clients {
    pub fn new() -> Self {
        Clients {
            map: HashMap::new(),
            next_id: 1,
        }
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
