//! DEBUG DIGEST and DEBUG DIGEST-VALUE: SHA-1 based fingerprints of the
//! dataset and of single values, computed as Redis 7.0 computes them, so
//! the whole contents of two servers can be compared with one command.
//!
//! The scheme: "xor" a string into a 20-byte digest (xor with its SHA-1),
//! or "mix" it (xor, then replace the digest by the SHA-1 of itself, which
//! makes the order matter). Unordered collections xor per-element digests,
//! lists mix their elements in order; a key with a TTL xors a marker.
//!
//! Invariant: the digest depends only on the contents (keys, values, TTL
//! presence, database numbers), never on encodings or table order.

use crate::keyspace::listpack::LpVal;
use crate::keyspace::{Db, Keyspace, Value};
use crate::util::{itoa, write_double};

type Digest = [u8; 20];

fn sha1(b: &[u8]) -> Digest {
    sha1_smol::Sha1::from(b).digest().bytes()
}

fn xor_in(d: &mut Digest, b: &[u8]) {
    for (x, h) in d.iter_mut().zip(sha1(b)) {
        *x ^= h;
    }
}

fn mix_in(d: &mut Digest, b: &[u8]) {
    xor_in(d, b);
    *d = sha1(d);
}

fn mix_val(d: &mut Digest, v: LpVal) {
    match v {
        LpVal::Str(s) => mix_in(d, s),
        LpVal::Int(n) => mix_in(d, itoa(n).as_bytes()),
    }
}

/// Redis's object type numbers, which the digest includes.
fn type_number(v: &Value) -> u32 {
    match v {
        Value::Int(_) | Value::Emb(_) | Value::Raw(_) => 0,
        Value::List(_) => 1,
        Value::Set(_) => 2,
        Value::ZSet(_) => 3,
        Value::Hash(_) => 4,
    }
}

/// The digest of one value (DEBUG DIGEST-VALUE), its TTL's presence
/// included.
pub fn value_digest(v: &Value, has_ttl: bool) -> Digest {
    let mut d = [0u8; 20];
    object_into(&mut d, v, has_ttl);
    d
}

/// Carries on digest `d` with value `v`.
fn object_into(d: &mut Digest, v: &Value, has_ttl: bool) {
    let d = &mut *d;
    mix_in(d, &type_number(v).to_be_bytes());
    match v {
        Value::Int(_) | Value::Emb(_) | Value::Raw(_) => mix_in(d, &v.as_bytes().unwrap_or_default()),
        Value::List(l) => l.iter().for_each(|e| mix_val(d, e)),
        Value::Set(s) => s.for_each_val(|m| match m {
            LpVal::Str(b) => xor_in(d, b),
            LpVal::Int(n) => xor_in(d, itoa(n).as_bytes()),
        }),
        Value::ZSet(z) => {
            let mut score = Vec::with_capacity(24);
            for (s, m) in z.iter_from(0, false) {
                let mut e = [0u8; 20];
                mix_in(&mut e, &m);
                score.clear();
                write_double(s, &mut score);
                mix_in(&mut e, &score);
                xor_in(d, &e);
            }
        }
        Value::Hash(h) => h.for_each_val(|f, val| {
            let mut e = [0u8; 20];
            mix_val(&mut e, f);
            mix_val(&mut e, val);
            xor_in(d, &e);
        }),
    }
    if has_ttl {
        xor_in(d, b"!!expire!!");
    }
}

fn db_digest(final_digest: &mut Digest, db: &Db) {
    if db.is_empty() {
        return;
    }
    mix_in(final_digest, &(db.id as u32).to_be_bytes());
    for e in db.dict.iter() {
        let mut d = [0u8; 20];
        mix_in(&mut d, &e.key);
        object_into(&mut d, &e.value, db.expire_of(&e.key).is_some());
        xor_in(final_digest, &d);
    }
}

/// The digest of the whole dataset (DEBUG DIGEST): all zeros when empty.
pub fn dataset_digest(ks: &Keyspace) -> Digest {
    let mut d = [0u8; 20];
    ks.dbs.iter().for_each(|db| db_digest(&mut d, db));
    d
}

pub fn hex(d: &Digest) -> String {
    d.iter().map(|b| format!("{b:02x}")).collect()
}
