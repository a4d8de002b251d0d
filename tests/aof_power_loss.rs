//! What the AOF leaves after a power loss or a process crash at any single file operation: with `appendfsync always` no acknowledged write is lost, with `everysec` none acknowledged more than two seconds (or one completed sync) earlier, with `no` the server still starts, the AOF directory a first start makes survives, and every step of a BGREWRITEAOF leaves a directory that loads exactly the acknowledged data, in Strata and in Redis 7.0.15.
//!
//! The server under test runs in this process on a recording file layer
//! (tests/support/recording_fs.rs); each cut point's directory is rebuilt in
//! a fresh temporary directory and started with the release binary. A
//! failure names the seed (`AOF_POWER_SEED` replays it), the cut, the mode,
//! what was expected and what came back; `AOF_POWER_LOG=1` prints each
//! recorded operation log.

mod support;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Child;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{mpsc, Arc, Mutex, OnceLock};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};
use strata::persistence::aof::fs::FileLayer;
use support::proc::{spawn_serving, Rng};
use support::recording_fs::{describe_tree, write_tree, Entry, Mode, Op, RecordingFs};
use support::{reference_binary, Conn, Frame};

/// Servers checking cut points at once.
const WORKERS: usize = 3;
/// Cut points drawn when a log has more operations than this.
const SAMPLE: usize = 200;
/// How long before a power loss an `everysec` write may still be lost.
const EVERYSEC_WINDOW: Duration = Duration::from_secs(2);

/// The base seed: `AOF_POWER_SEED`, else a fixed one.
fn base_seed() -> u64 {
    std::env::var("AOF_POWER_SEED").ok().and_then(|s| s.parse().ok()).unwrap_or(0x5eed_a0f0)
}

/// Each test its own stream from the base seed, so one seed replays them all.
fn seed_for(test: &str) -> u64 {
    test.bytes().fold(base_seed(), |h, b| h.rotate_left(7) ^ u64::from(b))
}

fn strata_binary() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_strata-server"))
}

fn text(f: &Frame) -> String {
    String::from_utf8_lossy(&f.bytes()).into_owned()
}

fn int_reply(f: &Frame) -> Option<i64> {
    (f.kind() == b':').then(|| std::str::from_utf8(f.payload()).ok()?.parse().ok()).flatten()
}

/// The in-process servers of this binary log to one file, not to the
/// test's stdout.
fn init_log() {
    static ONCE: OnceLock<()> = OnceLock::new();
    ONCE.get_or_init(|| {
        let path = Path::new(env!("CARGO_TARGET_TMPDIR")).join("aof_power_loss-server.log");
        let _ = std::fs::remove_file(&path);
        strata::server::log::init(&path.to_string_lossy(), strata::config::LogLevel::Notice);
    });
}

// ---------------------------------------------------------------------------
// The recorded server, in this process

struct InProcess {
    port: u16,
    thread: Option<JoinHandle<Result<i32, String>>>,
}

impl InProcess {
    /// Starts the server on `rec` (its root is `dir`) with `extra` directives.
    fn start(rec: &Arc<RecordingFs>, extra: &[&str]) -> InProcess {
        init_log();
        let mut last = String::new();
        for _ in 0..5 {
            let port = support::free_port();
            let mut args: Vec<String> = ["--port", &port.to_string(), "--bind", "127.0.0.1", "--save", ""]
                .iter()
                .map(|s| s.to_string())
                .collect();
            args.extend(["--enable-debug-command", "yes", "--dir"].map(String::from));
            args.push(rec.root().to_string_lossy().into_owned());
            args.extend(extra.iter().map(|s| s.to_string()));
            let config = strata::config::Config::from_args(&args).unwrap_or_else(|e| panic!("config {args:?}: {e}"));
            let fs: Arc<dyn FileLayer> = rec.clone();
            let thread = std::thread::Builder::new()
                .name("server".into())
                .spawn(move || strata::server::run_on(config, fs).map_err(|e| e.to_string()))
                .expect("spawn the server thread");
            let deadline = Instant::now() + Duration::from_secs(20);
            loop {
                if thread.is_finished() {
                    let r = thread.join().expect("server thread panicked");
                    last = format!("{r:?}");
                    assert!(last.contains("listening socket"), "the recorded server stopped before answering: {last}");
                    break;
                }
                if let Ok(mut c) = Conn::connect(port) {
                    if c.call(&["PING"]).is_ok_and(|r| r.bytes() == b"+PONG\r\n") {
                        return InProcess { port, thread: Some(thread) };
                    }
                }
                assert!(Instant::now() < deadline, "the recorded server is not answering PING after 20 s");
                std::thread::sleep(Duration::from_millis(5));
            }
        }
        panic!("could not start the recorded server: {last}");
    }

