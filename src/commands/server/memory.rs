//! MEMORY: estimates of what keys cost, the memory breakdown, allocator
//! statistics.

use super::help_reply;
use crate::commands::flags::*;
use crate::commands::info::{alloc_stats, clients_memory, mem_figures, rss_bytes};
use crate::commands::table::Command;
use crate::commands::Ctx;
use crate::keyspace::db::Entry;
use crate::util::{eq_ic, parse_i64};
use std::fmt::Write;

pub const SUBS: &[Command] = &[
    Command::new("memory|usage", -3, READONLY, usage).keys(2, 2, 1),
    Command::new("memory|stats", 2, 0, stats),
    Command::new("memory|doctor", 2, 0, doctor),
    Command::new("memory|malloc-stats", 2, 0, malloc_stats),
    Command::new("memory|purge", 2, 0, purge),
    Command::new("memory|help", 2, LOADING | STALE, help),
];

/// Per-key cost of the hash table slot and entry bookkeeping, bytes.
const SLOT_OVERHEAD: usize = 2 * std::mem::size_of::<usize>();

fn usage(ctx: &mut Ctx, args: &[&[u8]]) {
    let mut i = 3;
    while i < args.len() {
        if eq_ic(args[i], b"samples") && i + 1 < args.len() {
            match parse_i64(args[i + 1]) {
                None => return ctx.err(crate::commands::NOT_INT),
                Some(n) if n < 0 => return ctx.syntax(),
                Some(_) => {}
            }
            i += 2;
        } else {
            return ctx.syntax();
        }
    }
    let now = ctx.now;
    let db = &ctx.st.keyspace.dbs[ctx.db];
    let live = db.peek(args[2]).filter(|_| !db.is_expired(args[2], now));
    match live {
        None => ctx.out.null(),
        Some(e) => {
            let n = entry_size(e) + if db.expire_of(args[2]).is_some() { 32 } else { 0 };
            ctx.out.int(n as i64)
        }
    }
}

/// What one key costs: its entry, the key and value bytes held on the
/// heap, the table slot.
fn entry_size(e: &Entry) -> usize {
    let key_heap = if e.key.len() > 22 { e.key.len() } else { 0 };
    std::mem::size_of::<Entry>() + key_heap + e.value.heap_size() + SLOT_OVERHEAD
}

fn stats(ctx: &mut Ctx, _: &[&[u8]]) {
    let st = &mut *ctx.st;
    let m = mem_figures(st);
    let (a, used, rss, peak, startup, over, dataset, net) =
        (m.alloc, m.used, m.rss, m.peak, m.startup, m.overhead, m.dataset, m.net);
    let keys = st.keyspace.total_keys() as u64;
    let pct = |a: u64, b: u64| {
        if b == 0 {
            0.0
        } else {
            a as f64 * 100.0 / b as f64
        }
    };
    let ratio = |a: u64, b: u64| if b == 0 { 0.0 } else { a as f64 / b as f64 };
    let ptr = std::mem::size_of::<usize>() as i64;
    let dbs: Vec<(usize, i64, i64)> = st
        .keyspace
        .dbs
        .iter()
        .filter(|d| !d.is_empty())
        .map(|d| (d.id, d.dict.len() as i64 * ptr * 3, d.expires.len() as i64 * ptr * 3))
        .collect();
    let clients = clients_memory(st) as i64;
    let out = &mut *ctx.out;
    out.map(27 + dbs.len());
    let int = |out: &mut crate::protocol::ReplyBuf, k: &str, v: i64| {
        out.bulk(k.as_bytes());
        out.int(v);
    };
    int(out, "peak.allocated", peak as i64);
    int(out, "total.allocated", used as i64);
    int(out, "startup.allocated", startup as i64);
    int(out, "replication.backlog", 0);
    int(out, "clients.slaves", 0);
    int(out, "clients.normal", clients);
    int(out, "cluster.links", 0);
    int(out, "aof.buffer", 0);
    int(out, "lua.caches", 0);
    int(out, "functions.caches", 0);
    for (id, main, expires) in dbs {
        out.bulk(format!("db.{id}").as_bytes());
        out.map(3);
        int(out, "overhead.hashtable.main", main);
        int(out, "overhead.hashtable.expires", expires);
        int(out, "overhead.hashtable.slot-to-keys", 0);
    }
    int(out, "overhead.total", over as i64);
    int(out, "keys.count", keys as i64);
    int(out, "keys.bytes-per-key", net.checked_div(keys).unwrap_or(0) as i64);
    int(out, "dataset.bytes", dataset as i64);
    let dbl = |out: &mut crate::protocol::ReplyBuf, k: &str, v: f64| {
        out.bulk(k.as_bytes());
        out.double(v);
    };
    dbl(out, "dataset.percentage", pct(dataset, net));
    dbl(out, "peak.percentage", pct(used, peak));
    int(out, "allocator.allocated", a.allocated as i64);
    int(out, "allocator.active", a.active as i64);
    int(out, "allocator.resident", a.resident as i64);
    dbl(out, "allocator-fragmentation.ratio", ratio(a.active, a.allocated));
    int(out, "allocator-fragmentation.bytes", a.active as i64 - a.allocated as i64);
    dbl(out, "allocator-rss.ratio", ratio(a.resident, a.active));
    int(out, "allocator-rss.bytes", a.resident as i64 - a.active as i64);
    dbl(out, "rss-overhead.ratio", ratio(rss, a.resident));
    int(out, "rss-overhead.bytes", rss as i64 - a.resident as i64);
    dbl(out, "fragmentation", ratio(rss, used));
    int(out, "fragmentation.bytes", rss as i64 - used as i64);
}

