//! INFO: server state and statistics in Redis's sections, field names and
//! order, so that clients and tools that parse INFO keep working. Fields of
//! subsystems Strata does not have (yet) show what a fresh Redis shows with
//! them idle or off.

use super::flags::*;
use super::table::Command;
use super::Ctx;
use crate::config::MaxmemoryPolicy;
use crate::state::{State, LATENCY_BUCKETS};
use std::fmt::Write;

pub const COMMANDS: &[Command] = &[Command::new("info", -1, LOADING | STALE, info)];

/// Every section, in output order, with whether `INFO` / `INFO default`
/// includes it and whether `INFO all` does.
const SECTIONS: &[(&str, bool, bool)] = &[
    ("server", true, true),
    ("clients", true, true),
    ("memory", true, true),
    ("persistence", true, true),
    ("stats", true, true),
    ("replication", true, true),
    ("cpu", true, true),
    ("modules", true, true),
    ("commandstats", false, true),
    ("errorstats", true, true),
    ("latencystats", false, true),
    ("cluster", true, true),
    ("keyspace", true, true),
];

fn info(ctx: &mut Ctx, args: &[&[u8]]) {
    let mut wanted = [false; SECTIONS.len()];
    if args.len() == 1 {
        for (i, s) in SECTIONS.iter().enumerate() {
            wanted[i] = s.1;
        }
    }
    for a in &args[1..] {
        let a = a.to_ascii_lowercase();
        match a.as_slice() {
            b"default" => SECTIONS.iter().enumerate().for_each(|(i, s)| wanted[i] |= s.1),
            b"all" | b"everything" => SECTIONS.iter().enumerate().for_each(|(i, s)| wanted[i] |= s.2),
            name => {
                if let Some(i) = SECTIONS.iter().position(|s| s.0.as_bytes() == name) {
                    wanted[i] = true;
                }
            }
        }
    }
    let text = render(ctx.st, &wanted);
    ctx.out.verbatim(text.as_bytes(), "txt");
}

/// The INFO text of the chosen sections (a flag per entry of `SECTIONS`).
fn render(st: &mut State, wanted: &[bool]) -> String {
    let mut out = String::with_capacity(4096);
    for (i, (name, _, _)) in SECTIONS.iter().enumerate() {
        if !wanted[i] {
            continue;
        }
        if !out.is_empty() {
            out.push_str("\r\n");
        }
        match *name {
            "server" => server(st, &mut out),
            "clients" => clients(st, &mut out),
            "memory" => memory(st, &mut out),
            "persistence" => persistence(st, &mut out),
            "stats" => stats(st, &mut out),
            "replication" => replication(st, &mut out),
            "cpu" => cpu(&mut out),
            "modules" => out.push_str("# Modules\r\n"),
            "commandstats" => commandstats(st, &mut out),
            "errorstats" => errorstats(st, &mut out),
            "latencystats" => latencystats(st, &mut out),
            "cluster" => out.push_str("# Cluster\r\ncluster_enabled:0\r\n"),
            _ => keyspace(st, &mut out),
        }
    }
    out
}

/// Appends `name:value\r\n` lines.
macro_rules! fields {
    ($out:expr, $($name:literal => $val:expr),* $(,)?) => {
        $( let _ = write!($out, concat!($name, ":{}\r\n"), $val); )*
    };
}

/// A build identifier that stays the same for one binary.
fn build_id() -> String {
    let mut h: u64 = 0xcbf29ce484222325;
    for b in crate::VERSION.bytes().chain(env!("CARGO_PKG_NAME").bytes()) {
        h = (h ^ b as u64).wrapping_mul(0x100000001b3);
    }
    format!("{:015x}", h >> 4)
}

fn uname() -> String {
    // SAFETY: utsname is plain data, filled by uname(2).
    let mut u: libc::utsname = unsafe { std::mem::zeroed() };
    if unsafe { libc::uname(&mut u) } != 0 {
        return "Linux".into();
    }
    let field = |f: &[libc::c_char]| -> String {
        let bytes: Vec<u8> = f.iter().take_while(|&&c| c != 0).map(|&c| c as u8).collect();
        String::from_utf8_lossy(&bytes).into_owned()
    };
    format!("{} {} {}", field(&u.sysname), field(&u.release), field(&u.machine))
}

