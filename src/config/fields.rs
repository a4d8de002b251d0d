//! Binds directives to the typed public fields of `Config`, so that the rest
//! of the server reads plain Rust values while CONFIG GET/SET/REWRITE work on
//! the table.
//!
//! Invariant: a directive with a typed field has exactly one home, that field
//! (read by `Config::value`, written by `Config::store`); every other
//! directive lives in `StoredValues`. So a field changed directly by server
//! code is what CONFIG GET shows, and a CONFIG SET is what the field holds.

use std::collections::HashMap;
use std::sync::OnceLock;

use super::kind::{enum_id, enum_name, ClientBufferLimit, Val};
use super::table::{self, PROTECTED_ACTION};
use super::{AppendFsync, Config, LogLevel, MaxmemoryPolicy};

/// Conversion between a field's Rust type and a directive value. Values out
/// of a field's range saturate; the table's bounds keep them in range.
pub(crate) trait Typed: Sized {
    fn to_val(&self) -> Val;
    fn from_val(v: &Val) -> Self;
}

impl Typed for bool {
    fn to_val(&self) -> Val {
        Val::Bool(*self)
    }
    fn from_val(v: &Val) -> Self {
        matches!(v, Val::Bool(true))
    }
}

macro_rules! typed_int {
    ($($t:ty),*) => {$(
        impl Typed for $t {
            fn to_val(&self) -> Val {
                Val::Num(*self as i128)
            }
            fn from_val(v: &Val) -> Self {
                match v {
                    Val::Num(n) => <$t>::try_from(*n)
                        .unwrap_or(if *n < 0 { <$t>::MIN } else { <$t>::MAX }),
                    _ => 0,
                }
            }
        }
    )*};
}
typed_int!(u16, u32, u64, usize, i32, i64);

fn bytes_of(v: &Val) -> &[u8] {
    match v {
        Val::Str(s) => s,
        _ => b"",
    }
}

impl Typed for String {
    fn to_val(&self) -> Val {
        Val::Str(self.clone().into_bytes())
    }
    fn from_val(v: &Val) -> Self {
        String::from_utf8_lossy(bytes_of(v)).into_owned()
    }
}

impl Typed for Option<String> {
    fn to_val(&self) -> Val {
        Val::Str(self.clone().unwrap_or_default().into_bytes())
    }
    fn from_val(v: &Val) -> Self {
        Some(String::from_val(v)).filter(|s| !s.is_empty())
    }
}

impl Typed for Option<Vec<u8>> {
    fn to_val(&self) -> Val {
        Val::Str(self.clone().unwrap_or_default())
    }
    fn from_val(v: &Val) -> Self {
        Some(bytes_of(v).to_vec()).filter(|s| !s.is_empty())
    }
}

impl Typed for Vec<String> {
    fn to_val(&self) -> Val {
        Val::Words(self.iter().map(|s| s.clone().into_bytes()).collect())
    }
    fn from_val(v: &Val) -> Self {
        match v {
            Val::Words(w) => w.iter().map(|b| String::from_utf8_lossy(b).into_owned()).collect(),
            _ => Vec::new(),
        }
    }
}

impl Typed for Vec<(u64, u64)> {
    fn to_val(&self) -> Val {
        let clamp = |n: u64| i64::try_from(n).unwrap_or(i64::MAX);
        Val::Save(self.iter().map(|(s, c)| (clamp(*s), clamp(*c))).collect())
    }
    fn from_val(v: &Val) -> Self {
        let clamp = |n: i64| u64::try_from(n).unwrap_or(0);
        match v {
            Val::Save(rules) => rules.iter().map(|(s, c)| (clamp(*s), clamp(*c))).collect(),
            _ => Vec::new(),
        }
    }
}

impl Typed for [ClientBufferLimit; 3] {
    fn to_val(&self) -> Val {
        Val::Obuf(*self)
    }
    fn from_val(v: &Val) -> Self {
        match v {
            Val::Obuf(l) => *l,
            _ => [ClientBufferLimit::default(); 3],
        }
    }
}

