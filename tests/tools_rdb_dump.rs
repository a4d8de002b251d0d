//! The rdb-dump tool end to end: --check accepts every file Redis 7.0.15 and Strata write (fixtures, fresh saves, AOF base files and preambles) and refuses damaged ones with the byte offset, the key and exit 1; JSON output of every fixture equals what Redis 7.0.15 loaded; RESP output piped through `redis-cli --pipe` rebuilds the same DEBUG DIGEST; filters, --stats figures and exit codes.

mod rdb_support;
mod support;

use rdb_support::{assert_same, esc, parse_fixture};
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};
use strata::keyspace::quicklist::Quicklist;
use strata::keyspace::set::Set;
use strata::keyspace::zset::{AddFlags, ZSet, ZsetLimits};
use strata::keyspace::Value;
use strata::persistence::rdb::{Item, LoadOptions, RdbReader, RdbWriter, Recency, SaveOptions};
use support::proc::{run_program, run_tool, Rng};
use support::{escape, ours_binary, reference_binary, Conn, TestServer};

const TOOL: &str = env!("CARGO_BIN_EXE_rdb-dump");
/// Generous: every run here takes well under a second on a healthy machine.
const LIMIT: Duration = Duration::from_secs(120);

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures")
}

// ---------------------------------------------------------------------------
// Running the tool

struct Run {
    code: i32,
    stdout: Vec<u8>,
    stderr: String,
}

impl Run {
    fn out(&self) -> String {
        String::from_utf8_lossy(&self.stdout).into_owned()
    }

    fn what(&self) -> String {
        format!(
            "exit {}\nstdout: {}\nstderr: {}",
            self.code,
            escape(&self.stdout[..self.stdout.len().min(2000)]),
            self.stderr
        )
    }

    /// Asserts success and returns standard output.
    fn ok(self) -> Vec<u8> {
        assert_eq!(self.code, 0, "rdb-dump failed: {}", self.what());
        self.stdout
    }
}

/// Runs rdb-dump with `args` and `stdin`; fails the test if it does not end within `LIMIT`.
fn run_with_input(args: &[&str], stdin: &[u8]) -> Run {
    let out = run_program(Path::new(TOOL), args, stdin, LIMIT);
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    // A panic exits 101 and says "panicked": never acceptable, whatever the input.
    assert!(!stderr.contains("panicked"), "rdb-dump {args:?} panicked: {stderr}");
    Run { code: out.status.code().unwrap_or(-1), stdout: out.stdout, stderr }
}

fn run(args: &[&str]) -> Run {
    run_with_input(args, b"")
}

fn p(path: &Path) -> &str {
    path.to_str().expect("UTF-8 temporary path")
}

// ---------------------------------------------------------------------------
// A tiny JSON reader, enough for rdb-dump's output.

#[derive(Debug, Clone, PartialEq)]
enum J {
    Null,
    Bool(bool),
    Num(f64),
    Str(String),
    Arr(Vec<J>),
    Obj(Vec<(String, J)>),
}

impl J {
    fn get(&self, k: &str) -> &J {
        match self {
            J::Obj(v) => {
                v.iter().find(|(n, _)| n == k).map(|(_, v)| v).unwrap_or_else(|| panic!("no {k:?} in {self:?}"))
            }
            _ => panic!("not an object: {self:?}"),
        }
    }

    fn arr(&self) -> &[J] {
        match self {
            J::Arr(v) => v,
            _ => panic!("not an array: {self:?}"),
        }
    }

    fn str(&self) -> &str {
        match self {
            J::Str(s) => s,
            _ => panic!("not a string: {self:?}"),
        }
    }

    fn num(&self) -> f64 {
        match self {
            J::Num(n) => *n,
            _ => panic!("not a number: {self:?}"),
        }
    }

    /// A byte string as rdb-dump writes it: a UTF-8 string, or {"base64": ...}; with `b64`
    /// every string is base64.
    fn bytes(&self, b64: bool) -> Vec<u8> {
        match self {
            J::Str(s) if b64 => unbase64(s),
            J::Str(s) => s.as_bytes().to_vec(),
            J::Obj(_) if !b64 => unbase64(self.get("base64").str()),
            _ => panic!("not a byte string: {self:?}"),
        }
    }

    /// A score: a number, or "inf" / "-inf".
    fn score(&self) -> f64 {
        match self {
            J::Num(n) => *n,
            J::Str(s) if s == "inf" => f64::INFINITY,
            J::Str(s) if s == "-inf" => f64::NEG_INFINITY,
            _ => panic!("not a score: {self:?}"),
        }
    }
}

fn unbase64(s: &str) -> Vec<u8> {
    const A: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    assert!(s.len() % 4 == 0, "base64 of length {}", s.len());
    let mut out = Vec::new();
    for chunk in s.as_bytes().chunks(4) {
        let mut n = 0u32;
        let mut pad = 0;
        for &c in chunk {
            n <<= 6;
            if c == b'=' {
                pad += 1;
            } else {
                n |= A.iter().position(|&a| a == c).unwrap_or_else(|| panic!("bad base64 {s:?}")) as u32;
            }
        }
        out.extend_from_slice(&[(n >> 16) as u8, (n >> 8) as u8, n as u8][..3 - pad]);
    }
    out
}

struct JsonReader<'a> {
    s: &'a [u8],
    i: usize,
}

