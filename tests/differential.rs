//! Differential test: every case in tests/cases/*.txt gets the same reply bytes from Strata as from Redis 7.0.
//!
//! The case format and directives are described in docs/testing.md.
mod support;

use std::collections::{BTreeMap, BTreeSet};
use std::io;
use std::path::Path;
use std::time::{Duration, Instant};
use support::{escape, split_args, Conn, Frame, TestServer};

/// The intended differences, all in one place: in HELLO replies (a map in RESP3, flat
/// name/value pairs in RESP2) the values of these fields are masked before comparing.
/// - `server`, `version`: the product's own name and version.
/// - `id`: a connection id depends on how many connections each server has seen.
///
/// Other replies that differ by nature (TIME, INFO, CLIENT LIST, RANDOMKEY, ...) are compared
/// by shape only, with `!type` or `!sections` in the case files.
const HELLO_MASKED_FIELDS: &[&str] = &["server", "version", "id"];

struct Case {
    file: String,
    name: String,
    steps: Vec<Step>,
}

struct Step {
    line: usize,
    text: String,
    conn: usize,
    body: Body,
    check: Check,
    wants_reply: bool,
}

enum Body {
    Command(Vec<Vec<u8>>),
    Raw(Vec<u8>),
    Read,
    Sleep(u64),
}

#[derive(Clone, Copy)]
enum Check {
    Exact,
    Sort,
    Shape,
    Sections,
}

fn parse_cases(file: &str, text: &str) -> Vec<Case> {
    let mut cases: Vec<Case> = Vec::new();
    for (i, raw_line) in text.lines().enumerate() {
        let line = raw_line.trim();
        if let Some(name) = line.strip_prefix("###") {
            cases.push(Case { file: file.to_string(), name: name.trim().to_string(), steps: Vec::new() });
        } else if !line.is_empty() && !line.starts_with('#') {
            let step = parse_step(line, i + 1).unwrap_or_else(|e| panic!("{file}:{}: {e}", i + 1));
            cases
                .last_mut()
                .unwrap_or_else(|| panic!("{file}:{}: command before the first ###", i + 1))
                .steps
                .push(step);
        }
    }
    cases
}

fn parse_step(line: &str, number: usize) -> Result<Step, String> {
    let mut step = Step {
        line: number,
        text: line.to_string(),
        conn: 1,
        body: Body::Read,
        check: Check::Exact,
        wants_reply: true,
    };
    let mut rest = line;
    loop {
        let (word, after) = rest.split_once(char::is_whitespace).unwrap_or((rest, ""));
        let after = after.trim_start();
        match word {
            w if w.starts_with('@') => step.conn = w[1..].parse().map_err(|_| format!("bad connection {w:?}"))?,
            "!sort" => step.check = Check::Sort,
            "!type" => step.check = Check::Shape,
            "!sections" => step.check = Check::Sections,
            "!noreply" => step.wants_reply = false,
            "!read" => return Ok(step),
            "!sleep-ms" => {
                let ms = after.parse().map_err(|_| format!("bad !sleep-ms {after:?}"))?;
                return Ok(Step { body: Body::Sleep(ms), wants_reply: false, ..step });
            }
            "!inline" => return Ok(Step { body: Body::Raw(format!("{after}\r\n").into_bytes()), ..step }),
            "!raw" => return Ok(Step { body: Body::Raw(raw_bytes(after)?), ..step }),
            w if w.starts_with('!') => return Err(format!("unknown directive {w}")),
            _ => {
                let args = split_args(rest)?;
                if args.is_empty() {
                    return Err("no command".into());
                }
                return Ok(Step { body: Body::Command(args), ..step });
            }
        }
        rest = after;
    }
}

/// `!raw` parts: quoted strings, concatenated; a bare `xN` after a part makes it appear N times in all.
fn raw_bytes(spec: &str) -> Result<Vec<u8>, String> {
    let mut out = Vec::new();
    let mut last: Vec<u8> = Vec::new();
    for part in split_args(spec)? {
        let count = part.strip_prefix(b"x").and_then(|n| std::str::from_utf8(n).ok()?.parse::<usize>().ok());
        match count {
            Some(n) => out.extend(last.repeat(n.saturating_sub(1))),
            None => {
                out.extend_from_slice(&part);
                last = part;
            }
        }
    }
    Ok(out)
}

/// What one step got back: `shown` for the report, `key` for the comparison.
struct Outcome {
    step: usize,
    shown: Vec<u8>,
    key: Vec<u8>,
}

