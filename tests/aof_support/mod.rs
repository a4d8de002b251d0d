//! Helpers for the AOF tests: servers started on a chosen data directory,
//! stopped cleanly or killed, starts that must fail (with their log), the
//! manifest and the files of an AOF directory, RESP commands found in an
//! incremental file, and a deterministic mixed workload over every type.
#![allow(dead_code)]

use crate::support::proc::{pid_listening_on, run_tool, Rng};
use crate::support::{encode_command, escape, Conn, Frame, TestServer};
use std::collections::BTreeMap;
use std::fs::File;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

/// Sends a command and returns its reply, whatever it is.
pub fn reply(c: &mut Conn, args: &[&str]) -> Frame {
    c.call(args).unwrap_or_else(|e| panic!("{args:?}: {e}"))
}

/// Sends a command that must not fail.
pub fn call(c: &mut Conn, args: &[&str]) -> Frame {
    let f = reply(c, args);
    assert_ne!(f.kind(), b'-', "{args:?} failed: {}", escape(&f.bytes()));
    f
}

/// The reply as printable text (CRLF escaped).
pub fn text(c: &mut Conn, args: &[&str]) -> String {
    escape(&reply(c, args).bytes())
}

pub fn digest(c: &mut Conn) -> String {
    let d = reply(c, &["DEBUG", "DIGEST"]);
    assert!(d.kind() == b'+' && d.payload().len() == 40, "DEBUG DIGEST answered {}", escape(&d.bytes()));
    String::from_utf8(d.payload().to_vec()).unwrap()
}

/// The number of keys in every database, as `db:count` pairs.
pub fn sizes(c: &mut Conn) -> Vec<String> {
    let mut out = Vec::new();
    for db in 0..16 {
        call(c, &["SELECT", &db.to_string()]);
        let n = call(c, &["DBSIZE"]);
        if n.payload() != b"0" {
            out.push(format!("{db}:{}", String::from_utf8_lossy(n.payload())));
        }
    }
    call(c, &["SELECT", "0"]);
    out
}

/// A field of INFO persistence.
pub fn info(c: &mut Conn, name: &str) -> String {
    let body = call(c, &["INFO", "persistence"]);
    let body = String::from_utf8_lossy(body.payload()).into_owned();
    body.lines()
        .find_map(|l| l.strip_prefix(&format!("{name}:")).map(str::to_string))
        .unwrap_or_else(|| panic!("no {name} in INFO persistence: {body}"))
}

/// Polls `cond` every 10 ms until it holds; fails after `limit`.
pub fn wait_for(what: &str, limit: Duration, mut cond: impl FnMut() -> bool) {
    let deadline = Instant::now() + limit;
    while !cond() {
        assert!(Instant::now() < deadline, "timed out after {limit:?} waiting for {what}");
        std::thread::sleep(Duration::from_millis(10));
    }
}

/// Waits until no rewrite runs nor is scheduled.
pub fn wait_rewrite_done(c: &mut Conn) {
    wait_for("the AOF rewrite to end", Duration::from_secs(30), || {
        info(c, "aof_rewrite_in_progress") == "0" && info(c, "aof_rewrite_scheduled") == "0"
    });
}

/// A server of `binary` whose data directory is `dir`.
pub fn start_in(binary: &Path, dir: &Path, extra: &[&str]) -> TestServer {
    let mut args = vec!["--dir", dir.to_str().unwrap()];
    args.extend_from_slice(extra);
    TestServer::start_with(binary, &args)
}

/// SHUTDOWN NOSAVE, then waits until the process has exited.
pub fn shutdown(server: TestServer) {
    let pid = pid_listening_on(server.port);
    let mut c = server.connect();
    c.send(&["SHUTDOWN", "NOSAVE"]).unwrap();
    // The server closes the connection as it exits; an error reply is a failure.
    if let Ok(f) = c.read_reply() {
        panic!("SHUTDOWN NOSAVE answered {}", escape(&f.bytes()));
    }
    wait_for("the server to exit after SHUTDOWN", Duration::from_secs(20), || exited(pid));
    drop(server);
}