impl JsonReader<'_> {
    fn ws(&mut self) {
        while matches!(self.s.get(self.i), Some(b' ' | b'\n' | b'\r' | b'\t')) {
            self.i += 1;
        }
    }

    fn eat(&mut self, c: u8) {
        self.ws();
        assert_eq!(self.s.get(self.i), Some(&c), "JSON: expected {:?} at {} in {}", c as char, self.i, self.text());
        self.i += 1;
    }

    fn text(&self) -> String {
        String::from_utf8_lossy(&self.s[..self.s.len().min(300)]).into_owned()
    }

    fn value(&mut self) -> J {
        self.ws();
        match self.s[self.i] {
            b'n' => self.word("null", J::Null),
            b't' => self.word("true", J::Bool(true)),
            b'f' => self.word("false", J::Bool(false)),
            b'"' => J::Str(self.string()),
            b'[' => {
                self.i += 1;
                let mut v = Vec::new();
                self.ws();
                if self.s[self.i] == b']' {
                    self.i += 1;
                    return J::Arr(v);
                }
                loop {
                    v.push(self.value());
                    self.ws();
                    self.i += 1;
                    match self.s[self.i - 1] {
                        b',' => {}
                        b']' => return J::Arr(v),
                        c => panic!("JSON: {:?} in an array: {}", c as char, self.text()),
                    }
                }
            }
            b'{' => {
                self.i += 1;
                let mut v = Vec::new();
                self.ws();
                if self.s[self.i] == b'}' {
                    self.i += 1;
                    return J::Obj(v);
                }
                loop {
                    self.ws();
                    let k = self.string();
                    self.eat(b':');
                    v.push((k, self.value()));
                    self.ws();
                    self.i += 1;
                    match self.s[self.i - 1] {
                        b',' => {}
                        b'}' => return J::Obj(v),
                        c => panic!("JSON: {:?} in an object: {}", c as char, self.text()),
                    }
                }
            }
            _ => {
                let start = self.i;
                while matches!(self.s.get(self.i), Some(b'-' | b'+' | b'.' | b'e' | b'E' | b'0'..=b'9')) {
                    self.i += 1;
                }
                let t = std::str::from_utf8(&self.s[start..self.i]).unwrap();
                J::Num(t.parse().unwrap_or_else(|_| panic!("JSON: bad number {t:?} in {}", self.text())))
            }
        }
    }

    fn word(&mut self, w: &str, v: J) -> J {
        assert!(self.s[self.i..].starts_with(w.as_bytes()), "JSON: bad literal in {}", self.text());
        self.i += w.len();
        v
    }

    fn hex4(&mut self) -> u32 {
        let t = std::str::from_utf8(&self.s[self.i..self.i + 4]).unwrap();
        self.i += 4;
        u32::from_str_radix(t, 16).unwrap()
    }

    fn string(&mut self) -> String {
        self.eat(b'"');
        let mut out = Vec::new();
        loop {
            let c = self.s[self.i];
            self.i += 1;
            match c {
                b'"' => return String::from_utf8(out).expect("JSON strings are UTF-8"),
                b'\\' => {
                    let e = self.s[self.i];
                    self.i += 1;
                    match e {
                        b'"' | b'\\' | b'/' => out.push(e),
                        b'n' => out.push(b'\n'),
                        b'r' => out.push(b'\r'),
                        b't' => out.push(b'\t'),
                        b'b' => out.push(8),
                        b'f' => out.push(12),
                        b'u' => {
                            let mut cp = self.hex4();
                            if (0xD800..0xDC00).contains(&cp) {
                                assert_eq!(&self.s[self.i..self.i + 2], b"\\u");
                                self.i += 2;
                                cp = 0x10000 + ((cp - 0xD800) << 10) + (self.hex4() - 0xDC00);
                            }
                            let ch = char::from_u32(cp).expect("valid code point");
                            out.extend_from_slice(ch.to_string().as_bytes());
                        }
                        _ => panic!("JSON: bad escape in {}", self.text()),
                    }
                }
                c if c < 0x20 => panic!("JSON: raw control byte in a string: {}", self.text()),
                c => out.push(c),
            }
        }
    }
}

fn parse_json(line: &[u8]) -> J {
    let mut r = JsonReader { s: line, i: 0 };
    let v = r.value();
    r.ws();
    assert_eq!(r.i, line.len(), "JSON: trailing bytes in {}", r.text());
    v
}

fn json_lines(out: &[u8]) -> Vec<J> {
    out.split(|&b| b == b'\n').filter(|l| !l.is_empty()).map(parse_json).collect()
}

/// The fixtures' canonical dump (fixtures/README.md) of rdb-dump's JSON lines: keys by database
/// and name, set members and hash pairs sorted, scores as Redis prints them.
fn canonical_from_json(out: &[u8], b64: bool) -> Vec<String> {
    let mut keys: BTreeMap<(u64, Vec<u8>), Vec<String>> = BTreeMap::new();
    for j in json_lines(out) {
        let db = j.get("db").num() as u64;
        let key = j.get("key").bytes(b64);
        let ttl = match j.get("ttl") {
            J::Null => -1,
            t => t.num() as i64,
        };
        let ty = j.get("type").str().to_string();
        let mut lines = vec![format!("key {db} {} {ty} {} {ttl}", esc(&key), j.get("encoding").str())];
        let v = j.get("value");
        match ty.as_str() {
            "string" => lines.push(format!("  v {}", esc(&v.bytes(b64)))),
            "list" => lines.extend(v.arr().iter().map(|e| format!("  v {}", esc(&e.bytes(b64))))),
            "set" => {
                let mut m: Vec<Vec<u8>> = v.arr().iter().map(|e| e.bytes(b64)).collect();
                m.sort();
                lines.extend(m.iter().map(|e| format!("  v {}", esc(e))));
            }
            "hash" => {
                let mut pairs: Vec<(Vec<u8>, Vec<u8>)> =
                    v.arr().iter().map(|p| (p.arr()[0].bytes(b64), p.arr()[1].bytes(b64))).collect();
                pairs.sort();
                lines.extend(pairs.iter().map(|(f, x)| format!("  f {} {}", esc(f), esc(x))));
            }
            "zset" => lines.extend(v.arr().iter().map(|p| {
                format!("  z {} {}", esc(&p.arr()[0].bytes(b64)), strata::util::fmt_double(p.arr()[1].score()))
            })),
            other => panic!("unknown type {other}"),
        }
        assert!(keys.insert((db, key), lines).is_none(), "a key printed twice");
    }
    keys.into_values().flatten().collect()
}

// ---------------------------------------------------------------------------
// Fixtures

/// Every fixture dump made with the default limits: (name, file, expected lines, refused).
fn default_limit_fixtures() -> Vec<(String, PathBuf, Vec<String>, bool)> {
    let mut v = Vec::new();
    for e in std::fs::read_dir(fixtures().join("rdb")).unwrap() {
        let path = e.unwrap().path();
        if path.extension().is_none_or(|x| x != "txt") {
            continue;
        }
        let fx = parse_fixture(&std::fs::read_to_string(&path).unwrap());
        if fx.limits != strata::persistence::rdb::Limits::default() {
            continue;
        }
        let name = path.file_stem().unwrap().to_string_lossy().into_owned();
        v.push((name, fixtures().join(&fx.file), fx.lines, fx.refused.is_some()));
    }
    v.sort();
    assert!(v.len() >= 15, "fixtures missing: run fixtures/make-rdb-fixtures.py");
    v
}

