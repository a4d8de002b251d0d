//! Snapshots end to end over TCP: SAVE/BGSAVE/restart keep the dataset (DEBUG DIGEST equal), Redis 7.0.15 and Strata load each other's files, a background save holds the point in time while writes go on, kill -9 during a save leaves a loadable snapshot, -LOADING while loading, MISCONF after a failed save, save rules, SHUTDOWN saves, and a damaged file stops the start.

mod support;

use std::path::Path;
use std::time::{Duration, Instant};
use support::proc::Rng;
use support::{ours_binary, reference_binary, Conn, TestServer};

fn call(c: &mut Conn, args: &[&str]) -> Vec<u8> {
    c.call(args).unwrap_or_else(|e| panic!("{args:?}: {e}")).bytes()
}

fn text(c: &mut Conn, args: &[&str]) -> String {
    String::from_utf8_lossy(&call(c, args)).into_owned()
}

fn digest(c: &mut Conn) -> String {
    let d = text(c, &["DEBUG", "DIGEST"]);
    assert!(d.starts_with('+') && d.len() == 43, "DEBUG DIGEST answered {d:?}");
    d
}

/// A field of INFO persistence.
fn info_field(c: &mut Conn, name: &str) -> String {
    let info = c.call(&["INFO", "persistence"]).unwrap();
    let body = String::from_utf8_lossy(info.payload()).into_owned();
    body.lines()
        .find_map(|l| l.strip_prefix(&format!("{name}:")).map(str::to_string))
        .unwrap_or_else(|| panic!("no {name} in INFO: {body}"))
}

/// Polls `cond` every 10 ms until it holds or `limit` passes.
fn wait_for(what: &str, limit: Duration, mut cond: impl FnMut() -> bool) {
    let deadline = Instant::now() + limit;
    while !cond() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(10));
    }
}

fn wait_bgsave_done(c: &mut Conn) {
    wait_for("the background save to end", Duration::from_secs(30), || info_field(c, "rdb_bgsave_in_progress") == "0");
}

/// Fills the server with `n` keys of every type and encoding, in several
/// databases, some with a TTL; deterministic for a seed.
fn fill(c: &mut Conn, seed: u64, n: usize) {
    let mut rng = Rng::new(seed);
    for db in [0usize, 3] {
        call(c, &["SELECT", &db.to_string()]);
        for i in 0..n {
            let k = format!("k:{seed}:{i}");
            let big = rng.below(20) == 0;
            let m = if big { 300 } else { 3 + rng.below(10) as usize };
            match rng.below(6) {
                0 => drop(call(c, &["SET", &k, &format!("value-{}", rng.next_u64())])),
                1 => drop(call(c, &["SET", &k, &rng.below(100_000).to_string()])),
                2 => {
                    let mut args = vec!["RPUSH".to_string(), k.clone()];
                    args.extend((0..m).map(|j| format!("e{j}-{}", rng.below(50))));
                    let a: Vec<&str> = args.iter().map(String::as_str).collect();
                    call(c, &a);
                }
                3 => {
                    let mut args = vec!["HSET".to_string(), k.clone()];
                    for j in 0..m {
                        args.push(format!("f{j}"));
                        args.push(rng.below(1000).to_string());
                    }
                    let a: Vec<&str> = args.iter().map(String::as_str).collect();
                    call(c, &a);
                }
                4 => {
                    let mut args = vec!["SADD".to_string(), k.clone()];
                    let ints = rng.below(2) == 0;
                    args.extend((0..m).map(|j| if ints { j.to_string() } else { format!("m{j}") }));
                    let a: Vec<&str> = args.iter().map(String::as_str).collect();
                    call(c, &a);
                }
                _ => {
                    let mut args = vec!["ZADD".to_string(), k.clone()];
                    for j in 0..m {
                        args.push(format!("{}", rng.below(1000) as f64 / 8.0));
                        args.push(format!("z{j}"));
                    }
                    let a: Vec<&str> = args.iter().map(String::as_str).collect();
                    call(c, &a);
                }
            }
            if rng.below(5) == 0 {
                call(c, &["EXPIRE", &k, "100000"]);
            }
        }
    }
    call(c, &["SELECT", "0"]);
}

