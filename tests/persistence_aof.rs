//! Pins the multipart append-only file end to end: Redis 7.0.15 and Strata load each other's AOF directories (RDB or command bases, timestamps, rewrites), every acknowledged write survives kill -9, old single-file AOFs are upgraded, cut tails load their complete prefix, damage and bad manifests stop the start without touching files, appendonly switches at runtime, rewrite replies and automatic rewrites, DEBUG LOADAOF, and the AOF-versus-dump.rdb choice at start.

mod aof_support;
mod support;

use aof_support::*;
use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;
use support::proc::{pid_listening_on, Rng};
use support::{encode_command, ours_binary, reference_binary, Conn, TestServer};

const STARTED: &str = "+Background append only file rewriting started\\r\\n";

fn aof_args<'a>(extra: &[&'a str]) -> Vec<&'a str> {
    let mut a = vec!["--appendonly", "yes"];
    a.extend_from_slice(extra);
    a
}

/// The dataset of a server: its digest and the size of each database.
fn state(c: &mut Conn) -> (String, Vec<String>) {
    (digest(c), sizes(c))
}

/// Workload, a rewrite with writes going on during it, more writes; returns
/// the resulting state. `binary` runs with `--appendonly yes` plus `extra`
/// on `dir`, and is stopped with SHUTDOWN NOSAVE.
fn write_with_rewrite(binary: &Path, dir: &Path, extra: &[&str], seed: u64) -> (String, Vec<String>) {
    let s = start_in(binary, dir, &aof_args(extra));
    let mut c = s.connect();
    let mut rng = Rng::new(seed);
    workload(&mut c, "a", &mut rng);
    assert_eq!(text(&mut c, &["BGREWRITEAOF"]), STARTED);
    workload(&mut c, "b", &mut rng);
    wait_rewrite_done(&mut c);
    assert_eq!(info(&mut c, "aof_last_bgrewrite_status"), "ok");
    if extra.contains(&"--aof-timestamp-enabled") {
        // The writes below come in a later second than any before: the
        // incr file then holds a timestamp annotation.
        let t = now_secs();
        wait_for("the next second", Duration::from_secs(3), || now_secs() > t);
    }
    workload(&mut c, "c", &mut rng);
    let want = state(&mut c);
    drop(c);
    shutdown(s);
    want
}

/// The `#TS:` annotations of a file of commands; each must be a time
/// between `from` and now.
fn timestamps(bytes: &[u8], from: u64, what: &str) -> Vec<u64> {
    let mut out = Vec::new();
    let mut pos = 0;
    let mut in_cmds = commands(bytes).into_iter().peekable();
    while pos < bytes.len() {
        if in_cmds.peek().is_some_and(|c| c.start == pos) {
            pos = in_cmds.next().unwrap().end;
            continue;
        }
        let nl = bytes[pos..].windows(2).position(|w| w == b"\r\n").unwrap() + pos;
        let line = std::str::from_utf8(&bytes[pos..nl]).unwrap();
        let t: u64 = line
            .strip_prefix("#TS:")
            .and_then(|t| t.parse().ok())
            .unwrap_or_else(|| panic!("{what}: unexpected line {line:?}"));
        assert!((from..=now_secs()).contains(&t), "{what}: #TS:{t} is not a time of this test");
        out.push(t);
        pos = nl + 2;
    }
    out
}

fn ours_aof_loads_in_redis(extra: &[&str], seed: u64) {
    let from = now_secs();
    let dir = tempfile::tempdir().unwrap();
    let want = write_with_rewrite(&ours_binary(), dir.path(), extra, seed);
    let rdb = !extra.windows(2).any(|w| w == ["--aof-use-rdb-preamble", "no"]);
    let base = format!("appendonly.aof.2.base.{}", if rdb { "rdb" } else { "aof" });
    let first_base = format!("appendonly.aof.1.base.{}", if rdb { "rdb" } else { "aof" });
    let m = manifest(dir.path());
    assert_eq!(
        m,
        [
            Entry { name: base.clone(), seq: 2, kind: 'b' },
            Entry { name: "appendonly.aof.1.incr.aof".into(), seq: 1, kind: 'h' },
            Entry { name: first_base.clone(), seq: 1, kind: 'h' },
            Entry { name: "appendonly.aof.2.incr.aof".into(), seq: 2, kind: 'i' }
        ],
        "{extra:?}: the manifest after one rewrite, the replaced files kept as history (aof-history-keep 1)"
    );
    let aof_dir = dir.path().join("appendonlydir");
    let mut files: Vec<String> = m.iter().map(|e| e.name.clone()).collect();
    files.push("appendonly.aof.manifest".into());
    files.sort();
    assert_eq!(names_in(&aof_dir), files, "{extra:?}: the files the manifest names, and no others");
    let base_bytes = std::fs::read(aof_dir.join(&base)).unwrap();
    assert_eq!(base_bytes.starts_with(b"REDIS"), rdb, "{extra:?}: the base's form");
    if extra.contains(&"--aof-timestamp-enabled") {
        let incr = std::fs::read(aof_dir.join("appendonly.aof.2.incr.aof")).unwrap();
        let ts = timestamps(&incr, from, "the incr file");
        assert!(!ts.is_empty() && ts.windows(2).all(|w| w[0] < w[1]), "{extra:?}: incr file annotations {ts:?}");
        if !rdb {
            assert!(base_bytes.starts_with(b"#TS:"), "{extra:?}: the command base starts with a timestamp annotation");
            assert_eq!(timestamps(&base_bytes, from, "the base").len(), 1, "{extra:?}: one annotation in the base");
        }
    }
    check_aof(dir.path());
    let copy = copy_of(dir.path());
    let r = start_in(&reference_binary(), copy.path(), &aof_args(&[]));
    assert_eq!(state(&mut r.connect()), want, "{extra:?}: Redis 7.0.15 loading our AOF directory");
    drop(r);
    let s = start_in(&ours_binary(), dir.path(), &aof_args(extra));
    assert_eq!(state(&mut s.connect()), want, "{extra:?}: our restart on the same directory");
}

