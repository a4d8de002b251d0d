//! The directive table: every directive Redis 7.0 knows (all that CONFIG GET
//! lists, plus its five hidden debugging ones), with old names, value kind,
//! default, whether CONFIG SET may change it, and whether Strata acts on it.
//!
//! Invariant: names and aliases are unique and lower-case, every default
//! parses with its own kind, and lookups are case-insensitive; nothing outside
//! this table decides what a directive is.

use std::collections::HashMap;
use std::sync::OnceLock;

use super::kind::{Check, Kind, NumForm, Special, Val};
use super::special::{check_appenddirname, check_appendfilename, check_dbfilename, check_hostname, check_proc_title};

/// What Strata does with a directive.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Effect {
    /// Strata honours the setting.
    Effective,
    /// Accepted and stored only: a tuning knob with no counterpart in
    /// Strata's design.
    NoEffect,
    /// Accepted and stored only: it belongs to a subsystem Strata has not
    /// built yet (named here).
    NotBuilt(&'static str),
}

/// CONFIG SET refuses it ("can't set immutable config").
pub(crate) const IMMUTABLE: u8 = 1;
/// CONFIG SET refuses it unless enable-protected-configs allows it.
pub(crate) const PROTECTED: u8 = 2;
/// Left out of CONFIG GET patterns; only its exact name finds it.
pub(crate) const HIDDEN: u8 = 4;

/// Refuses a value that would switch on something Strata lacks; the text
/// ends in "not supported yet".
pub(crate) type Refuse = fn(&Val) -> Option<&'static str>;

pub(crate) struct Directive {
    pub name: &'static str,
    pub alias: Option<&'static str>,
    pub kind: Kind,
    /// The default, in config-file syntax (arguments separated by spaces).
    pub default: &'static str,
    pub flags: u8,
    pub effect: Effect,
    pub refuse: Option<Refuse>,
}

impl Directive {
    pub(crate) fn has(&self, flag: u8) -> bool {
        self.flags & flag != 0
    }
}

const I32_MIN: i128 = i32::MIN as i128;
const I32_MAX: i128 = i32::MAX as i128;
const U32_MAX: i128 = u32::MAX as i128;
const I64_MAX: i128 = i64::MAX as i128;
const U64_MAX: i128 = u64::MAX as i128;

const BOOL: Kind = Kind::Bool;
const STR: Kind = Kind::Str { null_when_empty: false, check: None };
/// A string whose empty value means "not set".
const OPT: Kind = Kind::Str { null_when_empty: true, check: None };

const fn int(min: i128, max: i128) -> Kind {
    Kind::Num { min, max, form: NumForm::Plain }
}
const fn mem(min: i128, max: i128) -> Kind {
    Kind::Num { min, max, form: NumForm::Memory }
}
const fn checked(null_when_empty: bool, check: Check) -> Kind {
    Kind::Str { null_when_empty, check: Some(check) }
}
const fn special(s: Special) -> Kind {
    Kind::Special(s)
}

