//! The network layer's part in persistence: driving a background save in
//! small steps between other clients' commands, and loading the snapshot
//! at start-up while clients that connect are told `-LOADING`.
//!
//! Invariant: the state is borrowed only for one step (5 µs of a save's
//! work, 10-25 µs with the keys between two looks at the clock; a
//! millisecond of a load's), never across an await, so no client
//! waits longer than a step for a save or a load to let it in.

use super::{log, SharedRef};
use crate::commands::persist::background_done;
use crate::persistence::load::{Loader, Note};
use crate::persistence::snapshot::key_delay_us;
use crate::persistence::status::LoadProgress;
use std::rc::Rc;
use std::sync::mpsc::TryRecvError;
use std::time::{Duration, Instant};

/// Work done per step before letting other tasks run: short, since a
/// client whose request arrives meanwhile waits for the step to end.
const STEP_TIME: Duration = Duration::from_micros(5);
/// Keys saved (or records loaded) between two looks at the clock. Every
/// 4 keys made a save's steps 5-8 µs instead of 10-25, with no gain a
/// paced client could measure, but a rewrite under 50 saturating clients
/// (one step per round of ready clients) took 6.4-8.0 s instead of 5.1-5.5.
const STEP_KEYS: usize = 16;
/// Work done per step of the start-up load: clients only get `-LOADING`
/// meanwhile, so steps are longer and the load spends less on switching.
const LOAD_STEP_TIME: Duration = Duration::from_millis(1);
/// How often the finished save polls the writer thread.
const POLL: Duration = Duration::from_millis(1);

/// Walks the background save that was just started to its end, then
/// waits for its file to be committed and records the outcome. Stops
/// early if the save is abandoned (FLUSHALL, SHUTDOWN) or replaced. When
/// the encoder can walk too, `WhoWalks` decides which thread does.
pub async fn drive_bgsave(shared: SharedRef) {
    let Some(mine) = shared.state.borrow().persist.bg.as_ref().map(|b| b.sink.clone()) else { return };
    let ours = |st: &crate::state::State| st.persist.bg.as_ref().is_some_and(|b| Rc::ptr_eq(&b.sink, &mine));
    let mut owed_us = 0u64;
    let mut who = WhoWalks::new(seen(&shared.state.borrow()));
    loop {
        let pause = {
            let mut st = shared.state.borrow_mut();
            if !ours(&st) {
                return;
            }
            let throttled = st.persist.bg.as_ref().is_some_and(|b| b.throttled());
            let delay = st.config.rdb_key_save_delay;
            let leave_it = match st.persist.bg.as_ref() {
                Some(b) if b.encoder_may_walk() => {
                    let yes = who.encoder_walks(seen(&st));
                    b.invite_encoder(yes);
                    yes
                }
                _ => false,
            };
            let done = if throttled {
                false
            } else if leave_it {
                // Nothing is walked with a budget of none: this only asks
                // whether the walk is over.
                let d = st.keyspace.snapshot_step(0);
                if !d {
                    drop(st);
                    tokio::time::sleep(POLL).await;
                    continue;
                }
                d
            } else if delay != 0 {
                let d = st.keyspace.snapshot_step(1);
                owed_us += key_delay_us(delay, st.rng.next_u64());
                d
            } else {
                offer_cpu();
                let start = Instant::now();
                loop {
                    let d = st.keyspace.snapshot_step(STEP_KEYS);
                    if d || start.elapsed() >= STEP_TIME {
                        break d;
                    }
                }
            };
            if done {
                let finished = st.persist.bg.as_ref().map(|b| b.finish()).unwrap_or(Ok(()));
                // Every key is saved: the databases need not report changes.
                st.keyspace.end_snapshot();
                if let Err(e) = finished {
                    return background_done(&mut st, Err(e));
                }
                break;
            }
            if throttled {
                Some(Duration::from_millis(1))
            } else if owed_us >= 1000 {
                let ms = owed_us / 1000;
                owed_us %= 1000;
                Some(Duration::from_millis(ms))
            } else {
                None
            }
        };
        match pause {
            Some(d) => tokio::time::sleep(d).await,
            // A yielded task is woken only after the runtime has polled the
            // sockets and run every task they woke: each client with a
            // request waiting gets its turn between two steps, and an idle
            // server goes straight on with the walk.
            None => tokio::task::yield_now().await,
        }
    }
    loop {
        tokio::time::sleep(POLL).await;
        let mut st = shared.state.borrow_mut();
        if !ours(&st) {
            return;
        }
        let verdict = match st.persist.bg.as_ref().and_then(|b| b.done.as_ref()).map(|rx| rx.try_recv()) {
            Some(Ok(r)) => r,
            Some(Err(TryRecvError::Empty)) => continue,
            _ => Err("Background saving error: the writer thread stopped".into()),
        };
        return background_done(&mut st, verdict);
    }
}

