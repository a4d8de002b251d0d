//! Everything the server knows, in one owner: configuration, keyspace,
//! clients, subscriptions, statistics and the write path. Commands receive it
//! whole; the network layer drives it. No I/O happens through it except the
//! `actions` the network layer carries out after a command.

use crate::clients::{ClientId, Clients};
use crate::config::Config;
use crate::keyspace::Keyspace;
use crate::propagate::{Op, Propagator};
use crate::pubsub::PubSub;
use std::collections::{HashMap, VecDeque};
use std::time::{SystemTime, UNIX_EPOCH};

/// Hash maps keyed by command name: a fast hasher, as they are touched on
/// every call.
pub type FastMap<K, V> = HashMap<K, V, foldhash::fast::RandomState>;

/// Requests from commands that only the network layer can carry out.
#[derive(Debug, Clone, PartialEq)]
pub enum Action {
    Shutdown {
        save: Option<bool>,
        now: bool,
        force: bool,
    },
    /// Re-read listening settings after CONFIG SET port/bind.
    Rebind,
    /// A background save began: drive it.
    Bgsave,
    /// CLIENT UNPAUSE: wake the clients a pause holds.
    Unpause,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PauseMode {
    Write,
    All,
}

#[derive(Debug, Clone, Copy)]
pub struct Pause {
    pub mode: PauseMode,
    pub until_ms: i64,
}

/// Buckets of the per-command latency histograms: bucket `i` counts calls
/// that took less than 2^i microseconds (the last one, everything slower).
pub const LATENCY_BUCKETS: usize = 26;

#[derive(Debug, Default, Clone)]
pub struct CmdStat {
    pub calls: u64,
    pub usec: u64,
    pub rejected_calls: u64,
    pub failed_calls: u64,
    /// Latency histogram (`latency-tracking`), see `LATENCY_BUCKETS`.
    pub histogram: [u64; LATENCY_BUCKETS],
}

impl CmdStat {
    /// Counts one call of `usec` microseconds in the histogram.
    #[inline]
    pub fn record_latency(&mut self, usec: u64) {
        let i = (64 - usec.leading_zeros()) as usize;
        self.histogram[i.min(LATENCY_BUCKETS - 1)] += 1;
    }

    pub fn histogram_calls(&self) -> u64 {
        self.histogram.iter().sum()
    }
}

/// One slow log entry.
#[derive(Debug, Clone)]
pub struct SlowlogEntry {
    pub id: u64,
    /// Unix time, seconds.
    pub time: i64,
    pub usec: u64,
    /// Arguments as logged: at most 32, each cut to 128 bytes.
    pub args: Vec<Vec<u8>>,
    pub addr: String,
    pub name: Vec<u8>,
}

/// The slow query log (SLOWLOG), newest entry first.
#[derive(Debug, Default)]
pub struct Slowlog {
    pub entries: VecDeque<SlowlogEntry>,
    pub next_id: u64,
}

/// Samples of one latency event (LATENCY): at most one per second, the
/// latest `LATENCY_HISTORY_LEN`, plus the all-time maximum.
#[derive(Debug, Default, Clone)]
pub struct LatencyEvent {
    /// (Unix time in seconds, latency in ms), oldest first.
    pub samples: VecDeque<(i64, u64)>,
    pub max: u64,
}

pub const LATENCY_HISTORY_LEN: usize = 160;

/// Rates over the last seconds, sampled by the network layer.
#[derive(Debug, Default)]
pub struct RateSamples {
    /// (time ms, net input bytes, net output bytes), oldest first.
    pub samples: VecDeque<(i64, u64, u64)>,
}

#[derive(Debug, Default)]
pub struct Stats {
    pub total_connections_received: u64,
    pub total_commands_processed: u64,
    pub rejected_connections: u64,
    pub expired_keys: u64,
    pub expired_stale_perc: f64,
    pub keyspace_hits: u64,
    pub keyspace_misses: u64,
    pub net_input_bytes: u64,
    pub net_output_bytes: u64,
    pub total_error_replies: u64,
    pub unexpected_error_replies: u64,
    pub total_reads_processed: u64,
    pub total_writes_processed: u64,
    pub client_query_buffer_limit_disconnections: u64,
    pub client_output_buffer_limit_disconnections: u64,
    pub evicted_keys: u64,
    /// Per command full name ("config|get").
    pub commands: FastMap<&'static str, CmdStat>,
    pub errors: HashMap<String, u64>,
    /// Ops/sec samples, for `instantaneous_ops_per_sec`.
    pub ops_samples: Vec<(i64, u64)>,
    /// Network throughput samples, for the `instantaneous_*_kbps` fields.
    pub rates: RateSamples,
    /// Largest query / output buffer seen recently (INFO clients).
    pub client_recent_max_input_buffer: u64,
    pub client_recent_max_output_buffer: u64,
    /// Clients closed for being idle longer than `timeout`.
    pub idle_disconnections: u64,
}

impl Stats {
    pub fn record_error(&mut self, code: &str) {
        self.total_error_replies += 1;
        // Redis caps distinct error codes it tracks at 128.
        if self.errors.len() >= 128 && !self.errors.contains_key(code) {
            return;
        }
        *self.errors.entry(code.to_string()).or_default() += 1;
    }