#[test]
fn check_accepts_every_fixture_and_refuses_the_corrupt_one() {
    for (name, file, _, refused) in default_limit_fixtures() {
        let r = run(&["--check", p(&file)]);
        if refused {
            assert_eq!(r.code, 1, "{name}: {}", r.what());
            assert!(
                r.stderr.contains("at byte 488") && r.stderr.contains("key \"key:000000000091\""),
                "{name}: the error must name the offset and the key: {}",
                r.stderr
            );
            continue;
        }
        let out = r.ok();
        let line = String::from_utf8(out).unwrap();
        assert!(line.contains(": OK: RDB version ") && line.ends_with('\n'), "{name}: {line}");
        assert_eq!(line.lines().count(), 1, "{name}: one summary line: {line}");
        // Every other mode reads it too.
        for args in
            [&["--stats"][..], &["--stats", "-f", "json"], &["-f", "text"], &["-f", "resp"], &["--check", "-f", "json"]]
        {
            let mut a = args.to_vec();
            a.push(p(&file));
            run(&a).ok();
        }
    }
    let summary = String::from_utf8(run(&["--check", p(&fixtures().join("rdb/strings.rdb"))]).ok()).unwrap();
    assert!(summary.contains("RDB version 10, 81 keys, checksum verified (0x"), "{summary}");
    let summary = String::from_utf8(run(&["--check", p(&fixtures().join("rdb/nochecksum.rdb"))]).ok()).unwrap();
    assert!(summary.contains("checksum disabled"), "{summary}");
    let old = run(&["--check", p(&fixtures().join("redis-7.0.15-assets/encodings.rdb"))]);
    assert!(old.out().contains("RDB version 4, 13 keys, checksum absent"), "{}", old.what());
    // Empty collections: loadable (Redis skips them), each one named in a warning.
    let empty = run(&["--check", p(&fixtures().join("redis-7.0.15-assets/corrupt_empty_keys.rdb"))]);
    assert_eq!(empty.code, 0, "{}", empty.what());
    assert!(empty.out().contains("0 keys (9 empty collections skipped)"), "{}", empty.what());
    assert_eq!(empty.stderr.matches("warning: byte ").count(), 9, "{}", empty.stderr);
    assert!(run(&["-q", "--check", p(&fixtures().join("redis-7.0.15-assets/corrupt_empty_keys.rdb"))])
        .stderr
        .is_empty());
}

#[test]
fn json_of_every_fixture_is_what_redis_loaded() {
    for (name, file, want, refused) in default_limit_fixtures() {
        if refused {
            continue;
        }
        let keys_only: Vec<String> = want.iter().filter(|l| !l.starts_with("function ")).cloned().collect();
        let out = run(&["--format", "json", p(&file)]).ok();
        assert_same(&format!("{name} (json)"), &keys_only, &canonical_from_json(&out, false));
        let out = run(&["--format", "json", "--base64", p(&file)]).ok();
        assert_same(&format!("{name} (json --base64)"), &keys_only, &canonical_from_json(&out, true));
    }
}

#[test]
fn text_shows_aux_fields_functions_and_escaped_bytes() {
    let out = String::from_utf8(run(&[p(&fixtures().join("rdb/functions.rdb"))]).ok()).unwrap();
    assert!(out.starts_with("# RDB version 10\naux \"redis-ver\" \"7.0.15\"\n"), "{out}");
    assert!(out.contains("function \"#!lua name=mylib\\nredis.register_function("), "{out}");
    assert!(out.contains("db 0 \"k\" string embstr (STRING), 1 byte\n  \"v\"\n"), "{out}");
    assert!(out.ends_with("# end of snapshot: checksum verified (0x3ab514e8aa807ec0)\n"), "{out}");
    // Filters leave the file's own records out: keys only.
    let out = String::from_utf8(run(&["--key", "k", p(&fixtures().join("rdb/functions.rdb"))]).ok()).unwrap();
    assert_eq!(out, "db 0 \"k\" string embstr (STRING), 1 byte\n  \"v\"\n");
}

// ---------------------------------------------------------------------------
// Servers

fn call(c: &mut Conn, args: &[&[u8]]) -> Vec<u8> {
    let r = c.call(args).unwrap_or_else(|e| panic!("{:?}: {e}", args.iter().map(|a| escape(a)).collect::<Vec<_>>()));
    assert_ne!(r.kind(), b'-', "{}: {}", escape(args[0]), escape(&r.bytes()));
    r.bytes()
}

fn cmd(c: &mut Conn, args: &[&str]) -> Vec<u8> {
    let a: Vec<&[u8]> = args.iter().map(|s| s.as_bytes()).collect();
    call(c, &a)
}

fn digest(c: &mut Conn) -> String {
    let d = String::from_utf8_lossy(&cmd(c, &["DEBUG", "DIGEST"])).into_owned();
    assert!(d.starts_with('+') && d.len() == 43, "DEBUG DIGEST answered {d:?}");
    d
}

/// The server's working directory (where it saves dump.rdb).
fn server_dir(c: &mut Conn) -> PathBuf {
    let r = c.call(&["CONFIG", "GET", "dir"]).unwrap();
    PathBuf::from(String::from_utf8(r.items[1].payload().to_vec()).unwrap())
}

/// SAVEs and copies the snapshot to `dest`.
fn save_to(c: &mut Conn, dest: &Path) {
    cmd(c, &["SAVE"]);
    std::fs::copy(server_dir(c).join("dump.rdb"), dest).expect("copy dump.rdb");
}

/// Far in the future, so that no key expires while a test runs.
const FAR_MS: i64 = 4_102_444_800_000;

