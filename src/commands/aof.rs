//! The AOF policy: BGREWRITEAOF and automatic rewrites, switching the AOF
//! on and off at runtime, what a finished rewrite changes, the refusal of
//! writes after a failed write or sync (MISCONF), INFO's `aof_*` fields,
//! and the start-up steps around loading (finding the files, upgrading an
//! old single-file AOF, creating the first base and incremental file).
//!
//! Invariant: while the AOF is on, every write the server acknowledges is
//! in the current incremental file, or in a base the manifest names; a
//! rewrite's snapshot point and the switch to a new incremental file happen
//! at the same instant on the command thread, so no write is in both or
//! in neither.

use super::flags::*;
use super::table::Command;
use super::Ctx;
use crate::config::{AppendFsync, LogLevel};
use crate::persistence::aof::manifest::{self, FileEntry, FileKind, Manifest};
use crate::persistence::aof::writer::{Hooks, Policy};
use crate::persistence::aof::{self as aofmod, Found, RewriteJob, Status};
use crate::persistence::snapshot::{Background, Form};
use crate::state::{Action, State};
use std::path::{Path, PathBuf};

pub const COMMANDS: &[Command] = &[Command::new("bgrewriteaof", 1, ADMIN | NOSCRIPT, bgrewriteaof)];

/// Failed rewrites in a row after which automatic ones back off.
const BACKOFF_AFTER_FAILURES: u64 = 3;
/// Longest back-off between automatic rewrites after failures (minutes).
const BACKOFF_MINUTES_MAX: i64 = 60;

pub fn policy(f: AppendFsync) -> Policy {
    match f {
        AppendFsync::Always => Policy::Always,
        AppendFsync::Everysec => Policy::Everysec,
        AppendFsync::No => Policy::No,
    }
}

fn exit_now() {
    std::process::exit(1);
}

fn hooks(st: &State) -> Hooks {
    Hooks { log: st.logger, fatal: exit_now }
}

/// The AOF directory and file stem this configuration names.
fn locations(st: &State) -> (PathBuf, String) {
    (Path::new(&st.config.dir).join(&st.config.appenddirname), st.config.appendfilename.clone())
}

/// The MISCONF text when writes must be refused because the AOF cannot be
/// written or synced.
pub fn refusal(st: &State) -> Option<String> {
    if st.aof.status == Status::Off {
        return None;
    }
    let errno = st.aof.writer.as_ref()?.failure()?;
    Some(format!("MISCONF Errors writing to the AOF file: {}", crate::util::strerror(errno)))
}

fn bgrewriteaof(ctx: &mut Ctx, _: &[&[u8]]) {
    if ctx.st.aof.rewrite.is_some() {
        return ctx.err("ERR Background append only file rewriting already in progress");
    }
    if ctx.st.persist.bg.is_some() || ctx.st.call_depth > 1 {
        ctx.st.aof.rewrite_scheduled = true;
        return ctx.out.simple("Background append only file rewriting scheduled");
    }
    match start_rewrite(ctx.st) {
        Ok(()) => ctx.out.simple("Background append only file rewriting started"),
        Err(_) => {
            ctx.err("ERR Can't execute an AOF background rewriting. Please check the server logs for more information.")
        }
    }
}

/// Starts a rewrite: a new incremental file takes the writes from now on
/// (the snapshot point), and a background save writes the new base.
pub fn start_rewrite(st: &mut State) -> Result<(), String> {
    debug_assert!(st.persist.bg.is_none() && st.aof.rewrite.is_none());
    let r = begin_rewrite(st);
    if let Err(e) = &r {
        st.log(LogLevel::Warning, &format!("Can't rewrite the append only file in background: {e}"));
        rewrite_failed(st);
    }
    r
}