/// A server of `binary` on `dir`, so that a later one finds its files.
fn start_in(binary: &Path, dir: &Path, extra: &[&str]) -> TestServer {
    let mut args = vec!["--dir", dir.to_str().unwrap()];
    args.extend_from_slice(extra);
    TestServer::start_with(binary, &args)
}

#[test]
fn save_and_bgsave_survive_a_restart() {
    let dir = tempfile::tempdir().unwrap();
    let (want, keys) = {
        let s = start_in(&ours_binary(), dir.path(), &[]);
        let mut c = s.connect();
        fill(&mut c, 1, 300);
        assert_eq!(call(&mut c, &["SAVE"]), b"+OK\r\n");
        assert_eq!(info_field(&mut c, "rdb_changes_since_last_save"), "0");
        fill(&mut c, 2, 100);
        assert_eq!(call(&mut c, &["BGSAVE"]), b"+Background saving started\r\n");
        wait_bgsave_done(&mut c);
        assert_eq!(info_field(&mut c, "rdb_last_bgsave_status"), "ok");
        assert_eq!(info_field(&mut c, "rdb_saves"), "2");
        (digest(&mut c), text(&mut c, &["DBSIZE"]))
    };
    let s = start_in(&ours_binary(), dir.path(), &[]);
    let mut c = s.connect();
    assert_eq!(digest(&mut c), want);
    assert_eq!(text(&mut c, &["DBSIZE"]), keys);
    let loaded: u64 = info_field(&mut c, "rdb_last_load_keys_loaded").parse().unwrap();
    assert!(loaded > 0);
}

#[test]
fn redis_and_strata_load_each_others_snapshots() {
    for (writer, reader) in [(ours_binary(), reference_binary()), (reference_binary(), ours_binary())] {
        let dir = tempfile::tempdir().unwrap();
        let want = {
            let s = start_in(&writer, dir.path(), &[]);
            let mut c = s.connect();
            fill(&mut c, 7, 400);
            assert_eq!(call(&mut c, &["SAVE"]), b"+OK\r\n");
            digest(&mut c)
        };
        let s = start_in(&reader, dir.path(), &[]);
        let mut c = s.connect();
        assert_eq!(digest(&mut c), want, "{} reading {}'s file", reader.display(), writer.display());
    }
}

#[test]
fn background_save_keeps_the_point_in_time_while_writes_go_on() {
    let dir = tempfile::tempdir().unwrap();
    let want = {
        // 1 ms per key (1000 keys): the save lasts long enough for the
        // writes below to land in the middle of it.
        let s = start_in(&ours_binary(), dir.path(), &["--rdb-key-save-delay", "1000"]);
        let mut c = s.connect();
        fill(&mut c, 3, 500);
        let at_start = digest(&mut c);
        assert_eq!(call(&mut c, &["BGSAVE"]), b"+Background saving started\r\n");
        assert_eq!(info_field(&mut c, "rdb_bgsave_in_progress"), "1");
        assert_eq!(text(&mut c, &["BGSAVE"]), "-ERR Background save already in progress\r\n");
        assert_eq!(text(&mut c, &["SAVE"]), "-ERR Background save already in progress\r\n");
        // Overwrites, deletions, new keys, TTL changes, renames, a flush of
        // one database and a swap, all while the walk goes on.
        let mut rng = Rng::new(99);
        for i in 0..300 {
            let k = format!("k:3:{}", rng.below(500));
            match i % 7 {
                0 => drop(call(&mut c, &["SET", &k, "changed"])),
                1 => drop(call(&mut c, &["DEL", &k])),
                2 => drop(call(&mut c, &["SET", &format!("new:{i}"), "x"])),
                3 => drop(call(&mut c, &["EXPIRE", &k, "5"])),
                4 => drop(call(&mut c, &["PERSIST", &k])),
                5 => drop(call(&mut c, &["RENAME", &k, &format!("renamed:{i}")])),
                _ => drop(call(&mut c, &["APPEND", &k, "more"])),
            }
        }
        // Element writes to collections, many to the same key: the first
        // hands the key over, later ones change a value the save may
        // still be reading (errors on other types are expected).
        for i in 0..200 {
            let k = format!("k:3:{}", rng.below(500));
            for _ in 0..3 {
                call(&mut c, &["HSET", &k, "f0", &format!("h{i}"), &format!("new{i}"), "x"]);
                call(&mut c, &["HDEL", &k, "f1"]);
                call(&mut c, &["SADD", &k, &format!("s{i}")]);
                call(&mut c, &["SREM", &k, "m0", "1"]);
                call(&mut c, &["ZADD", &k, "-5", "z0", "7", &format!("n{i}")]);
                call(&mut c, &["ZPOPMAX", &k]);
                call(&mut c, &["RPUSH", &k, "tail"]);
                call(&mut c, &["LPOP", &k]);
            }
        }
        call(&mut c, &["SELECT", "3"]);
        call(&mut c, &["FLUSHDB"]);
        call(&mut c, &["SWAPDB", "0", "3"]);
        assert_ne!(digest(&mut c), at_start);
        assert_eq!(info_field(&mut c, "rdb_bgsave_in_progress"), "1", "the save ended before the writes");
        wait_bgsave_done(&mut c);
        assert_eq!(info_field(&mut c, "rdb_last_bgsave_status"), "ok");
        at_start
    };
    let s = start_in(&reference_binary(), dir.path(), &[]);
    let mut c = s.connect();
    assert_eq!(digest(&mut c), want, "Redis loading the background save finds the dataset as it began");
}

