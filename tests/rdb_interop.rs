//! Pins RDB interoperability with the real Redis 7.0.15 both ways: files our
//! writer makes load into Redis with every key's TYPE, OBJECT ENCODING,
//! expiry and value as we meant them (and IDLE/FREQ applied), functions
//! included; files Redis saves from a generated dataset decode to what Redis
//! holds; DUMP payloads match Redis's byte for byte where the encoding has a
//! fixed byte form, and RESTORE accepts ours.

mod rdb_support;
mod support;

use rdb_support::{assert_same, canonical, canonical_after_load, decode_all, esc, Dataset, Gen};
use std::path::Path;
use strata::keyspace::hash::Hash;
use strata::keyspace::set::Set;
use strata::keyspace::zset::ZSet;
use strata::keyspace::Value;
use strata::persistence::rdb::{
    dump_payload, restore_value, LoadOptions, RdbWriter, Recency, RestoreOptions, SaveOptions, SnapshotInfo,
};
use strata::util::fmt_double;
use support::{reference_binary, Conn, Frame, TestServer};

/// Far-future expiries: Redis drops keys that expired before the load.
const EXPIRE_BASE: i64 = 4_102_444_800_000;

const FUNCTION: &[u8] =
    b"#!lua name=interop\nredis.register_function('echo1', function(keys, args) return args[1] end)";

fn call(c: &mut Conn, args: &[&[u8]]) -> Frame {
    let f = c.call(args).expect("reply");
    assert_ne!(f.kind(), b'-', "{:?}: {}", args.iter().map(|a| esc(a)).collect::<Vec<_>>(), esc(&f.bytes()));
    f
}

fn int(f: &Frame) -> i64 {
    std::str::from_utf8(f.payload()).unwrap().parse().unwrap()
}

/// The canonical dump of what a live server holds (as the fixture script
/// makes it).
fn server_canonical(c: &mut Conn) -> Vec<String> {
    let mut out = Vec::new();
    for db in 0..16 {
        call(c, &[b"SELECT", db.to_string().as_bytes()]);
        let mut keys: Vec<Vec<u8>> = call(c, &[b"KEYS", b"*"]).items.iter().map(|f| f.payload().to_vec()).collect();
        keys.sort();
        for k in keys {
            let t = String::from_utf8(call(c, &[b"TYPE", &k]).payload().to_vec()).unwrap();
            let enc = String::from_utf8(call(c, &[b"OBJECT", b"ENCODING", &k]).payload().to_vec()).unwrap();
            let exp = int(&call(c, &[b"PEXPIRETIME", &k]));
            out.push(format!("key {db} {} {t} {enc} {exp}", esc(&k)));
            let items = |f: Frame| f.items.iter().map(|i| i.payload().to_vec()).collect::<Vec<_>>();
            match t.as_str() {
                "string" => out.push(format!("  v {}", esc(call(c, &[b"GET", &k]).payload()))),
                "list" => {
                    out.extend(items(call(c, &[b"LRANGE", &k, b"0", b"-1"])).iter().map(|e| format!("  v {}", esc(e))))
                }
                "set" => {
                    let mut m = items(call(c, &[b"SMEMBERS", &k]));
                    m.sort();
                    out.extend(m.iter().map(|e| format!("  v {}", esc(e))));
                }
                "hash" => {
                    let flat = items(call(c, &[b"HGETALL", &k]));
                    let mut pairs: Vec<(&Vec<u8>, &Vec<u8>)> = flat.chunks(2).map(|p| (&p[0], &p[1])).collect();
                    pairs.sort();
                    out.extend(pairs.iter().map(|(f, v)| format!("  f {} {}", esc(f), esc(v))));
                }
                "zset" => {
                    let flat = items(call(c, &[b"ZRANGE", &k, b"0", b"-1", b"WITHSCORES"]));
                    out.extend(
                        flat.chunks(2).map(|p| format!("  z {} {}", esc(&p[0]), String::from_utf8_lossy(&p[1]))),
                    );
                }
                other => panic!("unexpected type {other}"),
            }
        }
    }
    let mut libs: Vec<String> = call(c, &[b"FUNCTION", b"LIST", b"WITHCODE"])
        .items
        .iter()
        .map(|lib| {
            let i = lib.items.iter().position(|f| f.payload() == b"library_code").unwrap();
            format!("function {}", esc(lib.items[i + 1].payload()))
        })
        .collect();
    libs.sort();
    out.extend(libs);
    out
}

