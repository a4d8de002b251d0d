//! What the list commands hand to the write path, as Redis 7.0.15 writes
//! them to its AOF: blocking pops as their non-blocking forms (BLPOP as
//! `LPOP key`, BLMPOP and LMPOP as `LPOP key <popped>`, BLMOVE as LMOVE,
//! BRPOPLPUSH as RPOPLPUSH), served waiters likewise after the push that
//! served them, and nothing for calls that changed nothing.

mod support;

use strata::commands;
use strata::protocol::{Proto, ReplyBuf};
use support::library::{resp, Harness};

const NOW: i64 = 1_700_000_000_000;

/// Runs a command and checks what it propagated (`None`: nothing).
fn check(h: &mut Harness, args: &[&str], expect: Option<&[&str]>) {
    let (reply, prop) = h.run(args);
    assert!(!reply.starts_with('-'), "{args:?} failed: {reply}");
    assert_eq!(prop, expect.map(resp).unwrap_or_default(), "{args:?}");
}

/// Runs a command as another client; returns its reply so far.
fn run_as(h: &mut Harness, cid: u64, args: &[&str]) -> String {
    let argv: Vec<&[u8]> = args.iter().map(|a| a.as_bytes()).collect();
    let mut out = ReplyBuf::new(Proto::Resp2);
    commands::process(&mut h.st, cid, &argv, &mut out);
    String::from_utf8_lossy(&out.buf).into_owned()
}

/// What a served client has been sent since it blocked.
fn pending(h: &mut Harness, cid: u64) -> String {
    let c = h.st.clients.get_mut(cid).expect("client");
    String::from_utf8_lossy(&std::mem::take(&mut c.pending)).into_owned()
}

#[test]
fn pushes_and_pops_propagate_as_sent() {
    let mut h = Harness::warmed(NOW);
    check(&mut h, &["RPUSH", "k", "a", "b", "c", "d"], Some(&["RPUSH", "k", "a", "b", "c", "d"]));
    check(&mut h, &["lpush", "k", "z"], Some(&["lpush", "k", "z"]));
    check(&mut h, &["LPOP", "k"], Some(&["LPOP", "k"]));
    check(&mut h, &["rpop", "k", "2"], Some(&["rpop", "k", "2"]));
    check(&mut h, &["LPOP", "k", "10"], Some(&["LPOP", "k", "10"]));
    check(&mut h, &["RPUSH", "s", "a", "b"], Some(&["RPUSH", "s", "a", "b"]));
    check(&mut h, &["lmove", "s", "d", "right", "LEFT"], Some(&["lmove", "s", "d", "right", "LEFT"]));
    check(&mut h, &["RPOPLPUSH", "s", "d"], Some(&["RPOPLPUSH", "s", "d"]));
    check(&mut h, &["LSET", "d", "0", "x"], Some(&["LSET", "d", "0", "x"]));
}

#[test]
fn calls_that_change_nothing_propagate_nothing() {
    let mut h = Harness::warmed(NOW);
    check(&mut h, &["RPUSH", "k", "a", "b"], Some(&["RPUSH", "k", "a", "b"]));
    check(&mut h, &["LPOP", "nokey"], None);
    check(&mut h, &["LPOP", "nokey", "2"], None);
    check(&mut h, &["LPOP", "k", "0"], None);
    check(&mut h, &["LPUSHX", "nokey", "a"], None);
    check(&mut h, &["LTRIM", "k", "0", "-1"], None);
    check(&mut h, &["LREM", "k", "0", "zz"], None);
    check(&mut h, &["LINSERT", "k", "BEFORE", "zz", "x"], None);
    check(&mut h, &["LMOVE", "nokey", "k", "LEFT", "LEFT"], None);
    check(&mut h, &["LMPOP", "1", "nokey", "LEFT"], None);
}

#[test]
fn mpop_propagates_as_pop_with_the_count_popped() {
    let mut h = Harness::warmed(NOW);
    h.run(&["RPUSH", "k", "a", "b", "c", "d"]);
    check(&mut h, &["LMPOP", "2", "nokey", "k", "LEFT"], Some(&["LPOP", "k", "1"]));
    check(&mut h, &["lmpop", "1", "k", "right", "count", "2"], Some(&["RPOP", "k", "2"]));
    check(&mut h, &["LMPOP", "1", "k", "LEFT", "COUNT", "9"], Some(&["LPOP", "k", "1"]));
    h.run(&["RPUSH", "k", "a", "b"]);
    check(&mut h, &["BLMPOP", "0", "1", "k", "RIGHT", "COUNT", "7"], Some(&["RPOP", "k", "2"]));
}

