//! aof-edit end to end, following docs/recovery.md: data is written, someone runs FLUSHALL,
//! writes go on; `aof-edit undo-flushall` then gives back every key from before the flush and
//! every write after it, on our directories and on Redis 7.0.15's, with and without a rewrite in
//! between (history kept), and Redis 7.0.15 loads what the tool wrote. Also: the tool leaves a
//! directory a running server holds alone, keeps transactions whole, refuses what it cannot
//! drop, and `list` shows and filters the timeline.
//!
//! Invariant guarded: an edit never loses a write it was not asked to drop, and never changes
//! the original files when writing elsewhere.

mod aof_support;
mod support;

use aof_support::*;
use std::path::Path;
use std::time::Duration;
use support::proc::{run_program, Rng};
use support::{ours_binary, reference_binary, Conn};

const LIMIT: Duration = Duration::from_secs(120);

struct Run {
    code: i32,
    out: String,
}

fn edit(args: &[&str], stdin: &[u8]) -> Run {
    let o = run_program(Path::new(env!("CARGO_BIN_EXE_aof-edit")), args, stdin, LIMIT);
    let out = format!("{}{}", String::from_utf8_lossy(&o.stdout), String::from_utf8_lossy(&o.stderr));
    let code = o.status.code().unwrap_or(-1);
    assert!(code != 101 && !out.contains("panicked"), "aof-edit {args:?} panicked:\n{out}");
    Run { code, out }
}

fn p(path: &Path) -> &str {
    path.to_str().unwrap()
}

fn aof_args() -> Vec<&'static str> {
    vec!["--appendonly", "yes", "--aof-timestamp-enabled", "yes"]
}

/// Writes after the flush: new keys, and a counter that existed before (INCR is written as
/// it is, so after the undo it counts on from the old value).
fn after_flush(c: &mut Conn) {
    call(c, &["SET", "after:s", "v"]);
    call(c, &["RPUSH", "after:l", "1", "2", "3"]);
    call(c, &["HSET", "after:h", "f", "v"]);
    call(c, &["INCR", "shared:counter"]);
    call(c, &["SELECT", "4"]);
    call(c, &["SADD", "after:set", "x", "y"]);
    call(c, &["SELECT", "0"]);
    call(c, &["MULTI"]);
    call(c, &["SET", "after:t1", "1"]);
    call(c, &["SET", "after:t2", "2"]);
    call(c, &["EXEC"]);
}

/// Checks that the writes after the flush are all there, then takes them back out: what is left
/// must be the data set from just before the flush, expiry times and all (its digest).
fn undone(binary: &Path, dir: &Path) -> (String, Vec<String>) {
    let s = start_in(binary, dir, &aof_args());
    let mut c = s.connect();
    let get = |c: &mut Conn, args: &[&str]| text(c, args);
    assert_eq!(get(&mut c, &["GET", "after:s"]), "$1\\r\\nv\\r\\n");
    assert_eq!(get(&mut c, &["EXISTS", "after:early"]), ":0\\r\\n");
    assert_eq!(get(&mut c, &["LLEN", "after:l"]), ":3\\r\\n");
    assert_eq!(get(&mut c, &["HGET", "after:h", "f"]), "$1\\r\\nv\\r\\n");
    assert_eq!(get(&mut c, &["MGET", "after:t1", "after:t2"]), "*2\\r\\n$1\\r\\n1\\r\\n$1\\r\\n2\\r\\n");
    call(&mut c, &["DEL", "after:s", "after:l", "after:h", "after:t1", "after:t2"]);
    call(&mut c, &["DECR", "shared:counter"]);
    call(&mut c, &["SELECT", "4"]);
    assert_eq!(get(&mut c, &["SCARD", "after:set"]), ":2\\r\\n");
    call(&mut c, &["DEL", "after:set"]);
    call(&mut c, &["SELECT", "0"]);
    (digest(&mut c), sizes(&mut c))
}

/// Writes, FLUSHALL, more writes on `binary` in `dir`; with `rewrite`, a BGREWRITEAOF after
/// the flush (its history kept). Stops the server with SHUTDOWN NOSAVE. Returns the data set
/// just before the flush.
fn flush_by_mistake(binary: &Path, dir: &Path, extra: &[&str], seed: u64, rewrite: bool) -> (String, Vec<String>) {
    let mut args = aof_args();
    args.extend_from_slice(extra);
    let s = start_in(binary, dir, &args);
    let mut c = s.connect();
    workload(&mut c, "a", &mut Rng::new(seed));
    let before = (digest(&mut c), sizes(&mut c));
    call(&mut c, &["FLUSHALL"]);
    call(&mut c, &["SET", "after:early", "e"]);
    if rewrite {
        assert_eq!(text(&mut c, &["BGREWRITEAOF"]), "+Background append only file rewriting started\\r\\n");
        wait_rewrite_done(&mut c);
    }
    call(&mut c, &["DEL", "after:early"]);
    after_flush(&mut c);
    drop(c);
    shutdown(s);
    before
}

