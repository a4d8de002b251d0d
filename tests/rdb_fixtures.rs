//! Pins the RDB decoder against files written by real Redis versions: every
//! fixture in fixtures/rdb/ (made by Redis 7.0.15, fixtures/make-rdb-fixtures.py)
//! and every historic file in fixtures/redis-7.0.15-assets/ decodes to exactly
//! what Redis 7.0.15 shows after loading it (type, encoding, expiry, value),
//! under the limits it was loaded with; refused files are refused.

mod rdb_support;

use rdb_support::{assert_same, canonical, decode_all, parse_fixture};
use std::path::{Path, PathBuf};
use strata::persistence::rdb::{Checksum, Item, LoadOptions, RdbReader};

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures")
}

fn dumps() -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = std::fs::read_dir(fixtures().join("rdb"))
        .expect("fixtures/rdb")
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "txt"))
        .collect();
    v.sort();
    assert!(v.len() >= 20, "fixtures missing: run fixtures/make-rdb-fixtures.py");
    v
}

#[test]
fn every_fixture_decodes_to_what_redis_loaded() {
    for dump in dumps() {
        let name = dump.file_stem().unwrap().to_string_lossy().into_owned();
        let fx = parse_fixture(&std::fs::read_to_string(&dump).unwrap());
        let bytes = std::fs::read(fixtures().join(&fx.file)).unwrap_or_else(|e| panic!("{}: {e}", fx.file));
        for deep in [false, true] {
            let opts = LoadOptions { limits: fx.limits, deep, ..Default::default() };
            match (decode_all(&bytes, opts), &fx.refused) {
                (Ok(d), None) => {
                    assert_same(&format!("{name} (deep {deep})"), &fx.lines, &canonical(&d.keys, &d.functions))
                }
                (Err(e), Some(_)) => {
                    let msg = e.to_string();
                    assert!(msg.contains("ziplist") && e.key.is_some(), "{name}: unclear refusal: {msg}");
                }
                (Ok(_), Some(why)) => panic!("{name}: Redis refused this file ({why}), we loaded it"),
                (Err(e), None) => panic!("{name} (deep {deep}): {e}"),
            }
        }
    }
}

#[test]
fn corrupt_ziplist_is_refused_naming_the_key() {
    let bytes = std::fs::read(fixtures().join("redis-7.0.15-assets/corrupt_ziplist.rdb")).unwrap();
    let e = decode_all(&bytes, LoadOptions::default()).unwrap_err();
    assert_eq!(e.key.as_deref(), Some(&b"key:000000000091"[..]));
    assert_eq!(e.reading, "hash ziplist");
    assert!(
        e.to_string().starts_with("RDB error at byte ") && e.to_string().contains("shorter than its 11-byte header"),
        "{e}"
    );
}

#[test]
fn empty_keys_are_reported_and_skipped() {
    let bytes = std::fs::read(fixtures().join("redis-7.0.15-assets/corrupt_empty_keys.rdb")).unwrap();
    let d = decode_all(&bytes, LoadOptions::default()).unwrap();
    assert!(d.keys.is_empty());
    let mut names: Vec<String> = d.empty_keys.iter().map(|k| String::from_utf8_lossy(k).into_owned()).collect();
    names.sort();
    assert_eq!(
        names,
        [
            "hash",
            "hash_ziplist",
            "list_quicklist",
            "list_quicklist_empty_ziplist",
            "list_ziplist",
            "set",
            "zset",
            "zset_listpack",
            "zset_ziplist"
        ]
    );
}

#[test]
fn lru_and_lfu_records_reach_every_key() {
    for (name, idle, freq) in [("lru", true, false), ("lfu", false, true), ("dbs", false, false)] {
        let bytes = std::fs::read(fixtures().join(format!("rdb/{name}.rdb"))).unwrap();
        let d = decode_all(&bytes, LoadOptions::default()).unwrap();
        let n = d.keys.len();
        assert_eq!((d.idle, d.freq), (if idle { n } else { 0 }, if freq { n } else { 0 }), "{name}");
    }
}

#[test]
fn aux_fields_and_checksums_as_redis_wrote_them() {
    let bytes = std::fs::read(fixtures().join("rdb/dbs.rdb")).unwrap();
    let d = decode_all(&bytes, LoadOptions::default()).unwrap();
    let names: Vec<&[u8]> = d.aux.iter().map(|(k, _)| k.as_slice()).collect();
    assert_eq!(names, [&b"redis-ver"[..], b"redis-bits", b"ctime", b"used-mem", b"aof-base"]);
    assert_eq!(d.aux[0].1, b"7.0.15");
    assert_eq!(d.version, 10);
    for (name, want) in [
        ("rdb/dbs.rdb", "verified"),
        ("rdb/nochecksum.rdb", "disabled"),
        ("redis-7.0.15-assets/encodings.rdb", "absent"),
    ] {
        let bytes = std::fs::read(fixtures().join(name)).unwrap();
        let end = RdbReader::new(&bytes, LoadOptions::default())
            .unwrap()
            .map(|i| i.unwrap())
            .find_map(|i| match i {
                Item::End { checksum } => Some(checksum),
                _ => None,
            })
            .unwrap();
        let got = match end {
            Checksum::Verified(_) => "verified",
            Checksum::Disabled => "disabled",
            Checksum::Absent => "absent",
            Checksum::NotChecked(_) => "not checked",
        };
        assert_eq!(got, want, "{name}");
    }
}

#[test]
fn scanning_without_values_sees_every_key() {
    for dump in dumps() {
        let fx = parse_fixture(&std::fs::read_to_string(&dump).unwrap());
        if fx.refused.is_some() {
            continue;
        }
        let bytes = std::fs::read(fixtures().join(&fx.file)).unwrap();
        let opts = LoadOptions { build_values: false, ..Default::default() };
        let keys =
            RdbReader::new(&bytes, opts).unwrap().filter(|i| matches!(i.as_ref().unwrap(), Item::Key(_))).count();
        let want = fx.lines.iter().filter(|l| l.starts_with("key ")).count();
        assert!(keys >= want, "{}: {keys} keys scanned, {want} loaded", fx.file);
    }
}

#[test]
fn aof_preamble_ends_where_the_commands_start() {
    let bytes = std::fs::read(fixtures().join("redis-7.0.15-assets/rdb-preamble.aof")).unwrap();
    let mut r = RdbReader::new(&bytes, LoadOptions::default()).unwrap();
    while !matches!(r.next_item().unwrap(), Some(Item::End { .. })) {}
    assert!(bytes[r.offset()..].starts_with(b"*"), "RESP commands follow the snapshot");
    assert!(r.next_item().unwrap().is_none());
}