#[test]
fn a_save_walked_while_the_server_idles_keeps_the_point_in_time() {
    // No key delay: between a client's requests the server parks and the
    // save's own thread walks the keyspace; while requests come, the
    // command thread walks. Changes land in both cases.
    let dir = tempfile::tempdir().unwrap();
    let want = {
        let s = start_in(&ours_binary(), dir.path(), &[]);
        let mut c = s.connect();
        fill(&mut c, 3, 1000);
        call(&mut c, &["SELECT", "3"]);
        assert_eq!(call(&mut c, &["DEBUG", "POPULATE", "300000", "bulk"]), b"+OK\r\n");
        call(&mut c, &["SELECT", "0"]);
        let at_start = digest(&mut c);
        assert_eq!(call(&mut c, &["BGSAVE"]), b"+Background saving started\r\n");
        let mut rng = Rng::new(7);
        let mut during = 0;
        for i in 0..200_000 {
            if i % 50 == 0 && info_field(&mut c, "rdb_bgsave_in_progress") == "0" {
                break;
            }
            during = i + 1;
            let k = format!("k:3:{}", rng.below(1000));
            let bulk = format!("bulk:{}", rng.below(300_000));
            match i % 12 {
                0 => drop(call(&mut c, &["SET", &k, "changed"])),
                1 => drop(call(&mut c, &["DEL", &k])),
                2 => drop(call(&mut c, &["SET", &format!("new:{i}"), "x"])),
                3 => drop(call(&mut c, &["EXPIRE", &k, "5"])),
                4 => drop(call(&mut c, &["RENAME", &k, &format!("renamed:{i}")])),
                5 => drop(call(&mut c, &["APPEND", &k, "more"])),
                6 => drop(call(&mut c, &["HSET", &k, "f0", "new", &format!("h{i}"), "x"])),
                7 => drop(call(&mut c, &["SADD", &k, &format!("s{i}")])),
                8 => drop(call(&mut c, &["ZADD", &k, "-5", "z0", "7", &format!("n{i}")])),
                9 => drop(call(&mut c, &["RPUSH", &k, "tail"])),
                10 => drop(call(&mut c, &["MOVE", &bulk, "5"])),
                _ => drop(call(&mut c, &["SET", &bulk, "overwritten"])),
            }
            if i == 3000 {
                call(&mut c, &["SWAPDB", "0", "3"]);
            }
            if i == 3500 {
                call(&mut c, &["SELECT", "5"]);
                call(&mut c, &["FLUSHDB"]);
                call(&mut c, &["SELECT", "0"]);
            }
        }
        assert!(during >= 300, "only {during} changes landed during the save");
        wait_bgsave_done(&mut c);
        assert_eq!(info_field(&mut c, "rdb_last_bgsave_status"), "ok");
        at_start
    };
    let s = start_in(&reference_binary(), dir.path(), &[]);
    let mut c = s.connect();
    assert_eq!(digest(&mut c), want, "Redis loading the background save finds the dataset as it began");
}