/// Enum-typed fields map their variants to the table's enum ids.
macro_rules! typed_enum {
    ($t:ty, [$($variant:ident = $id:literal),*]) => {
        impl Typed for $t {
            fn to_val(&self) -> Val {
                Val::Enum(match self { $(<$t>::$variant => $id,)* })
            }
            fn from_val(v: &Val) -> Self {
                let id = if let Val::Enum(id) = v { *id } else { u32::MAX };
                match id {
                    $($id => <$t>::$variant,)*
                    _ => <$t>::default(),
                }
            }
        }
    };
}
typed_enum!(LogLevel, [Debug = 0, Verbose = 1, Notice = 2, Warning = 3, Nothing = 4]);
typed_enum!(AppendFsync, [Everysec = 0, Always = 1, No = 2]);
typed_enum!(
    MaxmemoryPolicy,
    [
        VolatileLru = 0,
        VolatileLfu = 1,
        VolatileRandom = 2,
        VolatileTtl = 3,
        AllkeysLru = 4,
        AllkeysLfu = 5,
        AllkeysRandom = 6,
        NoEviction = 7
    ]
);

/// Reads and writes one typed field.
pub(crate) struct Field {
    pub name: &'static str,
    pub get: fn(&Config) -> Val,
    pub set: fn(&mut Config, &Val),
}

macro_rules! field {
    ($name:literal, $f:ident) => {
        Field { name: $name, get: |c| Typed::to_val(&c.$f), set: |c, v| c.$f = Typed::from_val(v) }
    };
    // A String field holding one of the "no"/"yes"/"local" names.
    ($name:literal, $f:ident, names) => {
        Field {
            name: $name,
            get: |c| Val::Enum(enum_id(PROTECTED_ACTION, c.$f.as_bytes()).unwrap_or(0)),
            set: |c, v| {
                let id = if let Val::Enum(id) = v { *id } else { 0 };
                c.$f = enum_name(PROTECTED_ACTION, id).to_string();
            },
        }
    };
}