/// The files under `dir` with their bytes, lock files left out (the tool takes the lock too).
fn data_tree(dir: &Path) -> std::collections::BTreeMap<std::path::PathBuf, Vec<u8>> {
    let mut t = tree(dir);
    t.retain(|rel, _| !rel.to_string_lossy().ends_with(".lock"));
    t
}

#[test]
fn undo_flushall_in_place_gives_back_everything_and_leaves_a_running_server_alone() {
    let dir = tempfile::tempdir().unwrap();
    let aof = dir.path().join("appendonlydir");
    // While the server runs, the directory is left alone.
    let s = start_in(&ours_binary(), dir.path(), &aof_args());
    let r = edit(&["undo-flushall", p(&aof), "--in-place", "--yes"], b"");
    assert_eq!(r.code, 1, "{}", r.out);
    assert!(r.out.contains("is held by process") && r.out.contains("Stop it first"), "{}", r.out);
    shutdown(s);
    let want = flush_by_mistake(&ours_binary(), dir.path(), &[], 7, false);
    let before = data_tree(dir.path());
    // A dry run and an unconfirmed run change nothing.
    let r = edit(&["undo-flushall", p(&aof), "--dry-run"], b"");
    assert_eq!(r.code, 0, "{}", r.out);
    assert!(r.out.contains("FLUSHALL") && r.out.contains("Dry run"), "{}", r.out);
    let r = edit(&["undo-flushall", p(&aof), "--in-place"], b"n\n");
    assert_eq!(r.code, 1, "{}", r.out);
    assert!(data_tree(dir.path()) == before, "a dry or unconfirmed run changed files");
    // The runbook: undo in place, confirmed, then start the server.
    let r = edit(&["undo-flushall", p(&aof), "--in-place"], b"y\n");
    assert_eq!(r.code, 0, "{}", r.out);
    assert!(r.out.contains("db0: ") && r.out.contains("db4: "), "the summary gives keys per database: {}", r.out);
    assert_eq!(undone(&ours_binary(), dir.path()), want);
    // The original was copied aside, whole.
    let aside: Vec<String> =
        names_in(dir.path()).into_iter().filter(|n| n.starts_with("appendonlydir.before-edit-")).collect();
    assert_eq!(aside.len(), 1, "{:?}", names_in(dir.path()));
    let kept = tree(&dir.path().join(&aside[0]));
    for (rel, bytes) in &before {
        if let Ok(inner) = rel.strip_prefix("appendonlydir") {
            if !inner.to_string_lossy().ends_with(".lock") {
                assert!(kept.get(inner) == Some(bytes), "{} not copied aside as it was", inner.display());
            }
        }
    }
}

#[test]
fn undo_flushall_across_a_rewrite_starts_from_the_history_base() {
    let dir = tempfile::tempdir().unwrap();
    let want = flush_by_mistake(&ours_binary(), dir.path(), &[], 11, true);
    let m = manifest(dir.path());
    assert!(m.iter().any(|e| e.kind == 'h'), "the rewrite kept history: {m:?}");
    let out = tempfile::tempdir().unwrap();
    let out_aof = out.path().join("appendonlydir");
    let before = data_tree(dir.path());
    let r = edit(&["undo-flushall", p(dir.path()), "--out", p(&out_aof), "--yes"], b"");
    assert_eq!(r.code, 0, "{}", r.out);
    assert!(r.out.contains("older base kept as history"), "{}", r.out);
    assert!(data_tree(dir.path()) == before, "--out changed the original directory");
    check_aof(out.path());
    let redis_copy = copy_of(out.path());
    assert_eq!(undone(&ours_binary(), out.path()), want);
    assert_eq!(undone(&reference_binary(), redis_copy.path()), want, "Redis 7.0.15 loading the result");
}