fn doctor(ctx: &mut Ctx, _: &[&[u8]]) {
    let a = alloc_stats();
    let rss = rss_bytes();
    let mut notes = Vec::new();
    if a.allocated < 5 * 1024 * 1024 {
        notes.push("Too little memory is in use for a meaningful diagnosis.".to_string());
    } else {
        let frag = rss as f64 / a.allocated.max(1) as f64;
        if frag > 1.4 {
            notes.push(format!(
                "The process holds {frag:.2} times the memory it uses (fragmentation or pages not yet returned); \
                 MEMORY PURGE may give some back."
            ));
        }
        if ctx.st.mem_peak > a.allocated * 3 / 2 {
            notes.push(
                "Memory use is well below its peak: the allocator may keep the difference for a while.".to_string(),
            );
        }
        if notes.is_empty() {
            notes.push("No memory problem found.".to_string());
        }
    }
    let text = notes.join("\n") + "\n";
    ctx.out.verbatim(text.as_bytes(), "txt");
}

fn malloc_stats(ctx: &mut Ctx, _: &[&[u8]]) {
    use tikv_jemalloc_ctl::{arenas, epoch, stats, version};
    let _ = epoch::advance();
    let mut text = String::from("Allocator statistics (bytes)\n");
    let _ = writeln!(text, "version: {}", version::read().unwrap_or("unknown"));
    let _ = writeln!(text, "arenas: {}", arenas::narenas::read().unwrap_or(0));
    type Read = fn() -> tikv_jemalloc_ctl::Result<usize>;
    let rows: [(&str, Read); 6] = [
        ("allocated", stats::allocated::read),
        ("active", stats::active::read),
        ("metadata", stats::metadata::read),
        ("resident", stats::resident::read),
        ("mapped", stats::mapped::read),
        ("retained", stats::retained::read),
    ];
    for (name, read) in rows {
        let _ = writeln!(text, "{name}: {}", read().unwrap_or(0));
    }
    ctx.out.verbatim(text.as_bytes(), "txt");
}

fn purge(ctx: &mut Ctx, _: &[&[u8]]) {
    // Asks every arena to return unused dirty pages; a failure only means
    // nothing was returned.
    // SAFETY: "arena.<all>.purge" takes no value.
    let _ = unsafe { tikv_jemalloc_ctl::raw::write(b"arena.4096.purge\0", ()) };
    ctx.out.ok();
}

fn help(ctx: &mut Ctx, _: &[&[u8]]) {
    help_reply(
        ctx,
        "MEMORY",
        &[
            "DOCTOR",
            "    A plain-language diagnosis of memory use.",
            "MALLOC-STATS",
            "    The allocator's own statistics report.",
            "PURGE",
            "    Ask the allocator to give unused pages back to the system.",
            "STATS",
            "    How memory is used, in figures.",
            "USAGE <key> [SAMPLES <count>]",
            "    Estimated bytes used by <key> and its value.",
        ],
    );
}