/// Fills databases 0, 5 and 15 with every type in every encoding, collections larger than a
/// RESP batch, binary bytes, scores of every kind and expiries; deterministic for a seed.
fn fill(c: &mut Conn, seed: u64) {
    let mut rng = Rng::new(seed);
    for db in ["0", "5", "15"] {
        cmd(c, &["SELECT", db]);
        for i in 0..40 {
            let k = format!("s:{i}");
            let v: Vec<u8> = match i % 5 {
                0 => (rng.next_u64() as i64).to_string().into_bytes(),
                1 => {
                    let n = rng.below(100) as usize;
                    rng.bytes(n)
                }
                2 => vec![b'x'; 300],
                3 => Vec::new(),
                _ => format!("value {i} ✓").into_bytes(),
            };
            call(c, &[b"SET", k.as_bytes(), &v]);
            if i % 3 == 0 {
                cmd(c, &["PEXPIREAT", &k, &(FAR_MS + i).to_string()]);
            }
        }
        call(c, &[b"SET", b"bin\xff\x00key", b"\x00\x01\xfe\xff"]);
        let mut list: Vec<Vec<u8>> = vec![b"RPUSH".to_vec(), b"big-list".to_vec()];
        list.extend((0..2500).map(|j| if j % 7 == 0 { rng.bytes(12) } else { format!("e{j}").into_bytes() }));
        call(c, &list.iter().map(Vec::as_slice).collect::<Vec<_>>());
        cmd(c, &["RPUSH", "small-list", "a", "1", "-5", ""]);
        let mut hash: Vec<Vec<u8>> = vec![b"HSET".to_vec(), b"big-hash".to_vec()];
        for j in 0..1500 {
            hash.push(format!("f{j}").into_bytes());
            hash.push(rng.bytes(8));
        }
        call(c, &hash.iter().map(Vec::as_slice).collect::<Vec<_>>());
        cmd(c, &["HSET", "small-hash", "name", "ann", "n", "42", "", "empty"]);
        let mut ints: Vec<String> = vec!["SADD".into(), "int-set".into()];
        ints.extend((0..300).map(|j| (j * 1_000_003 - 7).to_string()));
        cmd(c, &ints.iter().map(String::as_str).collect::<Vec<_>>());
        let mut words: Vec<Vec<u8>> = vec![b"SADD".to_vec(), b"big-set".to_vec()];
        words.extend((0..1200).map(|j| format!("m{j}-{}", rng.below(1000)).into_bytes()));
        call(c, &words.iter().map(Vec::as_slice).collect::<Vec<_>>());
        cmd(c, &["ZADD", "small-zset", "1.5", "a", "-inf", "b", "inf", "c", "0.1", "d", "-0", "e", "1e-300", "f"]);
        let mut z: Vec<String> = vec!["ZADD".into(), "big-zset".into()];
        for j in 0..1500 {
            let score = f64::from_bits(rng.next_u64() >> 2) * if j % 2 == 0 { 1.0 } else { -1.0 };
            z.push(format!("{score:?}"));
            z.push(format!("z{j}"));
        }
        cmd(c, &z.iter().map(String::as_str).collect::<Vec<_>>());
        cmd(c, &["PEXPIREAT", "big-zset", &FAR_MS.to_string()]);
    }
}

/// The commands of a RESP stream, each as its arguments.
fn resp_commands(b: &[u8]) -> Vec<Vec<Vec<u8>>> {
    fn number(b: &[u8], i: &mut usize, kind: u8) -> usize {
        assert_eq!(b[*i], kind, "RESP: {:?} expected at byte {}", kind as char, *i);
        let end = *i + b[*i..].windows(2).position(|w| w == b"\r\n").expect("CRLF");
        let n = std::str::from_utf8(&b[*i + 1..end]).unwrap().parse().unwrap();
        *i = end + 2;
        n
    }
    let mut out = Vec::new();
    let mut i = 0;
    while i < b.len() {
        let n = number(b, &mut i, b'*');
        let mut args = Vec::with_capacity(n);
        for _ in 0..n {
            let len = number(b, &mut i, b'$');
            args.push(b[i..i + len].to_vec());
            assert_eq!(&b[i + len..i + len + 2], b"\r\n");
            i += len + 2;
        }
        out.push(args);
    }
    out
}

/// Pipes `resp` into the server with `redis-cli --pipe`, which must report no error.
fn pipe_into(server: &TestServer, resp: &[u8]) {
    let port = server.port.to_string();
    let out = run_tool("redis-cli", &["-p", &port, "--pipe"], resp, LIMIT);
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(out.status.success() && text.contains("errors: 0"), "redis-cli --pipe: {text} {}", escape(&out.stderr));
}

/// Data from a `source` server, saved, dumped as RESP and piped into a fresh `target` server,
/// reads back with the same digest.
fn resp_rebuilds(source: &Path, target: &Path) {
    let tmp = tempfile::tempdir().unwrap();
    let file = tmp.path().join("dump.rdb");
    let src = TestServer::start(source);
    let mut c = src.connect();
    fill(&mut c, 7);
    let want = digest(&mut c);
    save_to(&mut c, &file);
    drop(c);
    drop(src);

    let resp = run(&["--format", "resp", p(&file)]).ok();
    let dst = TestServer::start(target);
    pipe_into(&dst, &resp);
    let mut d = dst.connect();
    assert_eq!(digest(&mut d), want, "the rebuilt data differs");
    // Collections larger than a batch took several commands, none of more than 1000 elements.
    let commands = resp_commands(&resp);
    let count = |name: &str, key: &str| {
        commands.iter().filter(|c| c[0] == name.as_bytes() && c.get(1).is_some_and(|k| k == key.as_bytes())).count()
    };
    assert_eq!(count("RPUSH", "big-list"), 3 * 3, "2500 elements in 3 commands per database");
    assert_eq!(count("HSET", "big-hash"), 2 * 3, "1500 pairs in 2 commands per database");
    assert_eq!(count("SADD", "big-set"), 2 * 3);
    assert_eq!(count("ZADD", "big-zset"), 2 * 3);
    assert_eq!(commands.iter().filter(|c| c[0] == b"SELECT").count(), 3, "one SELECT per database");
    for c in &commands {
        let per = if c[0] == b"HSET" || c[0] == b"ZADD" { 2 } else { 1 };
        assert!(c.len() <= 2 + 1000 * per, "{} with {} arguments", escape(&c[0]), c.len());
    }

    // Smaller batches, and --replace over data that is already there: same digest again.
    let resp = run(&["--format", "resp", "--batch", "7", "--replace", p(&file)]).ok();
    pipe_into(&dst, &resp);
    assert_eq!(digest(&mut d), want, "--replace did not replace");
}

#[test]
fn resp_from_a_redis_snapshot_rebuilds_the_same_data_in_strata() {
    resp_rebuilds(&reference_binary(), &ours_binary());
}

#[test]
fn resp_from_a_strata_snapshot_rebuilds_the_same_data_in_redis() {
    resp_rebuilds(&ours_binary(), &reference_binary());
}

#[test]
fn check_accepts_fresh_snapshots_of_both_servers() {
    let tmp = tempfile::tempdir().unwrap();
    for (who, bin) in [("redis", reference_binary()), ("strata", ours_binary())] {
        for compression in ["yes", "no"] {
            let server = TestServer::start_with(&bin, &["--rdbcompression", compression]);
            let mut c = server.connect();
            fill(&mut c, 11);
            let file = tmp.path().join(format!("{who}-{compression}.rdb"));
            save_to(&mut c, &file);
            let out = String::from_utf8(run(&["--check", p(&file)]).ok()).unwrap();
            let keys = 3 * (40 + 9);
            assert!(
                out.contains(&format!("RDB version 10, {keys} keys in 3 databases, checksum verified")),
                "{who}: {out}"
            );
        }
    }
}