#[test]
fn kill_during_a_save_leaves_a_complete_snapshot() {
    let dir = tempfile::tempdir().unwrap();
    let mut rng = Rng::new(5);
    let first = {
        let s = start_in(&ours_binary(), dir.path(), &[]);
        let mut c = s.connect();
        fill(&mut c, 11, 300);
        call(&mut c, &["SAVE"]);
        digest(&mut c)
    };
    for round in 0..6 {
        let s = start_in(&ours_binary(), dir.path(), &["--rdb-key-save-delay", "20"]);
        let mut c = s.connect();
        assert_eq!(digest(&mut c), first, "round {round}: the last complete snapshot loads");
        fill(&mut c, 100 + round, 50);
        if round % 2 == 0 {
            call(&mut c, &["BGSAVE"]);
        } else {
            // SAVE blocks this connection: send it and do not wait.
            c.send(&["SAVE"]).unwrap();
        }
        std::thread::sleep(Duration::from_millis(rng.below(15)));
        drop(c);
        drop(s); // SIGKILL, mid-save
        let leftovers: Vec<_> = std::fs::read_dir(dir.path())
            .unwrap()
            .filter_map(|e| e.ok())
            .filter(|e| e.file_name().to_string_lossy().starts_with("temp-"))
            .collect();
        for e in leftovers {
            std::fs::remove_file(e.path()).unwrap();
        }
    }
}

#[test]
fn clients_get_loading_while_the_snapshot_loads() {
    let dir = tempfile::tempdir().unwrap();
    {
        let s = start_in(&ours_binary(), dir.path(), &[]);
        let mut c = s.connect();
        fill(&mut c, 4, 200);
        call(&mut c, &["SAVE"]);
    }
    // 5 ms per key: loading lasts seconds. The readiness probe of the test
    // helper waits for +PONG, so start it by hand.
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let mut child = std::process::Command::new(ours_binary())
        .args(["--port", &port.to_string(), "--bind", "127.0.0.1", "--save", "", "--dir"])
        .arg(dir.path())
        .args(["--key-load-delay", "5000"])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let mut c = None;
    wait_for("a connection while loading", Duration::from_secs(10), || {
        c = Conn::connect(port).ok();
        c.is_some()
    });
    let mut c = c.unwrap();
    assert_eq!(text(&mut c, &["GET", "x"]), "-LOADING Redis is loading the dataset in memory\r\n");
    assert_eq!(text(&mut c, &["PING"]), "-LOADING Redis is loading the dataset in memory\r\n");
    assert_eq!(info_field(&mut c, "loading"), "1");
    let total: u64 = info_field(&mut c, "loading_total_bytes").parse().unwrap();
    assert!(total > 0);
    let _ = child.kill();
    let _ = child.wait();
}

#[test]
fn a_failed_background_save_refuses_writes_until_a_save_succeeds() {
    let root = tempfile::tempdir().unwrap();
    let dir = root.path().join("data");
    std::fs::create_dir(&dir).unwrap();
    let s = start_in(&ours_binary(), &dir, &["--save", "3600 1"]);
    let mut c = s.connect();
    call(&mut c, &["SET", "a", "1"]);
    // The directory goes away under the server: the next save cannot write.
    std::fs::remove_dir_all(&dir).unwrap();
    call(&mut c, &["BGSAVE"]);
    wait_bgsave_done(&mut c);
    assert_eq!(info_field(&mut c, "rdb_last_bgsave_status"), "err");
    let misconf = text(&mut c, &["SET", "b", "2"]);
    assert!(misconf.starts_with("-MISCONF Redis is configured to save RDB snapshots"), "{misconf}");
    assert!(text(&mut c, &["PING"]).starts_with("-MISCONF"));
    assert_eq!(text(&mut c, &["GET", "a"]), "$1\r\n1\r\n", "reads still work");
    std::fs::create_dir(&dir).unwrap();
    assert_eq!(call(&mut c, &["SAVE"]), b"+OK\r\n");
    assert_eq!(call(&mut c, &["SET", "b", "2"]), b"+OK\r\n");
}

#[test]
fn save_rules_start_background_saves() {
    let dir = tempfile::tempdir().unwrap();
    let s = start_in(&ours_binary(), dir.path(), &["--save", "1 2"]);
    let mut c = s.connect();
    call(&mut c, &["SET", "a", "1"]);
    call(&mut c, &["SET", "b", "1"]);
    wait_for("a save by the rules", Duration::from_secs(10), || info_field(&mut c, "rdb_saves") == "1");
    wait_bgsave_done(&mut c);
    assert_eq!(info_field(&mut c, "rdb_changes_since_last_save"), "0");
    assert!(dir.path().join("dump.rdb").exists());
}