fn begin_rewrite(st: &mut State) -> Result<(), String> {
    let (dir, stem) = locations(st);
    st.aof.dir = dir;
    st.aof.stem = stem;
    st.aof
        .make_dir(Path::new(&st.config.dir))
        .map_err(|e| format!("can't create the AOF directory {}: {e}", st.aof.dir.display()))?;
    if let Some(w) = st.aof.hold_lock() {
        st.log(LogLevel::Warning, &w);
    }
    let now = st.now_ms();
    let keep_from_seq = match st.aof.status {
        Status::Off => st.aof.manifest.next_incr_seq(),
        Status::On => switch_incr(st, "on background rewrite")?,
        Status::WaitRewrite => {
            let seq = st.aof.manifest.next_incr_seq();
            let (entry, file) = st.aof.create_incr(seq).map_err(|e| format!("can't create the AOF incr file: {e}"))?;
            st.log(LogLevel::Notice, &format!("Creating AOF incr file {} on background rewrite", entry.name));
            st.aof.writer = None;
            st.aof.start_writer(file, 0, policy(st.config.appendfsync), hooks(st)).map_err(|e| e.to_string())?;
            st.prop.buf.clear();
            st.prop.reset_db();
            st.prop.enabled = true;
            seq
        }
    };
    let rdb = st.config.aof_use_rdb_preamble;
    let seq = st.aof.manifest.next_base_seq();
    let base = FileEntry { name: manifest::base_name(&st.aof.stem, seq, rdb), seq, kind: FileKind::Base };
    let mut spec = super::persist::save_spec(st);
    spec.path = st.aof.path(&base.name);
    spec.incremental_sync = st.config.aof_rewrite_incremental_fsync;
    spec.form = if rdb {
        Form::AofRdb
    } else {
        Form::AofCommands { timestamp_secs: st.config.aof_timestamp_enabled.then_some(now / 1000) }
    };
    let bg = Background::start(&mut st.keyspace, spec, now, st.persist.turn.clone())?;
    st.persist.bg = Some(bg);
    st.aof.rewrite = Some(RewriteJob { base, keep_from_seq, started_ms: now });
    st.aof.rewrite_scheduled = false;
    if st.config.no_appendfsync_on_rewrite {
        if let Some(w) = st.aof.writer.as_mut() {
            w.suspend_syncs(true);
        }
    }
    st.log(LogLevel::Notice, "Background append only file rewriting started");
    st.actions.push(Action::Bgsave);
    Ok(())
}

/// Moves the writes to a new incremental file named in the manifest at
/// once (the old one stays in it); returns the new file's sequence number.
fn switch_incr(st: &mut State, why: &str) -> Result<i64, String> {
    st.flush_writes();
    let seq = st.aof.manifest.next_incr_seq();
    let (entry, file) = st.aof.create_incr(seq).map_err(|e| format!("can't create the AOF incr file: {e}"))?;
    let mut m = st.aof.manifest.clone();
    m.incrs.push(entry.clone());
    if let Err(e) = st.aof.persist_manifest(&m) {
        let _ = st.aof.fs.remove(&st.aof.path(&entry.name));
        return Err(format!("can't persist the AOF manifest: {e}"));
    }
    st.log(LogLevel::Notice, &format!("Creating AOF incr file {} {why}", entry.name));
    st.aof.manifest = m;
    let w = st.aof.writer.as_mut().ok_or("the AOF writer is not running")?;
    st.aof.older_incr_bytes += w.file_bytes() + w.pending_bytes();
    w.rotate(file);
    st.prop.reset_db();
    Ok(seq)
}

fn rewrite_failed(st: &mut State) {
    let a = &mut st.aof;
    a.last_rewrite_ok = false;
    a.consecutive_failures += 1;
    a.last_failure_secs = st.clock.now_ms() / 1000;
    if a.status == Status::WaitRewrite {
        // Turning the AOF on goes on trying, from a fresh snapshot point:
        // the incremental file of this attempt is useless.
        if let Some(w) = a.writer.take() {
            let _ = w.close();
        }
        st.prop.enabled = false;
        a.rewrite_scheduled = true;
    }
}