#[test]
fn blocking_pops_served_at_once_propagate_the_plain_form() {
    let mut h = Harness::warmed(NOW);
    h.run(&["RPUSH", "k", "a", "b", "c"]);
    check(&mut h, &["blpop", "nokey", "k", "0"], Some(&["LPOP", "k"]));
    check(&mut h, &["BRPOP", "k", "0"], Some(&["RPOP", "k"]));
    h.run(&["RPUSH", "s", "a", "b", "c"]);
    check(&mut h, &["BLMOVE", "s", "d", "left", "Right", "0"], Some(&["LMOVE", "s", "d", "left", "Right"]));
    check(&mut h, &["brpoplpush", "s", "d", "0"], Some(&["RPOPLPUSH", "s", "d"]));
}

#[test]
fn served_waiters_propagate_after_the_push() {
    let mut h = Harness::warmed(NOW);
    let other = h.st.add_detached_client();
    assert_eq!(run_as(&mut h, other, &["BLPOP", "q", "0"]), "");
    assert_eq!(h.st.prop.take(), b"");
    let (reply, prop) = h.run(&["RPUSH", "q", "1", "2"]);
    assert_eq!(reply, ":2\r\n");
    assert_eq!(prop, resp(&["RPUSH", "q", "1", "2"]) + &resp(&["LPOP", "q"]));
    assert_eq!(pending(&mut h, other), "*2\r\n$1\r\nq\r\n$1\r\n1\r\n");

    run_as(&mut h, other, &["BLMPOP", "0", "2", "a", "b", "RIGHT", "COUNT", "5"]);
    let prop = h.prop(&["RPUSH", "b", "1", "2"]);
    assert_eq!(prop, resp(&["RPUSH", "b", "1", "2"]) + &resp(&["RPOP", "b", "2"]));
    assert_eq!(pending(&mut h, other), "*2\r\n$1\r\nb\r\n*2\r\n$1\r\n2\r\n$1\r\n1\r\n");
}

#[test]
fn served_moves_propagate_lmove_in_lowercase_and_rpoplpush() {
    let mut h = Harness::warmed(NOW);
    let other = h.st.add_detached_client();
    run_as(&mut h, other, &["BLMOVE", "m", "n", "RIGHT", "lEFT", "0"]);
    let prop = h.prop(&["RPUSH", "m", "1", "2"]);
    assert_eq!(prop, resp(&["RPUSH", "m", "1", "2"]) + &resp(&["LMOVE", "m", "n", "right", "left"]));
    assert_eq!(pending(&mut h, other), "$1\r\n2\r\n");

    run_as(&mut h, other, &["BRPOPLPUSH", "m2", "n2", "0"]);
    let prop = h.prop(&["RPUSH", "m2", "x"]);
    assert_eq!(prop, resp(&["RPUSH", "m2", "x"]) + &resp(&["RPOPLPUSH", "m2", "n2"]));
}

#[test]
fn a_chain_of_moves_propagates_in_serving_order() {
    let mut h = Harness::warmed(NOW);
    let (c1, c2) = (h.st.add_detached_client(), h.st.add_detached_client());
    run_as(&mut h, c1, &["BLMOVE", "a", "b", "LEFT", "LEFT", "0"]);
    run_as(&mut h, c2, &["BLPOP", "b", "0"]);
    let prop = h.prop(&["RPUSH", "a", "x"]);
    let expect = resp(&["RPUSH", "a", "x"]) + &resp(&["LMOVE", "a", "b", "left", "left"]) + &resp(&["LPOP", "b"]);
    assert_eq!(prop, expect);
    assert_eq!(pending(&mut h, c2), "*2\r\n$1\r\nb\r\n$1\r\nx\r\n");
}

#[test]
fn blocking_pops_inside_exec_propagate_inside_the_transaction() {
    let mut h = Harness::warmed(NOW);
    h.run(&["MULTI"]);
    h.run(&["RPUSH", "k", "a", "b"]);
    h.run(&["BLPOP", "k", "0"]);
    h.run(&["BLPOP", "none", "0"]);
    let (reply, prop) = h.run(&["EXEC"]);
    assert_eq!(reply, "*3\r\n:2\r\n*2\r\n$1\r\nk\r\n$1\r\na\r\n*-1\r\n");
    let expect = resp(&["MULTI"]) + &resp(&["RPUSH", "k", "a", "b"]) + &resp(&["LPOP", "k"]) + &resp(&["EXEC"]);
    assert_eq!(prop, expect);
}