#[test]
fn undo_flushall_on_a_directory_redis_wrote() {
    for rewrite in [false, true] {
        let dir = tempfile::tempdir().unwrap();
        // Redis keeps no history after a rewrite: with one in between, the flush is folded
        // into the new base and the tool must say there is nothing to undo.
        let want = flush_by_mistake(&reference_binary(), dir.path(), &[], 23, rewrite);
        let out = tempfile::tempdir().unwrap();
        let out_aof = out.path().join("appendonlydir");
        let r = edit(&["undo-flushall", p(dir.path()), "--out", p(&out_aof), "--yes"], b"");
        if rewrite {
            assert_eq!(r.code, 1, "{}", r.out);
            assert!(r.out.contains("no FLUSHALL or FLUSHDB in this AOF"), "{}", r.out);
            continue;
        }
        assert_eq!(r.code, 0, "{}", r.out);
        check_aof(out.path());
        let redis_copy = copy_of(out.path());
        assert_eq!(undone(&reference_binary(), redis_copy.path()), want, "Redis 7.0.15 loading the result");
        assert_eq!(undone(&ours_binary(), out.path()), want, "strata-server loading the result");
    }
}

/// A directory with a base and one incr file of `cmds`, as a server would leave it.
fn hand_made(cmds: &[&[&str]]) -> tempfile::TempDir {
    let d = tempfile::tempdir().unwrap();
    let aof = d.path().join("appendonlydir");
    std::fs::create_dir(&aof).unwrap();
    std::fs::write(aof.join("appendonly.aof.1.base.aof"), resp(&[&["SELECT", "0"], &["SET", "base", "1"]])).unwrap();
    std::fs::write(aof.join("appendonly.aof.1.incr.aof"), resp(cmds)).unwrap();
    std::fs::write(
        aof.join("appendonly.aof.manifest"),
        "file appendonly.aof.1.base.aof seq 1 type b\nfile appendonly.aof.1.incr.aof seq 1 type i\n",
    )
    .unwrap();
    d
}

fn incr_commands(dir: &Path) -> Vec<String> {
    let m = manifest(dir);
    let last = m.last().unwrap();
    let bytes = std::fs::read(dir.join("appendonlydir").join(&last.name)).unwrap();
    commands(&bytes)
        .iter()
        .map(|c| c.args.iter().map(|a| String::from_utf8_lossy(a).into_owned()).collect::<Vec<_>>().join(" "))
        .collect()
}

#[test]
fn drop_keeps_transactions_whole_and_refuses_what_it_cannot_drop() {
    let d = hand_made(&[
        &["SELECT", "0"],
        &["SET", "a", "1"],
        &["MULTI"],
        &["SET", "b", "1"],
        &["EXEC"],
        &["MULTI"],
        &["SET", "c", "1"],
        &["SET", "d", "1"],
        &["EXEC"],
        &["DEL", "a"],
    ]);
    let src = d.path().join("appendonlydir");
    // Records: 1-2 base, 3 SELECT, 4 SET a, 5 MULTI, 6 SET b, 7 EXEC, 8 MULTI, 9 SET c,
    // 10 SET d, 11 EXEC, 12 DEL a.
    let r = edit(&["list", p(&src)], b"");
    assert_eq!(r.code, 0, "{}", r.out);
    assert!(r.out.contains("12 of 12 records shown"), "{}", r.out);
    let out = tempfile::tempdir().unwrap();
    let o = out.path().join("appendonlydir");
    // Dropping the only command of a block drops the block; one of two keeps the rest.
    let r = edit(&["drop", p(&src), "--index", "6", "--index", "9", "--index", "12", "--out", p(&o), "--yes"], b"");
    assert_eq!(r.code, 0, "{}", r.out);
    assert_eq!(incr_commands(out.path()), ["SELECT 0", "SET a 1", "MULTI", "SET d 1", "EXEC"]);
    check_aof(out.path());
    for (args, why) in [
        (vec!["--index", "3"], "is a SELECT"),
        (vec!["--index", "13"], "there is no record 13"),
        (vec!["--last", "flushdb"], "no FLUSHDB"),
    ] {
        let o2 = tempfile::tempdir().unwrap();
        let mut a = vec!["drop", p(&src)];
        a.extend(args.iter().copied());
        a.extend(["--out", p(o2.path()), "--yes"]);
        let r = edit(&a, b"");
        assert_eq!(r.code, 1, "{a:?}: {}", r.out);
        assert!(r.out.contains(why), "{a:?}: {}", r.out);
        assert!(names_in(o2.path()).is_empty(), "{a:?}: a refused drop wrote files");
    }
}

