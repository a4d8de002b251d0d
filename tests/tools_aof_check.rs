//! The aof-check tool end to end, against Redis 7.0.15's own files and its `redis-check-aof`:
//! AOF directories written by a real redis-server (with and without the RDB preamble, with a
//! failed rewrite leaving two incremental files, with `#TS` annotations) are accepted; damaged
//! copies of them (cut at many offsets, bytes flipped, RDB base corrupted, a listed file
//! removed, manifests broken) get the same valid/invalid verdict from both tools; where the
//! damage is a cut at the end of the last file, `--fix` cuts exactly where `redis-check-aof`
//! would, after a backup, and the result passes `redis-check-aof` and loads in `redis-server`;
//! anything else is left untouched. `--truncate-to-timestamp` leaves byte-identical files to
//! `redis-check-aof --truncate-to-timestamp`, and refuses where it refuses.
//!
//! Invariant guarded: on any input the tool neither panics nor changes a file it should not,
//! and its verdict never says "valid" where redis-check-aof says the AOF is damaged.

mod support;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};
use strata::persistence::aof::reader::{timestamp, CommandReader, Item};
use support::proc::{run_program, tool};
use support::{escape, reference_binary, Conn, TestServer};

const TOOL: &str = env!("CARGO_BIN_EXE_aof-check");
/// Generous: every run here takes milliseconds on a healthy machine.
const LIMIT: Duration = Duration::from_secs(60);
const MANIFEST: &str = "appendonly.aof.manifest";

// ---------------------------------------------------------------------------
// Running the two checkers

struct Run {
    code: i32,
    out: String,
}

impl Run {
    fn what(&self) -> String {
        format!("exit {}\n{}", self.code, self.out)
    }
}

fn run(program: &Path, args: &[&str]) -> Run {
    let out = run_program(program, args, b"", LIMIT);
    let text = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    let code = out.status.code().unwrap_or(-1);
    Run { code, out: text }
}

/// Runs aof-check; a panic is never acceptable, whatever the input.
fn ours(args: &[&str]) -> Run {
    let r = run(Path::new(TOOL), args);
    assert!(r.code != 101 && !r.out.contains("panicked"), "aof-check {args:?} panicked: {}", r.what());
    assert!(matches!(r.code, 0..=2), "aof-check {args:?}: unexpected exit status: {}", r.what());
    r
}

/// Runs redis-check-aof (never with --fix: it would ask for confirmation).
fn reference(args: &[&str]) -> Run {
    run(&tool("redis-check-aof"), args)
}

fn p(path: &Path) -> &str {
    path.to_str().expect("utf-8 temp path")
}

/// Both checkers on the AOF in `dir` (ours on the directory, redis-check-aof on its manifest):
/// they must agree; returns whether the AOF is valid.
fn agree(dir: &Path, case: &str) -> bool {
    let ours = ours(&[p(dir)]);
    let theirs = reference(&[p(&dir.join(MANIFEST))]);
    let last = ours.out.lines().last().unwrap_or_default().to_string();
    match ours.code {
        0 => assert_eq!(last, "All AOF files and manifest are valid", "{case}: {}", ours.what()),
        1 => assert!(last.starts_with("AOF ") && last.contains("not valid"), "{case}: {}", ours.what()),
        _ => panic!("{case}: usage error: {}", ours.what()),
    }
    assert_eq!(
        ours.code == 0,
        theirs.code == 0,
        "{case}: aof-check and redis-check-aof disagree\n--- aof-check: {}\n--- redis-check-aof: {}",
        ours.what(),
        theirs.what()
    );
    ours.code == 0
}

/// The `ok_up_to` redis-check-aof reports for `file` (where its --fix would cut).
fn reference_ok_up_to(out: &str, file: &str) -> Option<u64> {
    out.lines()
        .filter(|l| l.contains(&format!("filename={file},")))
        .find_map(|l| l.split(", ").find_map(|kv| kv.strip_prefix("ok_up_to=")).and_then(|v| v.parse().ok()))
}

// ---------------------------------------------------------------------------
// Files

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(from).unwrap().flatten() {
        if e.file_type().unwrap().is_file() {
            std::fs::copy(e.path(), to.join(e.file_name())).unwrap();
        }
    }
}