/// Kills the server at once (SIGKILL), as a crash would.
pub fn kill9(server: TestServer) {
    drop(server);
}

/// Whether `pid` is gone or a zombie.
pub fn exited(pid: u32) -> bool {
    match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
        Err(_) => true,
        // The state follows the parenthesised command name.
        Ok(stat) => stat.rsplit_once(')').is_some_and(|(_, rest)| rest.trim_start().starts_with('Z')),
    }
}

/// Starts `binary` on `dir`, which must make it exit with a failure
/// status; returns everything it logged. A server that starts serving
/// instead is killed and the test fails.
pub fn refused_start(binary: &Path, dir: &Path, extra: &[&str]) -> String {
    let logdir = tempfile::tempdir().unwrap();
    let log = logdir.path().join("server.log");
    let out = File::create(&log).unwrap();
    let port = crate::support::free_port();
    let mut child = Command::new(binary)
        .args(["--port", &port.to_string(), "--bind", "127.0.0.1", "--save", "", "--dir"])
        .arg(dir)
        .args(extra)
        .stdin(Stdio::null())
        .stdout(out.try_clone().unwrap())
        .stderr(out)
        .spawn()
        .unwrap_or_else(|e| panic!("spawn {}: {e}", binary.display()));
    let read_log = || std::fs::read_to_string(&log).unwrap_or_default();
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            let text = read_log();
            assert!(!status.success(), "{} exited with success: {text}", binary.display());
            return text;
        }
        let serving = Conn::connect(port)
            .ok()
            .and_then(|mut c| c.call(&["PING"]).ok())
            .is_some_and(|f| f.bytes() == b"+PONG\r\n");
        if serving || Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            panic!(
                "{} {extra:?} on {} started instead of refusing; log:\n{}",
                binary.display(),
                dir.display(),
                read_log()
            );
        }
        std::thread::sleep(Duration::from_millis(5));
    }
}

/// One line of a manifest.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    pub name: String,
    pub seq: i64,
    pub kind: char,
}

/// The manifest of `dir`/appendonlydir (plain names only).
pub fn manifest(dir: &Path) -> Vec<Entry> {
    let path = dir.join("appendonlydir").join("appendonly.aof.manifest");
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("read {}: {e}", path.display()));
    text.lines()
        .map(|l| {
            let w: Vec<&str> = l.split_whitespace().collect();
            assert!(w.len() == 6 && w[0] == "file" && w[2] == "seq" && w[4] == "type", "manifest line {l:?}");
            Entry { name: w[1].into(), seq: w[3].parse().unwrap(), kind: w[5].chars().next().unwrap() }
        })
        .collect()
}

/// The last incremental file the manifest names (the one written to).
pub fn last_incr(dir: &Path) -> PathBuf {
    let m = manifest(dir);
    let e = m.iter().filter(|e| e.kind == 'i').last().unwrap_or_else(|| panic!("no incr file in {m:?}"));
    dir.join("appendonlydir").join(&e.name)
}

/// Names of the files in a directory, sorted; the lock file a running
/// server keeps there (`appendonly.aof.lock`) is not part of the AOF and is
/// left out.
pub fn names_in(dir: &Path) -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("list {}: {e}", dir.display()))
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| !n.ends_with(".aof.lock"))
        .collect();
    v.sort();
    v
}

/// Every file under `dir` (relative path) with its bytes.
pub fn tree(dir: &Path) -> BTreeMap<PathBuf, Vec<u8>> {
    fn walk(root: &Path, at: &Path, out: &mut BTreeMap<PathBuf, Vec<u8>>) {
        for e in std::fs::read_dir(at).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                walk(root, &p, out);
            } else {
                out.insert(p.strip_prefix(root).unwrap().to_path_buf(), std::fs::read(&p).unwrap());
            }
        }
    }
    let mut out = BTreeMap::new();
    walk(dir, dir, &mut out);
    out
}

/// Copies the files and directories under `from` into `to` (created).
pub fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for (rel, bytes) in tree(from) {
        let p = to.join(rel);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, bytes).unwrap();
    }
}

