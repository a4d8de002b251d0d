//! kill -9 under write load loses no acknowledged write and invents none: with `appendfsync always` and `everysec`, and with a BGREWRITEAOF running or just finished when the process dies, the restarted server holds every write that was answered and nothing that was never sent.
//!
//! Each trial starts the release binary in a fresh directory, runs 50
//! writers (one connection each, `INCR c<t>`, so the n-th answer is the
//! number n and the counter after a restart must lie between the last
//! answered n and the last sent one), kills the process at a seeded moment,
//! restarts it on the same directory and checks every counter. A failure
//! names the trial's seed: `AOF_CRASH_SEED=<seed> AOF_CRASH_TRIALS=1
//! AOF_CRASH_EXTRA_TRIALS=1` replays its timing. `AOF_CRASH_TRIALS` sets
//! the number of `always` trials (default 20), `AOF_CRASH_EXTRA_TRIALS` that
//! of the `everysec` and rewrite trials (default 3); tools/crash-trials.sh
//! runs a long series and prints the totals.

mod support;

use std::path::{Path, PathBuf};
use std::process::Child;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Barrier};
use std::time::{Duration, Instant};
use support::proc::{spawn_serving, Rng};
use support::{Conn, Frame};

const WRITERS: usize = 50;
/// Keys written before the load in the rewrite trials, so the rewrite
/// takes a while.
const PRELOAD: usize = 10_000;
/// No writer runs longer than this, whatever happens to the server.
const WRITER_LIMIT: Duration = Duration::from_secs(30);

fn env_count(name: &str, default: usize) -> usize {
    std::env::var(name).ok().and_then(|s| s.parse().ok()).unwrap_or(default)
}

fn base_seed(default: u64) -> u64 {
    std::env::var("AOF_CRASH_SEED").ok().and_then(|s| s.parse().ok()).unwrap_or(default)
}

fn text(f: &Frame) -> String {
    String::from_utf8_lossy(&f.bytes()).trim_end().to_string()
}

fn int_reply(f: &Frame) -> Option<i64> {
    (f.kind() == b':').then(|| std::str::from_utf8(f.payload()).ok()?.parse().ok()).flatten()
}

/// The release binary on a directory; killed on drop.
struct Server {
    child: Child,
    port: u16,
    log: PathBuf,
}

impl Server {
    fn start(data: &Path, log: &Path, extra: &[&str]) -> Result<Server, String> {
        let bin = Path::new(env!("CARGO_BIN_EXE_strata-server"));
        let dir = data.to_string_lossy();
        let mut args = vec!["--save", "", "--dir", &dir];
        args.extend_from_slice(extra);
        let (child, port) = spawn_serving(bin, &args, log, Duration::from_secs(30))?;
        Ok(Server { child, port, log: log.to_path_buf() })
    }

    fn conn(&self) -> Conn {
        Conn::connect(self.port).unwrap_or_else(|e| panic!("connect to port {}: {e}", self.port))
    }

    fn log_tail(&self, lines: usize) -> String {
        let t = std::fs::read_to_string(&self.log).unwrap_or_default();
        let all: Vec<&str> = t.lines().collect();
        all[all.len().saturating_sub(lines)..].join("\n")
    }

    /// SIGKILL, and reaps the process.
    fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.kill();
    }
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Kind {
    Always,
    Everysec,
    /// `always`, with a BGREWRITEAOF during the load.
    Rewrite,
}

/// What one trial found.
struct Trial {
    acked: u64,
    lost: u64,
    failure: Option<String>,
    /// For rewrite trials: whether the rewrite was still running at the kill.
    rewrite_running: Option<bool>,
}

/// One writer: INCR on its own counter until the connection dies (or the
/// limit passes). Returns (last answered n, INCRs sent).
fn writer(port: u16, t: usize, start: Arc<Barrier>, stop: Arc<AtomicBool>) -> Result<(i64, i64), String> {
    let mut c = Conn::connect(port).map_err(|e| format!("writer {t} connect: {e}"))?;
    c.set_read_timeout(Duration::from_secs(10)).unwrap();
    let key = format!("c{t}");
    start.wait();
    let until = Instant::now() + WRITER_LIMIT;
    let (mut acked, mut sent) = (0i64, 0i64);
    while !stop.load(Ordering::Relaxed) && Instant::now() < until {
        sent += 1;
        let reply = match c.call(&["INCR", &key]) {
            Ok(r) => r,
            // The server is gone (or silent): this INCR is sent, unanswered.
            Err(_) => break,
        };
        match int_reply(&reply) {
            Some(n) if n == acked + 1 => acked = n,
            _ => return Err(format!("INCR {key} number {} answered {}", acked + 1, text(&reply))),
        }
    }
    Ok((acked, sent))
}

