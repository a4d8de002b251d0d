//! SAVE, BGSAVE and LASTSAVE, and the saving policy around them: the
//! `save` rules, scheduled saves, what a finished or failed background save
//! changes, and the refusal of writes after a failed save
//! (`stop-writes-on-bgsave-error`).
//!
//! Invariant: at most one background save is in progress
//! (`Persist::bg`); `dirty` only goes down by what a successful save
//! covered.

use super::flags::*;
use super::table::Command;
use super::Ctx;
use crate::config::Config;
use crate::config::{LogLevel, MaxmemoryPolicy};
use crate::persistence::load::{load_all, Note};
use crate::persistence::rdb::{Limits, LoadOptions, SaveOptions};
use crate::persistence::snapshot::{self, Background, Purpose, RecencyRule, SaveSpec};
use crate::state::{Action, State};
use crate::util::eq_ic;

pub const COMMANDS: &[Command] = &[
    Command::new("save", 1, ADMIN | NOSCRIPT | NO_MULTI, save),
    Command::new("bgsave", -1, ADMIN | NOSCRIPT, bgsave),
    Command::new("lastsave", 1, LOADING | STALE | FAST, lastsave),
];

/// A failed background save is retried by the save rules only after this
/// many seconds.
const BGSAVE_RETRY_DELAY_SECS: i64 = 5;

pub const MISCONF: &str = "MISCONF Redis is configured to save RDB snapshots, but it's currently unable to persist to disk. Commands that may modify the data set are disabled, because this instance is configured to report errors during writes if RDB snapshotting fails (stop-writes-on-bgsave-error option). Please check the Redis logs for details about the RDB error.";

const IN_PROGRESS: &str = "ERR Background save already in progress";

/// Where and how a save now would write.
pub fn save_spec(st: &State) -> SaveSpec {
    let c = &st.config;
    let now = st.now_ms();
    let recency = match c.maxmemory_policy {
        MaxmemoryPolicy::AllkeysLru | MaxmemoryPolicy::VolatileLru => RecencyRule::Lru(now),
        MaxmemoryPolicy::AllkeysLfu | MaxmemoryPolicy::VolatileLfu => RecencyRule::Lfu,
        _ => RecencyRule::None,
    };
    SaveSpec {
        path: std::path::Path::new(&c.dir).join(&c.dbfilename),
        form: snapshot::Form::Snapshot,
        fs: st.aof.fs.clone(),
        opts: SaveOptions { compression: c.rdbcompression, checksum: c.rdbchecksum },
        recency,
        redis_ver: crate::REDIS_VERSION.to_string(),
        ctime_secs: now / 1000,
        used_mem: super::info::alloc_stats().allocated,
        key_delay_us: c.rdb_key_save_delay,
        incremental_sync: c.rdb_save_incremental_fsync,
    }
}

/// How this configuration reads snapshots, and whether IDLE records set
/// access clocks (an LRU policy).
pub fn load_options(c: &Config) -> (LoadOptions, bool) {
    let opts = LoadOptions {
        limits: Limits::from_config(c),
        deep: c.sanitize_dump_payload == "yes",
        verify_checksum: c.rdbchecksum,
        build_values: true,
    };
    let lru = matches!(c.maxmemory_policy, MaxmemoryPolicy::AllkeysLru | MaxmemoryPolicy::VolatileLru);
    (opts, lru)
}

/// Loads `dir/dbfilename` into the keyspace in one go (DEBUG RELOAD);
/// `merge` lets its keys replace existing ones.
pub fn load_file(st: &mut State, merge: bool) -> Result<(), String> {
    let path = std::path::Path::new(&st.config.dir).join(&st.config.dbfilename);
    let bytes = std::fs::read(&path).map_err(|e| format!("Error reading {}: {e}", path.display()))?;
    let (opts, lru) = load_options(&st.config);
    let now = st.now_ms();
    let logger = st.logger;
    let mut note = |n: Note| match n {
        Note::Notice(m) => logger(LogLevel::Notice, &m),
        Note::Warning(m) => logger(LogLevel::Warning, &m),
    };
    let stats = load_all(&mut st.keyspace, &bytes, opts, now, lru, merge, &mut note)?;
    st.persist.last_load = stats;
    Ok(())
}

/// A foreground save (SAVE, SHUTDOWN, FLUSHALL, DEBUG RELOAD): on success
/// the changes count restarts and LASTSAVE moves.
pub fn save_now(st: &mut State) -> Result<(), String> {
    let spec = save_spec(st);
    match snapshot::save(&st.keyspace, &spec) {
        Ok(_) => {
            st.log(LogLevel::Notice, "DB saved on disk");
            st.dirty = 0;
            st.lastsave = st.now_ms() / 1000;
            st.persist.last_bgsave_ok = true;
            st.persist.saves += 1;
            Ok(())
        }
        Err(e) => {
            st.log(LogLevel::Warning, &e);
            Err(e)
        }
    }
}