/// Share of the time parked above which this thread leaves a save's walk
/// to the encoder (percent), while the encoder walks.
const IDLE_PERCENT: u64 = 50;
/// Commands a millisecond below which this thread leaves the walk to the
/// encoder, while it walks itself (and so seldom parks).
const IDLE_COMMANDS_PER_MS: u64 = 20;
/// Keys the encoder must walk in a millisecond to keep the walk (it walks
/// 200-300 with the encoding of the copies in between).
const ENCODER_KEYS_PER_MS: u64 = 32;
/// How long this thread keeps the walk after it had to wait for a walker
/// that had lost its core while holding the turn.
const AFTER_SLOW_TAKE: Duration = Duration::from_millis(100);

/// Which thread walks a save the encoder can walk too. The encoder walks
/// only while this thread is parked: right for a server with time to
/// spare, as it takes the copying off this thread. A server kept busy by
/// its clients parks seldom and briefly: a walker's turns would be short,
/// and one that lost its core to a client process while holding the turn
/// would hold this thread up; so it walks itself, between commands. Judged
/// every millisecond or more: the walk goes to the encoder after one with
/// fewer than `IDLE_COMMANDS_PER_MS` commands, and comes back after one in
/// which this thread was parked less than `IDLE_PERCENT` of the time or
/// the encoder walked fewer than `ENCODER_KEYS_PER_MS` keys; and this
/// thread keeps it for `AFTER_SLOW_TAKE` after it had to wait for a
/// walker. Quiet must last two looks: on a machine whose cores are all
/// busy, this thread may lose its core for a millisecond or more, and the
/// first look after shows few commands then. With no command at all, both
/// threads work: this one walks and the encoder encodes, side by side,
/// and the save ends sooner.
struct WhoWalks {
    encoder: bool,
    since: Instant,
    seen: Seen,
    not_before: Instant,
    /// Looks in a row without commands to speak of.
    quiet: u32,
}

/// The counters `WhoWalks` goes by, as of one look.
#[derive(Clone, Copy, Default)]
struct Seen {
    /// Commands run.
    commands: u64,
    /// Time this thread spent parked, ns, and its slow takes of the turn
    /// (`Turn::idle_and_slow_takes`).
    idle_ns: u64,
    slow_takes: u64,
    /// Keys the encoder walked.
    walked: u64,
}

impl WhoWalks {
    fn new(seen: Seen) -> Self {
        let now = Instant::now();
        WhoWalks { encoder: false, since: now, seen, not_before: now, quiet: 0 }
    }

    /// Whether the encoder walks now.
    fn encoder_walks(&mut self, seen: Seen) -> bool {
        let elapsed = self.since.elapsed();
        if elapsed < POLL {
            return self.encoder;
        }
        let now = Instant::now();
        let ns = (elapsed.as_nanos() as u64).max(1);
        let last = self.seen;
        if seen.slow_takes != last.slow_takes {
            self.not_before = now + AFTER_SLOW_TAKE;
        }
        // Counters can only grow, except the commands (CONFIG RESETSTAT).
        let was = self.encoder;
        let commands = seen.commands.saturating_sub(last.commands);
        let quiet = commands > 0 && commands * 1_000_000 / ns < IDLE_COMMANDS_PER_MS;
        self.quiet = if quiet { self.quiet + 1 } else { 0 };
        self.encoder = now >= self.not_before
            && commands > 0
            && if self.encoder {
                seen.idle_ns.saturating_sub(last.idle_ns) * 100 / ns > IDLE_PERCENT
                    && seen.walked.saturating_sub(last.walked) * 1_000_000 / ns >= ENCODER_KEYS_PER_MS
            } else {
                self.quiet >= 2
            };
        if was && !self.encoder {
            // Taken back: two more quiet looks before the encoder again.
            self.quiet = 0;
        }
        (self.since, self.seen) = (now, seen);
        self.encoder
    }
}