fn server(st: &State, out: &mut String) {
    let now_ms = st.now_ms();
    let uptime = ((now_ms - st.start_ms) / 1000).max(0);
    let now_us = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_micros()).unwrap_or(0);
    let executable = std::env::current_exe().map(|p| p.display().to_string()).unwrap_or_default();
    let config_file = st.config.config_file.as_ref().map(|p| p.display().to_string()).unwrap_or_default();
    out.push_str("# Server\r\n");
    fields!(out,
        "redis_version" => crate::REDIS_VERSION,
        "strata_version" => crate::VERSION,
        "redis_git_sha1" => "00000000",
        "redis_git_dirty" => 0,
        "redis_build_id" => build_id(),
        "redis_mode" => "standalone",
        "os" => uname(),
        "arch_bits" => usize::BITS,
        "monotonic_clock" => "POSIX clock_gettime",
        "multiplexing_api" => "epoll",
        "atomicvar_api" => "c11-builtin",
        "gcc_version" => "0.0.0",
        "process_id" => std::process::id(),
        "process_supervised" => "no",
        "run_id" => st.run_id,
        "tcp_port" => st.port,
        "server_time_usec" => now_us,
        "uptime_in_seconds" => uptime,
        "uptime_in_days" => uptime / 86400,
        "hz" => st.config.hz,
        "configured_hz" => st.config.hz,
        "lru_clock" => crate::keyspace::db::lru_clock(now_ms),
        "executable" => executable,
        "config_file" => config_file,
        "io_threads_active" => 0,
    );
}

fn clients(st: &State, out: &mut String) {
    out.push_str("# Clients\r\n");
    fields!(out,
        "connected_clients" => st.clients.len(),
        "cluster_connections" => 0,
        "maxclients" => st.config.maxclients,
        "client_recent_max_input_buffer" => st.stats.client_recent_max_input_buffer,
        "client_recent_max_output_buffer" => st.stats.client_recent_max_output_buffer,
        "blocked_clients" => st.clients.map.values().filter(|c| c.blocked.is_some()).count(),
        "tracking_clients" => 0,
        "clients_in_timeout_table" => 0,
    );
}

/// Allocator statistics, bytes.
#[derive(Debug, Default, Clone, Copy)]
pub struct Alloc {
    pub allocated: u64,
    pub active: u64,
    pub resident: u64,
}

/// Reads fresh allocator statistics.
pub fn alloc_stats() -> Alloc {
    use tikv_jemalloc_ctl::{epoch, stats};
    let _ = epoch::advance();
    Alloc {
        allocated: stats::allocated::read().unwrap_or(0) as u64,
        active: stats::active::read().unwrap_or(0) as u64,
        resident: stats::resident::read().unwrap_or(0) as u64,
    }
}

/// `jemalloc-bg-thread`: whether the allocator returns unused memory to
/// the system from threads of its own. Off, that work falls to whichever
/// thread allocates or frees when a purge is due: mostly the command thread,
/// a pause for every client. An allocator that cannot start its threads
/// keeps working as before.
pub fn set_background_purge(on: bool) {
    let _ = tikv_jemalloc_ctl::background_thread::write(on);
}

/// The allocator's name and version ("jemalloc-5.3.0").
pub fn allocator_name() -> String {
    let v = tikv_jemalloc_ctl::version::read().unwrap_or("0.0.0");
    format!("jemalloc-{}", v.split('-').next().unwrap_or(v))
}

/// Resident set size of the process, bytes.
pub fn rss_bytes() -> u64 {
    let statm = std::fs::read_to_string("/proc/self/statm").unwrap_or_default();
    let pages: u64 = statm.split_whitespace().nth(1).and_then(|p| p.parse().ok()).unwrap_or(0);
    // SAFETY: sysconf has no preconditions.
    let page = unsafe { libc::sysconf(libc::_SC_PAGESIZE) }.max(1) as u64;
    pages * page
}

