//! RESTORE of damaged payloads whose checksum was recomputed: each one is refused or gives a value that every later command on the key handles, never a panic; and DUMP of what was accepted restores to the same value.
//!
//! `FUZZ_SEED=n` and `FUZZ_ROUNDS=n` (default 30,000) replay or widen the run.

mod support;

use strata::keyspace::Value;
use strata::persistence::rdb::{crc64, dump_payload};
use support::library::Harness;
use support::proc::Rng;

const NOW: i64 = 1_700_000_000_000;

/// Builds one key of each type and encoding and returns the payloads.
fn payloads(h: &mut Harness) -> Vec<Vec<u8>> {
    let setup: &[&[&str]] = &[
        &["SET", "s", "hello world"],
        &["SET", "i", "123456"],
        &["RPUSH", "l", "a", "1", "bb", "-7", "ccc"],
        &["HSET", "hl", "f1", "v1", "f2", "22", "f3", "v3"],
        &["SADD", "si", "1", "5", "-300", "70000", "9000000000"],
        &["SADD", "st", "x", "y", "z", "1"],
        &["ZADD", "zl", "1", "a", "2.5", "b", "-inf", "c", "7", "d"],
    ];
    for c in setup {
        h.run(c);
    }
    // Large forms: a table hash, a skip-list set, a long list.
    for i in 0..200 {
        let (f, v) = (format!("field{i}"), format!("{}", i * 3));
        h.run(&["HSET", "ht", &f, &v]);
        h.run(&["ZADD", "zs", &v, &f]);
        h.run(&["RPUSH", "ll", &f]);
    }
    let db = &h.st.keyspace.dbs[0];
    ["s", "i", "l", "hl", "si", "st", "zl", "ht", "zs", "ll"]
        .iter()
        .map(|k| dump_payload(&db.peek(k.as_bytes()).expect("set up").value, false))
        .collect()
}

/// Replaces the trailer's checksum with the right one for the damaged body.
fn reseal(p: &mut [u8]) {
    let n = p.len();
    let crc = crc64(&p[..n - 8]);
    p[n - 8..].copy_from_slice(&crc.to_le_bytes());
}

/// Commands that read and write the restored key, whatever its type.
fn exercise(h: &mut Harness) {
    let cmds: &[&[&str]] = &[
        &["TYPE", "k"],
        &["OBJECT", "ENCODING", "k"],
        &["GET", "k"],
        &["APPEND", "k", "x"],
        &["STRLEN", "k"],
        &["LRANGE", "k", "0", "-1"],
        &["LINDEX", "k", "-1"],
        &["LPOS", "k", "a"],
        &["RPUSH", "k", "new"],
        &["LPOP", "k"],
        &["LREM", "k", "0", "bb"],
        &["HGETALL", "k"],
        &["HGET", "k", "f2"],
        &["HSET", "k", "f9", "v9"],
        &["HDEL", "k", "f1"],
        &["HRANDFIELD", "k", "-5", "WITHVALUES"],
        &["SMEMBERS", "k"],
        &["SISMEMBER", "k", "5"],
        &["SADD", "k", "q"],
        &["SINTER", "k", "k"],
        &["SRANDMEMBER", "k", "3"],
        &["ZRANGE", "k", "0", "-1", "WITHSCORES"],
        &["ZRANGEBYLEX", "k", "-", "+"],
        &["ZRANGEBYSCORE", "k", "-inf", "+inf"],
        &["ZSCORE", "k", "b"],
        &["ZADD", "k", "3", "q"],
        &["ZREM", "k", "a"],
        &["ZUNIONSTORE", "u", "1", "k"],
        &["SORT", "k", "ALPHA"],
        &["COPY", "k", "k2", "REPLACE"],
        &["DUMP", "k"],
    ];
    for c in cmds {
        h.run(c);
    }
}

#[test]
fn damaged_payloads_are_refused_or_safe() {
    let mut h = Harness::warmed(NOW);
    let originals = payloads(&mut h);
    let seed = std::env::var("FUZZ_SEED").ok().and_then(|v| v.parse().ok()).unwrap_or(0x5EED);
    let mut rng = Rng::new(seed);
    let (mut accepted, mut refused) = (0, 0);
    let rounds = std::env::var("FUZZ_ROUNDS").ok().and_then(|v| v.parse().ok()).unwrap_or(30_000);
    for round in 0..rounds {
        let mut p = originals[round % originals.len()].clone();
        let body = p.len() - 10;
        for _ in 0..1 + rng.below(3) {
            let at = rng.below(body as u64) as usize;
            p[at] = match rng.below(3) {
                0 => p[at] ^ (1 << rng.below(8)),
                1 => rng.below(256) as u8,
                _ => 0xFF,
            };
        }
        reseal(&mut p);
        let (reply, _) = h.run_bytes(&[b"RESTORE", b"k", b"0", &p, b"REPLACE"]);
        if reply == "+OK\r\n" {
            accepted += 1;
            // What was accepted is a value like any other: it dumps and
            // restores to itself.
            let v: Value = h.st.keyspace.dbs[0].peek(b"k").expect("restored").value.clone();
            let again = dump_payload(&v, false);
            let (r2, _) = h.run_bytes(&[b"RESTORE", b"k3", b"0", &again, b"REPLACE"]);
            assert_eq!(r2, "+OK\r\n", "round {round}: a value that was accepted must restore again");
            let back = &h.st.keyspace.dbs[0].peek(b"k3").expect("restored again").value;
            assert!(*back == v, "round {round}: {v:?} came back as {back:?}");
            exercise(&mut h);
        } else {
            assert!(reply.starts_with("-ERR"), "round {round}: {reply}");
            refused += 1;
        }
    }
    assert!(accepted > 100 && refused > 100, "accepted {accepted}, refused {refused}");
}
