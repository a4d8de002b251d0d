//! What the set commands hand to the write path, as Redis 7.0.15 writes
//! them to its AOF: writes as sent, SPOP as the SREM of each member it took
//! (several wrapped in MULTI/EXEC) or as DEL when it took the whole set, and
//! nothing for calls that changed nothing or only read.

mod support;

use support::library::{resp, Harness};

const NOW: i64 = 1_700_000_000_000;

/// Runs a command and checks its reply kind and what it propagated (`None`: nothing).
fn check(h: &mut Harness, args: &[&str], ok: bool, expect: Option<&[&str]>) {
    let (reply, prop) = h.run(args);
    assert_eq!(!reply.starts_with('-'), ok, "{args:?}: {reply}");
    assert_eq!(prop, expect.map(resp).unwrap_or_default(), "{args:?}");
}

/// The bulk strings of a flat RESP2 reply, in order.
fn bulks(reply: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut lines = reply.split("\r\n");
    while let Some(l) = lines.next() {
        if l.starts_with('$') && l != "$-1" {
            out.push(lines.next().unwrap_or_default().to_string());
        }
    }
    out
}

#[test]
fn writes_propagate_as_sent_and_no_ops_not_at_all() {
    let mut h = Harness::warmed(NOW);
    check(&mut h, &["sadd", "s", "1", "2", "3"], true, Some(&["sadd", "s", "1", "2", "3"]));
    check(&mut h, &["SADD", "s", "1"], true, None);
    check(&mut h, &["SREM", "s", "9"], true, None);
    check(&mut h, &["SADD", "u", "x"], true, Some(&["SADD", "u", "x"]));
    check(&mut h, &["SMOVE", "u", "s", "zz"], true, None);
    check(&mut h, &["SMOVE", "u", "s", "x"], true, Some(&["SMOVE", "u", "s", "x"]));
    check(&mut h, &["SMOVE", "s", "s", "x"], true, None);
    check(&mut h, &["SINTERSTORE", "d", "s", "nokey"], true, None);
    check(&mut h, &["SUNIONSTORE", "d", "s", "s"], true, Some(&["SUNIONSTORE", "d", "s", "s"]));
    check(&mut h, &["SDIFFSTORE", "d", "nokey", "s"], true, Some(&["SDIFFSTORE", "d", "nokey", "s"]));
    check(&mut h, &["SDIFFSTORE", "d", "nokey", "s"], true, None);
    check(&mut h, &["SPOP", "s", "0"], true, None);
    check(&mut h, &["SPOP", "nokey"], true, None);
    check(&mut h, &["SPOP", "s", "-1"], false, None);
    check(&mut h, &["SRANDMEMBER", "s", "-5"], true, None);
    check(&mut h, &["SINTERCARD", "1", "s"], true, None);
    check(&mut h, &["SSCAN", "s", "0"], true, None);
    check(&mut h, &["SET", "str", "v"], true, Some(&["SET", "str", "v"]));
    check(&mut h, &["SADD", "str", "a"], false, None);
}

#[test]
fn spop_propagates_as_srem_of_the_member_taken() {
    let mut h = Harness::warmed(NOW);
    h.run(&["SADD", "s", "a", "b", "c"]);
    let (reply, prop) = h.run(&["SPOP", "s"]);
    let taken = bulks(&reply);
    assert_eq!(taken.len(), 1, "{reply}");
    assert_eq!(prop, resp(&["SREM", "s", &taken[0]]));
}

#[test]
fn spop_with_a_count_propagates_one_srem_per_member_in_a_transaction() {
    let mut h = Harness::warmed(NOW);
    // Both of Redis's ways: few members drawn from many, and most of them.
    for (size, count) in [(20, 2), (20, 18)] {
        let members: Vec<String> = (0..size).map(|i| format!("m{i}")).collect();
        let mut add = vec!["SADD", "s"];
        add.extend(members.iter().map(String::as_str));
        h.run(&add);
        let (reply, prop) = h.run(&["SPOP", "s", &count.to_string()]);
        let taken = bulks(&reply);
        assert_eq!(taken.len(), count, "{reply}");
        let mut expect = resp(&["MULTI"]);
        for m in &taken {
            expect.push_str(&resp(&["SREM", "s", m]));
        }
        expect.push_str(&resp(&["EXEC"]));
        assert_eq!(prop, expect);
        let (card, _) = h.run(&["SCARD", "s"]);
        assert_eq!(card, format!(":{}\r\n", size - count));
        h.run(&["DEL", "s"]);
    }
}

#[test]
fn spop_of_the_whole_set_propagates_as_del() {
    let mut h = Harness::warmed(NOW);
    h.run(&["SADD", "s", "1", "2", "3"]);
    check(&mut h, &["SPOP", "s", "3"], true, Some(&["DEL", "s"]));
    h.run(&["SADD", "s", "x"]);
    check(&mut h, &["SPOP", "s", "100"], true, Some(&["DEL", "s"]));
    check(&mut h, &["EXISTS", "s"], true, None);
}

#[test]
fn spop_of_the_last_member_propagates_srem() {
    let mut h = Harness::warmed(NOW);
    h.run(&["SADD", "s", "only"]);
    check(&mut h, &["SPOP", "s"], true, Some(&["SREM", "s", "only"]));
}