fn total_system_memory() -> u64 {
    // SAFETY: sysconf has no preconditions.
    let (pages, page) = unsafe { (libc::sysconf(libc::_SC_PHYS_PAGES), libc::sysconf(libc::_SC_PAGESIZE)) };
    (pages.max(0) as u64) * (page.max(0) as u64)
}

/// Redis's human-readable byte counts: "895.02K", "6.19M", "0B".
pub fn human_bytes(n: u64) -> String {
    const UNITS: [(f64, &str); 5] =
        [(1024.0, "K"), (1048576.0, "M"), (1073741824.0, "G"), (1099511627776.0, "T"), (1125899906842624.0, "P")];
    if n < 1024 {
        return format!("{n}B");
    }
    let f = n as f64;
    for (i, (unit, suffix)) in UNITS.iter().enumerate() {
        let next = UNITS.get(i + 1).map_or(f64::INFINITY, |u| u.0);
        if f < next {
            return format!("{:.2}{}", f / unit, suffix);
        }
    }
    format!("{n}B")
}

fn ratio(a: u64, b: u64) -> f64 {
    if b == 0 {
        0.0
    } else {
        a as f64 / b as f64
    }
}

pub fn policy_name(p: MaxmemoryPolicy) -> &'static str {
    match p {
        MaxmemoryPolicy::VolatileLru => "volatile-lru",
        MaxmemoryPolicy::VolatileLfu => "volatile-lfu",
        MaxmemoryPolicy::VolatileRandom => "volatile-random",
        MaxmemoryPolicy::VolatileTtl => "volatile-ttl",
        MaxmemoryPolicy::AllkeysLru => "allkeys-lru",
        MaxmemoryPolicy::AllkeysLfu => "allkeys-lfu",
        MaxmemoryPolicy::AllkeysRandom => "allkeys-random",
        MaxmemoryPolicy::NoEviction => "noeviction",
    }
}

/// Memory held for clients (buffers), bytes.
pub fn clients_memory(st: &State) -> u64 {
    st.clients.map.values().map(|c| (c.qbuf + c.qbuf_free + c.pending.capacity() + CLIENT_STRUCT) as u64).sum()
}

/// Rough fixed cost of one client's bookkeeping, bytes.
pub const CLIENT_STRUCT: usize = 1024;

/// Estimate of the memory that is not data: start-up memory, clients and
/// the hash tables' own structure.
pub fn overhead(st: &State) -> u64 {
    let ptr = std::mem::size_of::<usize>() as u64;
    let tables: u64 = st.keyspace.dbs.iter().map(|d| (d.dict.len() as u64 + d.expires.len() as u64) * ptr * 3).sum();
    st.mem_startup + clients_memory(st) + tables
}

/// Reads the allocator, updating the peak.
pub fn memory_now(st: &mut State) -> Alloc {
    let a = alloc_stats();
    if a.allocated > st.mem_peak {
        st.mem_peak = a.allocated;
    }
    a
}

/// The memory figures INFO and MEMORY STATS report, read once.
pub struct MemFigures {
    pub alloc: Alloc,
    /// Bytes allocated (used_memory).
    pub used: u64,
    pub rss: u64,
    pub peak: u64,
    pub startup: u64,
    /// Not data: start-up memory, clients, table structure.
    pub overhead: u64,
    pub dataset: u64,
    /// Used beyond start-up.
    pub net: u64,
}

pub fn mem_figures(st: &mut State) -> MemFigures {
    let alloc = memory_now(st);
    let used = alloc.allocated;
    let overhead = overhead(st).min(used);
    let startup = st.mem_startup.min(used);
    MemFigures {
        alloc,
        used,
        rss: rss_bytes(),
        peak: st.mem_peak.max(used),
        startup,
        overhead,
        dataset: used - overhead,
        net: used - startup,
    }
}