fn dataset(seed: u64, keys: usize) -> Dataset {
    let mut g = Gen::new(seed);
    let mut d = Dataset::new();
    for i in 0..keys {
        let db = [0, 0, 0, 2, 9, 15][g.below(6) as usize];
        let mut key = g.bytes();
        key.extend_from_slice(format!("#{i}").as_bytes());
        let exp = g.chance(25).then(|| EXPIRE_BASE + g.below(1 << 30) as i64);
        d.insert((db, key), (g.value(true), exp));
    }
    d
}

fn write_ours(d: &Dataset, opts: SaveOptions, recency: Recency, path: &Path) {
    let file = std::fs::File::create(path).unwrap();
    let mut w = RdbWriter::new(std::io::BufWriter::new(file), opts).unwrap();
    w.standard_aux(&SnapshotInfo {
        redis_ver: "7.0.15",
        ctime_secs: 1_700_000_000,
        used_mem: 1 << 20,
        repl: None,
        aof_base: false,
    })
    .unwrap();
    w.function(FUNCTION).unwrap();
    let mut last_db = None;
    for ((db, k), (v, e)) in d {
        if last_db != Some(*db) {
            let keys = d.keys().filter(|(x, _)| x == db).count() as u64;
            let expires = d.iter().filter(|((x, _), (_, e))| x == db && e.is_some()).count() as u64;
            w.select_db(*db, keys, expires).unwrap();
            last_db = Some(*db);
        }
        w.key(k, v, *e, recency).unwrap();
    }
    use std::io::Write;
    w.finish().unwrap().flush().unwrap();
}

#[test]
fn redis_loads_what_we_write() {
    let redis = reference_binary();
    // The last run has Redis check every listpack, intset and quicklist
    // in depth while loading (sanitize-dump-payload yes).
    for (seed, compression, checksum, sanitize) in
        [(1u64, true, true, "no"), (2, false, false, "no"), (3, true, false, "yes")]
    {
        let d = dataset(seed, 250);
        let dir = tempfile::tempdir().unwrap();
        write_ours(&d, SaveOptions { compression, checksum }, Recency::None, &dir.path().join("ours.rdb"));
        let dir_arg = dir.path().to_str().unwrap();
        let server = TestServer::start_with(
            &redis,
            &["--dir", dir_arg, "--dbfilename", "ours.rdb", "--sanitize-dump-payload", sanitize],
        );
        let mut c = server.connect();
        let mut want = canonical_after_load(&d);
        want.push(format!("function {}", esc(FUNCTION)));
        assert_same(&format!("seed {seed}: Redis after loading our file"), &want, &server_canonical(&mut c));
    }
}

#[test]
fn redis_applies_our_idle_and_freq_records() {
    let redis = reference_binary();
    let d: Dataset = [((0u64, b"k".to_vec()), (Value::string(b"v"), None))].into_iter().collect();
    for (policy, recency, cmd, want) in [
        ("allkeys-lru", Recency::IdleSecs(5000), &b"IDLETIME"[..], 5000),
        ("allkeys-lfu", Recency::Freq(77), b"FREQ", 77),
    ] {
        let dir = tempfile::tempdir().unwrap();
        write_ours(&d, SaveOptions::default(), recency, &dir.path().join("ours.rdb"));
        let dir_arg = dir.path().to_str().unwrap();
        let server = TestServer::start_with(
            &redis,
            &["--dir", dir_arg, "--dbfilename", "ours.rdb", "--maxmemory-policy", policy],
        );
        let mut c = server.connect();
        let got = int(&call(&mut c, &[b"OBJECT", cmd, b"k"]));
        assert!((want..want + 3).contains(&got), "{policy}: OBJECT {} gave {got}", String::from_utf8_lossy(cmd));
    }
}