/// Records how the rewrite in progress ended (the save driver calls it).
pub fn rewrite_done(st: &mut State, result: Result<u64, String>) {
    let Some(job) = st.aof.rewrite.take() else { return };
    let Some(bg) = st.persist.bg.take() else { return };
    st.keyspace.end_snapshot();
    if let Some(w) = st.aof.writer.as_mut() {
        w.suspend_syncs(false);
    }
    let now = st.now_ms();
    st.aof.last_rewrite_secs = (now - job.started_ms) / 1000;
    st.persist.last_aof_extra_bytes = bg.peak_bytes() as u64;
    let installed = result.and_then(|bytes| install(st, &job, bytes));
    match installed {
        Ok(()) => {
            let a = &mut st.aof;
            a.last_rewrite_ok = true;
            a.rewrites += 1;
            a.consecutive_failures = 0;
            a.backoff_minutes = 0;
            a.backoff_until_secs = 0;
            st.log(LogLevel::Notice, "Background AOF rewrite finished successfully");
        }
        Err(e) => {
            if st.aof.status == Status::WaitRewrite {
                let pending = st.aof.path(&manifest::incr_name(&st.aof.stem, job.keep_from_seq));
                let _ = st.aof.fs.remove(&pending);
            }
            let _ = st.aof.fs.remove(&st.aof.path(&job.base.name));
            st.log(LogLevel::Warning, &e);
            st.log(LogLevel::Warning, "Background AOF rewrite terminated with error");
            rewrite_failed(st);
        }
    }
}

/// Makes the new base part of the data set: the manifest names it, the
/// files it covers become history, and the history of all but the last
/// `aof-history-keep` rewrites is deleted.
fn install(st: &mut State, job: &RewriteJob, bytes: u64) -> Result<(), String> {
    st.log(LogLevel::Notice, "Background AOF rewrite terminated with success");
    let mut m = st.aof.manifest.clone();
    if st.aof.status == Status::WaitRewrite {
        m.incrs.push(FileEntry {
            name: manifest::incr_name(&st.aof.stem, job.keep_from_seq),
            seq: job.keep_from_seq,
            kind: FileKind::Incr,
        });
    }
    m.install_base(job.base.clone(), job.keep_from_seq);
    st.aof
        .persist_manifest(&m)
        .map_err(|e| format!("Error trying to persist the AOF manifest after a rewrite: {e}"))?;
    st.log(LogLevel::Notice, &format!("Successfully installed the new AOF base file {}", job.base.name));
    st.aof.manifest = m;
    st.aof.base_bytes = bytes;
    st.aof.older_incr_bytes = 0;
    if st.aof.status == Status::WaitRewrite {
        st.aof.status = Status::On;
        st.log(LogLevel::Notice, "AOF rewrite successful: the append only file is now on");
    }
    st.aof.rewrite_base_bytes = st.aof.current_bytes();
    history_gc(st);
    Ok(())
}

/// Deletes the history files beyond `aof-history-keep` in the background,
/// and drops them from the manifest once they are gone (see
/// `Aof::start_history_gc`). Called after each rewrite and periodically.
fn history_gc(st: &mut State) {
    if let Some(Err(e)) = st.aof.finish_history_gc() {
        // Still named as history on disk: gone already, which is fine.
        st.log(LogLevel::Warning, &format!("Can't persist the AOF manifest after deleting history files: {e}"));
    }
    if st.aof.status == Status::On && !st.config.aof_disable_auto_gc {
        let logger = st.logger;
        st.aof.start_history_gc(st.config.aof_history_keep as usize, &|m| logger(LogLevel::Notice, m));
    }
}

/// Abandons the rewrite in progress (SHUTDOWN, the AOF switched off).
pub fn kill_rewrite(st: &mut State, why: &str) {
    let Some(job) = st.aof.rewrite.take() else { return };
    if let Some(bg) = st.persist.bg.take() {
        bg.abort();
    }
    st.keyspace.end_snapshot();
    if let Some(w) = st.aof.writer.as_mut() {
        w.suspend_syncs(false);
    }
    let _ = st.aof.fs.remove(&st.aof.path(&job.base.name));
    st.log(LogLevel::Notice, why);
}

