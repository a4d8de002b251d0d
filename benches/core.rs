//! Micro-benchmarks of the hot paths: request decoding, reply encoding and
//! keyspace lookups. Figures go to docs/benchmarks.md with the command line.

use criterion::{black_box, criterion_group, criterion_main, Criterion, Throughput};
use strata::keyspace::{Db, Value};
use strata::protocol::{Decoder, Proto, ReplyBuf, Request};

fn pipeline(n: usize) -> Vec<u8> {
    let mut v = Vec::new();
    for i in 0..n {
        let key = format!("key:{i:012}");
        v.extend_from_slice(format!("*3\r\n$3\r\nSET\r\n${}\r\n{}\r\n$3\r\nxyz\r\n", key.len(), key).as_bytes());
    }
    v
}

fn decode(c: &mut Criterion) {
    let buf = pipeline(1000);
    let mut g = c.benchmark_group("decode");
    g.throughput(Throughput::Elements(1000));
    g.bench_function("set_pipeline_1000", |b| {
        b.iter(|| {
            let mut d = Decoder::new();
            let mut at = 0;
            while let Ok(Some(Request::Multibulk { consumed })) = d.decode(&buf[at..], true, 512 << 20) {
                black_box(&d.ranges);
                at += consumed;
            }
            at
        })
    });
    g.finish();
}

fn reply(c: &mut Criterion) {
    let mut g = c.benchmark_group("reply");
    g.throughput(Throughput::Elements(1000));
    g.bench_function("bulk_1000", |b| {
        let mut r = ReplyBuf::new(Proto::Resp2);
        b.iter(|| {
            r.buf.clear();
            for _ in 0..1000 {
                r.bulk(black_box(b"some-value-of-moderate-size"));
            }
        })
    });
    g.finish();
}

fn keyspace(c: &mut Criterion) {
    let mut db = Db::new(0);
    let keys: Vec<Vec<u8>> = (0..100_000).map(|i| format!("key:{i:012}").into_bytes()).collect();
    for k in &keys {
        db.set(k, Value::string(b"xyz"), false, 0);
    }
    let mut g = c.benchmark_group("keyspace");
    g.throughput(Throughput::Elements(1000));
    g.bench_function("get_1000_of_100k", |b| {
        let mut i = 0;
        b.iter(|| {
            for _ in 0..1000 {
                i = (i + 7919) % keys.len();
                black_box(db.get(&keys[i], 0).is_some());
            }
        })
    });
    g.bench_function("set_1000_of_100k", |b| {
        let mut i = 0;
        b.iter(|| {
            for _ in 0..1000 {
                i = (i + 7919) % keys.len();
                db.set(&keys[i], Value::string(b"abc"), false, 0);
            }
        })
    });
    g.finish();
}

criterion_group!(benches, decode, reply, keyspace);
criterion_main!(benches);