fn memory(st: &mut State, out: &mut String) {
    let m = mem_figures(st);
    let (a, used, rss, peak, startup, overhead, dataset, net) =
        (m.alloc, m.used, m.rss, m.peak, m.startup, m.overhead, m.dataset, m.net);
    let sysmem = total_system_memory();
    let maxmemory = st.config.maxmemory;
    let signed = |a: u64, b: u64| a as i64 - b as i64;
    out.push_str("# Memory\r\n");
    fields!(out,
        "used_memory" => used,
        "used_memory_human" => human_bytes(used),
        "used_memory_rss" => rss,
        "used_memory_rss_human" => human_bytes(rss),
        "used_memory_peak" => peak,
        "used_memory_peak_human" => human_bytes(peak),
        "used_memory_peak_perc" => format!("{:.2}%", ratio(used, peak) * 100.0),
        "used_memory_overhead" => overhead,
        "used_memory_startup" => startup,
        "used_memory_dataset" => dataset,
        "used_memory_dataset_perc" => format!("{:.2}%", ratio(dataset, net) * 100.0),
        "allocator_allocated" => a.allocated,
        "allocator_active" => a.active,
        "allocator_resident" => a.resident,
        "total_system_memory" => sysmem,
        "total_system_memory_human" => human_bytes(sysmem),
        "used_memory_lua" => 0,
        "used_memory_vm_eval" => 0,
        "used_memory_lua_human" => "0B",
        "used_memory_scripts_eval" => 0,
        "number_of_cached_scripts" => 0,
        "number_of_functions" => 0,
        "number_of_libraries" => 0,
        "used_memory_vm_functions" => 0,
        "used_memory_vm_total" => 0,
        "used_memory_vm_total_human" => "0B",
        "used_memory_functions" => 0,
        "used_memory_scripts" => 0,
        "used_memory_scripts_human" => "0B",
        "maxmemory" => maxmemory,
        "maxmemory_human" => human_bytes(maxmemory),
        "maxmemory_policy" => policy_name(st.config.maxmemory_policy),
        "allocator_frag_ratio" => format!("{:.2}", ratio(a.active, a.allocated)),
        "allocator_frag_bytes" => signed(a.active, a.allocated),
        "allocator_rss_ratio" => format!("{:.2}", ratio(a.resident, a.active)),
        "allocator_rss_bytes" => signed(a.resident, a.active),
        "rss_overhead_ratio" => format!("{:.2}", ratio(rss, a.resident)),
        "rss_overhead_bytes" => signed(rss, a.resident),
        "mem_fragmentation_ratio" => format!("{:.2}", ratio(rss, used)),
        "mem_fragmentation_bytes" => signed(rss, used),
        "mem_not_counted_for_evict" => 0,
        "mem_replication_backlog" => 0,
        "mem_total_replication_buffers" => 0,
        "mem_clients_slaves" => 0,
        "mem_clients_normal" => clients_memory(st),
        "mem_cluster_links" => 0,
        "mem_aof_buffer" => 0,
        "mem_allocator" => allocator_name(),
        "active_defrag_running" => 0,
        "lazyfree_pending_objects" => st.keyspace.lazyfree.pending_objects(),
        "lazyfreed_objects" => st.keyspace.lazyfree.freed_objects(),
    );
}