/// CONFIG SET appendonly yes: the first base is written in the background,
/// the AOF is on once it is installed.
pub fn start_append_only(st: &mut State) -> Result<(), String> {
    if st.aof.status != Status::Off {
        return Ok(());
    }
    st.aof.status = Status::WaitRewrite;
    if st.persist.bg.is_some() {
        st.aof.rewrite_scheduled = true;
        st.log(
            LogLevel::Notice,
            "AOF was enabled but there is already another background operation. An AOF background was scheduled to start when possible.",
        );
        return Ok(());
    }
    if let Err(e) = start_rewrite(st) {
        st.aof.status = Status::Off;
        st.aof.rewrite_scheduled = false;
        st.log(LogLevel::Warning, "The AOF can't be switched on: the background rewrite could not start. Check the above logs for more info about the error.");
        return Err(e);
    }
    Ok(())
}

/// CONFIG SET appendonly no: everything written is synced, the files stay.
pub fn stop_append_only(st: &mut State) {
    if st.aof.status == Status::Off {
        return;
    }
    kill_rewrite(st, "Killing running AOF rewrite child");
    st.aof.rewrite_scheduled = false;
    st.flush_writes();
    if let Some(w) = st.aof.writer.take() {
        if let Err(e) = w.close() {
            st.log(LogLevel::Warning, &format!("Error syncing the AOF file while switching it off: {e}"));
        }
    }
    st.aof.status = Status::Off;
    st.aof.lock = None;
    st.prop.enabled = false;
    st.prop.buf.clear();
}

/// Applies CONFIG SET changes of AOF settings.
pub fn config_changed(st: &mut State, changed: &[&str]) -> Result<(), String> {
    if changed.contains(&"appendfsync") {
        let p = policy(st.config.appendfsync);
        if let Some(w) = st.aof.writer.as_mut() {
            w.set_policy(p);
        }
    }
    if changed.contains(&"appendonly") {
        if st.config.appendonly {
            return start_append_only(st);
        }
        stop_append_only(st);
    }
    Ok(())
}

/// SHUTDOWN: a rewrite in progress is dropped, everything written synced.
pub fn shutdown(st: &mut State, force: bool) -> Result<(), String> {
    if st.aof.status == Status::Off {
        kill_rewrite(st, "There is a child rewriting the AOF. Killing it!");
        return Ok(());
    }
    if st.aof.rewrite.is_some() && st.aof.status == Status::WaitRewrite {
        if !force {
            st.log(LogLevel::Warning, "Writing initial AOF, can't exit.");
            return Err("Writing initial AOF".into());
        }
        st.log(LogLevel::Warning, "Writing initial AOF. Exit anyway.");
    }
    kill_rewrite(st, "There is a child rewriting the AOF. Killing it!");
    st.log(LogLevel::Notice, "Calling fsync() on the AOF file.");
    st.flush_writes();
    if let Some(w) = st.aof.writer.as_mut() {
        if let Err(e) = w.sync_all() {
            st.log(LogLevel::Warning, &format!("Fail to fsync the AOF file: {e}."));
        }
    }
    // History files being deleted leave the manifest before the server
    // goes (a deletion cut short leaves them to the next start).
    st.aof.wait_history_gc(std::time::Duration::from_secs(5));
    if let Some(Err(e)) = st.aof.finish_history_gc() {
        st.log(LogLevel::Warning, &format!("Can't persist the AOF manifest after deleting history files: {e}"));
    }
    Ok(())
}

/// Whether automatic rewrites are held back after repeated failures; the
/// delay doubles with each held attempt, up to an hour.
fn backed_off(st: &mut State, now_secs: i64) -> bool {
    let a = &mut st.aof;
    if a.consecutive_failures < BACKOFF_AFTER_FAILURES {
        a.backoff_minutes = 0;
        a.backoff_until_secs = 0;
        return false;
    }
    if a.backoff_until_secs != 0 {
        if now_secs < a.backoff_until_secs {
            return true;
        }
        a.backoff_until_secs = 0;
        return false;
    }
    a.backoff_minutes = if a.backoff_minutes == 0 { 1 } else { (a.backoff_minutes * 2).min(BACKOFF_MINUTES_MAX) };
    a.backoff_until_secs = now_secs + a.backoff_minutes * 60;
    let m = a.backoff_minutes;
    st.log(
        LogLevel::Warning,
        &format!("Background AOF rewrite has repeatedly failed and triggered the limit, will retry in {m} minutes"),
    );
    true
}