    /// SHUTDOWN NOSAVE, then waits for the server thread.
    fn stop(mut self) {
        let r = self.shutdown();
        assert_eq!(r, Some(Ok(0)), "the recorded server did not stop cleanly");
    }

    fn shutdown(&mut self) -> Option<Result<i32, String>> {
        let thread = self.thread.take()?;
        if let Ok(mut c) = Conn::connect(self.port) {
            let _ = c.call(&["SHUTDOWN", "NOSAVE"]);
        }
        let deadline = Instant::now() + Duration::from_secs(20);
        while !thread.is_finished() {
            if Instant::now() > deadline {
                // Left running: joining would hang the test.
                return None;
            }
            std::thread::sleep(Duration::from_millis(5));
        }
        Some(thread.join().unwrap_or_else(|_| Err("server thread panicked".into())))
    }
}

impl Drop for InProcess {
    fn drop(&mut self) {
        let _ = self.shutdown();
    }
}

// ---------------------------------------------------------------------------
// A server process on a rebuilt directory

struct Probe {
    child: Child,
    port: u16,
    log: PathBuf,
}

impl Probe {
    /// Starts `bin` on `data` and waits for PING; Err (with the log's tail)
    /// if it exits first.
    fn start(bin: &Path, data: &Path, log: &Path, extra: &[&str]) -> Result<Probe, String> {
        std::fs::File::create(log).map_err(|e| e.to_string())?;
        let data = data.to_string_lossy();
        let mut args = vec!["--save", "", "--enable-debug-command", "yes", "--dir", &data];
        args.extend_from_slice(extra);
        let (child, port) = spawn_serving(bin, &args, log, Duration::from_secs(20))?;
        Ok(Probe { child, port, log: log.to_path_buf() })
    }

    fn conn(&self) -> Result<Conn, String> {
        Conn::connect(self.port).map_err(|e| format!("connect: {e}"))
    }

    /// The last `lines` lines of the log that say something about the data
    /// (start-up boilerplate left out).
    fn log_tail(&self, lines: usize) -> String {
        const BOILERPLATE: [&str; 6] = [
            "No config file specified",
            "Running mode",
            "Server initialized",
            "Ready to accept",
            "is starting",
            "just started",
        ];
        let t = std::fs::read_to_string(&self.log).unwrap_or_default();
        let all: Vec<&str> = t.lines().filter(|l| !BOILERPLATE.iter().any(|b| l.contains(b))).collect();
        all[all.len().saturating_sub(lines)..].join("\n")
    }

    /// SHUTDOWN NOSAVE and waits for the exit.
    fn shutdown(mut self) {
        if let Ok(mut c) = self.conn() {
            let _ = c.call(&["SHUTDOWN", "NOSAVE"]);
        }
        let deadline = Instant::now() + Duration::from_secs(20);
        while self.child.try_wait().ok().flatten().is_none() {
            assert!(Instant::now() < deadline, "server on port {} did not exit after SHUTDOWN", self.port);
            std::thread::sleep(Duration::from_millis(5));
        }
    }
}