/// Preloads `PRELOAD` keys (pipelined); their values follow from `salt`.
fn preload(c: &mut Conn, salt: u64) {
    for chunk in (0..PRELOAD).collect::<Vec<_>>().chunks(500) {
        for &i in chunk {
            c.send(&["SET".to_string(), format!("p:{i}"), preload_value(salt, i)]).unwrap();
        }
        for _ in chunk {
            let r = c.read_reply().expect("preload reply");
            assert_eq!(r.bytes(), b"+OK\r\n", "preload SET answered {}", text(&r));
        }
    }
}

fn preload_value(salt: u64, i: usize) -> String {
    format!("v{i}-{:x}", salt.wrapping_mul(i as u64 + 1) >> 20)
}

fn info_field(c: &mut Conn, name: &str) -> Option<String> {
    let info = c.call(&["INFO", "persistence"]).ok()?;
    let body = String::from_utf8_lossy(info.payload()).into_owned();
    body.lines().find_map(|l| l.strip_prefix(&format!("{name}:")).map(|v| v.trim().to_string()))
}

fn trial(seed: u64, kind: Kind) -> Trial {
    let mut rng = Rng::new(seed);
    let kill_after = Duration::from_millis(200 + rng.below(1301));
    let tmp = tempfile::tempdir().expect("temp dir");
    let data = tmp.path().join("data");
    std::fs::create_dir(&data).unwrap();
    let log = tmp.path().join("server.log");
    let fsync = if kind == Kind::Everysec { "everysec" } else { "always" };
    let mut args = vec!["--appendonly", "yes", "--appendfsync", fsync];
    if kind == Kind::Rewrite {
        // Paces the rewrite (microseconds per key) so the kill can land in it.
        args.extend(["--rdb-key-save-delay", "25"]);
    }
    let fail = |what: String| Trial { acked: 0, lost: 0, failure: Some(what), rewrite_running: None };
    let mut server = match Server::start(&data, &log, &args) {
        Ok(s) => s,
        Err(e) => return fail(format!("first start: {e}")),
    };
    let salt = rng.next_u64();
    if kind == Kind::Rewrite {
        preload(&mut server.conn(), salt);
    }
    let rewrite_at =
        (kind == Kind::Rewrite).then(|| Duration::from_millis(rng.below(kill_after.as_millis() as u64 * 3 / 4)));

    let start = Arc::new(Barrier::new(WRITERS + 1));
    let stop = Arc::new(AtomicBool::new(false));
    let writers: Vec<_> = (0..WRITERS)
        .map(|t| {
            let (start, stop, port) = (start.clone(), stop.clone(), server.port);
            std::thread::spawn(move || writer(port, t, start, stop))
        })
        .collect();
    let mut control = server.conn();
    start.wait();
    let began = Instant::now();
    let mut rewrite_running = None;
    if let Some(at) = rewrite_at {
        std::thread::sleep(at);
        let r = control.call(&["BGREWRITEAOF"]).expect("BGREWRITEAOF");
        if !text(&r).starts_with("+Background append only file rewriting") {
            stop.store(true, Ordering::Relaxed);
            writers.into_iter().for_each(|w| drop(w.join()));
            return fail(format!("BGREWRITEAOF answered {}", text(&r)));
        }
    }
    // The kill moment is the trial's random choice, not a wait for a state.
    std::thread::sleep(kill_after.saturating_sub(began.elapsed()));
    if kind == Kind::Rewrite {
        rewrite_running = info_field(&mut control, "aof_rewrite_in_progress").map(|v| v == "1");
    }
    server.kill();
    stop.store(true, Ordering::Relaxed);
    let mut counts = Vec::new();
    for w in writers {
        match w.join().expect("writer panicked") {
            Ok(c) => counts.push(c),
            Err(e) => return fail(format!("during the load: {e}")),
        }
    }
    drop(server);

    let restarted = match Server::start(&data, &log, &args) {
        Ok(s) => s,
        Err(e) => return fail(format!("the restart after kill -9 failed: {e}")),
    };
    let mut c = restarted.conn();
    let mut cmd = vec!["MGET".to_string()];
    cmd.extend((0..WRITERS).map(|t| format!("c{t}")));
    let r = c.call(&cmd).expect("MGET");
    let mut problems = Vec::new();
    let (mut acked_total, mut lost, mut present) = (0u64, 0u64, 0i64);
    for (t, item) in r.items.iter().enumerate() {
        let (acked, sent) = counts[t];
        let v: i64 = if item.head.starts_with(b"$-1") {
            0
        } else {
            match std::str::from_utf8(item.payload()).ok().and_then(|s| s.parse().ok()) {
                Some(v) => v,
                None => {
                    problems.push(format!("c{t} holds {}", text(item)));
                    continue;
                }
            }
        };
        present += i64::from(v > 0);
        acked_total += acked as u64;
        if v < acked {
            lost += (acked - v) as u64;
            problems.push(format!("c{t} = {v} after the restart, but INCR number {acked} was answered"));
        } else if v > sent {
            problems.push(format!("c{t} = {v} after the restart, but only {sent} INCRs were sent"));
        }
    }
    let preloaded = if kind == Kind::Rewrite { PRELOAD as i64 } else { 0 };
    let size = c.call(&["DBSIZE"]).expect("DBSIZE");
    if int_reply(&size) != Some(present + preloaded) {
        problems.push(format!("DBSIZE {} but {present} counters and {preloaded} preloaded keys", text(&size)));
    }
    if kind == Kind::Rewrite {
        let picks: Vec<usize> = (0..64).map(|_| rng.below(PRELOAD as u64) as usize).collect();
        let mut cmd = vec!["MGET".to_string()];
        cmd.extend(picks.iter().map(|i| format!("p:{i}")));
        let r = c.call(&cmd).expect("MGET preloaded");
        for (i, item) in picks.iter().zip(&r.items) {
            let want = preload_value(salt, *i);
            if item.payload() != want.as_bytes() {
                problems.push(format!("p:{i} = {} after the restart, want {want}", text(item)));
            }
        }
    }
    let failure = (!problems.is_empty()).then(|| {
        format!(
            "killed after {kill_after:?}{}: {}\nrestart log:\n{}",
            rewrite_at.map(|a| format!(", BGREWRITEAOF at {a:?}")).unwrap_or_default(),
            problems.join("; "),
            restarted.log_tail(12)
        )
    });
    Trial { acked: acked_total, lost, failure, rewrite_running }
}