/// Whether `aof-flush-guard` holds automatic rewrites back: a rewrite now
/// would fold a recent FLUSHALL or FLUSHDB into an empty base and delete the
/// files that can undo it. Logged once per flush.
fn flush_guarded(st: &mut State, now_secs: i64) -> bool {
    let left = st.aof.flush_guard_left(st.config.aof_flush_guard, now_secs);
    if left > 0 && !st.aof.flush_guard_logged {
        st.aof.flush_guard_logged = true;
        let since = now_secs - st.aof.last_flush_secs.unwrap_or(now_secs);
        st.log(
            LogLevel::Notice,
            &format!(
                "Automatic AOF rewrite postponed for {left} seconds: a FLUSHALL or FLUSHDB ran {since} seconds ago and \
                 aof-flush-guard keeps the files that can undo it (BGREWRITEAOF still rewrites at once)"
            ),
        );
    }
    left > 0
}

/// The periodic part: a scheduled rewrite, or one the growth of the AOF
/// calls for.
pub fn cron(st: &mut State) {
    if st.loading {
        return;
    }
    history_gc(st);
    if st.persist.bg.is_some() {
        return;
    }
    let now_secs = st.now_ms() / 1000;
    if st.aof.rewrite_scheduled {
        if st.aof.status == Status::WaitRewrite || !backed_off(st, now_secs) {
            let _ = start_rewrite(st);
        }
        return;
    }
    let perc = st.config.auto_aof_rewrite_percentage as u64;
    if st.aof.status != Status::On || perc == 0 {
        return;
    }
    let current = st.aof.current_bytes();
    if current < st.config.auto_aof_rewrite_min_size {
        return;
    }
    let base = st.aof.rewrite_base_bytes.max(1);
    let growth = (current * 100 / base) as i64 - 100;
    if growth >= perc as i64 && !flush_guarded(st, now_secs) && !backed_off(st, now_secs) {
        st.log(LogLevel::Notice, &format!("Starting automatic rewriting of AOF on {growth}% growth"));
        let _ = start_rewrite(st);
    }
}

/// INFO persistence, the `aof_*` fields.
pub fn info(st: &State, out: &mut String) {
    use std::fmt::Write;
    let a = &st.aof;
    let now = st.now_ms();
    let current = a.rewrite.as_ref().map_or(-1, |j| (now - j.started_ms) / 1000);
    let write_ok = a.writer.as_ref().and_then(|w| w.failure()).is_none();
    let _ = write!(
        out,
        "aof_enabled:{}\r\naof_rewrite_in_progress:{}\r\naof_rewrite_scheduled:{}\r\naof_last_rewrite_time_sec:{}\r\n\
aof_current_rewrite_time_sec:{}\r\naof_last_bgrewrite_status:{}\r\naof_rewrites:{}\r\naof_rewrites_consecutive_failures:{}\r\n\
aof_last_write_status:{}\r\naof_last_cow_size:{}\r\nmodule_fork_in_progress:0\r\nmodule_fork_last_cow_size:0\r\n",
        u8::from(a.status != Status::Off),
        u8::from(a.rewrite.is_some()),
        u8::from(a.rewrite_scheduled),
        a.last_rewrite_secs,
        current,
        if a.last_rewrite_ok { "ok" } else { "err" },
        a.rewrites,
        a.consecutive_failures,
        if write_ok { "ok" } else { "err" },
        st.persist.last_aof_extra_bytes,
    );
    if a.status != Status::Off {
        let w = a.writer.as_ref();
        let _ = write!(
            out,
            "aof_current_size:{}\r\naof_base_size:{}\r\naof_pending_rewrite:{}\r\naof_buffer_length:{}\r\n\
aof_pending_bio_fsync:{}\r\naof_delayed_fsync:0\r\n",
            a.current_bytes(),
            a.rewrite_base_bytes,
            u8::from(a.rewrite_scheduled),
            w.map_or(0, |w| w.pending_bytes()),
            u8::from(w.is_some_and(|w| w.sync_running())),
        );
    }
    // Strata's own: how long automatic rewrites still wait after a flush.
    let left = a.flush_guard_left(st.config.aof_flush_guard, now / 1000);
    let _ = write!(
        out,
        "strata_aof_flush_guard_left_sec:{left}\r\nstrata_aof_history_files:{}\r\n",
        a.manifest.history.len()
    );
}

