//! Pins the one write path: what each command hands to the AOF/replication
//! feed (relative expiries made absolute, SELECT on db change, MULTI/EXEC).

mod support;

use strata::state::Clock;
use support::library::{resp, Harness};

#[test]
fn set_ex_propagates_as_pxat() {
    let mut h = Harness::at(1_700_000_000_000);
    let (reply, prop) = h.run(&["SET", "k", "v", "EX", "10"]);
    assert_eq!(reply, "+OK\r\n");
    let expect = resp(&["SELECT", "0"]) + &resp(&["SET", "k", "v", "PXAT", "1700000010000"]);
    assert_eq!(prop, expect);
}

#[test]
fn failed_conditional_set_propagates_nothing() {
    let mut h = Harness::at(1_700_000_000_000);
    h.run(&["SET", "k", "v"]);
    let (reply, prop) = h.run(&["SET", "k", "w", "NX"]);
    assert_eq!(reply, "$-1\r\n");
    assert_eq!(prop, "");
}

#[test]
fn select_emitted_only_on_db_change() {
    let mut h = Harness::at(1_700_000_000_000);
    h.run(&["SET", "a", "1"]);
    let (_, prop) = h.run(&["SET", "b", "2"]);
    assert_eq!(prop, resp(&["SET", "b", "2"]));
    h.run(&["SELECT", "3"]);
    let (_, prop) = h.run(&["SET", "c", "3"]);
    assert_eq!(prop, resp(&["SELECT", "3"]) + &resp(&["SET", "c", "3"]));
}

#[test]
fn exec_wraps_several_writes_in_multi() {
    let mut h = Harness::at(1_700_000_000_000);
    h.run(&["SET", "warm", "up"]);
    h.run(&["MULTI"]);
    h.run(&["SET", "a", "1"]);
    h.run(&["GET", "a"]);
    h.run(&["SET", "b", "2"]);
    let (reply, prop) = h.run(&["EXEC"]);
    assert_eq!(reply, "*3\r\n+OK\r\n$1\r\n1\r\n+OK\r\n");
    let expect = resp(&["MULTI"]) + &resp(&["SET", "a", "1"]) + &resp(&["SET", "b", "2"]) + &resp(&["EXEC"]);
    assert_eq!(prop, expect);
}

#[test]
fn lazy_expiry_propagates_del_before_the_command() {
    let mut h = Harness::at(1_700_000_000_000);
    h.run(&["SET", "k", "v", "PX", "100"]);
    h.st.clock = Clock::Manual(1_700_000_000_200);
    let (reply, prop) = h.run(&["SET", "k", "w", "NX"]);
    assert_eq!(reply, "+OK\r\n");
    assert_eq!(prop, resp(&["MULTI"]) + &resp(&["DEL", "k"]) + &resp(&["SET", "k", "w", "NX"]) + &resp(&["EXEC"]));
}