#[test]
fn redis_loads_our_aof_with_rdb_preamble() {
    ours_aof_loads_in_redis(&["--aof-use-rdb-preamble", "yes"], 1);
}

#[test]
fn redis_loads_our_aof_with_command_base() {
    ours_aof_loads_in_redis(&["--aof-use-rdb-preamble", "no"], 2);
}

#[test]
fn redis_loads_our_aof_with_timestamps() {
    ours_aof_loads_in_redis(&["--aof-use-rdb-preamble", "no", "--aof-timestamp-enabled", "yes"], 3);
    ours_aof_loads_in_redis(&["--aof-use-rdb-preamble", "yes", "--aof-timestamp-enabled", "yes"], 4);
}

#[test]
fn we_load_the_aof_redis_writes() {
    for (extra, seed) in [
        (&["--aof-use-rdb-preamble", "yes"][..], 11u64),
        (&["--aof-use-rdb-preamble", "no", "--aof-timestamp-enabled", "yes"][..], 12),
    ] {
        let dir = tempfile::tempdir().unwrap();
        let want = write_with_rewrite(&reference_binary(), dir.path(), extra, seed);
        let copy = copy_of(dir.path());
        let s = start_in(&ours_binary(), copy.path(), &aof_args(&[]));
        let mut c = s.connect();
        assert_eq!(state(&mut c), want, "{extra:?}: Strata loading Redis's AOF directory");
        // Appending goes on after Redis's files, and Redis loads the result.
        call(&mut c, &["INCR", "shared:counter"]);
        call(&mut c, &["RPUSH", "after", "x"]);
        let want = state(&mut c);
        drop(c);
        shutdown(s);
        check_aof(copy.path());
        let r = start_in(&reference_binary(), copy.path(), &aof_args(&[]));
        assert_eq!(state(&mut r.connect()), want, "{extra:?}: Redis after our appends");
    }
}

#[test]
fn kill9_keeps_every_acknowledged_write_in_each_fsync_mode() {
    for (i, mode) in ["always", "everysec", "no"].into_iter().enumerate() {
        let dir = tempfile::tempdir().unwrap();
        let args = aof_args(&["--appendfsync", mode]);
        let mut s = start_in(&ours_binary(), dir.path(), &args);
        let mut c = s.connect();
        workload(&mut c, "w", &mut Rng::new(20 + i as u64));
        let (want, mut want_sizes) = state(&mut c);
        drop(c);
        kill9(s);
        s = start_in(&ours_binary(), dir.path(), &args);
        assert_eq!(state(&mut s.connect()), (want, want_sizes.clone()), "appendfsync {mode}: restart after kill -9");

        // Writes in flight when the process dies: every acknowledged one
        // is there after the restart, in order; appending goes on after it.
        let at = want_sizes.iter().position(|e| e.split(':').next().unwrap().parse::<u32>().unwrap() > 1);
        want_sizes.insert(at.unwrap_or(want_sizes.len()), "1:1".into());
        let mut before: Vec<u64> = Vec::new();
        for round in 0..3 {
            let pid = pid_listening_on(s.port);
            let acked = Arc::new(AtomicU64::new(0));
            let writer = {
                let (port, acked) = (s.port, acked.clone());
                std::thread::spawn(move || push_until_killed(port, acked))
            };
            wait_for("acknowledged writes", Duration::from_secs(30), || acked.load(Ordering::SeqCst) >= 1500);
            // SAFETY: kill(2) on the server process this test started.
            unsafe {
                libc::kill(pid as i32, libc::SIGKILL);
            }
            writer.join().unwrap();
            let acked = acked.load(Ordering::SeqCst);
            kill9(s);
            s = start_in(&ours_binary(), dir.path(), &args);
            let mut c = s.connect();
            call(&mut c, &["SELECT", "1"]);
            let got = call(&mut c, &["LRANGE", "acked", "0", "-1"]);
            let got: Vec<u64> =
                got.items.iter().map(|f| std::str::from_utf8(f.payload()).unwrap().parse().unwrap()).collect();
            let kept = got.len().saturating_sub(before.len()) as u64;
            assert!(
                got.starts_with(&before) && kept >= acked,
                "appendfsync {mode}, round {round}: {kept} of this round's pushes after the restart, {acked} were acknowledged"
            );
            let want_list: Vec<u64> = before.iter().copied().chain(1..=kept).collect();
            assert_eq!(got, want_list, "appendfsync {mode}, round {round}: the list holds the pushes in order");
            assert_eq!(sizes(&mut c), want_sizes, "appendfsync {mode}, round {round}: the other keys");
            before = got;
        }
        drop(s);
    }
}