fn persistence(st: &State, out: &mut String) {
    let p = &st.persist;
    let now_ms = st.now_ms();
    out.push_str("# Persistence\r\n");
    fields!(out, "loading" => u8::from(st.loading));
    if let Some(l) = &p.loading {
        let elapsed = (now_ms - l.start_ms).max(0) as f64 / 1000.0;
        let perc = if l.total_bytes > 0 { l.loaded_bytes as f64 * 100.0 / l.total_bytes as f64 } else { 0.0 };
        let eta = if l.loaded_bytes > 0 && elapsed > 0.0 {
            ((l.total_bytes - l.loaded_bytes.min(l.total_bytes)) as f64 / (l.loaded_bytes as f64 / elapsed)) as i64
        } else {
            1
        };
        fields!(out,
            "async_loading" => 0,
            "loading_start_time" => l.start_secs,
            "loading_total_bytes" => l.total_bytes,
            "loading_rdb_used_mem" => l.rdb_used_mem,
            "loading_loaded_bytes" => l.loaded_bytes,
            "loading_loaded_perc" => format!("{perc:.2}"),
            "loading_eta_seconds" => eta,
        );
    } else {
        fields!(out, "async_loading" => 0);
    }
    let (processed, total) = p.bg.as_ref().map_or((0, 0), |bg| (bg.keys_done(), bg.keys_total));
    let current_secs = match &p.bg {
        Some(bg) if p.snapshot_running() => (now_ms - bg.started_ms) / 1000,
        _ => -1,
    };
    fields!(out,
        "current_cow_peak" => 0,
        "current_cow_size" => 0,
        "current_cow_size_age" => 0,
        "current_fork_perc" => "0.00",
        "current_save_keys_processed" => processed,
        "current_save_keys_total" => total,
        "rdb_changes_since_last_save" => st.dirty,
        "rdb_bgsave_in_progress" => u8::from(p.snapshot_running()),
        "rdb_last_save_time" => st.lastsave,
        "rdb_last_bgsave_status" => if p.last_bgsave_ok { "ok" } else { "err" },
        "rdb_last_bgsave_time_sec" => p.last_bgsave_secs,
        "rdb_current_bgsave_time_sec" => current_secs,
        "rdb_saves" => p.saves,
        "rdb_last_cow_size" => p.last_extra_bytes,
        "rdb_last_load_keys_expired" => p.last_load.keys_expired,
        "rdb_last_load_keys_loaded" => p.last_load.keys_loaded,
    );
    super::aof::info(st, out);
}

/// Commands per second over the samples the periodic task records.
pub fn ops_per_sec(st: &State) -> u64 {
    let s = &st.stats.ops_samples;
    match (s.first(), s.last()) {
        (Some(&(t0, n0)), Some(&(t1, n1))) if t1 > t0 => ((n1 - n0.min(n1)) as f64 * 1000.0 / (t1 - t0) as f64) as u64,
        _ => 0,
    }
}

/// Network input and output in KB/s over the recent samples.
fn kbps(st: &State) -> (f64, f64) {
    let s = &st.stats.rates.samples;
    match (s.front(), s.back()) {
        (Some(&(t0, i0, o0)), Some(&(t1, i1, o1))) if t1 > t0 => {
            let secs = (t1 - t0) as f64 / 1000.0;
            (i1.saturating_sub(i0) as f64 / secs / 1024.0, o1.saturating_sub(o0) as f64 / secs / 1024.0)
        }
        _ => (0.0, 0.0),
    }
}

