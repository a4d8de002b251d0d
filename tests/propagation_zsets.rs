//! What the sorted-set commands hand to the write path, as Redis 7.0.15
//! writes them to its AOF: writes as sent (ZADD with INCR, ZINCRBY, ZPOPMIN
//! and ZPOPMAX with or without a count, the STORE forms), BZPOPMIN and
//! BZPOPMAX as `ZPOPMIN|ZPOPMAX key`, ZMPOP and BZMPOP as
//! `ZPOPMIN|ZPOPMAX key <popped>`, served waiters likewise after the write
//! that served them, and nothing for calls that changed nothing.

mod support;

use strata::commands;
use strata::protocol::{Proto, ReplyBuf};
use support::library::{resp, Harness};

const NOW: i64 = 1_700_000_000_000;

/// Runs a command and checks its reply kind and what it propagated
/// (`None`: nothing).
fn check(h: &mut Harness, args: &[&str], ok: bool, expect: Option<&[&str]>) {
    let (reply, prop) = h.run(args);
    assert_eq!(!reply.starts_with('-'), ok, "{args:?}: {reply}");
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
fn writes_propagate_as_sent() {
    let mut h = Harness::warmed(NOW);
    check(&mut h, &["zadd", "z", "1", "a", "2", "b"], true, Some(&["zadd", "z", "1", "a", "2", "b"]));
    check(&mut h, &["ZADD", "z", "CH", "3", "a"], true, Some(&["ZADD", "z", "CH", "3", "a"]));
    check(&mut h, &["ZADD", "z", "NX", "9", "a", "9", "c"], true, Some(&["ZADD", "z", "NX", "9", "a", "9", "c"]));
    check(&mut h, &["ZADD", "z", "INCR", "2", "a"], true, Some(&["ZADD", "z", "INCR", "2", "a"]));
    check(&mut h, &["ZADD", "z", "XX", "INCR", "1", "a"], true, Some(&["ZADD", "z", "XX", "INCR", "1", "a"]));
    check(&mut h, &["zincrby", "z", "1.5", "b"], true, Some(&["zincrby", "z", "1.5", "b"]));
    check(&mut h, &["ZREM", "z", "c", "nosuch"], true, Some(&["ZREM", "z", "c", "nosuch"]));
    check(
        &mut h,
        &["ZADD", "z", "3", "c", "4", "d", "5", "e"],
        true,
        Some(&["ZADD", "z", "3", "c", "4", "d", "5", "e"]),
    );
    check(&mut h, &["ZREMRANGEBYRANK", "z", "0", "0"], true, Some(&["ZREMRANGEBYRANK", "z", "0", "0"]));
    check(&mut h, &["ZREMRANGEBYSCORE", "z", "(4", "5"], true, Some(&["ZREMRANGEBYSCORE", "z", "(4", "5"]));
    h.run(&["ZADD", "l", "0", "a", "0", "b", "0", "c"]);
    check(&mut h, &["ZREMRANGEBYLEX", "l", "-", "[a"], true, Some(&["ZREMRANGEBYLEX", "l", "-", "[a"]));
}

#[test]
fn pops_propagate_as_sent_and_mpop_as_pops_of_the_count_popped() {
    let mut h = Harness::warmed(NOW);
    h.run(&["ZADD", "z", "1", "a", "2", "b", "3", "c", "4", "d", "5", "e"]);
    check(&mut h, &["zpopmin", "z"], true, Some(&["zpopmin", "z"]));
    check(&mut h, &["ZPOPMAX", "z", "1"], true, Some(&["ZPOPMAX", "z", "1"]));
    check(&mut h, &["ZMPOP", "2", "nokey", "z", "MIN"], true, Some(&["ZPOPMIN", "z", "1"]));
    check(&mut h, &["zmpop", "1", "z", "max", "count", "10"], true, Some(&["ZPOPMAX", "z", "2"]));
    h.run(&["ZADD", "z", "1", "a", "2", "b", "3", "c"]);
    check(&mut h, &["ZPOPMIN", "z", "10"], true, Some(&["ZPOPMIN", "z", "10"]));
    h.run(&["ZADD", "z", "1", "a", "2", "b", "3", "c"]);
    check(&mut h, &["bzpopmin", "nokey", "z", "0"], true, Some(&["ZPOPMIN", "z"]));
    check(&mut h, &["BZPOPMAX", "z", "0"], true, Some(&["ZPOPMAX", "z"]));
    check(&mut h, &["BZMPOP", "0", "1", "z", "MIN", "COUNT", "5"], true, Some(&["ZPOPMIN", "z", "1"]));
}

#[test]
fn stores_propagate_as_sent_and_an_empty_one_only_when_it_deleted() {
    let mut h = Harness::warmed(NOW);
    h.run(&["ZADD", "a", "1", "x", "2", "y"]);
    h.run(&["ZADD", "b", "5", "y"]);
    check(&mut h, &["ZUNIONSTORE", "d", "2", "a", "b"], true, Some(&["ZUNIONSTORE", "d", "2", "a", "b"]));
    let inter = ["zinterstore", "d", "2", "a", "b", "WEIGHTS", "1", "2"];
    check(&mut h, &inter, true, Some(&inter));
    check(&mut h, &["ZDIFFSTORE", "d", "2", "a", "b"], true, Some(&["ZDIFFSTORE", "d", "2", "a", "b"]));
    check(&mut h, &["ZRANGESTORE", "d", "a", "0", "0"], true, Some(&["ZRANGESTORE", "d", "a", "0", "0"]));
    // Emptying the destination is a change; finding nothing to delete is not.
    check(&mut h, &["ZINTERSTORE", "d", "2", "a", "nokey"], true, Some(&["ZINTERSTORE", "d", "2", "a", "nokey"]));
    check(&mut h, &["ZINTERSTORE", "d", "2", "a", "nokey"], true, None);
    check(&mut h, &["ZRANGESTORE", "d", "a", "5", "6"], true, None);
    check(&mut h, &["ZUNIONSTORE", "d", "1", "nokey"], true, None);
    h.run(&["SET", "d", "x"]);
    check(&mut h, &["ZRANGESTORE", "d", "nokey", "0", "-1"], true, Some(&["ZRANGESTORE", "d", "nokey", "0", "-1"]));
}

#[test]
fn calls_that_change_nothing_propagate_nothing() {
    let mut h = Harness::warmed(NOW);
    h.run(&["ZADD", "z", "1", "a", "2", "b"]);
    check(&mut h, &["ZADD", "z", "1", "a"], true, None);
    check(&mut h, &["ZADD", "z", "XX", "5", "q"], true, None);
    check(&mut h, &["ZADD", "z", "GT", "CH", "0", "a"], true, None);
    check(&mut h, &["ZADD", "z", "LT", "5", "b"], true, None);
    check(&mut h, &["ZADD", "z", "NX", "INCR", "2", "a"], true, None);
    check(&mut h, &["ZADD", "z", "INCR", "0", "a"], true, None);
    check(&mut h, &["ZINCRBY", "z", "0", "a"], true, None);
    check(&mut h, &["ZADD", "nokey", "XX", "1", "a"], true, None);
    check(&mut h, &["ZREM", "z", "nosuch"], true, None);
    check(&mut h, &["ZREMRANGEBYRANK", "z", "5", "9"], true, None);
    check(&mut h, &["ZREMRANGEBYSCORE", "z", "100", "200"], true, None);
    check(&mut h, &["ZREMRANGEBYLEX", "z", "[x", "+"], true, None);
    check(&mut h, &["ZPOPMIN", "nokey"], true, None);
    check(&mut h, &["ZPOPMAX", "z", "0"], true, None);
    check(&mut h, &["ZMPOP", "1", "nokey", "MIN"], true, None);
    check(&mut h, &["ZRANGE", "z", "0", "-1", "WITHSCORES"], true, None);
    check(&mut h, &["ZUNION", "1", "z"], true, None);
    check(&mut h, &["ZRANDMEMBER", "z", "-3", "WITHSCORES"], true, None);
    check(&mut h, &["ZSCAN", "z", "0"], true, None);
}

#[test]
fn failed_calls_propagate_nothing() {
    let mut h = Harness::warmed(NOW);
    h.run(&["ZADD", "z", "inf", "a"]);
    check(&mut h, &["ZADD", "z", "INCR", "-inf", "a"], false, None);
    check(&mut h, &["ZINCRBY", "z", "nan", "a"], false, None);
    check(&mut h, &["ZADD", "z", "NX", "XX", "1", "b"], false, None);
    check(&mut h, &["ZADD", "z", "1"], false, None);
    check(&mut h, &["ZPOPMIN", "z", "-1"], false, None);
    h.run(&["SET", "s", "x"]);
    check(&mut h, &["ZUNIONSTORE", "d", "2", "z", "s"], false, None);
    check(&mut h, &["ZMPOP", "2", "nokey", "s", "MIN"], false, None);
}

#[test]
fn served_waiters_propagate_after_the_write_that_served_them() {
    let mut h = Harness::warmed(NOW);
    let other = h.st.add_detached_client();
    assert_eq!(run_as(&mut h, other, &["BZPOPMIN", "q", "0"]), "");
    assert_eq!(h.st.prop.take(), b"");
    let (reply, prop) = h.run(&["ZADD", "q", "1", "a", "2", "b"]);
    assert_eq!(reply, ":2\r\n");
    assert_eq!(prop, resp(&["ZADD", "q", "1", "a", "2", "b"]) + &resp(&["ZPOPMIN", "q"]));
    assert_eq!(pending(&mut h, other), "*3\r\n$1\r\nq\r\n$1\r\na\r\n$1\r\n1\r\n");

    run_as(&mut h, other, &["BZMPOP", "0", "2", "r", "s", "MAX", "COUNT", "5"]);
    let prop = h.prop(&["ZADD", "s", "1", "x", "2", "y", "3", "z"]);
    assert_eq!(prop, resp(&["ZADD", "s", "1", "x", "2", "y", "3", "z"]) + &resp(&["ZPOPMAX", "s", "3"]));
    let expect =
        "*2\r\n$1\r\ns\r\n*3\r\n*2\r\n$1\r\nz\r\n$1\r\n3\r\n*2\r\n$1\r\ny\r\n$1\r\n2\r\n*2\r\n$1\r\nx\r\n$1\r\n1\r\n";
    assert_eq!(pending(&mut h, other), expect);

    // A store that creates the key serves too.
    run_as(&mut h, other, &["BZPOPMAX", "u", "0"]);
    h.run(&["ZADD", "src", "5", "m"]);
    let prop = h.prop(&["ZUNIONSTORE", "u", "1", "src"]);
    assert_eq!(prop, resp(&["ZUNIONSTORE", "u", "1", "src"]) + &resp(&["ZPOPMAX", "u"]));
}

#[test]
fn waiters_are_served_in_arrival_order_from_one_write() {
    let mut h = Harness::warmed(NOW);
    let (c1, c2) = (h.st.add_detached_client(), h.st.add_detached_client());
    run_as(&mut h, c1, &["BZPOPMIN", "k", "0"]);
    run_as(&mut h, c2, &["BZMPOP", "0", "1", "k", "MAX", "COUNT", "2"]);
    let prop = h.prop(&["ZADD", "k", "1", "a", "2", "b", "3", "c", "4", "d"]);
    let expect = resp(&["ZADD", "k", "1", "a", "2", "b", "3", "c", "4", "d"])
        + &resp(&["ZPOPMIN", "k"])
        + &resp(&["ZPOPMAX", "k", "2"]);
    assert_eq!(prop, expect);
    assert_eq!(pending(&mut h, c1), "*3\r\n$1\r\nk\r\n$1\r\na\r\n$1\r\n1\r\n");
    assert!(pending(&mut h, c2).starts_with("*2\r\n$1\r\nk\r\n*2\r\n"));
}

#[test]
fn blocking_pops_inside_exec_propagate_inside_the_transaction() {
    let mut h = Harness::warmed(NOW);
    h.run(&["MULTI"]);
    h.run(&["ZADD", "k", "1", "a", "2", "b"]);
    h.run(&["BZPOPMAX", "k", "0"]);
    h.run(&["BZMPOP", "0", "1", "k", "MIN"]);
    h.run(&["BZPOPMIN", "none", "0"]);
    let (reply, prop) = h.run(&["EXEC"]);
    let expect_reply = "*4\r\n:2\r\n*3\r\n$1\r\nk\r\n$1\r\nb\r\n$1\r\n2\r\n\
                        *2\r\n$1\r\nk\r\n*1\r\n*2\r\n$1\r\na\r\n$1\r\n1\r\n*-1\r\n";
    assert_eq!(reply, expect_reply);
    let expect = resp(&["MULTI"])
        + &resp(&["ZADD", "k", "1", "a", "2", "b"])
        + &resp(&["ZPOPMAX", "k"])
        + &resp(&["ZPOPMIN", "k", "1"])
        + &resp(&["EXEC"]);
    assert_eq!(prop, expect);
}
