//! The periodic task, `hz` times a second: active expiry with a bounded time
//! budget, incremental rehashing, and housekeeping. Each run holds the state
//! for at most about a quarter of its period.

use super::SharedRef;
use crate::commands::collect_side_effects;
use crate::state::State;
use std::time::{Duration, Instant};

/// Keys sampled per database per expiry step.
const EXPIRE_SAMPLES: usize = 20;
/// Repeat a database's step while more than this percentage was expired.
const EXPIRE_STALE_PERCENT: usize = 10;
/// Share of each period active expiry may use, percent.
const EXPIRE_TIME_PERCENT: u64 = 25;
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
        if st.active_expire && !st.loading {
            active_expire(
                &mut st,
                Duration::from_micros(1_000_000 * EXPIRE_TIME_PERCENT / 100 / hz),
            );
        }
        rehash(&mut st);
        expire_pause(&mut st, &shared);
        collect_side_effects(&mut st);
        if !st.pending_ops.is_empty() {
            let ops = std::mem::take(&mut st.pending_ops);
            st.prop.emit(&ops);
        }
        sample_ops(&mut st);
    }
}

fn active_expire(st: &mut State, budget: Duration) {
    let start = Instant::now();
    let now = st.now_ms();
    let ndb = st.keyspace.dbs.len();
    for i in 0..ndb {
        loop {
            let (sampled, expired) = st.keyspace.dbs[i].active_expire_step(now, EXPIRE_SAMPLES);
            if sampled == 0
                || expired * 100 / sampled <= EXPIRE_STALE_PERCENT
                || start.elapsed() > budget
            {
                break;
            }
        }
        if start.elapsed() > budget {
            break;
        }
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
