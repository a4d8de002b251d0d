//! What RESTORE hands to the write path, as Redis 7.0.15 writes it to its
//! AOF: a relative TTL made absolute with ABSTTL, a TTL already past as the
//! deletion of the key it replaced (or nothing), refusals as nothing.

mod support;

use strata::keyspace::Value;
use strata::persistence::rdb::dump_payload;
use support::library::{resp, Harness};

const NOW: i64 = 1_700_000_000_000;

fn restore(h: &mut Harness, args: &[&str], payload: &[u8]) -> (String, String) {
    let mut argv: Vec<&[u8]> = vec![b"RESTORE", args[0].as_bytes(), args[1].as_bytes(), payload];
    argv.extend(args[2..].iter().map(|a| a.as_bytes()));
    h.run_bytes(&argv)
}

#[test]
fn restore_propagation_forms() {
    let mut h = Harness::warmed(NOW);
    let p = dump_payload(&Value::string(b"hello"), false);
    let (reply, prop) = restore(&mut h, &["k", "0"], &p);
    assert_eq!(reply, "+OK\r\n");
    let mut expect = format!("*4\r\n$7\r\nRESTORE\r\n$1\r\nk\r\n$1\r\n0\r\n${}\r\n", p.len()).into_bytes();
    expect.extend_from_slice(&p);
    expect.extend_from_slice(b"\r\n");
    assert_eq!(prop, String::from_utf8_lossy(&expect));

    // A relative TTL goes out absolute, with ABSTTL added.
    let (_, prop) = restore(&mut h, &["t", "5000"], &p);
    let at = (NOW + 5000).to_string();
    assert!(prop.contains(&format!("${}\r\n{at}\r\n", at.len())), "{prop:?}");
    assert!(prop.ends_with("$6\r\nABSTTL\r\n"), "{prop:?}");

    // Already expired: nothing is created; a replaced key is deleted.
    assert_eq!(restore(&mut h, &["gone", "1", "ABSTTL"], &p).1, "");
    assert_eq!(restore(&mut h, &["k", "1", "ABSTTL", "REPLACE"], &p).1, resp(&["DEL", "k"]));
    assert_eq!(h.run(&["EXISTS", "k"]).0, ":0\r\n");

    // Refusals change nothing.
    assert!(restore(&mut h, &["t", "0"], &p).0.starts_with("-BUSYKEY"));
    let mut bad = p.clone();
    *bad.last_mut().unwrap() ^= 1;
    let (reply, prop) = restore(&mut h, &["u", "0"], &bad);
    assert_eq!((reply.as_str(), prop.as_str()), ("-ERR DUMP payload version or checksum are wrong\r\n", ""));
}