/// Pipelines RPUSH of 1, 2, 3... into database 1 on `port` until the
/// connection breaks; `acked` is the last value whose reply came back.
fn push_until_killed(port: u16, acked: Arc<AtomicU64>) {
    let mut c = Conn::connect(port).unwrap();
    call(&mut c, &["SELECT", "1"]);
    let mut next = 1u64;
    loop {
        let batch: Vec<u8> =
            (next..next + 16).flat_map(|i| encode_command(&["RPUSH", "acked", &i.to_string()])).collect();
        if c.send_raw(&batch).is_err() {
            return;
        }
        for i in next..next + 16 {
            match c.read_reply() {
                Ok(f) if f.kind() == b':' => acked.store(i, Ordering::SeqCst),
                _ => return,
            }
        }
        next += 16;
    }
}

/// Upgrades `dir`/appendonly.aof (holding `legacy`) with our server and
/// checks the result against Redis 7.0.15 doing the same.
fn upgrade_case(label: &str, legacy: &[u8]) {
    let root = tempfile::tempdir().unwrap();
    std::fs::write(root.path().join("appendonly.aof"), legacy).unwrap();
    let want_manifest = "file appendonly.aof seq 1 type b\nfile appendonly.aof.1.incr.aof seq 1 type i\n";
    let want = {
        let copy = copy_of(root.path());
        let r = start_in(&reference_binary(), copy.path(), &aof_args(&[]));
        let want = state(&mut r.connect());
        let m = std::fs::read_to_string(copy.path().join("appendonlydir/appendonly.aof.manifest")).unwrap();
        assert_eq!(m, want_manifest, "{label}: Redis's own upgrade (the reference)");
        want
    };
    let s = start_in(&ours_binary(), root.path(), &aof_args(&[]));
    let mut c = s.connect();
    assert_eq!(state(&mut c), want, "{label}: the data of the old file after our upgrade");
    assert!(!root.path().join("appendonly.aof").exists(), "{label}: the old file left dir");
    let aof_dir = root.path().join("appendonlydir");
    assert_eq!(std::fs::read(aof_dir.join("appendonly.aof")).unwrap(), legacy, "{label}: moved unchanged");
    assert_eq!(std::fs::read_to_string(aof_dir.join("appendonly.aof.manifest")).unwrap(), want_manifest, "{label}");
    assert_eq!(
        names_in(&aof_dir),
        ["appendonly.aof", "appendonly.aof.1.incr.aof", "appendonly.aof.manifest"],
        "{label}: the AOF directory"
    );
    call(&mut c, &["INCR", "legacy:n"]);
    call(&mut c, &["RPUSH", "legacy:l", "after-upgrade"]);
    call(&mut c, &["SELECT", "6"]);
    call(&mut c, &["SET", "after-upgrade", "1"]);
    let want = state(&mut c);
    drop(c);
    shutdown(s);
    check_aof(root.path());
    let copy = copy_of(root.path());
    let r = start_in(&reference_binary(), copy.path(), &aof_args(&[]));
    assert_eq!(state(&mut r.connect()), want, "{label}: Redis loading our upgraded directory");
    drop(r);
    let s = start_in(&ours_binary(), root.path(), &aof_args(&[]));
    assert_eq!(state(&mut s.connect()), want, "{label}: our restart after the upgrade");
}

#[test]
fn an_old_single_file_aof_of_commands_is_upgraded() {
    let far = ((now_secs() + 300_000) * 1000).to_string();
    let legacy = resp(&[
        &["SELECT", "0"],
        &["SET", "legacy:s", "hello"],
        &["APPEND", "legacy:s", " there"],
        &["RPUSH", "legacy:l", "a", "b", "c", "d"],
        &["LPOP", "legacy:l"],
        &["INCR", "legacy:n"],
        &["INCRBY", "legacy:n", "41"],
        &["HSET", "legacy:h", "f", "v", "g", "w"],
        &["SADD", "legacy:is", "1", "2", "3"],
        &["SADD", "legacy:ss", "x", "y"],
        &["ZADD", "legacy:z", "1.5", "a", "2", "b"],
        &["ZINCRBY", "legacy:z", "1", "a"],
        &["MULTI"],
        &["INCR", "legacy:n"],
        &["SET", "legacy:t", "x"],
        &["EXEC"],
        &["SET", "legacy:ttl", "v", "PXAT", &far],
        &["SELECT", "3"],
        &["SET", "legacy:db3", "x"],
        &["DEL", "nothing"],
    ]);
    upgrade_case("commands only", &legacy);
}

#[test]
fn an_old_single_file_aof_with_rdb_preamble_is_upgraded() {
    // The preamble: a snapshot Redis 7.0.15 saved, then commands after it.
    let dir = tempfile::tempdir().unwrap();
    let mut legacy = {
        let r = start_in(&reference_binary(), dir.path(), &[]);
        let mut c = r.connect();
        workload(&mut c, "p", &mut Rng::new(30));
        call(&mut c, &["SET", "legacy:n", "1"]);
        call(&mut c, &["RPUSH", "legacy:l", "first"]);
        assert_eq!(text(&mut c, &["SAVE"]), "+OK\\r\\n");
        std::fs::read(dir.path().join("dump.rdb")).unwrap()
    };
    legacy.extend(resp(&[
        &["SELECT", "0"],
        &["INCR", "shared:counter"],
        &["RPUSH", "legacy:l", "tail"],
        &["DEL", "p:str"],
        &["SELECT", "4"],
        &["APPEND", "shared:log", "+tail"],
        &["MULTI"],
        &["LPOP", "shared:queue"],
        &["ZINCRBY", "shared:zset", "1", "member"],
        &["EXEC"],
        &["SELECT", "12"],
        &["SET", "legacy:new", "x"],
    ]));
    upgrade_case("RDB preamble and commands", &legacy);
}