enum Slot {
    Open(Conn),
    Dead(&'static str),
}

fn failure_text(e: &io::Error) -> &'static str {
    match e.kind() {
        io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut => "(no reply in time)",
        io::ErrorKind::InvalidData => "(unparseable reply)",
        _ => "(connection closed)",
    }
}

/// Runs one step on its connection: `Ok(None)` when no reply is wanted, `Err` with the
/// outcome text when the connection failed now or earlier in the case.
fn run_step(port: u16, conns: &mut BTreeMap<usize, Slot>, step: &Step) -> Result<Option<Frame>, &'static str> {
    let slot = conns.entry(step.conn).or_insert_with(|| match Conn::connect(port) {
        Ok(c) => Slot::Open(c),
        Err(_) => Slot::Dead("(connect failed)"),
    });
    let conn = match slot {
        Slot::Open(conn) => conn,
        Slot::Dead(why) => return Err(why),
    };
    let result = (|| {
        match &step.body {
            Body::Command(args) => conn.send(args)?,
            Body::Raw(bytes) => conn.send_raw(bytes)?,
            Body::Read | Body::Sleep(_) => {}
        }
        if step.wants_reply {
            conn.read_reply().map(Some)
        } else {
            Ok(None)
        }
    })();
    result.map_err(|e| {
        let why = failure_text(&e);
        *slot = Slot::Dead(why);
        why
    })
}

fn run_case(port: u16, case: &Case) -> Vec<Outcome> {
    let mut conns = BTreeMap::new();
    let mut outcomes = Vec::new();
    for (i, step) in case.steps.iter().enumerate() {
        if let Body::Sleep(ms) = step.body {
            std::thread::sleep(Duration::from_millis(ms));
            continue;
        }
        let (shown, key) = match run_step(port, &mut conns, step) {
            _ if !step.wants_reply => continue,
            Ok(None) => continue,
            Ok(Some(frame)) => {
                let args = match &step.body {
                    Body::Command(args) => &args[..],
                    _ => &[],
                };
                (frame.bytes(), normalize(frame, step.check, args))
            }
            Err(why) => (why.as_bytes().to_vec(), why.as_bytes().to_vec()),
        };
        outcomes.push(Outcome { step: i, shown, key });
    }
    outcomes
}

fn normalize(mut frame: Frame, check: Check, args: &[Vec<u8>]) -> Vec<u8> {
    if args.first().is_some_and(|a| a.eq_ignore_ascii_case(b"hello")) {
        mask_fields(&mut frame, HELLO_MASKED_FIELDS);
    }
    match check {
        Check::Exact => frame.bytes(),
        Check::Sort => {
            sort_deep(&mut frame);
            frame.bytes()
        }
        Check::Shape => shape(&frame).into_bytes(),
        Check::Sections => match frame.kind() {
            b'$' | b'=' => {
                let text = frame.payload().strip_prefix(b"txt:").unwrap_or(frame.payload());
                let headers: Vec<&[u8]> = text.split(|&b| b == b'\n').filter(|l| l.starts_with(b"#")).collect();
                headers.join(&b'\n')
            }
            _ => frame.bytes(),
        },
    }
}

fn mask_fields(frame: &mut Frame, fields: &[&str]) {
    if matches!(frame.kind(), b'%' | b'*') {
        for pair in frame.items.chunks_mut(2) {
            if let [name, value] = pair {
                if fields.iter().any(|f| name.payload() == f.as_bytes()) {
                    *value = Frame { head: b"+(masked)\r\n".to_vec(), items: Vec::new() };
                }
            }
        }
    }
}

/// Sorts the elements of every aggregate (maps by their key/value pairs).
fn sort_deep(frame: &mut Frame) {
    frame.items.iter_mut().for_each(sort_deep);
    match frame.kind() {
        b'*' | b'~' | b'>' => frame.items.sort(),
        b'%' => {
            let mut pairs: Vec<Vec<Frame>> = frame.items.chunks(2).map(|c| c.to_vec()).collect();
            pairs.sort();
            frame.items = pairs.concat();
        }
        _ => {}
    }
}

/// The type of a reply: its type byte, telling null apart; errors keep their full text.
fn shape(frame: &Frame) -> String {
    match frame.kind() {
        b'-' | b'!' => escape(&frame.bytes()),
        _ if frame.head.starts_with(b"$-1\r\n") || frame.head.starts_with(b"*-1\r\n") => "null".to_string(),
        kind => (kind as char).to_string(),
    }
}

/// A connection for the harness's own housekeeping, reopened if a case killed it.
struct Control {
    port: u16,
    conn: Option<Conn>,
}

