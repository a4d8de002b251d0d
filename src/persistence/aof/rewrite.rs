//! The commands form of an AOF base (`aof-use-rdb-preamble no`): each key
//! as the commands that rebuild it, as Redis 7.0's rewrite emits them
//! (SET, RPUSH, SADD, ZADD, HMSET, at most 64 elements a command, then
//! PEXPIREAT for a key with a time to live).
//!
//! Invariant: replaying the output on an empty database gives back each key
//! with exactly its value and expiry (a score round-trips: it is written
//! with 17 significant digits).

use crate::keyspace::Value;
use crate::propagate::encode_command;
use std::borrow::Cow;

/// Elements per command, as Redis batches them.
pub const ITEMS_PER_COMMAND: usize = 64;

/// Appends the commands that rebuild `key`.
pub fn key_commands(out: &mut Vec<u8>, key: &[u8], value: &Value, expire_ms: Option<i64>) {
    match value {
        Value::List(l) => batched(out, b"RPUSH", key, l.iter().map(|v| vec![v.to_bytes()]), 1),
        Value::Set(s) => {
            let mut members = Vec::with_capacity(s.len());
            s.for_each(|m| members.push(vec![Cow::Owned(m.to_vec())]));
            batched(out, b"SADD", key, members.into_iter(), 1)
        }
        Value::ZSet(z) => batched(
            out,
            b"ZADD",
            key,
            z.iter_from(0, false).map(|(score, m)| vec![Cow::Owned(score_text(score)), m]),
            2,
        ),
        Value::Hash(h) => {
            let mut pairs = Vec::with_capacity(h.len());
            h.for_each(|f, v| pairs.push(vec![Cow::Owned(f.to_vec()), Cow::Owned(v.to_vec())]));
            batched(out, b"HMSET", key, pairs.into_iter(), 2)
        }
        other => {
            let v = other.as_bytes().unwrap_or_default();
            encode_command(out, &[b"SET".as_ref(), key, &v]);
        }
    }
    if let Some(at) = expire_ms {
        encode_command(out, &[b"PEXPIREAT".as_ref(), key, crate::util::itoa(at).as_bytes()]);
    }
}

/// `verb key e1 e2 ...`, a new command every `ITEMS_PER_COMMAND` elements
/// (each element is `width` arguments).
fn batched<'a>(
    out: &mut Vec<u8>,
    verb: &[u8],
    key: &[u8],
    items: impl Iterator<Item = Vec<Cow<'a, [u8]>>>,
    width: usize,
) {
    let mut args: Vec<Cow<'a, [u8]>> = Vec::with_capacity(2 + ITEMS_PER_COMMAND * width);
    let mut n = 0;
    for item in items {
        if n == 0 {
            args.clear();
            args.push(Cow::Owned(verb.to_vec()));
            args.push(Cow::Owned(key.to_vec()));
        }
        args.extend(item);
        n += 1;
        if n == ITEMS_PER_COMMAND {
            encode_command(out, &args);
            n = 0;
        }
    }
    if n > 0 {
        encode_command(out, &args);
    }
}

/// A score as `%.17g` writes it: enough digits to read back the same double.
fn score_text(d: f64) -> Vec<u8> {
    if d.is_infinite() {
        return if d > 0.0 { b"inf".to_vec() } else { b"-inf".to_vec() };
    }
    let mut buf = [0u8; 64];
    // SAFETY: the buffer is large enough for any %.17g output and
    // snprintf NUL-terminates within its size.
    let n = unsafe { libc::snprintf(buf.as_mut_ptr() as *mut libc::c_char, buf.len(), c"%.17g".as_ptr(), d) };
    buf[..(n.max(0) as usize).min(buf.len() - 1)].to_vec()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scores_round_trip() {
        for d in [0.1, 1.0 / 3.0, -2.5e300, 5e-324, 1e21, -0.0] {
            let t = score_text(d);
            assert_eq!(std::str::from_utf8(&t).unwrap().parse::<f64>().unwrap().to_bits(), d.to_bits());
        }
        assert_eq!(score_text(f64::NEG_INFINITY), b"-inf");
    }

    #[test]
    fn strings_and_expiry() {
        let mut out = Vec::new();
        key_commands(&mut out, b"k", &Value::string(b"v"), Some(1700000000000));
        assert_eq!(
            out,
            b"*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$1\r\nv\r\n*3\r\n$9\r\nPEXPIREAT\r\n$1\r\nk\r\n$13\r\n1700000000000\r\n"
        );
    }
}
