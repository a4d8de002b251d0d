//! Throughput of the RDB codec on a generated dataset (strings, listpack
//! and table hashes, intsets and table sets, listpack and skip-list sorted
//! sets, multi-node lists): encode with and without compression, decode
//! building values, and decode walking past them. Figures go to
//! docs/benchmarks.md with the command line.

use criterion::{black_box, criterion_group, criterion_main, Criterion, Throughput};
use strata::keyspace::hash::{Hash, HashLimits};
use strata::keyspace::quicklist::Quicklist;
use strata::keyspace::set::Set;
use strata::keyspace::zset::{AddFlags, ZSet, ZsetLimits};
use strata::keyspace::Value;
use strata::persistence::rdb::{Item, LoadOptions, RdbReader, RdbWriter, Recency, SaveOptions};

// The server's allocator, so allocation costs are the server's.
#[global_allocator]
static ALLOC: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;

/// 200k keys (20k under `cargo test`). `tables` adds, at 1% of the hashes, sets and sorted sets,
/// ones large enough to be hash tables and skip lists.
fn dataset(tables: bool) -> Vec<(Vec<u8>, Value)> {
    let mut x = 0x1234_5678_9abc_def1u64;
    let mut rnd = move || {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        x
    };
    let hl = HashLimits { entries: 512, value: 64 };
    let zl = ZsetLimits { entries: 128, value: 64 };
    // `cargo test` runs each benchmark once (no --bench argument): a tenth
    // of the keys is enough to check it still works.
    let keys = if std::env::args().any(|a| a == "--bench") { 200_000 } else { 20_000 };
    let mut out = Vec::new();
    for i in 0..keys {
        let key = format!("key:{:08}:{}", i, rnd() % 1000).into_bytes();
        let v = match i % 20 {
            0..=9 => Value::string(format!("value-{}-{}", rnd(), "x".repeat((rnd() % 100) as usize)).as_bytes()),
            10 | 11 => Value::Int((rnd() >> 20) as i64),
            12 | 13 => {
                let mut h = Hash::new();
                for j in 0..1 + rnd() % if tables && i % 100 == 12 { 1000 } else { 20 } {
                    h.set(format!("field{j}").as_bytes(), format!("{}", rnd() % 100_000).as_bytes(), hl);
                }
                Value::Hash(h)
            }
            14 | 15 => {
                let mut q = Quicklist::new();
                for j in 0..1 + rnd() % 200 {
                    q.push_back(format!("item-{j}-{}", rnd() % 1000).as_bytes(), -2);
                }
                Value::List(Box::new(q))
            }
            16 | 17 => {
                let mut s = Set::new_int();
                let strings = i % 40 == 16;
                for _ in 0..1 + rnd() % if tables && i % 100 == 16 { 2000 } else { 30 } {
                    let m =
                        if strings { format!("member-{}", rnd() % 100_000) } else { (rnd() % 1_000_000).to_string() };
                    s.insert(m.as_bytes(), 512);
                }
                Value::Set(s)
            }
            _ => {
                let mut z = ZSet::new_lp();
                for _ in 0..1 + rnd() % if tables && i % 100 == 18 { 1000 } else { 30 } {
                    let m = format!("m{}", rnd() % 100_000);
                    z.add((rnd() % 10_000) as f64 / 7.0, m.as_bytes(), AddFlags::default(), zl);
                }
                Value::ZSet(z)
            }
        };
        out.push((key, v));
    }
    out
}

fn encode(data: &[(Vec<u8>, Value)], compression: bool) -> Vec<u8> {
    let mut w = RdbWriter::new(Vec::with_capacity(64 << 20), SaveOptions { compression, checksum: true }).unwrap();
    w.select_db(0, data.len() as u64, 0).unwrap();
    for (k, v) in data {
        w.key(k, v, None, Recency::None).unwrap();
    }
    w.finish().unwrap()
}

/// Decodes every record; the items are returned so that freeing them is
/// not part of the measurement (a loader keeps what it reads).
fn decode(bytes: &[u8], build_values: bool) -> Vec<Item> {
    let opts = LoadOptions { build_values, ..Default::default() };
    RdbReader::new(bytes, opts).unwrap().map(|i| i.unwrap()).collect()
}

fn bench_dataset(c: &mut Criterion, name: &str, tables: bool) {
    let data = dataset(tables);
    let plain = encode(&data, false);
    let packed = encode(&data, true);
    eprintln!("{name}: {} keys, {} bytes ({} compressed)", data.len(), plain.len(), packed.len());
    // RDB_BENCH_DIR=dir keeps the files, to time Redis loading the same data.
    if let Some(dir) = std::env::var_os("RDB_BENCH_DIR") {
        let dir = std::path::PathBuf::from(dir);
        std::fs::write(dir.join(format!("{name}.rdb")), &plain).unwrap();
        std::fs::write(dir.join(format!("{name}-lzf.rdb")), &packed).unwrap();
    }
    let mut g = c.benchmark_group(name);
    g.sample_size(10);
    g.throughput(Throughput::Bytes(plain.len() as u64));
    g.bench_function("encode", |b| b.iter(|| black_box(encode(&data, false).len())));
    g.bench_function("decode", |b| b.iter_with_large_drop(|| decode(&plain, true)));
    g.bench_function("scan", |b| b.iter_with_large_drop(|| decode(&plain, false)));
    g.throughput(Throughput::Bytes(packed.len() as u64));
    g.bench_function("encode_lzf", |b| b.iter(|| black_box(encode(&data, true).len())));
    g.bench_function("decode_lzf", |b| b.iter_with_large_drop(|| decode(&packed, true)));
    g.finish();
}

fn rdb(c: &mut Criterion) {
    bench_dataset(c, "rdb_compact", false);
    bench_dataset(c, "rdb_tables", true);
}

criterion_group!(benches, rdb);
criterion_main!(benches);