#[test]
fn shutdown_saves_when_rules_exist_and_nosave_does_not() {
    let dir = tempfile::tempdir().unwrap();
    {
        let s = start_in(&ours_binary(), dir.path(), &["--save", "3600 1"]);
        let mut c = s.connect();
        call(&mut c, &["SET", "kept", "1"]);
        let _ = c.call(&["SHUTDOWN"]);
        drop(s);
    }
    {
        let s = start_in(&ours_binary(), dir.path(), &[]);
        let mut c = s.connect();
        assert_eq!(call(&mut c, &["GET", "kept"]), b"$1\r\n1\r\n");
        call(&mut c, &["SET", "lost", "1"]);
        let _ = c.call(&["SHUTDOWN", "NOSAVE"]);
    }
    let s = start_in(&ours_binary(), dir.path(), &[]);
    let mut c = s.connect();
    assert_eq!(call(&mut c, &["EXISTS", "lost"]), b":0\r\n");
    assert_eq!(call(&mut c, &["EXISTS", "kept"]), b":1\r\n");
}

#[test]
fn a_damaged_snapshot_stops_the_start_and_is_left_alone() {
    let dir = tempfile::tempdir().unwrap();
    {
        let s = start_in(&ours_binary(), dir.path(), &[]);
        let mut c = s.connect();
        fill(&mut c, 8, 50);
        call(&mut c, &["SAVE"]);
    }
    let path = dir.path().join("dump.rdb");
    let mut bytes = std::fs::read(&path).unwrap();
    let mid = bytes.len() / 2;
    bytes[mid] ^= 0xFF;
    bytes[mid + 1] ^= 0x5A;
    std::fs::write(&path, &bytes).unwrap();
    let out = std::process::Command::new(ours_binary())
        .args(["--port", "0", "--save", "", "--dir"])
        .arg(dir.path())
        .output()
        .unwrap();
    assert!(!out.status.success(), "the server must not start on damaged data");
    let log = String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr);
    assert!(log.contains("dump.rdb"), "the log names the file: {log}");
    assert!(log.contains("byte"), "the log gives the offset: {log}");
    assert_eq!(std::fs::read(&path).unwrap(), bytes, "the file is untouched");
}

#[test]
fn flushall_with_save_rules_saves_the_empty_dataset() {
    let dir = tempfile::tempdir().unwrap();
    {
        let s = start_in(&ours_binary(), dir.path(), &["--save", "3600 1"]);
        let mut c = s.connect();
        call(&mut c, &["SET", "a", "1"]);
        call(&mut c, &["SAVE"]);
        call(&mut c, &["FLUSHALL"]);
    }
    let s = start_in(&ours_binary(), dir.path(), &[]);
    let mut c = s.connect();
    assert_eq!(call(&mut c, &["DBSIZE"]), b":0\r\n");
}

#[test]
fn every_fixture_loads_as_redis_loads_it() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures");
    let mut files: Vec<_> =
        ["encodings.rdb", "hash-zipmap.rdb", "hash-ziplist.rdb", "list-quicklist.rdb", "zset-ziplist.rdb"]
            .iter()
            .map(|n| root.join("redis-7.0.15-assets").join(n))
            .collect();
    let mut made: Vec<_> = std::fs::read_dir(root.join("rdb"))
        .unwrap()
        .filter_map(|e| e.ok().map(|e| e.path()))
        // Function libraries need the function engine, which Strata lacks.
        .filter(|p| p.extension().is_some_and(|x| x == "rdb") && !p.ends_with("functions.rdb"))
        .collect();
    made.sort();
    files.extend(made);
    assert!(files.len() > 12, "fixtures missing: {files:?}");
    for file in files {
        let name = file.display().to_string();
        let mut digests = Vec::new();
        for binary in [reference_binary(), ours_binary()] {
            let dir = tempfile::tempdir().unwrap();
            std::fs::copy(&file, dir.path().join("dump.rdb")).unwrap();
            let s = start_in(&binary, dir.path(), &[]);
            let mut c = s.connect();
            digests.push((digest(&mut c), text(&mut c, &["DBSIZE"])));
        }
        assert_eq!(digests[0], digests[1], "{name}");
    }
}