#[test]
fn list_shows_and_filters_the_timeline() {
    let dir = tempfile::tempdir().unwrap();
    flush_by_mistake(&ours_binary(), dir.path(), &[], 3, false);
    let all = edit(&["list", p(dir.path())], b"");
    assert_eq!(all.code, 0, "{}", all.out);
    let flushes = edit(&["list", p(dir.path()), "--command", "FLUSHALL"], b"");
    let lines: Vec<&str> = flushes.out.lines().filter(|l| l.contains("FLUSHALL")).collect();
    assert_eq!(lines.len(), 1, "{}", flushes.out);
    let keyed = edit(&["list", p(dir.path()), "--key", "after:*", "--db", "4"], b"");
    let shown: Vec<&str> = keyed.out.lines().filter(|l| l.contains("  db4  ")).collect();
    assert_eq!(shown.len(), 1, "{}", keyed.out);
    assert!(shown[0].contains("SADD \"after:set\""), "{}", keyed.out);
    let json = edit(&["list", p(dir.path()), "--json", "--command", "incr", "--key", "shared:*"], b"");
    let objs: Vec<&str> = json.out.lines().filter(|l| l.starts_with('{')).collect();
    assert!(!objs.is_empty(), "{}", json.out);
    for o in objs {
        assert!(o.contains("\"command\":\"incr\"") && o.contains("\"keys\":[\"shared:counter\"]"), "{o}");
        assert!(o.contains("\"time\":1") && o.ends_with("]}"), "{o}");
    }
    let since =
        edit(&["list", p(dir.path()), "--since", "2000-01-01T00:00:00Z", "--until", "2000-01-02T00:00:00Z"], b"");
    assert!(since.out.contains("0 of "), "{}", since.out);
    let bad = edit(&["list", p(dir.path()), "--since", "yesterday"], b"");
    assert_eq!(bad.code, 2, "{}", bad.out);
}

/// Writes, then notes the time and the data set, then (from the next second on) more writes,
/// deletions and, with `rewrite`, a BGREWRITEAOF in the middle. Returns the time (Unix
/// seconds) and the data set at that time.
fn write_past_a_moment(binary: &Path, dir: &Path, rewrite: bool) -> (u64, (String, Vec<String>)) {
    let s = start_in(binary, dir, &aof_args());
    let mut c = s.connect();
    workload(&mut c, "a", &mut Rng::new(5));
    let t = now_secs();
    let then = (digest(&mut c), sizes(&mut c));
    wait_for("the next second", Duration::from_secs(3), || now_secs() > t);
    workload(&mut c, "b", &mut Rng::new(6));
    call(&mut c, &["DEL", "a:str", "a:list"]);
    if rewrite {
        assert_eq!(text(&mut c, &["BGREWRITEAOF"]), "+Background append only file rewriting started\\r\\n");
        wait_rewrite_done(&mut c);
    }
    call(&mut c, &["SET", "a:int", "changed"]);
    call(&mut c, &["FLUSHDB"]);
    drop(c);
    shutdown(s);
    (t, then)
}

fn state_of(binary: &Path, dir: &Path) -> (String, Vec<String>) {
    let s = start_in(binary, dir, &aof_args());
    let mut c = s.connect();
    (digest(&mut c), sizes(&mut c))
}

fn rfc3339(secs: u64) -> String {
    let out =
        std::process::Command::new("date").args(["-u", "-d", &format!("@{secs}"), "+%Y-%m-%dT%H:%M:%SZ"]).output();
    String::from_utf8(out.unwrap().stdout).unwrap().trim().to_string()
}

#[test]
fn restore_to_a_time_gives_the_data_set_of_that_moment() {
    for (binary, rewrite) in [(ours_binary(), false), (ours_binary(), true), (reference_binary(), false)] {
        let case = format!("{} rewrite={rewrite}", binary.display());
        let dir = tempfile::tempdir().unwrap();
        let (t, then) = write_past_a_moment(&binary, dir.path(), rewrite);
        let out = tempfile::tempdir().unwrap();
        let out_aof = out.path().join("appendonlydir");
        let before = data_tree(dir.path());
        let r = edit(&["restore-to", p(dir.path()), "--time", &rfc3339(t), "--out", p(&out_aof)], b"");
        assert_eq!(r.code, 0, "{case}: {}", r.out);
        assert!(data_tree(dir.path()) == before, "{case}: restore-to changed the original");
        check_aof(out.path());
        let redis_copy = copy_of(out.path());
        assert_eq!(state_of(&ours_binary(), out.path()), then, "{case}: strata-server loading the result");
        assert_eq!(state_of(&reference_binary(), redis_copy.path()), then, "{case}: Redis 7.0.15 loading the result");
        // Before the oldest data held: refused, nothing written.
        let none = tempfile::tempdir().unwrap();
        let r = edit(&["restore-to", p(dir.path()), "--time", "1000000000", "--out", p(none.path())], b"");
        assert_eq!(r.code, 1, "{case}: {}", r.out);
        assert!(r.out.contains("older than the oldest data"), "{case}: {}", r.out);
        assert!(names_in(none.path()).is_empty());
    }
}