fn seen(st: &crate::state::State) -> Seen {
    let (idle_ns, slow_takes) = st.persist.turn.as_ref().map_or((0, 0), |t| t.idle_and_slow_takes());
    let walked = st.persist.bg.as_ref().map_or(0, |b| b.encoder_walked_keys());
    Seen { commands: st.stats.total_commands_processed, idle_ns, slow_takes, walked }
}

/// Lets any thread waiting for this core run before the next step of a
/// walk. A walk keeps the command thread busy without ever blocking, and the
/// scheduler lets a busy thread finish its time slice (a millisecond or
/// more) before a woken one (a client on this machine, say) gets the core:
/// on a machine with few cores, where the encoder thread keeps another core
/// busy, that put a millisecond or two on other clients' replies. The call
/// returns at once when nothing else wants the core.
fn offer_cpu() {
    // SAFETY: a system call without arguments; it cannot fail.
    unsafe {
        libc::sched_yield();
    }
}

fn note(n: Note) {
    match n {
        Note::Notice(m) => log::notice(&m),
        Note::Warning(m) => log::warning(&m),
    }
}

/// Loads the data set before the server says it is ready; clients
/// connecting meanwhile get `-LOADING`. With `appendonly yes` the AOF is
/// the data set (the snapshot only when there is no AOF yet, so switching
/// the AOF on never starts from nothing), then its files are opened for
/// appending. An unreadable or damaged file is an error: the server must
/// not start without its data.
pub async fn load_at_startup(shared: &SharedRef) -> Result<(), String> {
    if !shared.state.borrow().config.appendonly {
        return load_snapshot(shared).await;
    }
    let files = crate::commands::aof::startup_files(&mut shared.state.borrow_mut())?;
    if files.is_empty() {
        load_snapshot(shared).await?;
    } else {
        load_aof(shared, &files).await?;
    }
    crate::commands::aof::open_at_startup(&mut shared.state.borrow_mut())
}

/// Loads the files of the AOF in order, in steps.
async fn load_aof(shared: &SharedRef, files: &[(std::path::PathBuf, String)]) -> Result<(), String> {
    let started = Instant::now();
    let mut maps = Vec::with_capacity(files.len());
    let mut total = 0u64;
    for (path, name) in files {
        let f = std::fs::File::open(path)
            .map_err(|e| format!("Fatal error: can't open the append only file {name}: {e}"))?;
        let len = f.metadata().map(|m| m.len()).unwrap_or(0);
        total += len;
        // SAFETY: read only; the AOF files are ours, and only ever appended
        // to or truncated by this process, after the load.
        let map = if len == 0 {
            None
        } else {
            Some(unsafe { memmap2::Mmap::map(&f) }.map_err(|e| format!("Fatal error: can't map {name}: {e}"))?)
        };
        maps.push(map);
    }
    {
        let mut st = shared.state.borrow_mut();
        let now = st.now_ms();
        st.loading = true;
        st.persist.loading =
            Some(LoadProgress { start_secs: now / 1000, total_bytes: total, start_ms: now, ..Default::default() });
        crate::commands::aof_load::hold_expiry(&mut st, true);
    }
    let result = load_aof_files(shared, files, &maps).await;
    let mut st = shared.state.borrow_mut();
    crate::commands::aof_load::hold_expiry(&mut st, false);
    st.loading = false;
    st.persist.loading = None;
    st.prop.buf.clear();
    st.pending_ops.clear();
    result?;
    // The replayed commands count as changes (as in Redis) but are no
    // client's calls.
    st.stats.reset();
    log::notice(&format!("DB loaded from append only file: {:.3} seconds", started.elapsed().as_secs_f64()));
    Ok(())
}

