//! What the string and bitmap commands hand to the write path, as Redis
//! 7.0.15 writes them to its AOF: relative expiries made absolute, GET
//! options dropped, INCRBYFLOAT as SET ... KEEPTTL, and nothing at all for
//! calls that changed nothing.

use strata::commands;
use strata::config::Config;
use strata::protocol::{Proto, ReplyBuf};
use strata::state::{Clock, State};

const NOW: i64 = 1_700_000_000_000;

struct Harness {
    st: State,
    cid: u64,
}

impl Harness {
    /// A harness whose first write has already selected db 0.
    fn new() -> Self {
        let mut st = State::new(Config::default());
        st.prop.enabled = true;
        st.clock = Clock::Manual(NOW);
        let cid = st.add_detached_client();
        let mut h = Harness { st, cid };
        h.run(&["SET", "warm", "up"]);
        h
    }

    /// Runs a command; returns (reply bytes, propagated bytes).
    fn run(&mut self, args: &[&str]) -> (String, String) {
        let argv: Vec<&[u8]> = args.iter().map(|a| a.as_bytes()).collect();
        let mut out = ReplyBuf::new(Proto::Resp2);
        commands::process(&mut self.st, self.cid, &argv, &mut out);
        let prop = self.st.prop.take();
        (String::from_utf8_lossy(&out.buf).into_owned(), String::from_utf8_lossy(&prop).into_owned())
    }

    /// Runs a command and checks what it propagated (`None`: nothing).
    fn check(&mut self, args: &[&str], expect: Option<&[&str]>) {
        let (reply, prop) = self.run(args);
        assert!(!reply.starts_with('-'), "{args:?} failed: {reply}");
        assert_eq!(prop, expect.map(resp).unwrap_or_default(), "{args:?}");
    }
}

/// Encodes a command as RESP for comparisons.
fn resp(args: &[&str]) -> String {
    let mut s = format!("*{}\r\n", args.len());
    for a in args {
        s.push_str(&format!("${}\r\n{}\r\n", a.len(), a));
    }
    s
}

fn ms(offset: i64) -> String {
    (NOW + offset).to_string()
}

#[test]
fn set_expiries_become_pxat_without_other_options() {
    let mut h = Harness::new();
    h.check(&["SET", "k", "v", "EX", "100"], Some(&["SET", "k", "v", "PXAT", &ms(100_000)]));
    h.check(&["set", "k", "v", "px", "5", "xx"], Some(&["SET", "k", "v", "PXAT", &ms(5)]));
    h.check(&["SET", "k", "v", "EXAT", "33000000000"], Some(&["SET", "k", "v", "PXAT", "33000000000000"]));
    h.check(&["SET", "k", "v", "PXAT", "33000000000000", "GET"], Some(&["SET", "k", "v", "PXAT", "33000000000000"]));
    h.check(&["SETEX", "a", "100", "v"], Some(&["SET", "a", "v", "PXAT", &ms(100_000)]));
    h.check(&["PSETEX", "a", "100000", "v"], Some(&["SET", "a", "v", "PXAT", &ms(100_000)]));
}

#[test]
fn set_get_option_is_dropped() {
    let mut h = Harness::new();
    h.check(&["SET", "k", "v"], Some(&["SET", "k", "v"]));
    h.check(&["set", "k", "v2", "GET"], Some(&["set", "k", "v2"]));
    h.check(&["set", "k", "v4", "XX", "get", "keepttl", "GET"], Some(&["set", "k", "v4", "XX", "keepttl"]));
    h.check(&["set", "k", "v3", "get", "NX"], None);
    h.check(&["SET", "n", "v", "NX"], Some(&["SET", "n", "v", "NX"]));
}

#[test]
fn setnx_getset_getdel() {
    let mut h = Harness::new();
    h.check(&["SETNX", "b", "v"], Some(&["SETNX", "b", "v"]));
    h.check(&["SETNX", "b", "v"], None);
    h.check(&["getset", "b", "w"], Some(&["SET", "b", "w"]));
    h.check(&["GETDEL", "b"], Some(&["DEL", "b"]));
    h.check(&["GETDEL", "b"], None);
}

