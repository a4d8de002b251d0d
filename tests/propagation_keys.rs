//! Pins what the key and expiry commands hand to the AOF/replication feed,
//! as Redis 7.0.15 writes it to its AOF: relative expiries as PEXPIREAT,
//! expiries in the past as DEL, key commands as sent, expired keys as DEL
//! (alone for active expiry, SCAN and RANDOMKEY; in one MULTI with the
//! command otherwise).

mod support;

use support::library::{resp, Harness};

const T0: i64 = 1_700_000_000_000;

fn multi(cmds: &[&[&str]]) -> String {
    let mut s = resp(&["MULTI"]);
    for c in cmds {
        s += &resp(c);
    }
    s + &resp(&["EXEC"])
}

#[test]
fn relative_and_second_expiries_become_pexpireat() {
    let mut h = Harness::warmed(T0);
    h.run(&["SET", "k", "v"]);
    let (reply, prop) = h.run(&["EXPIRE", "k", "100"]);
    assert_eq!(reply, ":1\r\n");
    assert_eq!(prop, resp(&["PEXPIREAT", "k", "1700000100000"]));
    // Options stay as sent, after the time.
    let prop = h.prop(&["pexpire", "k", "5000", "xx"]);
    assert_eq!(prop, resp(&["PEXPIREAT", "k", "1700000005000", "xx"]));
    let prop = h.prop(&["EXPIREAT", "k", "33000000000", "GT"]);
    assert_eq!(prop, resp(&["PEXPIREAT", "k", "33000000000000", "GT"]));
    // Already absolute and in ms: as sent.
    let prop = h.prop(&["pexpireat", "k", "33000000000001"]);
    assert_eq!(prop, resp(&["pexpireat", "k", "33000000000001"]));
    let prop = h.prop(&["SET", "n", "1"]) + &h.prop(&["EXPIRE", "n", "10", "NX"]);
    assert_eq!(prop, resp(&["SET", "n", "1"]) + &resp(&["PEXPIREAT", "n", "1700000010000", "NX"]));
}

#[test]
fn expiry_in_the_past_propagates_del() {
    let mut h = Harness::warmed(T0);
    for args in [
        &["EXPIRE", "k", "-1"][..],
        &["EXPIREAT", "k", "1"],
        &["PEXPIRE", "k", "0"],
        &["pexpireat", "k", "1700000000000"],
        &["EXPIRE", "k", "-5", "LT"],
    ] {
        h.run(&["SET", "k", "v"]);
        let (reply, prop) = h.run(args);
        assert_eq!(reply, ":1\r\n", "{args:?}");
        assert_eq!(prop, resp(&["DEL", "k"]), "{args:?}");
        assert_eq!(h.run(&["EXISTS", "k"]).0, ":0\r\n");
    }
}

#[test]
fn refused_expiry_changes_propagate_nothing() {
    let mut h = Harness::warmed(T0);
    h.run(&["SET", "k", "v"]);
    for args in [
        &["EXPIRE", "nosuch", "10"][..],
        &["EXPIRE", "k", "10", "GT"],
        &["EXPIRE", "k", "10", "XX"],
        &["PERSIST", "k"],
        &["PERSIST", "nosuch"],
        &["EXPIRE", "k", "abc"],
        &["EXPIRE", "k", "9223372036854775807"],
        &["EXPIRE", "k", "10", "NX", "XX"],
    ] {
        assert_eq!(h.prop(args), "", "{args:?}");
    }
    h.run(&["EXPIRE", "k", "100"]);
    assert_eq!(h.prop(&["EXPIRE", "k", "50", "NX"]), "");
    assert_eq!(h.prop(&["EXPIRE", "k", "50", "GT"]), "");
    assert_eq!(h.prop(&["EXPIRE", "k", "500", "LT"]), "");
    assert_eq!(h.prop(&["persist", "k"]), resp(&["persist", "k"]));
}