async fn load_aof_files(
    shared: &SharedRef,
    files: &[(std::path::PathBuf, String)],
    maps: &[Option<memmap2::Mmap>],
) -> Result<(), String> {
    use crate::commands::aof_load::{accept_cut, Ending, FileLoad};
    let mut done_bytes = 0u64;
    let has_base = shared.state.borrow().aof.manifest.base.is_some();
    for (i, ((path, name), map)) in files.iter().zip(maps).enumerate() {
        let started = Instant::now();
        let bytes: &[u8] = map.as_deref().unwrap_or(&[]);
        let kind = if i == 0 && has_base { "base" } else { "incr" };
        let mut fl = FileLoad::new(&mut shared.state.borrow_mut(), bytes, name)?;
        let ending = loop {
            {
                let mut st = shared.state.borrow_mut();
                let start = Instant::now();
                let step = loop {
                    match fl.step(&mut st, STEP_KEYS) {
                        Ok(None) if start.elapsed() < LOAD_STEP_TIME => continue,
                        r => break r,
                    }
                };
                if let Some(p) = st.persist.loading.as_mut() {
                    p.loaded_bytes = done_bytes + fl.offset() as u64;
                }
                match step {
                    Ok(None) => {}
                    Ok(Some(end)) => {
                        fl.finish(&mut st);
                        break end;
                    }
                    Err(e) => {
                        fl.finish(&mut st);
                        return Err(e);
                    }
                }
            }
            tokio::task::yield_now().await;
        };
        if let Ending::Cut { valid_up_to } = ending {
            accept_cut(&shared.state.borrow(), path, name, valid_up_to, i + 1 == files.len())?;
        }
        done_bytes += bytes.len() as u64;
        log::notice(&format!("DB loaded from {kind} file {name}: {:.3} seconds", started.elapsed().as_secs_f64()));
    }
    Ok(())
}

