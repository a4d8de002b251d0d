//! LATENCY: the latency monitor (events whose duration reached
//! `latency-monitor-threshold` ms, one sample per second per event) and the
//! per-command latency histograms (`latency-tracking`).

use super::{help_reply, ADMIN_CMD};
use crate::commands::flags::*;
use crate::commands::info::bucket_usec;
use crate::commands::table::{all_commands, Command};
use crate::commands::Ctx;
use crate::state::{CmdStat, LatencyEvent, State, LATENCY_HISTORY_LEN};
use std::fmt::Write;

pub const SUBS: &[Command] = &[
    Command::new("latency|latest", 2, ADMIN_CMD, latest),
    Command::new("latency|history", 3, ADMIN_CMD, history),
    Command::new("latency|reset", -2, ADMIN_CMD, reset),
    Command::new("latency|graph", 3, ADMIN_CMD, graph),
    Command::new("latency|doctor", 2, ADMIN_CMD, doctor),
    Command::new("latency|histogram", -2, ADMIN_CMD, histogram),
    Command::new("latency|help", 2, LOADING | STALE, help),
];

/// Records `ms` for `event` now (the caller checked the threshold).
pub fn add_sample(st: &mut State, event: &'static str, ms: u64) {
    let now = st.clock.now_ms() / 1000;
    let e = st.latency_events.entry(event).or_default();
    e.max = e.max.max(ms);
    if let Some(last) = e.samples.back_mut() {
        if last.0 == now {
            last.1 = last.1.max(ms);
            return;
        }
    }
    e.samples.push_back((now, ms));
    if e.samples.len() > LATENCY_HISTORY_LEN {
        e.samples.pop_front();
    }
}

fn sorted_events(st: &State) -> Vec<(&'static str, &LatencyEvent)> {
    let mut v: Vec<(&'static str, &LatencyEvent)> = st.latency_events.iter().map(|(k, v)| (*k, v)).collect();
    v.sort_by_key(|(k, _)| *k);
    v
}

fn latest(ctx: &mut Ctx, _: &[&[u8]]) {
    let events = sorted_events(ctx.st);
    let rows: Vec<(&str, i64, u64, u64)> =
        events.iter().filter_map(|(name, e)| e.samples.back().map(|&(t, ms)| (*name, t, ms, e.max))).collect();
    ctx.out.array(rows.len());
    for (name, t, ms, max) in rows {
        ctx.out.array(4);
        ctx.out.bulk(name.as_bytes());
        ctx.out.int(t);
        ctx.out.int(ms as i64);
        ctx.out.int(max as i64);
    }
}

fn find<'a>(st: &'a State, name: &[u8]) -> Option<&'a LatencyEvent> {
    st.latency_events.iter().find(|(k, _)| k.as_bytes() == name).map(|(_, v)| v)
}

fn history(ctx: &mut Ctx, args: &[&[u8]]) {
    let samples: Vec<(i64, u64)> =
        find(ctx.st, args[2]).map(|e| e.samples.iter().copied().collect()).unwrap_or_default();
    ctx.out.array(samples.len());
    for (t, ms) in samples {
        ctx.out.array(2);
        ctx.out.int(t);
        ctx.out.int(ms as i64);
    }
}

fn reset(ctx: &mut Ctx, args: &[&[u8]]) {
    let n = if args.len() == 2 {
        let n = ctx.st.latency_events.len();
        ctx.st.latency_events.clear();
        n
    } else {
        let mut n = 0;
        for a in &args[2..] {
            let key = ctx.st.latency_events.keys().find(|k| k.as_bytes() == *a).copied();
            if let Some(k) = key {
                ctx.st.latency_events.remove(k);
                n += 1;
            }
        }
        n
    };
    ctx.out.int(n as i64);
}

/// A small chart of an event's samples: one column per sample, '#' marks
/// up to the sample's height relative to the highest one.
fn graph(ctx: &mut Ctx, args: &[&[u8]]) {
    let name = String::from_utf8_lossy(args[2]).into_owned();
    let Some(e) = find(ctx.st, args[2]).filter(|e| !e.samples.is_empty()) else {
        let msg = format!("ERR No samples available for event '{name}'");
        return ctx.err(&msg);
    };
    const ROWS: u64 = 4;
    let high = e.samples.iter().map(|s| s.1).max().unwrap_or(0);
    let low = e.samples.iter().map(|s| s.1).min().unwrap_or(0);
    let mut text = format!("{name} - high {high} ms, low {low} ms (all time high {} ms)\n", e.max);
    text.push_str(&"-".repeat(80));
    text.push('\n');
    let cols: Vec<&(i64, u64)> = e.samples.iter().rev().take(80).collect::<Vec<_>>().into_iter().rev().collect();
    for row in (1..=ROWS).rev() {
        let line: String =
            cols.iter().map(|&&(_, ms)| if high > 0 && ms * ROWS >= row * high { '#' } else { ' ' }).collect();
        let _ = writeln!(text, "{}", line.trim_end());
    }
    let now = ctx.st.clock.now_ms() / 1000;
    let ages: Vec<String> = cols.iter().map(|&&(t, _)| format!("{}s", (now - t).max(0))).collect();
    let _ = writeln!(text, "sample ages: {}", ages.join(" "));
    ctx.out.verbatim(text.as_bytes(), "txt");
}

