//! Keyspace notifications of the string and bitmap commands: which events
//! each call sends, in order, as Redis 7.0.15 sends them with
//! `notify-keyspace-events KEAm` (recorded from it).

use strata::commands;
use strata::commands::notify::parse_flags;
use strata::config::Config;
use strata::protocol::{Proto, ReplyBuf};
use strata::state::State;
use strata::util::split_args;

/// (command, events as "event key", comma separated).
const SCRIPT: &[(&str, &str)] = &[
    ("GET nosuch", "keymiss nosuch"),
    ("SET k v", "set k"),
    ("SET k v EX 100", "set k, expire k"),
    ("SET k v GET", "set k"),
    ("SET k v NX", ""),
    ("SETNX k2 v", "set k2"),
    ("SETNX k2 v", ""),
    ("SETEX k3 100 v", "set k3, expire k3"),
    ("PSETEX k3 100000 v", "set k3, expire k3"),
    ("MGET k nosuch k2", "keymiss nosuch"),
    ("MSET a 1 b 2", "set a, set b"),
    ("MSETNX a 1 c 2", ""),
    ("MSETNX c 1 d 2", "set c, set d"),
    ("GETSET a 5", "set a"),
    ("GETDEL a", "del a"),
    ("GETDEL a", "keymiss a"),
    ("GETEX b EX 100", "expire b"),
    ("GETEX b PERSIST", "persist b"),
    ("GETEX b PERSIST", ""),
    ("GETEX b PXAT 1", "del b"),
    ("GETEX nosuch", "keymiss nosuch"),
    ("APPEND e x", "append e"),
    ("APPEND e \"\"", "append e"),
    ("STRLEN nosuch", "keymiss nosuch"),
    ("INCR n", "incrby n"),
    ("DECRBY n 5", "incrby n"),
    ("INCRBYFLOAT n 1.5", "incrbyfloat n"),
    ("GETRANGE nosuch 0 1", "keymiss nosuch"),
    ("SETRANGE r 0 x", "setrange r"),
    ("SETRANGE r 0 \"\"", ""),
    ("LCS nosuch r", "keymiss nosuch"),
    ("SETBIT s 1 1", "setbit s"),
    ("SETBIT s 1 1", ""),
    ("GETBIT nosuch 1", "keymiss nosuch"),
    ("BITCOUNT nosuch", "keymiss nosuch"),
    ("BITPOS nosuch 1", "keymiss nosuch"),
    ("BITOP OR d s nosuch", "keymiss nosuch, set d"),
    ("BITOP AND d nosuch", "keymiss nosuch, del d"),
    ("BITFIELD f SET u8 0 1 INCRBY u8 0 1", "setbit f"),
    ("BITFIELD f GET u8 0", ""),
    ("BITFIELD_RO nosuch GET u8 0", "keymiss nosuch"),
    ("BITFIELD g OVERFLOW FAIL INCRBY u2 0 10 |", ""),
];

fn run(st: &mut State, cid: u64, line: &[Vec<u8>]) -> Vec<u8> {
    let argv: Vec<&[u8]> = line.iter().map(|a| a.as_slice()).collect();
    let mut out = ReplyBuf::new(Proto::Resp2);
    commands::process(st, cid, &argv, &mut out);
    out.buf
}

/// Splits the pmessage frames in `buf` into "event key" strings.
fn events(buf: &[u8]) -> Vec<String> {
    let text = String::from_utf8_lossy(buf).into_owned();
    let parts: Vec<&str> = text.split("\r\n").collect();
    parts
        .chunks(9)
        .filter(|c| c.len() == 9)
        .map(|c| format!("{} {}", c[6].rsplit(':').next().unwrap_or(""), c[8]))
        .collect()
}

#[test]
fn events_match_the_reference() {
    let mut st = State::new(Config::default());
    st.notify_flags = parse_flags(b"KEAm").unwrap();
    let cid = st.add_detached_client();
    let sub = st.add_detached_client();
    run(&mut st, sub, &[b"PSUBSCRIBE".to_vec(), b"__keyevent@0__:*".to_vec()]);
    for (line, expect) in SCRIPT {
        let args = split_args(line.as_bytes()).unwrap();
        run(&mut st, cid, &args);
        let pending = std::mem::take(&mut st.clients.get_mut(sub).unwrap().pending);
        let expect: Vec<String> =
            if expect.is_empty() { vec![] } else { expect.split(", ").map(String::from).collect() };
        assert_eq!(events(&pending), expect, "{line}");
    }
}