/// Every file of a directory, by name.
fn snapshot(dir: &Path) -> BTreeMap<String, Vec<u8>> {
    std::fs::read_dir(dir)
        .unwrap()
        .flatten()
        .map(|e| (e.file_name().into_string().unwrap(), std::fs::read(e.path()).unwrap()))
        .collect()
}

/// A fresh copy of the AOF directory `src`, as `<tmp>/appendonlydir`.
fn fresh(src: &Path) -> (tempfile::TempDir, PathBuf) {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("appendonlydir");
    copy_dir(src, &dir);
    (tmp, dir)
}

/// The file names a manifest lists in loading order (base first).
fn loaded_files(dir: &Path) -> Vec<String> {
    let text = std::fs::read(dir.join(MANIFEST)).unwrap();
    let m = strata::persistence::aof::manifest::Manifest::parse(&text).unwrap();
    m.loading_order().map(|e| e.name.clone()).collect()
}

/// Start offsets of the items (commands and annotations) of a command file, with their
/// arguments' first word (or the annotation).
fn items(bytes: &[u8]) -> Vec<(usize, Vec<u8>)> {
    let mut r = CommandReader::new(bytes);
    let mut out = Vec::new();
    while let Some(item) = r.next().expect("a sound file") {
        let word = match item {
            Item::Command => r.args()[0].to_ascii_uppercase(),
            Item::Annotation => [b"#".as_slice(), r.annotation()].concat(),
        };
        out.push((r.item_start(), word));
    }
    out
}

// ---------------------------------------------------------------------------
// Generating AOFs with Redis 7.0.15

fn call(c: &mut Conn, args: &[&str]) -> Vec<u8> {
    let reply = c.call(args).unwrap_or_else(|e| panic!("{args:?}: {e}"));
    assert_ne!(reply.kind(), b'-', "{args:?}: {}", escape(&reply.bytes()));
    reply.bytes()
}

/// A round of writes of every type, with a transaction.
fn write_round(c: &mut Conn, r: u32) {
    let (k, m) = (r.to_string(), format!("m{r}"));
    call(c, &["SET", &format!("str:{r}"), &format!("value {r}\r\nwith a line end")]);
    call(c, &["RPUSH", &format!("list:{}", r % 3), "a", &k, "c"]);
    call(c, &["HSET", &format!("hash:{}", r % 2), &format!("f{r}"), &k]);
    call(c, &["SADD", "set", &m]);
    call(c, &["ZADD", "zset", &k, &m]);
    call(c, &["MULTI"]);
    call(c, &["INCR", "counter"]);
    call(c, &["SET", &format!("tx:{r}"), "x"]);
    call(c, &["LPUSH", "list:0", "y"]);
    call(c, &["EXEC"]);
    call(c, &["EXPIRE", &format!("str:{r}"), "100000"]);
}

fn info(c: &mut Conn) -> String {
    let reply = c.call(&["INFO", "persistence"]).unwrap();
    String::from_utf8_lossy(reply.payload()).into_owned()
}