/// Loads `dir/dbfilename` if it exists.
async fn load_snapshot(shared: &SharedRef) -> Result<(), String> {
    let (path, opts, dbs, lru) = {
        let st = shared.state.borrow();
        let c = &st.config;
        let (opts, lru) = crate::commands::persist::load_options(c);
        (std::path::Path::new(&c.dir).join(&c.dbfilename), opts, c.databases, lru)
    };
    let file = match std::fs::File::open(&path) {
        Ok(f) => f,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
        Err(e) => return Err(format!("Fatal error loading the DB ({}): {e}. Exiting.", path.display())),
    };
    let len = file.metadata().map(|m| m.len()).unwrap_or(0);
    if len == 0 {
        return Err(format!("Short read loading the DB ({}): the file is empty. Exiting.", path.display()));
    }
    // SAFETY: the map is read only; the file is ours (the data directory)
    // and is replaced only by rename, which leaves this mapping intact.
    let map = unsafe { memmap2::Mmap::map(&file) }
        .map_err(|e| format!("Fatal error loading the DB ({}): {e}. Exiting.", path.display()))?;
    let started = Instant::now();
    let mut loader = {
        let mut st = shared.state.borrow_mut();
        let now = st.now_ms();
        st.loading = true;
        st.persist.loading =
            Some(LoadProgress { start_secs: now / 1000, total_bytes: len, start_ms: now, ..Default::default() });
        Loader::new(&map, opts, dbs, now, lru).map_err(|e| format!("{e} ({})", path.display()))?
    };
    let mut owed_us = 0u64;
    loop {
        let pause = {
            let mut st = shared.state.borrow_mut();
            let delay = st.config.key_load_delay;
            let step = if delay != 0 {
                owed_us += key_delay_us(delay, st.rng.next_u64());
                loader.step(&mut st.keyspace, 1, &mut note)
            } else {
                let start = Instant::now();
                loop {
                    match loader.step(&mut st.keyspace, STEP_KEYS, &mut note) {
                        Ok(false) if start.elapsed() < LOAD_STEP_TIME => continue,
                        r => break r,
                    }
                }
            };
            let offset = loader.offset() as u64;
            if let Some(p) = st.persist.loading.as_mut() {
                p.loaded_bytes = offset;
                p.rdb_used_mem = loader.stats().used_mem.unwrap_or(0);
            }
            match step {
                Err(e) => {
                    st.loading = false;
                    st.persist.loading = None;
                    return Err(format!(
                        "Short read or damaged data loading the DB ({}): {e}. Unrecoverable error, aborting now.",
                        path.display()
                    ));
                }
                Ok(true) => {
                    st.loading = false;
                    st.persist.loading = None;
                    let stats = loader.stats().clone();
                    log::notice(&format!(
                        "Done loading RDB, keys loaded: {}, keys expired: {}.",
                        stats.keys_loaded, stats.keys_expired
                    ));
                    log::notice(&format!("DB loaded from disk: {:.3} seconds", started.elapsed().as_secs_f64()));
                    st.persist.last_load = stats;
                    return Ok(());
                }
                Ok(false) if owed_us >= 1000 => {
                    let ms = owed_us / 1000;
                    owed_us %= 1000;
                    Some(Duration::from_millis(ms))
                }
                Ok(false) => None,
            }
        };
        match pause {
            Some(d) => tokio::time::sleep(d).await,
            None => tokio::task::yield_now().await,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// One judgement, a millisecond or more after the last: `commands`,
    /// parked time and walked keys are none, one, or far more than the
    /// window could hold, so the verdicts do not hang on the sleep.
    fn judge(who: &mut WhoWalks, seen: &mut Seen, commands: u64, idle: bool, keys: bool, slow: u64) -> bool {
        std::thread::sleep(Duration::from_millis(2));
        seen.commands += commands;
        seen.idle_ns += if idle { 60_000_000_000 } else { 0 };
        seen.walked += if keys { 1_000_000 } else { 0 };
        seen.slow_takes = slow;
        who.encoder_walks(*seen)
    }

    const BUSY: u64 = 1_000_000;

    #[test]
    fn the_walk_goes_to_the_encoder_only_while_the_command_thread_idles_and_it_keeps_up() {
        let mut s = Seen::default();
        let mut who = WhoWalks::new(s);
        assert!(!who.encoder_walks(s), "the command thread starts");
        assert!(!judge(&mut who, &mut s, BUSY, false, false, 0), "clients keep it busy: it keeps the walk");
        assert!(!judge(&mut who, &mut s, 1, false, false, 0), "one quiet look is not enough");
        assert!(judge(&mut who, &mut s, 1, false, false, 0), "two: the encoder gets it");
        assert!(judge(&mut who, &mut s, 1, true, true, 0), "and keeps it while this thread parks");
        assert!(!judge(&mut who, &mut s, 1, true, false, 0), "an encoder walking nothing loses it");
        assert!(!judge(&mut who, &mut s, 1, false, false, 0));
        assert!(judge(&mut who, &mut s, 1, false, false, 0));
        assert!(!judge(&mut who, &mut s, BUSY, false, true, 0), "this thread parked little: back");
        assert!(!judge(&mut who, &mut s, 1, false, false, 0));
        assert!(judge(&mut who, &mut s, 1, false, false, 0));
        assert!(!judge(&mut who, &mut s, 0, true, true, 0), "no client at all: both threads work");
        assert!(!judge(&mut who, &mut s, 0, false, false, 0));
        assert!(!judge(&mut who, &mut s, 1, false, false, 0));
        assert!(judge(&mut who, &mut s, 1, false, false, 0));
        // A long wait for a walker: this thread keeps the walk for a while.
        assert!(!judge(&mut who, &mut s, 1, true, true, 1));
        assert!(!judge(&mut who, &mut s, 1, false, false, 1));
        assert!(!judge(&mut who, &mut s, 1, false, false, 1));
        std::thread::sleep(AFTER_SLOW_TAKE);
        assert!(judge(&mut who, &mut s, 1, false, false, 1), "until the pause is over");
    }
}
