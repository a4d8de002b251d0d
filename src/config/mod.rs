//! Server configuration: redis.conf-style files plus `--directive value`
//! overrides, validated into one `Config`, with CONFIG GET, SET and REWRITE.
//!
//! Invariant: every field of `Config` holds a validated value; nothing outside
//! this module parses configuration text. The directive table (`table.rs`)
//! decides what each directive is; typed fields (`fields.rs`) and
//! `StoredValues` hold the values, each directive in exactly one place.
//!
//! Module map: `parse` (lexing, quoting, number formats), `kind` and
//! `special` (value types), `table` (every directive), `fields` (typed
//! fields), `args` (the command line), `load` (files, includes, start-up
//! checks), `error` (Redis-style fatal messages), `runtime` (CONFIG GET and
//! SET), `rewrite` (CONFIG REWRITE).

mod args;
mod error;
mod fields;
mod kind;
mod load;
mod parse;
mod rewrite;
mod runtime;
mod special;
mod table;

#[cfg(test)]
mod tests;
#[cfg(test)]
mod tests_redis;

use std::path::PathBuf;

pub use crate::util::{glob_match, GlobPattern};
pub use error::{Origin, Source};
pub use kind::ClientBufferLimit;
pub use special::{keyspace_event_flags, keyspace_events_canonical};
pub use table::Effect;

/// What start-up or CONFIG SET rejected, with file and line where known.
///
/// `message` is the complete text to print, possibly several lines (start-up
/// errors use Redis's "*** FATAL CONFIG FILE ERROR ***" layout; print them to
/// stderr after an empty line and exit with status 1).
#[derive(Debug, Clone, PartialEq)]
pub struct ConfigError {
    pub message: String,
}

impl std::fmt::Display for ConfigError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for ConfigError {}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Default)]
pub enum LogLevel {
    Debug,
    Verbose,
    #[default]
    Notice,
    Warning,
    Nothing,
}

/// `appendfsync`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum AppendFsync {
    Always,
    #[default]
    Everysec,
    No,
}

/// `maxmemory-policy`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum MaxmemoryPolicy {
    VolatileLru,
    VolatileLfu,
    VolatileRandom,
    VolatileTtl,
    AllkeysLru,
    AllkeysLfu,
    AllkeysRandom,
    #[default]
    NoEviction,
}

/// A `rename-command` directive, kept for the command table to apply.
/// Report a bad one with `ConfigError::at(&r.origin, "No such command in
/// rename-command")`, as Redis does at start-up.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RenameCommand {
    pub from: Vec<u8>,
    /// Empty means the command is removed.
    pub to: Vec<u8>,
    pub origin: Origin,
}

/// A `user` directive (ACL rule list), kept for the ACL subsystem to apply.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserDirective {
    /// The arguments after `user` (user name first).
    pub args: Vec<Vec<u8>>,
    pub origin: Origin,
}

/// Values of the directives that have no typed field (see `fields.rs`).
#[derive(Debug, Clone, Default)]
pub struct StoredValues {
    values: Vec<kind::Val>,
}

/// The server's settings. Fields mirror directives; change them at run time
/// through [`Config::set`] so that validation and CONFIG GET stay right.
#[derive(Debug, Clone)]
pub struct Config {
    /// Absolute path of the config file the server started with (CONFIG
    /// REWRITE writes it); None without one or when it came from stdin.
    pub config_file: Option<PathBuf>,
    pub port: u16,
    pub bind: Vec<String>,
    pub protected_mode: bool,
    pub requirepass: Option<Vec<u8>>,
    pub databases: usize,
    /// Clamped to 1..=500 as Redis does.
    pub hz: u32,
    pub maxclients: usize,
    pub proto_max_bulk_len: u64,
    pub client_query_buffer_limit: u64,
    pub timeout: u64,
    pub tcp_keepalive: u64,
    pub daemonize: bool,
    pub pidfile: Option<String>,
    /// Relative paths are relative to `dir`.
    pub logfile: String,
    pub loglevel: LogLevel,
    /// Working directory. After `from_args` (and a CONFIG SET of `dir`) it is
    /// an absolute path that exists; the server should change into it.
    pub dir: String,
    pub dbfilename: String,
    /// The `notify-keyspace-events` flag string as configured (e.g. "KEA");
    /// see [`Config::notify_keyspace_events_canonical`].
    pub notify_keyspace_events: String,
    /// "no", "yes" or "local".
    pub enable_debug_command: String,
    /// Not a directive: lets tests switch active expiry off.
    pub active_expire_enabled: bool,