/// Polls until `cond` holds, or fails after a deadline.
fn wait_for(what: &str, mut cond: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(20);
    while !cond() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// Rewrites the AOF and waits until the new base is in place and the history deleted.
fn rewrite(c: &mut Conn, aof: &Path) {
    call(c, &["BGREWRITEAOF"]);
    wait_for("the AOF rewrite", || {
        let i = info(c);
        let manifest = std::fs::read_to_string(aof.join(MANIFEST)).unwrap_or_default();
        i.contains("aof_rewrite_in_progress:0")
            && i.contains("aof_rewrite_scheduled:0")
            && !manifest.contains("type h")
            && manifest.contains("type b")
    });
    assert!(info(c).contains("aof_last_bgrewrite_status:ok"));
}

/// A Redis 7.0.15 server writing an AOF into a directory of ours.
fn redis_writing(data: &Path, extra: &[&str]) -> TestServer {
    let mut args = vec!["--appendonly", "yes", "--appendfsync", "always", "--dir", p(data)];
    args.extend_from_slice(extra);
    TestServer::start_with(&reference_binary(), &args)
}

/// Stops the AOF (and so kills a rewrite child) of the server on a port, when dropped.
struct StopRewrite(u16);

impl Drop for StopRewrite {
    fn drop(&mut self) {
        if let Ok(mut c) = Conn::connect(self.0) {
            let _ = c.call(&["CONFIG", "SET", "appendonly", "no"]);
        }
    }
}

/// An AOF with an RDB base, a first incremental file, and a second one left by a rewrite that
/// was stopped (so three files load), the last one spanning at least three `#TS` seconds.
fn generate_three_files() -> (tempfile::TempDir, PathBuf) {
    let data = tempfile::tempdir().unwrap();
    let aof = data.path().join("appendonlydir");
    let server = redis_writing(data.path(), &["--aof-timestamp-enabled", "yes", "--aof-use-rdb-preamble", "yes"]);
    let mut c = server.connect();
    for r in 0..20 {
        write_round(&mut c, r);
    }
    rewrite(&mut c, &aof);
    for r in 20..30 {
        write_round(&mut c, r);
    }
    // A rewrite that never finishes: its new incremental file is listed, then it is stopped
    // (by the guard too if this panics first, so that no slow rewrite child outlives the test).
    let stop = StopRewrite(server.port);
    call(&mut c, &["CONFIG", "SET", "rdb-key-save-delay", "1000000"]);
    call(&mut c, &["BGREWRITEAOF"]);
    wait_for("the rewrite's new incremental file", || {
        std::fs::read_to_string(aof.join(MANIFEST)).unwrap_or_default().matches("type i").count() == 2
    });
    let last = aof.join(loaded_files(&aof).last().unwrap());
    // A few rounds a second until the last file holds three `#TS` seconds.
    let deadline = Instant::now() + Duration::from_secs(20);
    for r in 30.. {
        write_round(&mut c, r);
        let bytes = std::fs::read(&last).unwrap();
        if items(&bytes).iter().filter(|(_, w)| w.starts_with(b"#TS:")).count() >= 3 {
            break;
        }
        assert!(Instant::now() < deadline, "the last file did not reach three #TS seconds");
        std::thread::sleep(Duration::from_millis(250));
    }
    call(&mut c, &["CONFIG", "SET", "appendonly", "no"]);
    assert!(info(&mut c).contains("aof_rewrite_in_progress:0"));
    assert_eq!(loaded_files(&aof).len(), 3, "{}", std::fs::read_to_string(aof.join(MANIFEST)).unwrap());
    drop(stop);
    drop(server);
    (data, aof)
}

/// An AOF of a base (an RDB, or commands with `aof-use-rdb-preamble no`) and an incremental file.
fn generate_two_files(preamble: bool) -> (tempfile::TempDir, PathBuf) {
    let data = tempfile::tempdir().unwrap();
    let aof = data.path().join("appendonlydir");
    let yes_no = if preamble { "yes" } else { "no" };
    let server = redis_writing(data.path(), &["--aof-timestamp-enabled", "yes", "--aof-use-rdb-preamble", yes_no]);
    let mut c = server.connect();
    for r in 0..15 {
        write_round(&mut c, r);
    }
    rewrite(&mut c, &aof);
    for r in 15..25 {
        write_round(&mut c, r);
    }
    drop(server);
    let base = loaded_files(&aof)[0].clone();
    assert!(base.ends_with(if preamble { ".base.rdb" } else { ".base.aof" }), "{base}");
    (data, aof)
}

/// Starts redis-server on the AOF directory `aof` (refusing cut files) and checks it loaded data.
fn assert_redis_loads(aof: &Path) {
    let data = aof.parent().unwrap();
    let server = TestServer::start_with(
        &reference_binary(),
        &["--appendonly", "yes", "--dir", p(data), "--aof-load-truncated", "no"],
    );
    let mut c = server.connect();
    let value = "value 0\r\nwith a line end";
    let reply = call(&mut c, &["GET", "str:0"]);
    assert_eq!(reply, format!("${}\r\n{value}\r\n", value.len()).into_bytes(), "{}", escape(&reply));
    let size = call(&mut c, &["DBSIZE"]);
    assert!(size.starts_with(b":") && size != b":0\r\n");
}

// ---------------------------------------------------------------------------
// The cases

/// What a cut of the last file turned out to be.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Cut {
    /// At an item boundary outside transactions: still valid.
    Valid,
    /// Inside a command or transaction: fixed where redis-check-aof would cut.
    Fixed,
    /// Inside a `#` line: passed by redis-check-aof, fixed by us.
    InAnnotation,
}

/// Cuts the last file at `len`; both checkers must agree; when invalid, --fix must cut where
/// redis-check-aof would and leave a valid AOF, or refuse and change nothing.
fn cut_last_file_case(src: &Path, len: usize, load: bool) -> Cut {
    cut_and_pad_last_file_case(src, len, 0, load)
}

