//! Pins active expiry's bound: a million keys expiring at the same moment
//! are all deleted by successive ticks of the periodic task, and no tick
//! looks at more than a fixed number of keys, so the server never stalls.
//! Durations are printed, never asserted.

use std::time::{Duration, Instant};
use strata::config::Config;
use strata::keyspace::Value;
use strata::server::cron::{expire_tick, EXPIRE_MAX_SAMPLED_PER_CYCLE};
use strata::state::{Clock, State};

const T0: i64 = 1_700_000_000_000;
/// What one step may look at beyond its sample: the rest of the last scan
/// position it visits (a chain, or the buckets a position spans while the
/// table is resized).
const STEP_OVERSHOOT_MAX: usize = 4096;

/// The periodic task's housekeeping after expiry: shrink sparse tables and
/// rehash a little.
fn housekeeping(st: &mut State) {
    for db in st.keyspace.dbs.iter_mut() {
        db.dict.resize_if_sparse();
        db.expires.resize_if_sparse();
        db.dict.rehash(1000);
        db.expires.rehash(1000);
    }
}

#[test]
fn a_million_keys_expiring_at_once_are_deleted_in_bounded_ticks() {
    const N: usize = 1_000_000;
    let mut st = State::new(Config::default());
    st.clock = Clock::Manual(T0);
    let db = &mut st.keyspace.dbs[0];
    for i in 0..N {
        let k = format!("key:{i}");
        db.add(k.as_bytes(), Value::Int(i as i64), T0);
        db.set_expire(k.as_bytes(), T0 + 1_000);
    }
    // Keys that must survive: no expiry, and an expiry far ahead.
    for i in 0..1_000 {
        db.add(format!("keep:{i}").as_bytes(), Value::Int(i), T0);
        let k = format!("later:{i}");
        db.add(k.as_bytes(), Value::Int(i), T0);
        db.set_expire(k.as_bytes(), T0 + 3_600_000);
    }
    st.clock = Clock::Manual(T0 + 2_000);

    let (mut ticks, mut sampled_max, mut slowest) = (0usize, 0usize, Duration::ZERO);
    let started = Instant::now();
    while st.keyspace.dbs[0].len() > 2_000 {
        let t = Instant::now();
        let cycle = expire_tick(&mut st);
        slowest = slowest.max(t.elapsed());
        housekeeping(&mut st);
        assert!(
            cycle.sampled <= EXPIRE_MAX_SAMPLED_PER_CYCLE + STEP_OVERSHOOT_MAX,
            "tick {ticks} looked at {} keys",
            cycle.sampled
        );
        sampled_max = sampled_max.max(cycle.sampled);
        ticks += 1;
        assert!(ticks < 200_000, "active expiry makes no progress");
    }
    eprintln!(
        "1M keys expired in {ticks} ticks, {:?} in all; at most {sampled_max} keys looked at \
         and {slowest:?} spent in one tick",
        started.elapsed()
    );
    assert!(ticks >= N / (EXPIRE_MAX_SAMPLED_PER_CYCLE + STEP_OVERSHOOT_MAX));
    let db = &st.keyspace.dbs[0];
    assert_eq!(db.len(), 2_000);
    assert_eq!(db.expires.len(), 1_000);
    assert!(db.peek(b"keep:999").is_some() && db.peek(b"later:999").is_some());
    assert_eq!(st.stats.expired_keys, N as u64);
    assert!(db.expired.is_empty(), "every deletion was handed on");
}

#[test]
fn active_expiry_switched_off_deletes_nothing() {
    let mut st = State::new(Config::default());
    st.clock = Clock::Manual(T0);
    let db = &mut st.keyspace.dbs[3];
    for i in 0..100 {
        let k = format!("k{i}");
        db.add(k.as_bytes(), Value::Int(i), T0);
        db.set_expire(k.as_bytes(), T0 + 10);
    }
    st.clock = Clock::Manual(T0 + 100);
    st.active_expire = false;
    assert_eq!(expire_tick(&mut st).sampled, 0);
    assert_eq!(st.keyspace.dbs[3].len(), 100);
    st.active_expire = true;
    while st.keyspace.dbs[3].len() > 0 {
        expire_tick(&mut st);
    }
    assert_eq!(st.stats.expired_keys, 100);
}

#[test]
fn keys_not_yet_due_are_kept_and_feed_the_average_ttl() {
    let mut st = State::new(Config::default());
    st.clock = Clock::Manual(T0);
    let db = &mut st.keyspace.dbs[0];
    for i in 0..1_000 {
        let k = format!("k{i}");
        db.add(k.as_bytes(), Value::Int(i), T0);
        db.set_expire(k.as_bytes(), T0 + 60_000);
    }
    for _ in 0..10 {
        let cycle = expire_tick(&mut st);
        assert_eq!(cycle.expired, 0);
    }
    let db = &st.keyspace.dbs[0];
    assert_eq!(db.len(), 1_000);
    assert_eq!(db.avg_ttl, 60_000);
}