#[test]
fn functions_are_loaded_by_the_resp_output() {
    let resp = run(&["--format", "resp", p(&fixtures().join("rdb/functions.rdb"))]).ok();
    let server = TestServer::start(&reference_binary());
    pipe_into(&server, &resp);
    let mut c = server.connect();
    assert_eq!(cmd(&mut c, &["FCALL", "myfunc", "0", "hello"]), b"$5\r\nhello\r\n");
    assert_eq!(cmd(&mut c, &["FCALL_RO", "f2", "0"]), b":1\r\n");
    assert_eq!(cmd(&mut c, &["GET", "k"]), b"$1\r\nv\r\n");
}

// ---------------------------------------------------------------------------
// Damage

/// A small file written through the library: a string, a listpack hash and a list.
fn small_file() -> Vec<u8> {
    let mut w = RdbWriter::new(Vec::new(), SaveOptions { compression: false, checksum: true }).unwrap();
    w.aux(b"redis-ver", b"7.0.15").unwrap();
    w.select_db(0, 3, 0).unwrap();
    w.key(b"greeting", &Value::string(b"hello world"), None, Recency::None).unwrap();
    let mut h = strata::keyspace::hash::Hash::new();
    let lim = strata::keyspace::hash::HashLimits { entries: 128, value: 64 };
    h.set(b"field", b"value", lim);
    h.set(b"n", b"1", lim);
    w.key(b"hash", &Value::Hash(h), None, Recency::None).unwrap();
    let mut q = Quicklist::new();
    for i in 0..50 {
        q.push_back(format!("element {i}").as_bytes(), -2);
    }
    w.key(b"list", &Value::List(Box::new(q)), None, Recency::None).unwrap();
    w.finish().unwrap()
}

/// (offset, size) of each key's record.
fn records(bytes: &[u8]) -> BTreeMap<Vec<u8>, (usize, usize)> {
    let opts = LoadOptions { build_values: false, ..LoadOptions::default() };
    let mut m = BTreeMap::new();
    for item in RdbReader::new(bytes, opts).unwrap() {
        if let Item::Key(k) = item.unwrap() {
            m.insert(k.key.to_vec(), (k.offset, k.size));
        }
    }
    m
}

/// The byte offset an error message names ("at byte N").
fn error_offset(stderr: &str) -> usize {
    let at = stderr.find("at byte ").unwrap_or_else(|| panic!("no offset in: {stderr}")) + "at byte ".len();
    stderr[at..].split(|c: char| !c.is_ascii_digit()).next().unwrap().parse().unwrap()
}

#[test]
fn check_reports_damage_with_offset_and_key() {
    let tmp = tempfile::tempdir().unwrap();
    let good = small_file();
    let file = tmp.path().join("damaged.rdb");
    let recs = records(&good);
    run_with_input(&["--check", "-"], &good).ok();

    // A bit flipped in the hash's listpack header (its total length): the structure is wrong.
    let (at, size) = recs[&b"hash"[..]];
    let mut bad = good.clone();
    // type byte, key length, "hash", listpack string length, then the listpack's total bytes.
    bad[at + 1 + 1 + 4 + 1] ^= 0x01;
    std::fs::write(&file, &bad).unwrap();
    let r = run(&["--check", p(&file)]);
    assert_eq!(r.code, 1, "{}", r.what());
    assert!(r.stderr.contains("of key \"hash\"") && r.stderr.contains("listpack"), "{}", r.stderr);
    let off = error_offset(&r.stderr);
    assert!((at..at + size).contains(&off), "offset {off} outside the record at {at}..{}", at + size);
    assert!(r.stdout.is_empty(), "a failed check prints no summary");

    // Cut inside the list: the error says it ends too early, names the key and the offset.
    let (at, size) = recs[&b"list"[..]];
    std::fs::write(&file, &good[..at + size / 2]).unwrap();
    let r = run(&["--check", p(&file)]);
    assert_eq!(r.code, 1, "{}", r.what());
    assert!(r.stderr.contains("ends too early") && r.stderr.contains("key \"list\""), "{}", r.stderr);
    assert!((at..=at + size).contains(&error_offset(&r.stderr)), "{}", r.stderr);
    // The keys before the damage can still be printed (and the exit status still says damaged).
    let r = run(&["--format", "json", p(&file)]);
    assert_eq!(r.code, 1, "{}", r.what());
    assert_eq!(json_lines(&r.stdout).len(), 2, "{}", r.what());

    // A flipped bit in a string's bytes: only the checksum can tell.
    let (at, _) = recs[&b"greeting"[..]];
    let mut bad = good.clone();
    bad[at + 1 + 1 + 8 + 1 + 3] ^= 0x20;
    std::fs::write(&file, &bad).unwrap();
    let r = run(&["--check", p(&file)]);
    assert_eq!(r.code, 1, "{}", r.what());
    assert!(r.stderr.contains("checksum mismatch"), "{}", r.stderr);
    assert_eq!(error_offset(&r.stderr), good.len() - 8, "the checksum's own offset");

    // Any single flipped bit or cut is reported (exit 1, or 3 for a version this tool does not
    // read), with an offset, and never panics.
    let mut rng = Rng::new(0x5eed);
    for _ in 0..150 {
        let mut bad = good.clone();
        if rng.below(3) == 0 {
            bad.truncate(rng.below(good.len() as u64) as usize);
        } else {
            let i = rng.below(good.len() as u64) as usize;
            bad[i] ^= 1 << rng.below(8);
        }
        std::fs::write(&file, &bad).unwrap();
        let r = run(&["--check", p(&file)]);
        assert!(r.code == 1 || r.code == 3, "damage not reported: {}", r.what());
        assert!(r.stderr.contains("byte") || r.stderr.contains("empty"), "{}", r.stderr);
    }
}

