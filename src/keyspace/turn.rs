//! Whose turn it is to touch the keyspace: the command thread's, except
//! while it is parked with nothing to do, when a background save's encoder
//! may take a turn to walk the snapshot (the copying a fork's child would
//! do). The command thread gives the turn up just before its runtime
//! parks and takes it back as soon as it wakes, before any task runs; a
//! thread holding the turn checks `wanted` every few keys and hands it
//! back at once. So the walk uses the time the command thread would spend
//! asleep, on another core; a busy server's command thread walks itself
//! (server/persist.rs, `WhoWalks`).

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::Instant;

/// How long the command thread spins for the turn before it sleeps until
/// the walker hands it back: a walker notices within a few microseconds,
/// and waking a sleeping thread takes tens on a virtual machine.
const SPIN_NS: u64 = 20_000;

/// A wait for the turn longer than this means a walker lost its core while
/// holding it.
const SLOW_TAKE_NS: u64 = 500_000;

pub struct Turn {
    /// Someone holds the turn: the command thread, or a walker.
    held: AtomicBool,
    /// The command thread is waiting for the turn.
    want: AtomicBool,
    /// The command thread, to wake when a walker hands the turn back.
    commands: std::thread::Thread,
    /// Clock origin of the two fields below.
    origin: Instant,
    /// When the command thread last parked (ns since `origin`).
    parked_at: AtomicU64,
    /// Time the command thread spent parked, in all (ns).
    idle_ns: AtomicU64,
    /// Times the command thread waited longer than `SLOW_TAKE_NS` for a
    /// walker to give the turn back.
    slow_takes: AtomicU64,
}

impl Default for Turn {
    fn default() -> Self {
        Self::new()
    }
}

impl Turn {
    /// A turn held by the command thread (the caller), as it is whenever
    /// the runtime is not parked.
    pub fn new() -> Self {
        Turn {
            held: AtomicBool::new(true),
            want: AtomicBool::new(false),
            commands: std::thread::current(),
            origin: Instant::now(),
            parked_at: AtomicU64::new(0),
            idle_ns: AtomicU64::new(0),
            slow_takes: AtomicU64::new(0),
        }
    }

    fn now_ns(&self) -> u64 {
        self.origin.elapsed().as_nanos() as u64
    }

    /// Time the command thread has spent parked so far (ns), and the times
    /// it had to wait long for the turn: what tells whether walkers help
    /// (it idles) or hinder (it waits for them).
    pub fn idle_and_slow_takes(&self) -> (u64, u64) {
        (self.idle_ns.load(Ordering::Relaxed), self.slow_takes.load(Ordering::Relaxed))
    }

    /// The command thread's side, just before its runtime parks.
    pub fn release_to_idle(&self) {
        self.parked_at.store(self.now_ns(), Ordering::Relaxed);
        self.held.store(false, Ordering::SeqCst);
    }

    /// The command thread's side, when its runtime wakes: takes the turn
    /// back, waiting (asleep, so that a walker sharing its core can run)
    /// for a walker to finish the keys in hand: a few microseconds.
    pub fn take_for_commands(&self) {
        let woke = self.now_ns();
        self.idle_ns.fetch_add(woke.saturating_sub(self.parked_at.load(Ordering::Relaxed)), Ordering::Relaxed);
        self.want.store(true, Ordering::SeqCst);
        let mut spins = 0u32;
        let mut sleep = false;
        while self.held.compare_exchange(false, true, Ordering::SeqCst, Ordering::Relaxed).is_err() {
            spins += 1;
            if !sleep && spins % 64 == 0 {
                sleep = self.now_ns() - woke > SPIN_NS;
            }
            if sleep {
                // Woken by the walker's `release` (or at once, if it came
                // first).
                std::thread::park();
            } else {
                std::hint::spin_loop();
            }
        }
        self.want.store(false, Ordering::Relaxed);
        if spins > 0 && self.now_ns() - woke > SLOW_TAKE_NS {
            self.slow_takes.fetch_add(1, Ordering::Relaxed);
        }
    }

    /// A walker's side: takes the turn if the command thread is parked and
    /// not waking.
    pub fn try_take(&self) -> bool {
        !self.want.load(Ordering::SeqCst)
            && self.held.compare_exchange(false, true, Ordering::Acquire, Ordering::Relaxed).is_ok()
    }

    /// A walker's side: the command thread woke up and waits for the turn.
    pub fn wanted(&self) -> bool {
        self.want.load(Ordering::Relaxed)
    }

    /// A walker's side: gives the turn back, and the core too when the
    /// command thread waits for the turn (it may wait on this very core).
    pub fn release(&self) {
        self.held.store(false, Ordering::SeqCst);
        if self.want.load(Ordering::SeqCst) {
            self.commands.unpark();
            std::thread::yield_now();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::AtomicU64;
    use std::sync::Arc;

    #[test]
    fn a_walker_gets_the_turn_only_while_the_command_thread_is_idle() {
        let t = Turn::new();
        assert!(!t.try_take(), "the command thread holds it from the start");
        t.release_to_idle();
        assert!(t.try_take());
        assert!(!t.try_take(), "one holder at a time");
        t.release();
        t.take_for_commands();
        assert!(!t.try_take());
    }

    #[test]
    fn holders_never_overlap() {
        // A counter changed non-atomically by both sides: any overlap of
        // two holders would lose increments.
        let turn = Arc::new(Turn::new());
        let count = Arc::new(AtomicU64::new(0));
        let bump = |c: &AtomicU64| {
            let v = c.load(Ordering::Relaxed);
            std::hint::spin_loop();
            c.store(v + 1, Ordering::Relaxed);
        };
        let stop = Arc::new(AtomicBool::new(false));
        let walker = {
            let (turn, count, stop) = (turn.clone(), count.clone(), stop.clone());
            std::thread::spawn(move || {
                let mut mine = 0u64;
                while !stop.load(Ordering::Relaxed) {
                    if turn.try_take() {
                        while !turn.wanted() && mine % 64 != 63 {
                            bump(&count);
                            mine += 1;
                        }
                        bump(&count);
                        mine += 1;
                        turn.release();
                    }
                }
                mine
            })
        };
        let mut ours = 0u64;
        let deadline = Instant::now() + std::time::Duration::from_secs(20);
        let mut rounds = 0;
        // At least 20,000 rounds, and on until the walker had a turn (on a
        // loaded machine it may not run at first).
        while rounds < 20_000 || (count.load(Ordering::Relaxed) == ours && Instant::now() < deadline) {
            rounds += 1;
            for _ in 0..3 {
                bump(&count);
                ours += 1;
            }
            turn.release_to_idle();
            if ours % 300 == 0 {
                // An idle moment long enough for the walker to notice.
                std::thread::sleep(std::time::Duration::from_micros(20));
            }
            turn.take_for_commands();
        }
        stop.store(true, Ordering::Relaxed);
        turn.release_to_idle();
        let theirs = walker.join().unwrap();
        assert_eq!(count.load(Ordering::Relaxed), ours + theirs);
        assert!(theirs > 0, "the walker got some turns");
    }
}