/// A fresh copy of `from` in a new temporary directory.
pub fn copy_of(from: &Path) -> tempfile::TempDir {
    let d = tempfile::tempdir().unwrap();
    copy_dir(from, d.path());
    d
}

/// Runs `redis-check-aof` on the manifest of `dir`; it must find it valid.
pub fn check_aof(dir: &Path) {
    let m = dir.join("appendonlydir").join("appendonly.aof.manifest");
    let out = run_tool("redis-check-aof", &[m.to_str().unwrap()], b"", Duration::from_secs(60));
    let said = String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success() && said.contains("All AOF files and manifest are valid"),
        "redis-check-aof on {}: {}\n{said}",
        m.display(),
        out.status
    );
}

/// One command of an AOF file: its byte range and arguments.
#[derive(Debug, Clone)]
pub struct Cmd {
    pub start: usize,
    pub end: usize,
    pub args: Vec<Vec<u8>>,
}

impl Cmd {
    pub fn is(&self, name: &str) -> bool {
        self.args[0].eq_ignore_ascii_case(name.as_bytes())
    }
}

/// The commands of a well-formed file of RESP commands (`#` lines skipped).
pub fn commands(bytes: &[u8]) -> Vec<Cmd> {
    fn line(b: &[u8], at: usize) -> (&[u8], usize) {
        let nl = b[at..].windows(2).position(|w| w == b"\r\n").expect("a CRLF-ended line") + at;
        (&b[at..nl], nl + 2)
    }
    let num = |l: &[u8]| -> usize { std::str::from_utf8(&l[1..]).unwrap().parse().unwrap() };
    let mut out = Vec::new();
    let mut pos = 0;
    while pos < bytes.len() {
        let start = pos;
        let (head, next) = line(bytes, pos);
        pos = next;
        if head[0] == b'#' {
            continue;
        }
        assert_eq!(head[0], b'*', "a command at offset {start}");
        let mut args = Vec::new();
        for _ in 0..num(head) {
            let (h, data) = line(bytes, pos);
            assert_eq!(h[0], b'$');
            let n = num(h);
            args.push(bytes[data..data + n].to_vec());
            assert_eq!(&bytes[data + n..data + n + 2], b"\r\n");
            pos = data + n + 2;
        }
        out.push(Cmd { start, end: pos, args });
    }
    out
}

/// RESP for a list of commands.
pub fn resp(cmds: &[&[&str]]) -> Vec<u8> {
    cmds.iter().flat_map(|c| encode_command(c)).collect()
}

pub fn now_secs() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_secs()
}

fn run(c: &mut Conn, args: Vec<String>) {
    let a: Vec<&str> = args.iter().map(String::as_str).collect();
    call(c, &a);
}

fn cmd(parts: &[&str]) -> Vec<String> {
    parts.iter().map(|s| s.to_string()).collect()
}