#[test]
fn check_refuses_a_key_stored_twice() {
    let tmp = tempfile::tempdir().unwrap();
    let mut w = RdbWriter::new(Vec::new(), SaveOptions { compression: false, checksum: true }).unwrap();
    w.select_db(0, 3, 0).unwrap();
    w.key(b"k", &Value::string(b"one"), None, Recency::None).unwrap();
    w.key(b"other", &Value::string(b"x"), None, Recency::None).unwrap();
    w.key(b"k", &Value::string(b"two"), None, Recency::None).unwrap();
    w.select_db(1, 1, 0).unwrap();
    w.key(b"other", &Value::string(b"x"), None, Recency::None).unwrap();
    let bytes = w.finish().unwrap();
    let file = tmp.path().join("twice.rdb");
    std::fs::write(&file, &bytes).unwrap();
    let r = run(&["--check", p(&file)]);
    assert_eq!(r.code, 1, "{}", r.what());
    let offsets: Vec<usize> = records_all(&bytes).iter().filter(|(k, _)| k == b"k").map(|(_, o)| *o).collect();
    let want =
        format!("key \"k\" is stored twice in database 0, at byte {} and again at byte {}", offsets[0], offsets[1]);
    assert!(r.stderr.contains(&want), "{}", r.stderr);
    // Printing is not checking: both records are shown.
    assert_eq!(json_lines(&run(&["-f", "json", p(&file)]).ok()).len(), 4);
}

fn records_all(bytes: &[u8]) -> Vec<(Vec<u8>, usize)> {
    let opts = LoadOptions { build_values: false, ..LoadOptions::default() };
    RdbReader::new(bytes, opts)
        .unwrap()
        .filter_map(|i| match i.unwrap() {
            Item::Key(k) => Some((k.key.to_vec(), k.offset)),
            _ => None,
        })
        .collect()
}

// ---------------------------------------------------------------------------
// Filters and statistics

/// A file with known contents: db 0 holds strings, a list and a zset; db 3 a set and strings
/// with expiries spread around `NOW`.
const NOW: i64 = 4_000_000_000_000;

fn known_file() -> Vec<u8> {
    let mut w = RdbWriter::new(Vec::new(), SaveOptions { compression: false, checksum: true }).unwrap();
    w.aux(b"redis-ver", b"7.0.15").unwrap();
    w.select_db(0, 5, 0).unwrap();
    w.key(b"user:1", &Value::string(b"ann"), None, Recency::None).unwrap();
    w.key(b"user:2", &Value::string(b"bob"), None, Recency::None).unwrap();
    w.key(b"count", &Value::string(b"42"), None, Recency::None).unwrap();
    let mut q = Quicklist::new();
    for i in 0..300 {
        q.push_back(format!("item-{i}").as_bytes(), -2);
    }
    w.key(b"queue", &Value::List(Box::new(q)), None, Recency::None).unwrap();
    let mut z = ZSet::new_lp();
    let lim = ZsetLimits { entries: 128, value: 64 };
    z.add(2.0, b"b", AddFlags::default(), lim);
    z.add(1.0 / 3.0, b"a", AddFlags::default(), lim);
    z.add(f64::INFINITY, b"top", AddFlags::default(), lim);
    w.key(b"rank", &Value::ZSet(z), None, Recency::None).unwrap();
    w.select_db(3, 7, 6).unwrap();
    let mut s = Set::new_int();
    for m in ["3", "1", "2"] {
        s.insert(m.as_bytes(), 512);
    }
    w.key(b"ids", &Value::Set(s), None, Recency::None).unwrap();
    for (k, at) in [
        ("gone", NOW - 1),
        ("t30s", NOW + 30_000),
        ("t30m", NOW + 30 * 60_000),
        ("t5h", NOW + 5 * 3_600_000),
        ("t3d", NOW + 3 * 86_400_000),
        ("t30d", NOW + 30 * 86_400_000),
    ] {
        w.key(k.as_bytes(), &Value::string(b"v"), Some(at), Recency::None).unwrap();
    }
    w.finish().unwrap()
}

fn keys_of(out: &[u8]) -> BTreeSet<String> {
    json_lines(out).iter().map(|j| format!("{}/{}", j.get("db").num(), j.get("key").str())).collect()
}

fn set(items: &[&str]) -> BTreeSet<String> {
    items.iter().map(|s| s.to_string()).collect()
}

#[test]
fn json_of_a_known_file_and_filters() {
    let tmp = tempfile::tempdir().unwrap();
    let file = tmp.path().join("known.rdb");
    std::fs::write(&file, known_file()).unwrap();
    let f = p(&file);
    let out = String::from_utf8(run(&["-f", "json", "--key", "rank", f]).ok()).unwrap();
    assert_eq!(
        out,
        "{\"db\":0,\"key\":\"rank\",\"type\":\"zset\",\"encoding\":\"listpack\",\"rdb_type\":\"ZSET_LISTPACK\",\"ttl\":null,\"value\":[[\"a\",0.3333333333333333],[\"b\",2],[\"top\",\"inf\"]]}\n"
    );
    let out = String::from_utf8(run(&["-f", "json", "--key", "t30s", "--key", "ids", f]).ok()).unwrap();
    assert_eq!(
        out,
        "{\"db\":3,\"key\":\"ids\",\"type\":\"set\",\"encoding\":\"intset\",\"rdb_type\":\"SET_INTSET\",\"ttl\":null,\"value\":[\"1\",\"2\",\"3\"]}\n\
         {\"db\":3,\"key\":\"t30s\",\"type\":\"string\",\"encoding\":\"embstr\",\"rdb_type\":\"STRING\",\"ttl\":4000000030000,\"value\":\"v\"}\n"
    );
    let out = String::from_utf8(run(&["-f", "json", "--base64", "--key", "count", f]).ok()).unwrap();
    assert_eq!(
        out,
        "{\"db\":0,\"key\":\"Y291bnQ=\",\"type\":\"string\",\"encoding\":\"int\",\"rdb_type\":\"STRING\",\"ttl\":null,\"value\":\"NDI=\"}\n"
    );

    let all = keys_of(&run(&["-f", "json", f]).ok());
    assert_eq!(all.len(), 12);
    assert_eq!(
        keys_of(&run(&["-f", "json", "--db", "0", f]).ok()),
        set(&["0/count", "0/queue", "0/rank", "0/user:1", "0/user:2"])
    );
    assert_eq!(keys_of(&run(&["-f", "json", "--db", "0,3", f]).ok()), all);
    assert_eq!(keys_of(&run(&["-f", "json", "--db", "0", "--db", "3", f]).ok()), all);
    assert!(run(&["-f", "json", "--db", "1", f]).ok().is_empty());
    assert_eq!(keys_of(&run(&["-f", "json", "--key", "user:*", f]).ok()), set(&["0/user:1", "0/user:2"]));
    assert_eq!(keys_of(&run(&["-f", "json", "--key", "t[35]0?", f]).ok()), set(&["3/t30s", "3/t30m", "3/t30d"]));
    assert_eq!(keys_of(&run(&["-f", "json", "--key", "*", f]).ok()), all);
    assert_eq!(keys_of(&run(&["-f", "json", "--type", "list,zset", f]).ok()), set(&["0/queue", "0/rank"]));
    assert_eq!(keys_of(&run(&["-f", "json", "--type", "set", "--type", "list", f]).ok()), set(&["0/queue", "3/ids"]));
    assert_eq!(
        keys_of(&run(&["-f", "json", "--type", "string", "--db", "3", "--key", "t*d", f]).ok()),
        set(&["3/t3d", "3/t30d"])
    );
    // Filters apply to every output.
    let text = String::from_utf8(run(&["--key", "queue", f]).ok()).unwrap();
    assert!(
        text.starts_with("db 0 \"queue\" list quicklist (LIST_QUICKLIST_2), 300 elements\n  \"item-0\"\n"),
        "{text}"
    );
    assert_eq!(text.lines().count(), 301);
    let resp = run(&["-f", "resp", "--type", "set", f]).ok();
    assert_eq!(
        resp,
        b"*2\r\n$6\r\nSELECT\r\n$1\r\n3\r\n*5\r\n$4\r\nSADD\r\n$3\r\nids\r\n$1\r\n1\r\n$1\r\n2\r\n$1\r\n3\r\n"
    );
    let resp = run(&["-f", "resp", "--key", "t30s", f]).ok();
    assert!(resp.ends_with(b"*3\r\n$9\r\nPEXPIREAT\r\n$4\r\nt30s\r\n$13\r\n4000000030000\r\n"), "{}", escape(&resp));
}