#[test]
fn restore_to_a_record_works_without_timestamps() {
    let d =
        hand_made(&[&["SELECT", "0"], &["SET", "a", "1"], &["SET", "b", "2"], &["MULTI"], &["DEL", "a"], &["EXEC"]]);
    let src = d.path().join("appendonlydir");
    let out = tempfile::tempdir().unwrap();
    let r = edit(&["restore-to", p(&src), "--time", "10:00", "--out", p(out.path())], b"");
    assert_eq!(r.code, 1, "{}", r.out);
    assert!(r.out.contains("--index N"), "{}", r.out);
    // Records: 1-2 base, 3 SELECT, 4 SET a, 5 SET b, 6 MULTI, 7 DEL a, 8 EXEC. Before 7 means
    // before the transaction holding it.
    let r = edit(&["restore-to", p(&src), "--index", "7", "--out", p(&out.path().join("appendonlydir"))], b"");
    assert_eq!(r.code, 0, "{}", r.out);
    assert_eq!(incr_commands(out.path()), ["SELECT 0", "SET a 1", "SET b 2"]);
    check_aof(out.path());
    // Damage after the moment: list shows what it can read and says where it stopped;
    // restore-to before it still works.
    let incr = src.join("appendonly.aof.1.incr.aof");
    let mut bytes = std::fs::read(&incr).unwrap();
    bytes.extend_from_slice(b"*2\r\n$3\r\nDEL\r\nXX\r\n*1\r\n$4\r\nPING\r\n");
    std::fs::write(&incr, bytes).unwrap();
    let r = edit(&["list", p(&src)], b"");
    assert_eq!(r.code, 1, "{}", r.out);
    assert!(r.out.contains("SET \"b\"") && r.out.contains("not a valid AOF at offset"), "{}", r.out);
    let out2 = tempfile::tempdir().unwrap();
    let r = edit(&["restore-to", p(&src), "--index", "5", "--out", p(&out2.path().join("appendonlydir"))], b"");
    assert_eq!(r.code, 0, "{}", r.out);
    assert_eq!(incr_commands(out2.path()), ["SELECT 0", "SET a 1"]);
}

/// The keys per database a summary announces after the undo (`  db4: 10 -> 12`).
fn announced(out: &str) -> Vec<String> {
    out.lines()
        .filter_map(|l| l.trim().strip_prefix("db"))
        .filter_map(|l| {
            let (db, counts) = l.split_once(": ")?;
            let (_, after) = counts.split_once(" -> ")?;
            Some(format!("{db}:{after}"))
        })
        .filter(|s| !s.ends_with(":0"))
        .collect()
}