/// A mixed workload, the same for a tag and seed on every server: strings
/// (ints, big values), lists, hashes, sets (intsets too), sorted sets
/// (small and over 128 members), TTLs set in every way, several databases,
/// transactions, and commands that are not idempotent (INCR, APPEND, LPOP,
/// ZINCRBY, SPOP...) on keys shared by every call. No key expires during a
/// test. Leaves the connection in database 0.
pub fn workload(c: &mut Conn, tag: &str, rng: &mut Rng) {
    let k = |name: &str| format!("{tag}:{name}");
    let far = (now_secs() + 200_000).to_string();
    let far_ms = ((now_secs() + 300_000) * 1000).to_string();
    for db in ["0", "4"] {
        call(c, &["SELECT", db]);
        // Strings.
        call(c, &["SET", &k("str"), "hello"]);
        call(c, &["APPEND", &k("str"), " world"]);
        call(c, &["SETRANGE", &k("str"), "20", "tail"]);
        call(c, &["SET", &k("int"), "-42"]);
        call(c, &["INCRBY", &k("int"), "100"]);
        call(c, &["SET", &k("big"), &"v".repeat(70_000)]);
        let noise: String = (0..30_000).map(|_| (b'a' + rng.below(26) as u8) as char).collect();
        call(c, &["SET", &k("bignoise"), &noise]);
        call(c, &["MSET", &k("m1"), "1", &k("m2"), "two"]);
        call(c, &["SETNX", &k("m1"), "ignored"]);
        call(c, &["GETSET", &k("m2"), "2"]);
        call(c, &["INCRBYFLOAT", &k("float"), "3.25"]);
        call(c, &["INCRBYFLOAT", &k("float"), "0.1"]);
        call(c, &["INCR", "shared:counter"]);
        call(c, &["INCRBY", "shared:counter", "7"]);
        call(c, &["DECR", "shared:counter"]);
        call(c, &["APPEND", "shared:log", &format!("[{tag}]")]);
        // TTLs, all far away.
        call(c, &["SET", &k("ex"), "v", "EX", "100000"]);
        call(c, &["SETEX", &k("setex"), "100000", "v"]);
        call(c, &["PSETEX", &k("psetex"), "100000000", "v"]);
        call(c, &["SET", &k("px"), "v", "PXAT", &far_ms]);
        call(c, &["EXPIRE", &k("str"), "100000"]);
        call(c, &["PEXPIRE", &k("int"), "100000000"]);
        call(c, &["EXPIREAT", &k("float"), &far]);
        call(c, &["GETEX", &k("m1"), "EX", "50000"]);
        call(c, &["SET", &k("persisted"), "v", "EX", "100"]);
        call(c, &["PERSIST", &k("persisted")]);
        call(c, &["SET", &k("gone"), "v"]);
        call(c, &["EXPIRE", &k("gone"), "-5"]);
        // Lists.
        run(c, [cmd(&["RPUSH", &k("list")]), (0..20).map(|i| format!("e{i}")).collect()].concat());
        call(c, &["LPUSH", &k("list"), "head1", "head2"]);
        call(c, &["LPOP", &k("list")]);
        call(c, &["RPOP", &k("list"), "2"]);
        call(c, &["LINSERT", &k("list"), "BEFORE", "e5", "ins"]);
        call(c, &["LSET", &k("list"), "3", "set3"]);
        call(c, &["LREM", &k("list"), "1", "e7"]);
        call(c, &["LMOVE", &k("list"), &k("list2"), "LEFT", "RIGHT"]);
        run(
            c,
            [cmd(&["RPUSH", &k("biglist")]), (0..600).map(|i| format!("item-{i}-{}", rng.below(1000))).collect()]
                .concat(),
        );
        call(c, &["LTRIM", &k("biglist"), "5", "-5"]);
        call(c, &["RPUSH", "shared:queue", &format!("{tag}1"), &format!("{tag}2"), &format!("{tag}3")]);
        call(c, &["LPOP", "shared:queue"]);
        // A blocking pop served at once is written as a plain pop.
        call(c, &["BLPOP", "shared:queue", "1"]);
        // Hashes.
        call(c, &["HSET", &k("hash"), "a", "1", "b", "2", "c", "text"]);
        call(c, &["HINCRBY", &k("hash"), "a", "10"]);
        call(c, &["HINCRBYFLOAT", &k("hash"), "b", "0.5"]);
        call(c, &["HDEL", &k("hash"), "c"]);
        call(c, &["HSETNX", &k("hash"), "d", "4"]);
        run(
            c,
            [
                cmd(&["HSET", &k("bighash")]),
                (0..300).flat_map(|i| [format!("f{i}"), rng.below(1 << 20).to_string()]).collect(),
            ]
            .concat(),
        );
        call(c, &["HINCRBY", "shared:hash", "n", "1"]);
        // Sets.
        call(c, &["SADD", &k("intset"), "1", "2", "3", "-7", "1000000"]);
        call(c, &["SREM", &k("intset"), "2"]);
        call(c, &["SADD", &k("set"), "a", "b", "c", "d", "e"]);
        call(c, &["SPOP", &k("set")]);
        call(c, &["SMOVE", &k("set"), &k("set2"), "a"]);
        run(c, [cmd(&["SADD", &k("bigintset")]), (0..700).map(|i| (i * 3).to_string()).collect()].concat());
        run(c, [cmd(&["SADD", &k("bigset")]), (0..200).map(|i| format!("m{i}")).collect()].concat());
        call(c, &["SPOP", &k("bigset"), "3"]);
        call(c, &["SADD", "shared:set", &format!("{tag}-x"), "7"]);
        call(c, &["SUNIONSTORE", &k("union"), &k("set"), &k("intset")]);
        // Sorted sets.
        call(c, &["ZADD", &k("zset"), "1", "a", "2.5", "b", "-3", "c", "1e20", "d"]);
        call(c, &["ZINCRBY", &k("zset"), "0.1", "a"]);
        call(c, &["ZREM", &k("zset"), "b"]);
        run(
            c,
            [
                cmd(&["ZADD", &k("bigzset")]),
                (0..200).flat_map(|i| [format!("{}", rng.below(100_000) as f64 / 7.0), format!("z{i}")]).collect(),
            ]
            .concat(),
        );
        call(c, &["ZINCRBY", &k("bigzset"), "2.5", "z3"]);
        call(c, &["ZPOPMIN", &k("bigzset"), "2"]);
        call(c, &["ZREMRANGEBYRANK", &k("bigzset"), "0", "1"]);
        call(c, &["ZINCRBY", "shared:zset", "1.5", "member"]);
        call(c, &["ZUNIONSTORE", &k("zunion"), "2", &k("zset"), "shared:zset"]);
        // Transactions.
        call(c, &["MULTI"]);
        call(c, &["INCR", "shared:counter"]);
        call(c, &["RPUSH", &k("list"), "in-multi"]);
        call(c, &["SADD", &k("intset"), "99"]);
        call(c, &["GET", &k("str")]);
        call(c, &["EXEC"]);
        call(c, &["MULTI"]);
        call(c, &["APPEND", "shared:log", "!"]);
        call(c, &["EXEC"]);
        // Renames, copies, deletions.
        call(c, &["SET", &k("old"), "v"]);
        call(c, &["RENAME", &k("old"), &k("new")]);
        call(c, &["COPY", &k("hash"), &k("hashcopy")]);
        call(c, &["DEL", &k("list2")]);
        call(c, &["UNLINK", &k("set2")]);
    }
    // Other databases; one is flushed and refilled.
    call(c, &["SELECT", "9"]);
    call(c, &["SET", &k("nine"), "9"]);
    call(c, &["SELECT", "10"]);
    call(c, &["SET", &k("temp"), "1"]);
    call(c, &["FLUSHDB"]);
    call(c, &["SET", &k("after-flush"), "1"]);
    call(c, &["MULTI"]);
    call(c, &["INCR", "shared:counter"]);
    call(c, &["SELECT", "11"]);
    call(c, &["INCR", "shared:counter"]);
    call(c, &["EXEC"]);
    call(c, &["SELECT", "15"]);
    call(c, &["HSET", &k("last"), "f", "v"]);
    // A random part over a few shared keys.
    call(c, &["SELECT", "0"]);
    for i in 0..200 {
        let key = format!("r:{}", rng.below(60));
        match rng.below(8) {
            0 => drop(reply(c, &["INCR", &format!("rc:{}", rng.below(10))])),
            1 => drop(reply(c, &["APPEND", &key, &format!("{i},")])),
            2 => drop(reply(c, &["RPUSH", &format!("rl:{}", rng.below(10)), &i.to_string()])),
            3 => drop(reply(c, &["LPOP", &format!("rl:{}", rng.below(10))])),
            4 => drop(reply(c, &["ZINCRBY", "rz", &(rng.below(9) as f64 / 4.0).to_string(), &key])),
            5 => drop(reply(c, &["SADD", &format!("rs:{}", rng.below(5)), &rng.below(40).to_string()])),
            6 => drop(reply(c, &["HSET", &format!("rh:{}", rng.below(5)), &key, &i.to_string()])),
            _ => drop(reply(c, &["DEL", &key])),
        }
    }
}
