//! What the string and bitmap commands hand to the write path, as Redis
//! 7.0.15 writes them to its AOF: relative expiries made absolute, GET
//! options dropped, INCRBYFLOAT as SET ... KEEPTTL, and nothing at all for
//! calls that changed nothing.

mod support;

use support::library::{resp, Harness};

const NOW: i64 = 1_700_000_000_000;

/// Runs a command and checks what it propagated (`None`: nothing).
fn check(h: &mut Harness, args: &[&str], expect: Option<&[&str]>) {
    let (reply, prop) = h.run(args);
    assert!(!reply.starts_with('-'), "{args:?} failed: {reply}");
    assert_eq!(prop, expect.map(resp).unwrap_or_default(), "{args:?}");
}

fn ms(offset: i64) -> String {
    (NOW + offset).to_string()
}

#[test]
fn set_expiries_become_pxat_without_other_options() {
    let mut h = Harness::warmed(NOW);
    check(&mut h, &["SET", "k", "v", "EX", "100"], Some(&["SET", "k", "v", "PXAT", &ms(100_000)]));
    check(&mut h, &["set", "k", "v", "px", "5", "xx"], Some(&["SET", "k", "v", "PXAT", &ms(5)]));
    check(&mut h, &["SET", "k", "v", "EXAT", "33000000000"], Some(&["SET", "k", "v", "PXAT", "33000000000000"]));
    check(
        &mut h,
        &["SET", "k", "v", "PXAT", "33000000000000", "GET"],
        Some(&["SET", "k", "v", "PXAT", "33000000000000"]),
    );
    check(&mut h, &["SETEX", "a", "100", "v"], Some(&["SET", "a", "v", "PXAT", &ms(100_000)]));
    check(&mut h, &["PSETEX", "a", "100000", "v"], Some(&["SET", "a", "v", "PXAT", &ms(100_000)]));
}

#[test]
fn set_get_option_is_dropped() {
    let mut h = Harness::warmed(NOW);
    check(&mut h, &["SET", "k", "v"], Some(&["SET", "k", "v"]));
    check(&mut h, &["set", "k", "v2", "GET"], Some(&["set", "k", "v2"]));
    check(&mut h, &["set", "k", "v4", "XX", "get", "keepttl", "GET"], Some(&["set", "k", "v4", "XX", "keepttl"]));
    check(&mut h, &["set", "k", "v3", "get", "NX"], None);
    check(&mut h, &["SET", "n", "v", "NX"], Some(&["SET", "n", "v", "NX"]));
}

#[test]
fn setnx_getset_getdel() {
    let mut h = Harness::warmed(NOW);
    check(&mut h, &["SETNX", "b", "v"], Some(&["SETNX", "b", "v"]));
    check(&mut h, &["SETNX", "b", "v"], None);
    check(&mut h, &["getset", "b", "w"], Some(&["SET", "b", "w"]));
    check(&mut h, &["GETDEL", "b"], Some(&["DEL", "b"]));
    check(&mut h, &["GETDEL", "b"], None);
}

#[test]
fn getex_becomes_pexpireat_persist_or_del() {
    let mut h = Harness::warmed(NOW);
    h.run(&["SET", "g", "v"]);
    check(&mut h, &["GETEX", "g"], None);
    check(&mut h, &["GETEX", "g", "EX", "100"], Some(&["PEXPIREAT", "g", &ms(100_000)]));
    check(&mut h, &["GETEX", "g", "px", "100"], Some(&["PEXPIREAT", "g", &ms(100)]));
    check(&mut h, &["GETEX", "g", "EXAT", "33000000000"], Some(&["PEXPIREAT", "g", "33000000000000"]));
    check(&mut h, &["GETEX", "g", "PXAT", "33000000000001"], Some(&["PEXPIREAT", "g", "33000000000001"]));
    check(&mut h, &["GETEX", "g", "PERSIST"], Some(&["PERSIST", "g"]));
    check(&mut h, &["GETEX", "g", "PERSIST"], None);
    check(&mut h, &["GETEX", "g", "PXAT", "1000"], Some(&["DEL", "g"]));
    check(&mut h, &["GETEX", "g", "EX", "10"], None);
}