/// As `cut_last_file_case`, then `zeros` zero bytes appended (what a crash can leave at the end
/// of a file: space allocated but never written).
fn cut_and_pad_last_file_case(src: &Path, len: usize, zeros: usize, load: bool) -> Cut {
    let (_tmp, dir) = fresh(src);
    let last = loaded_files(&dir).last().unwrap().clone();
    let path = dir.join(&last);
    let original = std::fs::read(&path).unwrap();
    std::fs::write(&path, [&original[..len], &vec![0u8; zeros][..]].concat()).unwrap();
    let case = format!("{last} cut to {len} of {} bytes, then {zeros} zero bytes", original.len());
    let its = items(&original);
    let annotation = its
        .iter()
        .zip(its.iter().skip(1).map(|i| i.0).chain([original.len()]))
        .find_map(|((start, w), end)| (w.starts_with(b"#") && *start < len && len < end).then_some(*start));
    if let Some(start) = annotation {
        // Cut inside a `#` line: loaders of Redis skip the partial line, so redis-check-aof passes
        // it; strata-server's reader sees a cut (and refuses it with aof-load-truncated no).
        assert_eq!(reference(&[p(&dir.join(MANIFEST))]).code, 0, "{case}");
        let r = ours(&[p(&dir)]);
        assert!(r.code == 1 && r.out.contains("--fix"), "{case}: {}", r.what());
        assert_eq!(ours(&["--fix", p(&dir)]).code, 0, "{case}");
        assert_eq!(std::fs::read(&path).unwrap(), original[..start], "{case}");
        assert!(agree(&dir, &format!("{case}, fixed")));
        return Cut::InAnnotation;
    }
    if agree(&dir, &case) {
        return Cut::Valid;
    }
    let theirs = reference(&[p(&dir.join(MANIFEST))]);
    let want = reference_ok_up_to(&theirs.out, &last).unwrap_or_else(|| panic!("{case}: {}", theirs.what()));
    let before = snapshot(&dir);
    let fixed = ours(&["--fix", p(&dir)]);
    assert_eq!(fixed.code, 0, "{case}: {}", fixed.what());
    assert!(fixed.out.contains("Fixed:"), "{case}: {}", fixed.what());
    let after = snapshot(&dir);
    assert_eq!(after[&last], original[..want as usize], "{case}: cut elsewhere than redis-check-aof: {}", fixed.what());
    assert_eq!(after[&format!("{last}.bak")], before[&last], "{case}: the backup is not the original");
    assert!(agree(&dir, &format!("{case}, fixed")));
    if load {
        assert_redis_loads(&dir);
    }
    Cut::Fixed
}

/// Damage that --fix must not repair: both checkers say invalid, and --fix changes nothing.
fn unfixable_case(src: &Path, case: &str, damage: impl FnOnce(&Path)) {
    let (_tmp, dir) = fresh(src);
    damage(&dir);
    assert!(!agree(&dir, case), "{case}: found valid");
    let before = snapshot(&dir);
    let r = ours(&["--fix", p(&dir)]);
    assert_eq!(r.code, 1, "{case}: {}", r.what());
    assert!(r.out.contains("Not fixed") || r.out.contains("manifest is not valid"), "{case}: {}", r.what());
    assert_eq!(snapshot(&dir), before, "{case}: --fix changed files");
}

fn flip(path: &Path, at: usize, to: u8) {
    let mut b = std::fs::read(path).unwrap();
    b[at] = to;
    std::fs::write(path, b).unwrap();
}