/// Runs `trials` trials from `base` and asserts none lost or invented a write.
fn run_series(name: &str, kind: Kind, trials: usize, base: u64) {
    let (mut acked, mut lost, mut during) = (0u64, 0u64, 0usize);
    let mut failures = Vec::new();
    for i in 0..trials {
        let seed = base.wrapping_add(i as u64);
        let t = trial(seed, kind);
        acked += t.acked;
        lost += t.lost;
        during += usize::from(t.rewrite_running == Some(true));
        if let Some(f) = t.failure {
            failures.push(format!("seed {seed}: {f}"));
        }
        if (i + 1) % 50 == 0 {
            eprintln!("aof_crash progress: {name} {}/{trials}, {} failed", i + 1, failures.len());
        }
    }
    let rewrite_note = if kind == Kind::Rewrite { format!(" rewrite_running_at_kill={during}") } else { String::new() };
    eprintln!(
        "aof_crash totals: test={name} trials={trials} acknowledged={acked} lost={lost} failed={}{rewrite_note}",
        failures.len()
    );
    assert!(
        failures.is_empty(),
        "{name}: {} of {trials} trials failed ({lost} acknowledged writes lost); replay one with \
         AOF_CRASH_SEED=<seed> AOF_CRASH_TRIALS=1 AOF_CRASH_EXTRA_TRIALS=1:\n{}",
        failures.len(),
        failures.iter().take(5).cloned().collect::<Vec<_>>().join("\n---\n")
    );
    assert!(acked > 0, "{name}: no write was acknowledged in {trials} trials");
}

#[test]
fn kill_9_under_load_always_loses_nothing() {
    run_series("always", Kind::Always, env_count("AOF_CRASH_TRIALS", 20), base_seed(0xa1_0000));
}

#[test]
fn kill_9_under_load_everysec_loses_nothing() {
    run_series("everysec", Kind::Everysec, env_count("AOF_CRASH_EXTRA_TRIALS", 3), base_seed(0xe5_0000));
}

#[test]
fn kill_9_around_a_rewrite_loses_nothing() {
    run_series("rewrite", Kind::Rewrite, env_count("AOF_CRASH_EXTRA_TRIALS", 3), base_seed(0x4e_0000));
}