impl Control {
    fn call(&mut self, args: &[&str]) -> Option<Frame> {
        for _ in 0..2 {
            if self.conn.is_none() {
                self.conn = Conn::connect(self.port).ok();
            }
            match self.conn.as_mut()?.call(args) {
                Ok(frame) => return Some(frame),
                Err(_) => self.conn = None,
            }
        }
        None
    }

    fn before_case(&mut self) {
        self.call(&["FLUSHALL"]);
        self.call(&["DEBUG", "SET-ACTIVE-EXPIRE", "1"]);
    }

    /// The current values of the given parameters, to restore after cases that change them.
    fn config_snapshot(&mut self, params: &BTreeSet<String>) -> BTreeMap<String, String> {
        let mut values = BTreeMap::new();
        for param in params {
            if let Some(reply) = self.call(&["CONFIG", "GET", param]) {
                if let [_, value] = &reply.items[..] {
                    values.insert(param.clone(), String::from_utf8_lossy(value.payload()).into_owned());
                }
            }
        }
        values
    }

    /// Waits until the case's connections are gone (for PUBSUB counts and the like), then
    /// restores the configuration the case changed. False when the server no longer answers.
    fn after_case(&mut self, case: &Case, saved: &BTreeMap<String, String>) -> bool {
        let deadline = Instant::now() + Duration::from_secs(2);
        loop {
            let Some(list) = self.call(&["CLIENT", "LIST"]) else {
                return false;
            };
            let clients = list.payload().split(|&b| b == b'\n').filter(|l| !l.is_empty()).count();
            if list.kind() != b'$' || clients <= 1 || Instant::now() > deadline {
                break;
            }
            std::thread::sleep(Duration::from_millis(1));
        }
        for param in configs_set(case) {
            if let Some(value) = saved.get(&param) {
                self.call(&["CONFIG", "SET", &param, value]);
            }
        }
        true
    }
}

fn configs_set(case: &Case) -> BTreeSet<String> {
    let mut params = BTreeSet::new();
    for step in &case.steps {
        if let Body::Command(args) = &step.body {
            if args.len() > 2 && args[0].eq_ignore_ascii_case(b"config") && args[1].eq_ignore_ascii_case(b"set") {
                params.extend(args[2..].iter().step_by(2).map(|p| String::from_utf8_lossy(p).to_lowercase()));
            }
        }
    }
    params
}

/// Runs every case in order. Once the server stops answering (crashed or hung), the
/// remaining cases are not run and each of their replies is `(server not answering)`.
fn run_all(server: &TestServer, cases: &[Case]) -> Vec<Vec<Outcome>> {
    let mut control = Control { port: server.port, conn: None };
    let saved = control.config_snapshot(&cases.iter().flat_map(configs_set).collect());
    let mut answering = true;
    cases
        .iter()
        .map(|case| {
            if !answering {
                return unanswered(case);
            }
            control.before_case();
            let outcomes = run_case(server.port, case);
            answering = control.after_case(case, &saved);
            outcomes
        })
        .collect()
}

fn unanswered(case: &Case) -> Vec<Outcome> {
    let why = b"(server not answering)";
    let steps = case.steps.iter().enumerate();
    steps
        .filter(|(_, step)| step.wants_reply)
        .map(|(step, _)| Outcome { step, shown: why.to_vec(), key: why.to_vec() })
        .collect()
}

fn load_cases() -> Vec<Case> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/cases");
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "txt"))
        .collect();
    files.sort();
    let filter = std::env::var("DIFF_FILTER").unwrap_or_default().to_lowercase();
    let mut cases = Vec::new();
    for path in files {
        let name = format!("tests/cases/{}", path.file_name().unwrap().to_string_lossy());
        let text = std::fs::read_to_string(&path).unwrap();
        let parsed = parse_cases(&name, &text);
        let mut names = BTreeSet::new();
        for case in &parsed {
            assert!(names.insert(&case.name), "{name}: two cases named {:?}", case.name);
            assert!(!case.steps.is_empty(), "{name}: case {:?} has no commands", case.name);
        }
        cases.extend(parsed.into_iter().filter(|c| format!("{}: {}", c.file, c.name).to_lowercase().contains(&filter)));
    }
    cases
}

/// Names of the commands a case sends, lowercase: the command, and
/// `command|subcommand` for container commands with arguments.
fn command_names(case: &Case) -> BTreeSet<String> {
    let mut names = BTreeSet::new();
    for s in &case.steps {
        let Body::Command(args) = &s.body else {
            continue;
        };
        let lower = |a: &Vec<u8>| String::from_utf8_lossy(a).to_lowercase();
        if let Some(first) = args.first() {
            names.insert(lower(first));
            if let Some(second) = args.get(1) {
                names.insert(format!("{}|{}", lower(first), lower(second)));
            }
        }
    }
    names
}