#[test]
fn three_file_aof_damaged_in_every_way() {
    let (_data, aof) = generate_three_files();
    assert!(agree(&aof, "as written by Redis"));
    let files = loaded_files(&aof);
    let (base, incr1, incr2) = (files[0].clone(), files[1].clone(), files[2].clone());
    assert!(base.ends_with(".base.rdb"));
    let out = ours(&[p(&aof)]).out;
    assert!(out.contains("[1/3] base") && out.contains("checksum verified"), "{out}");

    // Cuts of the last file: at, just after, and in the middle of every item, and inside
    // transactions; a few of the fixed results are loaded by redis-server.
    let last = std::fs::read(aof.join(&incr2)).unwrap();
    let its = items(&last);
    let ends: Vec<usize> = its.iter().skip(1).map(|i| i.0).chain([last.len()]).collect();
    let step = (its.len() / 20).max(1);
    let mut offsets = std::collections::BTreeSet::new();
    for (i, ((a, _), b)) in its.iter().zip(&ends).enumerate() {
        if i % step == 0 || i + 3 >= its.len() {
            offsets.extend([*a, a + 1, a + 3, (a + b) / 2, b - 1]);
        }
    }
    // Inside the first queued command of a few transactions.
    let inside_multi: Vec<usize> =
        its.windows(2).filter(|w| w[0].1 == b"MULTI").map(|w| w[1].0 + 2).step_by(3).collect();
    assert!(!inside_multi.is_empty(), "no transaction in the last file");
    offsets.extend(&inside_multi);
    // Inside every `#TS` line.
    offsets.extend(its.iter().filter(|(_, w)| w.starts_with(b"#")).map(|(a, _)| a + 3));
    offsets.insert(last.len() - 1);
    offsets.retain(|&o| o < last.len());
    let mut found = BTreeMap::new();
    for (n, &len) in offsets.iter().enumerate() {
        found.insert(len, cut_last_file_case(&aof, len, n % 50 == 7 || inside_multi.first() == Some(&len)));
    }
    let mut seen = BTreeMap::new();
    for cut in found.values() {
        *seen.entry(*cut).or_insert(0) += 1;
    }
    assert!(seen.len() == 3 && seen[&Cut::Fixed] >= 20, "not every kind of cut was tried: {seen:?}");
    assert!(inside_multi.iter().all(|l| found[l] == Cut::Fixed));
    // Zero bytes after the last complete command, and after a cut inside one.
    let (set_at, _) = its.iter().rev().find(|(_, w)| w == b"SET").unwrap();
    assert_eq!(cut_and_pad_last_file_case(&aof, last.len(), 4096, true), Cut::Fixed);
    assert_eq!(cut_and_pad_last_file_case(&aof, set_at + 20, 100, false), Cut::Fixed);
    // A clean end right after a MULTI.
    let after_multi = its.windows(2).find(|w| w[0].1 == b"MULTI").map(|w| w[1].0).unwrap();
    assert_eq!(cut_last_file_case(&aof, after_multi, true), Cut::Fixed);

    // Bytes flipped in the middle of the first incremental file (not the last), and of the
    // last one: structural bytes, so that the damage is visible to a structural check.
    let first = std::fs::read(aof.join(&incr1)).unwrap();
    let middle_set = |its: &[(usize, Vec<u8>)]| its[its.len() / 2..].iter().find(|(_, w)| w == b"SET").unwrap().0;
    let mid1 = middle_set(&items(&first));
    let mid2 = middle_set(&its);
    for (what, delta, to) in
        [("the '*' of a command", 0, b'x'), ("a count digit", 1, b'9'), ("the CR of a count", 2, b'!')]
    {
        let name = incr1.clone();
        unfixable_case(&aof, &format!("{what} flipped in {incr1}"), |d| flip(&d.join(&name), mid1 + delta, to));
        let name = incr2.clone();
        unfixable_case(&aof, &format!("{what} flipped in {incr2}"), |d| flip(&d.join(&name), mid2 + delta, to));
    }
    // A bulk length raised in the middle of the last file: it runs past the end of the file,
    // which looks like a cut, but complete commands follow: not a cut, not fixed.
    let name = incr2.clone();
    let len_at = mid2 + 4; // the `$` of the first argument
    unfixable_case(&aof, "a bulk length made huge in the last file", |d| {
        let path = d.join(&name);
        let mut b = std::fs::read(&path).unwrap();
        b.splice(len_at + 1..len_at + 1, b"9999".iter().copied());
        std::fs::write(path, b).unwrap();
    });
    // The first incremental file cut short: not the last file.
    let name = incr1.clone();
    unfixable_case(&aof, "the first incremental file cut", |d| {
        let path = d.join(&name);
        let b = std::fs::read(&path).unwrap();
        std::fs::write(path, &b[..b.len() - 5]).unwrap();
    });
    // The RDB base: a byte flipped in the middle, or cut short.
    let base_len = std::fs::metadata(aof.join(&base)).unwrap().len() as usize;
    let name = base.clone();
    unfixable_case(&aof, "a byte of the RDB base flipped", |d| {
        let path = d.join(&name);
        let b = std::fs::read(&path).unwrap();
        flip(&path, base_len / 2, b[base_len / 2] ^ 0x20);
    });
    let name = base.clone();
    unfixable_case(&aof, "the RDB base cut", |d| {
        let path = d.join(&name);
        let b = std::fs::read(&path).unwrap();
        std::fs::write(path, &b[..base_len - 20]).unwrap();
    });
    // Transactions out of pairs, in the middle of the last file: a MULTI right after a MULTI,
    // an EXEC before a command outside any transaction.
    let multi_at = its.iter().find(|(_, w)| w == b"MULTI").unwrap().0;
    for (case, at, extra) in [
        ("a MULTI inside a transaction", multi_at + 15, "*1\r\n$5\r\nMULTI\r\n"),
        ("an EXEC with no MULTI", mid2, "*1\r\n$4\r\nEXEC\r\n"),
    ] {
        let name = incr2.clone();
        unfixable_case(&aof, case, |d| {
            let path = d.join(&name);
            let mut b = std::fs::read(&path).unwrap();
            b.splice(at..at, extra.bytes());
            std::fs::write(path, b).unwrap();
        });
    }
    // A listed file deleted.
    for name in [&base, &incr1, &incr2] {
        let n = name.clone();
        unfixable_case(&aof, &format!("{name} deleted"), |d| std::fs::remove_file(d.join(&n)).unwrap());
    }
    // Broken manifests.
    let manifest = std::fs::read_to_string(aof.join(MANIFEST)).unwrap();
    let broken: Vec<(&str, String)> = vec![
        ("a bad type", manifest.replacen("type i", "type x", 1)),
        ("a path for a name", manifest.replacen(&format!("file {incr1} "), "file ../x ", 1)),
        ("a second base", format!("{manifest}file {base} seq 9 type b\n")),
        ("incremental seqs out of order", {
            let mut lines: Vec<&str> = manifest.lines().collect();
            lines.swap(1, 2);
            lines.join("\n") + "\n"
        }),
        ("an odd word count", manifest.replacen(" type b", " type", 1)),
        ("an unbalanced quote", manifest.replacen(&format!("file {base}"), &format!("file \"{base}"), 1)),
        ("no line end at the end", manifest.trim_end().to_string()),
        ("a line too long", format!("{manifest}# ok\nfile {} seq 99 type h\n", "x".repeat(1100))),
        ("a comment line too long", format!("#{}\n{manifest}", "c".repeat(1100))),
    ];
    for (case, text) in broken {
        unfixable_case(&aof, &format!("manifest with {case}"), |d| std::fs::write(d.join(MANIFEST), &text).unwrap());
        let (_tmp, dir) = fresh(&aof);
        std::fs::write(dir.join(MANIFEST), &text).unwrap();
        let r = ours(&[p(&dir)]);
        assert!(r.out.contains("manifest: NOT VALID"), "{case}: {}", r.what());
    }

    // A fixable end, but another file is missing: nothing is cut, every problem is counted.
    let (_tmp, dir) = fresh(&aof);
    std::fs::write(dir.join(&incr2), &last[..last.len() - 4]).unwrap();
    std::fs::remove_file(dir.join(&incr1)).unwrap();
    let before = snapshot(&dir);
    let r = ours(&["--fix", p(&dir)]);
    assert!(r.code == 1 && r.out.contains("other problems remain"), "{}", r.what());
    assert!(r.out.lines().last().unwrap().ends_with("(1 more problem listed above)"), "{}", r.what());
    assert_eq!(snapshot(&dir), before);

    // A manifest with history lines and comments is still valid.
    let (_tmp, dir) = fresh(&aof);
    std::fs::write(dir.join(MANIFEST), format!("# kept\n{manifest}file gone.aof seq 1 type h\n")).unwrap();
    assert!(agree(&dir, "history and comments"));
}