fn stats(st: &State, out: &mut String) {
    let s = &st.stats;
    let (kin, kout) = kbps(st);
    out.push_str("# Stats\r\n");
    fields!(out,
        "total_connections_received" => s.total_connections_received,
        "total_commands_processed" => s.total_commands_processed,
        "instantaneous_ops_per_sec" => ops_per_sec(st),
        "total_net_input_bytes" => s.net_input_bytes,
        "total_net_output_bytes" => s.net_output_bytes,
        "total_net_repl_input_bytes" => 0,
        "total_net_repl_output_bytes" => 0,
        "instantaneous_input_kbps" => format!("{kin:.2}"),
        "instantaneous_output_kbps" => format!("{kout:.2}"),
        "instantaneous_input_repl_kbps" => "0.00",
        "instantaneous_output_repl_kbps" => "0.00",
        "rejected_connections" => s.rejected_connections,
        "sync_full" => 0,
        "sync_partial_ok" => 0,
        "sync_partial_err" => 0,
        "expired_keys" => s.expired_keys,
        "expired_stale_perc" => format!("{:.2}", s.expired_stale_perc),
        "expired_time_cap_reached_count" => 0,
        "expire_cycle_cpu_milliseconds" => 0,
        "evicted_keys" => s.evicted_keys,
        "evicted_clients" => 0,
        "total_eviction_exceeded_time" => 0,
        "current_eviction_exceeded_time" => 0,
        "keyspace_hits" => s.keyspace_hits,
        "keyspace_misses" => s.keyspace_misses,
        "pubsub_channels" => st.pubsub.channels.len(),
        "pubsub_patterns" => st.pubsub.numpat(),
        "pubsubshard_channels" => st.pubsub.shard_channels.len(),
        "latest_fork_usec" => 0,
        "total_forks" => 0,
        "migrate_cached_sockets" => 0,
        "slave_expires_tracked_keys" => 0,
        "active_defrag_hits" => 0,
        "active_defrag_misses" => 0,
        "active_defrag_key_hits" => 0,
        "active_defrag_key_misses" => 0,
        "total_active_defrag_time" => 0,
        "current_active_defrag_time" => 0,
        "tracking_total_keys" => 0,
        "tracking_total_items" => 0,
        "tracking_total_prefixes" => 0,
        "unexpected_error_replies" => s.unexpected_error_replies,
        "total_error_replies" => s.total_error_replies,
        "dump_payload_sanitizations" => 0,
        "total_reads_processed" => s.total_reads_processed,
        "total_writes_processed" => s.total_writes_processed,
        "io_threaded_reads_processed" => 0,
        "io_threaded_writes_processed" => 0,
        "reply_buffer_shrinks" => 0,
        "reply_buffer_expands" => 0,
    );
}

/// The configured replication backlog size (reported, not used yet).
fn backlog_size(st: &State) -> String {
    st.config.get(b"repl-backlog-size").into_iter().next().map_or_else(|| "1048576".into(), |(_, v)| v)
}

fn replication(st: &State, out: &mut String) {
    out.push_str("# Replication\r\n");
    fields!(out,
        "role" => "master",
        "connected_slaves" => 0,
        "master_failover_state" => "no-failover",
        "master_replid" => st.replid,
        "master_replid2" => "0000000000000000000000000000000000000000",
        "master_repl_offset" => 0,
        "second_repl_offset" => -1,
        "repl_backlog_active" => 0,
        "repl_backlog_size" => backlog_size(st),
        "repl_backlog_first_byte_offset" => 0,
        "repl_backlog_histlen" => 0,
    );
}

/// (system, user) CPU time of `who`, as "seconds.micros".
fn rusage(who: libc::c_int) -> (String, String) {
    // SAFETY: rusage is plain data, filled by getrusage(2).
    let mut r: libc::rusage = unsafe { std::mem::zeroed() };
    if unsafe { libc::getrusage(who, &mut r) } != 0 {
        return ("0.000000".into(), "0.000000".into());
    }
    let tv = |t: libc::timeval| format!("{}.{:06}", t.tv_sec, t.tv_usec);
    (tv(r.ru_stime), tv(r.ru_utime))
}

fn cpu(out: &mut String) {
    let (sys, user) = rusage(libc::RUSAGE_SELF);
    let (csys, cuser) = rusage(libc::RUSAGE_CHILDREN);
    let (tsys, tuser) = rusage(libc::RUSAGE_THREAD);
    out.push_str("# CPU\r\n");
    fields!(out,
        "used_cpu_sys" => sys,
        "used_cpu_user" => user,
        "used_cpu_sys_children" => csys,
        "used_cpu_user_children" => cuser,
        "used_cpu_sys_main_thread" => tsys,
        "used_cpu_user_main_thread" => tuser,
    );
}

/// Every command and subcommand of the table, in table order.
fn table_names() -> impl Iterator<Item = &'static str> {
    super::all_commands().flat_map(|c| std::iter::once(c.name).chain(c.subcommands.iter().map(|s| s.name)))
}