    pub fn reset(&mut self) {
        let connections = 0;
        *self = Stats { total_connections_received: connections, ..Default::default() };
    }
}

/// Source of the current time, injectable for tests.
#[derive(Debug, Clone, Copy)]
pub enum Clock {
    System,
    /// A fixed time in ms, moved by tests.
    Manual(i64),
}

impl Clock {
    pub fn now_ms(&self) -> i64 {
        match self {
            Clock::System => SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_millis() as i64).unwrap_or(0),
            Clock::Manual(t) => *t,
        }
    }
}

/// xorshift64*: fast, seedable, good enough for sampling and random keys.
#[derive(Debug, Clone)]
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Self {
        Rng(seed | 1)
    }

    pub fn next_u64(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.0 = x;
        x.wrapping_mul(0x2545F4914F6CDD1D)
    }
}

pub struct State {
    pub config: Config,
    pub keyspace: Keyspace,
    pub clients: Clients,
    pub pubsub: PubSub,
    pub stats: Stats,
    pub prop: Propagator,
    /// Ops of the current top-level call, emitted when it returns.
    pub pending_ops: Vec<Op>,
    pub call_depth: u32,
    /// Keys waited on by blocked clients that came to exist (db, key), for
    /// `commands::blocking::serve_ready` after the current command.
    pub ready_keys: Vec<(usize, crate::keyspace::CBytes)>,
    pub rng: Rng,
    pub clock: Clock,
    pub run_id: String,
    pub start_ms: i64,
    pub port: u16,
    /// Changes since the last successful save.
    pub dirty: u64,
    pub actions: Vec<Action>,
    pub pause: Option<Pause>,
    /// Keys watched across all databases (0: skip watch bookkeeping).
    pub watched_keys: usize,
    /// Lazy expiry and active expiry on/off (DEBUG SET-ACTIVE-EXPIRE).
    pub active_expire: bool,
    /// Parsed notify-keyspace-events flags.
    pub notify_flags: u32,
    /// Set while the server is loading data; commands get -LOADING.
    pub loading: bool,
    pub shutting_down: bool,
    /// Replication id (40 hex digits), generated at start.
    pub replid: String,
    /// Unix time (seconds) of the last successful save; the start time until
    /// the persistence layer saves.
    pub lastsave: i64,
    /// Saving and loading: the background save in progress, past outcomes.
    pub persist: crate::persistence::status::Persist,
    /// The append-only file: its files, writer and rewrites.
    pub aof: crate::persistence::aof::Aof,
    pub slowlog: Slowlog,
    /// Latency monitor events by name ("command", "fast-command").
    pub latency_events: HashMap<&'static str, LatencyEvent>,
    /// Clients in MONITOR mode, in the order they started.
    pub monitors: Vec<ClientId>,
    /// Allocator bytes after start-up (INFO used_memory_startup) and the
    /// highest seen since (used_memory_peak).
    pub mem_startup: u64,
    pub mem_peak: u64,
    /// Where commands' log lines go; the server points it at its log.
    pub logger: fn(crate::config::LogLevel, &str),
}

fn no_log(_: crate::config::LogLevel, _: &str) {}