#[test]
fn truncate_to_timestamp_cuts_where_redis_check_aof_does() {
    let (_data, aof) = generate_three_files();
    let files = loaded_files(&aof);
    let last = std::fs::read(aof.join(files.last().unwrap())).unwrap();
    let stamps: Vec<(usize, i64)> =
        items(&last).iter().filter_map(|(o, w)| Some((*o, timestamp(w.strip_prefix(b"#")?)?))).collect();
    assert!(stamps.len() >= 3, "{stamps:?}");
    let (first_ts, last_ts) = (stamps[0].1, stamps[stamps.len() - 1].1);
    let mut times = vec![stamps[1].1 - 1, stamps[2].1 - 1, last_ts, last_ts + 1000, first_ts - 1, 1];
    times.dedup();
    let mut truncated = 0;
    for t in times {
        let t = t.to_string();
        let (_a, mine) = fresh(&aof);
        let (_b, theirs) = fresh(&aof);
        let r = ours(&["--truncate-to-timestamp", &t, p(&mine)]);
        let q = reference(&["--truncate-to-timestamp", &t, p(&theirs.join(MANIFEST))]);
        assert_eq!(r.code, q.code, "--truncate-to-timestamp {t}\n--- aof-check: {}\n--- redis: {}", r.what(), q.what());
        let mut got = snapshot(&mine);
        let backup = got.keys().find(|k| k.ends_with(".bak")).cloned();
        if let Some(b) = backup {
            let orig = b.strip_suffix(".bak").unwrap().to_string();
            assert_eq!(got[&b], snapshot(&aof)[&orig], "the backup is not the original");
            assert!(r.out.contains("Truncated"), "{}", r.what());
            got.remove(&b);
            truncated += 1;
        }
        assert_eq!(
            got,
            snapshot(&theirs),
            "--truncate-to-timestamp {t}: files differ from redis-check-aof's: {}",
            r.what()
        );
        if r.code == 0 && got != snapshot(&aof) {
            assert!(agree(&mine, "after --truncate-to-timestamp"));
            assert_redis_loads(&mine);
        }
    }
    assert!(truncated >= 2, "too few of the times tried cut the file");
    // Only a base: refused, nothing changed.
    let (_tmp, dir) = fresh(&aof);
    let m = std::fs::read_to_string(dir.join(MANIFEST)).unwrap();
    std::fs::write(dir.join(MANIFEST), m.lines().next().unwrap().to_string() + "\n").unwrap();
    let before = snapshot(&dir);
    let r = ours(&["--truncate-to-timestamp", "1", p(&dir)]);
    assert_eq!(r.code, 1, "{}", r.what());
    assert!(r.out.contains("only a base"), "{}", r.what());
    assert_eq!(snapshot(&dir), before);
}