/// Fills a live server with a dataset through ordinary commands.
fn populate(c: &mut Conn, d: &Dataset) {
    for ((db, k), (v, exp)) in d {
        call(c, &[b"SELECT", db.to_string().as_bytes()]);
        let mut cmds: Vec<Vec<Vec<u8>>> = Vec::new();
        let head = |name: &[u8]| vec![name.to_vec(), k.clone()];
        match v {
            Value::Int(_) | Value::Emb(_) | Value::Raw(_) => {
                let mut c = head(b"SET");
                c.push(v.as_bytes().unwrap().into_owned());
                cmds.push(c);
            }
            Value::List(l) => {
                let mut c = head(b"RPUSH");
                c.extend(l.iter().map(|e| e.to_bytes().into_owned()));
                cmds.push(c);
            }
            Value::Hash(h) => {
                let mut c = head(b"HSET");
                h.for_each(|f, v| c.extend([f.to_vec(), v.to_vec()]));
                cmds.push(c);
            }
            Value::Set(s) => {
                let mut c = head(b"SADD");
                c.extend(s.members());
                cmds.push(c);
            }
            Value::ZSet(z) => {
                let mut c = head(b"ZADD");
                for (s, m) in z.iter_from(0, false) {
                    c.push(fmt_double(s).into_bytes());
                    c.push(m.into_owned());
                }
                cmds.push(c);
            }
        }
        if let Some(at) = exp {
            let mut c = head(b"PEXPIREAT");
            c.push(at.to_string().into_bytes());
            cmds.push(c);
        }
        for cmd in cmds {
            let args: Vec<&[u8]> = cmd.iter().map(|a| a.as_slice()).collect();
            call(c, &args);
        }
    }
}

/// Whether the encoding has one byte form (no hash-table order in it).
fn fixed_bytes(v: &Value) -> bool {
    !matches!(v, Value::Hash(Hash::Table(_)) | Value::Set(Set::Table(_)) | Value::ZSet(ZSet::Skip(_)))
}

#[test]
fn we_load_what_redis_writes_and_dumps_match() {
    let redis = reference_binary();
    for (seed, fill, compress_depth, compression) in
        [(11u64, "-2", "0", "yes"), (12, "5", "1", "yes"), (13, "128", "0", "no")]
    {
        let d = dataset(seed, 250);
        let dir = tempfile::tempdir().unwrap();
        let dir_arg = dir.path().to_str().unwrap();
        let server = TestServer::start_with(
            &redis,
            &[
                "--dir",
                dir_arg,
                "--list-max-listpack-size",
                fill,
                "--list-compress-depth",
                compress_depth,
                "--rdbcompression",
                compression,
            ],
        );
        let mut c = server.connect();
        populate(&mut c, &d);
        call(&mut c, &[b"FUNCTION", b"LOAD", FUNCTION]);
        call(&mut c, &[b"SAVE"]);
        // What Redis holds once it has loaded its own file.
        call(&mut c, &[b"DEBUG", b"RELOAD", b"NOSAVE"]);
        let want = server_canonical(&mut c);
        let bytes = std::fs::read(dir.path().join("dump.rdb")).unwrap();
        let limits =
            strata::persistence::rdb::Limits { list_max_listpack_size: fill.parse().unwrap(), ..Default::default() };
        let ours = decode_all(&bytes, LoadOptions { limits, deep: true, ..Default::default() }).unwrap();
        assert_same(
            &format!("seed {seed}: our decoding of Redis's file"),
            &want,
            &canonical(&ours.keys, &ours.functions),
        );

        // DUMP: byte for byte where the encoding fixes the bytes (and lists
        // are not held compressed); RESTORE both ways otherwise.
        call(&mut c, &[b"CONFIG", b"SET", b"rdbcompression", b"no"]);
        let mut compared = 0;
        for ((db, k), (v, _)) in &ours.keys {
            call(&mut c, &[b"SELECT", db.to_string().as_bytes()]);
            let theirs = call(&mut c, &[b"DUMP", k]).payload().to_vec();
            let mine = dump_payload(v, false);
            let list_compressed = matches!(v, Value::List(_)) && compress_depth != "0";
            if fixed_bytes(v) && !list_compressed {
                assert_eq!(esc(&mine), esc(&theirs), "DUMP of {} ({})", esc(k), v.encoding());
                compared += 1;
            }
            let restored = restore_value(&theirs, &RestoreOptions { limits, ..Default::default() }).unwrap();
            assert_eq!(&restored, v, "RESTORE of Redis's DUMP of {}", esc(k));
            let mut name = b"restored:".to_vec();
            name.extend_from_slice(k);
            call(&mut c, &[b"RESTORE", &name, b"0", &mine]);
            let want_head = format!(" {} ", v.encoding());
            let enc = call(&mut c, &[b"OBJECT", b"ENCODING", &name]);
            assert_eq!(format!(" {} ", String::from_utf8_lossy(enc.payload())), want_head, "{}", esc(k));
            call(&mut c, &[b"DEL", &name]);
        }
        assert!(compared > 100, "only {compared} payloads compared byte for byte");
    }
}