fn truncate(path: &Path, len: usize) {
    std::fs::OpenOptions::new().write(true).open(path).unwrap().set_len(len as u64).unwrap();
}

/// The incr file of `dir` copied from `src`, as a path in the copy.
fn incr_in(dir: &Path, incr_name: &str) -> std::path::PathBuf {
    dir.join("appendonlydir").join(incr_name)
}

#[test]
fn a_cut_tail_loads_its_complete_prefix_or_stops_the_start() {
    let src = tempfile::tempdir().unwrap();
    {
        let s = start_in(&ours_binary(), src.path(), &aof_args(&[]));
        let mut c = s.connect();
        call(&mut c, &["SET", "base:s", "v"]);
        call(&mut c, &["RPUSH", "t:l", "first"]);
        call(&mut c, &["ZADD", "base:z", "1", "a", "2", "b"]);
        call(&mut c, &["SET", "t:n", "10"]);
        assert_eq!(text(&mut c, &["BGREWRITEAOF"]), STARTED);
        wait_rewrite_done(&mut c);
        // The commands of the new incr file, all cut below.
        for cmd in [
            &["SET", "t:a", "1"][..],
            &["INCR", "t:n"],
            &["MULTI"],
            &["SET", "t:b", "2"],
            &["INCR", "t:n"],
            &["RPUSH", "t:l", "x", "y"],
            &["EXEC"],
            &["APPEND", "t:a", "23"],
            &["SELECT", "3"],
            &["RPUSH", "t:l3", "q"],
            &["SELECT", "0"],
            &["MULTI"],
            &["INCR", "t:n"],
            &["DEL", "t:b"],
            &["EXEC"],
            &["SADD", "t:s", "m"],
        ] {
            call(&mut c, cmd);
        }
        drop(c);
        kill9(s);
    }
    let incr_path = last_incr(src.path());
    let incr_name = incr_path.file_name().unwrap().to_str().unwrap().to_string();
    let bytes = std::fs::read(&incr_path).unwrap();
    let cmds = commands(&bytes);
    assert_eq!(cmds.iter().filter(|c| c.is("multi")).count(), 2, "the incr file holds both transactions");
    // Where the file may end with every command before applied: not
    // inside MULTI ... EXEC.
    let mut clean = vec![0];
    let mut in_multi = false;
    for c in &cmds {
        in_multi = (in_multi || c.is("multi")) && !c.is("exec");
        if !in_multi {
            clean.push(c.end);
        }
    }
    assert_eq!(*clean.last().unwrap(), bytes.len());
    // The data at each clean end, as Redis 7.0.15 loads it.
    let mut expect = std::collections::BTreeMap::new();
    for &end in &clean {
        let d = copy_of(src.path());
        truncate(&incr_in(d.path(), &incr_name), end);
        let r = start_in(&reference_binary(), d.path(), &aof_args(&[]));
        expect.insert(end, digest(&mut r.connect()));
    }
    let in_a_transaction = |cut: usize| {
        !clean.contains(&cut) && {
            let open = cmds.iter().rev().find(|c| c.start < cut && (c.is("multi") || c.is("exec")));
            open.is_some_and(|c| c.is("multi"))
        }
    };
    let yes = aof_args(&["--aof-load-truncated", "yes"]);
    let no = aof_args(&["--aof-load-truncated", "no"]);
    for cut in 0..=bytes.len() {
        let valid = *clean.iter().filter(|&&b| b <= cut).max().unwrap();
        // aof-load-truncated yes: the complete prefix, the file cut there.
        let d = copy_of(src.path());
        let path = incr_in(d.path(), &incr_name);
        truncate(&path, cut);
        let s = start_in(&ours_binary(), d.path(), &yes);
        let mut c = s.connect();
        assert_eq!(digest(&mut c), expect[&valid], "cut at {cut} of {incr_name}: the data of the first {valid} bytes");
        assert!(
            std::fs::read(&path).unwrap() == bytes[..valid],
            "cut at {cut}: the file is truncated to {valid} bytes, found {}",
            std::fs::metadata(&path).unwrap().len()
        );
        if cut % 5 == 0 || in_a_transaction(cut) {
            call(&mut c, &["INCR", "t:n"]);
            call(&mut c, &["SET", "after", &cut.to_string()]);
            let want = digest(&mut c);
            drop(c);
            kill9(s);
            let s = start_in(&ours_binary(), d.path(), &no);
            assert_eq!(digest(&mut s.connect()), want, "cut at {cut}: writes appended after the truncation");
            if cut % 40 == 0 || cut == bytes.len() - 1 {
                drop(s);
                let copy = copy_of(d.path());
                let r = start_in(&reference_binary(), copy.path(), &no);
                assert_eq!(digest(&mut r.connect()), want, "cut at {cut}: Redis loads the repaired directory");
            }
        } else {
            drop(c);
            drop(s);
        }
        // aof-load-truncated no: only a clean end starts.
        let d = copy_of(src.path());
        truncate(&incr_in(d.path(), &incr_name), cut);
        if clean.contains(&cut) {
            let s = start_in(&ours_binary(), d.path(), &no);
            assert_eq!(digest(&mut s.connect()), expect[&cut], "cut at {cut} (a clean end) with aof-load-truncated no");
        } else {
            let before = tree(d.path());
            let log = refused_start(&ours_binary(), d.path(), &no);
            assert!(log.contains(&incr_name), "cut at {cut}: the log names {incr_name}:\n{log}");
            assert!(tree(d.path()) == before, "cut at {cut}: the files were changed by a refused start");
        }
    }
}