#[test]
fn command_base_and_old_single_file_aofs() {
    let (_data, aof) = generate_two_files(false);
    assert!(agree(&aof, "a command base, as written by Redis"));
    let (_data2, rdb_aof) = generate_two_files(true);
    assert!(agree(&rdb_aof, "an RDB base, as written by Redis"));
    let files = loaded_files(&aof);
    let (base, incr) = (files[0].clone(), files[1].clone());
    let base_bytes = std::fs::read(aof.join(&base)).unwrap();
    assert!(base_bytes.starts_with(b"#TS:"), "a command base starts with its time");

    // The base is not the last file: a cut in it is not fixed.
    let inside = items(&base_bytes)[items(&base_bytes).len() / 2].0 + 3;
    unfixable_case(&aof, "the command base cut", |d| std::fs::write(d.join(&base), &base_bytes[..inside]).unwrap());
    // The first timestamp is in the base: both refuse.
    let (_a, mine) = fresh(&aof);
    let (_b, theirs) = fresh(&aof);
    let r = ours(&["--truncate-to-timestamp", "1", p(&mine)]);
    let q = reference(&["--truncate-to-timestamp", "1", p(&theirs.join(MANIFEST))]);
    assert_eq!((r.code, q.code), (1, 1), "{}\n{}", r.what(), q.what());
    assert!(r.out.contains("the base"), "{}", r.what());
    assert_eq!(snapshot(&mine), snapshot(&aof));

    // The end of the incremental file, cut in a few places.
    let incr_bytes = std::fs::read(aof.join(&incr)).unwrap();
    for (i, (o, _)) in items(&incr_bytes).iter().enumerate().skip(3).step_by(7) {
        cut_last_file_case(&aof, o + 5, i == 3);
    }

    // An AOF of Redis before 7.0, in one file: an RDB base followed by commands, and commands
    // only. Checked alone, and found in a data directory.
    let rdb_files = loaded_files(&rdb_aof);
    let joined =
        [std::fs::read(rdb_aof.join(&rdb_files[0])).unwrap(), std::fs::read(rdb_aof.join(&rdb_files[1])).unwrap()]
            .concat();
    for (label, bytes) in
        [("with an RDB preamble", joined), ("of commands", [base_bytes.clone(), incr_bytes.clone()].concat())]
    {
        let tmp = tempfile::tempdir().unwrap();
        let single = tmp.path().join("appendonly.aof");
        std::fs::write(&single, &bytes).unwrap();
        let r = ours(&[p(&single)]);
        assert_eq!(r.code, 0, "{label}: {}", r.what());
        assert_eq!(r.out.lines().last(), Some("The AOF file is valid"), "{label}: {}", r.what());
        assert_eq!(reference(&[p(&single)]).code, 0);
        let r = ours(&[p(tmp.path())]);
        assert!(r.code == 0 && r.out.contains("holds no manifest"), "{label}: {}", r.what());
        // Cut inside its last command: fixable, and then redis-check-aof agrees.
        std::fs::write(&single, &bytes[..bytes.len() - 3]).unwrap();
        assert_eq!((ours(&[p(&single)]).code, reference(&[p(&single)]).code), (1, 1), "{label}");
        let r = ours(&["--fix", p(&single)]);
        assert_eq!(r.code, 0, "{label}: {}", r.what());
        assert_eq!(reference(&[p(&single)]).code, 0, "{label}");
        assert!(tmp.path().join("appendonly.aof.bak").is_file());
        // A second fix of a second cut keeps the first backup.
        let now = std::fs::read(&single).unwrap();
        std::fs::write(&single, &now[..now.len() - 2]).unwrap();
        assert_eq!(ours(&["--fix", p(&single)]).code, 0);
        assert_eq!(std::fs::read(tmp.path().join("appendonly.aof.bak")).unwrap(), bytes[..bytes.len() - 3]);
        assert_eq!(std::fs::read(tmp.path().join("appendonly.aof.bak.1")).unwrap(), now[..now.len() - 2]);
    }
}