pub(crate) const LOGLEVELS: &[(&str, u32)] = &[("debug", 0), ("verbose", 1), ("notice", 2), ("warning", 3)];
pub(crate) const FSYNC: &[(&str, u32)] = &[("everysec", 0), ("always", 1), ("no", 2)];
pub(crate) const POLICIES: &[(&str, u32)] = &[
    ("volatile-lru", 0),
    ("volatile-lfu", 1),
    ("volatile-random", 2),
    ("volatile-ttl", 3),
    ("allkeys-lru", 4),
    ("allkeys-lfu", 5),
    ("allkeys-random", 6),
    ("noeviction", 7),
];
pub(crate) const PROTECTED_ACTION: &[(&str, u32)] = &[("no", 0), ("yes", 1), ("local", 2)];
const SUPERVISED: &[(&str, u32)] = &[("upstart", 0), ("systemd", 1), ("auto", 2), ("no", 3)];
const FACILITIES: &[(&str, u32)] = &[
    ("user", 0),
    ("local0", 1),
    ("local1", 2),
    ("local2", 3),
    ("local3", 4),
    ("local4", 5),
    ("local5", 6),
    ("local6", 7),
    ("local7", 8),
];
const DISKLESS_LOAD: &[(&str, u32)] = &[("disabled", 0), ("on-empty-db", 1), ("swapdb", 2)];
const TLS_AUTH: &[(&str, u32)] = &[("no", 0), ("yes", 1), ("optional", 2)];
const OOM_ADJ: &[(&str, u32)] = &[("no", 0), ("yes", 1), ("relative", 1), ("absolute", 2)];
const PUBSUB_DEFAULT: &[(&str, u32)] = &[("allchannels", 1), ("resetchannels", 0)];
const SANITIZE: &[(&str, u32)] = &[("no", 0), ("yes", 1), ("clients", 2)];
const ENDPOINT: &[(&str, u32)] = &[("ip", 0), ("hostname", 1), ("unknown-endpoint", 2)];
const PROPAGATION: &[(&str, u32)] = &[("ignore", 0), ("panic", 1), ("panic-on-replicas", 2)];
const SHUTDOWN: &[(&str, u32)] = &[("default", 0), ("save", 1), ("nosave", 2), ("now", 4), ("force", 8)];

use Effect::{Effective as E, NoEffect as X};
const REPL: Effect = Effect::NotBuilt("replication");
const CLUSTER: Effect = Effect::NotBuilt("cluster");
const TLS: Effect = Effect::NotBuilt("TLS");
const MODULES: Effect = Effect::NotBuilt("modules");
const SYSLOG: Effect = Effect::NotBuilt("syslog");
const MUT: u8 = 0;
const IMM: u8 = IMMUTABLE;

const fn d(name: &'static str, kind: Kind, default: &'static str, flags: u8, effect: Effect) -> Directive {
    Directive { name, alias: None, kind, default, flags, effect, refuse: None }
}

const fn a(name: &'static str, alias: &'static str, kind: Kind, default: &'static str, effect: Effect) -> Directive {
    Directive { name, alias: Some(alias), kind, default, flags: MUT, effect, refuse: None }
}

const fn refusing(mut dir: Directive, refuse: Refuse) -> Directive {
    dir.refuse = Some(refuse);
    dir
}

fn refuse_replication(_: &Val) -> Option<&'static str> {
    Some("Replication (replicaof) is not supported yet")
}

fn refuse_cluster(v: &Val) -> Option<&'static str> {
    (*v == Val::Bool(true)).then_some("Cluster mode (cluster-enabled yes) is not supported yet")
}

fn refuse_tls(v: &Val) -> Option<&'static str> {
    (*v != Val::Num(0)).then_some("TLS (a non-zero tls-port) is not supported yet")
}