#[test]
fn stats_count_keys_sizes_types_and_expiries() {
    let tmp = tempfile::tempdir().unwrap();
    let bytes = known_file();
    let file = tmp.path().join("known.rdb");
    std::fs::write(&file, &bytes).unwrap();
    let f = p(&file);
    let now = NOW.to_string();
    let recs = records(&bytes);
    let total: usize = recs.values().map(|(_, s)| s).sum();
    let (queue_at, queue_size) = recs[&b"queue"[..]];

    let j = parse_json(run(&["--stats", "-f", "json", "--now", &now, f]).ok().trim_ascii_end());
    assert_eq!(j.get("rdb_version").num(), 10.0);
    assert_eq!(j.get("keys").num(), 12.0);
    assert_eq!(j.get("keys_with_expiry").num(), 6.0);
    assert_eq!(j.get("serialized_bytes").num(), total as f64);
    assert_eq!(j.get("checksum").str(), "verified");
    assert_eq!(j.get("aux").arr()[0], J::Arr(vec![J::Str("redis-ver".into()), J::Str("7.0.15".into())]));
    let dbs = j.get("dbs").arr();
    assert_eq!((dbs[0].get("db").num(), dbs[0].get("keys").num()), (0.0, 5.0));
    assert_eq!(
        (dbs[1].get("db").num(), dbs[1].get("keys").num(), dbs[1].get("keys_with_expiry").num()),
        (3.0, 7.0, 6.0)
    );
    let types = j.get("types");
    let count = |t: &str| types.get(t).get("keys").num();
    assert_eq!([count("string"), count("list"), count("set"), count("zset")], [9.0, 1.0, 1.0, 1.0]);
    assert_eq!(types.get("list").get("bytes").num(), queue_size as f64);
    assert_eq!(j.get("rdb_types").get("SET_INTSET").get("keys").num(), 1.0);
    let e = j.get("expiry");
    let bucket = |b: &str| e.get(b).num();
    assert_eq!(
        ["none", "expired", "within_1m", "within_1h", "within_1d", "within_1w", "later"].map(bucket),
        [6.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0]
    );
    let largest = j.get("largest").arr();
    assert_eq!(largest.len(), 10);
    assert_eq!(largest[0].get("key").str(), "queue");
    assert_eq!(largest[0].get("bytes").num(), queue_size as f64);
    assert_eq!(largest[0].get("offset").num(), queue_at as f64);
    assert!(largest.windows(2).all(|w| w[0].get("bytes").num() >= w[1].get("bytes").num()));

    // The same figures as text; --top and the filters apply.
    let text = String::from_utf8(run(&["--stats", "--now", &now, "--top", "2", "--db", "3", f]).ok()).unwrap();
    assert!(text.contains("keys in the file  12 (figures below: the 7 keys the filters select)"), "{text}");
    assert!(text.contains("\nkeys              7\n") && text.contains("\nkeys with expiry  6\n"), "{text}");
    assert!(text.contains("\n  already expired             1\n"), "{text}");
    assert!(text.contains("expiry (relative to 2096-10-02T07:06:40.000Z)"), "{text}");
    assert!(text.contains("\n   1. ") && !text.contains("\n   3. "), "{text}");
    assert!(text.contains("db 3 \"ids\" set (SET_INTSET)"), "{text}");
}

// ---------------------------------------------------------------------------
// AOF files

