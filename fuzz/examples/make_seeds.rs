//! Writes the generated part of the seed corpora (fuzz/seeds/): DUMP
//! payload bodies of every type and encoding for `restore`, including the
//! legacy encodings taken from the historical files in
//! fixtures/redis-7.0.15-assets/, and one small snapshot of Strata's own
//! for `rdb_load`. Run from fuzz/: `cargo run --example make_seeds`.
//! The other `rdb_load` seeds are files copied from fixtures/.

use std::path::Path;
use strata::keyspace::hash::{Hash, HashLimits};
use strata::keyspace::quicklist::Quicklist;
use strata::keyspace::set::Set;
use strata::keyspace::zset::{AddFlags, ZSet, ZsetLimits};
use strata::keyspace::Value;
use strata::persistence::rdb::{dump_payload, Item, LoadOptions, RdbReader, RdbWriter, Recency, SaveOptions};

const HASH_SMALL: HashLimits = HashLimits { entries: 512, value: 64 };
const ZSET_SMALL: ZsetLimits = ZsetLimits { entries: 128, value: 64 };

fn list(elems: &[&[u8]], fill: i32) -> Value {
    let mut q = Quicklist::new();
    for e in elems {
        q.push_back(e, fill);
    }
    Value::List(Box::new(q))
}

fn hash(pairs: &[(&[u8], &[u8])], table: bool) -> Value {
    let mut h = Hash::new();
    for (f, v) in pairs {
        h.set(f, v, HASH_SMALL);
    }
    if table {
        h.to_table();
    }
    Value::Hash(h)
}

fn set(members: &[&[u8]]) -> Value {
    let mut s = Set::for_member(members[0]);
    for m in members {
        s.insert(m, 512);
    }
    Value::Set(s)
}

fn zset(items: &[(f64, &[u8])], skip: bool) -> Value {
    let mut z = if skip { ZSet::new_skip() } else { ZSet::new_lp() };
    for (s, m) in items {
        z.add(*s, m, AddFlags::default(), ZSET_SMALL);
    }
    Value::ZSet(z)
}

/// Values of every type in each of their encodings, small.
fn values() -> Vec<(&'static str, Value)> {
    let long = vec![b'x'; 100];
    let words: Vec<Vec<u8>> = (0..40).map(|i| format!("w{}", i * 7).into_bytes()).collect();
    let w: Vec<&[u8]> = words.iter().map(|v| v.as_slice()).collect();
    vec![
        ("string-int", Value::string(b"-123456")),
        ("string-emb", Value::string(b"hello world")),
        ("string-raw", Value::string(&long)),
        ("list", list(&[b"a", b"1", b"-7", b"bb", b"123456789012"], -2)),
        ("list-nodes", list(&w, 4)),
        ("list-long-element", list(&[b"a", &long, b"b"], 2)),
        ("hash-listpack", hash(&[(b"f1", b"v1"), (b"f2", b"22"), (b"3", b"-3")], false)),
        ("hash-table", hash(&[(b"f1", b"v1"), (b"f2", b"22"), (b"3", b"-3")], true)),
        ("set-intset", set(&[b"1", b"5", b"-300", b"70000", b"9000000000"])),
        ("set-table", set(&[b"x", b"y", b"z", b"1"])),
        ("zset-listpack", zset(&[(1.0, b"a"), (2.5, b"b"), (f64::NEG_INFINITY, b"c"), (7.0, b"7")], false)),
        ("zset-skiplist", zset(&[(1.0, b"a"), (2.5, b"b"), (f64::INFINITY, b"c"), (-0.125, b"d")], true)),
    ]
}

/// Bytes taken by the RDB string at the start of `b` (a key).
fn string_size(b: &[u8]) -> usize {
    match b[0] >> 6 {
        0 => 1 + (b[0] & 0x3F) as usize,
        1 => 2 + ((((b[0] & 0x3F) as usize) << 8) | b[1] as usize),
        2 if b[0] == 0x80 => 5 + u32::from_be_bytes([b[1], b[2], b[3], b[4]]) as usize,
        _ => match b[0] & 0x3F {
            0 => 2,
            1 => 3,
            2 => 5,
            e => panic!("key in string encoding {e}: not expected in the seed files"),
        },
    }
}

/// DUMP bodies of the keys of an old snapshot: its type byte and value,
/// without the key.
fn legacy_bodies(file: &Path) -> Vec<(String, Vec<u8>)> {
    let bytes = std::fs::read(file).expect("fixture file");
    let opts = LoadOptions { verify_checksum: false, build_values: false, ..Default::default() };
    let mut out = Vec::new();
    for item in RdbReader::new(&bytes, opts).expect("an RDB file") {
        let Ok(Item::Key(k)) = item else { continue };
        let rec = &bytes[k.offset..k.offset + k.size];
        let mut body = vec![rec[0]];
        body.extend_from_slice(&rec[1 + string_size(&rec[1..])..]);
        let name = String::from_utf8_lossy(&k.key).replace(|c: char| !c.is_ascii_alphanumeric(), "_");
        out.push((format!("type{}-{}", k.type_code, name), body));
    }
    out
}

fn main() {
    let seeds = Path::new("seeds");
    let restore = seeds.join("restore");
    std::fs::create_dir_all(&restore).unwrap();
    for (name, v) in values() {
        for compression in [false, true] {
            let p = dump_payload(&v, compression);
            let body = &p[..p.len() - 10];
            let suffix = if compression { "-lzf" } else { "" };
            if compression && std::fs::read(restore.join(format!("{name}.bin"))).is_ok_and(|b| b == body) {
                continue;
            }
            std::fs::write(restore.join(format!("{name}{suffix}.bin")), body).unwrap();
        }
    }
    let assets = Path::new("../fixtures/redis-7.0.15-assets");
    for f in ["encodings.rdb", "hash-zipmap.rdb", "hash-ziplist.rdb", "list-quicklist.rdb", "zset-ziplist.rdb"] {
        for (name, body) in legacy_bodies(&assets.join(f)) {
            std::fs::write(restore.join(format!("legacy-{name}.bin")), body).unwrap();
        }
    }

    // A snapshot with every current encoding, expiries, idle times and a
    // function library, compressed.
    let mut w = RdbWriter::new(Vec::new(), SaveOptions { compression: true, checksum: true }).unwrap();
    w.aux(b"redis-ver", b"7.0.15").unwrap();
    w.function(b"#!lua name=seed\nredis.register_function('f', function() return 1 end)").unwrap();
    let vals = values();
    w.select_db(0, vals.len() as u64, 2).unwrap();
    for (i, (name, v)) in vals.iter().enumerate() {
        let expire = (i % 5 == 0).then_some(1_800_000_000_000 + i as i64);
        w.key(name.as_bytes(), v, expire, Recency::IdleSecs(i as u64)).unwrap();
    }
    w.select_db(3, 1, 0).unwrap();
    w.key(b"other-db", &Value::string(b"v"), None, Recency::Freq(5)).unwrap();
    let file = w.finish().unwrap();
    std::fs::write(seeds.join("rdb_load").join("generated.rdb"), file).unwrap();
}