fn commandstats(st: &State, out: &mut String) {
    out.push_str("# Commandstats\r\n");
    for name in table_names() {
        let Some(c) = st.stats.commands.get(name) else {
            continue;
        };
        if c.calls == 0 && c.failed_calls == 0 && c.rejected_calls == 0 {
            continue;
        }
        let per_call = if c.calls == 0 { 0.0 } else { c.usec as f64 / c.calls as f64 };
        let _ = write!(
            out,
            "cmdstat_{name}:calls={},usec={},usec_per_call={per_call:.2},rejected_calls={},failed_calls={}\r\n",
            c.calls, c.usec, c.rejected_calls, c.failed_calls
        );
    }
}

fn errorstats(st: &State, out: &mut String) {
    out.push_str("# Errorstats\r\n");
    let mut codes: Vec<(&String, &u64)> = st.stats.errors.iter().collect();
    codes.sort();
    for (code, n) in codes {
        let _ = write!(out, "errorstat_{code}:count={n}\r\n");
    }
}

/// The percentiles INFO latencystats reports
/// (`latency-tracking-info-percentiles`).
fn info_percentiles(st: &State) -> Vec<f64> {
    let v = st.config.get(b"latency-tracking-info-percentiles").into_iter().next().map(|(_, v)| v).unwrap_or_default();
    v.split_whitespace().filter_map(|p| p.parse().ok()).collect()
}

/// Upper bound, in microseconds, of latency histogram bucket `i`.
pub fn bucket_usec(i: usize) -> u64 {
    1u64 << i
}

/// The latency below which `pct` percent of the calls completed, from the
/// histogram (the upper bound of the bucket that reaches it).
pub fn percentile(hist: &[u64; LATENCY_BUCKETS], pct: f64) -> f64 {
    let total: u64 = hist.iter().sum();
    if total == 0 {
        return 0.0;
    }
    let target = ((pct / 100.0) * total as f64).ceil().max(1.0) as u64;
    let mut seen = 0;
    for (i, n) in hist.iter().enumerate() {
        seen += n;
        if seen >= target {
            return bucket_usec(i) as f64;
        }
    }
    bucket_usec(LATENCY_BUCKETS - 1) as f64
}

/// "50" for 50.0, "99.9" for 99.9.
fn pct_name(p: f64) -> String {
    let s = format!("{p:.6}");
    s.trim_end_matches('0').trim_end_matches('.').to_string()
}

fn latencystats(st: &State, out: &mut String) {
    out.push_str("# Latencystats\r\n");
    let pcts = info_percentiles(st);
    for name in table_names() {
        let Some(c) = st.stats.commands.get(name) else {
            continue;
        };
        if c.histogram_calls() == 0 {
            continue;
        }
        let parts: Vec<String> =
            pcts.iter().map(|&p| format!("p{}={:.3}", pct_name(p), percentile(&c.histogram, p))).collect();
        let _ = write!(out, "latency_percentiles_usec_{name}:{}\r\n", parts.join(","));
    }
}

fn keyspace(st: &State, out: &mut String) {
    out.push_str("# Keyspace\r\n");
    for db in &st.keyspace.dbs {
        if db.is_empty() {
            continue;
        }
        let _ = write!(out, "db{}:keys={},expires={},avg_ttl={}\r\n", db.id, db.len(), db.expires.len(), db.avg_ttl);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn human_byte_counts() {
        assert_eq!(human_bytes(0), "0B");
        assert_eq!(human_bytes(1023), "1023B");
        assert_eq!(human_bytes(916504), "895.02K");
        assert_eq!(human_bytes(6488064), "6.19M");
        assert_eq!(human_bytes(25276063744), "23.54G");
    }

    #[test]
    fn percentile_names() {
        assert_eq!(pct_name(50.0), "50");
        assert_eq!(pct_name(99.9), "99.9");
    }

    #[test]
    fn sections_follow_the_selection() {
        let mut st = State::new(crate::config::Config::default());
        let all = [true; SECTIONS.len()];
        let text = render(&mut st, &all);
        let heads: Vec<&str> = text.lines().filter(|l| l.starts_with('#')).collect();
        assert_eq!(heads.len(), SECTIONS.len());
        assert!(text.contains("\r\n\r\n# Clients\r\n"));
        assert!(text.ends_with("# Keyspace\r\n"));
    }
}