/// The numbers that follow "offset " in a log.
fn offsets_in(log: &str) -> Vec<usize> {
    log.match_indices("offset ")
        .filter_map(|(i, m)| {
            let digits: String = log[i + m.len()..].chars().take_while(|c| c.is_ascii_digit()).collect();
            digits.parse().ok()
        })
        .collect()
}

#[test]
fn damage_inside_an_incr_file_stops_the_start_and_changes_nothing() {
    let src = tempfile::tempdir().unwrap();
    {
        let s = start_in(&ours_binary(), src.path(), &aof_args(&[]));
        let mut c = s.connect();
        for i in 0..30 {
            call(&mut c, &["SET", &format!("c:{i}"), &i.to_string()]);
            call(&mut c, &["RPUSH", "c:list", &i.to_string()]);
        }
        drop(c);
        kill9(s);
    }
    let incr_path = last_incr(src.path());
    let incr_name = incr_path.file_name().unwrap().to_str().unwrap().to_string();
    let bytes = std::fs::read(&incr_path).unwrap();
    let cmds = commands(&bytes);
    let mid = cmds[cmds.len() / 2..].iter().find(|c| c.is("set")).unwrap();
    assert!(mid.is("set") && bytes[mid.start..].starts_with(b"*3\r\n$3\r\n"));
    // (what, offset, new byte)
    let damage = [
        ("the '*' of a command", mid.start, b'!'),
        ("the count of a command", mid.start + 1, b'4'),
        ("the '$' of an argument", mid.start + 4, b'x'),
        ("the length of an argument", mid.start + 5, b'5'),
    ];
    for (what, at, byte) in damage {
        let d = copy_of(src.path());
        let path = incr_in(d.path(), &incr_name);
        let mut damaged = bytes.clone();
        damaged[at] = byte;
        std::fs::write(&path, &damaged).unwrap();
        let before = tree(d.path());
        for truncated in ["yes", "no"] {
            let log = refused_start(&ours_binary(), d.path(), &aof_args(&["--aof-load-truncated", truncated]));
            assert!(log.contains(&incr_name), "{what} damaged: the log names {incr_name}:\n{log}");
            assert!(
                offsets_in(&log).iter().any(|o| (mid.start..=mid.end).contains(o)),
                "{what} damaged at byte {at}: the log gives an offset within {}..{}:\n{log}",
                mid.start,
                mid.end
            );
            assert!(tree(d.path()) == before, "{what} damaged: the files were changed by a refused start");
        }
        if byte != b'5' {
            // Redis 7.0.15 refuses these too (it does not check the CRLF after
            // an argument, so a longer length is not always noticed there).
            let copy = copy_of(d.path());
            refused_start(&reference_binary(), copy.path(), &aof_args(&[]));
        }
    }
}

#[test]
fn a_bad_manifest_stops_the_start_and_changes_nothing() {
    let src = tempfile::tempdir().unwrap();
    {
        let s = start_in(&ours_binary(), src.path(), &aof_args(&["--aof-history-keep", "0"]));
        let mut c = s.connect();
        call(&mut c, &["SET", "k", "1"]);
        assert_eq!(text(&mut c, &["BGREWRITEAOF"]), STARTED);
        wait_rewrite_done(&mut c);
        call(&mut c, &["INCR", "k"]);
        drop(c);
        shutdown(s);
    }
    let m = manifest(src.path());
    assert_eq!(m.iter().map(|e| (e.seq, e.kind)).collect::<Vec<_>>(), [(2, 'b'), (2, 'i')]);
    let base = m[0].name.clone();
    let text_of = |lines: &[String]| lines.iter().map(|l| format!("{l}\n")).collect::<String>();
    let good: Vec<String> = m.iter().map(|e| format!("file {} seq {} type {}", e.name, e.seq, e.kind)).collect();
    let evil = resp(&[&["SET", "pwned", "1"]]);
    // (case, manifest text, expected in the log, file to remove)
    let cases: Vec<(&str, String, String, Option<String>)> = vec![
        (
            "an incr file that does not exist",
            text_of(&[good.clone(), vec!["file appendonly.aof.3.incr.aof seq 3 type i".into()]].concat()),
            "appendonly.aof.3.incr.aof".into(),
            None,
        ),
        ("a base that does not exist", text_of(&good), base.clone(), Some(base.clone())),
        (
            "two bases",
            text_of(&[good.clone(), vec![format!("file {base} seq 3 type b")]].concat()),
            "Found duplicate base file information".into(),
            None,
        ),
        (
            "a name with a path",
            text_of(&[good.clone(), vec!["file ../evil seq 3 type i".into()]].concat()),
            "File can't be a path, just a filename".into(),
            None,
        ),
    ];
    for (case, manifest_text, want_in_log, remove) in cases {
        let d = copy_of(src.path());
        let aof_dir = d.path().join("appendonlydir");
        std::fs::write(aof_dir.join("appendonly.aof.manifest"), &manifest_text).unwrap();
        std::fs::write(d.path().join("evil"), &evil).unwrap();
        if let Some(name) = remove {
            std::fs::remove_file(aof_dir.join(name)).unwrap();
        }
        let before = tree(d.path());
        let log = refused_start(&ours_binary(), d.path(), &aof_args(&[]));
        assert!(log.contains(&want_in_log), "{case}: the log should say {want_in_log:?}:\n{log}");
        assert!(tree(d.path()) == before, "{case}: the files were changed by a refused start");
        // Redis 7.0.15 refuses the same directory.
        let copy = copy_of(d.path());
        refused_start(&reference_binary(), copy.path(), &aof_args(&[]));
    }
}

