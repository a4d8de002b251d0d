//! What the hash commands hand to the write path, as Redis 7.0.15 writes
//! them to its AOF: writes as sent, HINCRBYFLOAT as `HSET key field
//! <result>`, and nothing for calls that changed nothing or only read.

mod support;

use support::library::{resp, Harness};

const NOW: i64 = 1_700_000_000_000;

/// Runs a command and checks its reply kind and what it propagated (`None`: nothing).
fn check(h: &mut Harness, args: &[&str], ok: bool, expect: Option<&[&str]>) {
    let (reply, prop) = h.run(args);
    assert_eq!(!reply.starts_with('-'), ok, "{args:?}: {reply}");
    assert_eq!(prop, expect.map(resp).unwrap_or_default(), "{args:?}");
}

#[test]
fn writes_propagate_as_sent_and_no_ops_not_at_all() {
    let mut h = Harness::warmed(NOW);
    check(&mut h, &["hset", "h", "a", "1"], true, Some(&["hset", "h", "a", "1"]));
    check(&mut h, &["HSETNX", "h", "a", "2"], true, None);
    check(&mut h, &["HSETNX", "h", "b", "2"], true, Some(&["HSETNX", "h", "b", "2"]));
    check(&mut h, &["HDEL", "h", "zz"], true, None);
    check(&mut h, &["HINCRBY", "h", "a", "x"], false, None);
    check(&mut h, &["HINCRBY", "h", "a", "2"], true, Some(&["HINCRBY", "h", "a", "2"]));
    check(&mut h, &["HMSET", "h", "c", "3"], true, Some(&["HMSET", "h", "c", "3"]));
    check(&mut h, &["HSET", "h", "c"], false, None);
    check(&mut h, &["HRANDFIELD", "h", "-3", "WITHVALUES"], true, None);
    check(&mut h, &["HSCAN", "h", "0"], true, None);
    check(&mut h, &["HDEL", "h", "a", "b", "c", "d"], true, Some(&["HDEL", "h", "a", "b", "c", "d"]));
}

#[test]
fn hincrbyfloat_becomes_hset_of_the_result() {
    let mut h = Harness::warmed(NOW);
    check(&mut h, &["HINCRBYFLOAT", "h", "f", "1.5"], true, Some(&["HSET", "h", "f", "1.5"]));
    check(&mut h, &["hincrbyfloat", "h", "f", "1e1"], true, Some(&["HSET", "h", "f", "11.5"]));
    check(&mut h, &["HINCRBYFLOAT", "h", "f", "inf"], false, None);
    check(&mut h, &["HSET", "h", "s", "abc"], true, Some(&["HSET", "h", "s", "abc"]));
    check(&mut h, &["HINCRBYFLOAT", "h", "s", "1"], false, None);
}