/// Every directive, canonical name first. Order is only cosmetic.
#[rustfmt::skip]
pub(crate) static TABLE: &[Directive] = &[
    // Network and clients.
    d("port", int(0, 65535), "6379", MUT, E),
    d("bind", special(Special::Bind), "* -::*", MUT, E),
    d("bind-source-addr", OPT, "", MUT, REPL),
    d("protected-mode", BOOL, "yes", MUT, E),
    d("tcp-backlog", int(0, I32_MAX), "511", IMM, E),
    d("unixsocket", OPT, "", IMM, E),
    d("unixsocketperm", Kind::Num { min: 0, max: 0o777, form: NumForm::Octal }, "0", IMM, E),
    d("socket-mark-id", int(0, U32_MAX), "0", IMM, X),
    d("timeout", int(0, I32_MAX), "0", MUT, E),
    d("tcp-keepalive", int(0, I32_MAX), "300", MUT, E),
    d("maxclients", int(1, U32_MAX), "10000", MUT, E),
    d("proto-max-bulk-len", mem(1 << 20, I64_MAX), "536870912", MUT, E),
    d("client-query-buffer-limit", mem(1 << 20, I64_MAX), "1073741824", MUT, E),
    d(
        "client-output-buffer-limit",
        special(Special::ClientOutputBufferLimit),
        "normal 0 0 0 slave 268435456 67108864 60 pubsub 33554432 8388608 60",
        MUT,
        E,
    ),
    d("maxmemory-clients", Kind::Num { min: -100, max: I64_MAX, form: NumForm::MemoryOrPercent }, "0", MUT, X),
    d("tracking-table-max-keys", int(0, I64_MAX), "1000000", MUT, E),
    // Process and logging.
    d("daemonize", BOOL, "no", IMM, E),
    d("supervised", Kind::Enum(SUPERVISED), "no", IMM, X),
    d("pidfile", OPT, "", IMM, E),
    d("loglevel", Kind::Enum(LOGLEVELS), "notice", MUT, E),
    d("logfile", STR, "", IMM, E),
    d("syslog-enabled", BOOL, "no", IMM, SYSLOG),
    d("syslog-ident", STR, "redis", IMM, SYSLOG),
    d("syslog-facility", Kind::Enum(FACILITIES), "local0", IMM, SYSLOG),
    d("crash-log-enabled", BOOL, "yes", MUT, X),
    d("crash-memcheck-enabled", BOOL, "yes", MUT, X),
    d("databases", int(1, I32_MAX), "16", IMM, E),
    d("always-show-logo", BOOL, "no", IMM, X),
    d("set-proc-title", BOOL, "yes", IMM, X),
    d("proc-title-template", checked(false, check_proc_title), "{title} {listen-addr} {server-mode}", MUT, X),
    d("dir", special(Special::Dir), ".", MUT | PROTECTED, E),
    d("hz", int(0, I32_MAX), "10", MUT, E),
    d("dynamic-hz", BOOL, "yes", MUT, X),
    d("shutdown-timeout", int(0, I32_MAX), "10", MUT, REPL),
    d("shutdown-on-sigint", Kind::Flags(SHUTDOWN), "default", MUT, E),
    d("shutdown-on-sigterm", Kind::Flags(SHUTDOWN), "default", MUT, E),
    d("oom-score-adj", Kind::Enum(OOM_ADJ), "no", MUT, X),
    d("oom-score-adj-values", special(Special::OomScoreAdjValues), "0 200 800", MUT, X),
    d("disable-thp", BOOL, "yes", IMM, X),
    d("ignore-warnings", STR, "", MUT, X),
    d("server_cpulist", OPT, "", IMM, X),
    d("bio_cpulist", OPT, "", IMM, X),
    d("aof_rewrite_cpulist", OPT, "", IMM, X),
    d("bgsave_cpulist", OPT, "", IMM, X),
    d("io-threads", int(1, 128), "1", IMM, X),
    d("io-threads-do-reads", BOOL, "no", IMM, X),
    d("jemalloc-bg-thread", BOOL, "yes", MUT, E),
    // Security.
    d("requirepass", OPT, "", MUT, E),
    d("aclfile", STR, "", IMM, E),
    d("acllog-max-len", int(0, I64_MAX), "128", MUT, E),
    d("acl-pubsub-default", Kind::Enum(PUBSUB_DEFAULT), "resetchannels", MUT, E),
    d("enable-protected-configs", Kind::Enum(PROTECTED_ACTION), "no", IMM, E),
    d("enable-debug-command", Kind::Enum(PROTECTED_ACTION), "no", IMM, E),
    d("enable-module-command", Kind::Enum(PROTECTED_ACTION), "no", IMM, MODULES),
    d("sanitize-dump-payload", Kind::Enum(SANITIZE), "no", MUT, E),
    // Snapshots.
    d("save", special(Special::Save), "3600 1 300 100 60 10000", MUT, E),
    d("stop-writes-on-bgsave-error", BOOL, "yes", MUT, E),
    d("rdbcompression", BOOL, "yes", MUT, E),
    d("rdbchecksum", BOOL, "yes", IMM, E),
    d("dbfilename", checked(false, check_dbfilename), "dump.rdb", MUT | PROTECTED, E),
    d("rdb-del-sync-files", BOOL, "no", MUT, REPL),
    d("rdb-save-incremental-fsync", BOOL, "yes", MUT, E),
    // Append-only file.
    d("appendonly", BOOL, "no", MUT, E),
    d("appendfilename", checked(false, check_appendfilename), "appendonly.aof", IMM, E),
    d("appenddirname", checked(false, check_appenddirname), "appendonlydir", IMM, E),
    d("appendfsync", Kind::Enum(FSYNC), "everysec", MUT, E),
    d("no-appendfsync-on-rewrite", BOOL, "no", MUT, E),
    d("auto-aof-rewrite-percentage", int(0, I32_MAX), "100", MUT, E),
    d("auto-aof-rewrite-min-size", mem(0, I64_MAX), "67108864", MUT, E),
    d("aof-load-truncated", BOOL, "yes", MUT, E),
    d("aof-use-rdb-preamble", BOOL, "yes", MUT, E),
    d("aof-timestamp-enabled", BOOL, "no", MUT, E),
    d("aof-rewrite-incremental-fsync", BOOL, "yes", MUT, E),
    d("aof-disable-auto-gc", BOOL, "no", MUT, E),
    // Memory and eviction.
    d("maxmemory", mem(0, U64_MAX), "0", MUT, E),
    d("maxmemory-policy", Kind::Enum(POLICIES), "noeviction", MUT, E),
    d("maxmemory-samples", int(1, I32_MAX), "5", MUT, E),
    d("maxmemory-eviction-tenacity", int(0, 100), "10", MUT, X),
    d("lfu-log-factor", int(0, I32_MAX), "10", MUT, E),
    d("lfu-decay-time", int(0, I32_MAX), "1", MUT, E),
    d("active-expire-effort", int(1, 10), "1", MUT, X),
    d("activerehashing", BOOL, "yes", MUT, X),
    d("lazyfree-lazy-eviction", BOOL, "no", MUT, X),
    d("lazyfree-lazy-expire", BOOL, "no", MUT, X),
    d("lazyfree-lazy-server-del", BOOL, "no", MUT, X),
    d("lazyfree-lazy-user-del", BOOL, "no", MUT, X),
    d("lazyfree-lazy-user-flush", BOOL, "no", MUT, X),
    d("activedefrag", BOOL, "no", MUT, X),
    d("active-defrag-ignore-bytes", mem(1, I64_MAX), "104857600", MUT, X),
    d("active-defrag-threshold-lower", int(0, 1000), "10", MUT, X),
    d("active-defrag-threshold-upper", int(0, 1000), "100", MUT, X),
    d("active-defrag-cycle-min", int(1, 99), "1", MUT, X),
    d("active-defrag-cycle-max", int(1, 99), "25", MUT, X),
    d("active-defrag-max-scan-fields", int(1, I64_MAX), "1000", MUT, X),
    // Data structure encodings.
    a("hash-max-listpack-entries", "hash-max-ziplist-entries", int(0, I64_MAX), "512", E),
    a("hash-max-listpack-value", "hash-max-ziplist-value", mem(0, I64_MAX), "64", E),
    a("zset-max-listpack-entries", "zset-max-ziplist-entries", int(0, I64_MAX), "128", E),
    a("zset-max-listpack-value", "zset-max-ziplist-value", mem(0, I64_MAX), "64", E),
    a("list-max-listpack-size", "list-max-ziplist-size", int(I32_MIN, I32_MAX), "-2", E),
    d("list-compress-depth", int(0, I32_MAX), "0", MUT, E),
    d("set-max-intset-entries", int(0, I64_MAX), "512", MUT, E),
    d("stream-node-max-bytes", mem(0, I64_MAX), "4096", MUT, E),
    d("stream-node-max-entries", int(0, I64_MAX), "100", MUT, E),
    d("hll-sparse-max-bytes", mem(0, I64_MAX), "3000", MUT, E),
    // Scripts, slow log, latency, keyspace events.
    a("busy-reply-threshold", "lua-time-limit", int(0, I64_MAX), "5000", E),
    d("slowlog-log-slower-than", int(-1, I64_MAX), "10000", MUT, E),
    d("slowlog-max-len", int(0, I64_MAX), "128", MUT, E),
    d("latency-monitor-threshold", int(0, I64_MAX), "0", MUT, X),
    d("latency-tracking", BOOL, "yes", MUT, X),
    d("latency-tracking-info-percentiles", special(Special::LatencyPercentiles), "50 99 99.9", MUT, X),
    d("notify-keyspace-events", special(Special::NotifyKeyspaceEvents), "", MUT, E),
    // Replication.
    Directive { alias: Some("slaveof"), ..refusing(d("replicaof", special(Special::ReplicaOf), "", IMM, REPL), refuse_replication) },
    d("masterauth", OPT, "", MUT, REPL),
    d("masteruser", OPT, "", MUT, REPL),
    a("replica-serve-stale-data", "slave-serve-stale-data", BOOL, "yes", REPL),
    a("replica-read-only", "slave-read-only", BOOL, "yes", REPL),
    a("replica-lazy-flush", "slave-lazy-flush", BOOL, "no", REPL),
    a("replica-ignore-maxmemory", "slave-ignore-maxmemory", BOOL, "yes", REPL),
    a("replica-priority", "slave-priority", int(0, I32_MAX), "100", REPL),
    a("replica-announce-ip", "slave-announce-ip", OPT, "", REPL),
    a("replica-announce-port", "slave-announce-port", int(0, 65535), "0", REPL),
    d("replica-announced", BOOL, "yes", MUT, REPL),
    d("replica-ignore-disk-write-errors", BOOL, "no", MUT, REPL),
    a("repl-ping-replica-period", "repl-ping-slave-period", int(1, I32_MAX), "10", REPL),
    d("repl-timeout", int(1, I32_MAX), "60", MUT, REPL),
    d("repl-disable-tcp-nodelay", BOOL, "no", MUT, REPL),
    d("repl-diskless-sync", BOOL, "yes", MUT, REPL),
    d("repl-diskless-sync-delay", int(0, I32_MAX), "5", MUT, REPL),
    d("repl-diskless-sync-max-replicas", int(0, I32_MAX), "0", MUT, REPL),
    d("repl-diskless-load", Kind::Enum(DISKLESS_LOAD), "disabled", MUT, REPL),
    d("repl-backlog-size", mem(1, I64_MAX), "1048576", MUT, REPL),
    d("repl-backlog-ttl", int(0, I64_MAX), "3600", MUT, REPL),
    a("min-replicas-to-write", "min-slaves-to-write", int(0, I32_MAX), "0", REPL),
    a("min-replicas-max-lag", "min-slaves-max-lag", int(0, I32_MAX), "10", REPL),
    d("propagation-error-behavior", Kind::Enum(PROPAGATION), "ignore", MUT, REPL),
    // Cluster.
    refusing(d("cluster-enabled", BOOL, "no", IMM, CLUSTER), refuse_cluster),
    d("cluster-config-file", STR, "nodes.conf", IMM, CLUSTER),
    d("cluster-port", int(0, 65535), "0", IMM, CLUSTER),
    d("cluster-node-timeout", int(0, I64_MAX), "15000", MUT, CLUSTER),
    d("cluster-announce-ip", OPT, "", MUT, CLUSTER),
    d("cluster-announce-hostname", checked(true, check_hostname), "", MUT, CLUSTER),
    d("cluster-announce-port", int(0, 65535), "0", MUT, CLUSTER),
    d("cluster-announce-bus-port", int(0, 65535), "0", MUT, CLUSTER),
    d("cluster-announce-tls-port", int(0, 65535), "0", MUT, CLUSTER),
    d("cluster-preferred-endpoint-type", Kind::Enum(ENDPOINT), "ip", MUT, CLUSTER),
    a("cluster-replica-validity-factor", "cluster-slave-validity-factor", int(0, I32_MAX), "10", CLUSTER),
    a("cluster-replica-no-failover", "cluster-slave-no-failover", BOOL, "no", CLUSTER),
    d("cluster-migration-barrier", int(0, I32_MAX), "1", MUT, CLUSTER),
    d("cluster-allow-replica-migration", BOOL, "yes", MUT, CLUSTER),
    d("cluster-require-full-coverage", BOOL, "yes", MUT, CLUSTER),
    d("cluster-allow-reads-when-down", BOOL, "no", MUT, CLUSTER),
    d("cluster-allow-pubsubshard-when-down", BOOL, "yes", MUT, CLUSTER),
    d("cluster-link-sendbuf-limit", mem(0, U64_MAX), "0", MUT, CLUSTER),
    // TLS.
    refusing(d("tls-port", int(0, 65535), "0", MUT, TLS), refuse_tls),
    d("tls-cert-file", OPT, "", MUT, TLS),
    d("tls-key-file", OPT, "", MUT, TLS),
    d("tls-key-file-pass", OPT, "", MUT, TLS),
    d("tls-client-cert-file", OPT, "", MUT, TLS),
    d("tls-client-key-file", OPT, "", MUT, TLS),
    d("tls-client-key-file-pass", OPT, "", MUT, TLS),
    d("tls-dh-params-file", OPT, "", MUT, TLS),
    d("tls-ca-cert-file", OPT, "", MUT, TLS),
    d("tls-ca-cert-dir", OPT, "", MUT, TLS),
    d("tls-auth-clients", Kind::Enum(TLS_AUTH), "yes", MUT, TLS),
    d("tls-replication", BOOL, "no", MUT, TLS),
    d("tls-cluster", BOOL, "no", MUT, TLS),
    d("tls-protocols", OPT, "", MUT, TLS),
    d("tls-ciphers", OPT, "", MUT, TLS),
    d("tls-ciphersuites", OPT, "", MUT, TLS),
    d("tls-prefer-server-ciphers", BOOL, "no", MUT, TLS),
    d("tls-session-caching", BOOL, "yes", MUT, TLS),
    d("tls-session-cache-size", int(0, I32_MAX), "20480", MUT, TLS),
    d("tls-session-cache-timeout", int(0, I32_MAX), "300", MUT, TLS),
    // Hidden debugging knobs (CONFIG GET finds them only by exact name).
    d("key-load-delay", int(I32_MIN, I32_MAX), "0", HIDDEN, E),
    d("rdb-key-save-delay", int(I32_MIN, I32_MAX), "0", HIDDEN, E),
    d("loading-process-events-interval-bytes", int(1024, I32_MAX), "2097152", HIDDEN, X),
    d("watchdog-period", int(0, I32_MAX), "0", HIDDEN, X),
    d("use-exit-on-panic", BOOL, "no", HIDDEN, X),
    // Strata's own directives, hidden from patterns too, so that CONFIG GET *
    // lists exactly what Redis lists; docs/config.md describes them.
    d("aof-flush-guard", int(0, I32_MAX), "3600", HIDDEN, E),
    d("aof-history-keep", int(0, I32_MAX), "1", HIDDEN, E),
];

