//! COMMAND against the reference Redis 7.0: for every command and
//! subcommand Strata serves, COMMAND INFO must be byte-identical (in RESP2
//! and RESP3), and COMMAND DOCS must describe the same facts (group,
//! version, flags, argument structure) with Strata's own summaries.
mod support;

use support::{Conn, Frame, TestServer};

struct Pair {
    ours: Conn,
    theirs: Conn,
    _servers: (TestServer, TestServer),
}

fn start() -> Pair {
    let ours = TestServer::start(&support::ours_binary());
    let theirs = TestServer::start(&support::reference_binary());
    Pair { ours: ours.connect(), theirs: theirs.connect(), _servers: (ours, theirs) }
}

fn text(f: &Frame) -> String {
    String::from_utf8_lossy(f.payload()).into_owned()
}

/// Every name COMMAND LIST gives, commands and subcommands.
fn served(c: &mut Conn) -> Vec<String> {
    let list = c.call(&["COMMAND", "LIST"]).unwrap();
    let mut names: Vec<String> = list.items.iter().map(text).collect();
    names.sort();
    names
}

/// COMMAND INFO of one name with the subcommand list left out (subcommands
/// are compared one by one: Strata may serve fewer of them).
fn info_without_subcommands(c: &mut Conn, name: &str) -> Vec<u8> {
    let mut reply = c.call(&["COMMAND", "INFO", name]).unwrap();
    let entry = &mut reply.items[0];
    assert_eq!(entry.items.len(), 10, "COMMAND INFO {name}");
    entry.items.truncate(9);
    entry.bytes()
}

#[test]
fn command_info_matches_the_reference_for_every_served_command() {
    let mut p = start();
    let names = served(&mut p.ours);
    assert!(names.len() > 50, "COMMAND LIST: {names:?}");
    let theirs = served(&mut p.theirs);
    for proto in ["2", "3"] {
        p.ours.call(&["HELLO", proto]).unwrap();
        p.theirs.call(&["HELLO", proto]).unwrap();
        let mut wrong = Vec::new();
        for name in &names {
            assert!(theirs.contains(name), "{name} is not a Redis 7.0 command");
            let ours = info_without_subcommands(&mut p.ours, name);
            let reference = info_without_subcommands(&mut p.theirs, name);
            if ours != reference {
                wrong.push(format!(
                    "{name} (RESP{proto}):\n  ours:      {}\n  reference: {}",
                    support::escape(&ours),
                    support::escape(&reference)
                ));
            }
        }
        assert!(wrong.is_empty(), "{}", wrong.join("\n"));
    }
}

#[test]
fn command_count_is_the_number_of_top_level_commands_served() {
    let mut p = start();
    let names = served(&mut p.ours);
    let top = names.iter().filter(|n| !n.contains('|')).count() as i64;
    let count = p.ours.call(&["COMMAND", "COUNT"]).unwrap();
    assert_eq!(text(&count).parse::<i64>().unwrap(), top);
    let all = p.ours.call(&["COMMAND"]).unwrap();
    assert_eq!(all.items.len() as i64, top);
}

/// A map reply (RESP3) as (key, value) pairs.
fn pairs(f: &Frame) -> Vec<(String, &Frame)> {
    assert_eq!(f.kind(), b'%', "{}", support::escape(&f.bytes()));
    f.items.chunks(2).map(|kv| (text(&kv[0]), &kv[1])).collect()
}

/// Renders DOCS facts comparably: texts that are Redis's own prose
/// (summary, complexity, history, replaced_by) are left out, subcommands are
/// sorted and limited to `keep`.
fn facts(f: &Frame, keep: &dyn Fn(&str) -> bool) -> String {
    let mut out = String::new();
    for (k, v) in pairs(f) {
        match k.as_str() {
            "summary" | "complexity" | "history" | "replaced_by" => {}
            "subcommands" => {
                let mut subs: Vec<(String, &Frame)> = pairs(v).into_iter().filter(|(n, _)| keep(n)).collect();
                subs.sort_by(|a, b| a.0.cmp(&b.0));
                for (n, doc) in subs {
                    out.push_str(&format!("sub {n}: {}\n", facts(doc, keep)));
                }
            }
            _ => out.push_str(&format!("{k}={} ", support::escape(&v.bytes()))),
        }
    }
    out
}

#[test]
fn command_docs_describe_the_same_facts_with_own_summaries() {
    let mut p = start();
    let names = served(&mut p.ours);
    p.ours.call(&["HELLO", "3"]).unwrap();
    p.theirs.call(&["HELLO", "3"]).unwrap();
    let keep = |n: &str| names.iter().any(|s| s == n);
    let mut wrong = Vec::new();
    for name in names.iter().filter(|n| !n.contains('|')) {
        let ours = p.ours.call(&["COMMAND", "DOCS", name]).unwrap();
        let theirs = p.theirs.call(&["COMMAND", "DOCS", name]).unwrap();
        let (o, t) = (&pairs(&ours)[0], &pairs(&theirs)[0]);
        assert_eq!(o.0, t.0);
        let summary = pairs(o.1).into_iter().find(|(k, _)| k == "summary").map(|(_, v)| text(v));
        assert!(summary.is_some_and(|s| !s.is_empty()), "{name} has no summary");
        let (fo, ft) = (facts(o.1, &keep), facts(t.1, &keep));
        if fo != ft {
            wrong.push(format!("{name}:\n  ours:      {fo}\n  reference: {ft}"));
        }
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}

#[test]
fn getkeys_agrees_with_the_reference() {
    let mut p = start();
    let lines: &[&[&str]] = &[
        &["get", "k"],
        &["set", "k", "v", "GET"],
        &["memory", "usage", "k"],
        &["del", "a", "b"],
        &["exists", "a", "b", "c"],
        &["watch", "a", "b"],
    ];
    for cmd in ["GETKEYS", "GETKEYSANDFLAGS"] {
        for line in lines {
            let mut args = vec!["COMMAND", cmd];
            args.extend_from_slice(line);
            let ours = p.ours.call(&args).unwrap().bytes();
            let theirs = p.theirs.call(&args).unwrap().bytes();
            assert_eq!(support::escape(&ours), support::escape(&theirs), "{args:?}");
        }
    }
}