fn doctor(ctx: &mut Ctx, _: &[&[u8]]) {
    let threshold = ctx.st.config.latency_monitor_threshold;
    let mut text = String::new();
    if threshold == 0 {
        text.push_str(
            "The latency monitor is off: no event is recorded. Turn it on with \
             'CONFIG SET latency-monitor-threshold <milliseconds>'.\n",
        );
    } else if ctx.st.latency_events.is_empty() {
        let _ = writeln!(text, "No event reached the {threshold} ms threshold so far.");
    } else {
        let _ = writeln!(text, "Events that reached the {threshold} ms threshold:\n");
        for (i, (name, e)) in sorted_events(ctx.st).iter().enumerate() {
            let n = e.samples.len() as u64;
            let avg = e.samples.iter().map(|s| s.1).sum::<u64>() / n.max(1);
            let _ = writeln!(text, "{}. {name}: {n} samples, average {avg} ms, highest ever {} ms.", i + 1, e.max);
        }
        let slower = ctx.st.config.slowlog_log_slower_than;
        text.push_str("\nSLOWLOG GET lists the slow calls themselves");
        if slower < 0 || slower as u64 > threshold * 1000 {
            let _ = write!(text, " (set slowlog-log-slower-than to {} or less to see them all)", threshold * 1000);
        }
        text.push_str(".\n");
    }
    ctx.out.verbatim(text.as_bytes(), "txt");
}

fn write_histogram(ctx: &mut Ctx, name: &str, s: &CmdStat) {
    ctx.out.bulk(name.as_bytes());
    ctx.out.map(2);
    ctx.out.bulk(b"calls");
    ctx.out.int(s.histogram_calls() as i64);
    ctx.out.bulk(b"histogram_usec");
    let used: Vec<(usize, u64)> = s.histogram.iter().copied().enumerate().filter(|&(_, n)| n > 0).collect();
    ctx.out.map(used.len());
    let mut total = 0;
    for (i, n) in used {
        total += n;
        ctx.out.int(bucket_usec(i) as i64);
        ctx.out.int(total as i64);
    }
}

fn histogram(ctx: &mut Ctx, args: &[&[u8]]) {
    let mut names: Vec<&'static str> = Vec::new();
    let with_data = |st: &State, n: &str| st.stats.commands.get(n).is_some_and(|s| s.histogram_calls() > 0);
    let add = |c: &'static Command, names: &mut Vec<&'static str>| {
        if with_data(ctx.st, c.name) {
            names.push(c.name);
        }
        for s in c.subcommands {
            if with_data(ctx.st, s.name) {
                names.push(s.name);
            }
        }
    };
    if args.len() == 2 {
        for c in all_commands() {
            add(c, &mut names);
        }
    } else {
        for a in &args[2..] {
            let lower = String::from_utf8_lossy(a).to_ascii_lowercase();
            let (parent, sub) = match lower.split_once('|') {
                Some((p, s)) => (p.to_string(), Some(s.to_string())),
                None => (lower.clone(), None),
            };
            let Some(c) = all_commands().find(|c| c.name == parent) else {
                continue;
            };
            match sub {
                None => add(c, &mut names),
                Some(_) => {
                    if let Some(s) = c.subcommands.iter().find(|s| s.name == lower) {
                        if with_data(ctx.st, s.name) {
                            names.push(s.name);
                        }
                    }
                }
            }
        }
    }
    ctx.out.map(names.len());
    for n in names {
        let s = ctx.st.stats.commands.get(n).cloned().unwrap_or_default();
        write_histogram(ctx, n, &s);
    }
}

fn help(ctx: &mut Ctx, _: &[&[u8]]) {
    help_reply(
        ctx,
        "LATENCY",
        &[
            "DOCTOR",
            "    A plain-language report on the recorded events.",
            "GRAPH <event>",
            "    A text chart of the samples of <event>.",
            "HISTORY <event>",
            "    The samples of <event>: Unix time and latency in ms.",
            "LATEST",
            "    The latest sample and the highest ever of every event.",
            "RESET [<event> ...]",
            "    Forget the samples of the given events (of all without names).",
            "HISTOGRAM [<command> ...]",
            "    Per-command latency distributions, cumulative, in microseconds",
            "    (all commands with calls when none is named).",
        ],
    );
}