/// Commands and subcommands the reference serves and ours does not (COMMAND
/// INFO answers null for them). A case using one is pending: it belongs to a
/// later issue, is reported as such, and is not compared. Asking COMMAND INFO
/// means a command that we do serve can never be skipped this way.
fn unserved_commands(ours: &TestServer, reference: &TestServer, cases: &[Case]) -> BTreeSet<String> {
    let all: BTreeSet<String> = cases.iter().flat_map(command_names).collect();
    let unknown = |server: &TestServer| -> BTreeSet<String> {
        let mut conn = server.connect();
        all.iter()
            .filter(|name| {
                let reply = conn.call(&["COMMAND", "INFO", name.as_str()]).expect("COMMAND INFO");
                reply.bytes() == b"*1\r\n$-1\r\n" || reply.bytes() == b"*1\r\n_\r\n"
            })
            .cloned()
            .collect()
    };
    let theirs = unknown(reference);
    unknown(ours).difference(&theirs).cloned().collect()
}

fn show(bytes: &[u8]) -> String {
    let text = escape(bytes);
    match text.char_indices().nth(600) {
        Some((cut, _)) => format!("{}... ({} bytes)", &text[..cut], bytes.len()),
        None => text,
    }
}

/// How many mismatches are printed in full; all of them are counted.
const MAX_SHOWN: usize = 500;

#[test]
fn differential() {
    let cases = load_cases();
    assert!(!cases.is_empty(), "no cases selected (DIFF_FILTER={:?})", std::env::var("DIFF_FILTER"));
    let reference_bin = support::reference_binary();
    let ours_bin = support::ours_binary();
    let ((ours_server, ours), (ref_server, reference)) = std::thread::scope(|s| {
        let ours = s.spawn(|| {
            let server = TestServer::start(&ours_bin);
            let outcomes = run_all(&server, &cases);
            (server, outcomes)
        });
        let reference = s.spawn(|| {
            let server = TestServer::start(&reference_bin);
            let outcomes = run_all(&server, &cases);
            (server, outcomes)
        });
        let join = |h: std::thread::ScopedJoinHandle<'_, _>| h.join().unwrap_or_else(|e| std::panic::resume_unwind(e));
        (join(ours), join(reference))
    });

    let unserved = unserved_commands(&ours_server, &ref_server, &cases);
    let dump = std::env::var_os("DIFF_DUMP").is_some();
    let mut commands = 0;
    let mut mismatches = Vec::new();
    let mut pending: BTreeSet<String> = BTreeSet::new();
    let mut pending_cases = 0;
    for (case, (ours, reference)) in cases.iter().zip(ours.iter().zip(&reference)) {
        let needs: Vec<String> = command_names(case).into_iter().filter(|c| unserved.contains(c)).collect();
        if !needs.is_empty() {
            pending_cases += 1;
            pending.extend(needs);
            continue;
        }
        if dump {
            println!("### {}: {}", case.file, case.name);
        }
        for (o, r) in ours.iter().zip(reference) {
            let step = &case.steps[r.step];
            commands += 1;
            if dump {
                println!("{:>5} {}\n      {}", step.line, step.text, show(&r.shown));
            }
            if o.key != r.key {
                mismatches.push(format!(
                    "{}:{} [{}] {}\n    ours:      {}\n    reference: {}",
                    case.file,
                    step.line,
                    case.name,
                    step.text,
                    show(&o.shown),
                    show(&r.shown)
                ));
            }
        }
    }
    for m in mismatches.iter().take(MAX_SHOWN) {
        eprintln!("{m}");
    }
    if mismatches.len() > MAX_SHOWN {
        eprintln!("... and {} more mismatches (narrow with DIFF_FILTER)", mismatches.len() - MAX_SHOWN);
    }
    let summary = format!(
        "differential: {} cases, {commands} commands compared, {} mismatches",
        cases.len() - pending_cases,
        mismatches.len()
    );
    println!("{summary}");
    if pending_cases > 0 {
        println!(
            "differential: {pending_cases} more cases are pending: they use commands this server \
             does not serve yet (later issues): {}",
            pending.into_iter().collect::<Vec<_>>().join(" ")
        );
    }
    // Panicking with the servers alive makes their Drop print the tail of each log.
    assert!(mismatches.is_empty(), "{summary}");
    drop((ours_server, ref_server));
}