impl State {
    pub fn new(config: Config) -> Self {
        let clock = Clock::System;
        let now = clock.now_ms();
        let mut seed_bytes = [0u8; 8];
        let seed = match std::fs::File::open("/dev/urandom") {
            Ok(mut f) => {
                use std::io::Read;
                let _ = f.read_exact(&mut seed_bytes);
                u64::from_le_bytes(seed_bytes) ^ now as u64
            }
            Err(_) => now as u64 ^ std::process::id() as u64,
        };
        let mut rng = Rng::new(seed);
        let mut hex40 =
            || -> String { (0..40).map(|_| char::from(b"0123456789abcdef"[(rng.next_u64() % 16) as usize])).collect() };
        let run_id = hex40();
        let replid = hex40();
        let notify_flags = crate::commands::notify::parse_flags(config.notify_keyspace_events.as_bytes()).unwrap_or(0);
        State {
            keyspace: Keyspace::new(config.databases),
            port: config.port,
            config,
            clients: Clients::new(),
            pubsub: PubSub::default(),
            stats: Stats::default(),
            prop: Propagator::default(),
            pending_ops: Vec::new(),
            call_depth: 0,
            ready_keys: Vec::new(),
            rng,
            clock,
            run_id,
            start_ms: now,
            dirty: 0,
            actions: Vec::new(),
            pause: None,
            watched_keys: 0,
            active_expire: true,
            notify_flags,
            loading: false,
            shutting_down: false,
            replid,
            lastsave: now / 1000,
            persist: Default::default(),
            aof: crate::persistence::aof::Aof::new(std::sync::Arc::new(crate::persistence::aof::fs::Disk)),
            slowlog: Slowlog::default(),
            latency_events: HashMap::new(),
            monitors: Vec::new(),
            mem_startup: 0,
            mem_peak: 0,
            logger: no_log,
        }
    }

    #[inline]
    pub fn now_ms(&self) -> i64 {
        self.clock.now_ms()
    }

    /// Writes a line to the server log.
    pub fn log(&self, level: crate::config::LogLevel, msg: &str) {
        (self.logger)(level, msg)
    }

    /// A new random replication id (DEBUG CHANGE-REPL-ID).
    pub fn change_replid(&mut self) {
        self.replid = (0..40).map(|_| char::from(b"0123456789abcdef"[(self.rng.next_u64() % 16) as usize])).collect();
    }

    pub fn client_ids(&self) -> Vec<ClientId> {
        let mut ids: Vec<ClientId> = self.clients.map.keys().copied().collect();
        ids.sort_unstable();
        ids
    }
}

impl State {
    /// Stages the writes encoded since the last call for their consumers
    /// (the AOF): the one place the write path leaves the command thread.
    /// Returns the AOF offset that replies sent from now on must wait for
    /// (0 with no AOF). The network layer hands staged writes over once per
    /// round of ready clients (`Aof::hand_over`).
    pub fn stage_writes(&mut self) -> u64 {
        let now_secs = self.clock.now_ms() / 1000;
        let offset = self.aof.feed(&self.prop.buf, now_secs, self.config.aof_timestamp_enabled);
        self.prop.buf.clear();
        offset
    }

    /// `stage_writes`, handing them over at once.
    pub fn flush_writes(&mut self) -> u64 {
        let offset = self.stage_writes();
        self.aof.hand_over();
        offset
    }
}

impl State {
    /// Brings derived settings in line after the configuration changed.
    pub fn apply_config(&mut self, changed: &[&str]) {
        let flags = self.config.notify_keyspace_events.as_bytes();
        if let Some(f) = crate::commands::notify::parse_flags(flags) {
            self.notify_flags = f;
        }
        if changed.contains(&"dir") {
            // The config module checked that the directory exists.
            let _ = std::env::set_current_dir(&self.config.dir);
        }
        if changed.contains(&"jemalloc-bg-thread") {
            crate::commands::info::set_background_purge(self.config.jemalloc_bg_thread);
        }
        if changed.iter().any(|c| *c == "port" || *c == "bind") {
            self.actions.push(Action::Rebind);
        }
    }
}

impl State {
    /// Registers a client with no connection behind it (tests, replay of a
    /// file): its replies go wherever the caller sends them.
    pub fn add_detached_client(&mut self) -> ClientId {
        let id = self.clients.alloc_id();
        let now = self.now_ms();
        let c = crate::clients::Client::new(id, "127.0.0.1:0".into(), "127.0.0.1:0".into(), -1, now, true);
        self.clients.map.insert(id, c);
        id
    }
}