/// Redis accepts any `hz` but runs with (and reports) a value in 1..=500.
pub(crate) fn adjust(dir: &Directive, v: Val) -> Val {
    match (dir.name, v) {
        ("hz", Val::Num(n)) => Val::Num(n.clamp(1, 500)),
        (_, v) => v,
    }
}

/// Directives Redis 7.0 still accepts in a file (with exactly one argument)
/// and ignores.
pub(crate) const DEPRECATED: &[&str] =
    &["list-max-ziplist-entries", "list-max-ziplist-value", "lua-replicate-commands"];

/// Directives that only a config file (or the command line) may hold and
/// that are handled outside the table.
pub(crate) const FILE_ONLY: &[&str] = &["include", "rename-command", "user", "loadmodule", "sentinel"];

/// A name found in the table: the directive's index and whether the name
/// used was its alias.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Found {
    pub index: usize,
    pub via_alias: bool,
}

fn names() -> &'static HashMap<&'static str, Found> {
    static NAMES: OnceLock<HashMap<&'static str, Found>> = OnceLock::new();
    NAMES.get_or_init(|| {
        let mut map = HashMap::new();
        for (index, dir) in TABLE.iter().enumerate() {
            map.insert(dir.name, Found { index, via_alias: false });
            if let Some(alias) = dir.alias {
                map.insert(alias, Found { index, via_alias: true });
            }
        }
        map
    })
}