#[test]
fn appendonly_switched_on_and_off_at_runtime() {
    let dir = tempfile::tempdir().unwrap();
    let s = start_in(&ours_binary(), dir.path(), &[]);
    let mut c = s.connect();
    let mut rng = Rng::new(40);
    workload(&mut c, "before", &mut rng);
    assert_eq!(info(&mut c, "aof_enabled"), "0");
    assert_eq!(text(&mut c, &["CONFIG", "SET", "appendonly", "yes"]), "+OK\\r\\n");
    // Writes while the first base is being written land after it.
    call(&mut c, &["INCR", "shared:counter"]);
    call(&mut c, &["RPUSH", "during", "x"]);
    wait_rewrite_done(&mut c);
    wait_for("aof_enabled:1", Duration::from_secs(30), || info(&mut c, "aof_enabled") == "1");
    assert_eq!(info(&mut c, "aof_last_bgrewrite_status"), "ok");
    assert_eq!(
        manifest(dir.path()),
        [
            Entry { name: "appendonly.aof.1.base.rdb".into(), seq: 1, kind: 'b' },
            Entry { name: "appendonly.aof.1.incr.aof".into(), seq: 1, kind: 'i' }
        ]
    );
    let want = state(&mut c);
    {
        let copy = copy_of(dir.path());
        check_aof(copy.path());
        let r = start_in(&reference_binary(), copy.path(), &aof_args(&[]));
        assert_eq!(state(&mut r.connect()), want, "Redis loading the AOF the switch made");
    }
    workload(&mut c, "after", &mut rng);
    let want = state(&mut c);
    drop(c);
    kill9(s);
    let s = start_in(&ours_binary(), dir.path(), &aof_args(&[]));
    let mut c = s.connect();
    assert_eq!(state(&mut c), want, "restart after kill -9 with appendonly yes");
    assert_eq!(text(&mut c, &["CONFIG", "SET", "appendonly", "no"]), "+OK\\r\\n");
    assert_eq!(info(&mut c, "aof_enabled"), "0");
    let files = tree(dir.path());
    workload(&mut c, "off", &mut rng);
    assert!(tree(dir.path()) == files, "writes after CONFIG SET appendonly no changed the AOF files");
    assert!(dir.path().join("appendonlydir/appendonly.aof.manifest").exists());
}

/// The replies to rewrites and saves started during each other, on a
/// server of `binary` whose background jobs take seconds.
fn overlapping_job_replies(binary: &Path) -> Vec<String> {
    let mut out = Vec::new();
    for appendonly in ["yes", "no"] {
        let dir = tempfile::tempdir().unwrap();
        let s = start_in(binary, dir.path(), &["--appendonly", appendonly, "--rdb-key-save-delay", "1000"]);
        let mut c = s.connect();
        call(&mut c, &["DEBUG", "POPULATE", "3000"]);
        if appendonly == "yes" {
            for cmd in [&["BGREWRITEAOF"][..], &["BGREWRITEAOF"], &["BGSAVE"], &["BGSAVE", "SCHEDULE"]] {
                out.push(format!("{cmd:?} -> {}", text(&mut c, cmd)));
            }
        } else {
            for cmd in [&["BGSAVE"][..], &["BGREWRITEAOF"], &["BGSAVE"], &["BGREWRITEAOF"], &["BGSAVE", "SCHEDULE"]] {
                out.push(format!("{cmd:?} -> {}", text(&mut c, cmd)));
            }
        }
        for field in ["aof_rewrite_in_progress", "rdb_bgsave_in_progress", "aof_rewrite_scheduled"] {
            out.push(format!("{field}:{}", info(&mut c, field)));
        }
        drop(c);
        shutdown(s);
    }
    out
}

#[test]
fn rewrite_and_save_replies_match_redis() {
    let ours = overlapping_job_replies(&ours_binary());
    let redis = overlapping_job_replies(&reference_binary());
    assert_eq!(ours.len(), redis.len());
    for (i, (o, r)) in ours.iter().zip(&redis).enumerate() {
        assert_eq!(o, r, "step {i} (ours left, Redis 7.0.15 right); all steps of Redis: {redis:#?}");
    }
}

#[test]
fn the_aof_is_rewritten_when_it_doubles() {
    let dir = tempfile::tempdir().unwrap();
    // Without history, as Redis: the replaced files are deleted.
    let args = aof_args(&[
        "--auto-aof-rewrite-min-size",
        "1mb",
        "--auto-aof-rewrite-percentage",
        "100",
        "--aof-history-keep",
        "0",
    ]);
    let s = start_in(&ours_binary(), dir.path(), &args);
    let mut c = s.connect();
    let mut rng = Rng::new(50);
    for i in 0..300 {
        let v: String = (0..4096).map(|_| (b'a' + rng.below(26) as u8) as char).collect();
        call(&mut c, &["SET", &format!("big:{i}"), &v]);
    }
    wait_for("an automatic rewrite", Duration::from_secs(30), || info(&mut c, "aof_rewrites") != "0");
    wait_rewrite_done(&mut c);
    assert_eq!(info(&mut c, "aof_last_bgrewrite_status"), "ok");
    // History leaves the manifest once its files are deleted.
    wait_for("one base and one incr", Duration::from_secs(10), || manifest(dir.path()).len() == 2);
    let m = manifest(dir.path());
    assert_eq!(m.iter().map(|e| e.kind).collect::<String>(), "bi", "one base and one incr: {m:?}");
    let mut want_names: Vec<String> = m.iter().map(|e| e.name.clone()).collect();
    want_names.push("appendonly.aof.manifest".into());
    want_names.sort();
    let aof_dir = dir.path().join("appendonlydir");
    wait_for("the history files to go", Duration::from_secs(10), || names_in(&aof_dir) == want_names);
    assert_eq!(names_in(&aof_dir), want_names, "the history files are deleted");
    let want = state(&mut c);
    drop(c);
    kill9(s);
    let s = start_in(&ours_binary(), dir.path(), &args);
    assert_eq!(state(&mut s.connect()), want);
}