#[test]
fn getex_becomes_pexpireat_persist_or_del() {
    let mut h = Harness::new();
    h.run(&["SET", "g", "v"]);
    h.check(&["GETEX", "g"], None);
    h.check(&["GETEX", "g", "EX", "100"], Some(&["PEXPIREAT", "g", &ms(100_000)]));
    h.check(&["GETEX", "g", "px", "100"], Some(&["PEXPIREAT", "g", &ms(100)]));
    h.check(&["GETEX", "g", "EXAT", "33000000000"], Some(&["PEXPIREAT", "g", "33000000000000"]));
    h.check(&["GETEX", "g", "PXAT", "33000000000001"], Some(&["PEXPIREAT", "g", "33000000000001"]));
    h.check(&["GETEX", "g", "PERSIST"], Some(&["PERSIST", "g"]));
    h.check(&["GETEX", "g", "PERSIST"], None);
    h.check(&["GETEX", "g", "PXAT", "1000"], Some(&["DEL", "g"]));
    h.check(&["GETEX", "g", "EX", "10"], None);
}

#[test]
fn counters() {
    let mut h = Harness::new();
    h.check(&["INCRBYFLOAT", "f", "1.5"], Some(&["SET", "f", "1.5", "KEEPTTL"]));
    h.check(&["incrbyfloat", "f", "0.1"], Some(&["SET", "f", "1.6", "KEEPTTL"]));
    h.check(&["INCR", "c"], Some(&["INCR", "c"]));
    h.check(&["DECRBY", "c", "0"], Some(&["DECRBY", "c", "0"]));
    let (reply, prop) = h.run(&["INCR", "f"]);
    assert!(reply.starts_with("-ERR value is not an integer"));
    assert_eq!(prop, "");
}

#[test]
fn append_setrange_mset() {
    let mut h = Harness::new();
    h.check(&["APPEND", "e", ""], Some(&["APPEND", "e", ""]));
    h.check(&["SETRANGE", "e", "0", "abc"], Some(&["SETRANGE", "e", "0", "abc"]));
    h.check(&["SETRANGE", "e", "0", ""], None);
    h.check(&["SETRANGE", "nosuch", "3", ""], None);
    h.check(&["MSETNX", "m1", "1", "m2", "2"], Some(&["MSETNX", "m1", "1", "m2", "2"]));
    h.check(&["MSETNX", "m1", "1", "m3", "2"], None);
    h.check(&["MSET", "m1", "1"], Some(&["MSET", "m1", "1"]));
}

#[test]
fn bit_writes_propagate_only_when_something_changed() {
    let mut h = Harness::new();
    h.check(&["SETBIT", "sb", "7", "1"], Some(&["SETBIT", "sb", "7", "1"]));
    h.check(&["SETBIT", "sb", "7", "1"], None);
    h.check(&["SETBIT", "sb", "6", "0"], None);
    h.check(&["SETBIT", "sb", "100", "0"], Some(&["SETBIT", "sb", "100", "0"]));
    h.check(&["SETBIT", "sb", "7", "0"], Some(&["SETBIT", "sb", "7", "0"]));
    // A refused write creates the key but counts as no change.
    h.check(&["BITFIELD", "bx", "OVERFLOW", "FAIL", "INCRBY", "u2", "0", "10"], None);
    assert_eq!(h.run(&["STRLEN", "bx"]).0, ":1\r\n");
    h.check(&["BITFIELD", "bx", "SET", "u8", "0", "0"], None);
    h.check(&["BITFIELD", "bx", "SET", "u8", "100", "0"], Some(&["BITFIELD", "bx", "SET", "u8", "100", "0"]));
    h.check(&["BITFIELD", "by", "SET", "u8", "0", "0"], Some(&["BITFIELD", "by", "SET", "u8", "0", "0"]));
    h.check(&["BITFIELD", "by", "GET", "u8", "0"], None);
}

#[test]
fn bitop_empty_result_deletes_or_does_nothing() {
    let mut h = Harness::new();
    h.check(&["BITOP", "AND", "d1", "nosuch"], None);
    h.run(&["SET", "d1", "x"]);
    h.check(&["BITOP", "AND", "d1", "nosuch"], Some(&["BITOP", "AND", "d1", "nosuch"]));
    h.check(&["BITOP", "NOT", "d2", "warm"], Some(&["BITOP", "NOT", "d2", "warm"]));
}

#[test]
fn lazily_expired_source_key_is_deleted_first() {
    let mut h = Harness::new();
    h.run(&["SET", "k", "v", "PX", "100"]);
    h.st.clock = Clock::Manual(NOW + 200);
    let (reply, prop) = h.run(&["APPEND", "k", "w"]);
    assert_eq!(reply, ":1\r\n");
    assert_eq!(prop, resp(&["MULTI"]) + &resp(&["DEL", "k"]) + &resp(&["APPEND", "k", "w"]) + &resp(&["EXEC"]));
    let (_, prop) = h.run(&["SET", "k", "v", "PX", "100"]);
    assert_eq!(prop, resp(&["SET", "k", "v", "PXAT", &ms(300)]));
}