// ---------------------------------------------------------------------------
// Loading

/// Loads the AOF the manifest on disk names, in one go (DEBUG LOADAOF).
pub fn load_now(st: &mut State) -> Result<(), String> {
    let files = startup_files(st)?;
    let was_loading = std::mem::replace(&mut st.loading, true);
    let was_enabled = std::mem::replace(&mut st.prop.enabled, false);
    super::aof_load::hold_expiry(st, true);
    let r = (|| {
        let n = files.len();
        for (i, (path, name)) in files.iter().enumerate() {
            let bytes = std::fs::read(path).map_err(|e| format!("Can't read the AOF file {name}: {e}"))?;
            let mut fl = super::aof_load::FileLoad::new(st, &bytes, name)?;
            let end = loop {
                match fl.step(st, 1024) {
                    Ok(Some(end)) => break Ok(end),
                    Ok(None) => {}
                    Err(e) => break Err(e),
                }
            };
            fl.finish(st);
            if let super::aof_load::Ending::Cut { valid_up_to } = end? {
                super::aof_load::accept_cut(st, path, name, valid_up_to, i + 1 == n)?;
            }
        }
        Ok(())
    })();
    super::aof_load::hold_expiry(st, false);
    st.loading = was_loading;
    st.prop.enabled = was_enabled;
    st.prop.buf.clear();
    st.pending_ops.clear();
    r
}

// ---------------------------------------------------------------------------
// Start-up

/// The files to load at start-up with `appendonly yes`, in order (path,
/// name), after upgrading an old single-file AOF. Empty when there is no
/// AOF yet.
pub fn startup_files(st: &mut State) -> Result<Vec<(PathBuf, String)>, String> {
    let (dir, stem) = locations(st);
    st.aof.dir = dir.clone();
    st.aof.stem = stem.clone();
    let m = match aofmod::locate(Path::new(&st.config.dir), &dir, &stem)? {
        Found::Manifest(m) => m,
        Found::Legacy(path) => upgrade(st, &path)?,
        Found::Nothing => return Ok(Vec::new()),
    };
    // Redis writes the manifest before moving an old single file in: a
    // crash between the two leaves the base named but still in `dir`.
    if let Some(b) = m.base.as_ref().filter(|b| b.name == stem && !dir.join(&b.name).exists()) {
        let old = Path::new(&st.config.dir).join(&b.name);
        if old.is_file() {
            let fs = st.aof.fs.clone();
            fs.rename(&old, &dir.join(&b.name))
                .and_then(|()| fs.sync_dir(&dir))
                .map_err(|e| format!("Can't move {} into {}: {e}", old.display(), dir.display()))?;
            st.log(
                LogLevel::Notice,
                &format!("Finished moving the old-style AOF file {} into {}", b.name, dir.display()),
            );
        }
    }
    let mut files = Vec::new();
    for e in m.loading_order() {
        let p = dir.join(&e.name);
        if !p.is_file() {
            return Err(format!(
                "The AOF file {} named in the manifest doesn't exist (in {}). Restore it from a backup, or run aof-check on the manifest to see what is missing",
                e.name,
                dir.display()
            ));
        }
        files.push((p, e.name.clone()));
    }
    st.aof.manifest = m;
    Ok(files)
}