#[test]
fn reads_the_snapshot_at_the_head_of_aof_files() {
    // Redis 7.0's multi-part AOF: the base file is an RDB file.
    let tmp = tempfile::tempdir().unwrap();
    let server = TestServer::start_with(&reference_binary(), &["--appendonly", "yes"]);
    let mut c = server.connect();
    cmd(&mut c, &["SET", "a", "1"]);
    cmd(&mut c, &["RPUSH", "l", "x", "y"]);
    cmd(&mut c, &["SELECT", "2"]);
    cmd(&mut c, &["HSET", "h", "f", "v"]);
    cmd(&mut c, &["BGREWRITEAOF"]);
    let dir = server_dir(&mut c).join("appendonlydir");
    let deadline = Instant::now() + Duration::from_secs(30);
    let base = loop {
        let info = String::from_utf8_lossy(&cmd(&mut c, &["INFO", "persistence"])).into_owned();
        let idle = info.contains("aof_rewrite_in_progress:0") && info.contains("aof_rewrite_scheduled:0");
        let manifest = std::fs::read_to_string(dir.join("appendonly.aof.manifest")).unwrap_or_default();
        let base = manifest
            .lines()
            .find(|l| l.ends_with(" type b"))
            .and_then(|l| l.split(' ').nth(1))
            .filter(|name| !name.contains(".1.base"))
            .map(str::to_string);
        if let (true, Some(b)) = (idle, base) {
            break dir.join(b);
        }
        assert!(Instant::now() < deadline, "the AOF rewrite did not finish: {info}");
        std::thread::sleep(Duration::from_millis(10));
    };
    // Writes after the rewrite go to the incremental file, not the base.
    cmd(&mut c, &["SET", "after", "1"]);
    let out = String::from_utf8(run(&["--check", p(&base)]).ok()).unwrap();
    assert!(out.contains("OK: RDB version 10, 3 keys in 2 databases"), "{out}");
    assert!(!out.contains("after the end record"), "{out}");
    let text = String::from_utf8(run(&[p(&base)]).ok()).unwrap();
    assert!(text.contains("aux \"aof-base\" \"1\""), "{text}");
    assert_eq!(keys_of(&run(&["-f", "json", p(&base)]).ok()), set(&["0/a", "0/l", "2/h"]));

    // An AOF that starts with "REDIS": the snapshot, then commands; reading stops at its end.
    let incr = std::fs::read(dir.join(base.file_name().unwrap().to_str().unwrap().replace(".base.rdb", ".incr.aof")))
        .expect("the incremental AOF");
    assert!(!incr.is_empty(), "SET after the rewrite was logged");
    let mut joined = std::fs::read(&base).unwrap();
    joined.extend_from_slice(&incr);
    let aof = tmp.path().join("appendonly.aof");
    std::fs::write(&aof, &joined).unwrap();
    let out = String::from_utf8(run(&["--check", p(&aof)]).ok()).unwrap();
    let tail = format!("then {} bytes after the end record (AOF commands; not checked)", incr.len());
    assert!(out.contains(&tail), "{out}");
    assert_eq!(keys_of(&run(&["-f", "json", p(&aof)]).ok()), set(&["0/a", "0/l", "2/h"]));
    let stats = parse_json(run(&["--stats", "-f", "json", p(&aof)]).ok().trim_ascii_end());
    assert_eq!(stats.get("trailing_bytes").num(), incr.len() as f64);

    // The file the Redis source distribution ships.
    let fixture = fixtures().join("redis-7.0.15-assets/rdb-preamble.aof");
    let out = String::from_utf8(run(&["--check", p(&fixture)]).ok()).unwrap();
    assert!(out.contains("2 keys") && out.contains("bytes after the end record"), "{out}");

    // Files that hold no snapshot are told apart.
    let r =
        run(&["--check", p(&dir.join(base.file_name().unwrap().to_str().unwrap().replace(".base.rdb", ".incr.aof")))]);
    assert_eq!(r.code, 1, "{}", r.what());
    assert!(r.stderr.contains("AOF file of commands with no RDB preamble"), "{}", r.stderr);
    let r = run(&["--check", p(&dir.join("appendonly.aof.manifest"))]);
    assert_eq!(r.code, 1, "{}", r.what());
    assert!(r.stderr.contains("AOF manifest"), "{}", r.stderr);
    let r = run(&["--check", p(&dir)]);
    assert_eq!(r.code, 2, "{}", r.what());
    assert!(r.stderr.contains("is a directory") && r.stderr.contains(".base.rdb"), "{}", r.stderr);
}

// ---------------------------------------------------------------------------
// What this tool does not read, and bad usage

#[test]
fn streams_are_reported_as_unsupported_naming_the_key() {
    let tmp = tempfile::tempdir().unwrap();
    let server = TestServer::start(&reference_binary());
    let mut c = server.connect();
    cmd(&mut c, &["XADD", "events", "1-1", "f", "v"]);
    let file = tmp.path().join("stream.rdb");
    save_to(&mut c, &file);
    for args in [&["--check"][..], &["--stats"], &["-f", "json"]] {
        let mut a = args.to_vec();
        a.push(p(&file));
        let r = run(&a);
        assert_eq!(r.code, 3, "{}", r.what());
        assert!(r.stderr.contains("key \"events\"") && r.stderr.contains("stream"), "{}", r.stderr);
        assert!(r.stderr.contains("at byte "), "{}", r.stderr);
    }
}

#[test]
fn usage_and_input_errors() {
    let tmp = tempfile::tempdir().unwrap();
    let good = fixtures().join("rdb/strings.rdb");
    let g = p(&good);
    for args in [
        &["--stats", "-f", "resp", g][..],
        &["--replace", g],
        &["-f", "json", "--batch", "5", g],
        &["--base64", g],
        &["--top", "3", g],
        &["--format", "xml", g],
        &["--type", "stream", g],
        &["-f", "resp", "--batch", "0", g],
        &[],
    ] {
        let r = run(args);
        assert_eq!(r.code, 2, "{args:?}: {}", r.what());
        assert!(!r.stderr.is_empty() && r.stdout.is_empty(), "{args:?}: {}", r.what());
    }
    let missing = tmp.path().join("missing.rdb");
    let r = run(&["--check", p(&missing)]);
    assert_eq!(r.code, 2, "{}", r.what());
    assert!(r.stderr.contains("cannot open") && r.stderr.contains("missing.rdb"), "{}", r.stderr);
    let empty = tmp.path().join("empty.rdb");
    std::fs::write(&empty, b"").unwrap();
    let r = run(&["--check", p(&empty)]);
    assert_eq!((r.code, r.stderr.contains("is empty")), (1, true), "{}", r.what());
    let text = tmp.path().join("notes.txt");
    std::fs::write(&text, b"hello, this is not a snapshot").unwrap();
    let r = run(&["--check", p(&text)]);
    assert_eq!(r.code, 1, "{}", r.what());
    assert!(r.stderr.contains("not an RDB file"), "{}", r.stderr);
    let future = tmp.path().join("future.rdb");
    std::fs::write(&future, b"REDIS0012\xff").unwrap();
    let r = run(&["--check", p(&future)]);
    assert_eq!(r.code, 3, "{}", r.what());
    assert!(r.stderr.contains("version 12"), "{}", r.stderr);
    // Standard input works like a file.
    let out = String::from_utf8(run_with_input(&["--check", "-"], &std::fs::read(&good).unwrap()).ok()).unwrap();
    assert!(out.starts_with("standard input: OK: RDB version 10, 81 keys"), "{out}");
    // Help names every option and shows how to pipe into redis-cli.
    let help = String::from_utf8(run(&["--help"]).ok()).unwrap();
    for needle in
        ["--check", "--stats", "--format", "--db", "--key", "--type", "--batch", "redis-cli", "--pipe", "Exit status"]
    {
        assert!(help.contains(needle), "--help lacks {needle}: {help}");
    }
}