/// Looks a directive up by name or alias, ignoring ASCII case.
pub(crate) fn find(name: &[u8]) -> Option<Found> {
    let lower = String::from_utf8(name.to_ascii_lowercase()).ok()?;
    names().get(lower.as_str()).copied()
}

/// The name a lookup result stands for (the alias when found by alias).
pub(crate) fn name_of(found: Found) -> &'static str {
    let dir = &TABLE[found.index];
    match (found.via_alias, dir.alias) {
        (true, Some(alias)) => alias,
        _ => dir.name,
    }
}

/// Every visible name (canonical and alias) with its lookup result, sorted.
pub(crate) fn visible_names() -> Vec<(&'static str, Found)> {
    let mut all: Vec<_> = names().iter().filter(|(_, f)| !TABLE[f.index].has(HIDDEN)).map(|(n, f)| (*n, *f)).collect();
    all.sort_unstable_by_key(|(n, _)| *n);
    all
}

/// The arguments of a default, as the file would give them.
pub(crate) fn default_args(dir: &Directive) -> Vec<Vec<u8>> {
    if !dir.kind.multi_arg() {
        return vec![dir.default.as_bytes().to_vec()];
    }
    dir.default.split(' ').filter(|s| !s.is_empty()).map(|s| s.as_bytes().to_vec()).collect()
}