/// Where this tool is stricter than redis-check-aof, on purpose: files that redis-check-aof
/// passes but servers refuse to load. And usage errors.
#[test]
fn stricter_than_redis_check_aof_and_usage() {
    let tmp = tempfile::tempdir().unwrap();
    let file = tmp.path().join("x.aof");
    let stricter: &[(&str, &[u8])] = &[
        ("a command of no arguments", b"*0\r\n"),
        ("an unknown command", b"*2\r\n$7\r\nNOSUCHC\r\n$1\r\na\r\n"),
        ("a #TS annotation that is no time", b"#TS:soon\r\n*1\r\n$4\r\nPING\r\n"),
    ];
    for (case, bytes) in stricter {
        std::fs::write(&file, bytes).unwrap();
        assert_eq!(reference(&[p(&file)]).code, 0, "{case}: redis-check-aof passes it");
        let r = ours(&[p(&file)]);
        assert_eq!(r.code, 1, "{case}: {}", r.what());
    }
    // A manifest of comments only: redis-check-aof takes it for an AOF of commands.
    let manifest = tmp.path().join(MANIFEST);
    std::fs::write(&manifest, "# nothing\n").unwrap();
    assert_eq!(reference(&[p(&manifest)]).code, 0);
    let r = ours(&[p(&manifest)]);
    assert!(r.code == 1 && r.out.contains("empty AOF manifest"), "{}", r.what());
    // Lines, offsets and the command are in the report.
    std::fs::write(&file, b"*1\r\n$4\r\nPING\r\n*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$5\r\nhel").unwrap();
    let r = ours(&[p(&file)]);
    assert!(r.out.contains("byte 14, line 4") && r.out.contains("\"SET\" \"k\" \"hel\""), "{}", r.what());
    // Empty files are valid.
    std::fs::write(&file, b"").unwrap();
    assert_eq!(ours(&[p(&file)]).code, 0);

    // Usage errors exit 2.
    assert_eq!(ours(&[]).code, 2);
    assert_eq!(ours(&[p(&tmp.path().join("nothing-here"))]).code, 2);
    assert_eq!(ours(&["--fix", "--truncate-to-timestamp", "5", p(&file)]).code, 2);
    assert_eq!(ours(&["--truncate-to-timestamp", "soon", p(&file)]).code, 2);
    let empty_dir = tempfile::tempdir().unwrap();
    let r = ours(&[p(empty_dir.path())]);
    assert!(r.code == 2 && r.out.contains("holds no AOF manifest"), "{}", r.what());
    let help = ours(&["--help"]);
    assert!(help.code == 0 && help.out.contains("--truncate-to-timestamp") && help.out.contains("Exit status"));
}
