//! The periodic task, `hz` times a second: active expiry with a bounded time
//! budget, incremental rehashing, and housekeeping. Each run holds the state
//! for at most about a quarter of its period.
//!
//! Invariant: one expiry cycle looks at no more than
//! `EXPIRE_MAX_SAMPLED_PER_CYCLE` keys, give or take one step's overshoot
//! (the keys of the last scan position it visits).

use super::SharedRef;
use crate::commands::collect_side_effects;
use crate::state::State;
use std::time::{Duration, Instant};

/// Keys looked at per database per expiry step.
const EXPIRE_SAMPLES: usize = 20;
/// Repeat a database's step while more than this percentage was expired.
const EXPIRE_STALE_PERCENT: usize = 10;
/// Share of each period active expiry may use, percent.
const EXPIRE_TIME_PERCENT: u64 = 25;
/// Most keys one expiry cycle looks at, whatever the clock says: with a
/// million keys expiring at once a tick still does bounded work (at the
/// default hz that is over 600k keys a second).
pub const EXPIRE_MAX_SAMPLED_PER_CYCLE: usize = 1 << 16;
/// Expiry steps between handing deletions on (see `hand_on_deletions`).
const HAND_ON_STEPS: usize = 16;
/// Time spent rehashing per period, per database dict.
const REHASH_BUDGET: Duration = Duration::from_micros(1000);

pub async fn run(shared: SharedRef) {
    loop {
        let hz = shared.state.borrow().config.hz.clamp(1, 500) as u64;
        tokio::time::sleep(Duration::from_millis(1000 / hz)).await;
        let mut st = shared.state.borrow_mut();
        if st.shutting_down {
            return;
        }
        expire_tick(&mut st);
        rehash(&mut st);
        expire_pause(&mut st, &shared);
        collect_side_effects(&mut st);
        if !st.pending_ops.is_empty() {
            let ops = std::mem::take(&mut st.pending_ops);
            st.prop.emit(&ops);
        }
        sample_ops(&mut st);
        crate::commands::persist::cron(&mut st);
        crate::commands::aof::cron(&mut st);
        st.flush_writes();
        super::conn::handle_actions(&shared, &mut st);
    }
}

/// What one active-expiry cycle did.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct ExpireCycle {
    /// Keys with an expiry looked at, across databases.
    pub sampled: usize,
    /// Keys deleted because they had expired.
    pub expired: usize,
    /// Steps (samples of up to `EXPIRE_SAMPLES` keys) taken.
    pub steps: usize,
    /// The cycle stopped on its time budget or its key cap.
    pub capped: bool,
}

/// The active-expiry part of one tick of the periodic task: an expiry
/// cycle with a quarter of the tick as budget, when active expiry is on and
/// clients are not paused.
pub fn expire_tick(st: &mut State) -> ExpireCycle {
    let pause = st.pause.map(|p| p.until_ms);
    st.keyspace.pause_expiry(pause);
    let paused = pause.is_some_and(|until| st.now_ms() < until);
    if !st.active_expire || st.loading || paused {
        return ExpireCycle::default();
    }
    let hz = st.config.hz.clamp(1, 500) as u64;
    active_expire_cycle(st, Duration::from_micros(1_000_000 * EXPIRE_TIME_PERCENT / 100 / hz))
}

/// Deletes expired keys that nobody looks up: each database in turn (from
/// where the last cycle stopped) is sampled in steps, and a database is
/// stepped again while more than `EXPIRE_STALE_PERCENT` of a step's sample
/// had expired. The cycle ends after `budget` or `EXPIRE_MAX_SAMPLED_PER_CYCLE`
/// keys, whichever comes first. The deletions' DELs and `expired` events
/// are sent on as the cycle goes, so the budget covers them too.
pub fn active_expire_cycle(st: &mut State, budget: Duration) -> ExpireCycle {
    let start = Instant::now();
    let now = st.now_ms();
    let mut cycle = ExpireCycle::default();
    let ndb = st.keyspace.dbs.len();
    'dbs: for _ in 0..ndb {
        let i = st.keyspace.expire_next_db % ndb;
        st.keyspace.expire_next_db = (i + 1) % ndb;
        loop {
            let step = st.keyspace.dbs[i].active_expire_step(now, EXPIRE_SAMPLES);
            cycle.steps += 1;
            cycle.sampled += step.sampled;
            cycle.expired += step.expired;
            if cycle.steps % HAND_ON_STEPS == 0 {
                hand_on_deletions(st);
            }
            if cycle.sampled + EXPIRE_SAMPLES > EXPIRE_MAX_SAMPLED_PER_CYCLE || start.elapsed() > budget {
                cycle.capped = true;
                break 'dbs;
            }
            if step.sampled == 0 || step.expired * 100 / step.sampled <= EXPIRE_STALE_PERCENT {
                break;
            }
        }
    }
    hand_on_deletions(st);
    if cycle.sampled > 0 {
        let perc = cycle.expired as f64 / cycle.sampled as f64;
        st.stats.expired_stale_perc = perc * 0.05 + st.stats.expired_stale_perc * 0.95;
    }
    cycle
}

/// Sends on the deletions made so far: `expired` events and one DEL per
/// key (UNLINK with `lazyfree-lazy-expire`), each a command of its own
/// rather than one transaction.
fn hand_on_deletions(st: &mut State) {
    collect_side_effects(st);
    let unlink = st.config.lazyfree_lazy_expire;
    for mut op in std::mem::take(&mut st.pending_ops) {
        if unlink && op.args.first().is_some_and(|a| a == b"DEL") {
            op.args[0] = b"UNLINK".to_vec();
        }
        st.prop.emit(std::slice::from_ref(&op));
    }
}

fn rehash(st: &mut State) {
    for db in st.keyspace.dbs.iter_mut() {
        for_dict(&mut db.dict);
        for_dict(&mut db.expires);
    }
}

fn for_dict<T: crate::keyspace::dict::Keyed>(d: &mut crate::keyspace::Dict<T>) {
    d.resize_if_sparse();
    if d.is_rehashing() {
        let start = Instant::now();
        while d.rehash(100) && start.elapsed() < REHASH_BUDGET {}
    }
}

fn expire_pause(st: &mut State, shared: &SharedRef) {
    if let Some(p) = st.pause {
        if st.now_ms() >= p.until_ms {
            st.pause = None;
            shared.unpause.notify_waiters();
        }
    }
}

fn sample_ops(st: &mut State) {
    let now = st.now_ms();
    let total = st.stats.total_commands_processed;
    st.stats.ops_samples.push((now, total));
    if st.stats.ops_samples.len() > 16 {
        st.stats.ops_samples.remove(0);
    }
}