#[test]
fn the_files_of_the_last_aof_history_keep_rewrites_stay_and_replay_to_now() {
    let dir = tempfile::tempdir().unwrap();
    let s = start_in(&ours_binary(), dir.path(), &aof_args(&[]));
    let mut c = s.connect();
    let mut rng = Rng::new(61);
    let kinds = |d: &Path| manifest(d).iter().map(|e| format!("{}{}", e.kind, e.seq)).collect::<Vec<_>>().join(" ");
    // Deleted history leaves the manifest once its files are gone.
    let settles_to = |want: &str| {
        wait_for(&format!("the manifest to read {want}"), Duration::from_secs(10), || kinds(dir.path()) == want)
    };
    let rewrite = |c: &mut Conn| {
        assert_eq!(text(c, &["BGREWRITEAOF"]), STARTED);
        wait_rewrite_done(c);
        assert_eq!(info(c, "aof_last_bgrewrite_status"), "ok");
    };
    for round in 0..3 {
        workload(&mut c, &format!("r{round}"), &mut rng);
        rewrite(&mut c);
    }
    workload(&mut c, "last", &mut rng);
    // Only the files the third rewrite replaced are history.
    settles_to("b4 h3 h3 i4");
    assert_eq!(info(&mut c, "strata_aof_history_files"), "2");
    let aof_dir = dir.path().join("appendonlydir");
    let listed = |d: &Path| {
        let mut v: Vec<String> = manifest(d).iter().map(|e| e.name.clone()).collect();
        v.push("appendonly.aof.manifest".into());
        v.sort();
        v
    };
    wait_for("the older files to go", Duration::from_secs(10), || names_in(&aof_dir) == listed(dir.path()));
    let want = state(&mut c);
    // The history base and every incr file after it replay to the same data
    // set: what a restore to an earlier time relies on.
    let chain = copy_of(dir.path());
    let m = manifest(chain.path());
    let line = |e: &Entry, kind: char| format!("file {} seq {} type {kind}\n", e.name, e.seq);
    assert!(m[2].name.ends_with(".base.rdb") && m[1].name.ends_with(".incr.aof"), "{m:?}");
    let text_of = [line(&m[2], 'b'), line(&m[1], 'i'), line(&m[3], 'i')].concat();
    std::fs::write(chain.path().join("appendonlydir/appendonly.aof.manifest"), text_of).unwrap();
    let replay = start_in(&ours_binary(), chain.path(), &aof_args(&[]));
    assert_eq!(state(&mut replay.connect()), want, "history base + history incr + current incr");
    drop(replay);
    // Redis 7.0.15 loads the directory with its history entries.
    let copy = copy_of(dir.path());
    let r = start_in(&reference_binary(), copy.path(), &aof_args(&[]));
    assert_eq!(state(&mut r.connect()), want, "Redis 7.0.15 loading a directory with history");
    drop(r);
    // Two kept: the next rewrite adds to the history; none kept: it goes.
    call(&mut c, &["CONFIG", "SET", "aof-history-keep", "2"]);
    rewrite(&mut c);
    settles_to("b5 h4 h4 h3 h3 i5");
    call(&mut c, &["CONFIG", "SET", "aof-history-keep", "0"]);
    rewrite(&mut c);
    settles_to("b6 i6");
    wait_for("the history files to go", Duration::from_secs(10), || names_in(&aof_dir) == listed(dir.path()));
    let want = state(&mut c);
    drop(c);
    kill9(s);
    let s = start_in(&ours_binary(), dir.path(), &aof_args(&[]));
    assert_eq!(state(&mut s.connect()), want);
}