    /// "no", "yes" or "local".
    pub enable_protected_configs: String,
    /// "no", "yes" or "local".
    pub enable_module_command: String,
    pub tcp_backlog: u32,
    pub unixsocket: Option<String>,
    pub unixsocketperm: u32,
    /// Normal, replica and pubsub clients, in that order.
    pub client_output_buffer_limit: [ClientBufferLimit; 3],
    pub aclfile: String,
    pub acllog_max_len: u64,
    /// `save` rules as (seconds, changes); empty means no snapshots.
    pub save_params: Vec<(u64, u64)>,
    pub stop_writes_on_bgsave_error: bool,
    pub rdbcompression: bool,
    pub rdbchecksum: bool,
    /// "no", "yes" or "clients": when RESTORE payloads are checked deeply.
    pub sanitize_dump_payload: String,
    /// Test knob: microseconds to spend per key saved (negative: sleep a
    /// microsecond once in that many keys), to hold a save open.
    pub rdb_key_save_delay: i32,
    /// Test knob: the same per key loaded.
    pub key_load_delay: i32,
    pub appendonly: bool,
    pub appendfsync: AppendFsync,
    pub appendfilename: String,
    pub appenddirname: String,
    pub aof_use_rdb_preamble: bool,
    pub aof_load_truncated: bool,
    pub aof_timestamp_enabled: bool,
    pub aof_disable_auto_gc: bool,
    pub rdb_save_incremental_fsync: bool,
    pub aof_rewrite_incremental_fsync: bool,
    /// The allocator purges unused memory on its own threads instead of in
    /// whichever thread frees or allocates (the command thread, mostly).
    pub jemalloc_bg_thread: bool,
    /// Seconds after a FLUSHALL or FLUSHDB during which automatic AOF
    /// rewrites wait, so the files that can undo the flush stay (0: off).
    pub aof_flush_guard: u32,
    /// Rewrites whose replaced files stay listed as history (and on disk)
    /// instead of being deleted.
    pub aof_history_keep: u32,
    pub no_appendfsync_on_rewrite: bool,
    pub auto_aof_rewrite_percentage: u32,
    pub auto_aof_rewrite_min_size: u64,
    pub maxmemory: u64,
    pub maxmemory_policy: MaxmemoryPolicy,
    pub maxmemory_samples: u32,
    pub lazyfree_lazy_eviction: bool,
    pub lazyfree_lazy_expire: bool,
    pub lazyfree_lazy_server_del: bool,
    pub lazyfree_lazy_user_del: bool,
    pub lazyfree_lazy_user_flush: bool,
    pub hash_max_listpack_entries: u64,
    pub hash_max_listpack_value: u64,
    pub set_max_intset_entries: u64,
    pub zset_max_listpack_entries: u64,
    pub zset_max_listpack_value: u64,
    pub list_max_listpack_size: i32,
    pub list_compress_depth: u32,
    pub stream_node_max_bytes: u64,
    pub stream_node_max_entries: u64,
    /// Milliseconds; `lua-time-limit` is its old name.
    pub busy_reply_threshold: u64,
    /// Microseconds; -1 disables the slow log, 0 logs everything.
    pub slowlog_log_slower_than: i64,
    pub slowlog_max_len: u64,
    pub latency_tracking: bool,
    pub latency_monitor_threshold: u64,
    /// `rename-command` directives in file order.
    pub rename_commands: Vec<RenameCommand>,
    /// `user` directives in file order.
    pub users: Vec<UserDirective>,
    /// Every other directive's value.
    pub stored: StoredValues,
}

impl Default for Config {
    /// Redis 7.0's defaults for every directive (dir is "."; `from_args`
    /// makes it absolute).
    fn default() -> Self {
        let mut cfg = Config::blank();
        for (index, v) in table::defaults().iter().enumerate() {
            cfg.store(index, v.clone());
        }
        cfg
    }
}

impl Config {
    /// Builds the configuration from the command line (without the program
    /// name): an optional config file first ("-" reads standard input), then
    /// `--directive value...` overrides, applied after the file as Redis
    /// does. `--version` and `--help` are for the binary to handle first.
    pub fn from_args(args: &[String]) -> Result<Config, ConfigError> {
        let stdin = std::io::stdin();
        load::from_args(args, &mut stdin.lock(), load::LoadOptions::default())
    }

    /// CONFIG GET for one glob pattern: matching (name, value) pairs. A name
    /// without `*`, `?` or `[` is looked up exactly (hidden directives too)
    /// and answered under the spelling given; a pattern matches every other
    /// name, old aliases included, ignoring case.
    pub fn get(&self, pattern: &[u8]) -> Vec<(String, String)> {
        runtime::get(self, pattern)
    }