#[test]
fn key_commands_propagate_as_sent_when_they_change_something() {
    let mut h = Harness::warmed(T0);
    h.run(&["SET", "a", "1"]);
    h.run(&["SET", "b", "1"]);
    assert_eq!(h.prop(&["DEL", "a", "b", "nosuch"]), resp(&["DEL", "a", "b", "nosuch"]));
    assert_eq!(h.prop(&["DEL", "a"]), "");
    assert_eq!(h.prop(&["UNLINK", "a"]), "");
    h.run(&["SET", "a", "1"]);
    assert_eq!(h.prop(&["unlink", "a"]), resp(&["unlink", "a"]));
    h.run(&["SET", "a", "1"]);
    assert_eq!(h.prop(&["RENAME", "a", "b"]), resp(&["RENAME", "a", "b"]));
    assert_eq!(h.prop(&["RENAME", "a", "b"]), "");
    assert_eq!(h.prop(&["RENAME", "b", "b"]), "");
    h.run(&["SET", "c", "1"]);
    assert_eq!(h.prop(&["RENAMENX", "b", "c"]), "");
    assert_eq!(h.prop(&["COPY", "b", "d"]), resp(&["COPY", "b", "d"]));
    assert_eq!(h.prop(&["COPY", "b", "d"]), "");
    assert_eq!(h.prop(&["MOVE", "d", "1"]), resp(&["MOVE", "d", "1"]));
    assert_eq!(h.prop(&["MOVE", "d", "1"]), "");
    assert_eq!(h.prop(&["SWAPDB", "0", "0"]), resp(&["SWAPDB", "0", "0"]));
    assert_eq!(h.prop(&["TOUCH", "b"]), "");
}

#[test]
fn flushes_always_propagate_without_counting_changes() {
    let mut h = Harness::warmed(T0);
    h.run(&["SELECT", "5"]);
    let dirty = h.st.dirty;
    let (reply, prop) = h.run(&["FLUSHDB"]);
    assert_eq!(reply, "+OK\r\n");
    assert_eq!(prop, resp(&["SELECT", "5"]) + &resp(&["FLUSHDB"]));
    assert_eq!(h.st.dirty, dirty, "an empty FLUSHDB changes nothing");
    h.run(&["SET", "a", "1"]);
    let dirty = h.st.dirty;
    assert_eq!(h.prop(&["flushdb", "async"]), resp(&["flushdb", "async"]));
    assert_eq!(h.st.dirty, dirty + 1);
    assert_eq!(h.prop(&["FLUSHALL", "ASYNC"]), resp(&["FLUSHALL", "ASYNC"]));
    assert_eq!(h.prop(&["FLUSHALL"]), resp(&["FLUSHALL"]));
    assert_eq!(h.prop(&["FLUSHALL", "FOO"]), "");
}

#[test]
fn expired_destination_is_deleted_before_move_in_one_transaction() {
    let mut h = Harness::warmed(T0);
    h.run(&["SELECT", "1"]);
    h.run(&["SET", "k", "old", "PX", "100"]);
    h.run(&["SELECT", "0"]);
    h.run(&["SET", "k", "v"]);
    h.advance_ms(200);
    let (reply, prop) = h.run(&["MOVE", "k", "1"]);
    assert_eq!(reply, ":1\r\n");
    let expect = resp(&["SELECT", "1"]) + &multi(&[&["DEL", "k"], &["SELECT", "0"], &["MOVE", "k", "1"]]);
    assert_eq!(prop, expect);
}

#[test]
fn expired_keys_met_by_a_command_are_deleted_in_its_transaction() {
    let mut h = Harness::warmed(T0);
    h.run(&["SET", "a", "1", "PX", "100"]);
    h.run(&["SET", "b", "1", "PX", "100"]);
    h.run(&["SET", "c", "1"]);
    h.advance_ms(200);
    let prop = h.prop(&["DEL", "a", "b", "c"]);
    assert_eq!(prop, multi(&[&["DEL", "a"], &["DEL", "b"], &["DEL", "a", "b", "c"]]));
    h.run(&["SET", "a", "1", "PX", "100"]);
    h.run(&["SET", "b", "1", "PX", "100"]);
    h.advance_ms(200);
    let prop = h.prop(&["EXISTS", "a", "b"]);
    assert_eq!(prop, multi(&[&["DEL", "a"], &["DEL", "b"]]));
    h.run(&["SET", "a", "1", "PX", "100"]);
    h.advance_ms(200);
    // RENAME of an expired key fails: only the deletion is propagated.
    let (reply, prop) = h.run(&["RENAME", "a", "z"]);
    assert_eq!(reply, "-ERR no such key\r\n");
    assert_eq!(prop, resp(&["DEL", "a"]));
    h.run(&["SET", "a", "1", "PX", "100"]);
    h.advance_ms(200);
    assert_eq!(h.prop(&["TTL", "a"]), resp(&["DEL", "a"]));
    // KEYS skips expired keys without deleting them.
    h.run(&["SET", "a", "1", "PX", "100"]);
    h.advance_ms(200);
    assert_eq!(h.prop(&["KEYS", "*"]), "");
    // "warm" and the expired "a".
    assert_eq!(h.run(&["DBSIZE"]).0, ":2\r\n");
}