/// Moves an old single-file AOF into the AOF directory as its base and
/// writes the manifest naming it (as Redis 7.0 does at start-up).
fn upgrade(st: &mut State, legacy: &Path) -> Result<Manifest, String> {
    let dir = st.aof.dir.clone();
    let fs = st.aof.fs.clone();
    fs.create_dir(&dir).map_err(|e| format!("Can't create the AOF directory {}: {e}", dir.display()))?;
    let target = dir.join(&st.aof.stem);
    if legacy != target {
        fs.rename(legacy, &target)
            .map_err(|e| format!("Can't move {} into {}: {e}", legacy.display(), dir.display()))?;
        fs.sync_dir(&dir).and_then(|()| fs.sync_dir(Path::new(&st.config.dir))).map_err(|e| e.to_string())?;
    }
    let m = Manifest {
        base: Some(FileEntry { name: st.aof.stem.clone(), seq: 1, kind: FileKind::Base }),
        ..Default::default()
    };
    st.aof.persist_manifest(&m).map_err(|e| format!("Can't write the AOF manifest: {e}"))?;
    st.log(
        LogLevel::Notice,
        &format!(
            "Successfully migrated an old-style AOF file ({}) into the AOF directory ({}).",
            st.aof.stem, st.config.appenddirname
        ),
    );
    Ok(m)
}

/// After loading (or finding nothing): makes sure there is a base and a
/// current incremental file named in the manifest, opens the writer on the
/// latter and deletes history files.
pub fn open_at_startup(st: &mut State) -> Result<(), String> {
    let fs = st.aof.fs.clone();
    let dir = st.aof.dir.clone();
    st.aof
        .make_dir(Path::new(&st.config.dir))
        .map_err(|e| format!("Can't create the AOF directory {}: {e}", dir.display()))?;
    if let Some(w) = st.aof.hold_lock() {
        st.log(LogLevel::Warning, &w);
    }
    let mut m = st.aof.manifest.clone();
    let mut changed = false;
    if m.base.is_none() && m.incrs.is_empty() {
        let rdb = st.config.aof_use_rdb_preamble;
        let seq = m.next_base_seq();
        let base = FileEntry { name: manifest::base_name(&st.aof.stem, seq, rdb), seq, kind: FileKind::Base };
        let mut spec = super::persist::save_spec(st);
        spec.path = dir.join(&base.name);
        spec.incremental_sync = st.config.aof_rewrite_incremental_fsync;
        spec.form = if rdb {
            Form::AofRdb
        } else {
            Form::AofCommands { timestamp_secs: st.config.aof_timestamp_enabled.then_some(st.now_ms() / 1000) }
        };
        crate::persistence::snapshot::save(&st.keyspace, &spec)?;
        st.log(LogLevel::Notice, &format!("Creating AOF base file {} on server start", base.name));
        m.base = Some(base);
        changed = true;
    }
    let (file, file_bytes) = match m.incrs.last() {
        Some(last) => {
            let p = dir.join(&last.name);
            let f = fs.open_append(&p).map_err(|e| format!("Can't open the append-only file {}: {e}", last.name))?;
            let n = f.len().map_err(|e| e.to_string())?;
            st.log(LogLevel::Notice, &format!("Opening AOF incr file {} on server start", last.name));
            (f, n)
        }
        None => {
            let seq = m.next_incr_seq();
            let (entry, f) = st.aof.create_incr(seq).map_err(|e| format!("Can't create the AOF incr file: {e}"))?;
            st.log(LogLevel::Notice, &format!("Creating AOF incr file {} on server start", entry.name));
            m.incrs.push(entry);
            changed = true;
            (f, 0)
        }
    };
    if changed {
        st.aof.persist_manifest(&m).map_err(|e| format!("Can't write the AOF manifest: {e}"))?;
    }
    st.aof.manifest = m;
    // Sizes: every file named, the current one counted by the writer.
    let size = |e: &FileEntry| std::fs::metadata(dir.join(&e.name)).map_or(0, |md| md.len());
    st.aof.base_bytes = st.aof.manifest.base.as_ref().map_or(0, size);
    let incrs = &st.aof.manifest.incrs;
    st.aof.older_incr_bytes = incrs[..incrs.len().saturating_sub(1)].iter().map(size).sum();
    st.aof.start_writer(file, file_bytes, policy(st.config.appendfsync), hooks(st)).map_err(|e| e.to_string())?;
    st.aof.rewrite_base_bytes = st.aof.current_bytes();
    st.aof.status = Status::On;
    st.prop.enabled = true;
    st.prop.reset_db();
    history_gc(st);
    Ok(())
}