/// docs/recovery.md, "Someone ran FLUSHALL", step by step against a running server; with
/// `auto_rewrite`, an automatic rewrite happens after the flush first (the flush guard is off),
/// so the flush is only in the history files.
fn flushall_runbook(auto_rewrite: bool) {
    let dir = tempfile::tempdir().unwrap();
    let aof = dir.path().join("appendonlydir");
    let mut args = aof_args();
    if auto_rewrite {
        args.extend(["--aof-flush-guard", "0"]);
    }
    let s = start_in(&ours_binary(), dir.path(), &args);
    let mut c = s.connect();
    call(&mut c, &["CONFIG", "SET", "auto-aof-rewrite-percentage", "0"]);
    workload(&mut c, "a", &mut Rng::new(31));
    let want = (digest(&mut c), sizes(&mut c));
    call(&mut c, &["FLUSHALL"]);
    call(&mut c, &["SET", "after:early", "e"]);
    if auto_rewrite {
        call(&mut c, &["CONFIG", "SET", "auto-aof-rewrite-min-size", "1"]);
        call(&mut c, &["CONFIG", "SET", "auto-aof-rewrite-percentage", "1"]);
        call(&mut c, &["SET", "after:bulk", &"z".repeat(100_000)]);
        wait_for("an automatic rewrite", Duration::from_secs(20), || {
            manifest(dir.path()).iter().any(|e| e.kind == 'h') && info(&mut c, "aof_rewrite_in_progress") == "0"
        });
        call(&mut c, &["DEL", "after:bulk"]);
    }
    call(&mut c, &["DEL", "after:early"]);
    after_flush(&mut c);
    // The runbook. First: no more rewrites.
    call(&mut c, &["CONFIG", "SET", "auto-aof-rewrite-percentage", "0"]);
    // 1. The dry run, server running.
    let dry = edit(&["undo-flushall", p(&aof), "--dry-run"], b"");
    assert_eq!(dry.code, 0, "{}", dry.out);
    assert!(dry.out.contains("FLUSHALL"), "{}", dry.out);
    // 2. SHUTDOWN NOSAVE.
    drop(c);
    shutdown(s);
    // 3. In place, answering y.
    let r = edit(&["undo-flushall", p(&aof), "--in-place"], b"y\n");
    assert_eq!(r.code, 0, "{}", r.out);
    assert_eq!(announced(&r.out), announced(&dry.out), "the dry run and the edit announce the same");
    if auto_rewrite {
        assert!(r.out.contains("older base kept as history"), "{}", r.out);
    }
    // 4. Start as always: the key counts are the announced ones, and the data set is right.
    let s = start_in(&ours_binary(), dir.path(), &aof_args());
    let mut c = s.connect();
    assert_eq!(sizes(&mut c), announced(&dry.out), "INFO keyspace after the undo\n{}", dry.out);
    drop(c);
    drop(s);
    assert_eq!(undone(&ours_binary(), dir.path()), want);
}

#[test]
fn the_flushall_runbook_step_by_step() {
    flushall_runbook(false);
}

#[test]
fn the_flushall_runbook_after_an_automatic_rewrite() {
    flushall_runbook(true);
}

/// docs/recovery.md, "Someone deleted the wrong keys": list the deletions, drop them (dry run
/// first), restart: the keys are back as they were, later writes kept.
#[test]
fn the_wrong_deletions_runbook_step_by_step() {
    let dir = tempfile::tempdir().unwrap();
    let aof = dir.path().join("appendonlydir");
    let s = start_in(&ours_binary(), dir.path(), &aof_args());
    let mut c = s.connect();
    workload(&mut c, "a", &mut Rng::new(41));
    let want = (digest(&mut c), sizes(&mut c));
    call(&mut c, &["DEL", "a:hash", "a:str"]);
    call(&mut c, &["UNLINK", "a:list"]);
    call(&mut c, &["SET", "later", "kept"]);
    call(&mut c, &["CONFIG", "SET", "auto-aof-rewrite-percentage", "0"]);
    // 1. The deletions of the keys.
    let r = edit(&["list", p(&aof), "--key", "a:*", "--command", "del", "--command", "unlink", "--db", "0"], b"");
    assert_eq!(r.code, 0, "{}", r.out);
    let indexes: Vec<String> = r
        .out
        .lines()
        .filter(|l| l.contains("  db0  "))
        .filter_map(|l| l.split_whitespace().next())
        .map(String::from)
        .collect();
    // The workload deletes keys of its own too; the last two listed are ours.
    assert!(indexes.len() >= 2, "{}", r.out);
    let ours = &indexes[indexes.len() - 2..];
    let mut drop_args = vec!["drop", p(&aof)];
    for i in ours {
        drop_args.extend(["--index", i.as_str()]);
    }
    // 2. The dry run.
    let mut dry = drop_args.clone();
    dry.push("--dry-run");
    let r = edit(&dry, b"");
    assert_eq!(r.code, 0, "{}", r.out);
    assert!(r.out.contains("DEL \"a:hash\" \"a:str\"") && r.out.contains("UNLINK \"a:list\""), "{}", r.out);
    // 3. Stop, drop in place (answering y), start.
    drop(c);
    shutdown(s);
    drop_args.push("--in-place");
    let r = edit(&drop_args, b"y\n");
    assert_eq!(r.code, 0, "{}", r.out);
    let s = start_in(&ours_binary(), dir.path(), &aof_args());
    let mut c = s.connect();
    assert_eq!(text(&mut c, &["GET", "later"]), "$4\\r\\nkept\\r\\n");
    call(&mut c, &["DEL", "later"]);
    assert_eq!((digest(&mut c), sizes(&mut c)), want);
}