/// Splits propagated bytes into the commands it holds (bulk strings only).
fn commands_of(mut s: &str) -> Vec<Vec<String>> {
    let mut cmds = Vec::new();
    while let Some(rest) = s.strip_prefix('*') {
        let (n, mut rest) = rest.split_once("\r\n").expect("header");
        let mut args = Vec::new();
        for _ in 0..n.parse::<usize>().expect("count") {
            let (len, r) = rest[1..].split_once("\r\n").expect("bulk");
            let len: usize = len.parse().expect("length");
            args.push(r[..len].to_string());
            rest = &r[len + 2..];
        }
        cmds.push(args);
        s = rest;
    }
    cmds
}

#[test]
fn scan_and_randomkey_emit_each_expiry_deletion_alone() {
    let mut h = Harness::warmed(T0);
    h.run(&["DEL", "warm"]);
    for cmd in [&["SCAN", "0"][..], &["RANDOMKEY"]] {
        h.run(&["SET", "a", "1", "PX", "100"]);
        h.run(&["SET", "b", "1", "PX", "100"]);
        h.advance_ms(200);
        let (reply, prop) = h.run(cmd);
        assert!(reply == "*2\r\n$1\r\n0\r\n*0\r\n" || reply == "$-1\r\n", "{reply}");
        let mut cmds = commands_of(&prop);
        cmds.sort();
        assert_eq!(cmds, vec![vec!["DEL", "a"], vec!["DEL", "b"]], "{cmd:?}");
    }
    // Inside EXEC they belong to the transaction.
    h.run(&["SET", "a", "1", "PX", "100"]);
    h.run(&["SET", "b", "1", "PX", "100"]);
    h.advance_ms(200);
    h.run(&["MULTI"]);
    h.run(&["SCAN", "0"]);
    let prop = h.prop(&["EXEC"]);
    let cmds = commands_of(&prop);
    assert_eq!(cmds.len(), 4, "{prop}");
    assert_eq!(cmds[0], vec!["MULTI"]);
    assert_eq!(cmds[3], vec!["EXEC"]);
}

#[test]
fn active_expiry_emits_each_deletion_alone() {
    let mut h = Harness::warmed(T0);
    for k in ["a", "b", "c"] {
        h.run(&["SET", k, "1", "PX", "100"]);
    }
    h.advance_ms(200);
    let cycle = strata::server::cron::expire_tick(&mut h.st);
    assert_eq!(cycle.expired, 3);
    let mut cmds = commands_of(&String::from_utf8_lossy(&h.st.prop.take()));
    cmds.sort();
    assert_eq!(cmds, vec![vec!["DEL", "a"], vec!["DEL", "b"], vec!["DEL", "c"]]);
    assert_eq!(h.st.stats.expired_keys, 3);
    // With lazyfree-lazy-expire the deletions are UNLINKs.
    h.st.config.lazyfree_lazy_expire = true;
    h.run(&["SET", "d", "1", "PX", "100"]);
    h.advance_ms(200);
    strata::server::cron::expire_tick(&mut h.st);
    assert_eq!(h.st.prop.take(), resp(&["UNLINK", "d"]).into_bytes());
    h.run(&["SET", "e", "1"]);
    assert_eq!(h.prop(&["EXPIRE", "e", "-1"]), resp(&["UNLINK", "e"]));
}

#[test]
fn paused_clients_pause_expiry_deletions() {
    let mut h = Harness::warmed(T0);
    h.run(&["SET", "k", "v", "PX", "100"]);
    assert_eq!(h.run(&["CLIENT", "PAUSE", "10000", "WRITE"]).0, "+OK\r\n");
    h.advance_ms(200);
    let (reply, prop) = h.run(&["GET", "k"]);
    assert_eq!((reply.as_str(), prop.as_str()), ("$-1\r\n", ""));
    assert_eq!(strata::server::cron::expire_tick(&mut h.st).sampled, 0);
    assert_eq!(h.st.prop.take(), b"");
    assert_eq!(h.run(&["DBSIZE"]).0, ":2\r\n");
    // The pause ends by itself: expiry resumes.
    h.advance_ms(10_000);
    assert_eq!(h.prop(&["EXISTS", "k"]), resp(&["DEL", "k"]));
    h.run(&["SET", "k", "v", "PX", "100"]);
    h.run(&["CLIENT", "PAUSE", "10000", "WRITE"]);
    h.advance_ms(200);
    assert_eq!(h.prop(&["EXISTS", "k"]), "");
    h.run(&["CLIENT", "UNPAUSE"]);
    assert_eq!(h.prop(&["EXISTS", "k"]), resp(&["DEL", "k"]));
}