    /// CONFIG SET of several pairs, all or nothing, from a client that is not
    /// local (see [`Config::set_from`]). Ok holds the canonical names whose
    /// value changed, for the server to act on (e.g. "port", "appendonly",
    /// "dir"); the error is the text of the error reply, without the "-".
    pub fn set(&mut self, pairs: &[(&[u8], &[u8])]) -> Result<Vec<&'static str>, String> {
        self.set_from(pairs, false)
    }

    /// CONFIG SET; `local_client` tells whether the client is on a local
    /// connection, which matters for protected directives when
    /// enable-protected-configs is "local".
    pub fn set_from(&mut self, pairs: &[(&[u8], &[u8])], local_client: bool) -> Result<Vec<&'static str>, String> {
        runtime::set(self, pairs, local_client)
    }

    /// CONFIG REWRITE: rewrites the file the server was started with,
    /// keeping its comments and order, and replaces it atomically.
    pub fn rewrite(&self) -> Result<(), String> {
        rewrite::rewrite(self)
    }

    /// The notify-keyspace-events flags as Redis prints them ("KEA" gives
    /// "AKE").
    pub fn notify_keyspace_events_canonical(&self) -> String {
        keyspace_events_canonical(self.notify_keyspace_events.as_bytes()).unwrap_or_default()
    }

    /// Every directive name (canonical first, then its old name if any) with
    /// whether Strata acts on it; for documentation and INFO-like listings.
    pub fn directives() -> Vec<(&'static str, Option<&'static str>, Effect)> {
        table::TABLE.iter().map(|d| (d.name, d.alias, d.effect)).collect()
    }

    /// A struct with placeholder values; `default()` fills it from the table.
    fn blank() -> Config {
        Config {
            config_file: None,
            port: 0,
            bind: Vec::new(),
            protected_mode: false,
            requirepass: None,
            databases: 0,
            hz: 0,
            maxclients: 0,
            proto_max_bulk_len: 0,
            client_query_buffer_limit: 0,
            timeout: 0,
            tcp_keepalive: 0,
            daemonize: false,
            pidfile: None,
            logfile: String::new(),
            loglevel: LogLevel::Notice,
            dir: String::new(),
            dbfilename: String::new(),
            notify_keyspace_events: String::new(),
            enable_debug_command: String::new(),
            active_expire_enabled: true,
            enable_protected_configs: String::new(),
            enable_module_command: String::new(),
            tcp_backlog: 0,
            unixsocket: None,
            unixsocketperm: 0,
            client_output_buffer_limit: [ClientBufferLimit::default(); 3],
            aclfile: String::new(),
            acllog_max_len: 0,
            save_params: Vec::new(),
            stop_writes_on_bgsave_error: false,
            rdbcompression: false,
            rdbchecksum: false,
            sanitize_dump_payload: String::new(),
            rdb_key_save_delay: 0,
            key_load_delay: 0,
            appendonly: false,
            appendfsync: AppendFsync::Everysec,
            appendfilename: String::new(),
            appenddirname: String::new(),
            aof_use_rdb_preamble: false,
            aof_load_truncated: false,
            aof_timestamp_enabled: false,
            aof_disable_auto_gc: false,
            rdb_save_incremental_fsync: false,
            aof_rewrite_incremental_fsync: false,
            jemalloc_bg_thread: false,
            aof_flush_guard: 0,
            aof_history_keep: 0,
            no_appendfsync_on_rewrite: false,
            auto_aof_rewrite_percentage: 0,
            auto_aof_rewrite_min_size: 0,
            maxmemory: 0,
            maxmemory_policy: MaxmemoryPolicy::NoEviction,
            maxmemory_samples: 0,
            lazyfree_lazy_eviction: false,
            lazyfree_lazy_expire: false,
            lazyfree_lazy_server_del: false,
            lazyfree_lazy_user_del: false,
            lazyfree_lazy_user_flush: false,
            hash_max_listpack_entries: 0,
            hash_max_listpack_value: 0,
            set_max_intset_entries: 0,
            zset_max_listpack_entries: 0,
            zset_max_listpack_value: 0,
            list_max_listpack_size: 0,
            list_compress_depth: 0,
            stream_node_max_bytes: 0,
            stream_node_max_entries: 0,
            busy_reply_threshold: 0,
            slowlog_log_slower_than: 0,
            slowlog_max_len: 0,
            latency_tracking: false,
            latency_monitor_threshold: 0,
            rename_commands: Vec::new(),
            users: Vec::new(),
            stored: StoredValues::default(),
        }
    }
}