#[test]
fn counters() {
    let mut h = Harness::warmed(NOW);
    check(&mut h, &["INCRBYFLOAT", "f", "1.5"], Some(&["SET", "f", "1.5", "KEEPTTL"]));
    check(&mut h, &["incrbyfloat", "f", "0.1"], Some(&["SET", "f", "1.6", "KEEPTTL"]));
    check(&mut h, &["INCR", "c"], Some(&["INCR", "c"]));
    check(&mut h, &["DECRBY", "c", "0"], Some(&["DECRBY", "c", "0"]));
    let (reply, prop) = h.run(&["INCR", "f"]);
    assert!(reply.starts_with("-ERR value is not an integer"));
    assert_eq!(prop, "");
}

#[test]
fn append_setrange_mset() {
    let mut h = Harness::warmed(NOW);
    check(&mut h, &["APPEND", "e", ""], Some(&["APPEND", "e", ""]));
    check(&mut h, &["SETRANGE", "e", "0", "abc"], Some(&["SETRANGE", "e", "0", "abc"]));
    check(&mut h, &["SETRANGE", "e", "0", ""], None);
    check(&mut h, &["SETRANGE", "nosuch", "3", ""], None);
    check(&mut h, &["MSETNX", "m1", "1", "m2", "2"], Some(&["MSETNX", "m1", "1", "m2", "2"]));
    check(&mut h, &["MSETNX", "m1", "1", "m3", "2"], None);
    check(&mut h, &["MSET", "m1", "1"], Some(&["MSET", "m1", "1"]));
}

#[test]
fn bit_writes_propagate_only_when_something_changed() {
    let mut h = Harness::warmed(NOW);
    check(&mut h, &["SETBIT", "sb", "7", "1"], Some(&["SETBIT", "sb", "7", "1"]));
    check(&mut h, &["SETBIT", "sb", "7", "1"], None);
    check(&mut h, &["SETBIT", "sb", "6", "0"], None);
    check(&mut h, &["SETBIT", "sb", "100", "0"], Some(&["SETBIT", "sb", "100", "0"]));
    check(&mut h, &["SETBIT", "sb", "7", "0"], Some(&["SETBIT", "sb", "7", "0"]));
    // A refused write creates the key but counts as no change.
    check(&mut h, &["BITFIELD", "bx", "OVERFLOW", "FAIL", "INCRBY", "u2", "0", "10"], None);
    assert_eq!(h.run(&["STRLEN", "bx"]).0, ":1\r\n");
    check(&mut h, &["BITFIELD", "bx", "SET", "u8", "0", "0"], None);
    check(&mut h, &["BITFIELD", "bx", "SET", "u8", "100", "0"], Some(&["BITFIELD", "bx", "SET", "u8", "100", "0"]));
    check(&mut h, &["BITFIELD", "by", "SET", "u8", "0", "0"], Some(&["BITFIELD", "by", "SET", "u8", "0", "0"]));
    check(&mut h, &["BITFIELD", "by", "GET", "u8", "0"], None);
}

#[test]
fn bitop_empty_result_deletes_or_does_nothing() {
    let mut h = Harness::warmed(NOW);
    check(&mut h, &["BITOP", "AND", "d1", "nosuch"], None);
    h.run(&["SET", "d1", "x"]);
    check(&mut h, &["BITOP", "AND", "d1", "nosuch"], Some(&["BITOP", "AND", "d1", "nosuch"]));
    check(&mut h, &["BITOP", "NOT", "d2", "warm"], Some(&["BITOP", "NOT", "d2", "warm"]));
}

#[test]
fn lazily_expired_source_key_is_deleted_first() {
    let mut h = Harness::warmed(NOW);
    h.run(&["SET", "k", "v", "PX", "100"]);
    h.advance_ms(200);
    let (reply, prop) = h.run(&["APPEND", "k", "w"]);
    assert_eq!(reply, ":1\r\n");
    assert_eq!(prop, resp(&["MULTI"]) + &resp(&["DEL", "k"]) + &resp(&["APPEND", "k", "w"]) + &resp(&["EXEC"]));
    let (_, prop) = h.run(&["SET", "k", "v", "PX", "100"]);
    assert_eq!(prop, resp(&["SET", "k", "v", "PXAT", &ms(300)]));
}