static FIELDS: &[Field] = &[
    field!("port", port),
    field!("bind", bind),
    field!("protected-mode", protected_mode),
    field!("requirepass", requirepass),
    field!("databases", databases),
    field!("hz", hz),
    field!("maxclients", maxclients),
    field!("proto-max-bulk-len", proto_max_bulk_len),
    field!("client-query-buffer-limit", client_query_buffer_limit),
    field!("client-output-buffer-limit", client_output_buffer_limit),
    field!("timeout", timeout),
    field!("tcp-keepalive", tcp_keepalive),
    field!("tcp-backlog", tcp_backlog),
    field!("unixsocket", unixsocket),
    field!("unixsocketperm", unixsocketperm),
    field!("daemonize", daemonize),
    field!("pidfile", pidfile),
    field!("logfile", logfile),
    field!("loglevel", loglevel),
    field!("dir", dir),
    field!("dbfilename", dbfilename),
    field!("notify-keyspace-events", notify_keyspace_events),
    field!("enable-debug-command", enable_debug_command, names),
    field!("enable-protected-configs", enable_protected_configs, names),
    field!("enable-module-command", enable_module_command, names),
    field!("aclfile", aclfile),
    field!("acllog-max-len", acllog_max_len),
    field!("save", save_params),
    field!("stop-writes-on-bgsave-error", stop_writes_on_bgsave_error),
    field!("rdbcompression", rdbcompression),
    field!("rdbchecksum", rdbchecksum),
    field!("sanitize-dump-payload", sanitize_dump_payload, names),
    field!("rdb-key-save-delay", rdb_key_save_delay),
    field!("key-load-delay", key_load_delay),
    field!("appendonly", appendonly),
    field!("appendfsync", appendfsync),
    field!("appendfilename", appendfilename),
    field!("appenddirname", appenddirname),
    field!("aof-use-rdb-preamble", aof_use_rdb_preamble),
    field!("aof-load-truncated", aof_load_truncated),
    field!("aof-timestamp-enabled", aof_timestamp_enabled),
    field!("aof-disable-auto-gc", aof_disable_auto_gc),
    field!("rdb-save-incremental-fsync", rdb_save_incremental_fsync),
    field!("aof-rewrite-incremental-fsync", aof_rewrite_incremental_fsync),
    field!("jemalloc-bg-thread", jemalloc_bg_thread),
    field!("aof-flush-guard", aof_flush_guard),
    field!("aof-history-keep", aof_history_keep),
    field!("no-appendfsync-on-rewrite", no_appendfsync_on_rewrite),
    field!("auto-aof-rewrite-percentage", auto_aof_rewrite_percentage),
    field!("auto-aof-rewrite-min-size", auto_aof_rewrite_min_size),
    field!("maxmemory", maxmemory),
    field!("maxmemory-policy", maxmemory_policy),
    field!("maxmemory-samples", maxmemory_samples),
    field!("lazyfree-lazy-eviction", lazyfree_lazy_eviction),
    field!("lazyfree-lazy-expire", lazyfree_lazy_expire),
    field!("lazyfree-lazy-server-del", lazyfree_lazy_server_del),
    field!("lazyfree-lazy-user-del", lazyfree_lazy_user_del),
    field!("lazyfree-lazy-user-flush", lazyfree_lazy_user_flush),
    field!("hash-max-listpack-entries", hash_max_listpack_entries),
    field!("hash-max-listpack-value", hash_max_listpack_value),
    field!("set-max-intset-entries", set_max_intset_entries),
    field!("zset-max-listpack-entries", zset_max_listpack_entries),
    field!("zset-max-listpack-value", zset_max_listpack_value),
    field!("list-max-listpack-size", list_max_listpack_size),
    field!("list-compress-depth", list_compress_depth),
    field!("stream-node-max-bytes", stream_node_max_bytes),
    field!("stream-node-max-entries", stream_node_max_entries),
    field!("busy-reply-threshold", busy_reply_threshold),
    field!("slowlog-log-slower-than", slowlog_log_slower_than),
    field!("slowlog-max-len", slowlog_max_len),
    field!("latency-tracking", latency_tracking),
    field!("latency-monitor-threshold", latency_monitor_threshold),
];

/// The typed field of each table entry, by table index.
fn by_index() -> &'static [Option<&'static Field>] {
    static MAP: OnceLock<Vec<Option<&'static Field>>> = OnceLock::new();
    MAP.get_or_init(|| {
        let fields: HashMap<&str, &Field> = FIELDS.iter().map(|f| (f.name, f)).collect();
        table::TABLE.iter().map(|d| fields.get(d.name).copied()).collect()
    })
}

impl Config {
    /// The current value of the directive at `index` of the table.
    pub(crate) fn value(&self, index: usize) -> Val {
        match by_index().get(index).copied().flatten() {
            Some(field) => (field.get)(self),
            None => self.stored.values.get(index).cloned().unwrap_or(Val::Absent),
        }
    }

    /// Stores an already validated value for the directive at `index`.
    pub(crate) fn store(&mut self, index: usize, v: Val) {
        match by_index().get(index).copied().flatten() {
            Some(field) => (field.set)(self, &v),
            None => {
                if self.stored.values.len() < table::TABLE.len() {
                    self.stored.values.resize(table::TABLE.len(), Val::Absent);
                }
                self.stored.values[index] = v;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_field_names_a_table_directive() {
        for f in FIELDS {
            assert!(table::find(f.name.as_bytes()).is_some(), "{}", f.name);
        }
    }

    #[test]
    fn fields_round_trip_every_default() {
        let mut cfg = Config::default();
        for (i, v) in table::defaults().iter().enumerate() {
            cfg.store(i, v.clone());
            assert_eq!(&cfg.value(i), v, "{}", table::TABLE[i].name);
        }
    }
}