#[test]
fn a_flush_holds_automatic_rewrites_back_for_aof_flush_guard() {
    let dir = tempfile::tempdir().unwrap();
    let args = aof_args(&["--auto-aof-rewrite-min-size", "64kb", "--auto-aof-rewrite-percentage", "100"]);
    let s = start_in(&ours_binary(), dir.path(), &args);
    let mut c = s.connect();
    // Strata's own directive: found by its name, not by patterns.
    assert_eq!(
        text(&mut c, &["CONFIG", "GET", "aof-flush-guard"]),
        "*2\\r\\n$15\\r\\naof-flush-guard\\r\\n$4\\r\\n3600\\r\\n"
    );
    assert_eq!(text(&mut c, &["CONFIG", "GET", "aof-flush*"]), "*0\\r\\n");
    let v = "x".repeat(4096);
    for i in 0..20 {
        call(&mut c, &["SET", &format!("before:{i}"), &v]);
    }
    call(&mut c, &["FLUSHALL"]);
    for i in 0..40 {
        call(&mut c, &["SET", &format!("after:{i}"), &v]);
    }
    // The AOF has grown past both thresholds: the periodic check finds a
    // rewrite due and says why it waits.
    wait_for("the postponement in the log", Duration::from_secs(10), || {
        s.log_tail(50).contains("Automatic AOF rewrite postponed")
    });
    assert_eq!(info(&mut c, "aof_rewrites"), "0");
    let left: i64 = info(&mut c, "strata_aof_flush_guard_left_sec").parse().unwrap();
    assert!((3590..=3600).contains(&left), "seconds left {left}");
    assert_eq!(manifest(dir.path()).len(), 2, "the first base and incr file are still there");
    // Turned off, the rewrite the growth calls for runs.
    call(&mut c, &["CONFIG", "SET", "aof-flush-guard", "0"]);
    assert_eq!(info(&mut c, "strata_aof_flush_guard_left_sec"), "0");
    wait_for("the automatic rewrite", Duration::from_secs(30), || info(&mut c, "aof_rewrites") != "0");
    wait_rewrite_done(&mut c);
    // A flush found while loading holds them back too.
    call(&mut c, &["CONFIG", "SET", "aof-flush-guard", "3600"]);
    call(&mut c, &["FLUSHDB"]);
    let want = state(&mut c);
    drop(c);
    kill9(s);
    let s = start_in(&ours_binary(), dir.path(), &args);
    let mut c = s.connect();
    assert_eq!(state(&mut c), want);
    let left: i64 = info(&mut c, "strata_aof_flush_guard_left_sec").parse().unwrap();
    assert!(left > 3500, "a loaded FLUSHDB starts the guard: {left} seconds left");
}

#[test]
fn debug_loadaof_gives_back_the_same_data() {
    for (i, preamble) in ["yes", "no"].into_iter().enumerate() {
        let dir = tempfile::tempdir().unwrap();
        let s = start_in(&ours_binary(), dir.path(), &aof_args(&["--aof-use-rdb-preamble", preamble]));
        let mut c = s.connect();
        let mut rng = Rng::new(60 + i as u64);
        workload(&mut c, "a", &mut rng);
        assert_eq!(text(&mut c, &["DEBUG", "LOADAOF"]), "+OK\\r\\n");
        workload(&mut c, "b", &mut rng);
        assert_eq!(text(&mut c, &["BGREWRITEAOF"]), STARTED);
        wait_rewrite_done(&mut c);
        workload(&mut c, "c", &mut rng);
        let want = state(&mut c);
        assert_eq!(text(&mut c, &["DEBUG", "LOADAOF"]), "+OK\\r\\n");
        assert_eq!(state(&mut c), want, "preamble {preamble}: after DEBUG LOADAOF");
        call(&mut c, &["INCR", "shared:counter"]);
        let want = state(&mut c);
        drop(c);
        kill9(s);
        let s = start_in(&ours_binary(), dir.path(), &aof_args(&[]));
        assert_eq!(state(&mut s.connect()), want, "preamble {preamble}: restart after DEBUG LOADAOF and a write");
    }
}

#[test]
fn the_aof_wins_over_dump_rdb_and_a_lone_dump_rdb_seeds_the_first_base() {
    // A dump.rdb with other data.
    let snap = tempfile::tempdir().unwrap();
    let snap_state = {
        let s = start_in(&ours_binary(), snap.path(), &[]);
        let mut c = s.connect();
        workload(&mut c, "rdb", &mut Rng::new(70));
        call(&mut c, &["SET", "from", "rdb"]);
        assert_eq!(text(&mut c, &["SAVE"]), "+OK\\r\\n");
        state(&mut c)
    };
    let rdb = std::fs::read(snap.path().join("dump.rdb")).unwrap();

    // Both: the AOF is the data set, for Redis and for us.
    let dir = tempfile::tempdir().unwrap();
    let aof_state = {
        let s = start_in(&ours_binary(), dir.path(), &aof_args(&[]));
        let mut c = s.connect();
        workload(&mut c, "aof", &mut Rng::new(71));
        call(&mut c, &["SET", "from", "aof"]);
        let st = state(&mut c);
        drop(c);
        shutdown(s);
        st
    };
    std::fs::write(dir.path().join("dump.rdb"), &rdb).unwrap();
    for binary in [reference_binary(), ours_binary()] {
        let copy = copy_of(dir.path());
        let s = start_in(&binary, copy.path(), &aof_args(&[]));
        assert_eq!(state(&mut s.connect()), aof_state, "{}: the AOF wins over dump.rdb", binary.display());
    }

    // Only dump.rdb: its data is kept, and written into the first base.
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("dump.rdb"), &rdb).unwrap();
    let s: TestServer = start_in(&ours_binary(), dir.path(), &aof_args(&[]));
    let mut c = s.connect();
    assert_eq!(state(&mut c), snap_state, "switching to the AOF keeps the data of dump.rdb");
    assert_eq!(
        manifest(dir.path()),
        [
            Entry { name: "appendonly.aof.1.base.rdb".into(), seq: 1, kind: 'b' },
            Entry { name: "appendonly.aof.1.incr.aof".into(), seq: 1, kind: 'i' }
        ]
    );
    drop(c);
    kill9(s);
    std::fs::remove_file(dir.path().join("dump.rdb")).unwrap();
    for binary in [reference_binary(), ours_binary()] {
        let copy = copy_of(dir.path());
        let s = start_in(&binary, copy.path(), &aof_args(&[]));
        assert_eq!(
            state(&mut s.connect()),
            snap_state,
            "{}: the first base holds the data of dump.rdb",
            binary.display()
        );
    }
}