/// Every directive's default value, parsed once.
pub(crate) fn defaults() -> &'static [Val] {
    static DEFAULTS: OnceLock<Vec<Val>> = OnceLock::new();
    DEFAULTS.get_or_init(|| {
        TABLE.iter().map(|dir| dir.kind.parse(&default_args(dir), &Val::Absent).unwrap_or(Val::Absent)).collect()
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    #[test]
    fn names_are_unique_and_lower_case() {
        let mut seen = HashSet::new();
        for dir in TABLE {
            for name in std::iter::once(dir.name).chain(dir.alias) {
                assert_eq!(name, name.to_ascii_lowercase());
                assert!(seen.insert(name), "duplicate {name}");
            }
        }
        for name in DEPRECATED.iter().chain(FILE_ONLY) {
            assert!(find(name.as_bytes()).is_none(), "{name} must not be in the table");
        }
    }

    #[test]
    fn every_default_parses_with_its_kind() {
        for dir in TABLE {
            let parsed = dir.kind.parse(&default_args(dir), &Val::Absent);
            assert!(parsed.is_ok(), "{}: {:?}", dir.name, parsed);
        }
    }

    #[test]
    fn lookups_ignore_case_and_know_aliases() {
        let f = find(b"SLAVE-Read-Only").unwrap();
        assert!(f.via_alias);
        assert_eq!(TABLE[f.index].name, "replica-read-only");
        assert_eq!(name_of(f), "slave-read-only");
        assert!(find(b"no-such-thing").is_none());
        assert!(find(b"\xff").is_none());
    }

    #[test]
    fn counts_match_redis() {
        // CONFIG GET * on Redis 7.0.15 lists 192 names: 173 directives and 19
        // old names; five more directives are hidden.
        assert_eq!(visible_names().len(), 192);
        assert_eq!(TABLE.iter().filter(|d| d.alias.is_some()).count(), 19);
        assert_eq!(TABLE.iter().filter(|d| d.has(HIDDEN)).count(), 5 + 2, "Redis's five and Strata's own");
    }
}