impl Drop for Probe {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Runs `cmds` pipelined on `c`, failing on an error reply.
fn pipeline(c: &mut Conn, cmds: &[Vec<String>]) {
    for chunk in cmds.chunks(256) {
        for cmd in chunk {
            c.send(cmd).unwrap();
        }
        for cmd in chunk {
            let r = c.read_reply().unwrap_or_else(|e| panic!("{cmd:?}: {e}"));
            assert!(r.kind() != b'-', "{cmd:?} answered {}", text(&r));
        }
    }
}

fn digest(c: &mut Conn) -> Result<String, String> {
    let r = c.call(&["DEBUG", "DIGEST"]).map_err(|e| format!("DEBUG DIGEST: {e}"))?;
    let d = String::from_utf8_lossy(r.payload()).into_owned();
    if r.kind() != b'+' || d.len() != 40 {
        return Err(format!("DEBUG DIGEST answered {}", text(&r)));
    }
    Ok(d)
}

// ---------------------------------------------------------------------------
// Checking many cut points

/// One cut point's result.
struct CutResult {
    k: usize,
    mode: Mode,
    outcome: Result<u64, String>,
}

/// Totals of a run over cut points.
struct Outcome {
    cuts: usize,
    acked_checked: u64,
    failures: Vec<String>,
}

impl Outcome {
    fn assert_clean(&self, test: &str, seed: u64) {
        eprintln!(
            "{test}: {} cut points, {} acknowledged writes verified (summed over the cut points), {} failed",
            self.cuts,
            self.acked_checked,
            self.failures.len()
        );
        if !self.failures.is_empty() {
            let shown: Vec<&str> = self.failures.iter().take(6).map(String::as_str).collect();
            panic!(
                "{test}: {} of {} cut points failed (test seed {seed}; AOF_POWER_SEED={} replays the run); first ones:\n{}",
                self.failures.len(),
                self.cuts,
                base_seed(),
                shown.join("\n---\n")
            );
        }
    }
}

fn describe_op(log: &[Entry], k: usize) -> String {
    if k == 0 {
        return "before any operation".into();
    }
    let e = &log[k - 1];
    let op = match &e.op {
        Op::Create { path, file } => format!("create {} (file {file})", path.display()),
        Op::Open { path, file } => format!("open {} (file {file})", path.display()),
        Op::Append { file, bytes } => format!("append {} bytes to file {file}", bytes.len()),
        Op::Sync { file, len, .. } => format!("sync file {file} ({len} bytes)"),
        Op::Truncate { file, len } => format!("truncate file {file} to {len}"),
        Op::Rename { from, to } => format!("rename {} -> {}", from.display(), to.display()),
        Op::Remove { path } => format!("remove {}", path.display()),
        Op::SyncDir { dir } => format!("sync dir {:?}", dir.display().to_string()),
        Op::CreateDir { dir } => format!("mkdir {}", dir.display()),
    };
    format!("after op {} of {} at {:?} ({}): {op}", k - 1, log.len(), e.at, e.thread)
}

/// Rebuilds the directory at each cut, starts `bin` on it with `args` and
/// runs `check` (which returns how many acknowledged writes it verified).
fn check_cuts<F>(rec: &RecordingFs, cuts: &[(usize, Mode)], bin: &Path, args: &[&str], check: F) -> Outcome
where
    F: Fn(usize, Mode, &mut Conn) -> Result<u64, String> + Sync,
{
    let log = rec.log();
    let mut cuts = cuts.to_vec();
    cuts.sort_by_key(|c| (c.0, c.1 == Mode::PowerLoss));
    cuts.dedup();
    let results: Mutex<Vec<(CutResult, String)>> = Mutex::new(Vec::new());
    type Job = (usize, Mode, BTreeMap<PathBuf, Vec<u8>>, Vec<PathBuf>);
    let (tx, rx) = mpsc::sync_channel::<Job>(WORKERS * 2);
    let rx = Mutex::new(rx);
    std::thread::scope(|s| {
        let rx = &rx;
        let (results, check) = (&results, &check);
        for _ in 0..WORKERS {
            s.spawn(move || loop {
                let job = rx.lock().unwrap().recv();
                let Ok((k, mode, files, dirs)) = job else { return };
                let tmp = tempfile::tempdir().expect("temp dir");
                let data = tmp.path().join("data");
                std::fs::create_dir(&data).unwrap();
                write_tree(&data, &files, &dirs);
                let outcome = Probe::start(bin, &data, &tmp.path().join("server.log"), args)
                    .map_err(|e| format!("the server did not start: {e}"))
                    .and_then(|p| {
                        let r = p.conn().and_then(|mut c| check(k, mode, &mut c));
                        r.map_err(|e| format!("{e}\nserver log:\n{}", p.log_tail(6)))
                    });
                let tree =
                    if files.is_empty() { "none (the directory is empty)".to_string() } else { describe_tree(&files) };
                results.lock().unwrap().push((CutResult { k, mode, outcome }, tree));
            });
        }
        let mut replay = rec.replay();
        for &(k, mode) in &cuts {
            while replay.applied < k {
                replay.apply(&log[replay.applied].op);
            }
            if tx.send((k, mode, replay.state(mode), replay.dirs(mode))).is_err() {
                break;
            }
        }
        drop(tx);
    });
    let mut results = results.into_inner().unwrap();
    results.sort_by_key(|(r, _)| (r.k, r.mode == Mode::PowerLoss));
    let mut out = Outcome { cuts: results.len(), acked_checked: 0, failures: Vec::new() };
    for (r, tree) in results {
        match r.outcome {
            Ok(n) => out.acked_checked += n,
            Err(e) => {
                out.failures.push(format!("{:?} cut {}, {}:\n{e}\nfiles: {tree}", r.mode, r.k, describe_op(&log, r.k)))
            }
        }
    }
    out
}

/// Every cut from 0 to `len` if there are few, else a seeded sample of
/// `SAMPLE` plus the ends.
fn sample_cuts(rng: &mut Rng, len: usize) -> Vec<usize> {
    if len < SAMPLE + 50 {
        return (0..=len).collect();
    }
    let mut ks: Vec<usize> = (0..SAMPLE).map(|_| rng.below(len as u64 + 1) as usize).collect();
    ks.extend([0, len]);
    ks.sort_unstable();
    ks.dedup();
    ks
}

// ---------------------------------------------------------------------------
// Writers: one counter each, INCR by INCR

/// One acknowledged INCR.
#[derive(Clone, Copy, Debug)]
struct Ack {
    /// The value it returned (the n-th INCR of its counter).
    n: i64,
    /// Log length just before it was sent: it cannot be on disk in a cut
    /// before that.
    sent_len: usize,
    /// Log length when its reply had arrived.
    ack_len: usize,
    ack_at: Duration,
}

/// `threads` writers, each on its own connection, each INCRing `c<t>` up
/// to `per_thread` times or until `run_for` has passed, `pace` apart.
fn run_writers(
    port: u16,
    rec: &Arc<RecordingFs>,
    threads: usize,
    per_thread: i64,
    run_for: Duration,
    pace: Duration,
) -> Vec<Vec<Ack>> {
    let until = Instant::now() + run_for;
    let handles: Vec<_> = (0..threads)
        .map(|t| {
            let rec = rec.clone();
            std::thread::spawn(move || {
                let mut c = Conn::connect(port).expect("writer connect");
                c.set_read_timeout(Duration::from_secs(30)).unwrap();
                let key = format!("c{t}");
                let mut acks = Vec::new();
                for n in 1..=per_thread {
                    if Instant::now() > until {
                        break;
                    }
                    let sent_len = rec.len();
                    let r = c.call(&["INCR", &key]).unwrap_or_else(|e| panic!("INCR {key}: {e}"));
                    let ack_len = rec.len();
                    let ack_at = rec.elapsed();
                    assert_eq!(int_reply(&r), Some(n), "INCR {key} number {n} answered {}", text(&r));
                    acks.push(Ack { n, sent_len, ack_len, ack_at });
                    if !pace.is_zero() {
                        std::thread::sleep(pace);
                    }
                }
                acks
            })
        })
        .collect();
    handles.into_iter().map(|h| h.join().expect("writer panicked")).collect()
}

/// The counters after cut `k` hold at least every write `must` names and
/// nothing sent at or after `k`; no other key exists. Returns how many
/// acknowledged writes that verified.
fn check_counters(c: &mut Conn, acks: &[Vec<Ack>], k: usize, must: &dyn Fn(&Ack) -> bool) -> Result<u64, String> {
    let keys: Vec<String> = (0..acks.len()).map(|t| format!("c{t}")).collect();
    let mut cmd = vec!["MGET".to_string()];
    cmd.extend(keys.iter().cloned());
    let r = c.call(&cmd).map_err(|e| format!("MGET: {e}"))?;
    if r.kind() != b'*' || r.items.len() != keys.len() {
        return Err(format!("MGET answered {}", text(&r)));
    }
    let mut problems = Vec::new();
    let mut present = 0;
    let mut checked = 0u64;
    for (t, item) in r.items.iter().enumerate() {
        let v: i64 = if item.head.starts_with(b"$-1") {
            0
        } else {
            std::str::from_utf8(item.payload())
                .ok()
                .and_then(|s| s.parse().ok())
                .ok_or_else(|| format!("c{t} holds {}", text(item)))?
        };
        if v > 0 {
            present += 1;
        }
        let lo = acks[t].iter().filter(|a| must(a)).map(|a| a.n).max().unwrap_or(0);
        let hi = acks[t].iter().filter(|a| a.sent_len < k).map(|a| a.n).max().unwrap_or(0);
        checked += lo as u64;
        if v < lo {
            problems.push(format!("c{t} = {v}, but INCR number {lo} was acknowledged (lost {})", lo - v));
        } else if v > hi {
            problems.push(format!("c{t} = {v}, but only {hi} INCRs had been sent"));
        }
    }
    let size = c.call(&["DBSIZE"]).map_err(|e| format!("DBSIZE: {e}"))?;
    if int_reply(&size) != Some(present) {
        problems.push(format!("DBSIZE {} but {present} counters present", text(&size)));
    }
    if problems.is_empty() {
        Ok(checked)
    } else {
        Err(problems.join("; "))
    }
}

/// Log indexes of completed syncs of incremental files.
fn incr_syncs(log: &[Entry]) -> Vec<usize> {
    let mut incr_files = std::collections::BTreeSet::new();
    for e in log {
        if let Op::Create { path, file } | Op::Open { path, file } = &e.op {
            if path.to_string_lossy().ends_with(".incr.aof") {
                incr_files.insert(*file);
            }
        }
    }
    log.iter()
        .enumerate()
        .filter(|(_, e)| matches!(&e.op, Op::Sync { file, .. } if incr_files.contains(file)))
        .map(|(i, _)| i)
        .collect()
}

/// With `AOF_POWER_LOG` set, prints a recording's operations (to see the
/// sequence a failing cut sits in).
fn dump_log(name: &str, rec: &RecordingFs) {
    if std::env::var_os("AOF_POWER_LOG").is_none() {
        return;
    }
    let log = rec.log();
    let lines: Vec<String> = (1..=log.len()).map(|k| describe_op(&log, k)).collect();
    eprintln!("--- {name}: {} operations\n{}", log.len(), lines.join("\n"));
}

/// The recorded run of a writers test: the log, the acknowledgements.
struct Recorded {
    _tmp: tempfile::TempDir,
    rec: Arc<RecordingFs>,
    acks: Vec<Vec<Ack>>,
}

/// Records a server with `fsync` while `threads` writers run. With `fresh`
/// the recording starts from an empty directory (the first start is in the
/// log); otherwise a first, unrecorded life of the server has made its AOF
/// and stopped cleanly, and the recording starts from that (durable) state.
fn record_writers(
    fsync: &str,
    fresh: bool,
    threads: usize,
    per_thread: i64,
    run_for: Duration,
    pace: Duration,
) -> Recorded {
    let tmp = tempfile::tempdir().expect("temp dir");
    let root = tmp.path().join("data");
    std::fs::create_dir(&root).unwrap();
    let args = ["--appendonly", "yes", "--appendfsync", fsync];
    if !fresh {
        Probe::start(&strata_binary(), &root, &tmp.path().join("first.log"), &args).expect("first start").shutdown();
    }
    let rec = RecordingFs::start(&root);
    let srv = InProcess::start(&rec, &args);
    let acks = run_writers(srv.port, &rec, threads, per_thread, run_for, pace);
    srv.stop();
    dump_log(&format!("appendfsync {fsync}{}", if fresh { ", from an empty directory" } else { "" }), &rec);
    Recorded { _tmp: tmp, rec, acks }
}

// ---------------------------------------------------------------------------
// Tests

#[test]
fn always_loses_no_acknowledged_write_at_any_power_cut() {
    let seed = seed_for("always");
    let mut rng = Rng::new(seed);
    let r = record_writers("always", false, 6, 120, Duration::from_secs(3), Duration::ZERO);
    let len = r.rec.len();
    let cuts: Vec<(usize, Mode)> = sample_cuts(&mut rng, len).into_iter().map(|k| (k, Mode::PowerLoss)).collect();
    let acks = &r.acks;
    let out =
        check_cuts(&r.rec, &cuts, &strata_binary(), &["--appendonly", "yes", "--appendfsync", "always"], |k, _, c| {
            check_counters(c, acks, k, &|a| a.ack_len <= k)
        });
    out.assert_clean("always", seed);
    assert!(out.acked_checked > 0, "no cut point had an acknowledged write to check");
}

#[test]
fn first_start_makes_the_aof_directory_durable() {
    // From an empty `dir`: the AOF directory the first start creates must
    // survive a power loss once a write is acknowledged.
    let seed = seed_for("first start");
    let r = record_writers("always", true, 2, 15, Duration::from_secs(3), Duration::ZERO);
    let cuts: Vec<(usize, Mode)> = (0..=r.rec.len()).map(|k| (k, Mode::PowerLoss)).collect();
    let acks = &r.acks;
    let out =
        check_cuts(&r.rec, &cuts, &strata_binary(), &["--appendonly", "yes", "--appendfsync", "always"], |k, _, c| {
            check_counters(c, acks, k, &|a| a.ack_len <= k)
        });
    out.assert_clean("first start", seed);
}

#[test]
fn everysec_loses_only_the_last_seconds_at_a_power_cut() {
    let seed = seed_for("everysec");
    let mut rng = Rng::new(seed);
    let r = record_writers("everysec", false, 4, 2000, Duration::from_millis(3500), Duration::from_millis(4));
    let log = r.rec.log();
    let syncs = incr_syncs(&log);
    assert!(syncs.len() >= 2, "everysec synced the incremental file {} times in 3.5 s of writes", syncs.len());
    let longest = syncs
        .iter()
        .map(|&i| match log[i].op {
            Op::Sync { began_at, .. } if began_at > 0 => log[i].at.saturating_sub(log[began_at - 1].at),
            _ => log[i].at,
        })
        .max()
        .unwrap_or_default();
    eprintln!("everysec: {} syncs of the incremental file, the longest took at most {longest:?}", syncs.len());
    let mut cuts: Vec<(usize, Mode)> =
        sample_cuts(&mut rng, log.len()).into_iter().map(|k| (k, Mode::PowerLoss)).collect();
    // Right before and right after each sync.
    for &i in &syncs {
        cuts.extend([(i, Mode::PowerLoss), (i + 1, Mode::PowerLoss)]);
    }
    // A process crash keeps everything acknowledged (it was written).
    for _ in 0..30 {
        cuts.push((rng.below(log.len() as u64 + 1) as usize, Mode::ProcessCrash));
    }
    let acks = &r.acks;
    let log = &log;
    let syncs = &syncs;
    let out = check_cuts(
        &r.rec,
        &cuts,
        &strata_binary(),
        &["--appendonly", "yes", "--appendfsync", "everysec"],
        |k, mode, c| {
            if mode == Mode::ProcessCrash {
                return check_counters(c, acks, k, &|a| a.ack_len <= k);
            }
            // Covered by a sync that began after it was acknowledged and
            // completed before the cut, or acknowledged long enough before it.
            let covered = syncs.iter().filter(|&&i| i < k).map(|&i| match log[i].op {
                Op::Sync { began_at, .. } => began_at,
                _ => unreachable!(),
            });
            let covered = covered.max().unwrap_or(0);
            let cut_at = if k == 0 { Duration::ZERO } else { log[k - 1].at };
            check_counters(c, acks, k, &|a| a.ack_len <= covered || a.ack_at + EVERYSEC_WINDOW <= cut_at)
        },
    );
    out.assert_clean("everysec", seed);
    assert!(out.acked_checked > 0, "no cut point had an acknowledged write to check");
}

#[test]
fn fsync_no_always_starts_after_any_cut() {
    let seed = seed_for("no");
    let mut rng = Rng::new(seed);
    let r = record_writers("no", false, 4, 150, Duration::from_secs(3), Duration::ZERO);
    let len = r.rec.len();
    let mut cuts = Vec::new();
    for k in sample_cuts(&mut rng, len) {
        cuts.push((k, if rng.below(2) == 0 { Mode::PowerLoss } else { Mode::ProcessCrash }));
    }
    let acks = &r.acks;
    let out =
        check_cuts(&r.rec, &cuts, &strata_binary(), &["--appendonly", "yes", "--appendfsync", "no"], |k, mode, c| {
            // No loss bound after a power loss; a crashed process loses nothing
            // it acknowledged (the bytes were written).
            match mode {
                Mode::PowerLoss => check_counters(c, acks, k, &|_| false),
                Mode::ProcessCrash => check_counters(c, acks, k, &|a| a.ack_len <= k),
            }
        });
    out.assert_clean("fsync no", seed);
}

/// Commands building a mixed data set: strings, lists, hashes, sets,
/// sorted sets, some with a (far) expiry.
fn dataset(rng: &mut Rng) -> Vec<Vec<String>> {
    let mut cmds = Vec::new();
    let word = |rng: &mut Rng| format!("{:x}", rng.next_u64() >> (rng.below(60) as u32));
    for i in 0..1500 {
        cmds.push(vec!["SET".into(), format!("p:{i}"), word(rng)]);
    }
    for i in 0..40 {
        let mut c = vec!["RPUSH".to_string(), format!("l:{i}")];
        c.extend((0..1 + rng.below(150)).map(|_| word(rng)));
        cmds.push(c);
        let mut c = vec!["HSET".to_string(), format!("h:{i}")];
        for f in 0..1 + rng.below(90) {
            c.extend([format!("f{f}"), word(rng)]);
        }
        cmds.push(c);
        let mut c = vec!["SADD".to_string(), format!("s:{i}")];
        c.extend((0..1 + rng.below(140)).map(|_| word(rng)));
        cmds.push(c);
        let mut c = vec!["ZADD".to_string(), format!("z:{i}")];
        for _ in 0..1 + rng.below(140) {
            c.extend([format!("{}", rng.below(100000) as f64 / 7.0), word(rng)]);
        }
        cmds.push(c);
    }
    for i in 0..60 {
        // Absolute, so the reference copy gets the same expiry.
        cmds.push(vec!["PEXPIREAT".into(), format!("p:{}", i * 7), format!("{}", 4_102_444_800_000u64 + i)]);
    }
    cmds
}

/// One write made while the rewrite runs: new keys and changes to keys the
/// snapshot is walking.
fn rewrite_write(rng: &mut Rng, i: usize) -> Vec<String> {
    let j = rng.below(40);
    match rng.below(7) {
        0 => vec!["SET".into(), format!("r:{i}"), format!("v{i}")],
        1 => vec!["SET".into(), format!("p:{}", rng.below(1500)), format!("new{i}")],
        2 => vec!["DEL".into(), format!("p:{}", rng.below(1500))],
        3 => vec!["RPUSH".into(), format!("l:{j}"), format!("x{i}")],
        4 => vec!["HSET".into(), format!("h:{j}"), format!("g{i}"), format!("{i}")],
        5 => vec!["ZINCRBY".into(), format!("z:{j}"), "1.5".into(), format!("m{i}")],
        _ => vec!["SADD".into(), format!("s:{j}"), format!("y{i}")],
    }
}

/// A field of INFO persistence.
fn info_field(c: &mut Conn, name: &str) -> String {
    let info = c.call(&["INFO", "persistence"]).expect("INFO");
    let body = String::from_utf8_lossy(info.payload()).into_owned();
    body.lines()
        .find_map(|l| l.strip_prefix(&format!("{name}:")).map(|v| v.trim().to_string()))
        .unwrap_or_else(|| panic!("no {name} in INFO: {body}"))
}

/// Records one BGREWRITEAOF (base as RDB with `preamble`, else as
/// commands) with writes made during it, then checks both crash modes at
/// every operation from the command to the end of the rewrite.
fn rewrite_at_every_step(preamble: bool) {
    let name = if preamble { "rewrite, RDB base" } else { "rewrite, command base" };
    let seed = seed_for(name);
    let mut rng = Rng::new(seed);
    let tmp = tempfile::tempdir().expect("temp dir");
    let root = tmp.path().join("data");
    std::fs::create_dir(&root).unwrap();
    let pre_flag = if preamble { "yes" } else { "no" };
    let aof = ["--appendonly", "yes", "--appendfsync", "always", "--aof-use-rdb-preamble", pre_flag];

    // A first life of the server, not recorded, writes the data set.
    let pre = dataset(&mut rng);
    {
        let p = Probe::start(&strata_binary(), &root, &tmp.path().join("first.log"), &aof).expect("first start");
        pipeline(&mut p.conn().unwrap(), &pre);
        p.shutdown();
    }

    // The second life, recorded: a rewrite with writes going on during it.
    let rec = RecordingFs::start(&root);
    let mut args = aof.to_vec();
    // No history kept, so the steps include removing the replaced files.
    args.extend(["--rdb-key-save-delay", "150", "--aof-history-keep", "0"]);
    let srv = InProcess::start(&rec, &args);
    let writes: Vec<Vec<String>> = (0..150).map(|i| rewrite_write(&mut rng, i)).collect();
    let mut c = Conn::connect(srv.port).unwrap();
    let start = rec.len();
    let r = c.call(&["BGREWRITEAOF"]).unwrap();
    assert_eq!(text(&r), "+Background append only file rewriting started\r\n");
    let done = Arc::new(AtomicBool::new(false));
    let writer = {
        let (rec, done, writes, port) = (rec.clone(), done.clone(), writes.clone(), srv.port);
        std::thread::spawn(move || {
            let mut c = Conn::connect(port).unwrap();
            let mut marks = Vec::new();
            for w in &writes {
                if done.load(Ordering::Relaxed) {
                    break;
                }
                let sent_len = rec.len();
                let r = c.call(w).unwrap_or_else(|e| panic!("{w:?}: {e}"));
                assert!(r.kind() != b'-', "{w:?} answered {}", text(&r));
                marks.push((sent_len, rec.len()));
            }
            marks
        })
    };
    let deadline = Instant::now() + Duration::from_secs(60);
    while info_field(&mut c, "aof_rewrite_in_progress") != "0" || info_field(&mut c, "aof_rewrites") != "1" {
        assert!(
            Instant::now() < deadline,
            "the rewrite did not finish in 60 s: {}",
            info_field(&mut c, "aof_last_bgrewrite_status")
        );
        std::thread::sleep(Duration::from_millis(5));
    }
    let end = rec.len();
    done.store(true, Ordering::Relaxed);
    let marks = writer.join().expect("writer panicked");
    drop(c);
    srv.stop();
    dump_log(name, &rec);
    // The range holds the whole rewrite: the new base reaches its name and
    // the manifest is replaced.
    let log = rec.log();
    let base_suffix = if preamble { ".base.rdb" } else { ".base.aof" };
    let steps = &log[start..end];
    assert!(
        steps.iter().any(|e| matches!(&e.op, Op::Rename { to, .. } if to.to_string_lossy().ends_with(base_suffix))),
        "no rename to a new base between op {start} and op {end}"
    );
    assert!(
        steps.iter().any(|e| matches!(&e.op, Op::Remove { .. })),
        "no history file removed between op {start} and op {end}"
    );
    let during = marks.iter().filter(|m| m.0 < end).count();
    assert!(during >= 5, "only {during} writes landed during the rewrite; the test needs some");

    // The digest of the data set after the first m writes, from a copy
    // built without any persistence.
    let expected: Vec<String> = {
        let tmp2 = tempfile::tempdir().unwrap();
        let p = Probe::start(&strata_binary(), tmp2.path(), &tmp2.path().join("oracle.log"), &["--appendonly", "no"])
            .expect("oracle start");
        let mut c = p.conn().unwrap();
        pipeline(&mut c, &pre);
        let mut ds = vec![digest(&mut c).unwrap()];
        for w in &writes[..marks.len()] {
            pipeline(&mut c, std::slice::from_ref(w));
            ds.push(digest(&mut c).unwrap());
        }
        ds
    };

    let check = |k: usize, _: Mode, c: &mut Conn| -> Result<u64, String> {
        let lo = marks.iter().filter(|m| m.1 <= k).count();
        let hi = marks.iter().filter(|m| m.0 < k).count();
        let d = digest(c)?;
        if expected[lo..=hi].contains(&d) {
            return Ok(lo as u64);
        }
        let matches: Vec<usize> = (0..expected.len()).filter(|&m| expected[m] == d).collect();
        let size = c.call(&["DBSIZE"]).map(|r| text(&r)).unwrap_or_default();
        Err(format!(
            "DEBUG DIGEST {d} is not the data set after {lo}..={hi} of the writes made during the rewrite \
             (it matches the data set after {matches:?} of them; DBSIZE {})",
            size.trim()
        ))
    };
    let mut cuts = Vec::new();
    for k in start..=end {
        cuts.push((k, Mode::ProcessCrash));
        cuts.push((k, Mode::PowerLoss));
    }
    let out = check_cuts(&rec, &cuts, &strata_binary(), &aof, check);
    out.assert_clean(&format!("{name} (Strata)"), seed);

    // Redis 7.0.15 loads a few of the same directories to the same data.
    let mut redis_cuts = Vec::new();
    for _ in 0..4 {
        let k = start + rng.below((end - start + 1) as u64) as usize;
        redis_cuts.extend([(k, Mode::ProcessCrash), (k, Mode::PowerLoss)]);
    }
    redis_cuts.extend([(end, Mode::PowerLoss), (start + (end - start) / 2, Mode::PowerLoss)]);
    let out = check_cuts(&rec, &redis_cuts, &reference_binary(), &["--appendonly", "yes"], check);
    out.assert_clean(&format!("{name} (Redis 7.0.15)"), seed);
}

#[test]
fn every_step_of_a_rewrite_loads_the_acknowledged_data() {
    rewrite_at_every_step(true);
}

#[test]
fn every_step_of_a_command_base_rewrite_loads_the_acknowledged_data() {
    rewrite_at_every_step(false);
}