/// Starts a background save; the network layer drives it (`Action::Bgsave`).
pub fn start_background(st: &mut State) -> Result<(), String> {
    debug_assert!(st.persist.bg.is_none());
    let spec = save_spec(st);
    let now = st.now_ms();
    st.persist.last_bgsave_try_secs = now / 1000;
    match Background::start(&mut st.keyspace, spec, now, st.persist.turn.clone()) {
        Ok(bg) => {
            st.persist.bg = Some(bg);
            st.persist.bg_scheduled = false;
            st.persist.dirty_at_bg_start = st.dirty;
            st.log(LogLevel::Notice, "Background saving started");
            st.actions.push(Action::Bgsave);
            Ok(())
        }
        Err(e) => {
            st.persist.last_bgsave_ok = false;
            st.log(LogLevel::Warning, &format!("Can't save in background: {e}"));
            Err(e)
        }
    }
}

/// Records how the background save in progress ended (a snapshot, or the
/// base of an AOF rewrite).
pub fn background_done(st: &mut State, result: Result<u64, String>) {
    if st.persist.bg.as_ref().is_some_and(|b| b.purpose == Purpose::AofRewrite) {
        return super::aof::rewrite_done(st, result);
    }
    let Some(bg) = st.persist.bg.take() else { return };
    st.keyspace.end_snapshot();
    let now = st.now_ms();
    let p = &mut st.persist;
    p.last_bgsave_secs = (now - bg.started_ms) / 1000;
    p.last_extra_bytes = bg.peak_bytes() as u64;
    match result {
        Ok(_) => {
            p.last_bgsave_ok = true;
            p.saves += 1;
            st.dirty = st.dirty.saturating_sub(st.persist.dirty_at_bg_start);
            st.lastsave = now / 1000;
            st.log(LogLevel::Notice, "Background saving terminated with success");
        }
        Err(e) => {
            p.last_bgsave_ok = false;
            st.log(LogLevel::Warning, &e);
            st.log(LogLevel::Warning, "Background saving error");
        }
    }
}

/// Stops the background snapshot in progress, if any, without counting it
/// as a failure (as a killed save child is not): FLUSHALL, SHUTDOWN. An
/// AOF rewrite goes on (its base is the data set before the flush).
pub fn abort_background(st: &mut State, why: &str) {
    if st.persist.snapshot_running() {
        let Some(bg) = st.persist.bg.take() else { return };
        bg.abort();
        st.keyspace.end_snapshot();
        st.log(LogLevel::Notice, why);
    }
}

/// The periodic part: a scheduled BGSAVE, or one the `save` rules call
/// for (enough changes in enough time, and not too soon after a failure).
pub fn cron(st: &mut State) {
    if st.persist.bg.is_some() || st.loading {
        return;
    }
    if st.persist.bg_scheduled {
        let _ = start_background(st);
        return;
    }
    let now = st.now_ms() / 1000;
    let since_save = now - st.lastsave;
    let retry_ok = st.persist.last_bgsave_ok || now - st.persist.last_bgsave_try_secs > BGSAVE_RETRY_DELAY_SECS;
    let due = st
        .config
        .save_params
        .iter()
        .find(|&&(secs, changes)| st.dirty >= changes && since_save > secs.min(i64::MAX as u64) as i64 && retry_ok);
    if let Some(&(secs, changes)) = due {
        st.log(LogLevel::Notice, &format!("{changes} changes in {secs} seconds. Saving..."));
        let _ = start_background(st);
    }
}

/// Whether writes are refused because the last save failed.
#[inline]
pub fn writes_refused(st: &State) -> bool {
    !st.persist.last_bgsave_ok && st.config.stop_writes_on_bgsave_error && !st.config.save_params.is_empty()
}

fn save(ctx: &mut Ctx, _: &[&[u8]]) {
    if ctx.st.persist.snapshot_running() {
        return ctx.err(IN_PROGRESS);
    }
    match save_now(ctx.st) {
        Ok(()) => ctx.out.ok(),
        Err(_) => ctx.err("ERR"),
    }
}

/// BGSAVE [SCHEDULE]. Inside MULTI/EXEC it is scheduled for the periodic
/// task rather than started, as Redis does.
fn bgsave(ctx: &mut Ctx, args: &[&[u8]]) {
    match args {
        [_] => {}
        [_, opt] if eq_ic(opt, b"schedule") => {}
        _ => return ctx.syntax(),
    }
    let schedule = args.len() == 2;
    if ctx.st.persist.snapshot_running() {
        return ctx.err(IN_PROGRESS);
    }
    if ctx.st.persist.bg.is_some() {
        if !schedule {
            return ctx.err("ERR Another child process is active (AOF?): can't BGSAVE right now. Use BGSAVE SCHEDULE in order to schedule a BGSAVE whenever possible.");
        }
        ctx.st.persist.bg_scheduled = true;
        return ctx.out.simple("Background saving scheduled");
    }
    if ctx.st.call_depth > 1 {
        ctx.st.persist.bg_scheduled = true;
        return ctx.out.simple("Background saving scheduled");
    }
    match start_background(ctx.st) {
        Ok(()) => ctx.out.simple("Background saving started"),
        Err(_) => ctx.err("ERR"),
    }
}

fn lastsave(ctx: &mut Ctx, _: &[&[u8]]) {
    ctx.out.int(ctx.st.lastsave);
}
